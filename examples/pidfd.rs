//! CLONE_PIDFD: a descriptor that names one process
//!
//! A supervisor makes a child with CLONE_PIDFD, reads which process the
//! pidfd names, stops the child and reaps it through the pidfd alone; then
//! asks the kernel again. Run: `cargo run --example pidfd`.
//!
//! Expected output:
//!
//! ```text
//! clone returned pid …; the pidfd is descriptor …
//! before the reap: fdinfo says Pid: …
//! pidfd_send_signal(SIGTERM): ok
//! waitid(P_PIDFD): killed by SIGTERM (15)
//! after the reap: fdinfo says Pid: -1
//! after the reap: pidfd_send_signal(SIGTERM): ESRCH (No such process)
//! ```

use clonelab::{spawn, sys, CloneFlags, Errno, ExitSignal, FlagsWord, Signal, WaitStatus};
use std::time::Duration;

/// The pid on the `Pid:` line of a descriptor's entry in /proc/self/fdinfo.
fn fdinfo_pid(fd: i32) -> String {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
    let line = info.lines().find(|l| l.starts_with("Pid:"));
    line.unwrap_or("no Pid line")
        .trim_start_matches("Pid:")
        .trim()
        .to_string()
}

/// "ok", or the error the kernel returned.
fn said(result: Result<(), Errno>) -> String {
    result.map_or_else(|e| e.to_string(), |()| "ok".into())
}

fn main() {
    let word = FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD);
    // The child waits to be stopped (30 s at most, then it exits 99 by itself).
    let mut child = spawn(word, || {
        let _ = sys::nanosleep(Duration::from_secs(30));
        99
    })
    .unwrap();
    let pid = child.pid();
    let fd = child
        .pidfd()
        .expect(
            "no pidfd: the child was made without CLONE_PIDFD (or the kernel is older than 5.2)",
        )
        .as_raw();
    println!("clone returned pid {pid}; the pidfd is descriptor {fd}");
    let before = fdinfo_pid(fd);
    println!("before the reap: fdinfo says Pid: {before}");

    // Child::kill and Child::wait use the pidfd: pidfd_send_signal, waitid(P_PIDFD).
    let sent = child.kill(Signal::SIGTERM);
    println!("pidfd_send_signal(SIGTERM): {}", said(sent));
    let status = child.wait().unwrap();
    println!("waitid(P_PIDFD): {status}");

    // The process is gone. The descriptor still refers to it, and to nothing else.
    let after = fdinfo_pid(fd);
    println!("after the reap: fdinfo says Pid: {after}");
    let again = sys::pidfd_send_signal(child.pidfd().unwrap(), Signal::SIGTERM);
    println!(
        "after the reap: pidfd_send_signal(SIGTERM): {}",
        said(again)
    );

    assert_eq!((before, sent), (pid.to_string(), Ok(())));
    assert!(matches!(status, WaitStatus::Signaled { signal: 15, .. }));
    assert_eq!((after.as_str(), again), ("-1", Err(Errno::ESRCH)));
}
