//! Waiting as a container's parent or its PID 1: reap every child, forward
//! SIGINT and SIGTERM to the one that matters, and turn its status into an
//! exit code.
//!
//! Part of `container/`; used by `launch.rs` (the parent waits for init) and
//! `init.rs` (init waits for CMD). Uses clonelab's `sys::wait4`, `signalfd`,
//! `kill`, `sys::signal`, and std.

use clonelab::sys::signal::{self, SigSet};
use clonelab::{sys, WaitStatus};
use linux_raw_sys::general as k;
use std::io::Read;
use std::os::fd::FromRawFd;

/// Wait for `pid`, reaping every other child on the way (orphans land on PID 1)
/// and forwarding SIGINT and SIGTERM to it. Signals arrive through a signalfd:
/// they were blocked before any child existed, so none is lost.
pub(super) fn supervise(pid: i32) -> Result<WaitStatus, String> {
    let set = SigSet::of(&[
        clonelab::Signal::SIGCHLD,
        clonelab::Signal::SIGINT,
        clonelab::Signal::SIGTERM,
    ]);
    signal::sigprocmask(k::SIG_BLOCK, Some(set)).map_err(|e| format!("sigprocmask: {e}"))?;
    let fd = sys::signalfd(set).map_err(|e| format!("signalfd: {e}"))?;
    // SAFETY: fd is the fresh signalfd.
    let mut signals = unsafe { std::fs::File::from_raw_fd(fd.into_raw()) };
    loop {
        while let Ok((reaped, status)) = sys::wait4(-1, k::__WALL | k::WNOHANG) {
            if reaped <= 0 {
                break;
            }
            if reaped == pid {
                return Ok(WaitStatus::from_wait4(status));
            }
        }
        let mut info = [0u8; 128];
        signals
            .read_exact(&mut info)
            .map_err(|e| format!("signalfd: {e}"))?;
        let signo = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
        if signo == k::SIGINT || signo == k::SIGTERM {
            let _ = sys::kill(
                pid,
                clonelab::Signal::new(signo).expect("signalfd reports a real signal"),
            );
        }
    }
}

/// A shell's exit code for `status`: the code, or 128 + the signal.
pub(super) fn exit_code(status: WaitStatus) -> i32 {
    match status {
        WaitStatus::Exited(code) => code,
        WaitStatus::Signaled { signal, .. } => 128 + signal as i32,
        _ => 1,
    }
}
