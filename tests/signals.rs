//! # CLONE_SIGHAND and CLONE_CLEAR_SIGHAND: one handler table, or a reset one.
//!
//! Chapter: `docs/signals.md`. Experiment: `clonelab::experiments::signals`.
//! Changes (and restores) the process's SIGUSR2 disposition: alone in its process (the suite runs each module in a process of its own).
//! The calls it makes (flags, both arches' registers) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: the CLONE_SIGHAND child's `SIG_IGN` is the parent's disposition
//! afterwards, the CLONE_VM-only child's is not; a clone3 child sees the
//! parent's handler unless CLONE_CLEAR_SIGHAND reset it to SIG_DFL.

use crate::common;

use clonelab::experiments::signals::observe;

/// Shared table with CLONE_SIGHAND; handlers reset with CLONE_CLEAR_SIGHAND.
#[test]
fn handlers_are_shared_or_cleared() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD, and clone3");
    assert_eq!(
        o.with_sighand, 1,
        "SIG_IGN set by the child is the parent's too"
    );
    assert_eq!(
        o.without_sighand, 0,
        "without CLONE_SIGHAND the parent keeps SIG_DFL"
    );
    assert_eq!(o.child_saw.0, o.handler, "a child inherits the handler");
    assert_eq!(o.child_saw.1, 0, "CLONE_CLEAR_SIGHAND resets it to SIG_DFL");
    assert!(o.children_ok);
}
