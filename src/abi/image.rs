//! [`RegisterImage`]: the registers one clone call loads, in the order the
//! kernel reads them, for this arch or the other; and how two images differ.
//!
//! Where it sits: in [`crate::abi`], on the arch table of its parent module
//! and the record of a call ([`CloneCall`]).

use super::{this_arch, ArchAbi, Register, Role};
use crate::clone::CloneCall;
use crate::flags::Syscall;
use core::fmt;

/// The registers a clone call loads, in the order the kernel reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisterImage {
    registers: [Register; 6],
    len: usize,
    call: CloneCall,
}

impl RegisterImage {
    /// The registers `call` loads on this architecture.
    pub fn of(call: &CloneCall) -> RegisterImage {
        RegisterImage::on(this_arch(), call)
    }

    /// The registers `call` loads on `abi`'s architecture (for the other arch:
    /// derived from the call, not observed). Each holds what fits: on a 32-bit
    /// arch a value's bits above 31 are lost ([`ArchAbi::register_value`]).
    pub fn on(abi: &ArchAbi, call: &CloneCall) -> RegisterImage {
        let syscall = call.syscall.unwrap_or(Syscall::Clone);
        let reg = |i: usize, value: u64, role: Role| Register {
            name: abi.arg_registers[i],
            value: abi.register_value(value),
            role,
        };
        let number = Register {
            name: abi.nr_register,
            value: match syscall {
                Syscall::Clone => abi.nr_clone,
                Syscall::Clone3 => abi.nr_clone3,
            },
            role: Role::Number(syscall),
        };
        let mut registers = [number; 6];
        let len = match syscall {
            Syscall::Clone => {
                // A word clone() cannot carry cleanly (a flag inside the signal
                // byte) still loads as flags | signal: that is what the kernel reads.
                let flags = call
                    .word
                    .encode_clone()
                    .unwrap_or(call.word.flags.bits() | call.word.signal.number() as u64);
                for (i, name) in abi.clone_arg_order.iter().enumerate() {
                    let (value, role) = match *name {
                        "flags" => (flags, Role::Flags(call.word)),
                        "stack" => (call.stack as u64, Role::Stack),
                        "parent_tid" => (call.parent_tid as u64, Role::ParentTid),
                        "child_tid" => (call.child_tid as u64, Role::ChildTid),
                        _ => (call.tls as u64, Role::Tls),
                    };
                    registers[i + 1] = reg(i, value, role);
                }
                6
            }
            Syscall::Clone3 => {
                registers[1] = reg(0, call.args_address as u64, Role::ArgsPointer);
                registers[2] = reg(1, call.clone3_size() as u64, Role::ArgsSize);
                3
            }
        };
        RegisterImage {
            registers,
            len,
            call: *call,
        }
    }

    /// This image with the values a tracer saw in its registers (number
    /// first), laid out as the expected image of the same call would be.
    pub(crate) fn with_values(mut self, number: u64, args: [u64; 6]) -> RegisterImage {
        for (i, register) in self.registers[..self.len].iter_mut().enumerate() {
            register.value = if i == 0 { number } else { args[i - 1] };
        }
        self
    }

    /// Whether `observed` holds exactly what this (expected) image says:
    /// every register's value, and for clone3 the fields of `clone_args`.
    pub fn matches(&self, observed: &RegisterImage) -> bool {
        let same_registers = self.len == observed.len
            && self
                .registers()
                .iter()
                .zip(observed.registers())
                .all(|(a, b)| a.name == b.name && a.value == b.value);
        let (e, o) = (&self.call, &observed.call);
        let same_args = self.call.syscall != Some(Syscall::Clone3)
            || (e.word == o.word
                && e.stack == o.stack
                && e.stack_size == o.stack_size
                && e.tls == o.tls
                && e.pidfd == o.pidfd
                && e.parent_tid == o.parent_tid
                && e.child_tid == o.child_tid
                && e.cgroup == o.cgroup
                && e.set_tid == o.set_tid
                && e.set_tid_size == o.set_tid_size);
        same_registers && same_args
    }

    /// A table of expected against observed values, marking differences.
    pub fn diff<'a>(&'a self, observed: &'a RegisterImage) -> ImageDiff<'a> {
        ImageDiff {
            expected: self,
            observed,
        }
    }

    /// The call this image loads.
    pub fn call(&self) -> &CloneCall {
        &self.call
    }

    /// The registers, number first.
    pub fn registers(&self) -> &[Register] {
        &self.registers[..self.len]
    }

