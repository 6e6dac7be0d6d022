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
//! The safe scoped API also sets CLONE_SETTLS (0x80000) with tls = 0, so the
//! word it passes is `0x80111`: the child must not share the parent thread's TLS.
//!
//! Register image of the call:
//!
//! | arg        | x86_64 | aarch64 | value                      |
//! |------------|--------|---------|----------------------------|
//! | number     | rax    | x8      | 56 (x86_64), 220 (aarch64) |
//! | flags      | rdi    | x0      | 0x80111                    |
//! | stack      | rsi    | x1      | top of a `Stack`, 16-aligned |
//! | parent_tid | rdx    | x2      | 0                          |
//! | child_tid  | r10    | x4      | 0                          |
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
    let Some(o) = common::observe_traced(observe, "CLONE_VM without CLONE_THREAD") else {
        return;
    };
    let [vm, fork] = [0, 1].map(|i| o.calls.get(i).unwrap().call.word.encode_clone().unwrap());
    assert_eq!(
        (vm & 0xfff, fork),
        (0x111, 0x11),
        "CLONE_VM|SIGCHLD, then SIGCHLD alone"
    );
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
