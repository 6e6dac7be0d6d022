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
//! i386       eax     ebx    ecx    edx         esi         edi
//!   clone    120     flags  stack  parent_tid  tls         child_tid
//! armhf      r7      r0     r1     r2          r3          r4
//!   clone    120     flags  stack  parent_tid  tls         child_tid
//! ppc64le    r0      r3     r4     r5          r6          r7
//!   clone    120     flags  stack  parent_tid  tls         child_tid
//! s390x      r1      r2     r3     r4          r5          r6
//!   clone    120     stack  flags  parent_tid  child_tid   tls
//! all
//!   clone3   435     &clone_args, sizeof(clone_args)   (arg1, arg2)
//! ```
//!
//! clone's flags register carries the exit signal in bits 0-7; clone3 carries
//! it in `clone_args.exit_signal` and the stack as (lowest byte, size).

use crate::arch;
use crate::flags::{FlagsWord, Syscall, CSIGNAL};
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
    /// clone3 only: the size passed in arg2 (0: `sizeof(struct clone_args)`).
    pub args_size: usize,
    /// clone3 only: `clone_args.cgroup` (a cgroup directory fd for CLONE_INTO_CGROUP).
    pub cgroup: u64,
    /// clone3 only: `clone_args.set_tid` (address of the pid array).
    pub set_tid: usize,
    /// clone3 only: `clone_args.set_tid_size`.
    pub set_tid_size: usize,
}

impl CloneCall {
    /// The size clone3's arg2 carries: `args_size`, or `sizeof(struct clone_args)`.
    pub fn clone3_size(&self) -> usize {
        if self.args_size == 0 {
            core::mem::size_of::<k::clone_args>()
        } else {
            self.args_size
        }
    }
}

/// One architecture's syscall ABI for clone, as a table every build can read:
/// the tour shows a call's image on *both* arches (the other one derived, not
/// observed). tests/abi.rs checks both rows against the `syscalls` crate and
/// this build's row against [`crate::arch`] and linux-raw-sys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchAbi {
    /// `x86_64` or `aarch64`.
    pub name: &'static str,
    /// The register that carries the syscall number.
    pub nr_register: &'static str,
    /// The registers of arguments 1..=5.
    pub arg_registers: [&'static str; 5],
    /// The kernel's order of clone's arguments.
    pub clone_arg_order: [&'static str; 5],
    /// `__NR_clone`.
    pub nr_clone: u64,
    /// `__NR_clone3`.
    pub nr_clone3: u64,
}

/// x86_64: `syscall`, number in rax, arguments rdi, rsi, rdx, r10, r8;
/// clone's order is flags, stack, parent_tid, child_tid, tls.
pub const X86_64: ArchAbi = ArchAbi {
    name: "x86_64",
    nr_register: "rax",
    arg_registers: ["rdi", "rsi", "rdx", "r10", "r8"],
    clone_arg_order: ["flags", "stack", "parent_tid", "child_tid", "tls"],
    nr_clone: 56,
    nr_clone3: 435,
};

/// aarch64: `svc #0`, number in x8, arguments x0..x4; clone's order is
/// flags, stack, parent_tid, tls, child_tid (CONFIG_CLONE_BACKWARDS).
pub const AARCH64: ArchAbi = ArchAbi {
    name: "aarch64",
    nr_register: "x8",
    arg_registers: ["x0", "x1", "x2", "x3", "x4"],
    clone_arg_order: ["flags", "stack", "parent_tid", "tls", "child_tid"],
    nr_clone: 220,
    nr_clone3: 435,
};

/// i386: `int $0x80`, number in eax, arguments ebx, ecx, edx, esi, edi;
/// clone's order is flags, stack, parent_tid, tls, child_tid
/// (CONFIG_CLONE_BACKWARDS), and `tls` is the address of a `struct user_desc`.
pub const I386: ArchAbi = ArchAbi {
    name: "i386",
    nr_register: "eax",
    arg_registers: ["ebx", "ecx", "edx", "esi", "edi"],
    clone_arg_order: ["flags", "stack", "parent_tid", "tls", "child_tid"],
    nr_clone: 120,
    nr_clone3: 435,
};

/// armhf (32-bit ARM, EABI): `svc #0`, number in r7, arguments r0..r4;
/// clone's order is flags, stack, parent_tid, tls, child_tid
/// (CONFIG_CLONE_BACKWARDS); `tls` is the value for TPIDRURO.
pub const ARMHF: ArchAbi = ArchAbi {
    name: "armhf",
    nr_register: "r7",
    arg_registers: ["r0", "r1", "r2", "r3", "r4"],
    clone_arg_order: ["flags", "stack", "parent_tid", "tls", "child_tid"],
    nr_clone: 120,
    nr_clone3: 435,
};

/// ppc64le: `sc`, number in r0, arguments r3..r7; clone's order is flags,
/// stack, parent_tid, tls, child_tid (CONFIG_CLONE_BACKWARDS); `tls` becomes
/// r13. Errors come back as a positive errno in r3 with CR0.SO set.
pub const PPC64LE: ArchAbi = ArchAbi {
    name: "ppc64le",
    nr_register: "r0",
    arg_registers: ["r3", "r4", "r5", "r6", "r7"],
    clone_arg_order: ["flags", "stack", "parent_tid", "tls", "child_tid"],
    nr_clone: 120,
    nr_clone3: 435,
};

/// s390x: `svc 0`, number in r1, arguments r2..r6; clone's order is
/// **stack**, flags, parent_tid, child_tid, tls (CONFIG_CLONE_BACKWARDS2);
/// `tls` becomes access registers a0:a1.
pub const S390X: ArchAbi = ArchAbi {
    name: "s390x",
    nr_register: "r1",
    arg_registers: ["r2", "r3", "r4", "r5", "r6"],
    clone_arg_order: ["stack", "flags", "parent_tid", "child_tid", "tls"],
    nr_clone: 120,
    nr_clone3: 435,
};

/// Every arch clonelab runs on, in the order the docs list them.
pub const ARCHES: [&ArchAbi; 6] = [&X86_64, &AARCH64, &I386, &ARMHF, &PPC64LE, &S390X];

/// The row of the arch this build runs on.
pub fn this_arch() -> &'static ArchAbi {
    ARCHES
        .into_iter()
        .find(|row| row.name == arch::NAME)
        .expect("every arch with a src/arch module has a row in ARCHES")
}

/// The row of the arch the tour contrasts this one with: x86_64 and aarch64
/// each other, every other arch x86_64.
pub fn other_arch() -> &'static ArchAbi {
    if arch::NAME == X86_64.name {
        &AARCH64
    } else {
        &X86_64
    }
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
        RegisterImage::on(this_arch(), call)
    }

    /// The registers `call` loads on `abi`'s architecture (for the other arch:
    /// derived from the call, not observed).
    pub fn on(abi: &ArchAbi, call: &CloneCall) -> RegisterImage {
        let syscall = call.syscall.unwrap_or(Syscall::Clone);
        let reg = |i: usize, value: u64, role: Role| Register {
            name: abi.arg_registers[i],
            value,
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
                for (name, value) in this_arch().clone_arg_order.iter().zip(stop.registers) {
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
                    call.cgroup = a.cgroup;
                    call.set_tid = a.set_tid as usize;
                    call.set_tid_size = a.set_tid_size as usize;
                }
                call.args_size = stop.registers[1] as usize;
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

// SAFETY: an Option<Syscall>, a FlagsWord and addresses kept as plain
// integers (never dereferenced by the parent).
unsafe impl crate::plain::Plain for CloneCall {}
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
        let call = &self.image.call;
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
