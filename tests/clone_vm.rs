//! # CLONE_VM: does the parent see what the child writes?
//!
//! Chapter: `docs/clone_vm.md`. Experiment: `clonelab::experiments::clone_vm`.
//! The calls it makes (flags, both arches' registers) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: the CLONE_VM child's store is the parent's to read; a fork-like
//! child's store stays in its copy; kcmp(KCMP_VM) says "same" and "different".

use crate::common;

use clonelab::experiments::clone_vm::{observe, WRITTEN};
use clonelab::WaitStatus;

/// The parent reads the CLONE_VM child's write; it does not read the fork-like child's.
#[test]
fn clone_vm_shares_memory_and_fork_does_not() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD");
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
}
