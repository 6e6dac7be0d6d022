//! Namespaces after birth: leaving some with `unshare`, entering one with `setns`.
//!
//! Where it sits: in the syscall layer ([`crate::sys`]), on [`crate::arch`],
//! [`crate::errno`] and [`super::fd`]. `clone` makes a child in new namespaces
//! ([`crate::flags::CloneFlags::NAMESPACES`]); these move the *calling* thread.
//!
//! ```no_run
//! use clonelab::sys;
//! use clonelab::CloneFlags;
//! // Remember where we are, move to a new UTS namespace, rename, come back.
//! let home = sys::open(c"/proc/self/ns/uts", sys::consts::O_RDONLY | sys::consts::O_CLOEXEC, 0)?;
//! sys::unshare(CloneFlags::CLONE_NEWUTS)?;
//! sys::sethostname(b"elsewhere")?;
//! sys::setns(home.as_fd(), CloneFlags::CLONE_NEWUTS)?;
//! # Ok::<(), clonelab::Error>(())
//! ```

use super::fd::BorrowedFd;
use crate::arch::{syscall1, syscall2};
use crate::errno::{decode, Errno};
use crate::error::{Error, Refusal};
use crate::flags::CloneFlags;
use linux_raw_sys::general as k;

/// `unshare(flags)`: give the calling thread its own copy of what `flags`
/// name (`CLONE_FS`, `CLONE_SYSVSEM`) and move it into new namespaces
/// (`CLONE_NEW*`). `CLONE_NEWPID` and `CLONE_NEWTIME` affect only children
/// made afterwards. A thread of a multi-threaded process cannot unshare its
/// user namespace (EINVAL).
///
/// `CLONE_FILES` is refused: a thread with a descriptor table of its own
/// could hand an [`OwnedFd`](super::OwnedFd) to another thread, whose drop
/// would then close a descriptor of a different table, owned by someone else
/// there. [`unshare_unchecked`] allows it.
pub fn unshare(flags: CloneFlags) -> Result<(), Error> {
    if flags.intersects(CloneFlags::CLONE_FILES) {
        return Err(Error::FlagNotAllowed(Refusal::new(
            "CLONE_FILES",
            "a private descriptor table makes descriptors mean different files on different \
             threads; see clonelab::sys::unshare_unchecked",
        )));
    }
    // SAFETY: CLONE_FILES is refused above, which is all unshare_unchecked asks.
    unsafe { unshare_unchecked(flags) }.map_err(Error::from)
}

/// [`unshare`] that also allows `CLONE_FILES`.
///
/// # Safety
/// With `CLONE_FILES`, from then on no descriptor may cross between the
/// calling thread and the rest of the process: an `OwnedFd`, `File` or raw
/// number opened on one side names another file (or none) on the other, and
/// closing it there closes what someone else owns.
pub unsafe fn unshare_unchecked(flags: CloneFlags) -> Result<(), Errno> {
    // SAFETY: no pointers are passed; the caller keeps descriptors on their side.
    decode(unsafe { syscall1(k::__NR_unshare, flags.bits() as usize) }).map(drop)
}

/// `setns(fd, nstype)`: move the calling thread into the namespace that `fd`
/// refers to (a `/proc/<pid>/ns/<kind>` file, or a pidfd with several
/// `CLONE_NEW*` flags). `nstype` names the kind expected, or is empty for any.
pub fn setns(fd: BorrowedFd<'_>, nstype: CloneFlags) -> Result<(), Errno> {
    // SAFETY: no pointers are passed.
    decode(unsafe { syscall2(k::__NR_setns, fd.as_raw() as usize, nstype.bits() as usize) })
        .map(drop)
}
