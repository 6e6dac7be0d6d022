//! # CLONE_PARENT_SETTID, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID.
//!
//! Chapter: `docs/tids.md`. Experiment: `clonelab::experiments::tids`.
//! The calls it makes (flags, both arches' registers) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: `ptid` holds the child's tid the moment clone returns; the child's
//! first read of `ctid` is its own tid; `ctid` is 0 after it exits.

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
