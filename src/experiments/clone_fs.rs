//! `CLONE_FS`: the child shares the parent's filesystem context — current
//! directory, root, and umask. Nothing else: mounts belong to the mount
//! namespace (CLONE_NEWNS), not to CLONE_FS.
//!
//! The child is asked for as `CLONE_VM | CLONE_FS | SIGCHLD` (0x311) and
//! started through the scoped API, which adds CLONE_SETTLS,
//! CLONE_PARENT_SETTID and CLONE_CHILD_CLEARTID (see
//! [`clone_vm`](super::clone_vm)): the kernel is given 0x380311, and 0x380111
//! for the contrast without CLONE_FS.
//!
//! The child calls `chdir("/proc")` and `umask(027)`; the parent's own cwd and
//! umask change with CLONE_FS and stay put without it. kcmp(KCMP_FS) agrees.
//! The parent's cwd and umask are restored afterwards.

use super::record::Checks;
use super::text::YesNo;
use super::Calls;
use super::{run_child, shares, Kcmp, SharedPage};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::sys::{self, Kcmp as K};
use crate::{Error, WaitStatus};
use core::fmt;

/// The directory the child changes to.
pub const CHILD_DIR: &core::ffi::CStr = c"/proc";
/// The umask the child sets — unless the parent's is already that, then [`OTHER_UMASK`].
pub const CHILD_UMASK: u32 = 0o027;
/// The child's umask when the parent's already equals [`CHILD_UMASK`].
pub const OTHER_UMASK: u32 = 0o077;

/// One run: what the parent's cwd and umask were after the child changed its own.
#[derive(Clone, Copy, Debug)]
pub struct Side {
    /// Whether the parent's cwd was the child's directory afterwards.
    pub cwd_followed: bool,
    /// The parent's umask afterwards.
    pub umask: u32,
    /// kcmp(KCMP_FS) while the child lived.
    pub kcmp_fs: Option<bool>,
    /// How the child ended.
    pub status: WaitStatus,
}

/// Both runs.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// The umask the child set.
    pub child_umask: u32,
    /// With CLONE_FS.
    pub with_fs: Side,
    /// Without CLONE_FS (CLONE_VM | SIGCHLD).
    pub without_fs: Side,
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let ok = WaitStatus::Exited(0);
        let (w, wo) = (&self.with_fs, &self.without_fs);
        let mut c = Checks::new();
        c.check(
            w.cwd_followed && w.umask == self.child_umask,
            "with CLONE_FS the child's chdir and umask are the parent's",
            format_args!(
                "the parent's cwd is /proc: {}, its umask {:03o}",
                YesNo(w.cwd_followed),
                w.umask
            ),
        );
        c.check(
            !wo.cwd_followed && wo.umask != self.child_umask,
            "contrast: without it, neither",
            format_args!(
                "the parent's cwd is /proc: {}, its umask {:03o}",
                YesNo(wo.cwd_followed),
                wo.umask
            ),
        );
        c.check(
            w.kcmp_fs != Some(false) && wo.kcmp_fs != Some(true),
            "kcmp(KCMP_FS) agrees",
            format_args!(
                "with CLONE_FS {}, without {}",
                Kcmp(w.kcmp_fs),
                Kcmp(wo.kcmp_fs)
            ),
        );
        c.check(
            w.status == ok && wo.status == ok,
            "both children exited 0",
            format_args!(
                "with CLONE_FS the child {}, without it {}",
                w.status, wo.status
            ),
        );
        c
    }
}

fn run(calls: &mut Calls, label: &str, flags: CloneFlags, child_umask: u32) -> Result<Side, Error> {
    let page = SharedPage::new()?;
    let child = || {
        let ok = sys::chdir(CHILD_DIR).is_ok();
        sys::umask(child_umask);
        !ok as i32
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
            |pid| shares(pid, K::Fs),
        )
    }?;
    let mut buf = [0u8; 4096];
    let cwd_followed = sys::getcwd(&mut buf)
        .map(|cwd| cwd == CHILD_DIR.to_bytes())
        .unwrap_or(false);
    let umask = sys::umask(0o022);
    sys::umask(umask);
    Ok(Side {
        cwd_followed,
        umask,
        kcmp_fs: child.parent,
        status: child.status,
    })
}

/// Run with and without CLONE_FS, restoring cwd and umask after each.
pub fn observe() -> Result<Observed, Error> {
    let mut saved = [0u8; 4096];
    let mut cwd = [0u8; 4097];
    let len = sys::getcwd(&mut saved)?.len();
    cwd[..len].copy_from_slice(&saved[..len]);
    let cwd = core::ffi::CStr::from_bytes_until_nul(&cwd)
        .map_err(|_| Error::from(crate::Errno::ENAMETOOLONG))?;
    let original_umask = sys::umask(0o022);
    sys::umask(original_umask);

    let restore = || {
        let _ = sys::chdir(cwd);
        sys::umask(original_umask);
    };
    // The child's umask must differ from ours, or the observation proves nothing.
    let child_umask = if original_umask == CHILD_UMASK {
        OTHER_UMASK
    } else {
        CHILD_UMASK
    };
    let mut calls = Calls::new();
    let with = run(
        &mut calls,
        "with CLONE_FS: the child chdirs and sets its umask",
        CloneFlags::CLONE_VM | CloneFlags::CLONE_FS,
        child_umask,
    );
    restore();
    let without = run(
        &mut calls,
        "contrast: CLONE_VM only",
        CloneFlags::CLONE_VM,
        child_umask,
    );
    restore();
    let with_fs = with?;
    let without_fs = without?;
    Ok(Observed {
        calls,
        child_umask,
        with_fs,
        without_fs,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "child: chdir(\"/proc\"), umask({:03o}); then in the parent:",
            self.child_umask
        )?;
        for (name, side) in [
            ("with CLONE_FS   ", &self.with_fs),
            ("without CLONE_FS", &self.without_fs),
        ] {
            writeln!(
                f,
                "  {name}  cwd is /proc: {:<3}  umask: {:03o}  kcmp(KCMP_FS): {}",
                YesNo(side.cwd_followed),
                side.umask,
                Kcmp(side.kcmp_fs)
            )?;
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
