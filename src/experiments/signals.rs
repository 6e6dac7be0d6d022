//! Signal handlers across clone: shared with CLONE_SIGHAND, reset with CLONE_CLEAR_SIGHAND.
//!
//! Part 1, `CLONE_VM | CLONE_SIGHAND | SIGCHLD` (0x911, given to the kernel
//! as 0x380911: the scoped API adds CLONE_SETTLS, CLONE_PARENT_SETTID and
//! CLONE_CHILD_CLEARTID, see [`clone_vm`](super::clone_vm)): the parent ignores
//! SIGUSR2; the child installs a handler for it (which counts deliveries);
//! then the parent sends SIGUSR2 to itself. With CLONE_SIGHAND the *child's*
//! handler runs in the *parent* (one shared handler table); with `CLONE_VM`
//! alone the parent's table still says SIG_IGN and nothing runs.
//! CLONE_SIGHAND requires CLONE_VM: a handler is an address in *some* address space.
//!
//! Part 2, clone3 with `CLONE_CLEAR_SIGHAND` (bit 32): the parent installs a
//! handler for SIGUSR2; a fork-like child sees that handler — unless cloned with
//! CLONE_CLEAR_SIGHAND, which resets every handled signal to SIG_DFL in the child.
//!
//! The parent's SIGUSR2 disposition is restored afterwards.

use super::record::Checks;
use super::text::YesNo;
use super::Calls;
use super::{run_child, shares, Kcmp, SharedPage};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::signum::Signal;
use crate::spawn::spawn_via;
use crate::sys::signal::{self, SigAction};
use crate::sys::Kcmp as K;
use crate::{Error, Syscall, WaitStatus};
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};

const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;

/// How many times [`count_delivery`] has run.
static DELIVERIES: AtomicU32 = AtomicU32::new(0);

/// The SIGUSR2 handler: one atomic add, which is async-signal-safe.
extern "C" fn count_delivery(_signal: core::ffi::c_int) {
    DELIVERIES.fetch_add(1, Ordering::SeqCst);
}

/// What was seen.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// How often the handler a CLONE_SIGHAND child installed ran when the
    /// parent sent itself SIGUSR2.
    pub with_sighand: u32,
    /// The same for a CLONE_VM-only child's handler.
    pub without_sighand: u32,
    /// kcmp(KCMP_SIGHAND) for the two children.
    pub kcmp: (Option<bool>, Option<bool>),
    /// The handler the parent installed for part 2.
    pub handler: usize,
    /// The handler a fork-like clone3 child saw, without and with CLONE_CLEAR_SIGHAND.
    pub child_saw: (usize, usize),
    /// All children exited 0.
    pub children_ok: bool,
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let mut c = Checks::new();
        c.check(
            self.with_sighand == 1 && self.without_sighand == 0,
            "the handler the child installed runs in the parent only with CLONE_SIGHAND",
            format_args!(
                "it ran in the parent: with CLONE_SIGHAND {} time(s), without {}",
                self.with_sighand, self.without_sighand
            ),
        );
        c.check(
            self.kcmp.0 != Some(false) && self.kcmp.1 != Some(true),
            "kcmp(KCMP_SIGHAND) agrees",
            format_args!(
                "with CLONE_SIGHAND {}, without {}",
                Kcmp(self.kcmp.0),
                Kcmp(self.kcmp.1)
            ),
        );
        c.check(
            self.child_saw == (self.handler, SIG_DFL),
            "a clone3 child sees our handler, unless CLONE_CLEAR_SIGHAND reset it",
            format_args!(
                "the child's SIGUSR2 handler: without CLONE_CLEAR_SIGHAND {:#x} (ours {:#x}), with it {:#x} (SIG_DFL)",
                self.child_saw.0, self.handler, self.child_saw.1
            ),
        );
        c.check(
            self.children_ok,
            "every child exited 0",
            format_args!(
                "each of the four exited with status 0: {}",
                YesNo(self.children_ok)
            ),
        );
        c
    }
}

