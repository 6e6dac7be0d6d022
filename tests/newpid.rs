//! # CLONE_NEWPID: the child is PID 1 of a new namespace.
//!
//! Chapter: `docs/newpid.md`. Experiment: `clonelab::experiments::newpid`.
//!
//! Flags word: `CLONE_NEWPID | CLONE_NEWNS | SIGCHLD` =
//! `0x20000000 | 0x20000 | 0x11` = **`0x20020011`** (plus CLONE_NEWUSER
//! `0x10000000` when not root). Fork-like: no stack (`0`), the child runs on
//! its copy of the parent's stack.
//!
//! | arg    | x86_64 | aarch64 | value        |
//! |--------|--------|---------|--------------|
//! | number | rax    | x8      | 56 / 220     |
//! | flags  | rdi    | x0      | 0x20020011   |
//! | stack  | rsi    | x1      | 0            |
//! | others | rdx, r10, r8 | x2, x4, x3 | 0  |
//!
//! Asserted: `getpid() == 1` and `getppid() == 0` in the child; clone returns
//! an ordinary pid (> 1) in the parent; `/proc/self` in the child first names
//! that *outer* pid (the old procfs belongs to the parent's namespace: that is
//! what `ps` would list) and names 1 once the child mounts its own procfs.

mod common;

use clonelab::experiments::newpid::observe;
use clonelab::WaitStatus;

/// Inside: pid 1, ppid 0; /proc shows the outer pid until remounted.
#[test]
fn child_is_pid_one_and_proc_needs_a_remount() {
    let Some(o) = common::observe_traced(observe, "CLONE_NEWPID") else {
        return;
    };
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
