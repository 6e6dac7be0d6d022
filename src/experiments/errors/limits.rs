//! ENOSPC: namespaces nested until the kernel says no, each level's child
//! making the next (PID namespaces; user namespaces, which said EUSERS until
//! Linux 4.8). What is printed about a limit is rendered from the levels
//! observed ([`NestingLimit`]): the deepest level made, the first refused and
//! the errno.
//!
//! The two limits differ by one level, and the kernel's source says why:
//!
//! ```text
//! kernel/pid_namespace.c, create_pid_namespace():
//!     unsigned int level = parent_pid_ns->level + 1;
//!     if (level > MAX_PID_NS_LEVEL)   /* 32 */    -> ENOSPC
//!   the NEW namespace's level is tested: the deepest is level 32.
//!
//! kernel/user_namespace.c, create_user_ns():
//!     if (parent_ns->level > 32)                  -> ENOSPC (EUSERS before 4.9)
//!     ns->level = parent_ns->level + 1;
//!   the PARENT's level is tested: a parent at level 32 still makes a child
//!   at level 33; the first refused is level 34.
//! ```
//!
//! Levels are counted from the experiment's own namespace (level 0 when it
//! runs in the initial namespaces, as the tour does in its VMs).
//!
//! Where it sits: in [`super`] (the errors experiment). What it may use: the
//! harness ([`raw_fork_like`], [`SharedPage`], [`map_root`]) and raw syscalls.

use crate::experiments::record::Label;
use crate::experiments::{map_root, raw_fork_like, raw_fork_like_call, Calls, SharedPage};
use crate::flags::{CloneFlags as F, ExitSignal, FlagsWord};
use crate::sys;
use crate::{Errno, Error};
use core::ffi::c_void;
use core::fmt;
use linux_raw_sys::general as k;

/// Where a nesting run reports: slot 0 = errno of the refused clone, slot 1 = depth.
struct Nesting<'a> {
    flag: F,
    depth: u64,
    page: &'a SharedPage,
}

pub(super) unsafe extern "C" fn nest_deeper(arg: *mut c_void) -> i32 {
    // SAFETY: arg is the parent's Nesting; this fork-like child has its own copy
    // of it (and the shared page behind it).
    let outer = unsafe { &*(arg as *const Nesting) };
    let inner = Nesting {
        flag: outer.flag,
        depth: outer.depth + 1,
        page: outer.page,
    };
    let word = FlagsWord::new(inner.flag, ExitSignal::SIGCHLD);
    // SAFETY: fork-like; `inner` lives in this frame until the child is reaped.
    match unsafe { raw_fork_like(word, nest_deeper, &inner as *const Nesting as *mut c_void) } {
        Ok(pid) => {
            if outer.depth == 0 {
                inner.page.put(FIRST_PID_SLOT, pid as u64);
            }
            crate::wait::wait_pid(pid, k::__WALL).map_or(1, |_| 0)
        }
        Err(e) => {
            inner.page.put(0, e.errno().map_or(0, |e| e.raw() as u64));
            inner.page.put(1, inner.depth);
            0
        }
    }
}

/// How deep one kind of namespace nested, as observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NestingLimit {
    /// `CLONE_NEWPID` or `CLONE_NEWUSER`.
    pub flag: F,
    /// The deepest level the kernel made (levels counted from ours, 0).
    pub deepest: u64,
    /// The first level it refused (`deepest + 1`), with `errno`.
    pub refused: u64,
    /// What the refused clone returned (`Ok(())` if none was refused).
    pub errno: Result<(), Errno>,
}

impl NestingLimit {
    /// "PID" or "user".
    pub fn kind(&self) -> &'static str {
        if self.flag == F::CLONE_NEWUSER {
            "user"
        } else {
            "PID"
        }
    }
}

impl fmt::Display for NestingLimit {
    /// `PID namespaces nested: level 32 made, level 33 refused` (the errno
    /// is the case's, printed beside it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} namespaces nested: level {} made, level {} refused",
            self.kind(),
            self.deepest,
            self.refused
        )
    }
}

/// Why the two limits differ, rendered from both observations: which level
/// each kernel function tests, and what that allowed here.
pub struct WhyTheyDiffer<'a> {
    /// PID namespaces, as observed.
    pub pid: &'a NestingLimit,
    /// User namespaces, as observed.
    pub user: &'a NestingLimit,
}

