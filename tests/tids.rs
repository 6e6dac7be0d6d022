//! # CLONE_PARENT_SETTID, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID.
//!
//! Chapter: `docs/tids.md`. Experiment: `clonelab::experiments::tids`.
//! The calls it makes (flags, registers on all six arches) are rendered in
//! the chapter from its record; `common::observe_traced` checks each against
//! ptrace.
//!
//! Asserted: `ptid` holds the child's tid the moment clone returns; the child's
//! first read of `ctid` is its own tid; `ctid` is 0 after it exits. And, in the
//! fork-like contrast (no CLONE_VM), where each store lands: PARENT_SETTID in
//! the parent's memory only (the child's copy, made before the store, holds
//! 0); CHILD_SETTID in the child's copy only (the parent's word stays 0: the
//! child stores it itself, in `schedule_tail`). Not asserted: what the parent
//! reads at `ctid` the moment a CLONE_VM clone returns (0 or the tid: a race).

use crate::common;

use clonelab::experiments::tids::observe;
use clonelab::WaitStatus;

/// Each tid word is written when and where its flag says.
#[test]
fn tid_words_are_written_and_cleared() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD");
    assert_eq!(o.parent_tid_at_return, o.pid);
    assert_eq!(o.child_tid_at_start, o.child_gettid);
    assert_eq!(o.child_gettid, o.pid);
    assert_eq!(o.child_tid_after_exit, 0);
    assert_eq!(o.status, WaitStatus::Exited(0));
}

/// Without CLONE_VM each store lands in one copy of memory: PARENT_SETTID's in
/// the parent's (made after the child's copy, so that copy holds 0),
/// CHILD_SETTID's in the child's (the parent's word stays 0).
#[test]
fn settid_stores_land_in_one_copy_each() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD");
    let f = o.fork_like;
    assert_eq!(f.parent_ptid, f.pid, "PARENT_SETTID: the parent's ptid");
    assert_eq!(f.child_ptid, 0, "PARENT_SETTID: the child's copy of ptid");
    assert_eq!(
        f.child_ctid, f.child_gettid,
        "CHILD_SETTID: the child's copy of ctid"
    );
    assert_eq!(f.child_gettid, f.pid);
    assert_eq!(f.parent_ctid, 0, "CHILD_SETTID: the parent's ctid");
    assert_eq!(f.status, WaitStatus::Exited(0));
}
