//! # CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP, CLONE_NEWTIME: new namespaces by identity.
//!
//! Chapter: `docs/namespaces.md`. Experiment: `clonelab::experiments::namespaces`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.

use crate::common;

use clonelab::experiments::namespaces::{self, Observed};
use clonelab::WaitStatus;

fn check(o: Observed) {
    assert_ne!(o.child_ns, o.parent_ns, "{}: same namespace", o.kind);
    assert_ne!(
        o.child_ns,
        (0, 0),
        "{}: the child could not stat its handle",
        o.kind
    );
    if let Some(effect) = o.effect {
        assert!(
            effect.held,
            "{}: {}: {}",
            o.kind, effect.claim, effect.evidence
        );
    }
    assert!(
        o.same_kernel,
        "{}: the child reads another boot_id: not the same kernel",
        o.kind
    );
    assert_eq!(o.status, WaitStatus::Exited(0));
}

/// CLONE_NEWUTS: another UTS namespace; the child's hostname change stays in it.
#[test]
fn newuts_hostname_stays_in_child() {
    check(observed!(namespaces::uts, "CLONE_NEWUTS"));
}

/// CLONE_NEWIPC: another IPC namespace.
#[test]
fn newipc_gives_another_namespace() {
    check(observed!(namespaces::ipc, "CLONE_NEWIPC"));
}

/// CLONE_NEWCGROUP: another cgroup namespace rooted at the child's cgroup.
/// The child reads its cgroup as `0::/` while its parent reads the same
/// cgroup as a path below the root (the experiment makes the child from a
/// helper in a sub-cgroup): a child at the root of the whole tree would read
/// `0::/` without the flag too. As root with cgroup v2 mounted (the VMs) it
/// must run; elsewhere it may say `skipped: <reason>`.
#[test]
fn newcgroup_child_sees_itself_at_root() {
    let o = observed!(namespaces::cgroup, "CLONE_NEWCGROUP");
    if let Some(why) = o.skipped {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let cgroup2 = mountinfo.lines().any(|l| l.contains(" - cgroup2 "));
        assert!(
            clonelab::sys::geteuid() != 0 || !cgroup2,
            "as root with cgroup v2 mounted the cgroup experiment must run, yet: {why}"
        );
        return; // observe_traced has said `skipped: <reason>`
    }
    let views = o.cgroup.expect("the cgroup experiment reads both views");
    let (outside, inside) = (views.from_parent.as_bytes(), views.from_child.as_bytes());
    assert_eq!(
        String::from_utf8_lossy(inside),
        "/",
        "the child's own view of its cgroup"
    );
    assert!(
        !outside.is_empty() && outside != b"/",
        "from outside, the child's cgroup must not be the root, or 0::/ inside proves nothing: 0::{}",
        String::from_utf8_lossy(outside)
    );
    if let Some(sub) = views.sub_cgroup {
        assert!(
            outside.ends_with(sub.as_bytes()),
            "the child was made in {}, its parent reads 0::{}",
            String::from_utf8_lossy(sub.as_bytes()),
            String::from_utf8_lossy(outside)
        );
    }
    check(o);
}

/// CLONE_NEWTIME: clone3 only; another time namespace.
#[test]
fn newtime_needs_clone3() {
    if !common::kernel_has_time_namespaces() {
        common::skip("this kernel has no time namespaces (no /proc/self/ns/time; CONFIG_TIME_NS)");
        return;
    }
    let o = observed!(namespaces::time, "clone3 with CLONE_NEWTIME");
    let [by_clone3, by_clone] = [0, 1].map(|i| o.calls.get(i).unwrap());
    assert_eq!(by_clone3.call.syscall, Some(clonelab::Syscall::Clone3));
    // clone(CLONE_NEWTIME | SIGCHLD) loads 0x91: the kernel reads exit signal
    // 145, accepts the call (a child, not EINVAL) and makes no time namespace.
    // The flags register (arg1; on s390x arg2, after the stack).
    let flags = clonelab::RegisterImage::of(&by_clone.call)
        .registers()
        .iter()
        .find(|r| matches!(r.role, clonelab::abi::Role::Flags(_)))
        .map(|r| r.value);
    assert_eq!(flags, Some(0x91));
    assert!(
        by_clone.result > 0,
        "clone(0x91) was refused: {}",
        by_clone.result
    );
    let c = o.clone_0x91.expect("the clone() half ran");
    assert!(c.accepted && c.child_in_our_time_ns, "{c:?}");
    assert_eq!(c.status, Some(WaitStatus::Exited(0)));
    check(o);
}
