//! Kernel error numbers.
//!
//! A raw syscall returns `-errno` in the range `-4095..=-1` on failure; any
//! other value is a result. [`decode`] makes that split, and [`Errno`] prints
//! as `EINVAL (Invalid argument)`, the symbolic name followed by the text
//! `strerror` would give.
//!
//! Where it sits: the floor of pure values, on `linux-raw-sys` only; every
//! syscall wrapper above returns `Result<_, Errno>`.
//!
//! ```
//! use clonelab::errno::{decode, Errno};
//! assert_eq!(decode(-22isize as usize), Err(Errno::EINVAL));
//! assert_eq!(decode(7), Ok(7));
//! assert_eq!(Errno::EINVAL.to_string(), "EINVAL (Invalid argument)");
//! ```

use core::fmt;
use linux_raw_sys::errno as e;

/// A kernel error number (the positive value, as in `errno`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(u16);

/// Largest errno the kernel returns: results in `-4095..=-1` are errors.
const MAX_ERRNO: usize = 4095;

/// Split a raw syscall return value into a result or an [`Errno`].
#[inline]
pub fn decode(raw: usize) -> Result<usize, Errno> {
    if raw > usize::MAX - MAX_ERRNO {
        Err(Errno(raw.wrapping_neg() as u16))
    } else {
        Ok(raw)
    }
}

macro_rules! errno_table {
    ($($name:ident => $text:literal,)*) => {
        impl Errno {
            $(
                #[doc = $text]
                pub const $name: Errno = Errno(e::$name as u16);
            )*

            /// The symbolic name (`"EINVAL"`), or `None` for a number this table lacks.
            pub fn name(self) -> Option<&'static str> {
                match self.0 as u32 {
                    $(e::$name => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// One line saying what the error means (`"Invalid argument"`).
            pub fn description(self) -> &'static str {
                match self.0 as u32 {
                    $(e::$name => $text,)*
                    _ => "Unknown error",
                }
            }
        }
    };
}

errno_table! {
    EPERM => "Operation not permitted",
    ENOENT => "No such file or directory",
    ESRCH => "No such process",
    EINTR => "Interrupted system call",
    EIO => "Input/output error",
    ENXIO => "No such device or address",
    E2BIG => "Argument list too long",
    ENOEXEC => "Exec format error",
    EBADF => "Bad file descriptor",
    ECHILD => "No child processes",
    EAGAIN => "Resource temporarily unavailable",
    ENOMEM => "Cannot allocate memory",
    EACCES => "Permission denied",
    EFAULT => "Bad address",
    ENOTBLK => "Block device required",
    EBUSY => "Device or resource busy",
    EEXIST => "File exists",
    EXDEV => "Invalid cross-device link",
    ENODEV => "No such device",
    ENOTDIR => "Not a directory",
    EISDIR => "Is a directory",
    EINVAL => "Invalid argument",
    ENFILE => "Too many open files in system",
    EMFILE => "Too many open files",
    ENOTTY => "Inappropriate ioctl for device",
    ETXTBSY => "Text file busy",
    EFBIG => "File too large",
    ENOSPC => "No space left on device",
    ESPIPE => "Illegal seek",
    EROFS => "Read-only file system",
    EMLINK => "Too many links",
    EPIPE => "Broken pipe",
    EDOM => "Numerical argument out of domain",
    ERANGE => "Numerical result out of range",
    EDEADLK => "Resource deadlock avoided",
    ENAMETOOLONG => "File name too long",
    ENOLCK => "No locks available",
    ENOSYS => "Function not implemented",
    ENOTEMPTY => "Directory not empty",
    ELOOP => "Too many levels of symbolic links",
    EOVERFLOW => "Value too large for defined data type",
    EUSERS => "Too many users",
    ENOTSOCK => "Socket operation on non-socket",
    EOPNOTSUPP => "Operation not supported",
    EAFNOSUPPORT => "Address family not supported by protocol",
    EADDRINUSE => "Address already in use",
    ETIMEDOUT => "Connection timed out",
}

impl Errno {
    /// The error number as the kernel reports it (positive).
    pub const fn raw(self) -> i32 {
        self.0 as i32
    }

    /// Make an `Errno` from a positive error number.
    pub const fn from_raw(n: u16) -> Errno {
        Errno(n)
    }
}

impl core::error::Error for Errno {}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.description()),
            None => write!(f, "errno {} (Unknown error)", self.0),
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

// SAFETY: a u16.
unsafe impl crate::plain::Plain for Errno {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boundary of the error range: -4095 is an error, -4096 is a result.
    #[test]
    fn decode_splits_at_minus_4095() {
        assert_eq!(decode((-1isize) as usize), Err(Errno::EPERM));
        assert_eq!(decode((-4095isize) as usize), Err(Errno::from_raw(4095)));
        assert_eq!(decode((-4096isize) as usize), Ok((-4096isize) as usize));
        assert_eq!(decode(0), Ok(0));
    }
}
