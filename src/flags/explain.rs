//! What a flags word means to the kernel: the decoding `clonelab explain`
//! prints, for any word the kernel takes.
//!
//! A word is read as written ([`Written`]: `0x91`, `273`, `CLONE_VM|SIGCHLD`),
//! then as each syscall reads it ([`KernelReads`]):
//!
//! ```text
//!  clone():  flags = lower_32_bits(word) & ~CSIGNAL    bits above 31: dropped
//!            exit_signal = lower_32_bits(word) & CSIGNAL    any byte, 0 to 255
//!  clone3(): flags = clone_args.flags, exit_signal = clone_args.exit_signal
//!            (copy_clone_args_from_user refuses an exit_signal that is not
//!            0 to 64, and clone3_args_valid unknown flags: EINVAL)
//! ```
//!
//! What happens to the exit signal at the child's exit ([`Fate`]) was checked
//! in the kernel's source: `copy_process` (kernel/fork.c) gives a thread no
//! exit signal (-1) and a CLONE_PARENT child its caller's leader's; at exit,
//! `do_notify_parent` (kernel/signal.c) sends the signal only
//! `if (valid_signal(sig) && sig)` — 1 to `_NSIG` (64) — and wakes a waiting
//! parent either way; `eligible_child` (kernel/exit.c) lets a plain wait see
//! only children whose exit signal is SIGCHLD. So clone() takes exit signals
//! 65 to 255, and such a child ends like one with exit signal 0. Nothing here
//! refuses a word the kernel takes: what the kernel refuses is said, with its
//! errno; what it takes and what it then does are said too. Which errno a
//! word gets when it breaks two rules follows the order the kernel checks them
//! in ([`Check`]): an EINVAL rule of `copy_process` comes before the privilege
//! `copy_namespaces` asks for, so an unprivileged caller gets EINVAL there.
//!
//! Where it sits: part of [`crate::flags`]: pure decoding, no syscall. The
//! `clonelab` binary (`explain.rs`) prints it beside the registers of the call.

use super::{
    broken_rules, Check, CloneFlags, ExitSignal, FlagsWord, Kernel, Rule, Syscall, CSIGNAL,
};
use super::{ALL_FLAGS, MAX_SIGNAL};
use crate::errno::Errno;
use crate::signum::Signal;
use core::fmt;
use linux_raw_sys::general as k;

/// A flags word as written: flag bits and an exit-signal byte, nothing
/// refused for being out of range (parse it with `str::parse`).
///
/// ```
/// use clonelab::flags::explain::Written;
/// let w: Written = "0x91".parse().unwrap();
/// assert_eq!((w.flags, w.signal), (0, 145)); // a number's low byte is the signal
/// let w: Written = "CLONE_NEWTIME|SIGCHLD".parse().unwrap();
/// assert_eq!((w.flags, w.signal), (0x80, 17));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Written {
    /// The flag bits: a number's bits above its low byte, and every
    /// `CLONE_*` name (CLONE_NEWTIME, 0x80, included).
    pub flags: u64,
    /// The exit signal: a signal name, or a number's low byte (0 to 255).
    pub signal: u32,
}

impl Written {
    /// The word of a [`FlagsWord`].
    pub fn of(word: FlagsWord) -> Written {
        Written {
            flags: word.flags.bits(),
            signal: word.signal.number(),
        }
    }

    /// What the kernel takes from this word through `syscall`.
    pub fn read_by(self, syscall: Syscall) -> KernelReads {
        match syscall {
            Syscall::Clone => {
                // The one register: flags | signal. A flag in the low byte
                // (CLONE_NEWTIME) lands in the signal byte.
                let register = self.flags | self.signal as u64;
                let low = register & 0xffff_ffff;
                KernelReads {
                    syscall,
                    written: self,
                    value: register,
                    flags: CloneFlags::from_bits_retain(low & !CSIGNAL),
                    exit_signal: low & CSIGNAL,
                    dropped: register & !0xffff_ffff,
                }
            }
            Syscall::Clone3 => KernelReads {
                syscall,
                written: self,
                value: self.flags,
                flags: CloneFlags::from_bits_retain(self.flags),
                exit_signal: self.signal as u64,
                dropped: 0,
            },
        }
    }