    /// The register that plays `role`, if any.
    pub fn register_for(&self, role: fn(&Role) -> bool) -> Option<&Register> {
        self.registers().iter().find(|r| role(&r.role))
    }
}

impl fmt::Display for RegisterImage {
    /// A two-column table: register, value, meaning.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in self.registers() {
            write!(f, "  {:<4} {:#018x}  ", r.name, r.value)?;
            match r.role {
                Role::Number(Syscall::Clone) => writeln!(f, "syscall number: clone ({})", r.value)?,
                Role::Number(Syscall::Clone3) => {
                    writeln!(f, "syscall number: clone3 ({})", r.value)?
                }
                Role::Flags(w) => writeln!(
                    f,
                    "flags = {w}  (signal byte {:#04x} = {})",
                    r.value & 0xff,
                    w.signal
                )?,
                Role::Stack => writeln!(
                    f,
                    "stack: the child's first sp{}",
                    if r.value == 0 {
                        " (0: use a copy of ours)"
                    } else {
                        ""
                    }
                )?,
                Role::ParentTid => writeln!(
                    f,
                    "parent_tid{}",
                    if r.value == 0 { " (unused)" } else { "" }
                )?,
                Role::ChildTid => writeln!(
                    f,
                    "child_tid{}",
                    if r.value == 0 { " (unused)" } else { "" }
                )?,
                Role::Tls => writeln!(f, "tls{}", if r.value == 0 { " (0)" } else { "" })?,
                Role::ArgsPointer => writeln!(f, "&clone_args")?,
                Role::ArgsSize => writeln!(f, "sizeof(clone_args)")?,
            }
        }
        if self.call.syscall == Some(Syscall::Clone3) {
            let (flags, signal) = self.call.word.encode_clone3().unwrap_or_default();
            writeln!(
                f,
                "  clone_args.flags       = {flags:#x}  ({})",
                self.call.word.flags
            )?;
            writeln!(
                f,
                "  clone_args.exit_signal = {signal}  ({})",
                self.call.word.signal
            )?;
            writeln!(
                f,
                "  clone_args.stack       = {:#x}, stack_size = {:#x}",
                self.call.stack, self.call.stack_size
            )?;
        }
        Ok(())
    }
}

/// Expected and observed register images side by side; see [`RegisterImage::diff`].
pub struct ImageDiff<'a> {
    expected: &'a RegisterImage,
    observed: &'a RegisterImage,
}

impl fmt::Display for ImageDiff<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  reg   expected            observed")?;
        for (e, o) in self
            .expected
            .registers()
            .iter()
            .zip(self.observed.registers())
        {
            let mark = if e.value == o.value && e.name == o.name {
                ""
            } else {
                "   <-- differs"
            };
            writeln!(
                f,
                "  {:<4}  {:#018x}  {:#018x}{mark}",
                e.name, e.value, o.value
            )?;
        }
        if self.expected.call.syscall == Some(Syscall::Clone3) {
            let (e, o) = (&self.expected.call, &self.observed.call);
            writeln!(
                f,
                "  clone_args: expected {} stack {:#x}+{:#x} tls {:#x}",
                e.word, e.stack, e.stack_size, e.tls
            )?;
            writeln!(
                f,
                "              observed {} stack {:#x}+{:#x} tls {:#x}",
                o.word, o.stack, o.stack_size, o.tls
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{ARCHES, I386, X86_64};
    use crate::flags::{CloneFlags, ExitSignal, FlagsWord};

    /// A flags word with a bit above 31 (CLONE_INTO_CGROUP, 0x200000000)
    /// fits a 64-bit register; a 32-bit one holds only its low half.
    #[test]
    fn a_32_bit_register_holds_only_the_low_32_bits() {
        let word = FlagsWord::new(
            CloneFlags::CLONE_INTO_CGROUP | CloneFlags::CLONE_VM,
            ExitSignal::SIGCHLD,
        );
        let call = CloneCall {
            syscall: Some(Syscall::Clone),
            word,
            ..CloneCall::default()
        };
        let flags = |abi| {
            RegisterImage::on(abi, &call)
                .register_for(|r| matches!(r, Role::Flags(_)))
                .map(|r| r.value)
        };
        assert_eq!(flags(&X86_64), Some(0x2_0000_0111));
        assert_eq!(flags(&I386), Some(0x111));
        for abi in ARCHES {
            let expected = if abi.register_bits == 32 {
                0x111
            } else {
                0x2_0000_0111
            };
            assert_eq!(flags(abi), Some(expected), "{}", abi.name);
        }
    }
}
