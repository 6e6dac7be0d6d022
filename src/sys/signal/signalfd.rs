//! Signals read from a descriptor: [`signalfd`] makes one, [`read_signalfd`]
//! reads one record from it, typed as [`SignalfdInfo`].
//!
//! Part of [`crate::sys::signal`]; uses the arch seam and `errno`. A signal
//! that is blocked stays pending; a signalfd for it becomes readable, and
//! each read takes one pending signal off the queue, with what a handler's
//! `siginfo` would have said. No handler runs, so nothing about it needs
//! `unsafe`.

use super::SigSet;
use crate::arch::{syscall3, syscall4};
use crate::errno::{decode, Errno};
use crate::signum::Signal;
use crate::sys::fd::{BorrowedFd, OwnedFd};
use crate::sys::Pid;
use core::ffi::c_int;
use core::mem::size_of;
use linux_raw_sys::general as k;

/// `signalfd4(-1, set, O_CLOEXEC)`: a descriptor from which the (blocked)
/// signals in `set` are read as 128-byte `signalfd_siginfo` records, with
/// [`read_signalfd`].
pub fn signalfd(set: SigSet) -> Result<OwnedFd, Errno> {
    let set = set.bits();
    // SAFETY: set is a valid 8-byte sigset.
    let fd = decode(unsafe {
        syscall4(
            k::__NR_signalfd4,
            usize::MAX,
            &set as *const u64 as usize,
            8,
            k::O_CLOEXEC as usize,
        )
    })?;
    // SAFETY: the kernel just opened it for us alone.
    Ok(unsafe { OwnedFd::from_raw(fd as c_int) })
}

/// The kernel's `struct signalfd_siginfo` (`<linux/signalfd.h>`), 128 bytes
/// on every arch, the same layout everywhere.
///
/// linux-raw-sys 0.12 does not carry `<linux/signalfd.h>`, so this is the one
/// struct typed here from the header; a unit test checks every offset, and
/// the size, against libc's `signalfd_siginfo`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(dead_code)] // the kernel's whole layout; the accessors read some fields
struct RawRecord {
    ssi_signo: u32,
    ssi_errno: i32,
    ssi_code: i32,
    ssi_pid: u32,
    ssi_uid: u32,
    ssi_fd: i32,
    ssi_tid: u32,
    ssi_band: u32,
    ssi_overrun: u32,
    ssi_trapno: u32,
    ssi_status: i32,
    ssi_int: i32,
    ssi_ptr: u64,
    ssi_utime: u64,
    ssi_stime: u64,
    ssi_addr: u64,
    ssi_addr_lsb: u16,
    pad2: u16,
    ssi_syscall: i32,
    ssi_call_addr: u64,
    ssi_arch: u32,
    pad: [u8; 28],
}

const _: () = assert!(size_of::<RawRecord>() == 128);

/// One signal as a signalfd reports it: the `signalfd_siginfo` record.
///
/// The fields are those of the handler's [`SigInfo`](super::SigInfo), copied
/// out by the kernel (`signalfd_copyinfo` in `fs/signalfd.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalfdInfo(RawRecord);

// SAFETY: integers only.
unsafe impl crate::plain::Plain for SignalfdInfo {}

impl SignalfdInfo {
    /// `ssi_signo`: the signal.
    pub fn signal(&self) -> Option<Signal> {
        Signal::new(self.0.ssi_signo)
    }

    /// `ssi_signo` as the number the kernel wrote.
    pub fn signo(&self) -> u32 {
        self.0.ssi_signo
    }

    /// `ssi_code`: why it was sent (`SI_USER` for `kill`, `SI_TKILL` for
    /// `tgkill`, `SI_QUEUE` for a queued signal, `CLD_*` for `SIGCHLD`, ...).
    pub fn code(&self) -> i32 {
        self.0.ssi_code
    }

