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

use std::process::{Command, Stdio};

/// Run a container around the probe; returns (exit code, stdout, stderr,
/// the pid of the `clonelab container` process).
fn container(options: &[&str], probe: &[&str]) -> Option<(i32, String, String, u32)> {
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
    let child = Command::new(&bin)
        .arg("container")
        .args(["--bind", &bind])
        .args(options)
        .args(["--", "/clonelab", "container-probe"])
        .args(probe)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    );
    println!("{out}{err}");
    Some((output.status.code().unwrap_or(-1), out, err, pid))
}

/// The interfaces the probe listed (`interfaces=lo,...`).
fn probe_interfaces(out: &str) -> Vec<&str> {
    let line = out.lines().find_map(|l| l.strip_prefix("interfaces="));
    line.unwrap_or_default().split(',').collect()
}

/// The host's interfaces that are up, `lo` left out.
fn host_interfaces_up() -> Vec<String> {
    let dev = std::fs::read_to_string("/proc/self/net/dev").unwrap();
    let names = dev.lines().skip(2).filter_map(|l| l.split(':').next());
    names
        .map(|n| n.trim().to_string())
        .filter(|n| n != "lo" && clonelab::net::interface_is_up(n.as_bytes()) == Ok(true))
        .collect()
}

fn host_mounts_mention(text: &str) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .contains(text)
}

/// Inside: an init with pid 1 (CMD is its child, pid 2), the requested hostname, only its own
/// processes, its own lo (up) and none of the host's interfaces that are up, the host's files out
/// of reach; outside: hostname unchanged, nothing left mounted.
///
/// Not asserted: that lo is the only interface. Where tunnel modules are loaded (ipip, sit,
/// ip6_tunnel, gre), every new network namespace also gets their fallback devices (`tunl0`,
/// `sit0`, ...) unless `net.core.fb_tunnels_only_for_init_net=1`.
#[test]
fn container_is_isolated() {
    let marker = std::env::temp_dir().join(format!("clonelab-host-marker-{}", std::process::id()));
    std::fs::write(&marker, b"host").unwrap();
    let mut host_name = [0u8; 65];
    let host_name = clonelab::probe::hostname(&mut host_name).unwrap().to_vec();
    let marker_arg = marker.to_str().unwrap().to_string();
    let host_up = host_interfaces_up();
    let Some((code, out, err, _)) = container(
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
    let inside = probe_interfaces(&out);
    assert!(inside.contains(&"lo"), "no lo inside: {inside:?}");
    for ours in &host_up {
        assert!(
            !inside.contains(&ours.as_str()),
            "the host's interface {ours} (up) is inside: {inside:?}"
        );
    }
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
    let Some((code, _, _, _)) = container(&[], &["--exit", "7"]) else {
        return;
    };
    assert_eq!(code, 7);
}

/// --pids 5: the container's init and the probe count, so the fourth fork fails
/// with EAGAIN; --memory shows in memory.max; the cgroup is gone afterwards.
#[test]
fn cgroup_limits_apply() {
    // Where the container makes its cgroup (container/cgroup.rs): below ours,
    // named after the `clonelab container` process.
    let own = clonelab::experiments::own_cgroup_dir()
        .map(|dir| String::from_utf8_lossy(dir.as_bytes()).into_owned());
    let Some((code, out, err, pid)) = container(
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
    let own = own.expect("the container made a cgroup, so there is a cgroup v2 hierarchy");
    let dir = format!("{own}/clonelab-container-{pid}");
    assert!(
        err.contains(&format!("cgroup {dir}: memory.max")),
        "the container's cgroup was not made at {dir}: {err}"
    );
    assert!(
        !std::path::Path::new(&dir).exists(),
        "the container's cgroup {dir} was left on the host"
    );
}

/// As real root, --uid-map maps the container's ids as given (here 0 -> 1000):
/// inside, the probe runs as uid 0; its file ownership maps outside to 1000.
#[test]
fn uid_map_passthrough_as_root() {
    let Some((code, out, err, _)) = container(&["--uid-map", "0:1000:1", "--verbose"], &[]) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("uid and gid map \"0 1000 1\""), "{err}");
    assert!(err.contains("CLONE_NEWUSER"), "{err}");
    assert!(out.contains("pid=2"), "{out}");
}
