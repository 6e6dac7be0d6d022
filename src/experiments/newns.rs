//! `CLONE_NEWNS | SIGCHLD`: the child gets its own copy of the mount table.
//!
//! A copy is not yet isolation: on systemd machines `/` is a *shared* mount,
//! so by default a mount the child makes under it propagates back to the
//! parent's namespace. The child therefore first makes `/` recursively private
//! (`mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)`), then mounts a tmpfs.
//! The child's `/proc/self/mountinfo` lists it; the parent's does not.
//! Unprivileged callers get CLONE_NEWUSER added.

use super::record::Checks;
use super::Calls;
use super::{contains, namespace_flags, run_child, CPath, SharedPage, Text};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::sys;
use crate::{Error, WaitStatus};
use core::ffi::c_void;
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
                "child: {}, parent: {}",
                self.child_sees_mount, self.parent_sees_mount
            ),
        );
        c.check(
            self.same_root,
            "the root did not change",
            format_args!("the child's / is ours: {}", self.same_root),
        );
        c.check(
            self.status == WaitStatus::Exited(0),
            "the child exited 0",
            format_args!("{:?}", self.status),
        );
        c
    }
}

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
            writeln!(f, "parent's / is a shared mount: without MS_PRIVATE the child's mount would propagate back")?;
        } else {
            writeln!(f, "parent's / is private here (systemd makes it shared); the child makes / private anyway")?;
        }
        writeln!(
            f,
            "child mounted tmpfs on {}",
            Text(self.mount_point.as_bytes())
        )?;
        writeln!(
            f,
            "  child's mountinfo lists it:  {}",
            self.child_sees_mount
        )?;
        writeln!(
            f,
            "  parent's mountinfo lists it: {}",
            self.parent_sees_mount
        )?;
        writeln!(
            f,
            "  the child's / is ours (same device and inode): {}",
            self.same_root
        )?;
        if self.in_user_namespace {
            writeln!(f, "(unprivileged: CLONE_NEWUSER was added)")?;
        }
        Ok(())
    }
}

/// The three inner children of [`propagation`]: flags, whether the child
/// makes the shared mount private before mounting, and what the tour calls it.
pub const CASES: [(CloneFlags, bool, &str); 3] = [
    (
        CloneFlags::CLONE_NEWNS,
        false,
        "CLONE_NEWNS under a shared mount: the child mounts",
    ),
    (
        CloneFlags::CLONE_NEWNS,
        true,
        "CLONE_NEWNS, the child makes the mount private first",
    ),
    (
        CloneFlags::from_bits_retain(
            CloneFlags::CLONE_NEWNS.bits() | CloneFlags::CLONE_NEWUSER.bits(),
        ),
        false,
        "CLONE_NEWNS|CLONE_NEWUSER: a less privileged mount namespace",
    ),
];

/// Slots of the sandbox's shared page: per case, the clone result, the mount's
/// success in the child, "the uid map is written", and what the sandbox saw.
const RESULT: usize = 8;
const MOUNTED: usize = 16;
const MAPPED: usize = 24;
const SEEN: usize = 32;

/// Does a mount made in a child's new mount namespace reach its parent's?
/// All of it happens inside a sandbox child with its own mount namespace
/// (`/` made private, a tmpfs marked MS_SHARED), so nothing reaches the host.
#[derive(Clone, Copy, Debug)]
pub struct Propagation {
    /// Every call: the sandbox, then its three children (made by the sandbox).
    pub calls: Calls,
    /// Per case of [`CASES`]: the sandbox's mountinfo lists the child's mount
    /// (None: the case did not run).
    pub seen_by_parent: [Option<bool>; 3],
    /// Per case: the child's mount succeeded.
    pub mounted: [bool; 3],
    /// Why it did not run here.
    pub skipped: Option<super::record::Label>,
}

impl super::Recorded for Propagation {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let mut c = Checks::new();
        if let Some(why) = self.skipped {
            c.check(true, "not run", format_args!("{why}"));
            return c;
        }
        let seen = self.seen_by_parent;
        c.check(
            self.mounted == [true; 3],
            "every child's mount succeeded (so \"not seen\" is not a failure)",
            format_args!("{:?}", self.mounted),
        );
        c.check(
            seen[0] == Some(true),
            "under a shared mount, the child's mount reaches the parent",
            format_args!("seen: {:?}", seen[0]),
        );
        c.check(
            seen[1] == Some(false),
            "not once the child made the mount private",
            format_args!("seen: {:?}", seen[1]),
        );
        c.check(
            seen[2] == Some(false),
            "not from a mount namespace owned by a new user namespace",
            format_args!("seen: {:?}", seen[2]),
        );
        c
    }
    fn skipped(&self) -> Option<super::record::Label> {
        self.skipped
    }
}

/// What an inner child gets.
struct Inner<'a> {
    shared: CPath,
    point: CPath,
    index: usize,
    private_first: bool,
    wait_for_map: bool,
    page: &'a SharedPage,
}

