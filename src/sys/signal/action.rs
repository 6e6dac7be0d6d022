//! Dispositions and handlers: what a signal does when it arrives, read and
//! set with `rt_sigaction`, and what a handler is told ([`SigInfo`]).
//!
//! Part of [`crate::sys::signal`] (see there why installing a handler is
//! `unsafe` and what the restorer is); uses the arch seam for the restorer
//! and `errno`.

use super::SigSet;
use crate::arch::{self, syscall4};
use crate::errno::{decode, Errno};
use crate::signum::Signal;
use crate::sys::Pid;
use core::ffi::{c_int, c_ulong, c_void};
use core::mem::{size_of, MaybeUninit};
use core::ptr::{addr_of, addr_of_mut};
use linux_raw_sys::general as k;

/// A handler that receives the signal number.
pub type Handler = extern "C" fn(signal: c_int);
/// A handler that also receives the `siginfo` (who sent it, why) and the
/// interrupted context (`ucontext_t`) — installed with `SA_SIGINFO`.
pub type InfoHandler = extern "C" fn(signal: c_int, info: *mut k::siginfo_t, context: *mut c_void);

/// What an [`InfoHandler`] is told about a signal: a read-only view of the
/// kernel's `siginfo_t` (every field is an integer, so any bytes are valid).
#[derive(Clone, Copy)]
pub struct SigInfo<'a>(&'a k::siginfo_t);

impl<'a> SigInfo<'a> {
    /// View the `info` argument of an [`InfoHandler`].
    ///
    /// # Safety
    /// `info` must point at an initialised `siginfo_t` that stays valid for
    /// `'a` (the kernel's argument is, for the duration of the handler).
    pub unsafe fn from_ptr(info: *const k::siginfo_t) -> SigInfo<'a> {
        // SAFETY: the caller promises a valid siginfo for 'a.
        SigInfo(unsafe { &*info })
    }

    /// The kernel's `siginfo_t` this views.
    pub(super) fn raw(&self) -> &'a k::siginfo_t {
        self.0
    }

    /// `si_signo`: the signal.
    pub fn signo(&self) -> i32 {
        // SAFETY: the union's variants share si_signo at one offset; integers
        // accept any bit pattern.
        unsafe { self.0.__bindgen_anon_1.__bindgen_anon_1.si_signo }
    }

    /// `si_code`: why it was sent (`SI_USER` for `kill`, `SI_TKILL`, `CLD_*`, ...).
    pub fn code(&self) -> i32 {
        // SAFETY: as in `signo`.
        unsafe { self.0.__bindgen_anon_1.__bindgen_anon_1.si_code }
    }

    /// `si_pid`: who sent it (for `kill`, `tgkill`, `pidfd_send_signal`,
    /// `sigqueue` and `SIGCHLD`, which all keep the pid at this offset). For
    /// a queued signal ([`value`](Self::value) is `Some`), it is the pid the
    /// sender wrote: see [`sigqueue`](super::sigqueue).
    pub fn pid(&self) -> Pid {
        // SAFETY: an integer field of a union of integer structs.
        unsafe {
            self.0
                .__bindgen_anon_1
                .__bindgen_anon_1
                ._sifields
                ._kill
                ._pid
        }
    }

    /// `si_uid`: the sender's real uid (same signals as [`pid`](Self::pid)).
    pub fn uid(&self) -> u32 {
        // SAFETY: as in `pid`.
        unsafe {
            self.0
                .__bindgen_anon_1
                .__bindgen_anon_1
                ._sifields
                ._kill
                ._uid
        }
    }
}

/// Flags of a [`SigAction`] that a caller may choose. `SA_SIGINFO` and
/// `SA_RESTORER` are not among them: the constructor of the action sets them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SaFlags(u32);

impl SaFlags {
    /// No flag.
    pub const EMPTY: SaFlags = SaFlags(0);
    /// Restart interruptible syscalls after the handler instead of failing with EINTR.
    pub const RESTART: SaFlags = SaFlags(k::SA_RESTART);
    /// Do not block the signal while its handler runs.
    pub const NODEFER: SaFlags = SaFlags(k::SA_NODEFER);
    /// Reset to the default disposition on delivery (a one-shot handler).
    pub const RESETHAND: SaFlags = SaFlags(k::SA_RESETHAND);
    /// Run the handler on the alternate signal stack, if one is set.
    pub const ONSTACK: SaFlags = SaFlags(k::SA_ONSTACK);
    /// SIGCHLD only: no signal when a child stops or continues.
    pub const NOCLDSTOP: SaFlags = SaFlags(k::SA_NOCLDSTOP);
    /// SIGCHLD only: children are reaped by the kernel, never become zombies.
    pub const NOCLDWAIT: SaFlags = SaFlags(k::SA_NOCLDWAIT);

