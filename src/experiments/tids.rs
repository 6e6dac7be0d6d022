//! The three tid flags: CLONE_PARENT_SETTID, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID.
//!
//! Call 1: `clone(CLONE_VM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID
//! | CLONE_CHILD_CLEARTID | SIGCHLD, stack, &ptid, &ctid, 0)` = `0x1380111`.
//! Call 2, the fork-like contrast: `clone(CLONE_PARENT_SETTID | CLONE_CHILD_SETTID
//! | SIGCHLD, 0, &ptid, &ctid, 0)` = `0x1100011`.
//!
//! - PARENT_SETTID: `kernel_clone` (kernel/fork.c) stores the child's tid at
//!   `ptid` in the *caller's* memory after `copy_process` has returned and
//!   before `wake_up_new_task`: before clone returns, and before the child can
//!   run. In the fork-like call the child's memory was copied before that
//!   store, so the child's copy of `ptid` is still 0.
//! - CHILD_SETTID: `copy_process` only records the pointer
//!   (`p->set_child_tid`); the *child* stores its tid there itself, in
//!   `schedule_tail` (kernel/sched/core.c), when it first runs and before its
//!   first user instruction. In the fork-like call that store lands in the
//!   child's copy: the parent's `ctid` stays 0. With CLONE_VM the parent may
//!   read `ctid` before the child has run: that read is recorded, never
//!   checked (it is a race).
//! - CHILD_CLEARTID: when the child leaves the address space (`mm_release`),
//!   the kernel writes 0 to `ctid` and does a futex wake on it, if the memory
//!   is still shared. This is how pthread_join works.

use super::record::Checks;
use super::{Calls, SharedPage};
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
    /// `ctid` read by the parent the moment clone returned: 0 if the child
    /// had not run yet, its tid if it had (a race: recorded, not checked).
    pub child_tid_at_return: Pid,
    /// `ctid` as the child's first act read it.
    pub child_tid_at_start: Pid,
    /// The child's gettid().
    pub child_gettid: Pid,
    /// `ctid` after the child exited.
    pub child_tid_after_exit: Pid,
    /// How the child ended.
    pub status: WaitStatus,
    /// The fork-like contrast (no CLONE_VM): what each copy of the words held.
    pub fork_like: ForkLike,
}

/// The fork-like call: `ptid` and `ctid` in the parent's memory, and the
/// child's copies of them, as the child read them when it first ran.
#[derive(Clone, Copy, Debug)]
pub struct ForkLike {
    /// clone's return value.
    pub pid: Pid,
    /// The parent's `ptid`, read the moment clone returned.
    pub parent_ptid: Pid,
    /// The parent's `ctid`, read after the child had run and been reaped.
    pub parent_ctid: Pid,
    /// The child's copy of `ptid`.
    pub child_ptid: Pid,
    /// The child's copy of `ctid`.
    pub child_ctid: Pid,
    /// The child's gettid().
    pub child_gettid: Pid,
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
            format_args!("{}", self.status),
        );
        let f = &self.fork_like;
        c.check(
            f.parent_ptid == f.pid && f.child_ptid == 0,
            "fork-like: PARENT_SETTID writes the parent's memory, after the copy",
            format_args!(
                "parent's ptid {}, child's copy {}, clone returned {}",
                f.parent_ptid, f.child_ptid, f.pid
            ),
        );
        c.check(
            f.child_ctid == f.child_gettid && f.child_gettid == f.pid && f.parent_ctid == 0,
            "fork-like: CHILD_SETTID writes the child's memory, not the parent's",
            format_args!(
                "child's copy of ctid {}, its gettid {}, parent's ctid {}",
                f.child_ctid, f.child_gettid, f.parent_ctid
            ),
        );
        c.check(
            f.status == WaitStatus::Exited(0),
            "the fork-like child exited 0",
            format_args!("{}", f.status),
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

/// The fork-like call's words: in the parent's frame, and (a copy) in the child's.
#[repr(C)]
struct ForkWords<'a> {
    ptid: AtomicI32,
    ctid: AtomicI32,
    page: &'a SharedPage,
}

