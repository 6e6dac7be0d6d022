//! The one error type of clonelab's clone API.
//!
//! Bad input that clonelab can see is refused *before* the syscall, with a
//! variant that names the problem. What only the kernel can judge comes back
//! as [`Error::Kernel`]: the errno, plus — when clonelab's copy of the rules
//! in clone(2) predicts it — the rule the flags broke.

use crate::errno::Errno;
use crate::flags::{EncodingError, Rule};
use crate::sys::Pid;
use core::fmt;

/// Why a clone request failed.
///
/// ```
/// use clonelab::{spawn, CloneFlags, Error, ExitSignal, FlagsWord};
/// // Refused before any syscall: CLONE_VM would make a fork-like child share our memory.
/// let word = FlagsWord::new(CloneFlags::CLONE_VM, ExitSignal::SIGCHLD);
/// let err = spawn(word, || 0).unwrap_err();
/// assert!(matches!(err, Error::FlagNotAllowed(r) if r.flag() == "CLONE_VM"));
/// // A signal out of range, named before the syscall too, with the errno
/// // clone3 would have answered.
/// let err = Error::from(ExitSignal::new(65).unwrap_err());
/// assert_eq!(err, Error::SignalOutOfRange(65));
/// assert_eq!(err.errno(), None); // no syscall was made
/// assert_eq!(err.kernel_errno(), Some(clonelab::Errno::EINVAL));
/// assert!(err.to_string().contains("EINVAL"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum Error {
    /// A stack smaller than [`crate::Stack::MIN_SIZE`] was requested.
    StackTooSmall { requested: usize, minimum: usize },
    /// The child's stack pointer is not a multiple of
    /// [`crate::clone::STACK_ALIGN`] (16 bytes: what x86_64, aarch64, i386 and
    /// ppc64le require at a call, and more than the 8 of armhf and s390x).
    MisalignedStack { address: usize },
    /// `CLONE_VM` (or `CLONE_THREAD`/`CLONE_SIGHAND`, which need it) without a
    /// stack: the child would run on the parent's live stack.
    MissingStack,
    /// clone3 needs `stack` and `stack_size` both set or both zero.
    Clone3StackIncomplete,
    /// An exit signal outside `0..=64`: the value exactly as passed (all 64
    /// bits of `clone_args.exit_signal`). clone3 would answer EINVAL
    /// ([`Error::kernel_errno`]).
    SignalOutOfRange(u64),
    /// Flag bits inside the low byte of clone()'s flags word, where the exit
    /// signal lives (`CLONE_NEWTIME = 0x80` is the one real flag there: clone3 only).
    FlagsInSignalByte { bits: u64 },
    /// Flag bits above bit 31 (`CLONE_CLEAR_SIGHAND`, `CLONE_INTO_CGROUP`):
    /// clone() takes 32 bits of flags, these exist only in clone3.
    FlagsNeedClone3 { bits: u64 },
    /// Bits that name no `CLONE_*` flag.
    UnknownFlags { bits: u64 },
    /// The safe API does not allow this flag here (it would break a guarantee);
    /// the [`Refusal`] says which flag, why, and what to use instead.
    FlagNotAllowed(Refusal),
    /// The closure and bookkeeping do not fit on the child stack.
    ClosureTooLarge { needed: usize, available: usize },
    /// clone3's `stack + stack_size` lies beyond the end of the address space.
    StackRangeOverflows { stack: u64, size: u64 },
    /// A `clone_args` of `size` bytes, more than the kernel's page
    /// (`page_size`): refused before the syscall, as `copy_clone_args_from_user`
    /// refuses it with E2BIG ([`Error::kernel_errno`]). See
    /// [`crate::clone::CloneArgsExt`].
    Clone3ArgsTooLarge { size: usize, page_size: usize },
    /// The kernel answered E2BIG to a `clone_args` of `size` bytes whose last
    /// non-zero byte, at `offset`, lies past clonelab's `struct clone_args`:
    /// a kernel takes a struct larger than the one it knows only if every
    /// byte past its own is zero (`copy_struct_from_user`), so this kernel's
    /// struct ends before `offset`. See [`crate::clone::clone3_ext`].
    Clone3ArgsTail { size: usize, offset: usize },
    /// A [`SpawnOptions::set_tid`](crate::spawn::SpawnOptions::set_tid)
    /// array refused: before the syscall, naming the value (the length, the
    /// offending pid and its index) and, in [`Error::kernel_errno`], the
    /// errno clone3 would have answered; or by the kernel (EEXIST, EINVAL,
    /// EPERM), with what each means for set_tid in the Display.
    SetTid(SetTidError),
    /// [`Child::wait`](crate::Child::wait) or
    /// [`Child::wait_timeout`](crate::Child::wait_timeout) found the child
    /// (`pid`) reaped outside its `Child` (by [`wait_pid`](crate::wait::wait_pid),
    /// a wait for any child, SIGCHLD ignored): its status is gone, and `pid`
    /// may name another process already. The kernel's ECHILD
    /// ([`Error::errno`]), remembered: later calls say so without a syscall.
    ReapedElsewhere { pid: Pid },
    /// The kernel refused; `rule` is the clone(2) rule the request broke, if known.
    Kernel {
        errno: Errno,
        rule: Option<&'static Rule>,
    },
}

