//! `CLONE_PARENT | SIGCHLD` (0x8011): the child becomes our *sibling*.
//!
//! Its parent is our parent: its `getppid()` equals ours, our `wait4` on it
//! says ECHILD, and its exit signal goes to our parent, who reaps it. The safe
//! API refuses the flag for that reason; this experiment uses the raw `clone`.

use super::record::Checks;
use super::Calls;
use super::SharedPage;
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::sys::{self, Pid};
use crate::{Errno, Error};
use core::ffi::c_void;
use core::fmt;
use linux_raw_sys::general as k;

/// What was seen.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// Our own parent.
    pub our_parent: Pid,
    /// The child's getppid().
    pub child_parent: Pid,
    /// What our wait on the child said.
    pub our_wait: Result<Pid, Errno>,
    /// The process tracing us (from /proc/self/status): 0 when nobody does.
    pub tracer: Pid,
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let mut c = Checks::new();
        c.check(
            self.child_parent == self.our_parent,
            "the CLONE_PARENT child is our parent's",
            format_args!(
                "the child's parent pid {}, ours {}",
                self.child_parent, self.our_parent
            ),
        );
        c.check(
            self.our_wait == Err(Errno::ECHILD),
            "so we cannot wait for it",
            format_args!(
                "our wait4 on it: {}",
                match self.our_wait {
                    Ok(_) => "reaped it",
                    Err(e) => e.name().unwrap_or("an error"),
                }
            ),
        );
        c
    }
}

/// The number after `field` in `/proc/<pid>/status` (`pid` 0: self).
fn status_field(pid: Pid, field: &[u8]) -> Pid {
    let path = if pid == 0 {
        let mut p = super::CPath::empty();
        p.push(b"/proc/self/status");
        p
    } else {
        let mut p = super::CPath::numbered("/proc/", pid as u64);
        p.push(b"/status");
        p
    };
    let mut buf = [0u8; 4096];
    let text = crate::probe::read_file(path.as_cstr(), &mut buf).unwrap_or(b"");
    text.split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(field))
        .and_then(super::parse_decimal)
        .unwrap_or(0) as Pid
}

/// The process (thread group) that traces us: the `Tgid` of our `TracerPid`
/// (which names the tracing thread); 0 when nobody traces us.
fn tracer_process() -> Pid {
    match status_field(0, b"TracerPid:\t") {
        0 => 0,
        tid => status_field(tid, b"Tgid:\t"),
    }
}

unsafe extern "C" fn report_parent(page: *mut c_void) -> i32 {
    // SAFETY: page is the SharedPage the parent passed; it outlives this child
    // (the parent waits for the report before dropping it).
    let page = unsafe { &*(page as *const SharedPage) };
    page.put(0, sys::getppid() as u64);
    page.signal_ready();
    0
}

/// Clone a sibling and ask it who its parent is.
pub fn observe() -> Result<Observed, Error> {
    let page = SharedPage::new()?;
    let word = FlagsWord::new(CloneFlags::CLONE_PARENT, ExitSignal::SIGCHLD);
    // SAFETY: fork-like (no CLONE_VM); `page` is MAP_SHARED and stays mapped
    // until the child has reported.
    let result = unsafe {
        super::raw_fork_like(
            word,
            report_parent,
            &page as *const SharedPage as *mut c_void,
        )
    };
    let mut calls = Calls::new();
    calls.push(
        "CLONE_PARENT: the child becomes our parent's",
        super::raw_fork_like_call(word),
        super::record::pid_result(&result),
    );
    let pid = result?;
    page.wait_ready(pid);
    let our_wait = sys::wait4(pid, k::__WALL).map(|(p, _)| p);
    Ok(Observed {
        calls,
        our_parent: sys::getppid(),
        child_parent: page.get(0) as Pid,
        our_wait,
        tracer: tracer_process(),
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "our parent: {}; the child's parent: {}",
            self.our_parent, self.child_parent
        )?;
        if self.tracer != 0 && self.tracer == self.our_parent {
            writeln!(
                f,
                "(pid {} is the ptrace observer that runs this experiment: our TracerPid)",
                self.tracer
            )?;
        }
        match self.our_wait {
            Ok(pid) => writeln!(f, "our wait4 on it reaped {pid} (it was our child!)"),
            Err(e) => writeln!(f, "our wait4 on it: {e}: it is our parent's child to reap"),
        }
    }
}

// SAFETY: every field is Plain (integers, bools, CloneCall, WaitStatus,
// Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