    /// `ssi_pid`: who sent it (for `kill`, `tgkill`, a queued signal and
    /// `SIGCHLD`), as [`SigInfo::pid`](super::SigInfo::pid).
    pub fn pid(&self) -> Pid {
        self.0.ssi_pid as Pid
    }

    /// `ssi_uid`: the sender's real uid (same signals as [`pid`](Self::pid)).
    pub fn uid(&self) -> u32 {
        self.0.ssi_uid
    }

    /// `ssi_status`: for `SIGCHLD`, the child's exit status or the signal
    /// that ended it.
    pub fn status(&self) -> i32 {
        self.0.ssi_status
    }

    /// `ssi_ptr`, for [`value`](Self::value).
    pub(super) fn raw_ptr(&self) -> u64 {
        self.0.ssi_ptr
    }
}

/// `read(fd, &record, 128)`: take one pending signal from a signalfd (made
/// with [`signalfd`]). Blocks until one of its signals is pending, as a
/// `read` does.
///
/// # Errors
/// - `EINVAL`: `fd` gave something other than one whole 128-byte record, so
///   it is not a signalfd (a signalfd never returns part of one). A
///   descriptor that is not a signalfd but yields exactly 128 bytes (a pipe,
///   a file) is not detected: its bytes are read and returned as a record
///   of meaningless fields (every bit pattern is a valid `SignalfdInfo`).
/// - Whatever `read` returns for `fd`: `EAGAIN` if it is non-blocking and no
///   signal is pending, `EINTR` if a handler interrupted the wait.
///
/// ```
/// use clonelab::sys::{self, signal::{self, SigSet}};
/// use clonelab::{linux_raw_sys::general as k, Signal};
/// let set = SigSet::of(&[Signal::SIGUSR1]);
/// let old = signal::sigprocmask(k::SIG_BLOCK, Some(set)).unwrap();
/// let fd = sys::signalfd(set).unwrap();
/// signal::raise(Signal::SIGUSR1).unwrap(); // blocked: pending, not delivered
/// let record = signal::read_signalfd(fd.as_fd()).unwrap();
/// assert_eq!(record.signal(), Some(Signal::SIGUSR1));
/// assert_eq!(record.code(), k::SI_TKILL); // tgkill's code
/// assert_eq!(record.pid(), sys::getpid());
/// assert_eq!(record.value(), None); // only a queued signal carries one
/// signal::sigprocmask(k::SIG_SETMASK, Some(old)).unwrap();
/// ```
pub fn read_signalfd(fd: BorrowedFd<'_>) -> Result<SignalfdInfo, Errno> {
    let mut record = RawRecord::default();
    // SAFETY: record is 128 writable bytes, and every bit pattern is a valid
    // RawRecord (integers only).
    let n = decode(unsafe {
        syscall3(
            k::__NR_read,
            fd.as_raw() as usize,
            &mut record as *mut RawRecord as usize,
            size_of::<RawRecord>(),
        )
    })?;
    if n != size_of::<RawRecord>() {
        return Err(Errno::EINVAL);
    }
    Ok(SignalfdInfo(record))
}

#[cfg(test)]
mod tests {
    use super::RawRecord;
    use core::mem::{offset_of, size_of};

    /// Every field where libc (the peer) has it, on this arch.
    #[test]
    fn record_layout_matches_libc() {
        assert_eq!(size_of::<RawRecord>(), size_of::<libc::signalfd_siginfo>());
        macro_rules! same {
            ($($field:ident)*) => {$(
                assert_eq!(
                    offset_of!(RawRecord, $field),
                    offset_of!(libc::signalfd_siginfo, $field),
                    stringify!($field)
                );
            )*};
        }
        same!(ssi_signo ssi_errno ssi_code ssi_pid ssi_uid ssi_fd ssi_tid ssi_band
              ssi_overrun ssi_trapno ssi_status ssi_int ssi_ptr ssi_utime ssi_stime
              ssi_addr ssi_addr_lsb ssi_syscall ssi_call_addr ssi_arch);
    }
}
