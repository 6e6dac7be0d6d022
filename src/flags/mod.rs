//! Clone flags, the exit signal, and how they are packed for each syscall.
//!
//! ```text
//!  clone():  one 64-bit register, of which the kernel reads the low 32 bits
//!
//!   31                                                    8 7        0
//!  +-------------------------------------------------------+----------+
//!  |  CLONE_* flags (CLONE_VM = 0x100 ... CLONE_IO = 2^31)  | exit sig |  CSIGNAL = 0xff
//!  +-------------------------------------------------------+----------+
//!
//!  clone3(): struct clone_args { u64 flags; ... u64 exit_signal; ... }
//!            flags may use bit 7 (CLONE_NEWTIME) and bits 32, 33
//!            (CLONE_CLEAR_SIGHAND, CLONE_INTO_CGROUP); the signal has its own field.
//! ```
//!
//! `CLONE_VM | SIGCHLD` is therefore `0x100 | 17 = 0x111`. Every value comes
//! from `linux-raw-sys`; this file types none by hand.
//!
//! Where it sits: pure encoding, above [`crate::signum`] and below everything
//! that makes a call; it makes no syscall. [`rules`] is the table of clone(2)'s
//! EINVAL/EPERM rules; [`parse`](mod@parse) reads `0x111`, `273` or
//! `CLONE_VM|SIGCHLD`; [`explain`] says what the kernel does with any word it
//! takes (`clonelab explain`). Encoding mistakes are [`EncodingError`]s, which
//! [`crate::Error`] carries unchanged.

pub mod explain;
pub mod parse;
pub mod rules;

pub use crate::signum::signal_name;
pub use parse::ParseError;
pub use rules::{
    broken_rules, first_broken_rule, refused_for_privilege, Check, Kernel, Rule, RULES,
};

use crate::errno::Errno;
use crate::signum::Signal;
use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign};
use linux_raw_sys::general as k;

/// A set of `CLONE_*` flags, without the exit signal.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CloneFlags(u64);

macro_rules! clone_flags {
    ($($name:ident => $what:literal,)*) => {
        impl CloneFlags {
            $(
                #[doc = $what]
                pub const $name: CloneFlags = CloneFlags(k::$name as u64);
            )*
        }

        /// Every `CLONE_*` flag: name, value, and what it does.
        pub const ALL_FLAGS: &[(&str, CloneFlags, &str)] = &[
            $((stringify!($name), CloneFlags::$name, $what),)*
        ];
    };
}

clone_flags! {
    CLONE_NEWTIME => "new time namespace (clone3 only: 0x80 lies in clone()'s signal byte)",
    CLONE_VM => "share the address space",
    CLONE_FS => "share root, current directory and umask",
    CLONE_FILES => "share the file descriptor table",
    CLONE_SIGHAND => "share the table of signal handlers (needs CLONE_VM)",
    CLONE_PIDFD => "return a pidfd for the child",
    CLONE_PTRACE => "if the parent is traced, trace the child too",
    CLONE_VFORK => "suspend the parent until the child execs or exits",
    CLONE_PARENT => "the child's parent is the caller's parent",
    CLONE_THREAD => "same thread group (needs CLONE_SIGHAND); no exit signal",
    CLONE_NEWNS => "new mount namespace",
    CLONE_SYSVSEM => "share System V semaphore undo values",
    CLONE_SETTLS => "set the child's thread pointer (fs, tpidr_el0, r13, ...) from tls",
    CLONE_PARENT_SETTID => "store the child's tid at parent_tid (in the parent)",
    CLONE_CHILD_CLEARTID => "at child exit, zero child_tid and futex-wake it",
    CLONE_DETACHED => "historical, ignored by clone(), refused by clone3()",
    CLONE_UNTRACED => "a tracer cannot force CLONE_PTRACE",
    CLONE_CHILD_SETTID => "store the child's tid at child_tid (in the child)",
    CLONE_NEWCGROUP => "new cgroup namespace",
    CLONE_NEWUTS => "new UTS namespace (hostname, domainname)",
    CLONE_NEWIPC => "new IPC namespace",
    CLONE_NEWUSER => "new user namespace",
    CLONE_NEWPID => "new PID namespace: the child is its pid 1",
    CLONE_NEWNET => "new network namespace",
    CLONE_IO => "share the I/O context",
    CLONE_CLEAR_SIGHAND => "reset every handled signal to default (clone3 only)",
    CLONE_INTO_CGROUP => "start the child in the cgroup given by fd (clone3 only)",
}