impl fmt::Display for WhyTheyDiffer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (pid, user) = (self.pid, self.user);
        writeln!(
            f,
            "why the nesting limits differ (levels counted from the experiment's own, 0):"
        )?;
        writeln!(
            f,
            "  PID namespaces:  level {} made, level {} refused: create_pid_namespace tests \
             the new namespace's level (level > MAX_PID_NS_LEVEL)",
            pid.deepest, pid.refused
        )?;
        writeln!(
            f,
            "  user namespaces: level {} made, level {} refused: create_user_ns tests \
             the parent's level (parent_ns->level > 32), so a parent at level {} still \
             made level {}",
            user.deepest,
            user.refused,
            user.deepest.saturating_sub(1),
            user.deepest
        )
    }
}

/// Nest `flag` namespaces, each child making the next, until the kernel says
/// no; returns the levels it made and the one it refused. `level` is
/// `nest_deeper`, or for user namespaces `nest_users`, which maps each level
/// before it goes deeper (an unmapped child may not create the next: EPERM).
pub(super) fn nest(
    calls: &mut Calls,
    flag: F,
    level: crate::arch::ChildEntry,
) -> Result<NestingLimit, Error> {
    let page = SharedPage::new()?;
    let top = Nesting {
        flag,
        depth: 0,
        page: &page,
    };
    // SAFETY: `level` is nest_deeper or nest_users, which take a Nesting.
    unsafe { level(&top as *const Nesting as *mut c_void) };
    let errno = page.get(0) as u16;
    let word = FlagsWord::new(flag, ExitSignal::SIGCHLD);
    let first = page.get(FIRST_PID_SLOT) as i64;
    calls.push(
        "level 1 (each level's child makes the next)",
        raw_fork_like_call(word),
        first,
    );
    // The levels in between: the same call, each made by the level above
    // (the record keeps one entry for them; `depth` is the level the kernel refused).
    let depth = page.get(1);
    let mut label = Label::empty();
    let _ = fmt::Write::write_fmt(
        &mut label,
        format_args!(
            "levels 2 to {}: the same call, each made by the level above ({} calls)",
            depth.saturating_sub(1),
            depth.saturating_sub(2)
        ),
    );
    calls.push_in_child(label.as_str(), raw_fork_like_call(word), 0);
    let mut label = Label::empty();
    let _ = fmt::Write::write_fmt(
        &mut label,
        format_args!(
            "level {depth}: past the limit, made by level {}",
            depth.saturating_sub(1)
        ),
    );
    calls.push_in_child(label.as_str(), raw_fork_like_call(word), -(errno as i64));
    Ok(NestingLimit {
        flag,
        deepest: depth.saturating_sub(1),
        refused: depth,
        errno: if errno == 0 {
            Ok(())
        } else {
            Err(Errno::from_raw(errno))
        },
    })
}

/// Slot of the shared page that holds the pid of the first level (the call the
/// experiment's own process makes).
const FIRST_PID_SLOT: usize = 2;

/// Slot of the shared page that says "the maps of the user namespace at this
/// depth are written": its owner waits for it before nesting further.
const MAPPED_SLOT: usize = 8;

pub(super) unsafe extern "C" fn nest_users(arg: *mut c_void) -> i32 {
    // SAFETY: as in nest_deeper.
    let outer = unsafe { &*(arg as *const Nesting) };
    // Unmapped, this process may not create the next namespace (EPERM): wait for the maps.
    if outer.depth > 0 {
        while outer.page.get(MAPPED_SLOT + outer.depth as usize) == 0 {
            sys::sched_yield();
        }
    }
    let inner = Nesting {
        flag: outer.flag,
        depth: outer.depth + 1,
        page: outer.page,
    };
    let word = FlagsWord::new(F::CLONE_NEWUSER, ExitSignal::SIGCHLD);
    // SAFETY: fork-like; `inner` lives in this frame until the child is reaped.
    match unsafe { raw_fork_like(word, nest_users, &inner as *const Nesting as *mut c_void) } {
        Ok(pid) => {
            if outer.depth == 0 {
                inner.page.put(FIRST_PID_SLOT, pid as u64);
            }
            let mapped = map_root(pid);
            inner.page.put(MAPPED_SLOT + inner.depth as usize, 1);
            let reaped = crate::wait::wait_pid(pid, k::__WALL).is_ok();
            (!(mapped && reaped)) as i32
        }
        Err(e) => {
            inner.page.put(0, e.errno().map_or(0, |e| e.raw() as u64));
            inner.page.put(1, inner.depth);
            0
        }
    }
}
