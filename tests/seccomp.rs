//! # clone3 blocked by seccomp: the API falls back to clone.
//!
//! Container runtimes' default seccomp profiles make clone3 fail with ENOSYS
//! (so that libc falls back to clone, whose flags a filter can inspect — it
//! cannot look inside clone3's `struct clone_args`). In a child, this test
//! installs such a filter:
//!
//! ```text
//!   ld  [seccomp_data.arch]      ; not our arch? allow
//!   jeq AUDIT_ARCH_<arch>, +1
//!   ret ALLOW
//!   ld  [seccomp_data.nr]
//!   jeq __NR_clone3 (435), 0, +1
//!   ret ERRNO | ENOSYS
//!   ret ALLOW
//! ```
//!
//! and asserts, inside it: `clone3_available()` is false; `spawn_via(Clone3, ..)`
//! still starts the child, through clone (its recorded call says so); the
//! CLONE_VM and CLONE_NEWPID experiments still pass; and CLONE_NEWTIME, which
//! only clone3 can carry, fails with a clear ENOSYS instead of a wrong fallback.

use crate::common;

use clonelab::experiments::{clone_vm, namespaces, newpid, Recorded, SharedPage};
use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall};
use clonelab::{spawn, spawn_via, Errno, Error, WaitStatus};
use linux_raw_sys::general as k;

/// With clone3 filtered out, the API falls back to clone and experiments pass.
#[test]
fn clone3_blocked_falls_back_to_clone() {
    if !clonelab::clone3_available() {
        common::skip("clone3 is unavailable here to begin with (old kernel or qemu-user)");
        return;
    }
    let page = SharedPage::new().unwrap();
    let mut sandbox = spawn(FlagsWord::new(F::EMPTY, ExitSignal::SIGCHLD), || {
        if common::seccomp_deny(k::__NR_clone3, linux_raw_sys::errno::ENOSYS).is_err() {
            return 10;
        }
        page.put(0, clonelab::clone3_available() as u64);
        let fell_back = spawn_via(
            Syscall::Clone3,
            FlagsWord::new(F::EMPTY, ExitSignal::SIGCHLD),
            || 5,
        )
        .and_then(|mut c| Ok((c.wait()?, c.call().syscall)));
        page.put(
            1,
            (fell_back == Ok((WaitStatus::Exited(5), Some(Syscall::Clone)))) as u64,
        );
        page.put(2, clone_vm::observe().is_ok_and(|o| o.holds()) as u64);
        page.put(3, newpid::observe().is_ok_and(|o| o.holds()) as u64);
        let time = namespaces::time();
        // A kernel without time namespaces (armhf): the experiment reports
        // that it cannot run, before any clone, instead of falling back.
        let as_expected = if common::kernel_has_time_namespaces() {
            matches!(
                time,
                Err(Error::Kernel {
                    errno: Errno::ENOSYS,
                    ..
                })
            )
        } else {
            matches!(time, Ok(o) if o.skipped.is_some() && o.calls.is_empty())
        };
        page.put(4, as_expected as u64);
        0
    })
    .unwrap();
    assert_eq!(
        sandbox.wait().unwrap(),
        WaitStatus::Exited(0),
        "the filter could not be installed"
    );
    assert_eq!(
        page.get(0),
        0,
        "clone3_available() should see the filter's ENOSYS"
    );
    assert_eq!(
        page.get(1),
        1,
        "spawn_via(Clone3) did not fall back to clone"
    );
    assert_eq!(
        page.get(2),
        1,
        "the CLONE_VM experiment failed under the filter"
    );
    assert_eq!(
        page.get(3),
        1,
        "the CLONE_NEWPID experiment failed under the filter"
    );
    assert_eq!(
        page.get(4),
        1,
        "CLONE_NEWTIME should fail with ENOSYS: only clone3 can carry it"
    );
}
