//! Paths: opening, reading links, file identity, directories, cwd, umask, root.
//!
//! Where it sits: in the syscall layer ([`crate::sys`]), on [`crate::arch`],
//! [`crate::errno`] and the descriptor types of [`super::fd`]. These are the
//! calls CLONE_FS decides the meaning of (cwd, root, umask are per-`fs_struct`).

use super::fd::OwnedFd;
use crate::arch::{syscall1, syscall2, syscall3, syscall4, syscall5};
use crate::errno::{decode, Errno};
use core::ffi::c_int;
use linux_raw_sys::general as k;

/// `open(path, flags, mode)` (as `openat(AT_FDCWD, ...)`): the new descriptor, owned.
pub fn open(path: &core::ffi::CStr, flags: u32, mode: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: path is a valid C string.
    decode(unsafe {
        syscall4(
            k::__NR_openat,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            flags as usize,
            mode as usize,
        )
    })
    // SAFETY: the kernel just opened it for us alone.
    .map(|fd| unsafe { OwnedFd::from_raw(fd as c_int) })
}

/// `readlinkat(AT_FDCWD, path, buf)`: returns the link's target bytes.
pub fn readlink<'a>(path: &core::ffi::CStr, buf: &'a mut [u8]) -> Result<&'a [u8], Errno> {
    // SAFETY: path is a C string; buf is writable for its length.
    let n = decode(unsafe {
        syscall4(
            k::__NR_readlinkat,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    })?;
    Ok(&buf[..n])
}

/// `statx(AT_FDCWD, path, 0, mask)`: what `mask` asks about the file.
pub fn statx(path: &core::ffi::CStr, mask: u32) -> Result<k::statx, Errno> {
    // SAFETY: statx is plain old data; zeroes are a valid value.
    let mut stx: k::statx = unsafe { core::mem::zeroed() };
    // SAFETY: path is a C string; stx is writable.
    decode(unsafe {
        syscall5(
            k::__NR_statx,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            0,
            mask as usize,
            &mut stx as *mut k::statx as usize,
        )
    })?;
    Ok(stx)
}

/// `chdir(path)`.
pub fn chdir(path: &core::ffi::CStr) -> Result<(), Errno> {
    // SAFETY: path is a C string.
    decode(unsafe { syscall1(k::__NR_chdir, path.as_ptr() as usize) }).map(drop)
}

/// `getcwd(buf)`: the current directory, without its NUL.
pub fn getcwd(buf: &mut [u8]) -> Result<&[u8], Errno> {
    // SAFETY: buf is writable for its length.
    let n = decode(unsafe { syscall2(k::__NR_getcwd, buf.as_mut_ptr() as usize, buf.len()) })?;
    Ok(&buf[..n.saturating_sub(1)])
}

/// `umask(mask)`: sets the mask, returns the previous one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask has no pointers and cannot fail.
    unsafe { syscall1(k::__NR_umask, mask as usize) as u32 }
}

/// `mkdirat(AT_FDCWD, path, mode)`; EEXIST is success.
pub fn mkdir(path: &core::ffi::CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: path is a C string.
    match decode(unsafe {
        syscall3(
            k::__NR_mkdirat,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            mode as usize,
        )
    }) {
        Ok(_) | Err(Errno::EEXIST) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `unlinkat(AT_FDCWD, path, AT_REMOVEDIR)`: remove an empty directory.
pub fn rmdir(path: &core::ffi::CStr) -> Result<(), Errno> {
    // SAFETY: path is a C string.
    decode(unsafe {
        syscall3(
            k::__NR_unlinkat,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            k::AT_REMOVEDIR as usize,
        )
    })
    .map(drop)
}

/// `unlinkat(AT_FDCWD, path, 0)`: remove a file.
pub fn unlink(path: &core::ffi::CStr) -> Result<(), Errno> {
    // SAFETY: path is a C string.
    decode(unsafe {
        syscall3(
            k::__NR_unlinkat,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            0,
        )
    })
    .map(drop)
}

/// `chroot(path)`.
///
/// # Safety
/// Changes the root directory of the calling process.
pub unsafe fn chroot(path: &core::ffi::CStr) -> Result<(), Errno> {
    // SAFETY: a C string.
    decode(unsafe { syscall1(k::__NR_chroot, path.as_ptr() as usize) }).map(drop)
}