/// The low byte of clone()'s flags word: the exit signal.
pub const CSIGNAL: u64 = k::CSIGNAL as u64;

impl CloneFlags {
    /// No flags.
    pub const EMPTY: CloneFlags = CloneFlags(0);

    /// The raw bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Flags from raw bits, keeping unknown bits (they are reported, not dropped).
    pub const fn from_bits_retain(bits: u64) -> CloneFlags {
        CloneFlags(bits)
    }

    /// Every bit that is some `CLONE_*` flag.
    pub fn known_bits() -> u64 {
        ALL_FLAGS.iter().fold(0, |acc, (_, f, _)| acc | f.0)
    }

    /// Whether all of `other` is set.
    pub const fn contains(self, other: CloneFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any of `other` is set.
    pub const fn intersects(self, other: CloneFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// These flags without `other`.
    pub const fn without(self, other: CloneFlags) -> CloneFlags {
        CloneFlags(self.0 & !other.0)
    }

    /// The flags that create a namespace.
    pub const NAMESPACES: CloneFlags = CloneFlags(
        (k::CLONE_NEWNS
            | k::CLONE_NEWCGROUP
            | k::CLONE_NEWUTS
            | k::CLONE_NEWIPC
            | k::CLONE_NEWUSER
            | k::CLONE_NEWPID
            | k::CLONE_NEWNET
            | k::CLONE_NEWTIME) as u64,
    );
}

impl BitOr for CloneFlags {
    type Output = CloneFlags;
    fn bitor(self, rhs: CloneFlags) -> CloneFlags {
        CloneFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for CloneFlags {
    fn bitor_assign(&mut self, rhs: CloneFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for CloneFlags {
    type Output = CloneFlags;
    fn bitand(self, rhs: CloneFlags) -> CloneFlags {
        CloneFlags(self.0 & rhs.0)
    }
}

impl fmt::Display for CloneFlags {
    /// `CLONE_VM|CLONE_FS`, unknown bits as hex, `0` for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            let s = if first { "" } else { "|" };
            first = false;
            f.write_str(s)
        };
        for (name, flag, _) in ALL_FLAGS {
            if rest & flag.0 != 0 {
                sep(f)?;
                f.write_str(name)?;
                rest &= !flag.0;
            }
        }
        if rest != 0 {
            sep(f)?;
            write!(f, "{rest:#x}")?;
        }
        if self.0 == 0 {
            f.write_str("0")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CloneFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloneFlags({self} = {:#x})", self.0)
    }
}

/// The signal the parent receives when the child exits: 0 (none) to 64.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExitSignal(u8);

/// Highest signal number (`_NSIG`).
pub const MAX_SIGNAL: u32 = k::_NSIG;

impl ExitSignal {
    /// No signal at exit: the parent must wait with `__WCLONE` or `__WALL`.
    pub const NONE: ExitSignal = ExitSignal(0);
    /// The usual one: what fork() uses, and what plain `wait4` looks for.
    pub const SIGCHLD: ExitSignal = ExitSignal(k::SIGCHLD as u8);

    /// An exit signal, refused outside `0..=64` before any syscall sees it.
    pub const fn new(signal: u32) -> Result<ExitSignal, EncodingError> {
        ExitSignal::from_clone_args(signal as u64)
    }

    /// The exit signal of a `clone_args.exit_signal` field, all 64 bits of
    /// it: refused as clone3 refuses it (`copy_clone_args_from_user`: bits
    /// outside `CSIGNAL`, or not `valid_signal`, are EINVAL), and the error
    /// names the exact value passed.
    ///
    /// ```
    /// use clonelab::flags::{EncodingError, ExitSignal};
    /// assert_eq!(ExitSignal::from_clone_args(17), Ok(ExitSignal::SIGCHLD));
    /// let err = ExitSignal::from_clone_args(0xbadc0ded00000000).unwrap_err();
    /// assert_eq!(err, EncodingError::SignalOutOfRange(0xbadc0ded00000000)); // not clamped
    /// assert_eq!(err.kernel_errno(), Some(clonelab::Errno::EINVAL));
    /// assert!(err.to_string().contains("0xbadc0ded00000000"));
    /// ```
    pub const fn from_clone_args(signal: u64) -> Result<ExitSignal, EncodingError> {
        if signal > MAX_SIGNAL as u64 {
            Err(EncodingError::SignalOutOfRange(signal))
        } else {
            Ok(ExitSignal(signal as u8))
        }
    }

    /// The signal number.
    pub const fn number(self) -> u32 {
        self.0 as u32
    }

    /// The signal, or `None` for exit signal 0.
    pub const fn signal(self) -> Option<Signal> {
        Signal::new(self.0 as u32)
    }

    /// Whether plain `wait4`/`waitpid` (without `__WCLONE`) can reap such a child:
    /// only children whose exit signal is SIGCHLD count as "non-clone" children.
    pub const fn is_sigchld(self) -> bool {
        self.0 as u32 == k::SIGCHLD
    }
}

impl From<Signal> for ExitSignal {
    fn from(signal: Signal) -> ExitSignal {
        ExitSignal(signal.number() as u8)
    }
}

impl fmt::Display for ExitSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.signal() {
            Some(signal) => fmt::Display::fmt(&signal, f),
            None => f.pad("0"),
        }
    }
}

impl fmt::Debug for ExitSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExitSignal({self} = {})", self.0)
    }
}

/// Which syscall a flags word is meant for: they pack it differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syscall {
    /// `clone(flags | signal, stack, ...)`: 32 bits, signal in the low byte.
    Clone,
    /// `clone3(&clone_args, size)`: 64-bit flags, separate `exit_signal`.
    Clone3,
}

/// The syscall's name as C spells it: `clone` or `clone3`.
impl fmt::Display for Syscall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Syscall::Clone => "clone",
            Syscall::Clone3 => "clone3",
        })
    }
}