/// Which flag the safe API refused, and why. Only clonelab makes these, so
/// the texts are always its own static strings: an [`Error`] holds no pointer
/// that could dangle in another process (see [`crate::trace::Plain`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    flag: &'static str,
    why: &'static str,
}

impl Refusal {
    pub(crate) const fn new(flag: &'static str, why: &'static str) -> Refusal {
        Refusal { flag, why }
    }

    /// The flag (or combination) refused, e.g. `"CLONE_VM"`.
    pub const fn flag(&self) -> &'static str {
        self.flag
    }

    /// Why, and what to use instead.
    pub const fn why(&self) -> &'static str {
        self.why
    }
}

/// What was wrong with a [`SpawnOptions::set_tid`](crate::spawn::SpawnOptions::set_tid)
/// array, in [`Error::SetTid`]. The first five are refused before the
/// syscall and name the value; [`Kernel`](SetTidError::Kernel) is the
/// kernel's answer, explained.
///
/// ```
/// use clonelab::spawn::{spawn_with, SpawnOptions};
/// use clonelab::{CloneFlags, Errno, Error, ExitSignal, FlagsWord, SetTidError};
/// let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
/// let err = spawn_with(word, SpawnOptions::new().set_tid(&[7, -3]), |_| 0).unwrap_err();
/// assert_eq!(err, Error::SetTid(SetTidError::NotPositive { index: 1, pid: -3 }));
/// assert!(err.to_string().contains("set_tid[1] is -3"));
/// assert_eq!((err.errno(), err.kernel_errno()), (None, Some(Errno::EINVAL)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum SetTidError {
    /// `set_tid(&[])`: clone3 would answer EINVAL (`copy_clone_args_from_user`:
    /// a `set_tid` pointer with `set_tid_size` 0).
    Empty,
    /// `len` pids, more than [`MAX_SET_TID`](crate::spawn::MAX_SET_TID) (32,
    /// the kernel's `MAX_PID_NS_LEVEL`): clone3 would answer EINVAL
    /// (`copy_clone_args_from_user`).
    TooMany { len: usize },
    /// `set_tid[index]` is `pid`, 0 or negative (the first such): clone3
    /// would answer EINVAL (`alloc_pid`: a pid is at least 1).
    NotPositive { index: usize, pid: Pid },
    /// CLONE_NEWPID and `set_tid[0]` is `pid`, not 1: the child is the first
    /// process, the init, of its new PID namespace, and clone3 would answer
    /// EINVAL (`alloc_pid`: a pid other than 1 where no init exists).
    NewPidNotInit { pid: Pid },
    /// `via(Syscall::Clone)` with `len` pids: clone() has no `set_tid`
    /// argument, so no kernel answer exists ([`Error::kernel_errno`] is `None`).
    NeedsClone3 { len: usize },
    /// The kernel answered `errno` (EEXIST, EINVAL or EPERM, with no
    /// clone(2) flags rule to blame) to clone3 with `len` pids, `first` being
    /// `set_tid[0]`. The Display says what that errno means for set_tid
    /// (`alloc_pid`, `kernel/pid.c`).
    Kernel {
        errno: Errno,
        len: usize,
        first: Pid,
    },
}

