//! aarch64 system-call entry: the `svc #0` instruction.
//!
//! | role            | register | note                                   |
//! |-----------------|----------|----------------------------------------|
//! | syscall number  | `x8`     |                                        |
//! | arguments 1..6  | `x0..x5` |                                        |
//! | result          | `x0`     | overwrites the first argument          |
//! | clobbered       | none     | every other register survives `svc`    |
//!
//! A child made by `clone` starts with a copy of every register except
//! `x0 = 0` and `sp = the new stack`.
//!
//! Part of the arch seam ([`crate::arch`], ground floor): uses `core` and
//! `linux-raw-sys` only; `arch/aarch64/*.s` are its trampolines.

use core::arch::{asm, global_asm};
use linux_raw_sys::general::{__NR_clone, __NR_clone3, __NR_exit, __NR_mmap, __NR_rt_sigreturn};

/// Name of this architecture as the docs and the tour print it.
pub const NAME: &str = "aarch64";
/// Register that carries the syscall number.
pub const NR_REGISTER: &str = "x8";
/// Registers of syscall arguments 1..=6, in order.
pub const ARG_REGISTERS: [&str; 6] = ["x0", "x1", "x2", "x3", "x4", "x5"];
/// Register in which the result comes back.
pub const RET_REGISTER: &str = "x0";
/// The kernel's order of `clone`'s arguments on this arch (CONFIG_CLONE_BACKWARDS).
pub const CLONE_ARG_ORDER: [&str; 5] = ["flags", "stack", "parent_tid", "tls", "child_tid"];

