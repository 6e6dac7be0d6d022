//! # CLONE_PIDFD: a descriptor for the child.
//!
//! Chapter: `docs/pidfd.md`. Experiment: `clonelab::experiments::pidfd`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: the pidfd's fdinfo names the child's pid, and `waitid(P_PIDFD)`
//! returns the child's exit status.

use crate::common;

use clonelab::experiments::pidfd::{observe, CODE};
use clonelab::WaitStatus;

/// The pidfd names the child and reaps it.
#[test]
fn pidfd_names_and_reaps_the_child() {
    let o = observed!(observe, "CLONE_PIDFD");
    assert_ne!(
        o.calls.get(0).unwrap().call.parent_tid,
        0,
        "clone() carries the pidfd pointer in parent_tid"
    );
    assert_eq!(o.fdinfo_pid, Some(o.pid as u64));
    assert_eq!(o.status, WaitStatus::Exited(CODE));
}
