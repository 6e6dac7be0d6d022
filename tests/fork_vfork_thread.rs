//! # fork vs vfork vs clone(CLONE_VM) vs a thread, asked of kcmp(2).
//!
//! Chapter: `docs/fork-vfork-thread.md`. Experiment: `clonelab::experiments::fork_vfork_thread`.
//!
//! | shape  | word (clone) | x86_64 rdi / aarch64 x0 | stack (rsi / x1) |
//! |--------|--------------|-------------------------|------------------|
//! | fork   | 0x11         | SIGCHLD                 | 0                |
//! | vfork  | 0x84111      | CLONE_VM\|CLONE_VFORK\|CLONE_SETTLS\|SIGCHLD | stack top |
//! | clone  | 0x80111      | CLONE_VM\|CLONE_SETTLS\|SIGCHLD | stack top |
//! | thread | 0x3d0f00     | THREAD_FLAGS\|SETTLS\|PARENT_SETTID\|CHILD_CLEARTID, signal byte 0 | stack top |
//!
//! For the thread, rdx / x2 (parent_tid) and r10 / x4 (child_tid) both point
//! at the join word; r8 / x3 (tls) is 0. Asserted: the kcmp table in the
//! chapter (memory, fds, fs, handlers), the thread group, that a thread is not
//! waitable (ECHILD) while the others are, and that a vfork parent was suspended.

mod common;

use clonelab::experiments::fork_vfork_thread::{observe, WRITTEN};

/// Each shape shares exactly what its flags say, per the kernel.
#[test]
fn shapes_share_what_their_flags_say() {
    let Some(o) = common::observe_traced(observe, "CLONE_VM without CLONE_THREAD") else {
        return;
    };
    let [fork, vfork, clone, thread] = &o.shapes;
    for (shape, want) in [
        (fork, [false; 4]),
        (vfork, [true, false, false, false]),
        (clone, [true, false, false, false]),
        (thread, [true; 4]),
    ] {
        for (got, w) in shape.shares.iter().zip(want) {
            if let Some(got) = got {
                assert_eq!(*got, w, "{}: {:?}", shape.name, shape.shares);
            }
        }
    }
    assert!(thread.same_thread_group && !fork.same_thread_group && !clone.same_thread_group);
    assert!(fork.waitable && clone.waitable && !thread.waitable);
    assert_eq!(
        o.vfork_reads,
        (WRITTEN, WRITTEN),
        "CLONE_VFORK: the sleeping child's write is there the instant clone returns"
    );
    assert_eq!(
        o.clone_vm_reads,
        (0, WRITTEN),
        "CLONE_VM alone: clone returns while the child sleeps; its write shows after the wait"
    );
    assert!(o.holds());
}