/// Syscall with no arguments.
///
/// # Safety
/// `nr` must be a syscall whose effects the caller has accounted for.
#[inline(always)]
pub unsafe fn syscall0(nr: u32) -> usize {
    let ret;
    // SAFETY: the caller vouches for the syscall; `svc` clobbers only x0.
    unsafe {
        asm!(
            "svc #0",                   // enter the kernel; result in x0
            in("x8") nr as usize,
            lateout("x0") ret,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// Syscall with no arguments that only reads kernel state (getpid, gettid, ...).
///
/// # Safety
/// `nr` must be a syscall that neither reads nor writes user memory.
#[inline(always)]
pub unsafe fn syscall0_readonly(nr: u32) -> usize {
    let ret;
    // SAFETY: as for syscall0; additionally the caller promises no memory is touched.
    unsafe {
        asm!(
            "svc #0",                   // enter the kernel; result in x0
            in("x8") nr as usize,
            lateout("x0") ret,
            options(nostack, preserves_flags, nomem)
        );
    }
    ret
}

/// Syscall with one argument.
///
/// # Safety
/// As for [`syscall0`]; pointer arguments must be valid for what the kernel does with them.
#[inline(always)]
pub unsafe fn syscall1(nr: u32, a1: usize) -> usize {
    let ret;
    // SAFETY: see the function's contract.
    unsafe {
        asm!(
            "svc #0",                   // x0 = a1
            in("x8") nr as usize,
            inlateout("x0") a1 => ret,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// Syscall with one argument that does not return (exit, exit_group).
///
/// # Safety
/// `nr` must be a syscall that ends the calling thread or process.
#[inline(always)]
pub unsafe fn syscall1_noreturn(nr: u32, a1: usize) -> ! {
    // SAFETY: the syscall never returns, so no register state matters afterwards.
    unsafe {
        asm!(
            "svc #0",                   // x0 = status; the thread ends here
            "udf #0",                   // unreachable: trap if the kernel ever came back
            in("x8") nr as usize,
            in("x0") a1,
            options(nostack, noreturn)
        );
    }
}

/// Syscall with two arguments.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall2(nr: u32, a1: usize, a2: usize) -> usize {
    let ret;
    // SAFETY: see the function's contract.
    unsafe {
        asm!(
            "svc #0",                   // x0, x1 = a1, a2
            in("x8") nr as usize,
            inlateout("x0") a1 => ret, in("x1") a2,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// Syscall with three arguments.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall3(nr: u32, a1: usize, a2: usize, a3: usize) -> usize {
    let ret;
    // SAFETY: see the function's contract.
    unsafe {
        asm!(
            "svc #0",                   // x0..x2 = a1..a3
            in("x8") nr as usize,
            inlateout("x0") a1 => ret, in("x1") a2, in("x2") a3,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// Syscall with four arguments.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall4(nr: u32, a1: usize, a2: usize, a3: usize, a4: usize) -> usize {
    let ret;
    // SAFETY: see the function's contract.
    unsafe {
        asm!(
            "svc #0",                   // x0..x3 = a1..a4
            in("x8") nr as usize,
            inlateout("x0") a1 => ret, in("x1") a2, in("x2") a3, in("x3") a4,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// Syscall with five arguments.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall5(nr: u32, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> usize {
    let ret;
    // SAFETY: see the function's contract.
    unsafe {
        asm!(
            "svc #0",                   // x0..x4 = a1..a5
            in("x8") nr as usize,
            inlateout("x0") a1 => ret, in("x1") a2, in("x2") a3, in("x3") a4, in("x4") a5,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// Syscall with six arguments.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall6(
    nr: u32,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> usize {
    let ret;
    // SAFETY: see the function's contract.
    unsafe {
        asm!(
            "svc #0",                   // x0..x5 = a1..a6
            in("x8") nr as usize,
            inlateout("x0") a1 => ret, in("x1") a2, in("x2") a3, in("x3") a4, in("x4") a5,
            in("x5") a6,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// The thread pointer: the `tpidr_el0` register, which CLONE_SETTLS sets.
#[inline(always)]
pub fn thread_pointer() -> usize {
    let tp;
    // SAFETY: reading tpidr_el0 is allowed at EL0 and has no side effects.
    unsafe {
        asm!(
            "mrs {tp}, tpidr_el0", // the thread pointer register
            tp = out(reg) tp,
            options(nostack, preserves_flags, nomem)
        );
    }
    tp
}

/// `mmap(addr, len, prot, flags, fd, 0)`.
///
/// # Safety
/// As for [`syscall6`].
#[inline(always)]
pub unsafe fn mmap(addr: usize, len: usize, prot: usize, flags: usize, fd: usize) -> usize {
    // SAFETY: the caller's contract; offset 0.
    unsafe { syscall6(__NR_mmap, addr, len, prot, flags, fd, 0) }
}

/// The architecture value `PTRACE_GET_SYSCALL_INFO` reports for this arch.
pub const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_AARCH64;

/// Registers of a stopped tracee as `PTRACE_GETREGSET(NT_PRSTATUS)` fills them.
pub type TraceeRegs = linux_raw_sys::ptrace::user_pt_regs;

/// From a tracee stopped at syscall entry: the number (`x8`) and `x0..x5`.
pub fn syscall_registers(regs: &TraceeRegs) -> (u64, [u64; 6]) {
    let r = &regs.regs;
    (r[8], [r[0], r[1], r[2], r[3], r[4], r[5]])
}

// The trampolines live in real assembly files; the syscall numbers are
// substituted from linux-raw-sys so no number is typed by hand, and the symbol
// names through `sym` operands, so they carry the crate's version.
global_asm!(
    include_str!("../../arch/aarch64/clone.s"),
    SYS_clone = const __NR_clone,
    SYS_exit = const __NR_exit,
    personality = sym super::child_personality,
    clone = sym super::clonelab_clone,
    child_start = sym super::clonelab_child_start,
);
global_asm!(
    include_str!("../../arch/aarch64/clone3.s"),
    SYS_clone3 = const __NR_clone3,
    clone3 = sym super::clonelab_clone3,
    child_start = sym super::clonelab_child_start,
);
global_asm!(
    include_str!("../../arch/aarch64/restore.s"),
    SYS_rt_sigreturn = const __NR_rt_sigreturn,
    restore = sym super::clonelab_restore_rt,
);
