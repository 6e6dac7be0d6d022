//! The register image of a clone call: which value goes in which register.
//!
//! [`CloneCall`] records the arguments a call received; [`RegisterImage`]
//! lays them out the way this architecture's kernel ABI reads them:
//!
//! ```text
//!            number  arg1   arg2   arg3        arg4        arg5
//! x86_64     rax     rdi    rsi    rdx         r10         r8
//!   clone    56      flags  stack  parent_tid  child_tid   tls
//! aarch64    x8      x0     x1     x2          x3          x4
//!   clone    220     flags  stack  parent_tid  tls         child_tid
//! both
//!   clone3   435     &clone_args, sizeof(clone_args)   (arg1, arg2)
//! ```
//!
//! clone's flags register carries the exit signal in bits 0-7; clone3 carries
//! it in `clone_args.exit_signal` and the stack as (lowest byte, size).

use crate::arch;
use crate::flags::{FlagsWord, Syscall};
use core::fmt;
use linux_raw_sys::general as k;

/// The arguments of one clone/clone3 call, as the caller passed them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CloneCall {
    /// clone or clone3.
    pub syscall: Option<Syscall>,
    /// Flags and exit signal.
    pub word: FlagsWord,
    /// clone: the child's initial sp (stack top). clone3: the lowest byte.
    pub stack: usize,
    /// clone3 only: the stack's size.
    pub stack_size: usize,
    /// Where CLONE_PARENT_SETTID (or, for clone, CLONE_PIDFD) writes.
    pub parent_tid: usize,
    /// Where CLONE_CHILD_SETTID writes / CLONE_CHILD_CLEARTID clears.
    pub child_tid: usize,
    /// The thread pointer for CLONE_SETTLS.
    pub tls: usize,
    /// clone3 only: where CLONE_PIDFD writes the pidfd.
    pub pidfd: usize,
    /// clone3 only: address of the `clone_args` passed in arg1.
    pub args_address: usize,
}

/// One register: its name, the value it holds at the syscall, and what that value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Register {
    /// `rdi`, `x0`, ...
    pub name: &'static str,
    /// Its value at the `syscall` / `svc` instruction.
    pub value: u64,
    /// What the kernel takes it to be.
    pub role: Role,
}

/// What a register carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The syscall number.
    Number(Syscall),
    /// clone's flags | exit signal.
    Flags(FlagsWord),
    /// The stack argument.
    Stack,
    /// parent_tid pointer.
    ParentTid,
    /// child_tid pointer.
    ChildTid,
    /// The TLS value.
    Tls,
    /// clone3's `&clone_args`.
    ArgsPointer,
    /// clone3's `sizeof(clone_args)`.
    ArgsSize,
}

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
        let syscall = call.syscall.unwrap_or(Syscall::Clone);
        let reg = |i: usize, value: u64, role: Role| Register {
            name: arch::ARG_REGISTERS[i],
            value,
            role,
        };
        let number = Register {
            name: arch::NR_REGISTER,
            value: match syscall {
                Syscall::Clone => k::__NR_clone as u64,
                Syscall::Clone3 => k::__NR_clone3 as u64,
            },
            role: Role::Number(syscall),
        };
        let mut registers = [number; 6];
        let len = match syscall {
            Syscall::Clone => {
                let flags = call.word.encode_clone().unwrap_or(call.word.flags.bits());
                for (i, name) in arch::CLONE_ARG_ORDER.iter().enumerate() {
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
                registers[2] = reg(
                    1,
                    core::mem::size_of::<k::clone_args>() as u64,
                    Role::ArgsSize,
                );
                3
            }
        };
        RegisterImage {
            registers,
            len,
            call: *call,
        }
    }

    /// The image a traced tracee actually had at the syscall (see [`crate::trace`]),
    /// laid out like [`of`](Self::of) so the two compare register by register.
    pub fn observed(stop: &crate::trace::CloneStop) -> RegisterImage {
        let syscall = if stop.nr == k::__NR_clone3 as u64 {
            Syscall::Clone3
        } else {
            Syscall::Clone
        };
        let mut call = CloneCall {
            syscall: Some(syscall),
            ..CloneCall::default()
        };
        let split = |flags: u64, signal: u64| {
            let signal = crate::flags::ExitSignal::new(signal as u32).unwrap_or_default();
            FlagsWord::new(crate::flags::CloneFlags::from_bits_retain(flags), signal)
        };
        match syscall {
            Syscall::Clone => {
                for (name, value) in arch::CLONE_ARG_ORDER.iter().zip(stop.registers) {
                    match *name {
                        "flags" => call.word = split(value & !0xff, value & 0xff),
                        "stack" => call.stack = value as usize,
                        "parent_tid" => call.parent_tid = value as usize,
                        "child_tid" => call.child_tid = value as usize,
                        _ => call.tls = value as usize,
                    }
                }
            }
            Syscall::Clone3 => {
                call.args_address = stop.registers[0] as usize;
                if let Some(a) = stop.clone_args {
                    call.word = split(a.flags, a.exit_signal);
                    call.stack = a.stack as usize;
                    call.stack_size = a.stack_size as usize;
                    call.tls = a.tls as usize;
                    call.pidfd = a.pidfd as usize;
                    call.parent_tid = a.parent_tid as usize;
                    call.child_tid = a.child_tid as usize;
                }
            }
        }
        let mut image = RegisterImage::of(&call);
        for (i, register) in image.registers[..image.len].iter_mut().enumerate() {
            register.value = if i == 0 {
                stop.register_nr
            } else {
                stop.registers[i - 1]
            };
        }
        image
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
                && e.pidfd == o.pidfd);
        same_registers && same_args
    }

    /// A table of expected against observed values, marking differences.
    pub fn diff<'a>(&'a self, observed: &'a RegisterImage) -> ImageDiff<'a> {
        ImageDiff {
            expected: self,
            observed,
        }
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

// SAFETY: an Option<Syscall>, a FlagsWord and addresses kept as plain
// integers (never dereferenced by the parent).
unsafe impl crate::plain::Plain for CloneCall {}