impl SetTidError {
    /// The errno clone3 answered ([`Kernel`](SetTidError::Kernel)) or would
    /// answer (EINVAL) for this array; `None` for
    /// [`NeedsClone3`](SetTidError::NeedsClone3).
    ///
    /// For [`NotPositive`](SetTidError::NotPositive) and
    /// [`NewPidNotInit`](SetTidError::NewPidNotInit) this is the kernel's
    /// answer only where no earlier check fails first: the kernel finds the
    /// pid in `alloc_pid`, late in `copy_process`, walking the levels
    /// innermost first with a capability check (EPERM) at each, so a broken
    /// clone(2) rule, EPERM from `copy_namespaces` for a CLONE_NEWPID without
    /// CAP_SYS_ADMIN, or EPERM at an inner level (newer kernels also make the
    /// "no init yet" check after the capability check) can answer instead.
    pub const fn kernel_errno(&self) -> Option<Errno> {
        match self {
            SetTidError::Empty
            | SetTidError::TooMany { .. }
            | SetTidError::NotPositive { .. }
            | SetTidError::NewPidNotInit { .. } => Some(Errno::EINVAL),
            SetTidError::NeedsClone3 { .. } => None,
            SetTidError::Kernel { errno, .. } => Some(*errno),
        }
    }

    /// The kernel's answer, with the explanation, if `errno` is one that
    /// `alloc_pid` gives a set_tid array (EEXIST, EINVAL, EPERM).
    pub(crate) fn from_kernel(errno: Errno, pids: &[Pid]) -> Option<SetTidError> {
        matches!(errno, Errno::EEXIST | Errno::EINVAL | Errno::EPERM).then(|| SetTidError::Kernel {
            errno,
            len: pids.len(),
            first: pids.first().copied().unwrap_or(0),
        })
    }
}

impl fmt::Display for SetTidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetTidError::Empty => f.write_str(
                "SpawnOptions::set_tid(&[]): an empty set_tid array asks for nothing, and \
                 clone3 would fail with EINVAL (copy_clone_args_from_user: set_tid with \
                 set_tid_size 0); leave set_tid out for the next free pid",
            ),
            SetTidError::TooMany { len } => write!(
                f,
                "SpawnOptions::set_tid with {len} pids, more than 32: a task is in at most 32 \
                 nested PID namespaces (MAX_PID_NS_LEVEL), and clone3 would fail with EINVAL \
                 (copy_clone_args_from_user)"
            ),
            SetTidError::NotPositive { index, pid } => write!(
                f,
                "SpawnOptions::set_tid: set_tid[{index}] is {pid}, and a pid is at least 1 \
                 (clone3 would fail with EINVAL: alloc_pid)"
            ),
            SetTidError::NewPidNotInit { pid } => write!(
                f,
                "SpawnOptions::set_tid with CLONE_NEWPID: set_tid[0] is {pid}, but the child is \
                 the first process of its new PID namespace, which has no init yet, so its pid \
                 there (set_tid[0], the innermost) must be 1 (clone3 would fail with EINVAL: \
                 alloc_pid)"
            ),
            SetTidError::NeedsClone3 { len } => write!(
                f,
                "SpawnOptions::set_tid ({len} pid{}) with Syscall::Clone: only clone3 takes a \
                 set_tid array; leave the syscall to the options, or ask for clone3",
                plural(*len)
            ),
            SetTidError::Kernel { errno, len, first } => {
                write!(
                    f,
                    "{errno}: clone3 with a set_tid of {len} pid{}, set_tid[0] = {first} \
                     (innermost PID namespace first); if set_tid is the cause (another check, \
                     a seccomp filter or a sysctl, can give the same errno): ",
                    plural(*len)
                )?;
                f.write_str(match *errno {
                    Errno::EEXIST => {
                        "a pid asked for is taken in its PID namespace (alloc_pid: set_tid[i] \
                         must be free in the i-th namespace, counted from the child's own \
                         outwards)"
                    }
                    Errno::EINVAL => {
                        "alloc_pid refuses more pids than the new task has PID namespace \
                         levels (one per namespace it is in, the new one with CLONE_NEWPID \
                         included), a pid at or above that namespace's pid_max, or a pid \
                         other than 1 in a namespace that has no init yet (after \
                         unshare(CLONE_NEWPID), say)"
                    }
                    Errno::EPERM => {
                        "choosing a pid needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE (Linux \
                         5.9; CAP_SYS_ADMIN only before) in the user namespace that owns each \
                         PID namespace the array reaches (alloc_pid: \
                         checkpoint_restore_ns_capable)"
                    }
                    _ => "the kernel refused the call",
                })
            }
        }
    }
}

