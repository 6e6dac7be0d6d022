//! Signals to clonelab while it traces: SIGINT detaches every task and the
//! command runs on; SIGKILL leaves it running too, untraced and not stopped.
//!
//! Part of `tests/trace_cmd/`. Uses clonelab's `sys::kill`, libc's signal
//! numbers, /proc, and std.

use super::common::clonelab_binary;
use super::run::subject_path;
use super::subject::SUBJECT;
use std::collections::HashMap;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `/proc/<pid>/task/*/status` field `field` of each thread of `pid`.
pub fn task_status(pid: i32, field: &str) -> HashMap<i32, String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|dir| {
            dir.filter_map(|e| {
                let tid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
                let text =
                    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok()?;
                let v = text.lines().find_map(|l| l.strip_prefix(field))?;
                Some((tid, v.trim().to_string()))
            })
            .collect()
        })
        .unwrap_or_default()
}

/// Start `clonelab trace -- subject wait`, wait until the subject (two
/// threads) runs traced by it, send `signal` to clonelab only, and check that
/// every task of the subject ends up untraced and not stopped.
pub fn signal_clonelab(signal: i32) -> (std::process::Child, i32) {
    let mut child = Command::new(clonelab_binary())
        .args(["trace", "--", &subject_path()])
        .env(SUBJECT, "wait")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8];
    while out.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let line = String::from_utf8(line).unwrap();
    let pid: i32 = line.strip_prefix("waiting ").unwrap().parse().unwrap();
    let tracers = task_status(pid, "TracerPid:");
    assert!(
        tracers.len() >= 2,
        "the subject and its thread: {tracers:?}"
    );
    assert!(
        tracers.values().all(|t| *t == child.id().to_string()),
        "{tracers:?}"
    );
    let signal = clonelab::Signal::new(signal as u32).expect("a signal number");
    clonelab::sys::kill(child.id() as i32, signal).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let tracers = task_status(pid, "TracerPid:");
        if tracers.values().all(|t| t == "0") {
            break;
        }
        assert!(Instant::now() < deadline, "still traced: {tracers:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let states = task_status(pid, "State:");
    assert!(states.len() >= 2, "the subject ended: {states:?}");
    assert!(
        states
            .values()
            .all(|s| !s.starts_with('t') && !s.starts_with('T')),
        "a task is left stopped: {states:?}"
    );
    (child, pid)
}

/// SIGINT to clonelab detaches every task: the command runs on, neither
/// traced nor stopped, and its exit status still comes back through clonelab.
#[test]
fn sigint_detaches_and_the_command_runs_on() {
    let (mut child, _) = signal_clonelab(libc::SIGINT);
    drop(child.stdin.take()); // the subject exits 7 at EOF
    let code = child.wait().unwrap().code();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert!(err.contains("SIGINT: clonelab detached from"), "{err}");
    assert_eq!(code, Some(7), "{err}");
}

/// SIGKILL to clonelab: the kernel detaches the tasks, and the command runs
/// on, neither traced nor stopped, until it ends by itself.
#[test]
fn sigkill_of_clonelab_leaves_the_command_running() {
    let (mut child, pid) = signal_clonelab(libc::SIGKILL);
    assert_eq!(
        child.wait().unwrap().signal(),
        Some(libc::SIGKILL),
        "clonelab was killed"
    );
    drop(child.stdin.take()); // EOF: the subject, now an orphan, exits by itself
    let deadline = Instant::now() + Duration::from_secs(60);
    while task_status(pid, "State:")
        .values()
        .any(|s| !s.starts_with('Z'))
    {
        assert!(Instant::now() < deadline, "the subject did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}