    /// The [`FlagsWord`] whose call, as `clonelab::abi` renders it (C call,
    /// register image), loads what this word loads through `syscall`; `None`
    /// where no FlagsWord does (clone3 with an exit signal above 64, which
    /// the kernel refuses anyway).
    pub fn call_word(self, syscall: Syscall) -> Option<FlagsWord> {
        let flags = CloneFlags::from_bits_retain(self.flags);
        if let Ok(signal) = ExitSignal::new(self.signal) {
            return Some(FlagsWord::new(flags, signal));
        }
        if syscall == Syscall::Clone3 {
            return None;
        }
        // clone() takes any byte: the register image loads flags | signal, so
        // the byte can ride in the flags. Where it is CLONE_NEWTIME's 0x80
        // and a signal (0x91 = CLONE_NEWTIME|SIGCHLD), it reads as the tour
        // shows it; otherwise the rest names no flag, with exit signal 0.
        let newtime = k::CLONE_NEWTIME;
        if self.signal & newtime != 0 {
            if let Ok(signal) = ExitSignal::new(self.signal & !newtime) {
                let flags = flags | CloneFlags::CLONE_NEWTIME;
                return Some(FlagsWord::new(flags, signal));
            }
        }
        Some(FlagsWord::new(
            CloneFlags::from_bits_retain(self.flags | self.signal as u64),
            ExitSignal::NONE,
        ))
    }
}

impl fmt::Display for Written {
    /// strace style: `CLONE_VM|SIGCHLD`; an exit-signal byte that is no
    /// signal as `exit signal 145`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = CloneFlags::from_bits_retain(self.flags);
        let signal = SignalByte(self.signal as u64);
        match (self.flags, self.signal) {
            (0, 0) => f.write_str("0"),
            (0, _) => write!(f, "{signal}"),
            (_, 0) => write!(f, "{flags}"),
            _ => write!(f, "{flags}|{signal}"),
        }
    }
}

/// An exit-signal value as the kernel holds it: a signal's name, `0`, or
/// `exit signal N` when it is no signal.
struct SignalByte(u64);

impl fmt::Display for SignalByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match u32::try_from(self.0).ok().and_then(Signal::new) {
            Some(signal) => write!(f, "{signal}"),
            None if self.0 == 0 => f.write_str("0"),
            None => write!(f, "exit signal {}", self.0),
        }
    }
}

/// What the kernel takes from a word through one syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelReads {
    /// Through which syscall.
    pub syscall: Syscall,
    /// The word as written, which this reads.
    pub written: Written,
    /// clone(): the flags register as loaded (flags | signal byte);
    /// clone3: `clone_args.flags`.
    pub value: u64,
    /// The `CLONE_*` bits the kernel acts on.
    pub flags: CloneFlags,
    /// The exit signal it takes (clone(): the register's low byte;
    /// clone3: `clone_args.exit_signal`).
    pub exit_signal: u64,
    /// clone() only: the bits above 31, which it drops (`lower_32_bits`).
    pub dropped: u64,
}

/// What becomes of the exit signal when the child exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// CLONE_THREAD: a thread has none (`exit_signal = -1`); it is not
    /// waited for, its thread group is.
    Thread,
    /// CLONE_PARENT: the child takes the exit signal of the caller's
    /// thread-group leader, whatever the word says.
    ParentsLeader,
    /// SIGCHLD: sent to the parent; a plain wait sees the child.
    Sigchld,
    /// Another signal, 1 to 64: sent to the parent; only a wait with
    /// `__WCLONE` or `__WALL` sees the child.
    Other(Signal),
    /// 0: nothing is sent; only `__WCLONE` or `__WALL` sees the child.
    None,
    /// 65 to 255 through clone(): taken, then never sent (`valid_signal`
    /// fails in `do_notify_parent`); only `__WCLONE` or `__WALL` sees the
    /// child — as with 0.
    NotASignal(u64),
    /// clone3 with an exit signal that is no signal: refused (EINVAL).
    Refused(u64),
}

