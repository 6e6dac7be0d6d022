//! # CLONE_NEWNS: a mount the child makes stays in its namespace.
//!
//! Chapter: `docs/newns.md`. Experiment: `clonelab::experiments::newns`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! The child gets a *copy* of the mount table. Copies of shared mounts stay in
//! the same peer group, so the child first makes `/` recursively private, then
//! mounts a tmpfs. Asserted from `/proc/self/mountinfo`: the child's lists the
//! mount point, the parent's does not; the child's `/` is the parent's.
//! Propagation, in a sandbox: a child's mount under a shared mount reaches its
//! parent; not once made private; not from a less privileged mount namespace.

use crate::common;

use clonelab::experiments::newns::{observe, propagation};
use clonelab::WaitStatus;

/// The child's tmpfs is in the child's mountinfo and not in the parent's.
#[test]
fn mount_in_child_is_invisible_to_parent() {
    let o = observed!(observe, "CLONE_NEWNS");
    assert!(o.child_sees_mount);
    assert!(!o.parent_sees_mount);
    assert!(
        o.same_root,
        "a mount namespace alone does not change the root"
    );
    assert_eq!(o.status, WaitStatus::Exited(0));
}

/// Propagation, in a sandbox: a child's mount under a shared mount reaches the
/// parent's namespace; not once the child made it private; not when the
/// child's mount namespace is owned by a new user namespace (its copies of
/// shared mounts are slaves).
#[test]
fn propagation_follows_the_mount_not_the_flag() {
    let o = observed!(propagation, "CLONE_NEWNS in a sandbox");
    if o.skipped.is_some() {
        return;
    }
    assert_eq!(o.mounted, [true; 3], "every child's mount succeeded");
    assert_eq!(o.seen_by_parent, [Some(true), Some(false), Some(false)]);
}