/// Flags plus exit signal: what a C programmer writes as `CLONE_VM | SIGCHLD`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FlagsWord {
    /// The `CLONE_*` bits.
    pub flags: CloneFlags,
    /// The exit signal (clone(): low byte; clone3: `exit_signal`).
    pub signal: ExitSignal,
}

impl FlagsWord {
    /// Flags and a signal.
    pub const fn new(flags: CloneFlags, signal: ExitSignal) -> FlagsWord {
        FlagsWord { flags, signal }
    }

    /// Split a raw clone() flags word: low byte = signal, the rest = flags.
    pub fn from_clone_word(word: u64) -> Result<FlagsWord, EncodingError> {
        Ok(FlagsWord {
            flags: CloneFlags(word & !CSIGNAL),
            signal: ExitSignal::new((word & CSIGNAL) as u32)?,
        })
    }

    /// The register value for clone(): `flags | signal`. Refuses flags that
    /// would land in the signal byte or above bit 31, and unknown bits.
    pub fn encode_clone(self) -> Result<u64, EncodingError> {
        let bits = self.flags.0;
        if bits & CSIGNAL != 0 {
            return Err(EncodingError::FlagsInSignalByte {
                bits: bits & CSIGNAL,
            });
        }
        let unknown = bits & !CloneFlags::known_bits();
        if unknown != 0 {
            return Err(EncodingError::UnknownFlags { bits: unknown });
        }
        if bits >> 32 != 0 {
            return Err(EncodingError::FlagsNeedClone3 {
                bits: bits & !0xffff_ffff,
            });
        }
        Ok(bits | self.signal.0 as u64)
    }

    /// `(clone_args.flags, clone_args.exit_signal)` for clone3: kept apart.
    pub fn encode_clone3(self) -> Result<(u64, u64), EncodingError> {
        let unknown = self.flags.0 & !CloneFlags::known_bits();
        if unknown != 0 {
            return Err(EncodingError::UnknownFlags { bits: unknown });
        }
        Ok((self.flags.0, self.signal.0 as u64))
    }
}

impl fmt::Display for FlagsWord {
    /// strace style: `CLONE_VM|CLONE_FS|SIGCHLD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.flags.0, self.signal.0) {
            (0, _) => write!(f, "{}", self.signal),
            (_, 0) => write!(f, "{}", self.flags),
            _ => write!(f, "{}|{}", self.flags, self.signal),
        }
    }
}

