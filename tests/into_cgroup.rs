//! # CLONE_INTO_CGROUP: clone3 places the child in a cgroup.
//!
//! Chapter: `docs/into-cgroup.md`. Experiment: `clonelab::experiments::into_cgroup`.
//!
//! clone3 only: `clone_args.flags = CLONE_INTO_CGROUP = 0x200000000` (bit 33),
//! `clone_args.cgroup = fd of the cgroup directory`, `exit_signal = 17`.
//! Registers: rax/x8 = 435, rdi/x0 = &clone_args, rsi/x1 = 88.
//!
//! Asserted: the child's `/proc/self/cgroup` reads `0::/clonelab-<pid>`.

mod common;

use clonelab::experiments::into_cgroup::observe;
use clonelab::WaitStatus;

/// The child is in the new cgroup from its first instruction.
#[test]
fn child_starts_in_the_chosen_cgroup() {
    let Some(o) = common::observe_traced(observe, |o| o.call, "clone3 with CLONE_INTO_CGROUP")
    else {
        return;
    };
    println!("{o}");
    assert!(o.child_in_cgroup);
    assert_eq!(o.status, WaitStatus::Exited(0));
}
