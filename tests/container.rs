//! # The capstone: `clonelab container`, one clone3 call, checked from inside and out.
//!
//! Chapter: `docs/container.md`. Each test runs the `clonelab` binary as
//! `clonelab container [options] -- clonelab container-probe ...` — the probe
//! is the clonelab binary itself, bound read-only into the container at
//! `/clonelab` — and asserts on what the probe prints and on the host afterwards.
//!
//! The call: clone3 (number 435 on every arch), `&clone_args` and 88 in the
//! first two argument registers (rdi and rsi on x86_64, x0 and x1 on aarch64;
//! docs/abi.md has all six arches); `clone_args.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET |
//! CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP` (`0x6e020000`, plus
//! `CLONE_NEWUSER` unprivileged and `CLONE_INTO_CGROUP` with limits),
//! `exit_signal = SIGCHLD`.

use crate::common;

use std::process::Command;

/// Run a container around the probe; returns (exit code, stdout, stderr).
fn container(options: &[&str], probe: &[&str]) -> Option<(i32, String, String)> {
    if clonelab::sys::geteuid() != 0 {
        common::skip("the container tests run as root (an unprivileged run needs user namespaces and a delegated cgroup)");
        return None;
    }
    if common::under_qemu_user() {
        common::skip("qemu-user cannot create namespaces");
        return None;
    }
    let bin = common::clonelab_binary();
    let bind = format!("{bin}:/clonelab");
    let output = Command::new(&bin)
        .arg("container")
        .args(["--bind", &bind])
        .args(options)
        .args(["--", "/clonelab", "container-probe"])
        .args(probe)
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    );
    println!("{out}{err}");
    Some((output.status.code().unwrap_or(-1), out, err))
}

fn host_mounts_mention(text: &str) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .contains(text)
}

/// Inside: an init with pid 1 (CMD is its child, pid 2), the requested hostname, only its own processes, only lo (up),
/// the host's files out of reach; outside: hostname unchanged, nothing left mounted.
#[test]
fn container_is_isolated() {
    let marker = std::env::temp_dir().join(format!("clonelab-host-marker-{}", std::process::id()));
    std::fs::write(&marker, b"host").unwrap();
    let mut host_name = [0u8; 65];
    let host_name = clonelab::probe::hostname(&mut host_name).unwrap().to_vec();
    let marker_arg = marker.to_str().unwrap().to_string();
    let Some((code, out, err)) = container(
        &["--hostname", "clonelab-box", "--verbose"],
        &["--exists", &marker_arg],
    ) else {
        return;
    };
    let _ = std::fs::remove_file(&marker);
    assert_eq!(code, 0);
    assert!(
        err.contains("pid 1 in the new namespaces"),
        "the container's init is not PID 1: {err}"
    );
    assert!(
        out.contains("pid=2\n"),
        "CMD runs as PID 2, under the init: {out}"
    );
    assert!(out.contains("hostname=clonelab-box\n"));
    assert!(
        out.contains("processes=2\n"),
        "/proc must list only the container's init and the probe"
    );
    assert!(out.contains("interfaces=lo\n"), "only lo");
    assert!(
        out.contains("lo_up=true\n"),
        "lo brought up through netlink"
    );
    assert!(
        out.contains(&format!("exists {marker_arg}=false")),
        "the host's /tmp is reachable after pivot_root"
    );
    let mut after = [0u8; 65];
    assert_eq!(
        clonelab::probe::hostname(&mut after).unwrap(),
        &host_name[..],
        "the host's hostname changed"
    );
    assert!(
        !host_mounts_mention("clonelab-root"),
        "a container mount was left on the host"
    );
}

/// The exit status of CMD becomes the exit status of `clonelab container`.
#[test]
fn exit_status_comes_back() {
    let Some((code, _, _)) = container(&[], &["--exit", "7"]) else {
        return;
    };
    assert_eq!(code, 7);
}

/// --pids 5: the container's init and the probe count, so the fourth fork fails
/// with EAGAIN; --memory shows in memory.max; the cgroup is gone afterwards.
#[test]
fn cgroup_limits_apply() {
    let Some((code, out, err)) = container(
        &["--pids", "5", "--memory", "67108864", "--verbose"],
        &["--forks", "6", "--cgroup-file", "memory.max"],
    ) else {
        return;
    };
    if code == 125 && err.contains("cannot enable") {
        common::skip(
            "cgroup v2 has no memory/pids controller to delegate here (a v1/v2 hybrid host)",
        );
        return;
    }
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("fork 4 failed=EAGAIN"),
        "pids.max = 5 must stop the fourth fork: {out}"
    );
    assert!(out.contains("memory.max=67108864"), "{out}");
    assert!(
        err.contains("CLONE_INTO_CGROUP") || err.contains("cgroup.procs"),
        "{err}"
    );
    let root = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!root.contains("clonelab-container-"));
}

/// As real root, --uid-map maps the container's ids as given (here 0 -> 1000):
/// inside, the probe runs as uid 0; its file ownership maps outside to 1000.
#[test]
fn uid_map_passthrough_as_root() {
    let Some((code, out, err)) = container(&["--uid-map", "0:1000:1", "--verbose"], &[]) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("uid and gid map \"0 1000 1\""), "{err}");
    assert!(err.contains("CLONE_NEWUSER"), "{err}");
    assert!(out.contains("pid=2"), "{out}");
}
