//! # CLONE_PARENT: a sibling, not a child.
//!
//! Chapter: `docs/relatives.md`. Experiment: `clonelab::experiments::relatives`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: the child's `getppid()` is our parent's pid, and our `wait4` on
//! it fails with ECHILD; our parent is the ptrace observer (the test process).

use crate::common;

use clonelab::experiments::relatives::observe;
use clonelab::Errno;

/// The child's parent is our parent; we cannot wait for it.
#[test]
fn clone_parent_makes_a_sibling() {
    let o = observed!(observe, "CLONE_PARENT");
    assert_eq!(o.child_parent, o.our_parent);
    assert_eq!(o.our_wait, Err(Errno::ECHILD));
    // The parent a process sees is whoever started it: here the observer
    // (as `sudo` was in the tutorial's `ps` output).
    assert_eq!(o.our_parent, o.tracer, "our parent is the ptrace observer");
}
