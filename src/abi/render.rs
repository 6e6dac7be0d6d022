//! Printing a call as people read it: the C call with named arguments
//! ([`CCall`]), the flags word bit by bit ([`FlagBits`]), the register image
//! as lines ([`ImageLines`]) and table cells ([`cell`]).
//!
//! Where it sits: in [`crate::abi`]; everything it prints comes from a
//! [`CloneCall`] record, never from text kept beside the code.

use super::{Register, RegisterImage, Role};
use crate::clone::CloneCall;
use crate::flags::{Syscall, CSIGNAL};
use core::fmt;

/// The name a C program gives an argument's value: `stack_top`, `&ptid`,
/// `NULL`, ... Addresses are named, not printed, so the text is the same on
/// every run (the tour prints the numbers in the register table).
pub fn symbol(call: &CloneCall, role: Role) -> &'static str {
    let clone3 = call.syscall == Some(Syscall::Clone3);
    let pidfd_in_ptid = !clone3
        && call
            .word
            .flags
            .contains(crate::flags::CloneFlags::CLONE_PIDFD);
    match role {
        Role::Stack if call.stack == 0 => "0",
        Role::Stack if clone3 => "stack",
        Role::Stack => "stack_top",
        Role::ParentTid if call.parent_tid == 0 => "NULL",
        Role::ParentTid if pidfd_in_ptid => "&pidfd",
        Role::ParentTid if call.parent_tid == call.child_tid => "&tid",
        Role::ParentTid => "&ptid",
        Role::ChildTid if call.child_tid == 0 => "NULL",
        Role::ChildTid if call.child_tid == call.parent_tid => "&tid",
        Role::ChildTid => "&ctid",
        Role::Tls if call.tls == 0 => "0",
        Role::Tls => "tls",
        Role::ArgsPointer => "&args",
        Role::ArgsSize => "sizeof",
        Role::Number(_) | Role::Flags(_) => "",
    }
}

/// The C call that makes exactly `call`: `clone(fn, stack_top, FLAGS, arg,
/// &ptid, tls, &ctid)` (glibc's argument order, every argument shown) or
/// `clone3(&(struct clone_args){ ... }, size)` with every field that is set.
pub struct CCall<'a>(pub &'a CloneCall);

impl fmt::Display for CCall<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        let s = |role| symbol(c, role);
        match c.syscall.unwrap_or(Syscall::Clone) {
            Syscall::Clone => write!(
                f,
                "clone(fn, {}, {}, arg, {}, {}, {}){}",
                s(Role::Stack),
                c.word,
                s(Role::ParentTid),
                s(Role::Tls),
                s(Role::ChildTid),
                if c.stack == 0 {
                    "  /* stack 0: the child runs on a copy of ours (the raw syscall allows it; glibc's wrapper does not) */"
                } else {
                    ""
                }
            ),
            Syscall::Clone3 => {
                write!(f, "clone3(&(struct clone_args){{ .flags = {}", c.word.flags)?;
                let pidfd = if c.pidfd == 0 {
                    "NULL"
                } else if c.pidfd == c.parent_tid || c.pidfd == c.child_tid {
                    "&tid"
                } else {
                    "&pidfd"
                };
                if c.pidfd != 0 {
                    write!(f, ", .pidfd = {pidfd}")?;
                }
                if c.child_tid != 0 {
                    write!(f, ", .child_tid = {}", s(Role::ChildTid))?;
                }
                if c.parent_tid != 0 {
                    write!(f, ", .parent_tid = {}", s(Role::ParentTid))?;
                }
                write!(f, ", .exit_signal = {}", c.word.signal)?;
                if c.stack != 0 || c.stack_size != 0 {
                    write!(f, ", .stack = stack, .stack_size = {:#x}", c.stack_size)?;
                }
                if c.tls != 0 {
                    f.write_str(", .tls = tls")?;
                }
                if c.set_tid != 0 || c.set_tid_size != 0 {
                    write!(
                        f,
                        ", .set_tid = set_tid, .set_tid_size = {}",
                        c.set_tid_size
                    )?;
                }
                if c.cgroup != 0 {
                    f.write_str(", .cgroup = cgroup_fd")?;
                }
                write!(f, " }}, {})", c.clone3_size())
            }
        }
    }
}