impl fmt::Display for Fate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exec = "(SIGCHLD instead if the parent has called execve since)";
        match self {
            Fate::Thread => f.write_str(
                "none: a thread has no exit signal (copy_process sets -1); it is \
                 not waited for, and its thread group ends when the last thread does",
            ),
            Fate::ParentsLeader => f.write_str(
                "not this one: with CLONE_PARENT the child takes the exit signal of \
                 the caller's thread-group leader (copy_process), and reports to the \
                 caller's parent",
            ),
            Fate::Sigchld => f.write_str(
                "SIGCHLD is sent to the parent when the child exits; a plain wait sees the child",
            ),
            Fate::Other(signal) => write!(
                f,
                "{signal} is sent to the parent when the child exits {exec}; only a \
                 wait with __WCLONE or __WALL sees the child"
            ),
            Fate::None => f.write_str(
                "none: nothing is sent when the child exits; only a wait with \
                 __WCLONE or __WALL sees the child",
            ),
            Fate::NotASignal(n) => write!(
                f,
                "WARNING: {n} is no signal (they run 1 to {MAX_SIGNAL}), yet clone() takes \
                 it: it checks no exit signal. When the child exits, do_notify_parent sends \
                 nothing (valid_signal({n}) is false) but still wakes a waiting parent {exec}; \
                 and as {n} is not SIGCHLD, only a wait with __WCLONE or __WALL sees the \
                 child. It ends as a child with exit signal 0 does. (clone3 refuses this \
                 exit signal with EINVAL, and a patch proposed for the kernel in March 2026 \
                 would make clone() refuse it too.)"
            ),
            Fate::Refused(n) => write!(
                f,
                "refused: the kernel answers EINVAL, as exit_signal {n} is no signal \
                 (copy_clone_args_from_user: valid_signal)"
            ),
        }
    }
}

impl KernelReads {
    /// What becomes of the exit signal (see [`Fate`]).
    pub fn fate(&self) -> Fate {
        let signal = u32::try_from(self.exit_signal).ok();
        if self.flags.contains(CloneFlags::CLONE_THREAD) {
            return Fate::Thread;
        }
        if self.flags.contains(CloneFlags::CLONE_PARENT) {
            return Fate::ParentsLeader;
        }
        match signal.map(|n| (n, Signal::new(n))) {
            Some((0, _)) => Fate::None,
            Some((_, Some(Signal::SIGCHLD))) => Fate::Sigchld,
            Some((_, Some(other))) => Fate::Other(other),
            _ if self.syscall == Syscall::Clone3 => Fate::Refused(self.exit_signal),
            _ => Fate::NotASignal(self.exit_signal),
        }
    }

    /// The word as a [`FlagsWord`] for judging flag rules: the flags the
    /// kernel acts on, and the exit signal when it is one (else 0, which no
    /// rule of clone() looks at).
    fn judged(&self) -> FlagsWord {
        let signal = u32::try_from(self.exit_signal)
            .ok()
            .and_then(|n| ExitSignal::new(n).ok())
            .unwrap_or(ExitSignal::NONE);
        FlagsWord::new(self.flags, signal)
    }

