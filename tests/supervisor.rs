//! A program built on clonelab alone (examples/supervisor.rs, no libc) can
//! install a signal handler, signal and reap a child through its pidfd, and
//! enter and leave namespaces: each step's observation is checked here.

#[path = "../examples/supervisor.rs"]
mod program;

use crate::common;

use clonelab::{Signal, WaitStatus};

/// The handler runs and names the child as sender; SIGTERM through the
/// pidfd ends the child, and the status says so.
#[test]
fn handler_runs_and_pidfd_signal_reaps_the_child() {
    let seen = program::signals().unwrap();
    assert!(seen.handler_ran, "{seen:?}");
    assert_eq!(seen.sender, seen.child, "si_pid names the child");
    assert_eq!(
        seen.status,
        WaitStatus::Signaled {
            signal: Signal::SIGTERM.number(),
            core_dumped: false
        }
    );
}

/// setns enters the child's UTS namespace (its hostname shows) and returns
/// to ours (ours shows again); unshare does the same for a namespace of our own.
#[test]
fn namespaces_are_entered_and_left() {
    let Some(seen) = program::namespaces().unwrap() else {
        return common::skip("CLONE_NEWUTS needs CAP_SYS_ADMIN");
    };
    assert_eq!(seen.in_child_namespace, "child-box", "{seen:?}");
    assert_eq!(seen.after_setns, seen.before, "{seen:?}");
    assert_eq!(
        seen.child_status,
        WaitStatus::Signaled {
            signal: Signal::SIGKILL.number(),
            core_dumped: false
        }
    );
    assert_eq!(seen.in_unshared, "unshared", "{seen:?}");
    assert_eq!(seen.after_unshare, seen.before, "{seen:?}");
}
