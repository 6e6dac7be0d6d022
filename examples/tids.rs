//! Thread ids: where do PARENT_SETTID, CHILD_SETTID and CHILD_CLEARTID write?
//!
//! A CLONE_VM child made as a thread library makes one, joined on `ctid`; then
//! a fork-like child shows whose memory each store lands in. Run: `cargo run --example tids`.
//!
//! Expected output:
//!
//! ```text
//! CLONE_VM:  clone returned …; ptid read at once: …
//! CLONE_VM:  the child's first read of ctid: …; its gettid(): …
//! CLONE_VM:  ctid after the join: 0
//! fork-like child:  its ptid 0, its ctid …, its gettid() …
//! fork-like parent: ptid …, ctid 0
//! ```

use clonelab::{arch::ChildEntry, WaitStatus::Exited};
use clonelab::{clone, sys, wait::wait_pid, CloneFlags as F, ExitSignal, FlagsWord, Pid, Stack};
use std::sync::atomic::{AtomicI32, Ordering::SeqCst};

/// The two words the kernel writes, and what a CLONE_VM child reports.
#[derive(Default)]
struct Words {
    ptid: AtomicI32,
    ctid: AtomicI32,
    first: AtomicI32, // the child's first read of ctid
    tid: AtomicI32,   // the child's gettid()
}

unsafe extern "C" fn vm_child(arg: *mut std::ffi::c_void) -> i32 {
    // SAFETY: arg is main's Words, shared (CLONE_VM) and alive until this child is joined.
    let w = unsafe { &*(arg as *const Words) };
    w.first.store(w.ctid.load(SeqCst), SeqCst);
    w.tid.store(sys::gettid(), SeqCst);
    0
}

unsafe extern "C" fn fork_child(arg: *mut std::ffi::c_void) -> i32 {
    // SAFETY: arg is this child's own copy of main's Words (no CLONE_VM).
    let w = unsafe { &*(arg as *const Words) };
    let (ptid, ctid, tid) = (w.ptid.load(SeqCst), w.ctid.load(SeqCst), sys::gettid());
    println!("fork-like child:  its ptid {ptid}, its ctid {ctid}, its gettid() {tid}");
    (ptid != 0 || ctid != tid) as i32 // exit 1 if a store went elsewhere
}

/// clone(flags | SIGCHLD, stack, &w.ptid, &w.ctid, 0) running `entry(&w)`.
fn make(flags: F, stack: *mut u8, entry: ChildEntry, w: &Words) -> Pid {
    let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
    let (ptid, ctid, arg) = (w.ptid.as_ptr(), w.ctid.as_ptr(), w as *const _ as *mut _);
    // clonelab::clone(word, stack_top, parent_tid, child_tid, tls, fn, arg)
    // SAFETY: a child touches only `w` (or its copy); main reaps it before `w` or a stack goes.
    unsafe { clone(word, stack, ptid, ctid, 0, entry, arg) }.unwrap()
}

fn main() {
    let (stack, w) = (Stack::new(64 * 1024).unwrap(), Words::default());
    let tids = F::CLONE_PARENT_SETTID | F::CLONE_CHILD_SETTID;
    let thread_like = F::CLONE_VM | tids | F::CLONE_CHILD_CLEARTID;
    let pid = make(thread_like, stack.top(), vm_child, &w);
    let ptid = w.ptid.load(SeqCst);
    println!("CLONE_VM:  clone returned {pid}; ptid read at once: {ptid}");
    // The join (5 s at most): until the child has run (stored its tid) and ctid is 0 again.
    let mut naps = 0;
    while (w.tid.load(SeqCst) == 0 || w.ctid.load(SeqCst) != 0) && naps < 50 {
        // Sleep only while ctid still holds this value; wake on FUTEX_WAKE or after 100 ms.
        let _ = sys::futex_wait_timeout(&w.ctid, w.ctid.load(SeqCst), 100_000_000);
        naps += 1;
    }
    let (first, tid) = (w.first.load(SeqCst), w.tid.load(SeqCst));
    println!("CLONE_VM:  the child's first read of ctid: {first}; its gettid(): {tid}");
    println!("CLONE_VM:  ctid after the join: {}", w.ctid.load(SeqCst));
    assert_eq!(wait_pid(pid, 0), Ok(Exited(0)));
    assert_eq!((ptid, first, tid, w.ctid.load(SeqCst)), (pid, pid, pid, 0));
    // Fork-like: no CLONE_VM; stack 0, so the child runs on its own copy of ours.
    let f = Words::default();
    let pid = make(tids, std::ptr::null_mut(), fork_child, &f);
    assert_eq!(wait_pid(pid, 0), Ok(Exited(0))); // 1: a word in the child's copy was wrong
    let (ptid, ctid) = (f.ptid.load(SeqCst), f.ctid.load(SeqCst));
    println!("fork-like parent: ptid {ptid}, ctid {ctid}");
    assert_eq!((ptid, ctid), (pid, 0));
}
