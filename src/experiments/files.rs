//! File handling across clone: paths follow CLONE_FS, descriptors follow CLONE_FILES.
//!
//! Part 1 (`CLONE_VM | CLONE_FS`): the child `chdir`s into directory `b` and
//! creates `note` by a *relative* path; the parent, whose cwd was `a`, then
//! opens `note` by the same relative path. With CLONE_FS they share one cwd,
//! so the parent finds it; without, the parent's `note` still means `a/note`
//! and is not there.
//!
//! Part 2 (`CLONE_VM | CLONE_FILES`): the child opens a file and closes a
//! descriptor the parent had opened. With CLONE_FILES the parent sees the
//! child's new descriptor open and its own one closed; without, neither.

use super::record::Checks;
use super::text::YesNo;
use super::Calls;
use super::{run_child, shares, CPath, Kcmp, SharedPage};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::sys::{self, Kcmp as K};
use crate::{Error, WaitStatus};
use core::fmt;
use linux_raw_sys::general as k;

/// One run of each part.
#[derive(Clone, Copy, Debug)]
pub struct Side {
    /// Part 1: the parent's relative open of the child's `note` succeeded.
    pub relative_open_found: bool,
    /// Part 2: the child's new descriptor is open in the parent.
    pub child_fd_open_in_parent: bool,
    /// Part 2: the descriptor the child closed is still open in the parent.
    pub parent_fd_still_open: bool,
    /// kcmp(KCMP_FILES) during part 2.
    pub kcmp_files: Option<bool>,
    /// Both children exited 0.
    pub children_ok: bool,
}

/// With and without the flags.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// With CLONE_FS (part 1) and CLONE_FILES (part 2).
    pub shared: Side,
    /// With neither.
    pub private: Side,
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let (s, p) = (&self.shared, &self.private);
        let mut c = Checks::new();
        c.check(
            s.relative_open_found && !p.relative_open_found,
            "a relative path follows the cwd only with CLONE_FS",
            format_args!(
                "the parent's open(\"note\") found it: with CLONE_FS {}, without {}",
                YesNo(s.relative_open_found),
                YesNo(p.relative_open_found)
            ),
        );
        c.check(
            s.child_fd_open_in_parent && !p.child_fd_open_in_parent,
            "the child's new descriptor is ours only with CLONE_FILES",
            format_args!(
                "the child's new fd is open in the parent: with CLONE_FILES {}, without {}",
                YesNo(s.child_fd_open_in_parent),
                YesNo(p.child_fd_open_in_parent)
            ),
        );
        c.check(
            !s.parent_fd_still_open && p.parent_fd_still_open,
            "the child's close closes ours only with CLONE_FILES",
            format_args!(
                "the parent's fd is still open: with CLONE_FILES {}, without {}",
                YesNo(s.parent_fd_still_open),
                YesNo(p.parent_fd_still_open)
            ),
        );
        c.check(
            s.kcmp_files != Some(false) && p.kcmp_files != Some(true),
            "kcmp(KCMP_FILES) agrees",
            format_args!(
                "with CLONE_FILES {}, without {}",
                Kcmp(s.kcmp_files),
                Kcmp(p.kcmp_files)
            ),
        );
        c.check(
            s.children_ok && p.children_ok,
            "every child exited 0",
            format_args!(
                "exit status 0: the children with the flags {}, those without {}",
                YesNo(s.children_ok),
                YesNo(p.children_ok)
            ),
        );
        c
    }
}

fn part_one(
    calls: &mut Calls,
    dir_a: &CPath,
    dir_b: &CPath,
    share: bool,
) -> Result<(bool, WaitStatus), Error> {
    let flags = if share {
        CloneFlags::CLONE_VM | CloneFlags::CLONE_FS
    } else {
        CloneFlags::CLONE_VM
    };
    sys::chdir(dir_a.as_cstr())?;
    let page = SharedPage::new()?;
    let label = if share {
        "part 1, CLONE_FS: the child chdirs and creates note"
    } else {
        "part 1, contrast: no CLONE_FS"
    };
    let child = || {
        let created = sys::chdir(dir_b.as_cstr())
            .and_then(|()| sys::open(c"note", k::O_CREAT | k::O_WRONLY | k::O_CLOEXEC, 0o600));
        match created {
            // SAFETY: the child opened fd itself.
            Ok(fd) => unsafe { sys::close(fd.into_raw()).is_err() as i32 },
            Err(_) => 1,
        }
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(
            calls,
            label,
            FlagsWord::new(flags, ExitSignal::SIGCHLD),
            &page,
            child,
            |_| (),
        )
    }?;
    let found = match sys::open(c"note", k::O_RDONLY | k::O_CLOEXEC, 0) {
        Ok(_fd) => true,
        Err(_) => false,
    };
    let mut note = *dir_b;
    let _ = sys::unlink(note.push(b"/note").as_cstr());
    Ok((found, child.status))
}

