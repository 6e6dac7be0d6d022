//! Signal handlers across clone: shared with CLONE_SIGHAND, reset with CLONE_CLEAR_SIGHAND.
//!
//! Part 1, `CLONE_VM | CLONE_SIGHAND | SIGCHLD` (0x911): the child sets SIGUSR2
//! to SIG_IGN; with CLONE_SIGHAND the parent's own disposition is SIG_IGN
//! afterwards (one shared handler table); with `CLONE_VM` alone it stays SIG_DFL.
//! CLONE_SIGHAND requires CLONE_VM: a handler is an address in *some* address space.
//!
//! Part 2, clone3 with `CLONE_CLEAR_SIGHAND` (bit 32): the parent installs a
//! handler for SIGUSR2; a fork-like child sees that handler — unless cloned with
//! CLONE_CLEAR_SIGHAND, which resets every handled signal to SIG_DFL in the child.
//!
//! The parent's SIGUSR2 disposition is restored afterwards.

use super::record::Checks;
use super::Calls;
use super::{run_child, shares, Kcmp, SharedPage};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::spawn::spawn_via;
use crate::sys::{self, Kcmp as K};
use crate::{Error, Syscall, WaitStatus};
use core::fmt;
use linux_raw_sys::general as k;

const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;

extern "C" fn never_called(_signal: i32) {}

/// What was seen.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// Parent's SIGUSR2 disposition after a CLONE_SIGHAND child set SIG_IGN.
    pub with_sighand: usize,
    /// The same after a CLONE_VM-only child did.
    pub without_sighand: usize,
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
            self.with_sighand == SIG_IGN && self.without_sighand == SIG_DFL,
            "the child's SIG_IGN is ours only with CLONE_SIGHAND",
            format_args!(
                "ours after: {:#x} with, {:#x} without",
                self.with_sighand, self.without_sighand
            ),
        );
        c.check(
            self.kcmp.0 != Some(false) && self.kcmp.1 != Some(true),
            "kcmp(KCMP_SIGHAND) agrees",
            format_args!("{}, {}", Kcmp(self.kcmp.0), Kcmp(self.kcmp.1)),
        );
        c.check(
            self.child_saw == (self.handler, SIG_DFL),
            "a clone3 child sees our handler, unless CLONE_CLEAR_SIGHAND reset it",
            format_args!(
                "saw {:#x} without, {:#x} with",
                self.child_saw.0, self.child_saw.1
            ),
        );
        c.check(
            self.children_ok,
            "every child exited 0",
            format_args!("{}", self.children_ok),
        );
        c
    }
}

fn part_one(
    calls: &mut Calls,
    label: &str,
    flags: CloneFlags,
) -> Result<(usize, Option<bool>, WaitStatus), Error> {
    let page = SharedPage::new()?;
    let child = run_child(
        calls,
        label,
        FlagsWord::new(flags, ExitSignal::SIGCHLD),
        &page,
        || sys::signal_handler(k::SIGUSR2, Some(SIG_IGN)).is_err() as i32,
        |pid| shares(pid, K::Sighand),
    )?;
    let now = sys::signal_handler(k::SIGUSR2, Some(SIG_DFL))?;
    Ok((now, child.parent, child.status))
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
        || match sys::signal_handler(k::SIGUSR2, None) {
            Ok(h) => {
                page.put(0, h as u64);
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
    let original = sys::signal_handler(k::SIGUSR2, None)?;
    let result = (|| {
        sys::signal_handler(k::SIGUSR2, Some(SIG_DFL))?;
        let mut calls = Calls::new();
        let (with_sighand, kcmp_with, s1) = part_one(
            &mut calls,
            "part 1, CLONE_SIGHAND: the child ignores SIGUSR2",
            CloneFlags::CLONE_VM | CloneFlags::CLONE_SIGHAND,
        )?;
        let (without_sighand, kcmp_without, s2) = part_one(
            &mut calls,
            "part 1, contrast: CLONE_VM only",
            CloneFlags::CLONE_VM,
        )?;
        let handler = never_called as extern "C" fn(i32) as usize;
        sys::signal_handler(k::SIGUSR2, Some(handler))?;
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
    sys::signal_handler(k::SIGUSR2, Some(original))?;
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
            "child sets SIGUSR2 to SIG_IGN; the parent's SIGUSR2 is then:"
        )?;
        writeln!(
            f,
            "  with CLONE_SIGHAND     {:<8} kcmp(KCMP_SIGHAND): {}",
            name(self.with_sighand),
            Kcmp(self.kcmp.0)
        )?;
        writeln!(
            f,
            "  without CLONE_SIGHAND  {:<8} kcmp(KCMP_SIGHAND): {}",
            name(self.without_sighand),
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
