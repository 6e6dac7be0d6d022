//! # CLONE_VM: does the parent see what the child writes?
//!
//! Chapter: `docs/clone-vm.md`. Experiment: `clonelab::experiments::clone_vm`.
//!
//! Flags word for clone(): `CLONE_VM | SIGCHLD` = `0x100 | 0x11` = **`0x111`**
//!
//! ```text
//!   bit 8  CLONE_VM  0x100
//!   bits 0-7 (signal byte)  0x11 = SIGCHLD (17)
//! ```
//! The scoped API also sets CLONE_SETTLS (0x80000) with tls = 0 — the child
//! must not share the parent thread's TLS — and CLONE_PARENT_SETTID (0x100000)
//! and CLONE_CHILD_CLEARTID (0x200000) for its join word, so the word it
//! passes is `0x380111`.
//!
//! Register image of the call:
//!
//! | arg        | x86_64 | aarch64 | value                      |
//! |------------|--------|---------|----------------------------|
//! | number     | rax    | x8      | 56 (x86_64), 220 (aarch64) |
//! | flags      | rdi    | x0      | 0x380111                   |
//! | stack      | rsi    | x1      | top of a `Stack`, 16-aligned |
//! | parent_tid | rdx    | x2      | &join word                 |
//! | child_tid  | r10    | x4      | &join word                 |
//! | tls        | r8     | x3      | 0                          |
//!
//! The kernel makes a task that shares the caller's `mm_struct`. The child
//! stores 0x5EED in a variable of the parent's; the parent reads 0x5EED. A
//! fork-like child (`0x11`) stores into its copy-on-write copy: the parent reads 0.
//! kcmp(KCMP_VM) says "same" and "different" for the two children.

mod common;

use clonelab::experiments::clone_vm::{observe, WRITTEN};
use clonelab::WaitStatus;

/// The parent reads the CLONE_VM child's write; it does not read the fork-like child's.
#[test]
fn clone_vm_shares_memory_and_fork_does_not() {
    let Some(o) = common::observe_traced(observe, |o| o.call, "CLONE_VM without CLONE_THREAD")
    else {
        return;
    };
    println!("{o}");
    assert_eq!(o.call.word.encode_clone().unwrap() & 0xfff, 0x111);
    assert_eq!(
        o.with_vm, WRITTEN,
        "the parent must see the CLONE_VM child's store"
    );
    assert_eq!(
        o.without_vm, 0,
        "a fork-like child's store must stay in its copy"
    );
    assert_eq!(o.status, (WaitStatus::Exited(0), WaitStatus::Exited(0)));
    assert_ne!(
        o.kcmp_vm.0,
        Some(false),
        "kcmp: CLONE_VM child has another mm"
    );
    assert_ne!(o.kcmp_vm.1, Some(true), "kcmp: fork child shares our mm");
    assert!(o.holds());
}