/// The flags word of `call` split into its bits and the exit signal, one
/// line each: `0x00000100  CLONE_VM`, ..., `0x11  exit signal: SIGCHLD (17)`.
pub struct FlagBits<'a>(pub &'a CloneCall);

impl fmt::Display for FlagBits<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.0.word;
        let clone3 = self.0.syscall == Some(Syscall::Clone3);
        let raw = word.flags.bits() | word.signal.number() as u64;
        match (clone3, word.encode_clone()) {
            (false, Ok(encoded)) => writeln!(f, "{encoded:#010x} = {word}")?,
            (false, Err(_)) => writeln!(
                f,
                "{raw:#010x} = {word}: a flag lies in bits 0-7, which clone() reads as the exit signal"
            )?,
            (true, _) => writeln!(
                f,
                "clone_args.flags = {:#x}, clone_args.exit_signal = {}",
                word.flags.bits(),
                word.signal.number()
            )?,
        }
        let mut rest = word.flags.bits();
        for (name, flag, _) in crate::flags::ALL_FLAGS {
            if rest & flag.bits() != 0 {
                let note = if !clone3 && flag.bits() & CSIGNAL != 0 {
                    "  (inside the signal byte: clone() does not see a flag here)"
                } else {
                    ""
                };
                writeln!(f, "  {:#010x}  {name}{note}", flag.bits())?;
                rest &= !flag.bits();
            }
        }
        if rest != 0 {
            writeln!(f, "  {rest:#010x}  (no CLONE_* name)")?;
        }
        let signal = word.signal.number();
        if clone3 {
            writeln!(f, "  exit_signal {signal} = {}", word.signal)
        } else if raw & CSIGNAL != signal as u64 {
            let byte = raw & CSIGNAL;
            writeln!(
                f,
                "  {byte:#010x}  exit signal byte (bits 0-7) as the kernel reads it: {byte}{}",
                if byte > crate::flags::MAX_SIGNAL as u64 {
                    " (not a valid signal: none is sent)"
                } else {
                    ""
                }
            )
        } else {
            writeln!(
                f,
                "  {signal:#010x}  exit signal byte (bits 0-7): {}{}",
                word.signal,
                if signal == 0 { " (none)" } else { "" }
            )
        }
    }
}

/// A register image as `register = value (symbol)` lines with numbers when
/// `numbers` is set (the live tour), or symbols only (the chapters).
pub struct ImageLines<'a> {
    /// The image.
    pub image: &'a RegisterImage,
    /// Print addresses as numbers too.
    pub numbers: bool,
}

impl fmt::Display for ImageLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let call = self.image.call();
        for r in self.image.registers() {
            let what = cell(call, r);
            if self.numbers {
                writeln!(f, "{:<4} {:#018x}  {what}", r.name, r.value)?;
            } else {
                writeln!(f, "{:<4} {what}", r.name)?;
            }
        }
        Ok(())
    }
}

/// One register's value as the chapters print it: numbers for the syscall
/// number, flags and sizes; names for addresses.
pub fn cell(call: &CloneCall, r: &Register) -> CellText {
    CellText {
        call: *call,
        register: *r,
    }
}

/// See [`cell`].
pub struct CellText {
    call: CloneCall,
    register: Register,
}

impl fmt::Display for CellText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.register;
        match r.role {
            Role::Number(Syscall::Clone) => write!(f, "{} (clone)", r.value),
            Role::Number(Syscall::Clone3) => write!(f, "{} (clone3)", r.value),
            Role::Flags(_) => write!(f, "{:#x} (flags)", r.value),
            Role::ArgsSize => write!(f, "{} (size)", r.value),
            role => {
                let name = match role {
                    Role::Stack => "stack",
                    Role::ParentTid => "parent_tid",
                    Role::ChildTid => "child_tid",
                    Role::Tls => "tls",
                    _ => "args",
                };
                write!(f, "{} ({name})", symbol(&self.call, role))
            }
        }
    }
}
