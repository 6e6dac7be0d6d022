//! `CLONE_PIDFD | SIGCHLD` (0x1011): a file descriptor for the child.
//!
//! With CLONE_PIDFD the kernel returns, besides the pid, a descriptor that
//! refers to the child *process* — unlike a pid, it cannot be recycled to name
//! another one. For clone() it is written where `parent_tid` points (so
//! CLONE_PIDFD and CLONE_PARENT_SETTID cannot be combined there); clone3 has a
//! `pidfd` field. `/proc/self/fdinfo/<fd>` names the pid it refers to, and
//! `waitid(P_PIDFD, fd, ...)` reaps the child through it.

use super::record::Checks;
use super::Calls;
use super::{contains, parse_decimal, CPath};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::spawn::spawn;
use crate::sys::Pid;
use crate::{Error, WaitStatus};
use core::fmt;

/// The child's exit code.
pub const CODE: i32 = 7;

/// What was seen.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// The child's pid.
    pub pid: Pid,
    /// The pidfd.
    pub pidfd: i32,
    /// The pid named on the `Pid:` line of the pidfd's fdinfo.
    pub fdinfo_pid: Option<u64>,
    /// The status `waitid(P_PIDFD)` returned.
    pub status: WaitStatus,
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let mut c = Checks::new();
        c.check(
            self.pidfd >= 0 && self.fdinfo_pid == Some(self.pid as u64),
            "the pidfd names the child",
            format_args!(
                "pidfd {}, the Pid line of its fdinfo: {}, the child's pid {}",
                self.pidfd,
                FdinfoPid(self.fdinfo_pid),
                self.pid
            ),
        );
        c.check(
            self.status == WaitStatus::Exited(CODE),
            "waitid(P_PIDFD) reaps it with its exit code",
            format_args!("the child {}", self.status),
        );
        c
    }
}

/// Spawn with CLONE_PIDFD, read its fdinfo, wait through it.
pub fn observe() -> Result<Observed, Error> {
    let mut child = spawn(
        FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD),
        || CODE,
    )?;
    let mut calls = Calls::new();
    calls.push(
        "CLONE_PIDFD: the pidfd comes back in parent_tid",
        *child.call(),
        child.pid() as i64,
    );
    let pidfd = child.pidfd().map_or(-1, |fd| fd.as_raw());
    let mut path = CPath::numbered("/proc/self/fdinfo/", pidfd as u64);
    let mut buf = [0u8; 1024];
    let info = crate::probe::read_file(path.push(b"").as_cstr(), &mut buf).unwrap_or(b"");
    let fdinfo_pid = info
        .split(|&b| b == b'\n')
        .find(|line| contains(line, b"Pid:"))
        .and_then(|line| parse_decimal(line.strip_prefix(b"Pid:\t").unwrap_or(b"")));
    let status = child.wait()?;
    Ok(Observed {
        calls,
        pid: child.pid(),
        pidfd,
        fdinfo_pid,
        status,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "clone returned pid {} and pidfd {}",
            self.pid, self.pidfd
        )?;
        match self.fdinfo_pid {
            Some(p) => writeln!(f, "/proc/self/fdinfo/{}: Pid: {p}", self.pidfd)?,
            None => writeln!(f, "/proc/self/fdinfo/{}: no Pid line", self.pidfd)?,
        }
        writeln!(f, "waitid(P_PIDFD, {}): {}", self.pidfd, self.status)
    }
}

/// The Pid line of a pidfd's fdinfo: the number, or that there was none.
struct FdinfoPid(Option<u64>);

impl fmt::Display for FdinfoPid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(pid) => write!(f, "{pid}"),
            None => f.write_str("missing"),
        }
    }
}

// SAFETY: every field is Plain (integers, bools, CloneCall, WaitStatus,
// Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
