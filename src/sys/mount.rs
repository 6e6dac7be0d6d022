//! Mounts: mounting, unmounting, and swapping the root of a mount namespace.
//!
//! Where it sits: in the syscall layer ([`crate::sys`]), on [`crate::arch`]
//! and [`crate::errno`] only. Each call changes what every process of the
//! caller's mount namespace sees, so each is `unsafe`.

use crate::arch::{syscall2, syscall5};
use crate::errno::{decode, Errno};
use linux_raw_sys::general as k;

/// `mount(source, target, fstype, flags, data)`; all strings NUL-terminated.
///
/// # Safety
/// Mounting over a path other code relies on changes what it sees; the
/// pointers must be valid C strings (or null where mount(2) allows).
pub unsafe fn mount(
    source: &core::ffi::CStr,
    target: &core::ffi::CStr,
    fstype: Option<&core::ffi::CStr>,
    flags: u32,
) -> Result<(), Errno> {
    let fstype = fstype.map_or(core::ptr::null(), |s| s.as_ptr());
    // SAFETY: valid C strings; data = NULL.
    decode(unsafe {
        syscall5(
            k::__NR_mount,
            source.as_ptr() as usize,
            target.as_ptr() as usize,
            fstype as usize,
            flags as usize,
            0,
        )
    })
    .map(drop)
}

/// `umount2(target, flags)`.
///
/// # Safety
/// Removes a mount other code may be using.
pub unsafe fn umount2(target: &core::ffi::CStr, flags: u32) -> Result<(), Errno> {
    // SAFETY: a C string; the caller owns the mount.
    decode(unsafe { syscall2(k::__NR_umount2, target.as_ptr() as usize, flags as usize) }).map(drop)
}

/// `pivot_root(new_root, put_old)`.
///
/// # Safety
/// Changes the root of every process in the mount namespace that had the old root.
pub unsafe fn pivot_root(
    new_root: &core::ffi::CStr,
    put_old: &core::ffi::CStr,
) -> Result<(), Errno> {
    // SAFETY: C strings; the caller owns the mount namespace.
    decode(unsafe {
        syscall2(
            k::__NR_pivot_root,
            new_root.as_ptr() as usize,
            put_old.as_ptr() as usize,
        )
    })
    .map(drop)
}
