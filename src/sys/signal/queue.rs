//! Queued signals: a signal that carries a value (`si_code = SI_QUEUE`),
//! sent with `rt_sigqueueinfo` ([`sigqueue`]) or through a pidfd
//! ([`pidfd_sigqueue`]), and read back with [`SigInfo::value`] in a handler
//! or [`SignalfdInfo::value`] from a signalfd.
//!
//! Part of [`crate::sys::signal`]; uses the arch seam and `errno`, and
//! `getpid`/`getuid` to fill in who sends.
//!
//! What the kernel checks, and what it does with `si_pid` and `si_uid`, is
//! documented at [`sigqueue`].

use super::{SigInfo, SignalfdInfo};
use crate::arch::{syscall3, syscall4};
use crate::errno::{decode, Errno};
use crate::signum::Signal;
use crate::sys::fd::BorrowedFd;
use crate::sys::Pid;
use core::ffi::c_void;
use linux_raw_sys::general as k;

/// The value a queued signal carries: the kernel's `union sigval`, an `int`
/// (`sival_int`) and a pointer (`sival_ptr`) in the same bytes.
///
/// Read it the way it was sent: [`int`](Self::int) for a value made with
/// [`from_int`](Self::from_int), [`address`](Self::address) for one made with
/// [`from_address`](Self::from_address). An address means something to the
/// receiver only if it shares the sender's memory (a `CLONE_VM` child or a
/// thread); between fork-like processes, send an int.
///
/// ```
/// use clonelab::sys::signal::SigValue;
/// assert_eq!(SigValue::from_int(-7).int(), -7);
/// assert_eq!(SigValue::from_address(0x1000).address(), 0x1000);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SigValue(usize);

// SAFETY: the bytes of a union of an int and an address, held as a usize: no
// pointer is ever followed.
unsafe impl crate::plain::Plain for SigValue {}

impl SigValue {
    /// The value whose `sival_int` is `value` (the union's other bytes zero).
    pub fn from_int(value: i32) -> SigValue {
        let mut union = k::sigval {
            sival_ptr: core::ptr::null_mut(),
        };
        union.sival_int = value;
        SigValue::from_union(union)
    }

    /// The value whose `sival_ptr` is `address`.
    pub fn from_address(address: usize) -> SigValue {
        SigValue(address)
    }

    /// `sival_int`: the int this value holds.
    pub fn int(self) -> i32 {
        // SAFETY: every byte of the union is initialised (the whole pointer
        // was written), and any bytes are a valid int.
        unsafe { self.to_union().sival_int }
    }

    /// `sival_ptr` as a number: the address this value holds.
    pub fn address(self) -> usize {
        self.0
    }

    /// The union's bytes as one pointer-sized word.
    pub(super) fn from_union(union: k::sigval) -> SigValue {
        // SAFETY: sival_ptr covers the whole union (it is pointer-sized and
        // the int is not larger), and every byte of it was initialised by
        // whoever made the union (the kernel or `from_int`); the address is
        // only read as a number.
        SigValue(unsafe { union.sival_ptr } as usize)
    }

    /// The union with these bytes.
    pub(super) fn to_union(self) -> k::sigval {
        k::sigval {
            sival_ptr: self.0 as *mut c_void,
        }
    }
}

/// A `siginfo_t` for a queued `signal` from this process: `si_code =
/// SI_QUEUE`, `si_pid` and `si_uid` ours, `si_value` the value; every other
/// byte 0 (nothing of our memory goes to the other process).
fn queued_info(signal: Signal, value: SigValue) -> k::siginfo_t {
    // SAFETY: siginfo_t is integers and unions of integers and raw pointers:
    // all zeroes is a valid value of it.
    let mut info: k::siginfo_t = unsafe { core::mem::zeroed() };
    // Field by field, never a whole struct or union: a typed copy of one
    // would not copy its padding and unused bytes, and stack garbage would
    // go to the other process in their place.
    let (pid, uid) = (crate::sys::getpid(), crate::sys::getuid());
    // SAFETY: every byte of `info` is initialised (zero), so the union
    // members viewed here are initialised integers; each write is one field.
    unsafe {
        let header = &mut info.__bindgen_anon_1.__bindgen_anon_1;
        header.si_signo = signal.number() as i32;
        header.si_code = k::SI_QUEUE;
        let rt = &mut header._sifields._rt;
        rt._pid = pid;
        rt._uid = uid;
        // sival_ptr covers the whole union: no byte of it is left unwritten.
        rt._sigval = value.to_union();
    }
    info
}

