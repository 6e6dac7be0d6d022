//! # CLONE_NEWNS: a mount the child makes stays in its namespace.
//!
//! Chapter: `docs/newns.md`. Experiment: `clonelab::experiments::newns`.
//!
//! Flags word: `CLONE_NEWNS | SIGCHLD` = `0x20000 | 0x11` = **`0x20011`**
//! (`| 0x10000000` CLONE_NEWUSER when not root). Fork-like: stack 0.
//!
//! | arg    | x86_64 | aarch64 | value       |
//! |--------|--------|---------|-------------|
//! | number | rax    | x8      | 56 / 220    |
//! | flags  | rdi    | x0      | 0x20011     |
//! | stack  | rsi    | x1      | 0           |
//! | others | rdx, r10, r8 | x2, x4, x3 | 0 |
//!
//! The child gets a *copy* of the mount table. Copies of shared mounts stay in
//! the same peer group, so the child first makes `/` recursively private, then
//! mounts a tmpfs. Asserted from `/proc/self/mountinfo`: the child's lists the
//! mount point, the parent's does not.

mod common;

use clonelab::experiments::newns::observe;
use clonelab::WaitStatus;

/// The child's tmpfs is in the child's mountinfo and not in the parent's.
#[test]
fn mount_in_child_is_invisible_to_parent() {
    let Some(o) = common::observe_traced(observe, "CLONE_NEWNS") else {
        return;
    };
    assert!(o.child_sees_mount);
    assert!(!o.parent_sees_mount);
    assert_eq!(o.status, WaitStatus::Exited(0));
}
