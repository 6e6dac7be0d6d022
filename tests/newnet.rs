//! # CLONE_NEWNET: what a new network namespace holds.
//!
//! Chapter: `docs/newnet.md`. Experiment: `clonelab::experiments::newnet`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! The tutorial's experiment calls `socket()` in the child and reports success:
//! that proves nothing, sockets work in every namespace. Asserted instead: the
//! inode of `/proc/self/ns/net` differs between parent and child; the child's
//! `/proc/self/net/dev` lists `lo`, SIOCGIFINDEX gives it index 1 and
//! SIOCGIFFLAGS says it is down; and none of the parent's interfaces that are
//! up (other than `lo`) is in the child's list.
//!
//! Not asserted: that `lo` is the only interface. Where tunnel modules are
//! loaded (ipip, sit, ip6_tunnel, gre), every new namespace also gets their
//! fallback devices (`tunl0`, `sit0`, ...) unless
//! `net.core.fb_tunnels_only_for_init_net=1`.

use crate::common;

use clonelab::experiments::newnet::{observe, LOOPBACK_INDEX};
use clonelab::WaitStatus;

/// Another namespace: other inode, its own `lo` (index 1, down), and none of
/// our working interfaces.
#[test]
fn new_network_namespace_has_its_own_lo_down() {
    let o = observed!(observe, "CLONE_NEWNET");
    assert_ne!(o.child_ns, o.parent_ns, "same network namespace inode");
    assert!(
        o.child_interfaces.contains(b"lo"),
        "no lo in the child's list: {:?}",
        o.child_interfaces
    );
    assert_eq!(o.child_lo_index, Ok(LOOPBACK_INDEX), "lo is interface 1");
    assert!(!o.child_lo_up, "lo starts down in a new namespace");
    assert!(
        o.child_interfaces.is_complete(),
        "the child's list was cut: {:?}",
        o.child_interfaces
    );
    for ours in o.parent_up.iter() {
        assert!(
            !o.child_interfaces.contains(ours),
            "our interface {:?}, up, is in the child's list {:?}",
            String::from_utf8_lossy(ours),
            o.child_interfaces
        );
    }
    assert!(
        o.parent_up_in_child.is_empty(),
        "{:?}",
        o.parent_up_in_child
    );
    assert_eq!(o.status, WaitStatus::Exited(0));
}
