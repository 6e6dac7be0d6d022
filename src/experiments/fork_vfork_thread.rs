//! How fork, vfork, a thread and a bare CLONE_VM child differ — asked of the
//! kernel, not of a textbook.
//!
//! Each child calls `kcmp(parent, self, TYPE)` for the address space, the
//! descriptor table, the fs info and the signal handlers, and reports its
//! thread-group id. A thread also cannot be waited for: `waitid` on its tid
//! says ECHILD, and it is joined through CLONE_CHILD_CLEARTID instead.
//!
//! Then CLONE_VFORK itself: a child that sleeps 100 ms and then writes a
//! word of ours. With `CLONE_VM | CLONE_VFORK` the parent reads the word the
//! instant clone returns and finds the write (clone did not return until the
//! child exited); with `CLONE_VM` alone the same read finds 0 (the child is
//! still asleep), and the write shows only after the parent waited.
//!
//! | shape  | flags asked for | the kernel is given |
//! |--------|-----------------|---------------------|
//! | fork   | SIGCHLD (0x11) | 0x11 |
//! | vfork  | CLONE_VM \| CLONE_VFORK \| SIGCHLD (0x4111) | 0x84111 |
//! | clone  | CLONE_VM \| SIGCHLD (0x111) | 0x380111 |
//! | thread | CLONE_VM \| CLONE_FS \| CLONE_FILES \| CLONE_SIGHAND \| CLONE_THREAD \| CLONE_SYSVSEM (0x50f00) | 0x3d0f00 |
//!
//! The vfork, clone and thread children are started through the scoped API,
//! which adds CLONE_SETTLS to each, and CLONE_PARENT_SETTID and
//! CLONE_CHILD_CLEARTID to those without CLONE_VFORK (see
//! [`clone_vm`](super::clone_vm) for why). The sleeping writers go through
//! the raw [`clone`](crate::clone()) and are given their words as asked.

use super::record::Checks;
use super::text::YesNo;
use super::{run_child, Calls, SharedPage};
use crate::clone::clone;
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::plain::StaticText;
use crate::spawn::THREAD_FLAGS;
use crate::stack::Stack;
use crate::sys::{self, Kcmp};
use crate::{Errno, Error, WaitStatus};
use core::ffi::c_void;
use core::fmt;
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// One shape's answers.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// "fork", "vfork", "clone", "thread".
    pub name: StaticText,
    /// kcmp says shared: (VM, FILES, FS, SIGHAND); None where kcmp is unavailable.
    pub shares: [Option<bool>; 4],
    /// The child's getpid() equals the parent's (same thread group).
    pub same_thread_group: bool,
    /// Whether waitid(P_PID, tid, WNOWAIT | __WALL) accepts it (a thread: ECHILD).
    pub waitable: bool,
    /// How it ended.
    pub status: WaitStatus,
}

/// All four shapes.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// fork, vfork, clone, thread.
    pub shapes: [Shape; 4],
    /// The sleeping writer: (read the instant clone returned, read after
    /// the wait), with `CLONE_VM | CLONE_VFORK`.
    pub vfork_reads: (u64, u64),
    /// The same with `CLONE_VM` only.
    pub clone_vm_reads: (u64, u64),
}

/// What the sleeping child writes.
pub const WRITTEN: u64 = 0xF0F0;

/// How long it sleeps before writing.
pub const SLEEP_NS: u64 = 100_000_000;

unsafe extern "C" fn sleep_then_write(arg: *mut c_void) -> i32 {
    // SAFETY: arg is the parent's AtomicU64, shared through CLONE_VM; the
    // parent reaps this child before the variable goes away.
    let word = unsafe { &*(arg as *const AtomicU64) };
    let never = AtomicI32::new(0);
    // A futex wait that nobody wakes: a sleep made of one raw syscall.
    let _ = sys::futex_wait_timeout(&never, 0, SLEEP_NS);
    word.store(WRITTEN, Ordering::SeqCst);
    0
}

