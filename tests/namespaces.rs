//! # CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP, CLONE_NEWTIME: new namespaces by identity.
//!
//! Chapter: `docs/namespaces.md`. Experiment: `clonelab::experiments::namespaces`.
//!
//! | flag            | clone() word | register (x86_64 / aarch64) |
//! |-----------------|--------------|-----------------------------|
//! | CLONE_NEWUTS    | 0x04000011   | rdi / x0                    |
//! | CLONE_NEWIPC    | 0x08000011   | rdi / x0                    |
//! | CLONE_NEWCGROUP | 0x02000011   | rdi / x0                    |
//! | CLONE_NEWTIME   | (refused: 0x80 is the signal byte) — clone3: `clone_args.flags = 0x80`, `exit_signal = 17`; rdi / x0 = &clone_args, rsi / x1 = 88 |
//!
//! Number register: rax = 56 (clone) or 435 (clone3) on x86_64; x8 = 220 or 435
//! on aarch64. Stack: 0 (fork-like children). Each test asserts the child's
//! `/proc/self/ns/<kind>` (device, inode) differs from the parent's, plus:
//! UTS — the child's `sethostname` leaves the parent's hostname unchanged;
//! cgroup — the child reads `0::/`; time — `clone()` refuses the flag.

mod common;

use clonelab::experiments::namespaces::{self, Observed};
use clonelab::WaitStatus;

fn check(o: Observed) {
    println!("{o}");
    assert_ne!(o.child_ns, o.parent_ns, "{}: same namespace", o.kind);
    assert_ne!(
        o.child_ns,
        (0, 0),
        "{}: the child could not stat its handle",
        o.kind
    );
    if let Some((what, held)) = o.effect {
        assert!(held, "{}: {what}", o.kind);
    }
    assert_eq!(o.status, WaitStatus::Exited(0));
}

/// CLONE_NEWUTS: another UTS namespace; the child's hostname change stays in it.
#[test]
fn newuts_hostname_stays_in_child() {
    if let Some(o) = common::observe_traced(namespaces::uts, |o| o.call, "CLONE_NEWUTS") {
        check(o);
    }
}

/// CLONE_NEWIPC: another IPC namespace.
#[test]
fn newipc_gives_another_namespace() {
    if let Some(o) = common::observe_traced(namespaces::ipc, |o| o.call, "CLONE_NEWIPC") {
        check(o);
    }
}

/// CLONE_NEWCGROUP: another cgroup namespace rooted at the child's cgroup.
#[test]
fn newcgroup_child_sees_itself_at_root() {
    if let Some(o) = common::observe_traced(namespaces::cgroup, |o| o.call, "CLONE_NEWCGROUP") {
        check(o);
    }
}

/// CLONE_NEWTIME: clone3 only; another time namespace.
#[test]
fn newtime_needs_clone3() {
    if let Some(o) =
        common::observe_traced(namespaces::time, |o| o.call, "clone3 with CLONE_NEWTIME")
    {
        assert_eq!(o.call.syscall, Some(clonelab::Syscall::Clone3));
        check(o);
    }
}
