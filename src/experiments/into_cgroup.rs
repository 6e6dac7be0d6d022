//! clone3 with `CLONE_INTO_CGROUP` (bit 33): born in a chosen cgroup.
//!
//! The parent creates a cgroup directory in the cgroup v2 hierarchy, opens it,
//! and passes the descriptor in `clone_args.cgroup` with flags
//! `CLONE_INTO_CGROUP` (`0x200000000` — above bit 31, so clone() cannot carry
//! it). The child starts life in that cgroup: no window in which it runs
//! in the parent's cgroup, which writing `cgroup.procs` afterwards would leave.
//! Its `/proc/self/cgroup` v2 line names the new cgroup.

use super::record::Checks;
use super::record::Label;
use super::text::YesNo;
use super::Calls;
use super::{cgroup2_mount, own_cgroup_dir, CPath, SharedPage, Text};
use crate::clone::{clone3, zeroed_args, CloneArgs};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::sys;
use crate::wait::{wait_pid, WaitStatus};
use crate::{Errno, Error};
use core::ffi::c_void;
use core::fmt;
use linux_raw_sys::general as k;

/// What was seen.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// Where the cgroup v2 hierarchy is mounted.
    pub hierarchy: CPath,
    /// The cgroup created for the child, relative to the hierarchy.
    pub cgroup: CPath,
    /// The child's /proc/self/cgroup names it.
    pub child_in_cgroup: bool,
    /// How the child ended.
    pub status: WaitStatus,
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let mut c = Checks::new();
        c.check(
            self.child_in_cgroup,
            "the child starts in the chosen cgroup",
            format_args!(
                "its /proc/self/cgroup reads 0::/{}: {}",
                Text(self.cgroup.as_bytes()),
                YesNo(self.child_in_cgroup)
            ),
        );
        c.check(
            self.status == WaitStatus::Exited(0),
            "the child exited 0",
            format_args!("the child {}", self.status),
        );
        c
    }
}

unsafe extern "C" fn report_cgroup(arg: *mut c_void) -> i32 {
    // SAFETY: arg is the parent's (name, page) pair; the child is fork-like and
    // reads its own copy, and the page is MAP_SHARED.
    let (name, page) = unsafe { &*(arg as *const (CPath, &SharedPage)) };
    let mut buf = [0u8; 4096];
    let text = crate::probe::read_file(c"/proc/self/cgroup", &mut buf).unwrap_or(b"");
    let mut line = CPath::empty();
    line.push(b"0::/").push(name.as_bytes());
    let found = text.split(|&b| b == b'\n').any(|l| l == line.as_bytes());
    page.put(0, found as u64);
    0
}

/// Make a cgroup, clone3 a child into it, ask the child where it is.
pub fn observe() -> Result<Observed, Error> {
    let hierarchy = cgroup2_mount().ok_or(Error::from(Errno::ENOENT))?;
    let name = CPath::numbered("clonelab-", sys::getpid() as u64);
    let mut dir = hierarchy;
    dir.push(b"/").push(name.as_bytes());
    sys::mkdir(dir.as_cstr(), 0o755)?;
    let result = (|| {
        let fd = sys::open(
            dir.as_cstr(),
            k::O_RDONLY | k::O_DIRECTORY | k::O_CLOEXEC,
            0,
        )?;
        let page = SharedPage::new()?;
        let word = FlagsWord::new(CloneFlags::CLONE_INTO_CGROUP, ExitSignal::SIGCHLD);
        let (flags, exit_signal) = word.encode_clone3()?;
        let mut args = CloneArgs {
            flags,
            exit_signal,
            cgroup: fd.as_raw() as u64,
            ..zeroed_args()
        };
        let pair = (name, &page);
        let size = core::mem::size_of::<CloneArgs>();
        let call = super::record::clone3_call(&args, size);
        // SAFETY: fork-like; the child reads its copy of `pair` and writes the shared page.
        let pid = unsafe {
            clone3(
                &mut args,
                size,
                report_cgroup,
                &pair as *const _ as *mut c_void,
            )
        };
        let mut calls = Calls::new();
        calls.push(
            "CLONE_INTO_CGROUP: cgroup = a new, empty cgroup",
            call,
            super::record::pid_result(&pid),
        );
        drop(fd);
        let status = wait_pid(pid?, 0)?;
        Ok(Observed {
            calls,
            hierarchy,
            cgroup: name,
            child_in_cgroup: page.get(0) == 1,
            status,
        })
    })();
    let _ = sys::rmdir(dir.as_cstr());
    result
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cgroup v2 hierarchy at {}; new cgroup /{}",
            Text(self.hierarchy.as_bytes()),
            Text(self.cgroup.as_bytes())
        )?;
        writeln!(
            f,
            "child's /proc/self/cgroup reads 0::/{}: {}",
            Text(self.cgroup.as_bytes()),
            YesNo(self.child_in_cgroup)
        )
    }
}