    /// Every reason the kernel refuses this word whatever the caller's state,
    /// with its errno (EPERM for want of privilege is a [`Note`], not a refusal).
    pub fn refusals(&self, kernel: Kernel) -> impl Iterator<Item = Refusal> + '_ {
        let unknown = match self.syscall {
            // Every bit 8 to 31 is a CLONE_* flag; clone() drops the rest.
            Syscall::Clone => 0,
            Syscall::Clone3 => self.flags.bits() & !CloneFlags::known_bits(),
        };
        // clone3_args_valid: the low byte may hold only CLONE_NEWTIME.
        let in_signal_byte = match self.syscall {
            Syscall::Clone => 0,
            Syscall::Clone3 => self.flags.bits() & CSIGNAL & !(k::CLONE_NEWTIME as u64),
        };
        let bad_signal = matches!(self.fate(), Fate::Refused(_));
        let rules = broken_rules(self.judged(), self.syscall, kernel)
            .filter(|r| r.errno != Errno::EPERM)
            .map(Refusal::Rule);
        (unknown != 0)
            .then_some(Refusal::UnknownFlags(unknown))
            .into_iter()
            .chain((in_signal_byte != 0).then_some(Refusal::LowByteFlags(in_signal_byte)))
            .chain(bad_signal.then_some(Refusal::ExitSignal(self.exit_signal)))
            .chain(rules)
    }

    /// What else to know: bits clone() drops, a flag that lands in the
    /// signal byte, the privilege some flags need.
    pub fn notes(&self, kernel: Kernel) -> impl Iterator<Item = Note> + '_ {
        let dropped = (self.dropped != 0).then_some(Note::Dropped(self.dropped));
        let newtime = (self.syscall == Syscall::Clone
            && self.exit_signal & k::CLONE_NEWTIME as u64 != 0)
            .then(|| self.newtime_note());
        dropped
            .into_iter()
            .chain(newtime)
            .chain(self.privilege(kernel))
    }

    /// CLONE_NEWTIME's bit read as part of clone()'s exit signal, and where
    /// to see clone3 carry it as a flag.
    fn newtime_note(&self) -> Note {
        let newtime = k::CLONE_NEWTIME as u64;
        let by_name = if self.written.flags & newtime != 0 {
            // Named: this word's clone3 reading already carries the flag.
            None
        } else {
            // A number: its bits 0-7 are the exit signal for clone3 too.
            Some(Written {
                flags: self.written.flags | newtime,
                signal: (self.exit_signal & !newtime) as u32,
            })
        };
        Note::NewtimeInSignalByte {
            byte: self.exit_signal,
            by_name,
        }
    }

    /// What a caller without CAP_SYS_ADMIN meets, when a namespace flag asks
    /// for it: EPERM, unless a rule the kernel checks earlier refuses the
    /// word first ([`Check`]).
    fn privilege(&self, kernel: Kernel) -> Option<Note> {
        let rule =
            broken_rules(self.judged(), self.syscall, kernel).find(|r| r.errno == Errno::EPERM)?;
        let first = self.refusals(kernel).min_by_key(Refusal::checked_in);
        Some(match first {
            Some(refusal) if refusal.checked_in() < rule.checked_in => {
                Note::RefusedBeforePrivilege(refusal.function())
            }
            Some(_) => Note::NeedsPrivilegeFirst(rule.text),
            None => Note::NeedsPrivilege(rule.text),
        })
    }

    /// Everything said about this syscall's reading of the word: what the
    /// kernel reads, what becomes of the exit signal, refusals and notes.
    pub fn describe(&self, kernel: Kernel) -> Described<'_> {
        Described {
            reads: self,
            kernel,
        }
    }
}

/// Why the kernel refuses a word (see [`KernelReads::refusals`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Bits that name no flag (clone3_args_valid: EINVAL).
    UnknownFlags(u64),
    /// Flag bits in the low byte other than CLONE_NEWTIME (clone3_args_valid: EINVAL).
    LowByteFlags(u64),
    /// clone3's exit_signal is no signal (EINVAL).
    ExitSignal(u64),
    /// A rule of clone(2) ([`super::RULES`]).
    Rule(&'static Rule),
}

impl Refusal {
    /// The errno the kernel answers.
    pub fn errno(&self) -> Errno {
        match self {
            Refusal::Rule(rule) => rule.errno,
            _ => Errno::EINVAL,
        }
    }

    /// Where the kernel checks it: the first check a call meets decides.
    pub fn checked_in(&self) -> Check {
        match self {
            Refusal::Rule(rule) => rule.checked_in,
            _ => Check::Clone3Args,
        }
    }

    /// The kernel function that refuses the word.
    pub fn function(&self) -> &'static str {
        match self {
            Refusal::ExitSignal(_) => "copy_clone_args_from_user",
            _ => self.checked_in().function(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnknownFlags(bits) => write!(f, "bits {bits:#x} name no CLONE_* flag"),
            Refusal::LowByteFlags(bits) => write!(
                f,
                "clone3 takes no flag in bits 0-7 but CLONE_NEWTIME, and {bits:#x} is there"
            ),
            Refusal::ExitSignal(n) => write!(f, "exit_signal {n} is no signal (1 to {MAX_SIGNAL})"),
            Refusal::Rule(rule) => f.write_str(rule.text),
        }
    }
}

