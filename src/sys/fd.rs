//! File descriptors: an owned one that closes on drop, a borrowed one, and
//! the syscalls that make, copy, read, write and close them.
//!
//! Where it sits: in the syscall layer ([`crate::sys`]), on [`crate::arch`]
//! and [`crate::errno`] only. Every descriptor clonelab hands out (pidfds,
//! pipes, signalfds, files it opens) is an [`OwnedFd`]; calls that only use one
//! take a [`BorrowedFd`], which cannot outlive its owner.
//!
//! **One rule, as in rustix and `std::os::fd`:** a safe function takes an
//! [`OwnedFd`] or a [`BorrowedFd`], never a bare number. A bare `c_int` is
//! accepted only where nothing can go wrong whatever the number is
//! ([`is_open`], which only asks), or behind `unsafe` with the contract
//! written down ([`close`], [`dup3`], [`OwnedFd::from_raw`],
//! [`BorrowedFd::borrow_raw`]). [`OwnedFd::close`] closes one explicitly and
//! reports the error that dropping it would ignore.
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

    /// `close(fd)`, reporting what dropping the descriptor would ignore.
    ///
    /// Dropping an `OwnedFd` closes it too, but has nowhere to put an error.
    /// Some errors matter: on NFS and some other file systems, a write that
    /// failed in the background is reported only here, as `EIO` or `ENOSPC`.
    ///
    /// Whatever the result, the descriptor is gone afterwards: Linux releases
    /// the number before it can fail, even with `EINTR`. So never call
    /// `close` on the number again to "retry": by then another thread may have
    /// been given that number for a file of its own.
    ///
    /// ```
    /// use clonelab::sys::{self, consts::O_CLOEXEC};
    /// let (reader, writer) = sys::pipe(O_CLOEXEC).unwrap();
    /// let number = writer.as_raw();
    /// assert!(sys::is_open(number));
    /// assert_eq!(writer.close(), Ok(()));
    /// assert!(!sys::is_open(number), "closed in our table");
    /// // The write end is gone, so the read end sees end of file.
    /// assert_eq!(sys::read(reader.as_fd(), &mut [0u8; 1]), Ok(0));
    /// ```
    pub fn close(self) -> Result<(), Errno> {
        let fd = self.into_raw();
        // SAFETY: `self` owned the descriptor and gave it up just now, so
        // nothing else can use or close it.
        unsafe { close(fd) }
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

/// `close(fd)` of a raw descriptor number. An [`OwnedFd`] closes itself when
/// dropped, or with [`OwnedFd::close`]; this is for numbers that came in some
/// other way (inherited, passed on a command line, or in a child that owns
/// its own copy of the table).
///
/// A number that is not open is `EBADF`. Any other error comes after the
/// kernel released the number (see [`OwnedFd::close`]): do not close it again.
///
/// ```
/// use clonelab::sys::{self, consts::O_CLOEXEC};
/// let (_reader, writer) = sys::pipe(O_CLOEXEC).unwrap();
/// let number = writer.into_raw(); // from here on, nobody owns it but us
/// // SAFETY: into_raw handed the descriptor over; nothing else uses it.
/// assert_eq!(unsafe { sys::close(number) }, Ok(()));
/// assert!(!sys::is_open(number));
/// ```
///
/// # Safety
/// The caller must own `fd`: no [`OwnedFd`], `File` or other owner may still
/// hold it, and no [`BorrowedFd`] of it may be used again. Closing a
/// descriptor an owner still holds breaks Rust's I/O safety: the owner will
/// close the number again later, when the kernel may have given it to another
/// file, or read and write that other file through it. A number shared with
/// another process's table (`CLONE_FILES`) is closed there too.
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

/// `fcntl(fd, F_GETFD)`: the descriptor's flags, kept in its slot of the
/// descriptor table. The one flag is `FD_CLOEXEC` (1): close it on `execve`.
///
/// ```
/// use clonelab::sys::{self, consts::O_CLOEXEC};
/// use clonelab::linux_raw_sys::general::FD_CLOEXEC;
/// let (reader, _writer) = sys::pipe(O_CLOEXEC).unwrap();
/// assert_eq!(sys::fcntl_getfd(reader.as_fd()), Ok(FD_CLOEXEC));
/// let (reader, _writer) = sys::pipe(0).unwrap();
/// assert_eq!(sys::fcntl_getfd(reader.as_fd()), Ok(0));
/// ```
///
/// To ask whether a bare number is open at all, use [`is_open`].
pub fn fcntl_getfd(fd: BorrowedFd<'_>) -> Result<u32, Errno> {
    fcntl_getfd_raw(fd.fd)
}

/// `fcntl(fd, F_GETFD)` of any number.
fn fcntl_getfd_raw(fd: c_int) -> Result<u32, Errno> {
    // SAFETY: F_GETFD only reads the flags of a slot in the caller's table:
    // it takes no pointer, and opens, closes or changes nothing. A number
    // that is not open (negative, too large, or an empty slot) is EBADF.
    decode(unsafe { syscall2(k::__NR_fcntl, fd as usize, k::F_GETFD as usize) }).map(|f| f as u32)
}

/// Whether the number `fd` is open in this process's descriptor table right
/// now: `fcntl(fd, F_GETFD)` succeeds, rather than failing with `EBADF`.
///
/// This is what a `CLONE_FILES` experiment asks: a child closed descriptor
/// `N`; is `N` still open here? ([`crate::probe`] and `examples/files.rs`
/// ask it that way.)
///
/// **Why a bare number is safe here.** I/O safety forbids *using* a
/// descriptor one does not own or borrow: reading, writing or closing it.
/// `F_GETFD` does none of that: it reads one slot's flags and changes
/// nothing, and every number, negative, huge or unused, gets an answer
/// (`EBADF` when there is no open descriptor). So no `BorrowedFd` is needed,
/// and none is made: `true` does not mean that the descriptor is *yours*.
///
/// The answer is a snapshot: another thread (or a process sharing the table
/// through `CLONE_FILES`) may close the number, or open a new file under it,
/// right after. Do not pass the number to
/// [`BorrowedFd::borrow_raw`] on the strength of this answer.
///
/// Any failure counts as "not open". `EBADF` is the only one `F_GETFD` has;
/// another could come only from a seccomp filter that refuses `fcntl`.
///
/// ```
/// use clonelab::sys::{self, consts::O_CLOEXEC};
/// let (reader, writer) = sys::pipe(O_CLOEXEC).unwrap();
/// let number = reader.as_raw();
/// assert!(sys::is_open(number));
/// drop(reader);
/// assert!(!sys::is_open(number));
/// assert!(!sys::is_open(-1), "no descriptor has a negative number");
/// # drop(writer);
/// ```
pub fn is_open(fd: c_int) -> bool {
    fcntl_getfd_raw(fd).is_ok()
}