fn part_two(
    calls: &mut Calls,
    share: bool,
) -> Result<(bool, bool, Option<bool>, WaitStatus), Error> {
    let flags = if share {
        CloneFlags::CLONE_VM | CloneFlags::CLONE_FILES
    } else {
        CloneFlags::CLONE_VM
    };
    // Raw, not owned: with CLONE_FILES the child closes it in our table.
    let parent_fd = sys::open(c"/dev/null", k::O_RDONLY | k::O_CLOEXEC, 0)?.into_raw();
    let page = SharedPage::new()?;
    let label = if share {
        "part 2, CLONE_FILES: the child opens one fd, closes ours"
    } else {
        "part 2, contrast: no CLONE_FILES"
    };
    let child = || {
        match sys::open(c"/proc/self/stat", k::O_RDONLY | k::O_CLOEXEC, 0) {
            // Left open on purpose: the parent looks for it in its table.
            // Stored as fd + 1, so that 0 means "nothing opened".
            Ok(fd) => page.put(0, fd.into_raw() as u64 + 1),
            Err(_) => return 1,
        }
        // SAFETY: closing the parent's /dev/null descriptor is the point of the
        // experiment; the parent does not use it except to check it.
        unsafe { sys::close(parent_fd).is_err() as i32 }
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(
            calls,
            label,
            FlagsWord::new(flags, ExitSignal::SIGCHLD),
            &page,
            child,
            |pid| shares(pid, K::Files),
        )
    }?;
    // (If run_child failed, parent_fd is left open: a child may have closed
    // it already, and the number may name someone else's file by now.)
    let child_fd = page.get(0).checked_sub(1).map(|fd| fd as i32);
    let child_fd_open = child_fd.is_some_and(crate::probe::fd_is_open);
    let parent_fd_open = crate::probe::fd_is_open(parent_fd);
    // Close what is left open in our table: the child's descriptor if it
    // opened one in our (shared) table; ours unless the child closed it
    // (it exits 0 only after closing it, and only a sharing child can).
    let child_closed_ours = share && child.status == WaitStatus::Exited(0);
    // SAFETY: both descriptors belong to this experiment, and each is closed
    // only where it is still open in our table.
    unsafe {
        if let (true, Some(fd)) = (share, child_fd) {
            let _ = sys::close(fd);
        }
        if !child_closed_ours {
            let _ = sys::close(parent_fd);
        }
    }
    Ok((child_fd_open, parent_fd_open, child.parent, child.status))
}

/// Run both parts with and without sharing; the parent's cwd is restored.
pub fn observe() -> Result<Observed, Error> {
    let mut cwd = [0u8; 4097];
    let len = sys::getcwd(&mut cwd[..4096])?.len();
    cwd[len] = 0;
    let base = CPath::numbered("/tmp/clonelab-files-", sys::getpid() as u64);
    let (mut dir_a, mut dir_b) = (base, base);
    dir_a.push(b"-a");
    dir_b.push(b"-b");
    sys::mkdir(dir_a.as_cstr(), 0o700)?;
    sys::mkdir(dir_b.as_cstr(), 0o700)?;

    let mut calls = Calls::new();
    let mut side = |share: bool| -> Result<Side, Error> {
        let (relative_open_found, s1) = part_one(&mut calls, &dir_a, &dir_b, share)?;
        let (child_fd_open_in_parent, parent_fd_still_open, kcmp_files, s2) =
            part_two(&mut calls, share)?;
        let ok = WaitStatus::Exited(0);
        let side = Side {
            relative_open_found,
            child_fd_open_in_parent,
            parent_fd_still_open,
            kcmp_files,
            children_ok: s1 == ok && s2 == ok,
        };
        Ok(side)
    };
    let shared = side(true);
    let private = side(false);
    let _ = sys::chdir(core::ffi::CStr::from_bytes_until_nul(&cwd).unwrap_or(c"/"));
    let _ = sys::rmdir(dir_a.as_cstr());
    let _ = sys::rmdir(dir_b.as_cstr());
    let shared = shared?;
    let private = private?;
    Ok(Observed {
        calls,
        shared,
        private,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, side) in [
            ("shared (CLONE_FS, CLONE_FILES)", &self.shared),
            ("private (neither)", &self.private),
        ] {
            writeln!(f, "{name}:")?;
            writeln!(
                f,
                "  parent's open(\"note\") after the child's chdir + create: {}",
                if side.relative_open_found {
                    "found"
                } else {
                    "not found"
                }
            )?;
            writeln!(
                f,
                "  child's new fd open in the parent: {}",
                YesNo(side.child_fd_open_in_parent)
            )?;
            writeln!(
                f,
                "  parent's fd still open after the child closed it: {}",
                YesNo(side.parent_fd_still_open)
            )?;
            writeln!(f, "  kcmp(KCMP_FILES): {}", Kcmp(side.kcmp_files))?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Side {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