/// `rt_sigqueueinfo(pid, signal, &info)`, what libc's `sigqueue` does: send
/// `signal` to process `pid` with `value` attached (`si_code = SI_QUEUE`,
/// `si_pid`/`si_uid` the caller's).
///
/// A real-time signal ([`Signal::rt`]) is *queued*: sent three times, it is
/// delivered three times, each with its own value, in order. A classic
/// signal is pending at most once; a second one sent while the first is
/// pending is dropped, value and all.
///
/// Prefer [`pidfd_sigqueue`] for a child you hold a pidfd of: a pid can be
/// reused once the child is reaped.
///
/// **What the kernel checks** (`kernel/signal.c`), here and in
/// [`pidfd_sigqueue`]. A sender that passes its own `siginfo` chooses every
/// field, so the kernel allows only codes that cannot pass for something
/// else. A code `>= 0` (`SI_USER` is what `kill`
/// sends, positive codes are the kernel's own) or `SI_TKILL` (what `tgkill`
/// sends) is refused with `EPERM` unless the signal goes to the sender itself
/// (`do_rt_sigqueueinfo`, and the same test in `pidfd_send_signal`).
/// `SI_QUEUE` (-1) is negative, so it may go to any process the sender may
/// signal at all. `pidfd_send_signal` also requires `si_signo` to equal the
/// signal argument (`EINVAL` otherwise).
///
/// The kernel does not fill in `si_pid` and `si_uid` for such a signal: it
/// keeps what the sender wrote. So, like libc's `sigqueue`, these functions
/// write the caller's own `getpid()` and `getuid()`. On the way, the kernel
/// maps the uid into the receiver's user namespace, and sets the pid to 0 when
/// the sender cannot be seen from the receiver's pid namespace
/// (`send_signal_locked`). It does not translate the pid otherwise: a sender
/// inside a child pid namespace reports its pid *there*.
///
/// Every field is built here, so none of those errors can happen: the code is
/// always `SI_QUEUE` and `si_signo` always the signal sent.
///
/// # Errors
/// - `ESRCH`: no process `pid`. Unlike [`kill`](super::kill), a pid of 0 or
///   below names no process group here: it is `ESRCH` too.
/// - `EPERM`: we may not signal it (kill(2)'s rule: same real or effective
///   uid, or `CAP_KILL`).
/// - `EAGAIN`: a real-time signal, and the receiver's user already has as
///   many signals queued as its `RLIMIT_SIGPENDING` allows. (A classic
///   signal is then still sent, without its value.)
///
/// ```
/// use clonelab::sys::{self, signal::{self, SigSet, SigValue}};
/// use clonelab::{linux_raw_sys::general as k, Signal};
/// let sig = Signal::rt(4).unwrap();
/// // Block it, so that it waits in the queue for the signalfd to read.
/// let old = signal::sigprocmask(k::SIG_BLOCK, Some(SigSet::of(&[sig]))).unwrap();
/// let fd = sys::signalfd(SigSet::of(&[sig])).unwrap();
/// for n in [10, 20, 30] {
///     sys::sigqueue(sys::getpid(), sig, SigValue::from_int(n)).unwrap();
/// }
/// // Queued, not merged: three records, each with its value, in order.
/// for n in [10, 20, 30] {
///     let record = signal::read_signalfd(fd.as_fd()).unwrap();
///     assert_eq!(record.code(), k::SI_QUEUE);
///     assert_eq!(record.value(), Some(SigValue::from_int(n)));
///     assert_eq!(record.pid(), sys::getpid());
/// }
/// signal::sigprocmask(k::SIG_SETMASK, Some(old)).unwrap();
/// ```
pub fn sigqueue(pid: Pid, signal: Signal, value: SigValue) -> Result<(), Errno> {
    let info = queued_info(signal, value);
    // SAFETY: info is a valid siginfo_t the kernel only reads.
    decode(unsafe {
        syscall3(
            k::__NR_rt_sigqueueinfo,
            pid as usize,
            signal.number() as usize,
            &info as *const k::siginfo_t as usize,
        )
    })
    .map(drop)
}

