//! The `newns.propagation` case: does a mount made in a child's new mount
//! namespace reach its parent's? Under a shared mount it does; once the child
//! makes the mount private, or when its mount namespace belongs to a new user
//! namespace, it does not.
//!
//! Where it sits: in [`super`] (the newns experiment), whose chapter
//! (`docs/newns.md`) explains both. What it may use: the harness
//! ([`run_child`], [`raw_fork_like`], [`map_root`]) and raw syscalls; nothing
//! here reaches the host's mount table (it all happens in a sandbox child).

use super::mountinfo_lists;
use crate::experiments::record::{self, Checks, Label};
use crate::experiments::text::YesNo;
use crate::experiments::{
    map_root, raw_fork_like, raw_fork_like_call, run_child, CPath, Calls, Recorded, SharedPage,
};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::sys;
use crate::{Error, WaitStatus};
use core::ffi::c_void;
use core::fmt;
use linux_raw_sys::general as k;

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
    pub skipped: Option<Label>,
}

impl Recorded for Propagation {
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
            format_args!(
                "mounted: plain {}, private first {}, with CLONE_NEWUSER {}",
                YesNo(self.mounted[0]),
                YesNo(self.mounted[1]),
                YesNo(self.mounted[2])
            ),
        );
        c.check(
            seen[0] == Some(true),
            "under a shared mount, the child's mount reaches the parent",
            format_args!("the parent's mountinfo lists it: {}", Seen(seen[0])),
        );
        c.check(
            seen[1] == Some(false),
            "not once the child made the mount private",
            format_args!("the parent's mountinfo lists it: {}", Seen(seen[1])),
        );
        c.check(
            seen[2] == Some(false),
            "not from a mount namespace owned by a new user namespace",
            format_args!("the parent's mountinfo lists it: {}", Seen(seen[2])),
        );
        c
    }
    fn skipped(&self) -> Option<Label> {
        self.skipped
    }
}

/// Whether the parent saw a case's mount: `yes`, `no`, or `not run`.
struct Seen(Option<bool>);

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(seen) => write!(f, "{}", YesNo(seen)),
            None => f.write_str("not run"),
        }
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
        let made =
            unsafe { raw_fork_like(word, inner_child, &inner as *const Inner as *mut c_void) };
        page.put(RESULT + index, record::pid_result(&made) as u64);
        let Ok(pid) = made else { continue };
        if wait_for_map {
            let _ = map_root(pid);
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
        o.skipped = Some(Label::new(
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
            .push_in_child(label, raw_fork_like_call(word), result);
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
unsafe impl crate::plain::Plain for Propagation {}
