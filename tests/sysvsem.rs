//! # CLONE_SYSVSEM: SEM_UNDO adjustments undone at exit, or deferred to the shared list.
//!
//! Chapter: `docs/sysvsem.md`. Experiment: `clonelab::experiments::sysvsem`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: after the child's `semop(+1, SEM_UNDO)` and exit, the semaphore
//! reads 1 with CLONE_SYSVSEM and 0 without; kcmp(KCMP_SYSVSEM) agrees; and
//! the IPC values clonelab types by hand equal libc's.

use crate::common;

use clonelab::experiments::sysvsem::{ipc, observe};
use clonelab::WaitStatus;

/// The IPC values the experiment types by hand (linux-raw-sys has no ipc.h) are libc's.
#[test]
fn ipc_values_match_libc() {
    assert_eq!(ipc::IPC_PRIVATE, libc::IPC_PRIVATE);
    assert_eq!(ipc::IPC_CREAT, libc::IPC_CREAT);
    assert_eq!(ipc::IPC_RMID, libc::IPC_RMID);
    assert_eq!(ipc::GETVAL, libc::GETVAL);
    assert_eq!(i32::from(ipc::SEM_UNDO), libc::SEM_UNDO);
}

/// The undo is deferred with a shared list and applied at the child's exit without.
#[test]
fn sysvsem_shares_the_undo_list() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD");
    assert_eq!(
        o.shared.value_after_exit, 1,
        "with CLONE_SYSVSEM the child's undo must wait for us"
    );
    assert_eq!(
        o.private.value_after_exit, 0,
        "without it the child's exit must undo its +1"
    );
    assert_ne!(o.shared.kcmp, Some(false));
    assert_ne!(o.private.kcmp, Some(true));
    assert_eq!(
        (o.shared.status, o.private.status),
        (WaitStatus::Exited(0), WaitStatus::Exited(0))
    );
}
