//! CLONE_SETTLS: which thread pointer does a CLONE_VM child run with?
//!
//! Two CLONE_VM children report the thread pointer they run with: one made
//! with CLONE_SETTLS and `tls` = the address of a block of ours, one without.
//! Run: `cargo run --example settls`.
//!
//! Expected output:
//!
//! ```text
//! the parent's thread pointer: 0x…
//! with CLONE_SETTLS (tls = 0x…): the child's thread pointer is 0x…
//! without CLONE_SETTLS: the child's thread pointer is 0x…
//! the parent's thread pointer after: 0x…
//! ```

use clonelab::arch::{thread_pointer, TlsArgument};
use clonelab::{clone, wait::wait_pid, CloneFlags, ExitSignal, FlagsWord, Stack, WaitStatus};
use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// A stand-in thread-local block. Its first word points at itself, as the
/// x86 TLS layout wants (clonelab reads the thread pointer there on x86).
#[derive(Default)]
#[repr(C, align(64))]
struct Block {
    self_pointer: usize,
    seen: AtomicUsize, // the thread pointer the child reported
}

/// The child: report the thread pointer it runs with. It touches no
/// thread-local variable (with CLONE_SETTLS it has none).
unsafe extern "C" fn report(arg: *mut c_void) -> i32 {
    // SAFETY: arg is a Block in main's frame, shared (CLONE_VM), alive until we are reaped.
    unsafe {
        (*(arg as *const Block))
            .seen
            .store(thread_pointer(), SeqCst)
    };
    0
}

/// Clone a CLONE_VM child with `flags` and `tls`, reap it, return what it saw.
fn run(flags: CloneFlags, tls: usize, block: &Block) -> usize {
    let stack = Stack::new(64 * 1024).unwrap();
    let word = FlagsWord::new(CloneFlags::CLONE_VM | flags, ExitSignal::SIGCHLD);
    let (null, arg) = (std::ptr::null_mut(), block as *const Block as *mut c_void);
    // clonelab::clone(word, stack_top, parent_tid, child_tid, tls, fn, arg)
    // SAFETY: the child only reads its thread pointer and stores into `block`;
    // `stack` and `block` outlive it (reaped below).
    let pid = unsafe { clone(word, stack.top(), null, null, tls, report, arg) }.unwrap();
    assert_eq!(wait_pid(pid, 0), Ok(WaitStatus::Exited(0)));
    block.seen.load(SeqCst)
}

fn main() {
    let parent = thread_pointer();
    println!("the parent's thread pointer: {parent:#x}");
    let mut block = Block::default();
    let address = &block as *const Block as usize;
    block.self_pointer = address;
    let tls = TlsArgument::new(address); // i386: a descriptor of it; elsewhere the address
    let with = run(CloneFlags::CLONE_SETTLS, tls.value(), &block);
    println!("with CLONE_SETTLS (tls = {address:#x}): the child's thread pointer is {with:#x}");
    let without = run(CloneFlags::EMPTY, 0, &Block::default());
    println!("without CLONE_SETTLS: the child's thread pointer is {without:#x}");
    let after = thread_pointer();
    println!("the parent's thread pointer after: {after:#x}");
    let hex = |v: [usize; 3]| v.map(|a| format!("{a:#x}")); // the base printed above
    assert_eq!(hex([with, without, after]), hex([address, parent, parent]));
}
