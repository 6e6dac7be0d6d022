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
//! # Ok::<(), clonelab::Errno>(())
//! ```

use super::fd::BorrowedFd;
use crate::arch::{syscall1, syscall2};
use crate::errno::{decode, Errno};
use crate::flags::CloneFlags;
use linux_raw_sys::general as k;

/// `unshare(flags)`: give the calling thread its own copy of what `flags`
/// name (`CLONE_FS`, `CLONE_FILES`, `CLONE_SYSVSEM`) and move it into new
/// namespaces (`CLONE_NEW*`). `CLONE_NEWPID` and `CLONE_NEWTIME` affect only
/// children made afterwards. A thread of a multi-threaded process cannot
/// unshare its user namespace (EINVAL).
pub fn unshare(flags: CloneFlags) -> Result<(), Errno> {
    // SAFETY: no pointers are passed.
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