    /// The raw `SA_*` bits.
    pub const fn bits(self) -> u32 {
        self.0
    }
}

impl core::ops::BitOr for SaFlags {
    type Output = SaFlags;
    fn bitor(self, other: SaFlags) -> SaFlags {
        SaFlags(self.0 | other.0)
    }
}

/// What a signal's disposition is, as [`SigAction::disposition`] reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// `SIG_DFL`: the signal's default action.
    Default,
    /// `SIG_IGN`: discarded on arrival.
    Ignore,
    /// A handler at this address (`siginfo`: installed with `SA_SIGINFO`).
    Handler {
        /// The handler's address.
        address: usize,
        /// Whether it takes the three-argument form.
        siginfo: bool,
    },
}

/// A signal's disposition as `rt_sigaction` sees it: handler, flags,
/// restorer and the mask added while the handler runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigAction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: SigSet,
}

/// `SIG_DFL` and `SIG_IGN` as the handler field carries them.
const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;

impl SigAction {
    /// The default action (`SIG_DFL`).
    pub const fn default_action() -> SigAction {
        SigAction {
            handler: SIG_DFL,
            flags: 0,
            restorer: 0,
            mask: SigSet::EMPTY,
        }
    }

    /// Ignore the signal (`SIG_IGN`).
    pub const fn ignore() -> SigAction {
        SigAction {
            handler: SIG_IGN,
            ..SigAction::default_action()
        }
    }

    /// Run `handler(signal)` on delivery, returning through clonelab's restorer
    /// (on ppc64le through the kernel's vDSO trampoline: see `arch::restorer`).
    pub fn handler(handler: Handler) -> SigAction {
        let (flag, restorer) = arch::restorer(false);
        SigAction {
            handler: handler as usize,
            flags: flag as u64,
            restorer,
            mask: SigSet::EMPTY,
        }
    }

    /// Run `handler(signal, &siginfo, &ucontext)` on delivery (`SA_SIGINFO`).
    pub fn info_handler(handler: InfoHandler) -> SigAction {
        let (flag, restorer) = arch::restorer(true);
        SigAction {
            handler: handler as usize,
            flags: (flag | k::SA_SIGINFO) as u64,
            restorer,
            mask: SigSet::EMPTY,
        }
    }

    /// Add `flags` to the action.
    pub const fn with_flags(mut self, flags: SaFlags) -> SigAction {
        self.flags |= flags.bits() as u64;
        self
    }

    /// Signals blocked while the handler runs (in addition to the signal itself,
    /// unless [`SaFlags::NODEFER`]).
    pub const fn with_mask(mut self, mask: SigSet) -> SigAction {
        self.mask = mask;
        self
    }

    /// What happens on delivery.
    pub fn disposition(&self) -> Disposition {
        match self.handler {
            SIG_DFL => Disposition::Default,
            SIG_IGN => Disposition::Ignore,
            address => Disposition::Handler {
                address,
                siginfo: self.flags & k::SA_SIGINFO as u64 != 0,
            },
        }
    }

    /// The handler field as the kernel holds it: `SIG_DFL` = 0, `SIG_IGN` = 1,
    /// or a handler's address.
    pub const fn handler_address(&self) -> usize {
        self.handler
    }

    /// The raw `SA_*` flags, as the kernel holds them.
    pub const fn flags(&self) -> u64 {
        self.flags
    }

    /// The signals blocked while the handler runs.
    pub const fn mask(&self) -> SigSet {
        self.mask
    }
}

/// The kernel's `struct sigaction` for `rt_sigaction`, as linux-raw-sys
/// lays it out for this arch (`k::kernel_sigaction`):
///
/// ```text
///               sa_handler   sa_flags        sa_restorer   sa_mask
///  64-bit       8 bytes      unsigned long   8 bytes       unsigned long[1]
///  i386, armhf  4 bytes      unsigned long   4 bytes       unsigned long[2]
/// ```
///
/// `unsigned long` is 32 bits on i386 and armhf: each field is read and
/// written as its own type, never as a wider one, so `sa_flags` is not read
/// with the restorer's bytes in its high half.
type KernelSigaction = k::kernel_sigaction;