unsafe extern "C" fn inner_child(arg: *mut c_void) -> i32 {
    // SAFETY: arg is the sandbox's Inner; this fork-like child reads its own
    // copy, and the page behind it is MAP_SHARED and outlives the child.
    let inner = unsafe { &*(arg as *const Inner) };
    if inner.wait_for_map {
        // Unmapped, mounting in the new user namespace is refused: wait for the map.
        while inner.page.get(MAPPED + inner.index) == 0 {
            sys::sched_yield();
        }
    }
    // SAFETY: this child owns its new mount namespace.
    let mounted = unsafe {
        let private = if inner.private_first {
            sys::mount(
                c"none",
                inner.shared.as_cstr(),
                None,
                k::MS_REC | k::MS_PRIVATE,
            )
        } else {
            Ok(())
        };
        private.and_then(|()| sys::mount(c"clonelab", inner.point.as_cstr(), Some(c"tmpfs"), 0))
    };
    inner
        .page
        .put(MOUNTED + inner.index, mounted.is_ok() as u64);
    0
}

/// The sandbox: set up a shared tmpfs at `shared`, run the three cases.
fn sandbox(shared: &CPath, page: &SharedPage) -> i32 {
    // SAFETY: the sandbox owns its new mount namespace; `/` is made private
    // first, so nothing below propagates to the host.
    let ready = unsafe {
        sys::mount(c"none", c"/", None, k::MS_REC | k::MS_PRIVATE)
            .and_then(|()| sys::mount(c"clonelab", shared.as_cstr(), Some(c"tmpfs"), 0))
            .and_then(|()| sys::mount(c"none", shared.as_cstr(), None, k::MS_SHARED))
    };
    if ready.is_err() {
        return 1;
    }
    for (index, (flags, private_first, _)) in CASES.iter().enumerate() {
        let mut point = *shared;
        point.push(b"/case-").push(&[b'0' + index as u8]);
        if sys::mkdir(point.as_cstr(), 0o755).is_err() {
            return 2;
        }
        let wait_for_map = flags.contains(CloneFlags::CLONE_NEWUSER);
        let inner = Inner {
            shared: *shared,
            point,
            index,
            private_first: *private_first,
            wait_for_map,
            page,
        };
        let word = FlagsWord::new(*flags, ExitSignal::SIGCHLD);
        // SAFETY: fork-like; `inner` lives in this frame until the child is reaped.
        let made = unsafe {
            super::raw_fork_like(word, inner_child, &inner as *const Inner as *mut c_void)
        };
        page.put(RESULT + index, super::record::pid_result(&made) as u64);
        let Ok(pid) = made else { continue };
        if wait_for_map {
            let _ = super::errors::map_root(pid);
            page.put(MAPPED + index, 1);
        }
        let _ = crate::wait::wait_pid(pid, k::__WALL);
        page.put(SEEN + index, 1 + mountinfo_lists(&point) as u64);
    }
    0
}

/// Run the sandbox and its three children (root only: the sandbox mounts).
pub fn propagation() -> Result<Propagation, Error> {
    let mut o = Propagation {
        calls: Calls::new(),
        seen_by_parent: [None; 3],
        mounted: [false; 3],
        skipped: None,
    };
    if sys::geteuid() != 0 {
        o.skipped = Some(super::record::Label::new(
            "needs root: the sandbox mounts a tmpfs and maps uid 0 for its user-namespace child",
        ));
        return Ok(o);
    }
    let shared = CPath::numbered("/tmp/clonelab-propagation-", sys::getpid() as u64);
    sys::mkdir(shared.as_cstr(), 0o700)?;
    let page = SharedPage::new()?;
    let child = || sandbox(&shared, &page);
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let sandbox_run = unsafe {
        run_child(
            &mut o.calls,
            "the sandbox: its own mount namespace, a shared tmpfs in it",
            FlagsWord::new(CloneFlags::CLONE_NEWNS, ExitSignal::SIGCHLD),
            &page,
            child,
            |_| (),
        )
    };
    let _ = sys::rmdir(shared.as_cstr());
    let sandbox_run = sandbox_run?;
    for (index, (flags, _, label)) in CASES.iter().enumerate() {
        let result = page.get(RESULT + index) as i64;
        if result == 0 {
            continue;
        }
        let word = FlagsWord::new(*flags, ExitSignal::SIGCHLD);
        o.calls
            .push_in_child(label, super::raw_fork_like_call(word), result);
        o.mounted[index] = page.get(MOUNTED + index) == 1;
        o.seen_by_parent[index] = match page.get(SEEN + index) {
            0 => None,
            seen => Some(seen == 2),
        };
    }
    if sandbox_run.status != WaitStatus::Exited(0) {
        return Err(Error::from(crate::Errno::EIO));
    }
    Ok(o)
}

impl fmt::Display for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(why) = self.skipped {
            return writeln!(f, "not run: {why}");
        }
        writeln!(
            f,
            "in the sandbox, a tmpfs marked MS_SHARED; each child mounts below it:"
        )?;
        for (i, (_, _, label)) in CASES.iter().enumerate() {
            let seen = match self.seen_by_parent[i] {
                Some(true) => "reaches the parent",
                Some(false) => "stays in the child",
                None => "did not run",
            };
            writeln!(
                f,
                "  {label}: mount {}; {seen}",
                if self.mounted[i] { "ok" } else { "FAILED" }
            )?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Propagation {}
