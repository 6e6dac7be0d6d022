//! # CLONE_NEWPID: the child is PID 1 of a new namespace.
//!
//! Chapter: `docs/newpid.md`. Experiment: `clonelab::experiments::newpid`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: `getpid() == 1` and `getppid() == 0` in the child; clone returns
//! an ordinary pid (> 1) in the parent; `/proc/self` in the child first names
//! that *outer* pid (the old procfs belongs to the parent's namespace: that is
//! what `ps` would list) and names 1 once the child mounts its own procfs.

use crate::common;

use clonelab::experiments::newpid::observe;
use clonelab::WaitStatus;

/// Inside: pid 1, ppid 0; /proc shows the outer pid until remounted.
#[test]
fn child_is_pid_one_and_proc_needs_a_remount() {
    let o = observed!(observe, "CLONE_NEWPID");
    assert_eq!(o.getpid_inside, 1);
    assert_eq!(o.getppid_inside, 0);
    assert!(o.pid_outside > 1);
    assert_eq!(
        o.proc_self_before, o.pid_outside as u64,
        "old /proc names the outer pid"
    );
    assert_eq!(o.proc_self_after, 1, "a fresh /proc names the inner pid");
    assert_eq!(o.status, WaitStatus::Exited(0));
}