/// Something the kernel does with a word it takes (see [`KernelReads::notes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// clone() drops these bits above 31 (clone3 only flags).
    Dropped(u64),
    /// CLONE_NEWTIME's bit, 0x80, is in clone()'s signal byte: read as part
    /// of this exit signal `byte`, it asks for no time namespace.
    NewtimeInSignalByte {
        /// The exit signal clone() reads, 0x80 included.
        byte: u64,
        /// `None` where the word named CLONE_NEWTIME (its clone3 reading
        /// carries the flag); for a number, the word that names it.
        by_name: Option<Written>,
    },
    /// Unprivileged, the kernel answers EPERM: this rule.
    NeedsPrivilege(&'static str),
    /// Unprivileged, the kernel answers EPERM (this rule) before it checks
    /// the EINVAL rule said above (copy_namespaces asks for the capability first).
    NeedsPrivilegeFirst(&'static str),
    /// A namespace flag asks for privilege, but this function refuses the
    /// word before copy_namespaces asks: EINVAL for every caller.
    RefusedBeforePrivilege(&'static str),
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Dropped(bits) => {
                let names = CloneFlags::from_bits_retain(*bits);
                write!(
                    f,
                    "WARNING: bits {bits:#x} ({names}) are above bit 31: clone() drops them \
                     (lower_32_bits) and makes the child without them; only clone3 carries them"
                )
            }
            Note::NewtimeInSignalByte { byte, by_name } => {
                write!(
                    f,
                    "WARNING: 0x80 is CLONE_NEWTIME's bit, but clone() reads bits 0-7 as the \
                     exit signal ({byte}): no time namespace is made. Only clone3 carries the \
                     flag apart from the signal"
                )?;
                match by_name {
                    None => f.write_str(": see this word's clone3 reading, below"),
                    Some(named) if ExitSignal::new(named.signal).is_ok() => write!(
                        f,
                        ", and only when the flag is named (a number's bits 0-7 are its exit \
                         signal, for clone3 too): `clonelab explain '{named}'`"
                    ),
                    Some(named) => write!(
                        f,
                        ", and clone3 refuses exit signal {} (1 to {MAX_SIGNAL})",
                        named.signal
                    ),
                }
            }
            Note::NeedsPrivilege(text) => {
                write!(f, "unless privileged, the kernel answers EPERM: {text}")
            }
            Note::NeedsPrivilegeFirst(text) => write!(
                f,
                "unless privileged, the kernel answers EPERM instead, as copy_namespaces \
                 checks CAP_SYS_ADMIN before that rule: {text}"
            ),
            Note::RefusedBeforePrivilege(function) => write!(
                f,
                "an unprivileged caller gets EINVAL too: {function} refuses the word before \
                 copy_namespaces checks CAP_SYS_ADMIN for the namespace flag"
            ),
        }
    }
}

/// [`KernelReads::describe`]: lines for one syscall.
pub struct Described<'a> {
    reads: &'a KernelReads,
    kernel: Kernel,
}

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.reads;
        let flags = Named(r.flags);
        let signal = SignalNumber(r.exit_signal);
        match r.syscall {
            Syscall::Clone => writeln!(
                f,
                "clone():  flags register = {:#x}: the kernel reads flags {flags} and exit signal {signal}",
                r.value,
            )?,
            Syscall::Clone3 => writeln!(
                f,
                "clone3(): clone_args.flags = {flags}, clone_args.exit_signal = {signal}"
            )?,
        }
        let mut out = Wrap::new(f, "          ", 100);
        let mut refused = false;
        // A rule checked after the capability check meets only privileged
        // callers (when no rule checked before it refuses the word first).
        let eperm =
            broken_rules(r.judged(), r.syscall, self.kernel).any(|x| x.errno == Errno::EPERM);
        let earliest = r.refusals(self.kernel).map(|x| x.checked_in()).min();
        let privileged_only = eperm && earliest > Some(Check::Capability);
        for refusal in r.refusals(self.kernel) {
            refused = true;
            let who = if privileged_only {
                " to a privileged caller"
            } else {
                ""
            };
            out.line(format_args!(
                "the kernel answers {} in {}{who}: {refusal}",
                refusal.errno(),
                refusal.function()
            ))?;
        }
        if !refused {
            out.line(format_args!(
                "the kernel takes it; no clone(2) rule is broken by the flags alone"
            ))?;
            out.line(format_args!("exit signal: {}", r.fate()))?;
        }
        for note in r.notes(self.kernel) {
            out.line(format_args!("{note}"))?;
        }
        Ok(())
    }
}

