//! # CLONE_SIGHAND and CLONE_CLEAR_SIGHAND: one handler table, or a reset one.
//!
//! Chapter: `docs/signals.md`. Experiment: `clonelab::experiments::signals`.
//! Changes (and restores) the process's SIGUSR2 disposition: alone in its
//! process (the suite runs each module in a process of its own).
//! The calls it makes (flags, registers on all six arches) are rendered in
//! the chapter from its record; `common::observe_traced` checks each against
//! ptrace.
//!
//! Asserted, part 1: the parent ignores SIGUSR2 (SIG_IGN), a CLONE_VM child
//! installs a handler that counts its runs, and the parent sends itself
//! SIGUSR2. The child's handler runs in the parent exactly once when the
//! child was cloned with CLONE_SIGHAND (one shared table), and 0 times when
//! it was cloned with CLONE_VM alone (the parent's own table still says
//! SIG_IGN). Part 2: the parent installs a handler; a fork-like clone3 child
//! sees that handler, and sees SIG_DFL (0) when cloned with
//! CLONE_CLEAR_SIGHAND. Every child exits 0.

use crate::common;

use clonelab::experiments::signals::observe;

/// Shared table with CLONE_SIGHAND; handlers reset with CLONE_CLEAR_SIGHAND.
#[test]
fn handlers_are_shared_or_cleared() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD, and clone3");
    assert_eq!(
        o.with_sighand, 1,
        "with CLONE_SIGHAND the handler the child installed runs once in the parent"
    );
    assert_eq!(
        o.without_sighand, 0,
        "with CLONE_VM alone the child's handler never runs in the parent, whose table still says SIG_IGN"
    );
    assert_eq!(
        o.child_saw.0, o.handler,
        "a fork-like clone3 child inherits the parent's handler"
    );
    assert_eq!(
        o.child_saw.1, 0,
        "CLONE_CLEAR_SIGHAND resets the child's handler to SIG_DFL (0)"
    );
    assert!(o.children_ok, "every child exited with status 0");
}
