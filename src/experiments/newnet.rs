//! `CLONE_NEWNET | SIGCHLD`: the child gets a new, empty network namespace.
//!
//! `socket()` succeeding inside proves nothing (it succeeds in any namespace).
//! What shows the new namespace: `/proc/self/ns/net` names a different
//! namespace (another inode), and the only interface is a loopback `lo` that is
//! down until someone brings it up. Unprivileged callers get CLONE_NEWUSER added.

use super::record::Checks;
use super::text::YesNo;
use super::Calls;
use super::{contains, namespace_flags, run_child, SharedPage};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::{Error, WaitStatus};
use core::fmt;

/// What was seen.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// (st_dev, st_ino) of /proc/self/ns/net in the parent.
    pub parent_ns: (u64, u64),
    /// The same in the child.
    pub child_ns: (u64, u64),
    /// Interfaces listed by the child's /proc/self/net/dev.
    pub child_interfaces: u64,
    /// Whether one of them is `lo`.
    pub child_has_lo: bool,
    /// Whether the child's `lo` is up (SIOCGIFFLAGS).
    pub child_lo_up: bool,
    /// Interfaces the parent's /proc/self/net/dev lists.
    pub parent_interfaces: u64,
    /// Whether CLONE_NEWUSER was added.
    pub in_user_namespace: bool,
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
            self.child_ns != self.parent_ns && self.child_ns != (0, 0),
            "the child's network namespace is another",
            format_args!(
                "/proc/self/ns/net inode: the child's {}, ours {}",
                self.child_ns.1, self.parent_ns.1
            ),
        );
        c.check(
            self.child_interfaces == 1 && self.child_has_lo && !self.child_lo_up,
            "it holds only lo, down",
            format_args!(
                "the child's interfaces: {}, lo among them: {}, lo up: {} (ours: {} interfaces)",
                self.child_interfaces,
                YesNo(self.child_has_lo),
                YesNo(self.child_lo_up),
                self.parent_interfaces
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

/// Count the interfaces in a /proc/net/dev text (two header lines, then one per interface).
fn interfaces(text: &[u8]) -> (u64, bool) {
    let lines = text
        .split(|&b| b == b'\n')
        .skip(2)
        .filter(|l| contains(l, b":"));
    lines.fold((0, false), |(n, lo), line| {
        let name = line.split(|&b| b == b':').next().unwrap_or(b"");
        let trimmed = name
            .iter()
            .position(|&b| b != b' ')
            .map_or(&name[..0], |i| &name[i..]);
        (n + 1, lo || trimmed == b"lo")
    })
}

fn read_interfaces() -> (u64, bool) {
    let mut buf = [0u8; 8192];
    crate::probe::read_file(c"/proc/self/net/dev", &mut buf)
        .map(interfaces)
        .unwrap_or((0, false))
}

/// Run the child.
pub fn observe() -> Result<Observed, Error> {
    let flags = namespace_flags(CloneFlags::CLONE_NEWNET);
    let parent_ns = crate::probe::file_identity(c"/proc/self/ns/net")?;
    let page = SharedPage::new()?;
    let mut calls = Calls::new();
    let child = || {
        let Ok((dev, ino)) = crate::probe::file_identity(c"/proc/self/ns/net") else {
            return 1;
        };
        page.put(0, dev);
        page.put(1, ino);
        let (n, lo) = read_interfaces();
        page.put(2, n);
        page.put(3, lo as u64);
        page.put(
            4,
            matches!(crate::net::interface_is_up(b"lo"), Ok(true)) as u64,
        );
        0
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(
            &mut calls,
            "CLONE_NEWNET",
            FlagsWord::new(flags, ExitSignal::SIGCHLD),
            &page,
            child,
            |_| (),
        )
    }?;
    Ok(Observed {
        calls,
        parent_ns,
        child_ns: (page.get(0), page.get(1)),
        child_interfaces: page.get(2),
        child_has_lo: page.get(3) == 1,
        child_lo_up: page.get(4) == 1,
        parent_interfaces: read_interfaces().0,
        in_user_namespace: flags.contains(CloneFlags::CLONE_NEWUSER),
        status: child.status,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "/proc/self/ns/net inode: parent {}, child {}",
            self.parent_ns.1, self.child_ns.1
        )?;
        writeln!(
            f,
            "child's interfaces: {} ({}), lo is {}",
            self.child_interfaces,
            if self.child_has_lo { "lo" } else { "no lo" },
            if self.child_lo_up { "UP" } else { "DOWN" }
        )?;
        writeln!(f, "parent's interfaces: {}", self.parent_interfaces)?;
        if self.in_user_namespace {
            writeln!(f, "(unprivileged: CLONE_NEWUSER was added)")?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
