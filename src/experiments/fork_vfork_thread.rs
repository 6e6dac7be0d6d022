//! How fork, vfork, a thread and a bare CLONE_VM child differ — asked of the
//! kernel, not of a textbook.
//!
//! Each child calls `kcmp(parent, self, TYPE)` for the address space, the
//! descriptor table, the fs info and the signal handlers, and reports its
//! thread-group id. A thread also cannot be waited for: `waitid` on its tid
//! says ECHILD, and it is joined through CLONE_CHILD_CLEARTID instead. A vfork
//! child runs while its parent is suspended: its write is visible the moment
//! clone returns.
//!
//! | shape  | flags | word |
//! |--------|-------|------|
//! | fork   | SIGCHLD | 0x11 |
//! | vfork  | CLONE_VM \| CLONE_VFORK \| SIGCHLD | 0x4111 |
//! | clone  | CLONE_VM \| SIGCHLD | 0x111 |
//! | thread | CLONE_VM \| CLONE_FS \| CLONE_FILES \| CLONE_SIGHAND \| CLONE_THREAD \| CLONE_SYSVSEM (+ SETTLS, PARENT_SETTID, CHILD_CLEARTID) | 0x3d0f00 |

use super::{run_child, SharedPage};
use crate::abi::CloneCall;
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::plain::StaticText;
use crate::spawn::THREAD_FLAGS;
use crate::sys::{self, Kcmp};
use crate::{Errno, Error, WaitStatus};
use core::fmt;

/// One shape's answers.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// "fork", "vfork", "clone", "thread".
    pub name: StaticText,
    /// The call.
    pub call: CloneCall,
    /// kcmp says shared: (VM, FILES, FS, SIGHAND); None where kcmp is unavailable.
    pub shares: [Option<bool>; 4],
    /// The child's getpid() equals the parent's (same thread group).
    pub same_thread_group: bool,
    /// Whether waitid(P_PID, tid, WNOWAIT | __WALL) accepts it (a thread: ECHILD).
    pub waitable: bool,
    /// vfork: the child's last write was visible when clone returned.
    pub parent_was_suspended: bool,
    /// How it ended.
    pub status: WaitStatus,
}

/// All four shapes.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// The thread's call (shown by the tour).
    pub call: CloneCall,
    /// fork, vfork, clone, thread.
    pub shapes: [Shape; 4],
}

const KINDS: [Kcmp; 4] = [Kcmp::Vm, Kcmp::Files, Kcmp::Fs, Kcmp::Sighand];

fn shape(name: &'static str, flags: CloneFlags, signal: ExitSignal) -> Result<Shape, Error> {
    let page = SharedPage::new()?;
    let parent = sys::getpid();
    let child = || {
        for (i, kind) in KINDS.iter().enumerate() {
            let answer = match sys::kcmp(parent, sys::gettid(), *kind) {
                Ok(0) => 1,
                Ok(_) => 2,
                Err(_) => 0,
            };
            page.put(i, answer);
        }
        page.put(4, sys::getpid() as u64);
        for _ in 0..100 {
            sys::sched_yield(); // a suspended parent cannot run meanwhile
        }
        page.put(5, 1);
        0
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(FlagsWord::new(flags, signal), &page, child, |pid| {
            let suspended = page.get(5) == 1;
            // WNOWAIT: look, do not reap (the vfork child has already exited here).
            use linux_raw_sys::general::{__WALL, P_PID, WEXITED, WNOHANG, WNOWAIT};
            let probe = sys::waitid(P_PID, pid as u32, WEXITED | WNOHANG | WNOWAIT | __WALL);
            let waitable = !matches!(probe, Err(Errno::ECHILD));
            (suspended, waitable)
        })
    }?;
    let answer = |i: usize| match page.get(i) {
        1 => Some(true),
        2 => Some(false),
        _ => None,
    };
    Ok(Shape {
        name: StaticText::new(name),
        call: child.call,
        shares: [answer(0), answer(1), answer(2), answer(3)],
        same_thread_group: page.get(4) == parent as u64,
        waitable: child.parent.1,
        parent_was_suspended: child.parent.0,
        status: child.status,
    })
}

/// Run the four shapes.
pub fn observe() -> Result<Observed, Error> {
    let sigchld = ExitSignal::SIGCHLD;
    let shapes = [
        shape("fork", CloneFlags::EMPTY, sigchld)?,
        shape(
            "vfork",
            CloneFlags::CLONE_VM | CloneFlags::CLONE_VFORK,
            sigchld,
        )?,
        shape("clone", CloneFlags::CLONE_VM, sigchld)?,
        shape("thread", THREAD_FLAGS, ExitSignal::NONE)?,
    ];
    Ok(Observed {
        call: shapes[3].call,
        shapes,
    })
}

impl Observed {
    /// The claim, shape by shape.
    pub fn holds(&self) -> bool {
        let [fork, vfork, clone, thread] = &self.shapes;
        let is = |s: &Shape, want: [bool; 4]| {
            s.shares
                .iter()
                .zip(want)
                .all(|(got, w)| got.is_none_or(|g| g == w))
        };
        is(fork, [false; 4])
            && is(vfork, [true, false, false, false])
            && is(clone, [true, false, false, false])
            && is(thread, [true; 4])
            && !fork.same_thread_group
            && !clone.same_thread_group
            && thread.same_thread_group
            && fork.waitable
            && !thread.waitable
            && vfork.parent_was_suspended
            && self
                .shapes
                .iter()
                .all(|s| s.status == WaitStatus::Exited(0))
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes = |b: Option<bool>| match b {
            Some(true) => "shared",
            Some(false) => "own",
            None => "?",
        };
        writeln!(
            f,
            "         memory  fds     fs      handlers  thread group  waitable"
        )?;
        for s in &self.shapes {
            writeln!(
                f,
                "  {:<6} {:<7} {:<7} {:<7} {:<9} {:<13} {}{}",
                s.name,
                yes(s.shares[0]),
                yes(s.shares[1]),
                yes(s.shares[2]),
                yes(s.shares[3]),
                if s.same_thread_group { "same" } else { "new" },
                if s.waitable {
                    "yes"
                } else {
                    "no (join via CLEARTID)"
                },
                if s.name == "vfork" && s.parent_was_suspended {
                    "; parent was suspended"
                } else {
                    ""
                }
            )?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, CloneCall, WaitStatus,
// Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Shape {}
// SAFETY: every field is Plain (integers, bools, CloneCall, WaitStatus,
// Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
