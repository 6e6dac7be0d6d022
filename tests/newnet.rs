//! # CLONE_NEWNET: what a new network namespace holds.
//!
//! Chapter: `docs/newnet.md`. Experiment: `clonelab::experiments::newnet`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! The tutorial's experiment calls `socket()` in the child and reports success:
//! that proves nothing, sockets work in every namespace. Asserted instead: the
//! inode of `/proc/self/ns/net` differs between parent and child, the child's
//! `/proc/self/net/dev` lists exactly one interface, `lo`, and SIOCGIFFLAGS
//! says it is down.

use crate::common;

use clonelab::experiments::newnet::observe;
use clonelab::WaitStatus;

/// Another namespace: other inode, only `lo`, and `lo` down.
#[test]
fn new_network_namespace_has_only_lo_down() {
    let o = observed!(observe, "CLONE_NEWNET");
    assert_ne!(o.child_ns, o.parent_ns, "same network namespace inode");
    assert_eq!(o.child_interfaces, 1);
    assert!(o.child_has_lo);
    assert!(!o.child_lo_up, "lo starts down in a new namespace");
    assert_eq!(o.status, WaitStatus::Exited(0));
}
