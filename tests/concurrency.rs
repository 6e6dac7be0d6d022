//! # Concurrency: 64 thread-like children, exact sums, private TLS.
//!
//! 64 children made with `THREAD_FLAGS` (CLONE_VM | CLONE_FS | CLONE_FILES |
//! CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, word `0x3d0f00` with the
//! scope's SETTLS/PARENT_SETTID/CHILD_CLEARTID) each add 1 to one shared
//! atomic 100,000 times; joined through CLONE_CHILD_CLEARTID + futex, the
//! total must be exactly 6,400,000. Then 64 children made with the raw
//! `clone` and CLONE_SETTLS, each given its own TLS block, report their
//! thread pointer: each must see its own block (x86_64: `fs:0` self-pointer,
//! aarch64: `tpidr_el0`).

use crate::common;

use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord};
use clonelab::{clone, scope, sys, Stack, WaitStatus, THREAD_FLAGS};
use std::ffi::c_void;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering::SeqCst};

const CHILDREN: usize = 64;
const ADDS: u64 = 100_000;

/// 64 threads × 100,000 atomic adds = exactly 6,400,000 after the joins.
#[test]
fn sixty_four_threads_add_exactly() {
    let total = AtomicU64::new(0);
    let mut stacks: Vec<Stack> = (0..CHILDREN)
        .map(|_| Stack::new(common::STACK).unwrap())
        .collect();
    let word = FlagsWord::new(THREAD_FLAGS, ExitSignal::NONE);
    let statuses = scope(|s| {
        let children: Vec<_> = stacks
            .iter_mut()
            .map(|stack| {
                // SAFETY: atomic adds only.
                unsafe {
                    s.spawn(stack, word, || {
                        for _ in 0..ADDS {
                            total.fetch_add(1, SeqCst);
                        }
                        0
                    })
                }
            })
            .collect::<Result<_, _>>()?;
        children
            .into_iter()
            .map(|c| c.join())
            .collect::<Result<Vec<_>, _>>()
    });
    let Some(statuses) = common::observed_or_skip(statuses, "CLONE_THREAD") else {
        return;
    };
    assert!(statuses.iter().all(|s| *s == WaitStatus::Exited(0)));
    assert_eq!(total.load(SeqCst), CHILDREN as u64 * ADDS);
}

#[repr(C, align(64))]
struct TlsBlock {
    self_pointer: usize,
    seen: AtomicUsize,
    tid: AtomicI32,
}

unsafe extern "C" fn report_thread_pointer(block: *mut c_void) -> i32 {
    // SAFETY: block is this child's own TlsBlock, alive until it is joined.
    let block = unsafe { &*(block as *const TlsBlock) };
    block.seen.store(clonelab::arch::thread_pointer(), SeqCst);
    0
}

/// With CLONE_SETTLS each of 64 threads runs on its own TLS block.
#[test]
fn each_thread_has_its_own_tls() {
    let mut blocks: Vec<Box<TlsBlock>> = (0..CHILDREN)
        .map(|_| {
            Box::new(TlsBlock {
                self_pointer: 0,
                seen: AtomicUsize::new(0),
                tid: AtomicI32::new(0),
            })
        })
        .collect();
    for block in blocks.iter_mut() {
        block.self_pointer = &**block as *const TlsBlock as usize;
    }
    let stacks: Vec<Stack> = (0..CHILDREN)
        .map(|_| Stack::new(common::STACK).unwrap())
        .collect();
    let flags = THREAD_FLAGS | F::CLONE_SETTLS | F::CLONE_PARENT_SETTID | F::CLONE_CHILD_CLEARTID;
    let word = FlagsWord::new(flags, ExitSignal::NONE);
    for (block, stack) in blocks.iter().zip(&stacks) {
        let tid = block.tid.as_ptr();
        // What CLONE_SETTLS takes on this arch (on i386 a user_desc describing the block).
        let tls = clonelab::arch::TlsArgument::new(block.self_pointer);
        // SAFETY: each thread gets its own stack and TLS block, both alive until
        // the CLEARTID join below; it only reads its thread pointer.
        let result = unsafe {
            clone(
                word,
                stack.top(),
                tid,
                tid,
                tls.value(),
                report_thread_pointer,
                block.self_pointer as *mut c_void,
            )
        };
        if common::qemu_user_cannot(&result, "CLONE_SETTLS threads") {
            return;
        }
        result.unwrap();
    }
    for block in &blocks {
        // Join: the kernel zeroes `tid` and wakes the futex when the thread is gone.
        loop {
            let tid = block.tid.load(SeqCst);
            if tid == 0 {
                break;
            }
            let _ = sys::futex_wait(&block.tid, tid);
        }
        assert_eq!(
            block.seen.load(SeqCst),
            block.self_pointer,
            "a thread saw another TLS block"
        );
    }
    let mut seen: Vec<usize> = blocks.iter().map(|b| b.seen.load(SeqCst)).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), CHILDREN, "thread pointers are not all distinct");
}
