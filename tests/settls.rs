//! # CLONE_SETTLS: the child's thread pointer is the tls argument.
//!
//! Chapter: `docs/settls.md`. Experiment: `clonelab::experiments::settls`.
//!
//! Word: `CLONE_VM | CLONE_SETTLS | SIGCHLD` = `0x100 | 0x80000 | 0x11` = **`0x80111`**.
//!
//! | arg    | x86_64 | aarch64 | value         |
//! |--------|--------|---------|---------------|
//! | flags  | rdi    | x0      | 0x80111       |
//! | stack  | rsi    | x1      | stack top     |
//! | tls    | **r8** | **x3**  | &block        |
//! | ctid   | r10    | x4      | 0             |
//!
//! Asserted: the child's thread pointer (x86_64: the self-pointer at `fs:0`;
//! aarch64: `tpidr_el0`) is the block's address; the parent's did not change.

mod common;

use clonelab::experiments::settls::observe;
use clonelab::WaitStatus;

/// The child runs with the thread pointer it was given.
#[test]
fn child_thread_pointer_is_tls() {
    let Some(o) = common::observe_traced(observe, "CLONE_VM without CLONE_THREAD") else {
        return;
    };
    assert_eq!(o.child_tp, o.block);
    assert_eq!(o.parent_tp.0, o.parent_tp.1);
    assert_ne!(o.parent_tp.0, o.block);
    assert_eq!(
        o.child_tp_without, o.parent_tp.0,
        "without CLONE_SETTLS the child keeps the parent thread's pointer"
    );
    assert_eq!(o.status, WaitStatus::Exited(0));
}
