//! # CLONE_INTO_CGROUP: clone3 places the child in a cgroup.
//!
//! Chapter: `docs/into_cgroup.md`. Experiment: `clonelab::experiments::into_cgroup`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: the child's `/proc/self/cgroup` reads `0::/clonelab-<pid>`; a
//! clone3 into a cgroup that hands the memory controller to its children is
//! EBUSY. That case first makes our own cgroup hand memory down; where it
//! cannot, the skip names the errno that write returned and what it means.

use crate::common;

use clonelab::experiments::into_cgroup::{ebusy, observe, Failed};
use clonelab::Errno;
use clonelab::WaitStatus;

/// The child is in the new cgroup from its first instruction.
#[test]
fn child_starts_in_the_chosen_cgroup() {
    let o = observed!(observe, "clone3 with CLONE_INTO_CGROUP");
    assert!(o.child_in_cgroup);
    assert_eq!(o.status, WaitStatus::Exited(0));
}

/// EBUSY: clone3 CLONE_INTO_CGROUP into a cgroup that has a domain controller
/// (memory) enabled for its children — cgroup v2's "no internal processes"
/// rule. (A threaded controller such as pids does not count: such a cgroup may
/// still become a thread root, and the kernel lets the child in.)
#[test]
fn into_cgroup_with_controllers_for_children_is_ebusy() {
    let o = observed!(ebusy, "clone3 with CLONE_INTO_CGROUP");
    if let Some(why) = o.skipped {
        // Reported by observe_traced; the reason is what the write returned.
        if let Some(failed) = o.delegate {
            assert_eq!(why.as_str(), failed.skip_reason().as_str());
        }
        return;
    }
    assert_eq!(o.errno, Some(Errno::EBUSY));
    assert_eq!(o.calls.get(0).unwrap().errno(), Some(Errno::EBUSY));
}

/// Each reason the EBUSY case can give for a skip fits its label whole, and
/// names the errno the write returned and what it means.
#[test]
fn every_skip_reason_is_whole() {
    let errnos = [
        Errno::ENOENT,
        Errno::EINVAL,
        Errno::EBUSY,
        Errno::EOPNOTSUPP,
        Errno::EACCES,
        Errno::EPERM,
        Errno::ENODEV,
        Errno::EIO,
        Errno::from_raw(4000),
    ];
    for errno in errnos {
        for failed in [Failed::Open(errno), Failed::Write(errno)] {
            let why = failed.skip_reason();
            assert!(!why.is_cut(), "{why}");
            let name = errno
                .name()
                .map_or(format!("errno {}", errno.raw()), String::from);
            assert!(why.as_str().contains(&name), "{why}");
            assert!(why.as_str().ends_with(failed.meaning()), "{why}");
        }
    }
    assert!(Failed::Write(Errno::EBUSY)
        .meaning()
        .contains("holds processes"));
}
