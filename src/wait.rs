//! Reaping children: `wait4` and `waitid` with a decoded status.
//!
//! Which children a wait can see depends on their exit signal: plain
//! `wait4(pid, .., 0)` sees only children that signal SIGCHLD at exit;
//! `__WCLONE` sees only the others (any other signal, or none); `__WALL` sees
//! both. Threads (`CLONE_THREAD`) are never waitable: join them through
//! `CLONE_CHILD_CLEARTID` and a futex instead (see [`crate::spawn`](mod@crate::spawn)).
//!
//! Where it sits: above the syscall layer (`wait4`, `waitid`) and the flag
//! encoding (which exit signal a child has); [`crate::spawn`](mod@crate::spawn)
//! reaps through it.

use crate::errno::Errno;
use crate::flags::ExitSignal;
use crate::sys::{self, BorrowedFd, Pid};
use core::fmt;
use linux_raw_sys::general as k;

/// How a child ended (or changed state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    /// It called exit (or its `fn` returned) with this status (0..=255).
    Exited(i32),
    /// A signal ended it; `core_dumped` if it left a core.
    Signaled {
        /// The signal number.
        signal: u32,
        /// Whether a core file was written.
        core_dumped: bool,
    },
    /// It is stopped by this signal (only with WUNTRACED / tracing).
    Stopped(u32),
    /// It was continued by SIGCONT (only with WCONTINUED).
    Continued,
}

impl WaitStatus {
    /// Decode the `int` that `wait4` writes. The layout is kernel/exit.c's:
    /// bits 0-6 the terminating signal (0 = exited, 0x7f = stopped),
    /// bit 7 core dumped, bits 8-15 the exit code or stop signal, 0xffff continued.
    pub fn from_wait4(status: i32) -> WaitStatus {
        let low7 = status & 0x7f;
        if low7 == 0 {
            WaitStatus::Exited((status >> 8) & 0xff)
        } else if status == 0xffff {
            WaitStatus::Continued
        } else if low7 == 0x7f {
            WaitStatus::Stopped(((status >> 8) & 0xff) as u32)
        } else {
            WaitStatus::Signaled {
                signal: low7 as u32,
                core_dumped: status & 0x80 != 0,
            }
        }
    }

    /// Decode the `siginfo` that `waitid` fills (`si_code` = CLD_*, `si_status`).
    pub fn from_siginfo(info: &k::siginfo_t) -> WaitStatus {
        // SAFETY: waitid always fills the SIGCHLD variant of the union.
        let (code, status) = unsafe {
            let inner = &info.__bindgen_anon_1.__bindgen_anon_1;
            (inner.si_code as u32, inner._sifields._sigchld._status)
        };
        match code {
            k::CLD_EXITED => WaitStatus::Exited(status),
            k::CLD_KILLED => WaitStatus::Signaled {
                signal: status as u32,
                core_dumped: false,
            },
            k::CLD_DUMPED => WaitStatus::Signaled {
                signal: status as u32,
                core_dumped: true,
            },
            k::CLD_CONTINUED => WaitStatus::Continued,
            _ => WaitStatus::Stopped(status as u32),
        }
    }
}

impl fmt::Display for WaitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |s: u32| crate::flags::signal_name(s).unwrap_or("signal");
        match *self {
            WaitStatus::Exited(code) => write!(f, "exited with status {code}"),
            WaitStatus::Signaled {
                signal,
                core_dumped,
            } => write!(
                f,
                "killed by {} ({signal}){}",
                name(signal),
                if core_dumped { ", core dumped" } else { "" }
            ),
            WaitStatus::Stopped(signal) => write!(f, "stopped by {} ({signal})", name(signal)),
            WaitStatus::Continued => f.write_str("continued"),
        }
    }
}

/// The `wait4` options that can see a child with this exit signal:
/// 0 for SIGCHLD, `__WCLONE` for any other signal or none.
pub(crate) fn options_for(signal: ExitSignal) -> u32 {
    if signal.is_sigchld() {
        0
    } else {
        k::__WCLONE
    }
}

/// Block until `pid` ends; `options` as for wait4 (`__WCLONE`, `__WALL`, ...).
///
/// ```
/// use clonelab::{sys, wait::wait_pid, WaitStatus};
/// // SAFETY: the child only exits.
/// match unsafe { sys::fork() }.unwrap() {
///     None => sys::exit_group(3),
///     Some(pid) => assert_eq!(wait_pid(pid, 0).unwrap(), WaitStatus::Exited(3)),
/// }
/// ```
pub fn wait_pid(pid: Pid, options: u32) -> Result<WaitStatus, Errno> {
    loop {
        match sys::wait4(pid, options) {
            Ok((_, status)) => return Ok(WaitStatus::from_wait4(status)),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Block until the process behind `pidfd` ends: `waitid(P_PIDFD, fd, .., WEXITED)`.
pub fn wait_pidfd(pidfd: BorrowedFd<'_>, options: u32) -> Result<WaitStatus, Errno> {
    loop {
        match sys::waitid(k::P_PIDFD, pidfd.as_raw() as u32, k::WEXITED | options) {
            Ok(info) => return Ok(WaitStatus::from_siginfo(&info)),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

// SAFETY: integers and a bool in an enum.
unsafe impl crate::plain::Plain for WaitStatus {}
