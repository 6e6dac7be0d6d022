//! Signals: sets and masks, dispositions and handlers, and sending.
//!
//! Part of the syscall layer; it uses only the arch seam and `errno`. Every
//! function is one syscall (`rt_sigaction`, `rt_sigprocmask`, `kill`,
//! `tgkill`, `pidfd_send_signal`, `rt_sigqueueinfo`, `signalfd4`, a `read`
//! of a signalfd), but [`raise`], which is `tgkill` to oneself. Signals are
//! typed: [`Signal`] is never 0 or above 64.
//!
//! **Queued signals** carry a value ([`SigValue`]): [`sigqueue`] and
//! [`pidfd_sigqueue`] send one (`si_code = SI_QUEUE`), [`SigInfo::value`] reads
//! it in a handler and [`SignalfdInfo::value`] from a [`signalfd`].
//!
//! **Why installing a handler is `unsafe`.** A handler runs in the middle of
//! whatever the thread was doing — inside `malloc`, holding a lock, halfway
//! through updating a data structure. Only async-signal-safe work is sound
//! there (atomics, raw syscalls such as those in [`crate::sys`]), and no type
//! can say that of a function. So [`sigaction`] is `unsafe`; restoring the
//! default disposition or ignoring a signal ([`set_default`], [`ignore`]) runs
//! no code of ours and is safe.
//!
//! **The restorer.** A handler returns to `sa_restorer`, a two-instruction
//! trampoline that issues `rt_sigreturn` (`arch/<arch>/restore.s`). x86_64
//! needs it: the 64-bit kernel refuses to deliver to a handler without
//! `SA_RESTORER` and forces a SIGSEGV instead. aarch64 would fall back to
//! the vDSO's `__kernel_rt_sigreturn`; clonelab passes its own there too,
//! and on i386, armhf and s390x. ppc64le is the exception: its kernel
//! ignores `sa_restorer` and always returns through the vDSO's
//! `__kernel_sigtramp_rt64`, so there clonelab sets no `SA_RESTORER`.

//! ```
//! use clonelab::sys::signal::{self, SigAction, SigInfo};
//! use clonelab::Signal;
//! use core::sync::atomic::{AtomicI32, Ordering};
//! static FROM: AtomicI32 = AtomicI32::new(0);
//! extern "C" fn on_usr2(_: i32, info: *mut clonelab::linux_raw_sys::general::siginfo_t, _: *mut core::ffi::c_void) {
//!     // SAFETY: the kernel's siginfo is valid while the handler runs.
//!     FROM.store(unsafe { SigInfo::from_ptr(info) }.pid(), Ordering::SeqCst);
//! }
//! // SAFETY: the handler stores one atomic: async-signal-safe.
//! let old = unsafe { signal::sigaction(Signal::SIGUSR2, &SigAction::info_handler(on_usr2)) }.unwrap();
//! signal::raise(Signal::SIGUSR2).unwrap();
//! assert_eq!(FROM.load(Ordering::SeqCst), clonelab::sys::getpid());
//! // SAFETY: `old` was this process's action a moment ago.
//! unsafe { signal::sigaction(Signal::SIGUSR2, &old) }.unwrap();
//! ```

use super::fd::BorrowedFd;
use crate::arch::{syscall2, syscall3, syscall4};
use crate::errno::{decode, Errno};
use crate::signum::Signal;
use crate::sys::Pid;
use core::mem::size_of;
use linux_raw_sys::general as k;

mod action;
mod queue;
mod signalfd;

pub use action::{
    current_action, ignore, set_default, sigaction, Disposition, Handler, InfoHandler, SaFlags,
    SigAction, SigInfo,
};
pub use queue::{pidfd_sigqueue, sigqueue, SigValue};
pub use signalfd::{read_signalfd, signalfd, SignalfdInfo};

/// A set of signals 1..=64: the kernel's 64-bit `sigset_t` (bit `n - 1` is signal `n`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigSet(u64);

impl SigSet {
    /// No signal.
    pub const EMPTY: SigSet = SigSet(0);
    /// Every signal (the kernel never blocks SIGKILL and SIGSTOP, whatever the set says).
    pub const FULL: SigSet = SigSet(u64::MAX);