unsafe extern "C" fn fork_child(arg: *mut c_void) -> i32 {
    // SAFETY: arg is the ForkWords in this child's copy of the parent's frame
    // (no CLONE_VM: the copy is the child's own); `page` is a MAP_SHARED page
    // the parent keeps mapped until it has reaped this child.
    let words = unsafe { &*(arg as *const ForkWords) };
    words.page.put(0, words.ptid.load(SeqCst) as u32 as u64);
    words.page.put(1, words.ctid.load(SeqCst) as u32 as u64);
    words.page.put(2, sys::gettid() as u32 as u64);
    0
}

/// The fork-like contrast: PARENT_SETTID and CHILD_SETTID without CLONE_VM.
fn fork_like(calls: &mut Calls) -> Result<ForkLike, Error> {
    let page = SharedPage::new()?;
    let words = ForkWords {
        ptid: AtomicI32::new(0),
        ctid: AtomicI32::new(0),
        page: &page,
    };
    let word = FlagsWord::new(
        CloneFlags::CLONE_PARENT_SETTID | CloneFlags::CLONE_CHILD_SETTID,
        ExitSignal::SIGCHLD,
    );
    // SAFETY: no CLONE_VM, so stack 0 is sound (the child runs on its copy of
    // ours) and the child reads only its own copy of `words`; the tid
    // pointers are valid words in this frame.
    let result = unsafe {
        clone(
            word,
            core::ptr::null_mut(),
            words.ptid.as_ptr(),
            words.ctid.as_ptr(),
            0,
            fork_child,
            &words as *const ForkWords as *mut c_void,
        )
    };
    calls.push(
        "fork-like: PARENT_SETTID, CHILD_SETTID without CLONE_VM",
        super::record::clone_call(
            word,
            0,
            words.ptid.as_ptr() as usize,
            words.ctid.as_ptr() as usize,
            0,
        ),
        super::record::pid_result(&result),
    );
    let pid = result?;
    let parent_ptid = words.ptid.load(SeqCst);
    let status = super::reap_sharing_child(pid)?;
    Ok(ForkLike {
        pid,
        parent_ptid,
        parent_ctid: words.ctid.load(SeqCst),
        child_ptid: page.get(0) as u32 as Pid,
        child_ctid: page.get(1) as u32 as Pid,
        child_gettid: page.get(2) as u32 as Pid,
        status,
    })
}

/// Clone with all three flags (CLONE_VM) and read the words; then the
/// fork-like contrast.
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
    let child_tid_at_return = words.ctid.load(SeqCst);
    let status = super::reap_sharing_child(pid)?;
    let fork_like = fork_like(&mut calls)?;
    Ok(Observed {
        calls,
        pid,
        parent_tid_at_return,
        child_tid_at_return,
        child_tid_at_start: words.seen_at_start.load(SeqCst),
        child_gettid: words.gettid.load(SeqCst),
        child_tid_after_exit: words.ctid.load(SeqCst),
        status,
        fork_like,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "clone returned {}; ptid already held {} (PARENT_SETTID)",
            self.pid, self.parent_tid_at_return
        )?;
        let when = if self.child_tid_at_return == 0 {
            "the child had not stored it yet"
        } else if self.child_tid_at_return == self.pid {
            "the child had already run and stored it"
        } else {
            "neither 0 nor the tid"
        };
        writeln!(
            f,
            "ctid read by the parent as clone returned: {} ({when}; a race, not checked)",
            self.child_tid_at_return
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
        )?;
        let k = &self.fork_like;
        writeln!(
            f,
            "fork-like child {}: parent's ptid {}, the child's copy {} (PARENT_SETTID)",
            k.pid, k.parent_ptid, k.child_ptid
        )?;
        writeln!(
            f,
            "fork-like child {}: its copy of ctid {}, its gettid() {}; parent's ctid {} (CHILD_SETTID)",
            k.pid, k.child_ctid, k.child_gettid, k.parent_ctid
        )
    }
}

// SAFETY: every field is Plain (integers, bools, CloneCall, WaitStatus,
// Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
// SAFETY: every field is Plain (integers and a WaitStatus).
unsafe impl crate::plain::Plain for ForkLike {}