impl core::error::Error for SetTidError {}

/// The "s" of "pids", or none for one.
fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl Error {
    /// The errno the kernel returned: for [`Error::Kernel`],
    /// [`Error::Clone3ArgsTail`] (E2BIG), the kernel's answer to a set_tid
    /// array ([`SetTidError::Kernel`]) and [`Error::ReapedElsewhere`]
    /// (ECHILD). `None` for a refusal made before the syscall;
    /// [`kernel_errno`](Self::kernel_errno) says what the kernel would have
    /// answered.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Kernel { errno, .. } => Some(*errno),
            Error::Clone3ArgsTail { .. } => Some(Errno::E2BIG),
            Error::SetTid(SetTidError::Kernel { errno, .. }) => Some(*errno),
            Error::ReapedElsewhere { .. } => Some(Errno::ECHILD),
            _ => None,
        }
    }

    /// The kernel's errno for this request: the one it returned
    /// ([`errno`](Self::errno)) or, for a refusal made before the syscall,
    /// the one it would have returned had clonelab passed the request on —
    /// where every kernel that has the call refuses it so:
    ///
    /// | refused before the syscall | the kernel's answer |
    /// |---|---|
    /// | [`SignalOutOfRange`](Error::SignalOutOfRange) | EINVAL (clone3: `copy_clone_args_from_user`) |
    /// | [`Clone3StackIncomplete`](Error::Clone3StackIncomplete) | EINVAL (`clone3_stack_valid`) |
    /// | [`StackRangeOverflows`](Error::StackRangeOverflows), in a 64-bit process | EINVAL (`clone3_stack_valid`: `access_ok` fails) |
    /// | [`Clone3ArgsTooLarge`](Error::Clone3ArgsTooLarge) | E2BIG (`copy_clone_args_from_user`) |
    /// | [`SetTid`](Error::SetTid): an empty array, more than 32 pids | EINVAL (`copy_clone_args_from_user`) |
    /// | [`SetTid`](Error::SetTid): a pid <= 0, CLONE_NEWPID and a first pid other than 1 | EINVAL (`alloc_pid`; see [`SetTidError::kernel_errno`]) |
    ///
    /// `None` where the kernel would take the request, or where its answer
    /// depends on the syscall or the arch (or where no call could carry the
    /// request: set_tid with `Syscall::Clone`): clone() reads a flag in its low
    /// byte as exit-signal bits and drops bits above 31, no stack for
    /// `CLONE_VM` makes a child on the parent's stack, clone(2)'s EINVAL
    /// for a misaligned stack is the arch's to give, and a 32-bit process's
    /// stack range past 4 GiB meets a kernel that may read the address cut
    /// to 32 bits (a 32-bit kernel) or check it against 64 (compat).
    ///
    /// ```
    /// use clonelab::clone::{clone3, zeroed_args, CloneArgs};
    /// use clonelab::{Errno, Error};
    /// unsafe extern "C" fn never(_: *mut core::ffi::c_void) -> i32 { 0 }
    /// let mut args = CloneArgs { exit_signal: 0xbadc0ded00000000, ..zeroed_args() };
    /// // SAFETY: refused before the syscall: no child is made.
    /// let err = unsafe { clone3(&mut args, size_of::<CloneArgs>(), never, core::ptr::null_mut()) }
    ///     .unwrap_err();
    /// assert_eq!(err, Error::SignalOutOfRange(0xbadc0ded00000000));
    /// assert_eq!((err.errno(), err.kernel_errno()), (None, Some(Errno::EINVAL)));
    /// ```
    pub fn kernel_errno(&self) -> Option<Errno> {
        match self {
            Error::SignalOutOfRange(_) | Error::Clone3StackIncomplete => Some(Errno::EINVAL),
            Error::StackRangeOverflows { .. } if cfg!(target_pointer_width = "64") => {
                Some(Errno::EINVAL)
            }
            Error::Clone3ArgsTooLarge { .. } => Some(Errno::E2BIG),
            Error::SetTid(e) => e.kernel_errno(),
            _ => self.errno(),
        }
    }
}

