//! Reaping children: `wait4` and `waitid` with a decoded status.
//!
//! Which children a wait can see depends on their exit signal: plain
//! `wait4(pid, .., 0)` sees only children that signal SIGCHLD at exit;
//! `__WCLONE` sees only the others (any other signal, or none); `__WALL` sees
//! both. Threads (`CLONE_THREAD`) are never waitable: join them through
//! `CLONE_CHILD_CLEARTID` and a futex instead (see [`crate::spawn`](mod@crate::spawn)).
//!
//! Waiting with a deadline ([`Child::wait_timeout`](crate::Child::wait_timeout))
//! polls the child's pidfd, which turns readable (`POLLIN`) at its exit, with
//! [`sys::ppoll`]; a child without a pidfd is looked at
//! with `waitid(WNOHANG)` between short sleeps.
//!
//! Where it sits: above the syscall layer (`wait4`, `waitid`, `ppoll`) and the flag
//! encoding (which exit signal a child has); [`crate::spawn`](mod@crate::spawn)
//! reaps through it.

use crate::errno::Errno;
use crate::flags::ExitSignal;
use crate::sys::poll::{self, PollFd, PollFlags};
use crate::sys::{self, BorrowedFd, Pid};
use core::fmt;
use core::time::Duration;
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

/// A child to wait for with a deadline: through its pidfd, or by pid.
#[derive(Clone, Copy)]
pub(crate) enum Waitable<'fd> {
    /// Poll the pidfd (readable once the process has exited), then reap.
    Pidfd(BorrowedFd<'fd>),
    /// No pidfd: look with `WNOHANG`, sleep a little, look again.
    Pid(Pid),
}

/// How long the pid-only wait sleeps at first between two looks; it doubles
/// up to [`POLL_STEP_MAX`].
pub(crate) const POLL_STEP_MIN: Duration = Duration::from_millis(1);
/// The longest sleep between two looks of the pid-only wait: it reports an
/// exit at most this late.
pub(crate) const POLL_STEP_MAX: Duration = Duration::from_millis(10);

/// The pid `waitid` wrote: 0 when `WNOHANG` found no child ready.
fn siginfo_pid(info: &k::siginfo_t) -> Pid {
    // SAFETY: waitid fills the SIGCHLD variant of the union (the kernel
    // writes every field, si_pid 0 when WNOHANG found nothing), and the
    // siginfo was zeroed before: every byte read is initialised.
    unsafe {
        info.__bindgen_anon_1
            .__bindgen_anon_1
            ._sifields
            ._sigchld
            ._pid
    }
}

/// `waitid(.., WEXITED | WNOHANG | options)`: the status of the child if it
/// has ended (reaped now), `None` if it still runs.
pub(crate) fn try_wait(child: Waitable<'_>, options: u32) -> Result<Option<WaitStatus>, Errno> {
    let (idtype, id) = match child {
        Waitable::Pidfd(fd) => (k::P_PIDFD, fd.as_raw() as u32),
        Waitable::Pid(pid) => (k::P_PID, pid as u32),
    };
    let info = sys::waitid(idtype, id, k::WEXITED | k::WNOHANG | options)?;
    Ok((siginfo_pid(&info) != 0).then(|| WaitStatus::from_siginfo(&info)))
}

/// `Ok(())` if `pid` is a child of ours that nobody has reaped yet, running
/// or a zombie: `waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT | __WALL)`,
/// which reaps nothing. `ECHILD` if it is not: it was reaped (and its pid
/// may now name another process), or it never was our child.
///
/// While a child is unreaped its pid cannot be given to anyone else, so a
/// `kill(pid)` right after `Ok` reaches it, unless another thread reaps it
/// in between.
pub(crate) fn unreaped_child(pid: Pid) -> Result<(), Errno> {
    sys::waitid(
        k::P_PID,
        pid as u32,
        k::WEXITED | k::WNOHANG | k::WNOWAIT | k::__WALL,
    )
    .map(drop)
}

/// Wait for `child` to end, at most `timeout`: `Some(status)` once it is
/// reaped, `None` if it still runs when the time is up (it stays unreaped).
///
/// With a pidfd: `ppoll` on it for `POLLIN`, then `waitid(P_PIDFD, WNOHANG)`.
/// By pid: `waitid(P_PID, WNOHANG)` in a loop with sleeps of
/// [`POLL_STEP_MIN`] doubling to [`POLL_STEP_MAX`]. A signal handler that
/// interrupts either does not end the wait early. A timeout too large for
/// the clock waits for ever.
pub(crate) fn wait_timeout(
    child: Waitable<'_>,
    options: u32,
    timeout: Duration,
) -> Result<Option<WaitStatus>, Errno> {
    if let Some(status) = try_wait(child, options)? {
        return Ok(Some(status));
    }
    if timeout.is_zero() {
        return Ok(None);
    }
    // None: no deadline the clock can express; wait for ever.
    let deadline = poll::monotonic_now()?.checked_add(timeout);
    let mut step = POLL_STEP_MIN;
    loop {
        let left = match deadline {
            None => None,
            Some(deadline) => match deadline.checked_sub(poll::monotonic_now()?) {
                Some(left) if !left.is_zero() => Some(left),
                // Time is up: one last look, so an exit at the deadline counts.
                _ => return try_wait(child, options),
            },
        };
        match child {
            Waitable::Pidfd(fd) => {
                let mut fds = [PollFd::new(fd, PollFlags::IN)];
                // A timespec holds at most i64::MAX seconds: a longer wait is
                // done in steps of that (the loop comes back here).
                let this_wait = left.map(|l| l.min(Duration::from_secs(i64::MAX as u64)));
                match sys::ppoll(&mut fds, this_wait, None) {
                    Ok(_) | Err(Errno::EINTR) => {}
                    Err(e) => return Err(e),
                }
                if let Some(status) = try_wait(child, options)? {
                    return Ok(Some(status));
                }
                // Readable yet not reapable (a tracer holds the zombie, say):
                // do not spin on a descriptor that stays readable.
                if fds[0].revents().intersects(PollFlags::IN | PollFlags::HUP) {
                    let _ = sys::nanosleep(min_of(left, step));
                    step = (step * 2).min(POLL_STEP_MAX);
                }
            }
            Waitable::Pid(_) => {
                // EINTR: a handler ran; look again, then sleep for what is left.
                let _ = sys::nanosleep(min_of(left, step));
                step = (step * 2).min(POLL_STEP_MAX);
                if let Some(status) = try_wait(child, options)? {
                    return Ok(Some(status));
                }
            }
        }
    }
}

/// The shorter of what is `left` (`None`: no limit) and `step`.
fn min_of(left: Option<Duration>, step: Duration) -> Duration {
    left.map_or(step, |left| left.min(step))
}

// SAFETY: integers and a bool in an enum.
unsafe impl crate::plain::Plain for WaitStatus {}