    /// The set of `signals`.
    pub fn of(signals: &[Signal]) -> SigSet {
        signals.iter().fold(SigSet::EMPTY, |set, &s| set.with(s))
    }

    /// This set plus `signal`.
    pub const fn with(self, signal: Signal) -> SigSet {
        SigSet(self.0 | 1 << (signal.number() - 1))
    }

    /// Whether `signal` is in the set.
    pub const fn contains(self, signal: Signal) -> bool {
        self.0 & (1 << (signal.number() - 1)) != 0
    }

    /// The raw bits, as `rt_sigprocmask` and `signalfd4` take them.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The set with these raw bits.
    pub const fn from_bits(bits: u64) -> SigSet {
        SigSet(bits)
    }
}

/// `rt_sigprocmask(how, set, &old)` for the calling thread; returns the old mask.
/// `how` is `SIG_BLOCK`, `SIG_UNBLOCK` or `SIG_SETMASK`; `None` only reads.
pub fn sigprocmask(how: u32, set: Option<SigSet>) -> Result<SigSet, Errno> {
    let mut old = 0u64;
    let new = set.map(SigSet::bits);
    let new_ptr = new.as_ref().map_or(0, |bits| bits as *const u64 as usize);
    // SAFETY: new_ptr is null or an 8-byte sigset; old is writable; the size
    // is the kernel's sigset size: _NSIG / 8 = 8 bytes on all six arches (one
    // u64 on the 64-bit ones, two u32 words, low word first, on i386 and
    // armhf, which are little-endian, so one u64 lays them out the same).
    decode(unsafe {
        syscall4(
            k::__NR_rt_sigprocmask,
            how as usize,
            new_ptr,
            &mut old as *mut u64 as usize,
            size_of::<u64>(),
        )
    })?;
    Ok(SigSet(old))
}

/// `tgkill(tgid, tid, signal)`: send `signal` to one thread.
pub fn tgkill(tgid: Pid, tid: Pid, signal: Signal) -> Result<(), Errno> {
    // SAFETY: no pointers are passed.
    decode(unsafe {
        syscall3(
            k::__NR_tgkill,
            tgid as usize,
            tid as usize,
            signal.number() as usize,
        )
    })
    .map(drop)
}

/// `kill(pid, signal)`: send `signal` to a process (or, for `pid <= 0`, a
/// process group, as kill(2) says). Prefer [`pidfd_send_signal`] for a child
/// you hold a pidfd of: a pid can be reused once the child is reaped.
pub fn kill(pid: Pid, signal: Signal) -> Result<(), Errno> {
    // SAFETY: no pointers are passed.
    decode(unsafe { syscall2(k::__NR_kill, pid as usize, signal.number() as usize) }).map(drop)
}

/// `kill(pid, 0)`: send nothing, only check that `pid` exists and that we
/// may signal it (ESRCH: no such process; EPERM: not ours to signal).
pub fn kill_probe(pid: Pid) -> Result<(), Errno> {
    // SAFETY: no pointers are passed.
    decode(unsafe { syscall2(k::__NR_kill, pid as usize, 0) }).map(drop)
}

/// `pidfd_send_signal(pidfd, signal, NULL, 0)`: signal the process behind a
/// pidfd — unlike `kill`, never a process that reused a reaped child's pid.
/// The receiver sees `si_code = SI_USER`, as from `kill`; to attach a value,
/// use [`pidfd_sigqueue`].
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: Signal) -> Result<(), Errno> {
    // SAFETY: info = NULL, flags = 0; no other pointers.
    decode(unsafe {
        syscall4(
            k::__NR_pidfd_send_signal,
            pidfd.as_raw() as usize,
            signal.number() as usize,
            0,
            0,
        )
    })
    .map(drop)
}

/// Send `signal` to the calling thread (`tgkill(getpid(), gettid(), signal)`).
pub fn raise(signal: Signal) -> Result<(), Errno> {
    tgkill(crate::sys::getpid(), crate::sys::gettid(), signal)
}