impl From<EncodingError> for Error {
    fn from(e: EncodingError) -> Error {
        match e {
            EncodingError::SignalOutOfRange(n) => Error::SignalOutOfRange(n),
            EncodingError::FlagsInSignalByte { bits } => Error::FlagsInSignalByte { bits },
            EncodingError::FlagsNeedClone3 { bits } => Error::FlagsNeedClone3 { bits },
            EncodingError::UnknownFlags { bits } => Error::UnknownFlags { bits },
        }
    }
}

impl From<Errno> for Error {
    fn from(errno: Errno) -> Error {
        Error::Kernel { errno, rule: None }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        None
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::StackTooSmall { requested, minimum } => write!(
                f,
                "stack of {requested} bytes is too small: at least {minimum} bytes are needed"
            ),
            Error::MisalignedStack { address } => write!(
                f,
                "child stack pointer {address:#x} is not 16-byte aligned (clonelab asks 16 on every arch: the strictest of the six ABIs)"
            ),
            Error::MissingStack => f.write_str(
                "CLONE_VM needs a child stack: without one the child would run on the parent's live stack",
            ),
            Error::Clone3StackIncomplete => f.write_str(
                "clone3 needs stack and stack_size both set, or both zero \
                 (the kernel would fail with EINVAL: clone3_stack_valid)",
            ),
            Error::SignalOutOfRange(n) => EncodingError::SignalOutOfRange(*n).fmt(f),
            Error::FlagsInSignalByte { bits } => {
                EncodingError::FlagsInSignalByte { bits: *bits }.fmt(f)
            }
            Error::FlagsNeedClone3 { bits } => EncodingError::FlagsNeedClone3 { bits: *bits }.fmt(f),
            Error::UnknownFlags { bits } => EncodingError::UnknownFlags { bits: *bits }.fmt(f),
            Error::FlagNotAllowed(refusal) => write!(
                f,
                "{} is not allowed here: {}",
                refusal.flag, refusal.why
            ),
            Error::ClosureTooLarge { needed, available } => write!(
                f,
                "the child's closure needs {needed} bytes on its stack but only {available} are free"
            ),
            Error::StackRangeOverflows { stack, size } => write!(
                f,
                "clone3 stack {stack:#x} + stack_size {size:#x} overflows the address space"
            ),
            Error::Clone3ArgsTooLarge { size, page_size } => write!(
                f,
                "clone_args of {size} bytes is larger than a page ({page_size} bytes): \
                 clone3 would fail with E2BIG (copy_clone_args_from_user)"
            ),
            Error::Clone3ArgsTail { size, offset } => write!(
                f,
                "E2BIG: clone_args is {size} bytes and its last non-zero byte is at offset \
                 {offset}; the kernel takes a struct larger than its own only if every byte \
                 past the fields it knows is zero (copy_struct_from_user), and its own ends \
                 before that byte"
            ),
            Error::SetTid(e) => e.fmt(f),
            Error::ReapedElsewhere { pid } => write!(
                f,
                "child {pid} was reaped outside its Child (by wait_pid or another wait): its \
                 status is gone, and its pid may already name another process"
            ),
            Error::Kernel { errno, rule: Some(rule) } => {
                write!(f, "{errno}: {}", rule.text)
            }
            Error::Kernel { errno, rule: None } => write!(f, "{errno}"),
        }
    }
}

// SAFETY: integers (pids and lengths among them), Errno, and two kinds of
// `&'static` data that only this crate creates: the Refusal texts (string literals; its constructor is
// pub(crate)) and `&'static Rule`, which points into the static RULES table
// (a Rule cannot be built outside this crate: it has a private field and is
// neither Clone nor Copy).
unsafe impl crate::plain::Plain for Error {}