/// `pidfd_send_signal(pidfd, signal, &info, 0)` with `info` a queued signal:
/// [`sigqueue`] to the process behind a pidfd, which, unlike a pid, can
/// never name another process that reused a reaped child's number. (Linux
/// 5.1; [`pidfd_send_signal`](super::pidfd_send_signal) sends the plain
/// `SI_USER` signal that `kill` sends.)
///
/// What the kernel checks, and what it does with `si_pid` and `si_uid`: see
/// [`sigqueue`]. The receiver reads the value with [`SigInfo::value`] in a
/// handler installed with
/// [`SigAction::info_handler`](super::SigAction::info_handler), or with
/// [`SignalfdInfo::value`] from a [`signalfd`](super::signalfd).
///
/// # Errors
/// - `ESRCH`: the process has exited.
/// - `EPERM`: we may not signal it (kill(2)'s rule).
/// - `EINVAL`: the pidfd's process is in a pid namespace we cannot see into
///   (not ours or a descendant of ours).
/// - `EBADF`: `pidfd` is not a pidfd.
/// - `EAGAIN`: a real-time signal, and too many signals queued for the
///   receiver's user (`RLIMIT_SIGPENDING`).
///
/// ```
/// use clonelab::sys::{self, signal::{self, SigSet, SigValue}};
/// use clonelab::{linux_raw_sys::general as k, spawn, CloneFlags, ExitSignal, FlagsWord, Signal, WaitStatus};
/// let sig = Signal::rt(5).unwrap();
/// // The child inherits the blocked mask, so the signal waits for it in its queue.
/// let old = signal::sigprocmask(k::SIG_BLOCK, Some(SigSet::of(&[sig]))).unwrap();
/// let mut child = spawn(FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD), || {
///     let Ok(fd) = sys::signalfd(SigSet::of(&[sig])) else { return 255 };
///     match signal::read_signalfd(fd.as_fd()) {
///         Ok(record) => record.value().map_or(254, |v| v.int()),
///         Err(_) => 253,
///     }
/// })
/// .unwrap();
/// signal::sigprocmask(k::SIG_SETMASK, Some(old)).unwrap();
/// sys::pidfd_sigqueue(child.pidfd().unwrap(), sig, SigValue::from_int(42)).unwrap();
/// assert_eq!(child.wait().unwrap(), WaitStatus::Exited(42));
/// ```
pub fn pidfd_sigqueue(pidfd: BorrowedFd<'_>, signal: Signal, value: SigValue) -> Result<(), Errno> {
    let info = queued_info(signal, value);
    // SAFETY: info is a valid siginfo_t the kernel only reads; flags = 0.
    decode(unsafe {
        syscall4(
            k::__NR_pidfd_send_signal,
            pidfd.as_raw() as usize,
            signal.number() as usize,
            &info as *const k::siginfo_t as usize,
            0,
        )
    })
    .map(drop)
}

