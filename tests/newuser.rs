//! # CLONE_NEWUSER: unmapped, then root inside.
//!
//! Chapter: `docs/newuser.md`. Experiment: `clonelab::experiments::newuser`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: before the parent writes `/proc/<child>/uid_map`, the child's
//! `getuid()` is the overflow uid; after `0 <euid> 1`, it is 0; its CapEff is
//! the full set before and after the map.

use crate::common;

use clonelab::experiments::newuser::observe;
use clonelab::WaitStatus;

/// Overflow uid before the map, uid 0 with capabilities after.
#[test]
fn uid_map_makes_the_child_root_inside() {
    let o = observed!(observe, "CLONE_NEWUSER");
    assert!(o.map_written, "the parent could not write uid_map");
    assert_eq!(o.uid_before, o.overflow_uid);
    assert_eq!(o.uid_after, 0);
    assert!(
        o.caps_before,
        "full capabilities inside from creation, before any map"
    );
    assert!(o.caps_after);
    assert_eq!(o.status, WaitStatus::Exited(0));
}
