//! `CLONE_NEWNS | SIGCHLD`: the child gets its own copy of the mount table.
//!
//! A copy is not yet isolation: on systemd machines `/` is a *shared* mount,
//! so by default a mount the child makes under it propagates back to the
//! parent's namespace. The child therefore first makes `/` recursively private
//! (`mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)`), then mounts a tmpfs.
//! The child's `/proc/self/mountinfo` lists it; the parent's does not.
//! Unprivileged callers get CLONE_NEWUSER added.
//!
//! Its further case, [`propagation`](crate::experiments::newns::propagation()) (tour entry `newns.propagation`, in
//! `propagation.rs`), asks when a mount made in the child's new namespace
//! reaches the parent's.

mod propagation;

pub use propagation::{propagation, Propagation, CASES};

use super::record::Checks;
use super::text::YesNo;
use super::Calls;
use super::{contains, namespace_flags, run_child, CPath, SharedPage, Text};
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
    /// The mount point used.
    pub mount_point: CPath,
    /// Whether the parent's `/` was a shared mount (the reason for MS_PRIVATE).
    pub root_was_shared: bool,
    /// The child's mountinfo lists the tmpfs.
    pub child_sees_mount: bool,
    /// The parent's mountinfo lists it.
    pub parent_sees_mount: bool,
    /// The child's `/` is the parent's (same device and inode): a new mount
    /// namespace does not change the root.
    pub same_root: bool,
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
            self.child_sees_mount && !self.parent_sees_mount,
            "the child's tmpfs is in its mount table, not the parent's",
            format_args!(
                "the child's mountinfo lists it: {}, the parent's: {}",
                YesNo(self.child_sees_mount),
                YesNo(self.parent_sees_mount)
            ),
        );
        c.check(
            self.same_root,
            "the root did not change",
            format_args!(
                "the child's / is ours (same device and inode): {}",
                YesNo(self.same_root)
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

/// Whether our /proc/self/mountinfo lists a mount on `point`.
fn mountinfo_lists(point: &CPath) -> bool {
    let mut buf = [0u8; 65536];
    let mut pattern = [0u8; 130];
    pattern[0] = b' ';
    let bytes = point.as_bytes();
    pattern[1..=bytes.len()].copy_from_slice(bytes);
    pattern[bytes.len() + 1] = b' ';
    let text = crate::probe::read_file(c"/proc/self/mountinfo", &mut buf).unwrap_or(b"");
    contains(text, &pattern[..bytes.len() + 2])
}

fn root_is_shared() -> bool {
    let mut buf = [0u8; 65536];
    let text = crate::probe::read_file(c"/proc/self/mountinfo", &mut buf).unwrap_or(b"");
    // Field 5 is the mount point; optional fields such as "shared:1" follow field 6.
    text.split(|&b| b == b'\n')
        .find(|line| line.split(|&b| b == b' ').nth(4) == Some(b"/"))
        .is_some_and(|line| contains(line, b" shared:"))
}

/// Run the child.
pub fn observe() -> Result<Observed, Error> {
    let flags = namespace_flags(CloneFlags::CLONE_NEWNS);
    let point = CPath::numbered("/tmp/clonelab-newns-", sys::getpid() as u64);
    sys::mkdir(point.as_cstr(), 0o700)?;
    let page = SharedPage::new()?;
    let mut calls = Calls::new();
    let child = || {
        // SAFETY: this child owns its new mount namespace.
        let mounted = unsafe {
            sys::mount(c"none", c"/", None, k::MS_REC | k::MS_PRIVATE)
                .and_then(|()| sys::mount(c"clonelab", point.as_cstr(), Some(c"tmpfs"), 0))
        };
        page.put(0, mountinfo_lists(&point) as u64);
        let (dev, ino) = crate::probe::file_identity(c"/").unwrap_or((0, 0));
        page.put(1, dev);
        page.put(2, ino);
        mounted.is_err() as i32
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(
            &mut calls,
            "CLONE_NEWNS: the child mounts a tmpfs",
            FlagsWord::new(flags, ExitSignal::SIGCHLD),
            &page,
            child,
            |_| (),
        )
    }?;
    let parent_sees_mount = mountinfo_lists(&point);
    let our_root = crate::probe::file_identity(c"/").unwrap_or((0, 0));
    let same_root = our_root != (0, 0) && (page.get(1), page.get(2)) == our_root;
    let _ = sys::rmdir(point.as_cstr());
    Ok(Observed {
        calls,
        mount_point: point,
        root_was_shared: root_is_shared(),
        child_sees_mount: page.get(0) == 1,
        parent_sees_mount,
        same_root,
        in_user_namespace: flags.contains(CloneFlags::CLONE_NEWUSER),
        status: child.status,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.root_was_shared {
            writeln!(
                f,
                "our / is a shared mount (mountinfo: shared:N): without MS_PRIVATE the child's \
                 mount would propagate back"
            )?;
        } else {
            writeln!(
                f,
                "our / is not a shared mount on this machine (mountinfo has no shared:N for it; \
                 systemd machines have one); the child makes / private first all the same"
            )?;
        }
        writeln!(
            f,
            "child mounted tmpfs on {}",
            Text(self.mount_point.as_bytes())
        )?;
        writeln!(
            f,
            "  child's mountinfo lists it:  {}",
            YesNo(self.child_sees_mount)
        )?;
        writeln!(
            f,
            "  parent's mountinfo lists it: {}",
            YesNo(self.parent_sees_mount)
        )?;
        writeln!(
            f,
            "  the child's / is ours (same device and inode): {}",
            YesNo(self.same_root)
        )?;
        if self.in_user_namespace {
            writeln!(f, "(unprivileged: CLONE_NEWUSER was added)")?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