/// The EBUSY case: clone3 CLONE_INTO_CGROUP into a cgroup that has a domain
/// controller (memory) enabled for its children — cgroup v2's "no internal
/// processes" rule. A threaded controller such as pids does not count.
#[derive(Clone, Copy, Debug)]
pub struct Busy {
    /// Every clone/clone3 call made (none when skipped).
    pub calls: Calls,
    /// What writing `+memory` to our own cgroup's `cgroup.subtree_control`
    /// met (None: it was written), the step the case needs first.
    pub delegate: Option<Failed>,
    /// Why the case could not run here, rendered from `delegate`.
    pub skipped: Option<Label>,
    /// The errno of the clone3 call (None: it made a child, which was reaped).
    pub errno: Option<Errno>,
}

impl super::Recorded for Busy {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let mut c = Checks::new();
        match self.skipped {
            Some(why) => c.check(true, "not run", format_args!("{why}")),
            None => c.check(
                self.errno == Some(Errno::EBUSY),
                "clone3 into a cgroup that distributes memory to children: EBUSY",
                format_args!(
                    "clone3 answered {}",
                    match self.errno {
                        Some(e) => e.name().unwrap_or("an error"),
                        None => "with a child",
                    }
                ),
            ),
        };
        c
    }
    fn skipped(&self) -> Option<Label> {
        self.skipped
    }
}

/// Where writing a cgroup file failed, and with which errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failed {
    /// `open` failed: there is no such file, or we may not write it.
    Open(Errno),
    /// The file opened, and the kernel refused what was written.
    Write(Errno),
}

impl Failed {
    /// The errno, whichever step failed.
    pub fn errno(self) -> Errno {
        match self {
            Failed::Open(e) | Failed::Write(e) => e,
        }
    }

    /// What this errno means for `+memory` written to a cgroup's
    /// `cgroup.subtree_control` (`cgroup_subtree_control_write`,
    /// kernel/cgroup/cgroup.c).
    pub fn meaning(self) -> &'static str {
        use Failed::{Open, Write};
        match self {
            Open(Errno::ENOENT) => "our cgroup's directory is not where /proc/self/cgroup says",
            Open(Errno::EACCES | Errno::EPERM) | Write(Errno::EACCES | Errno::EPERM) => {
                "we may not change our cgroup (it is not delegated to us)"
            }
            Open(_) => "the file could not be opened",
            Write(Errno::ENOENT) => {
                "the memory controller is not available in this cgroup v2 tree \
                 (bound to cgroup v1, or not enabled above us)"
            }
            Write(Errno::EINVAL) => {
                "this kernel has no memory controller to enable \
                 (built without it, or disabled at boot)"
            }
            Write(Errno::EBUSY) => {
                "our cgroup holds processes, so it may not hand a domain controller down \
                 (cgroup v2's no-internal-processes rule)"
            }
            Write(Errno::EOPNOTSUPP) => "our cgroup is threaded; memory is a domain controller",
            Write(Errno::ENODEV) => "our cgroup was removed",
            Write(_) => "a refusal this experiment does not know",
        }
    }

    /// Why [`ebusy`] was not run: the step that failed, its errno and what
    /// that means.
    pub fn skip_reason(self) -> Label {
        let mut why = Label::empty();
        let _ = fmt::Write::write_fmt(&mut why, format_args!("{self}"));
        why
    }
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self {
            Failed::Open(_) => "opening",
            Failed::Write(_) => "writing +memory to",
        };
        let errno = self.errno();
        match errno.name() {
            Some(name) => write!(f, "{step} our cgroup.subtree_control gave {name}: ")?,
            None => write!(
                f,
                "{step} our cgroup.subtree_control gave errno {}: ",
                errno.raw()
            )?,
        }
        f.write_str(self.meaning())
    }
}

