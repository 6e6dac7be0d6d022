//! What an unprivileged process is refused: CLONE_NEWNET without
//! CAP_SYS_ADMIN (EPERM) and a fork past RLIMIT_NPROC (EAGAIN), each tried in
//! a throwaway child that drops to uid 65534, so the parent keeps its privileges.
//!
//! Where it sits: in [`super`] (the errors experiment). What it may use: the
//! harness ([`run_child`], [`raw_fork_like`]) and raw syscalls.

use super::{exit_zero, refusal};
use crate::experiments::{raw_fork_like, raw_fork_like_call, run_child, Calls, SharedPage};
use crate::flags::{CloneFlags as F, ExitSignal, FlagsWord};
use crate::sys;
use crate::{Errno, Error};
use linux_raw_sys::general as k;

/// In a fork-like child that drops to uid 65534 (and sets RLIMIT_NPROC to 0
/// for the second), try `flags` and report the errno.
pub(super) fn unprivileged_attempt(
    calls: &mut Calls,
    label: &str,
    flags: F,
    nproc_zero: bool,
) -> Result<Result<(), Errno>, Error> {
    let page = SharedPage::new()?;
    let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
    let child = || {
        if nproc_zero && sys::setrlimit(k::RLIMIT_NPROC, 0).is_err() {
            return 1;
        }
        if sys::setresuid(65534, 65534, 65534).is_err() {
            return 2;
        }
        // SAFETY: fork-like; the grandchild (if made) exits at once and is reaped.
        let made = unsafe { raw_fork_like(word, exit_zero, core::ptr::null_mut()) };
        page.put(0, refusal(made).err().map_or(0, |e| e.raw() as u64));
        0
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    unsafe {
        run_child(
            calls,
            "a fork-like child that drops to uid 65534",
            FlagsWord::new(F::EMPTY, ExitSignal::SIGCHLD),
            &page,
            child,
            |_| (),
        )
    }?;
    let errno = page.get(0) as u16;
    calls.push_in_child(label, raw_fork_like_call(word), -(errno as i64));
    Ok(if errno == 0 {
        Ok(())
    } else {
        Err(Errno::from_raw(errno))
    })
}