/// Clone a sleeping writer with `flags`; read its word the instant clone
/// returns, and again after reaping it.
fn sleeping_writer(calls: &mut Calls, label: &str, flags: CloneFlags) -> Result<(u64, u64), Error> {
    let stack = Stack::new(super::CHILD_STACK)?;
    let word = AtomicU64::new(0);
    let flags_word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
    let no_tid = core::ptr::null_mut();
    // SAFETY: CLONE_VM with our own Stack and `word`, both alive until the
    // child is reaped below; tls is untouched (the child uses no thread-locals).
    let result = unsafe {
        clone(
            flags_word,
            stack.top(),
            no_tid,
            no_tid,
            0,
            sleep_then_write,
            &word as *const AtomicU64 as *mut c_void,
        )
    };
    let at_return = word.load(Ordering::SeqCst);
    calls.push(
        label,
        super::record::clone_call(flags_word, stack.top() as usize, 0, 0, 0),
        super::record::pid_result(&result),
    );
    super::reap_sharing_child(result?)?;
    Ok((at_return, word.load(Ordering::SeqCst)))
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let [fork, vfork, clone, thread] = &self.shapes;
        let is = |s: &Shape, want: [bool; 4]| {
            s.shares
                .iter()
                .zip(want)
                .all(|(got, w)| got.is_none_or(|g| g == w))
        };
        let mut c = Checks::new();
        c.check(
            is(fork, [false; 4])
                && is(vfork, [true, false, false, false])
                && is(clone, [true, false, false, false])
                && is(thread, [true; 4]),
            "each shape shares what its flags say (kcmp)",
            format_args!(
                "shared with us: fork {}; vfork {}; clone {}; thread {}",
                Shared(fork.shares),
                Shared(vfork.shares),
                Shared(clone.shares),
                Shared(thread.shares)
            ),
        );
        c.check(
            thread.same_thread_group && !fork.same_thread_group && !clone.same_thread_group,
            "only the thread joins our thread group",
            format_args!(
                "in our thread group: fork {}, clone {}, thread {}",
                YesNo(fork.same_thread_group),
                YesNo(clone.same_thread_group),
                YesNo(thread.same_thread_group)
            ),
        );
        c.check(
            fork.waitable && !thread.waitable,
            "a thread cannot be waited for",
            format_args!(
                "waitid accepts it: fork {}, thread {}",
                YesNo(fork.waitable),
                YesNo(thread.waitable)
            ),
        );
        c.check(
            self.vfork_reads == (WRITTEN, WRITTEN),
            "CLONE_VFORK: clone returns only after the sleeping child wrote",
            format_args!(
                "read {:#x} when clone returned, {:#x} after the wait",
                self.vfork_reads.0, self.vfork_reads.1
            ),
        );
        c.check(
            self.clone_vm_reads == (0, WRITTEN),
            "contrast, CLONE_VM only: clone returns while it sleeps",
            format_args!(
                "read {:#x} when clone returned, {:#x} after the wait",
                self.clone_vm_reads.0, self.clone_vm_reads.1
            ),
        );
        c.check(
            self.shapes
                .iter()
                .all(|s| s.status == WaitStatus::Exited(0)),
            "every child exited 0",
            format_args!(
                "fork {}, vfork {}, clone {}, thread {}",
                fork.status, vfork.status, clone.status, thread.status
            ),
        );
        c
    }
}

const KINDS: [Kcmp; 4] = [Kcmp::Vm, Kcmp::Files, Kcmp::Fs, Kcmp::Sighand];

/// What a shape shares with us, by name: `memory, fds` or `nothing`, with
/// `(kcmp unavailable: ...)` for what could not be asked.
struct Shared([Option<bool>; 4]);

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 4] = ["memory", "fds", "fs", "handlers"];
        let mut any = false;
        for (name, shared) in NAMES.iter().zip(self.0) {
            if shared == Some(true) {
                f.write_str(if any { ", " } else { "" })?;
                f.write_str(name)?;
                any = true;
            }
        }
        if !any {
            f.write_str("nothing")?;
        }
        let mut unknown = NAMES.iter().zip(self.0).filter(|(_, s)| s.is_none());
        if let Some((first, _)) = unknown.next() {
            write!(f, " (kcmp unavailable: {first}")?;
            for (name, _) in unknown {
                write!(f, ", {name}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

fn shape(
    calls: &mut Calls,
    name: &'static str,
    flags: CloneFlags,
    signal: ExitSignal,
) -> Result<Shape, Error> {
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
        0
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(
            calls,
            name,
            FlagsWord::new(flags, signal),
            &page,
            child,
            |pid| {
                // WNOWAIT: look, do not reap (the vfork child has already exited here).
                use linux_raw_sys::general::{__WALL, P_PID, WEXITED, WNOHANG, WNOWAIT};
                let probe = sys::waitid(P_PID, pid as u32, WEXITED | WNOHANG | WNOWAIT | __WALL);
                !matches!(probe, Err(Errno::ECHILD))
            },
        )
    }?;
    let answer = |i: usize| match page.get(i) {
        1 => Some(true),
        2 => Some(false),
        _ => None,
    };
    Ok(Shape {
        name: StaticText::new(name),
        shares: [answer(0), answer(1), answer(2), answer(3)],
        same_thread_group: page.get(4) == parent as u64,
        waitable: child.parent,
        status: child.status,
    })
}

/// Run the four shapes.
pub fn observe() -> Result<Observed, Error> {
    let sigchld = ExitSignal::SIGCHLD;
    let mut calls = Calls::new();
    let c = &mut calls;
    let vfork = CloneFlags::CLONE_VM | CloneFlags::CLONE_VFORK;
    let shapes = [
        shape(c, "fork", CloneFlags::EMPTY, sigchld)?,
        shape(c, "vfork", vfork, sigchld)?,
        shape(c, "clone", CloneFlags::CLONE_VM, sigchld)?,
        shape(c, "thread", THREAD_FLAGS, ExitSignal::NONE)?,
    ];
    let vfork_reads = sleeping_writer(c, "vfork: a child that sleeps, then writes", vfork)?;
    let clone_vm_reads = sleeping_writer(
        c,
        "contrast, CLONE_VM only: the same child",
        CloneFlags::CLONE_VM,
    )?;
    Ok(Observed {
        calls,
        shapes,
        vfork_reads,
        clone_vm_reads,
    })
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
                "  {:<6} {:<7} {:<7} {:<7} {:<9} {:<13} {}",
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
            )?;
        }
        writeln!(
            f,
            "a child sleeps {} ms, then writes {WRITTEN:#x}; the parent reads the word twice:",
            SLEEP_NS / 1_000_000
        )?;
        for (name, (at_return, after)) in [
            ("CLONE_VM|CLONE_VFORK", self.vfork_reads),
            ("CLONE_VM only       ", self.clone_vm_reads),
        ] {
            writeln!(
                f,
                "  {name}  when clone returned {at_return:#x}, after the wait {after:#x}  ({})",
                if at_return == WRITTEN {
                    "already written: clone returned after the child's write"
                } else {
                    "not yet written: clone returned while the child slept"
                }
            )?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Shape {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
