//! `CLONE_NEWUSER | SIGCHLD` (0x10000011): a new user namespace, and what a
//! uid map changes.
//!
//! The child starts unmapped: `getuid()` returns the overflow uid (65534,
//! `/proc/sys/kernel/overflowuid`). The parent writes `0 <its euid> 1` to
//! `/proc/<child>/uid_map`; from then on the child is uid 0 *inside*. The
//! capabilities do not come from the map: as the namespace's first process
//! the child holds the full set there (`CapEff` in `/proc/self/status`) from
//! its creation, before any map — capabilities over the namespace's own
//! resources, none over the parent's.

use super::record::Checks;
use super::text::YesNo;
use super::Calls;
use super::{run_child, CPath, SharedPage};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::sys;
use crate::{Error, WaitStatus};
use core::fmt;
use linux_raw_sys::general as k;

/// What was seen.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// The overflow uid of this system.
    pub overflow_uid: u64,
    /// The child's getuid() before the map was written.
    pub uid_before: u64,
    /// The child's getuid() after.
    pub uid_after: u64,
    /// The child's CapEff is the full set before the map was written.
    pub caps_before: bool,
    /// The child's CapEff is the full set after the map.
    pub caps_after: bool,
    /// The parent could write the map.
    pub map_written: bool,
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
            self.uid_before == self.overflow_uid,
            "unmapped, the child's uid is the overflow uid",
            format_args!(
                "the child's uid {}, the overflow uid {}",
                self.uid_before, self.overflow_uid
            ),
        );
        c.check(
            self.caps_before,
            "it holds every capability inside from creation, before any map",
            format_args!(
                "every capability in its CapEff before the map: {}",
                YesNo(self.caps_before)
            ),
        );
        c.check(
            self.map_written && self.uid_after == 0 && self.caps_after,
            "after the parent's map it is uid 0 inside",
            format_args!(
                "map written: {}; the child's uid {}; every capability in its CapEff: {}",
                YesNo(self.map_written),
                self.uid_after,
                YesNo(self.caps_after)
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

fn write_uid_map(pid: i32) -> bool {
    let mut path = CPath::numbered("/proc/", pid as u64);
    path.push(b"/uid_map");
    let mut line = CPath::numbered("0 ", sys::geteuid() as u64);
    line.push(b" 1\n");
    let Ok(fd) = sys::open(path.as_cstr(), k::O_WRONLY | k::O_CLOEXEC, 0) else {
        return false;
    };
    let written = sys::write(fd.as_fd(), line.as_bytes()).is_ok();
    drop(fd);
    written
}

fn overflow_uid() -> u64 {
    let mut buf = [0u8; 16];
    crate::probe::read_file(c"/proc/sys/kernel/overflowuid", &mut buf)
        .ok()
        .and_then(super::parse_decimal)
        .unwrap_or(65534)
}

/// Whether this process's `CapEff` holds every capability the kernel knows
/// (`/proc/sys/kernel/cap_last_cap` + 1 bits).
fn full_caps() -> bool {
    let mut buf = [0u8; 16];
    let last = crate::probe::read_file(c"/proc/sys/kernel/cap_last_cap", &mut buf)
        .ok()
        .and_then(super::parse_decimal)
        .unwrap_or(40);
    let want = if last >= 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    };
    let mut buf = [0u8; 4096];
    let status = crate::probe::read_file(c"/proc/self/status", &mut buf).unwrap_or(b"");
    let Some(line) = status
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"CapEff:\t"))
    else {
        return false;
    };
    let hex = core::str::from_utf8(line).unwrap_or("");
    u64::from_str_radix(hex.trim(), 16) == Ok(want)
}

/// Run the child: uid before, the parent maps it, uid and capabilities after.
pub fn observe() -> Result<Observed, Error> {
    let page = SharedPage::new()?;
    let mut calls = Calls::new();
    let child = || {
        page.put(0, sys::getuid() as u64);
        page.put(3, full_caps() as u64);
        page.signal_ready(); // phase 1 done: the parent writes the map now
        page.wait_gate();
        page.put(1, sys::getuid() as u64);
        page.put(2, full_caps() as u64);
        0
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(
            &mut calls,
            "CLONE_NEWUSER: the parent then writes its uid map",
            FlagsWord::new(CloneFlags::CLONE_NEWUSER, ExitSignal::SIGCHLD),
            &page,
            child,
            write_uid_map,
        )
    }?;
    Ok(Observed {
        calls,
        overflow_uid: overflow_uid(),
        uid_before: page.get(0),
        uid_after: page.get(1),
        caps_before: page.get(3) == 1,
        caps_after: page.get(2) == 1,
        map_written: child.parent,
        status: child.status,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "child's uid before the map: {} (overflow uid {})",
            self.uid_before, self.overflow_uid
        )?;
        writeln!(
            f,
            "parent wrote \"0 {} 1\" to uid_map: {}",
            sys::geteuid(),
            YesNo(self.map_written)
        )?;
        writeln!(
            f,
            "child's full capability set inside: before the map {}, after {}",
            YesNo(self.caps_before),
            YesNo(self.caps_after)
        )?;
        writeln!(f, "child's uid after: {}", self.uid_after)
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
