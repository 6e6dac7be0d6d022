//! The three tid flags: CLONE_PARENT_SETTID, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID.
//!
//! Call: `clone(CLONE_VM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID
//! | CLONE_CHILD_CLEARTID | SIGCHLD, stack, &ptid, &ctid, 0)` = `0x1380111`.
//!
//! - PARENT_SETTID: the kernel stores the child's tid at `ptid` before clone
//!   returns — before the child can possibly run, so a parent can never race it.
//! - CHILD_SETTID: the kernel stores the tid at `ctid` in the child's memory
//!   before the child's first instruction: the child reads it as its first act.
//! - CHILD_CLEARTID: when the child exits, the kernel writes 0 to `ctid` and
//!   does a futex wake on it. This is how pthread_join works.

use super::record::Checks;
use super::Calls;
use crate::clone::clone;
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::stack::Stack;
use crate::sys::{self, Pid};
use crate::wait::WaitStatus;
use crate::Error;
use core::ffi::c_void;
use core::fmt;
use core::sync::atomic::{AtomicI32, Ordering::SeqCst};

/// What was seen.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// clone's return value.
    pub pid: Pid,
    /// `ptid` read the moment clone returned.
    pub parent_tid_at_return: Pid,
    /// `ctid` as the child's first act read it.
    pub child_tid_at_start: Pid,
    /// The child's gettid().
    pub child_gettid: Pid,
    /// `ctid` after the child exited.
    pub child_tid_after_exit: Pid,
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
            self.parent_tid_at_return == self.pid,
            "PARENT_SETTID: ptid holds the tid when clone returns",
            format_args!(
                "ptid {}, clone returned {}",
                self.parent_tid_at_return, self.pid
            ),
        );
        c.check(
            self.child_tid_at_start == self.child_gettid && self.child_gettid == self.pid,
            "CHILD_SETTID: ctid holds it at the child's first instruction",
            format_args!(
                "ctid {}, gettid {}",
                self.child_tid_at_start, self.child_gettid
            ),
        );
        c.check(
            self.child_tid_after_exit == 0,
            "CHILD_CLEARTID: ctid is 0 after the child exited",
            format_args!("ctid {}", self.child_tid_after_exit),
        );
        c.check(
            self.status == WaitStatus::Exited(0),
            "the child exited 0",
            format_args!("{:?}", self.status),
        );
        c
    }
}

#[repr(C)]
struct Words {
    ptid: AtomicI32,
    ctid: AtomicI32,
    seen_at_start: AtomicI32,
    gettid: AtomicI32,
}

unsafe extern "C" fn child(arg: *mut c_void) -> i32 {
    // SAFETY: arg is the Words in the parent's frame; CLONE_VM shares it and
    // the parent waits for this child before the frame ends.
    let words = unsafe { &*(arg as *const Words) };
    words.seen_at_start.store(words.ctid.load(SeqCst), SeqCst);
    words.gettid.store(sys::gettid(), SeqCst);
    0
}

/// Clone once with all three flags and read the words.
pub fn observe() -> Result<Observed, Error> {
    let stack = Stack::new(super::CHILD_STACK)?;
    let words = Words {
        ptid: AtomicI32::new(0),
        ctid: AtomicI32::new(0),
        seen_at_start: AtomicI32::new(0),
        gettid: AtomicI32::new(0),
    };
    let flags = CloneFlags::CLONE_VM
        | CloneFlags::CLONE_SETTLS
        | CloneFlags::CLONE_PARENT_SETTID
        | CloneFlags::CLONE_CHILD_SETTID
        | CloneFlags::CLONE_CHILD_CLEARTID;
    let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
    // No thread pointer for the child: 0 (on i386 a descriptor of base 0).
    let no_tls = crate::arch::TlsArgument::none();
    // SAFETY: CLONE_VM with our own Stack and Words, both alive until the child
    // is reaped below; tls = 0 (the child touches no thread-locals).
    let result = unsafe {
        clone(
            word,
            stack.top(),
            words.ptid.as_ptr(),
            words.ctid.as_ptr(),
            no_tls.value(),
            child,
            &words as *const Words as *mut c_void,
        )
    };
    let mut calls = Calls::new();
    calls.push(
        "PARENT_SETTID, CHILD_SETTID, CHILD_CLEARTID",
        super::record::clone_call(
            word,
            stack.top() as usize,
            words.ptid.as_ptr() as usize,
            words.ctid.as_ptr() as usize,
            no_tls.value(),
        ),
        super::record::pid_result(&result),
    );
    let pid = result?;
    let parent_tid_at_return = words.ptid.load(SeqCst);
    let status = super::reap_sharing_child(pid)?;
    Ok(Observed {
        calls,
        pid,
        parent_tid_at_return,
        child_tid_at_start: words.seen_at_start.load(SeqCst),
        child_gettid: words.gettid.load(SeqCst),
        child_tid_after_exit: words.ctid.load(SeqCst),
        status,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "clone returned {}; ptid already held {} (PARENT_SETTID)",
            self.pid, self.parent_tid_at_return
        )?;
        writeln!(
            f,
            "child's first read of ctid: {} = its gettid() {} (CHILD_SETTID)",
            self.child_tid_at_start, self.child_gettid
        )?;
        writeln!(
            f,
            "ctid after the child exited: {} (CHILD_CLEARTID)",
            self.child_tid_after_exit
        )
    }
}

// SAFETY: every field is Plain (integers, bools, CloneCall, WaitStatus,
// Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
