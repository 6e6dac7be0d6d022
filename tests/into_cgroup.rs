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

/// EBUSY: clone3 CLONE_INTO_CGROUP into a cgroup that has a domain controller
/// (memory) enabled for its children — cgroup v2's "no internal processes"
/// rule. (A threaded controller such as pids does not count: such a cgroup may
/// still become a thread root, and the kernel lets the child in.)
#[test]
fn into_cgroup_with_controllers_for_children_is_ebusy() {
    use clonelab::{clone3, CloneArgs, Errno};
    if clonelab::sys::geteuid() != 0 || !clonelab::clone3_available() {
        common::skip("needs root and clone3");
        return;
    }
    let Some(own) = clonelab::experiments::into_cgroup::own_cgroup_dir() else {
        common::skip("no cgroup v2 hierarchy is mounted");
        return;
    };
    let parent = String::from_utf8_lossy(own.as_bytes()).into_owned();
    // Our cgroup must offer the memory controller to its children first.
    if std::fs::write(format!("{parent}/cgroup.subtree_control"), "+memory").is_err() {
        common::skip("cgroup v2 here has no memory controller to delegate (a v1/v2 hybrid host)");
        return;
    }
    let busy = format!("{parent}/clonelab-busy-{}", std::process::id());
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(format!("{busy}/cgroup.subtree_control"), "+memory").unwrap();
    let dir = std::fs::File::open(&busy).unwrap();
    let mut args = CloneArgs {
        flags: clonelab::CloneFlags::CLONE_INTO_CGROUP.bits(),
        exit_signal: libc::SIGCHLD as u64,
        cgroup: std::os::fd::AsRawFd::as_raw_fd(&dir) as u64,
        ..clonelab::clone::zeroed_args()
    };
    unsafe extern "C" fn nothing(_: *mut std::ffi::c_void) -> i32 {
        0
    }
    // SAFETY: fork-like; if a child were made it would exit at once (reaped below).
    let result = unsafe {
        clone3(
            &mut args,
            size_of::<CloneArgs>(),
            nothing,
            std::ptr::null_mut(),
        )
    };
    if let Ok(pid) = result {
        let _ = clonelab::sys::wait4(pid, 0);
    }
    drop(dir);
    let _ = std::fs::remove_dir(&busy);
    assert_eq!(result.map_err(|e| e.errno()), Err(Some(Errno::EBUSY)));
}
