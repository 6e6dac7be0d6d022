//! Reading what the kernel says about this process: small files under
//! `/proc`, the identity of a file or namespace, the kernel's version and the
//! hostname.
//!
//! Where it sits: above the syscall layer ([`crate::sys`]), which it composes
//! (each function here is a few syscalls, not one); nothing below uses it
//! except through a parameter (see [`crate::flags::broken_rules`], which is
//! told the kernel version rather than asking).
//!
//! ```
//! let mut buf = [0u8; 64];
//! let comm = clonelab::probe::read_file(c"/proc/self/comm", &mut buf).unwrap();
//! assert!(!comm.is_empty());
//! assert!(clonelab::probe::kernel_version().is_some());
//! ```

use crate::errno::Errno;
use crate::sys;
use core::ffi::CStr;
use linux_raw_sys::general as k;

/// Read a whole (small) file into `buf`; returns the part filled.
pub fn read_file<'a>(path: &CStr, buf: &'a mut [u8]) -> Result<&'a [u8], Errno> {
    let fd = sys::open(path, k::O_RDONLY | k::O_CLOEXEC, 0)?;
    let mut filled = 0;
    let result = loop {
        match sys::read(fd.as_fd(), &mut buf[filled..]) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                filled += n;
                if filled == buf.len() {
                    break Ok(());
                }
            }
            Err(Errno::EINTR) => {}
            Err(e) => break Err(e),
        }
    };
    result.map(|()| &buf[..filled])
}

/// The identity of a file — and of a namespace, for `/proc/self/ns/*`:
/// `(st_dev, st_ino)` from `statx`. Two processes are in the same namespace
/// exactly when their `/proc/<pid>/ns/<kind>` have the same identity.
pub fn file_identity(path: &CStr) -> Result<(u64, u64), Errno> {
    let stx = sys::statx(path, k::STATX_BASIC_STATS)?;
    let dev = ((stx.stx_dev_major as u64) << 32) | stx.stx_dev_minor as u64;
    Ok((dev, stx.stx_ino))
}

/// The hostname (`uname().nodename`), copied into `buf`.
pub fn hostname(buf: &mut [u8; 65]) -> Result<&[u8], Errno> {
    let uts = sys::uname()?;
    let len = uts.nodename.iter().position(|&c| c == 0).unwrap_or(64);
    for (dst, &src) in buf.iter_mut().zip(&uts.nodename[..len]) {
        *dst = src as u8;
    }
    Ok(&buf[..len])
}

/// The running kernel's `(major, minor)` version, from `uname().release`.
pub fn kernel_version() -> Option<(u32, u32)> {
    let uts = sys::uname().ok()?;
    let release = uts.release.map(|c| c as u8);
    let mut parts = release.split(|&b| b == b'.' || b == 0 || b == b'-');
    let number = |p: Option<&[u8]>| core::str::from_utf8(p?).ok()?.parse().ok();
    Some((number(parts.next())?, number(parts.next())?))
}

/// Whether `fd` is open in this process's descriptor table (`fcntl(F_GETFD)`
/// does not fail with EBADF): [`sys::is_open`], which says why a bare number
/// is safe to ask about.
pub fn fd_is_open(fd: core::ffi::c_int) -> bool {
    sys::is_open(fd)
}
