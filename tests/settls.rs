//! # CLONE_SETTLS: the child's thread pointer is the tls argument.
//!
//! Chapter: `docs/settls.md`. Experiment: `clonelab::experiments::settls`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: the child's thread pointer (x86_64: the self-pointer at `fs:0`;
//! aarch64: `tpidr_el0`) is the block's address; the parent's did not change;
//! without CLONE_SETTLS a child's thread pointer is the parent thread's.

use crate::common;

use clonelab::experiments::settls::observe;
use clonelab::WaitStatus;

/// The child runs with the thread pointer it was given.
#[test]
fn child_thread_pointer_is_tls() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD");
    assert_eq!(o.child_tp, o.block);
    assert_eq!(o.parent_tp.0, o.parent_tp.1);
    assert_ne!(o.parent_tp.0, o.block);
    assert_eq!(
        o.child_tp_without, o.parent_tp.0,
        "without CLONE_SETTLS the child keeps the parent thread's pointer"
    );
    assert_eq!(o.status, WaitStatus::Exited(0));
}
