//! # CLONE_VM: does the parent see what the child writes?
//!
//! Chapter: `docs/clone_vm.md`. Experiment: `clonelab::experiments::clone_vm`.
//! The calls it makes (flags, registers on all six arches) are rendered in the
//! chapter from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: the whole flags word of each call (the scoped path's three added
//! flags, each for its reason); the CLONE_VM child's store is the parent's to
//! read; a fork-like child's store stays in its copy; kcmp(KCMP_VM) says
//! "same" and "different".

use crate::common;

use clonelab::experiments::clone_vm::{observe, WRITTEN};
use clonelab::{CloneFlags as F, ExitSignal, FlagsWord, WaitStatus};

/// The whole flags word of each call: the CLONE_VM child is asked for as
/// `CLONE_VM | SIGCHLD` and the scoped path (`Scope::spawn`) adds
/// CLONE_SETTLS, CLONE_PARENT_SETTID and CLONE_CHILD_CLEARTID: 0x380111. Each
/// added bit is checked against what it is for. The fork-like contrast is
/// SIGCHLD alone, 0x11: `spawn` adds nothing.
#[test]
fn each_call_carries_its_whole_flags_word() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD");
    let (vm, fork) = (o.calls.get(0).unwrap().call, o.calls.get(1).unwrap().call);
    let scoped = F::CLONE_VM | F::CLONE_SETTLS | F::CLONE_PARENT_SETTID | F::CLONE_CHILD_CLEARTID;
    assert_eq!(vm.word, FlagsWord::new(scoped, ExitSignal::SIGCHLD));
    assert_eq!(vm.word.encode_clone().unwrap(), 0x380111, "the whole word");
    assert_eq!(
        fork.word,
        FlagsWord::new(F::EMPTY, ExitSignal::SIGCHLD),
        "the fork-like contrast: SIGCHLD alone"
    );
    assert_eq!(fork.word.encode_clone().unwrap(), 0x11, "the whole word");
    assert_eq!((fork.stack, fork.parent_tid, fork.child_tid), (0, 0, 0));

    // CLONE_SETTLS: the child gets no thread pointer (0; on i386 a
    // descriptor of base 0), so it cannot use the parent thread's TLS.
    #[cfg(not(target_arch = "x86"))]
    assert_eq!(vm.tls, 0, "CLONE_SETTLS with tls 0: no thread pointer");
    // CLONE_PARENT_SETTID and CLONE_CHILD_CLEARTID: one tid word, the scope's
    // record at the top of the child's stack, above stack_top, which the
    // kernel fills before clone returns and clears when the child is gone.
    assert_ne!(vm.parent_tid, 0, "PARENT_SETTID needs a tid word");
    assert_eq!(
        vm.child_tid, vm.parent_tid,
        "CHILD_CLEARTID clears the word PARENT_SETTID filled: the join waits on it"
    );
    assert!(
        vm.parent_tid > vm.stack,
        "the tid word lies in the scope's record above stack_top ({:#x} vs {:#x})",
        vm.parent_tid,
        vm.stack
    );
}

/// The parent reads the CLONE_VM child's write; it does not read the fork-like child's.
#[test]
fn clone_vm_shares_memory_and_fork_does_not() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD");
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
