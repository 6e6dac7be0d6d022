//! # CLONE_INTO_CGROUP: clone3 places the child in a cgroup.
//!
//! Chapter: `docs/into_cgroup.md`. Experiment: `clonelab::experiments::into_cgroup`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: the child's `/proc/self/cgroup` reads `0::/clonelab-<pid>`.

use crate::common;

use clonelab::experiments::into_cgroup::{ebusy, observe};
use clonelab::Errno;
use clonelab::WaitStatus;

/// The child is in the new cgroup from its first instruction.
#[test]
fn child_starts_in_the_chosen_cgroup() {
    let o = observed!(observe, "clone3 with CLONE_INTO_CGROUP");
    assert!(o.child_in_cgroup);
    assert_eq!(o.status, WaitStatus::Exited(0));
}

/// EBUSY: clone3 CLONE_INTO_CGROUP into a cgroup that has a domain controller
/// (memory) enabled for its children — cgroup v2's "no internal processes"
/// rule. (A threaded controller such as pids does not count: such a cgroup may
/// still become a thread root, and the kernel lets the child in.)
#[test]
fn into_cgroup_with_controllers_for_children_is_ebusy() {
    let o = observed!(ebusy, "clone3 with CLONE_INTO_CGROUP");
    if o.skipped.is_some() {
        return; // reported by observe_traced
    }
    assert_eq!(o.errno, Some(Errno::EBUSY));
    assert_eq!(o.calls.get(0).unwrap().errno(), Some(Errno::EBUSY));
}
