//! `CLONE_NEWPID | CLONE_NEWNS | SIGCHLD`: the child is PID 1 of a new PID namespace.
//!
//! Inside, `getpid()` is 1 and `getppid()` is 0 (its parent lives outside the
//! namespace); the parent sees an ordinary pid. `/proc` is another matter: it
//! shows the PID namespace of whoever *mounted* it, so `/proc/self` still
//! names the child's outer pid — which is why `ps` in such a child lists the
//! host's processes — until the child mounts a fresh procfs. CLONE_NEWNS (with
//! `/` made private first) keeps that new `/proc` mount away from the parent.
//! Unprivileged callers get CLONE_NEWUSER added.

use super::record::Checks;
use super::Calls;
use super::{namespace_flags, parse_decimal, run_child, SharedPage};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::sys;
use crate::{Error, WaitStatus};
use core::fmt;
use linux_raw_sys::general as k;

/// What the child and the parent saw.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// The child's pid as the parent sees it (clone's return value).
    pub pid_outside: i32,
    /// `getpid()` in the child.
    pub getpid_inside: u64,
    /// `getppid()` in the child.
    pub getppid_inside: u64,
    /// `readlink("/proc/self")` in the child, before it mounts a new /proc.
    pub proc_self_before: u64,
    /// The same after `mount("proc", "/proc", "proc")`.
    pub proc_self_after: u64,
    /// Whether CLONE_NEWUSER was added (unprivileged caller).
    pub in_user_namespace: bool,
    /// How the child ended.
    pub status: WaitStatus,
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let mut c = Checks::new();
        c.check(
            self.getpid_inside == 1 && self.getppid_inside == 0,
            "inside, the child is pid 1 with no parent",
            format_args!(
                "getpid {}, getppid {}",
                self.getpid_inside, self.getppid_inside
            ),
        );
        c.check(
            self.pid_outside > 1,
            "outside, clone returned an ordinary pid",
            format_args!("clone returned {}", self.pid_outside),
        );
        c.check(
            self.proc_self_before == self.pid_outside as u64,
            "the inherited /proc names the outer pid",
            format_args!("/proc/self -> {}", self.proc_self_before),
        );
        c.check(
            self.proc_self_after == 1,
            "a procfs mounted inside names pid 1",
            format_args!("/proc/self -> {}", self.proc_self_after),
        );
        c.check(
            self.status == WaitStatus::Exited(0),
            "the child exited 0",
            format_args!("the child {}", self.status),
        );
        c
    }
}

fn proc_self() -> u64 {
    let mut buf = [0u8; 32];
    sys::readlink(c"/proc/self", &mut buf)
        .ok()
        .and_then(parse_decimal)
        .unwrap_or(0)
}

/// Run the child.
pub fn observe() -> Result<Observed, Error> {
    let flags = namespace_flags(CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS);
    let page = SharedPage::new()?;
    let mut calls = Calls::new();
    let child = || {
        page.put(0, sys::getpid() as u64);
        page.put(1, sys::getppid() as u64);
        page.put(2, proc_self());
        // SAFETY: this child owns its new mount namespace.
        let remounted = unsafe {
            sys::mount(c"none", c"/", None, k::MS_REC | k::MS_PRIVATE)
                .and_then(|()| sys::mount(c"proc", c"/proc", Some(c"proc"), 0))
        };
        page.put(3, proc_self());
        remounted.is_err() as i32
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(
            &mut calls,
            "CLONE_NEWPID (+ CLONE_NEWNS to mount its own /proc)",
            FlagsWord::new(flags, ExitSignal::SIGCHLD),
            &page,
            child,
            |_| (),
        )
    }?;
    Ok(Observed {
        calls,
        pid_outside: child.pid,
        getpid_inside: page.get(0),
        getppid_inside: page.get(1),
        proc_self_before: page.get(2),
        proc_self_after: page.get(3),
        in_user_namespace: flags.contains(CloneFlags::CLONE_NEWUSER),
        status: child.status,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "parent: clone returned pid {}", self.pid_outside)?;
        writeln!(
            f,
            "child:  getpid() = {}, getppid() = {}",
            self.getpid_inside, self.getppid_inside
        )?;
        writeln!(
            f,
            "child:  /proc/self -> {} (the old /proc: outer pid, what ps would list)",
            self.proc_self_before
        )?;
        writeln!(
            f,
            "child:  /proc/self -> {} (after mounting a new /proc)",
            self.proc_self_after
        )?;
        if self.in_user_namespace {
            writeln!(f, "(unprivileged: CLONE_NEWUSER was added)")?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
