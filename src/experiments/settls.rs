//! `CLONE_VM | CLONE_SETTLS | SIGCHLD` (0x80111): the child's thread pointer.
//!
//! Thread-local storage is found through one register, the thread pointer:
//! the `fs` base on x86_64, `tpidr_el0` on aarch64, the `gs` segment on
//! i386, TPIDRURO (cp15 c13) on armhf, `r13` on ppc64le, the access
//! registers `a0:a1` on s390x. Without CLONE_SETTLS a child keeps the parent
//! thread's value — and with CLONE_VM that means the parent thread's
//! thread-locals. With CLONE_SETTLS the kernel loads `tls` (r8 on x86_64, x3
//! on aarch64, each arch's register in docs/abi.md) into it for the child.
//! Here the new thread pointer is a block whose first word is its own
//! address, as the x86 TLS conventions want; the child reads its thread
//! pointer and reports it. On i386 `tls` is not the pointer but the address
//! of a `struct user_desc` describing it
//! ([`TlsArgument`] builds what this arch takes).

use super::record::Checks;
use super::Calls;
use crate::arch::{thread_pointer, TlsArgument};
use crate::clone::clone;
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::stack::Stack;
use crate::wait::WaitStatus;
use crate::Error;
use core::ffi::c_void;
use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// What was seen.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// The block passed as `tls`.
    pub block: usize,
    /// The child's thread pointer.
    pub child_tp: usize,
    /// The parent's thread pointer, before and after.
    pub parent_tp: (usize, usize),
    /// Contrast, CLONE_VM without CLONE_SETTLS: that child's thread pointer
    /// (the parent thread's).
    pub child_tp_without: usize,
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
            self.child_tp == self.block,
            "with CLONE_SETTLS the child's thread pointer is tls",
            format_args!(
                "the child's thread pointer {:#x}, tls {:#x}",
                self.child_tp, self.block
            ),
        );
        c.check(
            self.child_tp_without == self.parent_tp.0 && self.parent_tp.0 != self.block,
            "contrast: without it, the parent thread's",
            format_args!(
                "the child's thread pointer {:#x}, the parent thread's {:#x}",
                self.child_tp_without, self.parent_tp.0
            ),
        );
        c.check(
            self.parent_tp.0 == self.parent_tp.1,
            "the parent's own thread pointer did not change",
            format_args!(
                "the parent's thread pointer {:#x} before, {:#x} after",
                self.parent_tp.0, self.parent_tp.1
            ),
        );
        c.check(
            self.status == WaitStatus::Exited(0),
            "the child exited 0",
            format_args!("the child {}", self.status),
        );
        c
    }
}

#[repr(C, align(64))]
struct TlsBlock {
    self_pointer: usize,
    seen: AtomicUsize,
}

unsafe extern "C" fn report_tp(block: *mut c_void) -> i32 {
    let tp = thread_pointer();
    // SAFETY: block is the parent's TlsBlock, shared through CLONE_VM and alive
    // until the parent has reaped this child.
    unsafe { (*(block as *const TlsBlock)).seen.store(tp, SeqCst) };
    0
}

/// Clone with CLONE_SETTLS pointing at a block; compare thread pointers.
pub fn observe() -> Result<Observed, Error> {
    let stack = Stack::new(super::CHILD_STACK)?;
    let mut block = TlsBlock {
        self_pointer: 0,
        seen: AtomicUsize::new(0),
    };
    let address = &block as *const TlsBlock as usize;
    block.self_pointer = address;
    let tls = TlsArgument::new(address);
    let before = thread_pointer();
    let word = FlagsWord::new(
        CloneFlags::CLONE_VM | CloneFlags::CLONE_SETTLS,
        ExitSignal::SIGCHLD,
    );
    let no_tid = core::ptr::null_mut();
    // SAFETY: CLONE_VM with our own Stack; `block` is the child's TLS block and
    // outlives it (reaped below); the child only reads its thread pointer.
    let result = unsafe {
        clone(
            word,
            stack.top(),
            no_tid,
            no_tid,
            tls.value(),
            report_tp,
            address as *mut c_void,
        )
    };
    let mut calls = Calls::new();
    calls.push(
        "CLONE_SETTLS: tls = &block",
        super::record::clone_call(word, stack.top() as usize, 0, 0, tls.value()),
        super::record::pid_result(&result),
    );
    let pid = result?;
    let status = super::reap_sharing_child(pid)?;
    // The contrast: the same child without CLONE_SETTLS reports into a second block.
    let other = TlsBlock {
        self_pointer: 0,
        seen: AtomicUsize::new(0),
    };
    let other_address = &other as *const TlsBlock as usize;
    let without = FlagsWord::new(CloneFlags::CLONE_VM, ExitSignal::SIGCHLD);
    // SAFETY: CLONE_VM with our own Stack (the first child is reaped) and
    // `other`, alive until this child is reaped; the child only reads its
    // thread pointer (it touches no thread-local through it).
    let result = unsafe {
        clone(
            without,
            stack.top(),
            no_tid,
            no_tid,
            0,
            report_tp,
            other_address as *mut c_void,
        )
    };
    calls.push(
        "contrast: no CLONE_SETTLS (tls 0 is ignored)",
        super::record::clone_call(without, stack.top() as usize, 0, 0, 0),
        super::record::pid_result(&result),
    );
    super::reap_sharing_child(result?)?;
    Ok(Observed {
        calls,
        block: address,
        child_tp: block.seen.load(SeqCst),
        parent_tp: (before, thread_pointer()),
        child_tp_without: other.seen.load(SeqCst),
        status,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "tls argument:          {:#x}", self.block)?;
        writeln!(f, "child's thread pointer: {:#x}", self.child_tp)?;
        writeln!(
            f,
            "parent's thread pointer: {:#x} before, {:#x} after",
            self.parent_tp.0, self.parent_tp.1
        )?;
        writeln!(
            f,
            "without CLONE_SETTLS the child's thread pointer is {:#x}: {}",
            self.child_tp_without,
            if self.child_tp_without == self.parent_tp.0 {
                "the parent thread's"
            } else {
                "not the parent thread's"
            }
        )
    }
}

// SAFETY: every field is Plain (integers, bools, CloneCall, WaitStatus,
// Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
