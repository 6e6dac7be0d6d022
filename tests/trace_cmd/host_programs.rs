//! Real programs of the host, traced: a shell's background job, a Python
//! thread, `unshare --fork --pid`. Skipped, visibly, where the program is
//! missing (the test VMs hold only the test binaries).
//!
//! Part of `tests/trace_cmd/`. Uses serde_json, libc's signal numbers,
//! clonelab, and std.

use super::common::skip;
use super::run::{clone_arg, flag, trace_json, u64_of, LIMIT};

fn have(program: &str) -> bool {
    std::path::Path::new(program).exists()
}

/// A shell's `&` is one glibc fork: clone(CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD)
/// with a child_tid pointer. Skipped, visibly, where there is no /bin/sh (the test VMs).
#[test]
fn shell_background_job_is_glibc_fork() {
    if !have("/bin/sh") {
        skip("no /bin/sh here");
        return;
    }
    let t = trace_json(&["/bin/sh", "-c", "true & wait"], "", LIMIT);
    assert_eq!(t.code, Some(0), "{}", t.stderr);
    let forks: Vec<_> = t
        .calls()
        .into_iter()
        .filter(|c| {
            u64_of(&c["flags"]) == flag("CLONE_CHILD_SETTID") | flag("CLONE_CHILD_CLEARTID")
                && u64_of(&c["exit_signal"]) == libc::SIGCHLD as u64
        })
        .collect();
    assert_eq!(forks.len(), 1, "one glibc fork for `&`: {:?}", t.records);
    assert_ne!(clone_arg(forks[0], "child_tid"), 0, "ctid is passed");
    assert_eq!(clone_arg(forks[0], "tls"), 0);
}

/// A Python thread is one clone3 with CLONE_THREAD (glibc's pthread_create).
/// Skipped, visibly, where there is no python3 (the test VMs).
#[test]
fn python_thread_is_clone3_with_clone_thread() {
    if !have("/usr/bin/python3") {
        skip("no /usr/bin/python3 here");
        return;
    }
    let t = trace_json(
        &[
            "/usr/bin/python3",
            "-c",
            "import threading; t = threading.Thread(target=print); t.start(); t.join()",
        ],
        "",
        LIMIT,
    );
    assert_eq!(t.code, Some(0), "{}", t.stderr);
    let threads: Vec<_> = t
        .calls()
        .into_iter()
        .filter(|c| c["syscall"] == "clone3" && u64_of(&c["flags"]) & flag("CLONE_THREAD") != 0)
        .collect();
    assert_eq!(threads.len(), 1, "{:?}", t.records);
    assert_eq!(threads[0]["new_task"]["kind"], "thread");
    assert_ne!(u64_of(&threads[0]["clone_args"]["tls"]), 0);
}

/// util-linux's `unshare --fork --pid` forks into a new pid namespace without
/// CLONE_NEWPID in the call. Skipped, visibly, without util-linux (the test
/// VMs) or root.
#[test]
fn unshare_fork_pid_needs_no_clone_newpid() {
    if !have("/usr/bin/unshare") || clonelab::sys::geteuid() != 0 {
        skip("no /usr/bin/unshare here, or not root");
        return;
    }
    let t = trace_json(&["/usr/bin/unshare", "--fork", "--pid", "true"], "", LIMIT);
    assert_eq!(t.code, Some(0), "{}", t.stderr);
    let into_new_pid_ns = t.calls().into_iter().any(|c| {
        c["new_task"]["new_namespaces"] == serde_json::json!(["pid"])
            && u64_of(&c["flags"]) & flag("CLONE_NEWPID") == 0
    });
    assert!(into_new_pid_ns, "{:?}", t.records);
}
