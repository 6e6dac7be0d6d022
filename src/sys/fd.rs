//! File descriptors: an owned one that closes on drop, a borrowed one, and
//! the syscalls that make, copy, read, write and close them.
//!
//! Where it sits: in the syscall layer ([`crate::sys`]), on [`crate::arch`]
//! and [`crate::errno`] only. Every descriptor clonelab hands out (pidfds,
//! pipes, signalfds, files it opens) is an [`OwnedFd`]; calls that only use one
//! take a [`BorrowedFd`], which cannot outlive its owner.
//!
//! ```
//! use clonelab::sys::{self, consts::O_CLOEXEC};
//! let (reader, writer) = sys::pipe(O_CLOEXEC).unwrap();
//! assert_eq!(sys::write(writer.as_fd(), b"hi").unwrap(), 2);
//! let mut buf = [0u8; 2];
//! assert_eq!(sys::read(reader.as_fd(), &mut buf).unwrap(), 2);
//! assert_eq!(&buf, b"hi");
//! // Both ends close here, when they go out of scope.
//! ```

use crate::arch::{syscall1, syscall2, syscall3};
use crate::errno::{decode, Errno};
use core::ffi::c_int;
use core::marker::PhantomData;
use linux_raw_sys::general as k;

/// A file descriptor this value owns: closed when it is dropped.
///
/// The same contract as `std::os::fd::OwnedFd` (which a no_std crate cannot
/// use): nothing else closes it. Convert with [`OwnedFd::into_raw`] and
/// `std::os::fd::OwnedFd::from_raw_fd`.
#[derive(Debug, PartialEq, Eq)]
pub struct OwnedFd(c_int);

/// A file descriptor borrowed from its owner for `'fd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BorrowedFd<'fd> {
    fd: c_int,
    owner: PhantomData<&'fd OwnedFd>,
}

impl OwnedFd {
    /// Take ownership of a raw descriptor.
    ///
    /// # Safety
    /// `fd` must be open and owned by nobody else: it will be closed on drop.
    pub const unsafe fn from_raw(fd: c_int) -> OwnedFd {
        OwnedFd(fd)
    }

    /// The descriptor number, still owned by `self`.
    pub const fn as_raw(&self) -> c_int {
        self.0
    }

    /// Give up ownership: the caller must close the descriptor.
    pub fn into_raw(self) -> c_int {
        let fd = self.0;
        core::mem::forget(self);
        fd
    }

    /// Borrow it.
    pub const fn as_fd(&self) -> BorrowedFd<'_> {
        BorrowedFd {
            fd: self.0,
            owner: PhantomData,
        }
    }
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor; EINTR and EIO still close it on Linux.
        let _ = decode(unsafe { syscall1(k::__NR_close, self.0 as usize) });
    }
}

impl BorrowedFd<'_> {
    /// Borrow a raw descriptor for `'a`.
    ///
    /// # Safety
    /// `fd` must stay open for the lifetime of the borrow.
    pub const unsafe fn borrow_raw<'a>(fd: c_int) -> BorrowedFd<'a> {
        BorrowedFd {
            fd,
            owner: PhantomData,
        }
    }

    /// The descriptor number.
    pub const fn as_raw(self) -> c_int {
        self.fd
    }
}

impl BorrowedFd<'static> {
    /// Standard input, descriptor 0.
    pub const STDIN: BorrowedFd<'static> = BorrowedFd {
        fd: 0,
        owner: PhantomData,
    };
    /// Standard output, descriptor 1.
    pub const STDOUT: BorrowedFd<'static> = BorrowedFd {
        fd: 1,
        owner: PhantomData,
    };
    /// Standard error, descriptor 2.
    pub const STDERR: BorrowedFd<'static> = BorrowedFd {
        fd: 2,
        owner: PhantomData,
    };
}

/// `close(fd)` of a raw descriptor. An [`OwnedFd`] closes itself; this is for
/// descriptors that came in some other way.
///
/// # Safety
/// `fd` must be owned by the caller: closing a descriptor that a `File` or
/// another owner still uses breaks Rust's I/O safety.
pub unsafe fn close(fd: c_int) -> Result<(), Errno> {
    // SAFETY: close takes no pointers; the caller owns fd.
    decode(unsafe { syscall1(k::__NR_close, fd as usize) }).map(drop)
}

/// `write(fd, buf)`: returns the number of bytes written.
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: buf is valid for buf.len() bytes of reading.
    decode(unsafe {
        syscall3(
            k::__NR_write,
            fd.fd as usize,
            buf.as_ptr() as usize,
            buf.len(),
        )
    })
}

/// `read(fd, buf)`: returns the number of bytes read.
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is valid for buf.len() bytes of writing.
    decode(unsafe {
        syscall3(
            k::__NR_read,
            fd.fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    })
}

/// `pipe2(flags)`: (read end, write end).
pub fn pipe(flags: u32) -> Result<(OwnedFd, OwnedFd), Errno> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: fds has room for two descriptors.
    decode(unsafe { syscall2(k::__NR_pipe2, fds.as_mut_ptr() as usize, flags as usize) })?;
    // SAFETY: the kernel just opened both, and nobody else knows them.
    Ok(unsafe { (OwnedFd::from_raw(fds[0]), OwnedFd::from_raw(fds[1])) })
}

/// `dup3(old, new, flags)` (aarch64 has no dup2; dup3 exists on all six arches):
/// `new` becomes a copy of `old`.
///
/// # Safety
/// `new` is closed first if open: it must be the caller's to replace. The
/// returned number is `new`; who owns it is the caller's business (often a
/// standard descriptor about to be inherited through `execve`).
pub unsafe fn dup3(old: BorrowedFd<'_>, new: c_int, flags: u32) -> Result<c_int, Errno> {
    // SAFETY: no pointers; the caller owns `new`.
    decode(unsafe { syscall3(k::__NR_dup3, old.fd as usize, new as usize, flags as usize) })
        .map(|fd| fd as c_int)
}

/// `fcntl(fd, F_GETFD)`: the descriptor's flags (`FD_CLOEXEC`); `EBADF` if
/// `fd` is not open in this process's table.
pub fn fcntl_getfd(fd: c_int) -> Result<u32, Errno> {
    // SAFETY: F_GETFD reads a descriptor's flags only.
    decode(unsafe { syscall2(k::__NR_fcntl, fd as usize, k::F_GETFD as usize) }).map(|f| f as u32)
}