impl fmt::Debug for FlagsWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FlagsWord({self})")
    }
}

/// A flags word that cannot be encoded as asked: found before any syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum EncodingError {
    /// An exit signal outside `0..=64`: the value exactly as passed (all 64
    /// bits of a `clone_args.exit_signal`). clone3 answers EINVAL for it.
    SignalOutOfRange(u64),
    /// Flag bits inside the low byte of clone()'s flags word, where the exit
    /// signal lives (`CLONE_NEWTIME = 0x80` is the one real flag there: clone3 only).
    FlagsInSignalByte { bits: u64 },
    /// Flag bits above bit 31 (`CLONE_CLEAR_SIGHAND`, `CLONE_INTO_CGROUP`):
    /// clone() takes 32 bits of flags, these exist only in clone3.
    FlagsNeedClone3 { bits: u64 },
    /// Bits that name no `CLONE_*` flag.
    UnknownFlags { bits: u64 },
}

impl fmt::Display for EncodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodingError::SignalOutOfRange(n) => {
                write!(
                    f,
                    "exit signal {n} ({n:#x}) is out of range: valid are 0 (none) to 64; \
                     clone3 would fail with EINVAL (copy_clone_args_from_user: not a valid_signal)"
                )
            }
            EncodingError::FlagsInSignalByte { bits } => write!(
                f,
                "flag bits {bits:#x} fall in clone()'s low byte, where the exit signal lives \
                 (CLONE_NEWTIME = 0x80 exists only for clone3)"
            ),
            EncodingError::FlagsNeedClone3 { bits } => write!(
                f,
                "flag bits {bits:#x} are above bit 31: clone() cannot carry them, use clone3"
            ),
            EncodingError::UnknownFlags { bits } => {
                write!(f, "bits {bits:#x} name no CLONE_* flag")
            }
        }
    }
}

impl EncodingError {
    /// The errno the kernel answers where it refuses the same thing, for
    /// this refusal made before the syscall: EINVAL for an exit signal out of
    /// range (clone3's `copy_clone_args_from_user`). `None` for the others,
    /// which one syscall takes with another meaning: clone() reads flag bits
    /// in its low byte as part of the exit signal, drops bits above 31, and
    /// has no unknown bits below them (clone3 refuses unknown bits with EINVAL).
    pub const fn kernel_errno(&self) -> Option<Errno> {
        match self {
            EncodingError::SignalOutOfRange(_) => Some(Errno::EINVAL),
            _ => None,
        }
    }
}

impl core::error::Error for EncodingError {}

// SAFETY: a u64.
unsafe impl crate::plain::Plain for CloneFlags {}
// SAFETY: integers only.
unsafe impl crate::plain::Plain for EncodingError {}
// SAFETY: a u8.
unsafe impl crate::plain::Plain for ExitSignal {}
// SAFETY: a fieldless enum.
unsafe impl crate::plain::Plain for Syscall {}
// SAFETY: CloneFlags and ExitSignal, both Plain.
unsafe impl crate::plain::Plain for FlagsWord {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Display and parse are inverse for every single flag.
    #[test]
    fn every_flag_round_trips_through_its_name() {
        for (name, flag, _) in ALL_FLAGS {
            let w = FlagsWord::new(*flag, ExitSignal::NONE);
            assert_eq!(std::format!("{w}"), *name);
            assert_eq!(name.parse::<FlagsWord>().unwrap().flags, *flag);
        }
    }

    /// A syscall displays as its C name.
    #[test]
    fn syscalls_display_as_their_c_names() {
        assert_eq!(std::format!("{}", Syscall::Clone), "clone");
        assert_eq!(std::format!("{}", Syscall::Clone3), "clone3");
    }

    /// No two flags share a bit.
    #[test]
    fn flags_are_distinct_bits() {
        let mut seen = 0u64;
        for (name, flag, _) in ALL_FLAGS {
            assert_eq!(flag.bits().count_ones(), 1, "{name}");
            assert_eq!(seen & flag.bits(), 0, "{name}");
            seen |= flag.bits();
        }
    }
}
