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
//!
//! Where it sits: the observation floor. It reads the arch seam's register
//! names, the flag encoding and the record of a call ([`CloneCall`], from
//! [`clone`](mod@crate::clone)); [`crate::trace`] builds observed images on it, the
//! experiments and the tour compare and print them. [`image`](crate::abi::image) lays a call
//! out in registers; [`render`](crate::abi::render) prints a call as C and its registers as text.

pub mod image;
pub mod render;

pub use crate::clone::CloneCall;
pub use image::{ImageDiff, RegisterImage};
pub use render::{cell, symbol, CCall, CellText, FlagBits, ImageLines};

use crate::arch;
use crate::flags::{FlagsWord, Syscall};

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
    /// What clone's `tls` argument becomes with CLONE_SETTLS.
    pub tls: &'static str,
    /// How many bits a register holds: 32 on i386 and armhf, 64 on the
    /// others. A value with higher bits loses them on its way into one.
    pub register_bits: u32,
}

impl ArchAbi {
    /// What a register of this arch holds when loaded with `value`: its low
    /// [`register_bits`](ArchAbi::register_bits) bits.
    pub const fn register_value(&self, value: u64) -> u64 {
        if self.register_bits >= 64 {
            value
        } else {
            value & ((1u64 << self.register_bits) - 1)
        }
    }
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
    tls: "the new `fs` base",
    register_bits: 64,
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
    tls: "the new `tpidr_el0`",
    register_bits: 64,
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
    tls: "the address of a `struct user_desc` whose base is that value (a GDT entry, as `set_thread_area` takes it)",
    register_bits: 32,
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
    tls: "the new TPIDRURO",
    register_bits: 32,
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
    tls: "the new `r13`",
    register_bits: 64,
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
    tls: "the new access registers `a0:a1` (high:low)",
    register_bits: 64,
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

/// The one arch whose registers the tour derives beside the ones it observed:
/// aarch64 when this build runs on x86_64, x86_64 on each of the other five.
/// A fixed pair, not a choice among the six: the chapters' generated tables
/// lay every call out on all six through [`ARCHES`].
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