/// Flags as `0x100 (CLONE_VM)`, or `0x0 (none)`.
struct Named(CloneFlags);

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.bits() {
            0 => f.write_str("0x0 (none)"),
            bits => write!(f, "{bits:#x} ({})", self.0),
        }
    }
}

/// An exit-signal value as `17 (SIGCHLD)`, `0 (none)` or `145 (no signal)`.
struct SignalNumber(u64);

impl fmt::Display for SignalNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match u32::try_from(self.0).ok().and_then(Signal::new) {
            Some(signal) => write!(f, "{} ({signal})", self.0),
            None if self.0 == 0 => f.write_str("0 (none)"),
            None => write!(f, "{} (no signal)", self.0),
        }
    }
}

/// Writes lines of text indented by `pad` and folded at spaces to about
/// `width` columns (no allocator: a word at a time).
struct Wrap<'a, 'b> {
    f: &'a mut fmt::Formatter<'b>,
    pad: &'static str,
    width: usize,
    column: usize,
    word: [u8; 96],
    word_len: usize,
}

impl<'a, 'b> Wrap<'a, 'b> {
    fn new(f: &'a mut fmt::Formatter<'b>, pad: &'static str, width: usize) -> Self {
        Wrap {
            f,
            pad,
            width,
            column: 0,
            word: [0; 96],
            word_len: 0,
        }
    }

    /// One paragraph, folded, ending in a newline.
    fn line(&mut self, text: fmt::Arguments<'_>) -> fmt::Result {
        self.column = 0;
        fmt::Write::write_fmt(self, text)?;
        self.flush_word()?;
        self.f.write_str("\n")
    }

    fn flush_word(&mut self) -> fmt::Result {
        if self.word_len == 0 {
            return Ok(());
        }
        let word = core::str::from_utf8(&self.word[..self.word_len]).unwrap_or("?");
        if self.column == 0 {
            self.f.write_str(self.pad)?;
            self.column = self.pad.len();
        } else if self.column + 1 + word.len() > self.width {
            self.f.write_str("\n")?;
            self.f.write_str(self.pad)?;
            self.f.write_str("  ")?;
            self.column = self.pad.len() + 2;
        } else {
            self.f.write_str(" ")?;
            self.column += 1;
        }
        self.f.write_str(word)?;
        self.column += word.len();
        self.word_len = 0;
        Ok(())
    }
}

impl fmt::Write for Wrap<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if c == ' ' {
                self.flush_word()?;
                continue;
            }
            let mut utf8 = [0; 4];
            let bytes = c.encode_utf8(&mut utf8).as_bytes();
            if self.word_len + bytes.len() > self.word.len() {
                // A word longer than the buffer: write what we have, go on.
                self.flush_word()?;
            }
            self.word[self.word_len..self.word_len + bytes.len()].copy_from_slice(bytes);
            self.word_len += bytes.len();
        }
        Ok(())
    }
}

/// The word's bits, one line each: bit, value, name, meaning; then the
/// exit-signal byte.
pub struct BitTable(pub Written);

impl fmt::Display for BitTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.0;
        writeln!(
            f,
            "  bit  value                name                   meaning"
        )?;
        for (name, flag, what) in ALL_FLAGS
            .iter()
            .filter(|(_, fl, _)| w.flags & fl.bits() != 0)
        {
            let bit = flag.bits().trailing_zeros();
            writeln!(f, "  {bit:>3}  {:#020x}   {name:<22} {what}", flag.bits())?;
        }
        let unknown = w.flags & !CloneFlags::known_bits();
        if unknown != 0 {
            writeln!(f, "  ???  {unknown:#020x}   (no CLONE_* flag)")?;
        }
        write!(f, "  0-7  {:#020x}   ", w.signal)?;
        match Signal::new(w.signal) {
            Some(signal) => writeln!(
                f,
                "{signal:<22} the exit signal (clone: bits 0-7; clone3: exit_signal)"
            ),
            None if w.signal == 0 => writeln!(f, "{:<22} no exit signal", "0"),
            None => writeln!(
                f,
                "exit signal {:<10} no signal (1 to {MAX_SIGNAL}): see what each syscall does with it, below",
                w.signal
            ),
        }
    }
}