impl SigInfo<'_> {
    /// `si_value`: the value the sender attached, for the codes that carry
    /// one: `SI_QUEUE` ([`sigqueue`], [`pidfd_sigqueue`], libc's `sigqueue`),
    /// `SI_MESGQ` (a POSIX message queue's notification), `SI_ASYNCIO` (POSIX
    /// AIO) and `SI_TIMER` (a POSIX timer's `sigev_value`). `None` for every
    /// other code: `kill`, `tgkill` and the kernel's own signals carry no value.
    ///
    /// ```
    /// use clonelab::sys::{self, signal::{self, SigAction, SigInfo, SigValue}};
    /// use clonelab::Signal;
    /// use core::sync::atomic::{AtomicI32, Ordering};
    /// static GOT: AtomicI32 = AtomicI32::new(0);
    /// extern "C" fn on_signal(_: i32, info: *mut clonelab::linux_raw_sys::general::siginfo_t, _: *mut core::ffi::c_void) {
    ///     // SAFETY: the kernel's siginfo is valid while the handler runs.
    ///     let value = unsafe { SigInfo::from_ptr(info) }.value();
    ///     GOT.store(value.map_or(-1, SigValue::int), Ordering::SeqCst);
    /// }
    /// let sig = Signal::rt(6).unwrap();
    /// // SAFETY: the handler stores one atomic: async-signal-safe.
    /// let old = unsafe { signal::sigaction(sig, &SigAction::info_handler(on_signal)) }.unwrap();
    /// // To ourselves, from our only thread: delivered before sigqueue returns.
    /// sys::sigqueue(sys::getpid(), sig, SigValue::from_int(99)).unwrap();
    /// assert_eq!(GOT.load(Ordering::SeqCst), 99);
    /// signal::raise(sig).unwrap(); // tgkill: SI_TKILL, no value
    /// assert_eq!(GOT.load(Ordering::SeqCst), -1);
    /// // SAFETY: `old` was this process's action a moment ago.
    /// unsafe { signal::sigaction(sig, &old) }.unwrap();
    /// ```
    pub fn value(&self) -> Option<SigValue> {
        // SAFETY: the union's variants share the header; `_rt` and `_timer`
        // are read only for the codes whose layout they are (the kernel's
        // siginfo_layout); every byte is initialised and integers and raw
        // pointers accept any bit pattern.
        let union = unsafe {
            let fields = &self.raw().__bindgen_anon_1.__bindgen_anon_1._sifields;
            match self.code() {
                k::SI_QUEUE | k::SI_MESGQ | k::SI_ASYNCIO => fields._rt._sigval,
                k::SI_TIMER => fields._timer._sigval,
                _ => return None,
            }
        };
        Some(SigValue::from_union(union))
    }
}

impl SignalfdInfo {
    /// The value the sender attached (`ssi_ptr`, whose bytes hold `ssi_int`
    /// too): for the codes [`SigInfo::value`] names, else `None`.
    ///
    /// See [`sigqueue`] for an example.
    pub fn value(&self) -> Option<SigValue> {
        match self.code() {
            k::SI_QUEUE | k::SI_MESGQ | k::SI_ASYNCIO | k::SI_TIMER => {
                // On 32-bit arches the kernel stores the pointer sign-extended
                // to 64 bits (`(long) si_ptr`): its low word is the pointer.
                Some(SigValue::from_address(self.raw_ptr() as usize))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The siginfo sent is the four fields and zeroes: no byte of ours
    /// (padding, the rest of the union) goes to the other process.
    #[test]
    fn a_queued_siginfo_is_its_fields_and_zeroes() {
        let value = SigValue::from_address(usize::MAX);
        let info = queued_info(Signal::SIGUSR1, value);
        // SAFETY: siginfo_t is 128 initialised bytes (queued_info writes
        // fields over a zeroed one), read as bytes.
        let bytes: [u8; 128] = unsafe { core::mem::transmute(info) };
        let mut expected = [0u8; 128];
        let mut put =
            |at: usize, field: &[u8]| expected[at..at + field.len()].copy_from_slice(field);
        let fields = core::mem::offset_of!(k::siginfo__bindgen_ty_1__bindgen_ty_1, _sifields);
        put(0, &(Signal::SIGUSR1.number() as i32).to_ne_bytes());
        put(8, &k::SI_QUEUE.to_ne_bytes());
        put(fields, &crate::sys::getpid().to_ne_bytes());
        put(fields + 4, &crate::sys::getuid().to_ne_bytes());
        let sigval = core::mem::offset_of!(k::__sifields__bindgen_ty_3, _sigval);
        put(fields + sigval, &usize::MAX.to_ne_bytes());
        assert_eq!(bytes, expected);
    }
}