/// `sa_flags` as the kernel's field holds it (an `unsigned long`). Every
/// `SA_*` bit lies in the low 32 (the highest, `SA_RESETHAND`, is bit 31),
/// and a [`SigAction`] holds no other bits but ones read from this field, so
/// nothing is lost on 32-bit arches.
fn flags_field(flags: u64) -> c_ulong {
    debug_assert!(c_ulong::try_from(flags).is_ok(), "sa_flags {flags:#x}");
    flags as c_ulong
}

/// An `unsigned long` as a u64: wider on i386 and armhf, the same elsewhere.
#[allow(clippy::useless_conversion)] // a conversion only where c_ulong is u32
fn widen(word: c_ulong) -> u64 {
    u64::from(word)
}

/// A [`SigSet`] as the kernel's `sa_mask`: `unsigned long sig[N]`, signals
/// 1 to 32 in `sig[0]` and, where a word has 32 bits, 33 to 64 in `sig[1]`.
fn mask_field(set: SigSet) -> k::kernel_sigset_t {
    let mut field = k::kernel_sigset_t {
        sig: [0; size_of::<u64>() / size_of::<c_ulong>()],
    };
    for (i, word) in field.sig.iter_mut().enumerate() {
        *word = (set.bits() >> (i as u32 * c_ulong::BITS)) as c_ulong;
    }
    field
}

/// The kernel's `sa_mask` as a [`SigSet`] (see [`mask_field`]).
fn mask_from_field(field: &k::kernel_sigset_t) -> SigSet {
    let bits = field.sig.iter().enumerate().fold(0u64, |bits, (i, word)| {
        bits | widen(*word) << (i as u32 * c_ulong::BITS)
    });
    SigSet(bits)
}

/// One `rt_sigaction(signal, new, &old)`; `new = None` only reads.
///
/// # Safety
/// A handler in `new` must be sound to run at any instant on any thread that
/// does not block the signal (see [`sigaction`]).
unsafe fn rt_sigaction(signal: Signal, new: Option<&SigAction>) -> Result<SigAction, Errno> {
    // The kernel's struct holds the handler and the restorer as an
    // `Option<fn>`, which cannot hold SIG_IGN (1) as a Rust value: those two
    // are only ever handled as raw pointer-sized integers. The flags and the
    // mask are integers of the struct's own types.
    let mut act = MaybeUninit::<KernelSigaction>::zeroed();
    let mut old = MaybeUninit::<KernelSigaction>::zeroed();
    const _: () = assert!(size_of::<k::__kernel_sighandler_t>() == size_of::<usize>());
    const _: () = assert!(size_of::<k::__sigrestore_t>() == size_of::<usize>());
    const _: () = assert!(size_of::<k::kernel_sigset_t>() == size_of::<u64>());
    let act_ptr = act.as_mut_ptr();
    if let Some(new) = new {
        // SAFETY: act_ptr points at a zeroed kernel_sigaction; the handler
        // and restorer are written as the raw pointer-sized integers the
        // kernel reads, the flags and mask as values of their own field types.
        unsafe {
            addr_of_mut!((*act_ptr).sa_handler_kernel)
                .cast::<usize>()
                .write(new.handler);
            addr_of_mut!((*act_ptr).sa_flags).write(flags_field(new.flags));
            addr_of_mut!((*act_ptr).sa_restorer)
                .cast::<usize>()
                .write(new.restorer);
            addr_of_mut!((*act_ptr).sa_mask).write(mask_field(new.mask));
        }
    }
    let old_ptr = old.as_mut_ptr();
    // SAFETY: act (when passed) and old are valid kernel_sigaction buffers;
    // sigsetsize is the kernel's (8 bytes). The caller vouches for the handler.
    decode(unsafe {
        syscall4(
            k::__NR_rt_sigaction,
            signal.number() as usize,
            if new.is_some() { act_ptr as usize } else { 0 },
            old_ptr as usize,
            size_of::<k::kernel_sigset_t>(),
        )
    })?;
    // SAFETY: the kernel filled `old`; each field is read back as it was
    // written: handler and restorer as pointer-sized integers, flags and
    // mask as their own integer types.
    Ok(unsafe {
        SigAction {
            handler: addr_of!((*old_ptr).sa_handler_kernel)
                .cast::<usize>()
                .read(),
            flags: widen(addr_of!((*old_ptr).sa_flags).read()),
            restorer: addr_of!((*old_ptr).sa_restorer).cast::<usize>().read(),
            mask: mask_from_field(&*addr_of!((*old_ptr).sa_mask)),
        }
    })
}

