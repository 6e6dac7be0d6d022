//! Child stacks: sizes, the guard page, and what happens when a child overflows.
//!
//! A [`Stack`] is one anonymous mapping: a PROT_NONE guard page at the low end
//! and `size()` usable bytes above it. clone() takes `top()`, clone3 takes
//! `bottom()` plus `size()`.

use crate::common;

use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord};
use clonelab::{scope, Error, Stack};
use common::{mapping_containing, mappings, qemu_user_cannot, STACK};
use std::hint::black_box;

/// Sizes round up to whole pages; the top is 16-byte aligned; bottom + size = top.
#[test]
fn sizes_round_up_and_top_is_aligned() {
    let _alone = MAPPING.lock().unwrap_or_else(|e| e.into_inner());
    let page = clonelab::stack::page_size();
    // SAFETY: sysconf takes an integer and reads no memory of ours.
    let libc_page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    assert_eq!(page as libc::c_long, libc_page);
    let stack = Stack::new(Stack::MIN_SIZE + 1).unwrap();
    assert_eq!(stack.size(), (Stack::MIN_SIZE + 1).div_ceil(page) * page);
    assert_eq!(stack.top() as usize % 16, 0);
    assert_eq!(stack.bottom() as usize + stack.size(), stack.top() as usize);
}

/// Too small a stack is refused before anything is mapped, naming the minimum.
#[test]
fn tiny_stack_is_refused() {
    let err = Stack::new(100).unwrap_err();
    assert_eq!(
        err,
        Error::StackTooSmall {
            requested: 100,
            minimum: Stack::MIN_SIZE
        }
    );
    assert!(err.to_string().contains("at least"));
}

/// The guard page is mapped PROT_NONE (`---p` in /proc/self/maps), the rest read-write.
#[test]
fn guard_page_is_prot_none() {
    let _alone = MAPPING.lock().unwrap_or_else(|e| e.into_inner());
    let stack = Stack::new(STACK).unwrap();
    let (guard, _) = stack.guard();
    let guard_line = mapping_containing(guard as usize).expect("guard mapped");
    assert!(
        guard_line.split_whitespace().nth(1) == Some("---p"),
        "{guard_line}"
    );
    let usable_line = mapping_containing(stack.bottom() as usize).expect("stack mapped");
    assert!(
        usable_line.split_whitespace().nth(1) == Some("rw-p"),
        "{usable_line}"
    );
}

/// Dropping a Stack unmaps it: no mapping overlaps its range afterwards.
///
/// Each check reads /proc/self/maps once and compares address ranges, not
/// lines: the kernel merges the usable part with an adjacent mapping of the
/// same permissions into one line, and other threads of this process (libtest
/// starts one per test) map their stacks meanwhile, so a line can change
/// between two reads (both seen in the VMs). The module's tests that map
/// stacks hold [`MAPPING`], so no other `Stack`, which would fit the freed
/// range, is mapped there between the drop and the look-up.
#[test]
fn drop_unmaps() {
    let _alone = MAPPING.lock().unwrap_or_else(|e| e.into_inner());
    let stack = Stack::new(STACK).unwrap();
    let (bottom, top) = (stack.bottom() as usize, stack.top() as usize);
    let maps = mappings();
    assert!(
        maps.iter()
            .any(|(start, end, perms)| *start <= bottom && top <= *end && perms.starts_with("rw")),
        "no read-write mapping covers the stack {bottom:#x}-{top:#x}: {maps:#x?}"
    );
    drop(stack);
    let maps = mappings();
    let overlapping: Vec<_> = maps
        .iter()
        .filter(|(start, end, _)| *start < top && bottom < *end)
        .collect();
    assert!(
        overlapping.is_empty(),
        "still mapped after drop: {overlapping:#x?}"
    );
}

/// Held by this module's tests that map or unmap stacks, for [`drop_unmaps`].
static MAPPING: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[inline(never)]
#[allow(unconditional_recursion)] // the guard page is the way out
fn recurse_forever(depth: u64) -> u64 {
    let frame = black_box([depth; 32]); // 256 bytes per frame
    recurse_forever(depth + 1) + frame[7] // not a tail call
}

/// A child that overflows its stack hits the guard page and dies by SIGSEGV;
/// the parent lives, and a canary beside the child's stack is intact.
#[test]
fn overflow_hits_guard_page() {
    let _alone = MAPPING.lock().unwrap_or_else(|e| e.into_inner());
    let canary_before = Stack::new(STACK).unwrap();
    // SAFETY: the canary stack is ours and mapped read-write.
    let canary = unsafe { &mut *(canary_before.top().sub(8) as *mut u64) };
    *canary = 0xC0FFEE;
    let mut stack = Stack::new(STACK).unwrap();
    let word = FlagsWord::new(F::CLONE_VM, ExitSignal::SIGCHLD);
    let recurse = || recurse_forever(0) as i32;
    let status = scope(|s| {
        // SAFETY: the child only recurses (no TLS); that it overflows `stack`
        // is the point: the guard page turns it into a SIGSEGV of the child
        // alone, and it borrows nothing that could be left half-changed.
        let child = unsafe { s.spawn(&mut stack, word, recurse) };
        child.map(|c| c.join())
    });
    if qemu_user_cannot(&status, "CLONE_VM without CLONE_THREAD") {
        return;
    }
    let status = status.unwrap().unwrap();
    assert!(common::killed_by(status, libc::SIGSEGV as u32), "{status}");
    assert_eq!(*canary, 0xC0FFEE);
}