fn write_to(dir: &CPath, file: &[u8], text: &[u8]) -> Result<(), Failed> {
    let mut path = *dir;
    path.push(file);
    let fd = sys::open(path.as_cstr(), k::O_WRONLY | k::O_CLOEXEC, 0).map_err(Failed::Open)?;
    let written = sys::write(fd.as_fd(), text);
    drop(fd);
    written.map(|_| ()).map_err(Failed::Write)
}

unsafe extern "C" fn exit_at_once(_: *mut c_void) -> i32 {
    0
}

/// Try CLONE_INTO_CGROUP into a cgroup with `+memory` in its subtree_control.
/// That cgroup is made in ours, so ours must hand the memory controller down
/// first. Where it cannot, the case is skipped, and the reason is the errno
/// that write returned, with its meaning ([`Failed::meaning`]): ENOENT where
/// the memory controller is not in this cgroup v2 tree (a host that binds it
/// to cgroup v1), EBUSY where our cgroup holds processes (a shell in a
/// systemd session: cgroup v2's "no internal processes" rule), ...
pub fn ebusy() -> Result<Busy, Error> {
    let mut busy = Busy {
        calls: Calls::new(),
        delegate: None,
        skipped: None,
        errno: None,
    };
    let Some(own) = own_cgroup_dir() else {
        busy.skipped = Some(Label::new("no cgroup v2 hierarchy is mounted"));
        return Ok(busy);
    };
    if let Err(failed) = write_to(&own, b"/cgroup.subtree_control", b"+memory") {
        busy.delegate = Some(failed);
        busy.skipped = Some(failed.skip_reason());
        return Ok(busy);
    }
    let mut dir = own;
    dir.push(b"/")
        .push(CPath::numbered("clonelab-busy-", sys::getpid() as u64).as_bytes());
    sys::mkdir(dir.as_cstr(), 0o755)?;
    let result = (|| {
        write_to(&dir, b"/cgroup.subtree_control", b"+memory").map_err(Failed::errno)?;
        let fd = sys::open(
            dir.as_cstr(),
            k::O_RDONLY | k::O_DIRECTORY | k::O_CLOEXEC,
            0,
        )?;
        let (flags, exit_signal) =
            FlagsWord::new(CloneFlags::CLONE_INTO_CGROUP, ExitSignal::SIGCHLD).encode_clone3()?;
        let mut args = CloneArgs {
            flags,
            exit_signal,
            cgroup: fd.as_raw() as u64,
            ..zeroed_args()
        };
        let size = core::mem::size_of::<CloneArgs>();
        let call = super::record::clone3_call(&args, size);
        // SAFETY: fork-like; a child, if made, exits at once and is reaped below.
        let made = unsafe { clone3(&mut args, size, exit_at_once, core::ptr::null_mut()) };
        drop(fd);
        busy.calls.push(
            "CLONE_INTO_CGROUP into a cgroup with +memory for its children",
            call,
            super::record::pid_result(&made),
        );
        busy.errno = match made {
            Ok(pid) => {
                let _ = wait_pid(pid, 0);
                None
            }
            Err(e) => e.errno(),
        };
        Ok::<(), Error>(())
    })();
    let _ = sys::rmdir(dir.as_cstr());
    result.map(|()| busy)
}

impl fmt::Display for Busy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.skipped, self.errno) {
            (Some(why), _) => writeln!(f, "not run: {why}"),
            (None, Some(e)) => writeln!(f, "clone3 answered {e}"),
            (None, None) => writeln!(f, "clone3 made a child: no EBUSY"),
        }
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Busy {}
// SAFETY: a tag and an Errno.
unsafe impl crate::plain::Plain for Failed {}