/// `rt_sigaction(signal, NULL, &old)`: the current disposition of `signal`.
pub fn current_action(signal: Signal) -> Result<SigAction, Errno> {
    // SAFETY: nothing is installed.
    unsafe { rt_sigaction(signal, None) }
}

/// Restore `signal`'s default action; returns the previous one.
pub fn set_default(signal: Signal) -> Result<SigAction, Errno> {
    // SAFETY: SIG_DFL runs no code of ours.
    unsafe { rt_sigaction(signal, Some(&SigAction::default_action())) }
}

/// Ignore `signal` from now on; returns the previous action.
pub fn ignore(signal: Signal) -> Result<SigAction, Errno> {
    // SAFETY: SIG_IGN runs no code of ours.
    unsafe { rt_sigaction(signal, Some(&SigAction::ignore())) }
}

/// `rt_sigaction(signal, &action, &old)`: install `action` for the whole
/// process (every thread shares the handler table, and so does every child
/// made with `CLONE_SIGHAND`); returns the previous action.
///
/// # Safety
/// A handler in `action` may run at any instant on any thread that does not
/// block the signal, interrupting arbitrary code, including code that holds
/// locks or is halfway through changing memory. It must be
/// async-signal-safe: no allocation, no locks, no `std` I/O, no panics;
/// atomics and the raw syscalls of [`crate::sys`] are fine. An action read
/// back with [`current_action`] may be installed again only if its handler
/// (perhaps another library's) is still valid.
pub unsafe fn sigaction(signal: Signal, action: &SigAction) -> Result<SigAction, Errno> {
    // SAFETY: the caller vouches for the handler.
    unsafe { rt_sigaction(signal, Some(action)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" fn nothing(_: c_int) {}

    /// What is set is what the kernel gives back: handler, flags (the
    /// constructor's `SA_RESTORER` with two chosen ones), restorer and a mask
    /// with a signal in each half (on i386 and armhf `sa_flags` is 32 bits
    /// with the restorer right after it, and `sa_mask` two 32-bit words).
    #[test]
    fn an_action_reads_back_from_the_kernel_as_it_was_set() {
        let high = Signal::rt(8).expect("SIGRTMIN+8 is a signal"); // 40: the mask's high half
        let mask = SigSet::of(&[Signal::SIGUSR2, high]);
        let action = SigAction::handler(nothing)
            .with_flags(SaFlags::RESTART | SaFlags::NODEFER)
            .with_mask(mask);
        let (restorer_flag, restorer) = arch::restorer(false);
        assert_eq!(action.restorer, restorer);
        assert_eq!(
            action.flags(),
            (restorer_flag | k::SA_RESTART | k::SA_NODEFER) as u64
        );
        // SAFETY: the handler does nothing, and no one sends SIGUSR1 in
        // these tests; the previous action is put back below.
        let old = unsafe { sigaction(Signal::SIGUSR1, &action) }.expect("rt_sigaction");
        let back = current_action(Signal::SIGUSR1);
        // SAFETY: `old` was this process's action a moment ago.
        unsafe { sigaction(Signal::SIGUSR1, &old) }.expect("rt_sigaction");
        let back = back.expect("rt_sigaction");
        assert_eq!(back.flags(), action.flags(), "sa_flags");
        assert_eq!(back.restorer, action.restorer, "sa_restorer");
        assert_eq!(
            back.handler_address(),
            nothing as Handler as usize,
            "sa_handler"
        );
        assert_eq!(back.mask(), mask, "sa_mask");
        assert_eq!(back, action);
        assert_eq!(
            back.disposition(),
            Disposition::Handler {
                address: nothing as Handler as usize,
                siginfo: false
            }
        );
    }

    /// The mask's two 32-bit words on i386 and armhf, one word elsewhere:
    /// every signal lands where the kernel looks for it, and comes back.
    #[test]
    fn a_mask_round_trips_through_the_kernel_field() {
        for n in 1..=64 {
            let signal = Signal::new(n).expect("1 to 64");
            let set = SigSet::EMPTY.with(signal);
            let field = mask_field(set);
            let bits = c_ulong::BITS;
            let word = ((n - 1) / bits) as usize;
            assert_eq!(field.sig[word], 1 << ((n - 1) % bits), "signal {n}");
            assert_eq!(mask_from_field(&field), set, "signal {n}");
        }
    }
}