fn part_one(
    calls: &mut Calls,
    label: &str,
    flags: CloneFlags,
) -> Result<(u32, Option<bool>, WaitStatus), Error> {
    let page = SharedPage::new()?;
    signal::ignore(Signal::SIGUSR2)?;
    let before = DELIVERIES.load(Ordering::SeqCst);
    let child = || {
        let action = SigAction::handler(count_delivery);
        // SAFETY: count_delivery only does an atomic add.
        unsafe { signal::sigaction(Signal::SIGUSR2, &action) }.is_err() as i32
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(
            calls,
            label,
            FlagsWord::new(flags, ExitSignal::SIGCHLD),
            &page,
            child,
            |pid| shares(pid, K::Sighand),
        )
    }?;
    // To this thread: if our table has the handler, it runs before tgkill returns.
    signal::raise(Signal::SIGUSR2)?;
    let ran = DELIVERIES.load(Ordering::SeqCst) - before;
    signal::set_default(Signal::SIGUSR2)?;
    Ok((ran, child.parent, child.status))
}

fn part_two(
    calls: &mut Calls,
    label: &str,
    flags: CloneFlags,
) -> Result<(usize, WaitStatus), Error> {
    let page = SharedPage::new()?;
    let mut child = spawn_via(
        Syscall::Clone3,
        FlagsWord::new(flags, ExitSignal::SIGCHLD),
        || match signal::current_action(Signal::SIGUSR2) {
            Ok(action) => {
                page.put(0, action.handler_address() as u64);
                0
            }
            Err(_) => 1,
        },
    )?;
    calls.push(label, *child.call(), child.pid() as i64);
    let status = child.wait()?;
    Ok((page.get(0) as usize, status))
}

/// Run both parts, restoring SIGUSR2 afterwards.
pub fn observe() -> Result<Observed, Error> {
    let original = signal::current_action(Signal::SIGUSR2)?;
    let result = (|| {
        let mut calls = Calls::new();
        let (with_sighand, kcmp_with, s1) = part_one(
            &mut calls,
            "part 1, CLONE_SIGHAND: the child installs a SIGUSR2 handler",
            CloneFlags::CLONE_VM | CloneFlags::CLONE_SIGHAND,
        )?;
        let (without_sighand, kcmp_without, s2) = part_one(
            &mut calls,
            "part 1, contrast: CLONE_VM only",
            CloneFlags::CLONE_VM,
        )?;
        let action = SigAction::handler(count_delivery);
        let handler = action.handler_address();
        // SAFETY: count_delivery only does an atomic add.
        unsafe { signal::sigaction(Signal::SIGUSR2, &action) }?;
        let (kept, s3) = part_two(
            &mut calls,
            "part 2, contrast: fork-like, handlers copied",
            CloneFlags::EMPTY,
        )?;
        let (cleared, s4) = part_two(
            &mut calls,
            "part 2, CLONE_CLEAR_SIGHAND: handlers reset",
            CloneFlags::CLONE_CLEAR_SIGHAND,
        )?;
        let ok = WaitStatus::Exited(0);
        Ok(Observed {
            calls,
            with_sighand,
            without_sighand,
            kcmp: (kcmp_with, kcmp_without),
            handler,
            child_saw: (kept, cleared),
            children_ok: [s1, s2, s3, s4].iter().all(|s| *s == ok),
        })
    })();
    // SAFETY: `original` was this process's own action a moment ago, and its
    // handler (if any) is still there.
    unsafe { signal::sigaction(Signal::SIGUSR2, &original) }?;
    result
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |h: usize| match h {
            SIG_DFL => "SIG_DFL",
            SIG_IGN => "SIG_IGN",
            _ => "a handler",
        };
        writeln!(
            f,
            "parent ignores SIGUSR2; the child installs a handler; the parent sends itself SIGUSR2:"
        )?;
        writeln!(
            f,
            "  with CLONE_SIGHAND     the child's handler ran in the parent {} time(s)   kcmp(KCMP_SIGHAND): {}",
            self.with_sighand,
            Kcmp(self.kcmp.0)
        )?;
        writeln!(
            f,
            "  without CLONE_SIGHAND  the child's handler ran in the parent {} time(s)   kcmp(KCMP_SIGHAND): {}",
            self.without_sighand,
            Kcmp(self.kcmp.1)
        )?;
        writeln!(
            f,
            "parent handles SIGUSR2 ({:#x}); a clone3 child sees:",
            self.handler
        )?;
        writeln!(
            f,
            "  without CLONE_CLEAR_SIGHAND  {} ({:#x})",
            name(self.child_saw.0),
            self.child_saw.0
        )?;
        writeln!(
            f,
            "  with CLONE_CLEAR_SIGHAND     {}",
            name(self.child_saw.1)
        )
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
