//! s390x system-call entry: the `svc` instruction.
//!
//! | role            | register | note                                   |
//! |-----------------|----------|----------------------------------------|
//! | syscall number  | `r1`     | with `svc 0`; numbers below 256 may instead sit in the instruction (`svc NR`) |
//! | arguments 1..6  | `r2..r7` | `r6` is callee-saved in the C ABI, the kernel keeps it |
//! | result          | `r2`     | `-errno` on failure                    |
//! | clobbered       | none     | every other register survives `svc`    |
//!
//! `clone` follows CONFIG_CLONE_BACKWARDS2: **the stack comes first**, then
//! the flags (stack, flags, parent_tid, child_tid, tls); its `tls` becomes
//! the access registers a0 (high half) and a1 (low half), the thread pointer.
//! `mmap` takes one pointer to its six arguments (the old `old_mmap` form).

use core::arch::{asm, global_asm};
use linux_raw_sys::general::{
    __NR_clone, __NR_clone3, __NR_exit, __NR_mmap, __NR_rt_sigreturn, __NR_sigreturn,
};

/// Name of this architecture as the docs and the tour print it.
pub const NAME: &str = "s390x";
/// Register that carries the syscall number.
pub const NR_REGISTER: &str = "r1";
/// Registers of syscall arguments 1..=6, in order.
pub const ARG_REGISTERS: [&str; 6] = ["r2", "r3", "r4", "r5", "r6", "r7"];
/// Register in which the result comes back.
pub const RET_REGISTER: &str = "r2";
/// The kernel's order of `clone`'s arguments on this arch (CONFIG_CLONE_BACKWARDS2).
pub const CLONE_ARG_ORDER: [&str; 5] = ["stack", "flags", "parent_tid", "child_tid", "tls"];

/// Syscall with no arguments.
///
/// # Safety
/// `nr` must be a syscall whose effects the caller has accounted for.
#[inline(always)]
pub unsafe fn syscall0(nr: u32) -> usize {
    let ret;
    // SAFETY: the caller vouches for the syscall; `svc` changes only r2.
    unsafe {
        asm!(
            "svc 0",                    // enter the kernel; result in r2
            in("r1") nr as usize,
            lateout("r2") ret,
            options(nostack)
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
            "svc 0",                    // enter the kernel; result in r2
            in("r1") nr as usize,
            lateout("r2") ret,
            options(nostack, nomem)
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
            "svc 0",                    // r2 = a1
            in("r1") nr as usize,
            inlateout("r2") a1 => ret,
            options(nostack)
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
            "svc 0",                    // r2 = status; the thread ends here
            ".word 0",                  // unreachable: an invalid opcode traps if the kernel came back
            in("r1") nr as usize,
            in("r2") a1,
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
            "svc 0",                    // r2, r3 = a1, a2
            in("r1") nr as usize,
            inlateout("r2") a1 => ret, in("r3") a2,
            options(nostack)
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
            "svc 0",                    // r2..r4 = a1..a3
            in("r1") nr as usize,
            inlateout("r2") a1 => ret, in("r3") a2, in("r4") a3,
            options(nostack)
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
            "svc 0",                    // r2..r5 = a1..a4
            in("r1") nr as usize,
            inlateout("r2") a1 => ret, in("r3") a2, in("r4") a3, in("r5") a4,
            options(nostack)
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
            "svc 0",                    // r2..r6 = a1..a5
            in("r1") nr as usize,
            inlateout("r2") a1 => ret, in("r3") a2, in("r4") a3, in("r5") a4, in("r6") a5,
            options(nostack)
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
            "svc 0",                    // r2..r7 = a1..a6
            in("r1") nr as usize,
            inlateout("r2") a1 => ret, in("r3") a2, in("r4") a3, in("r5") a4, in("r6") a5,
            in("r7") a6,
            options(nostack)
        );
    }
    ret
}

/// `mmap(addr, len, prot, flags, fd, 0)` as s390x spells it: one pointer to
/// the six values (the kernel's `struct s390_mmap_arg_struct`).
///
/// # Safety
/// As for [`syscall6`].
#[inline(always)]
pub unsafe fn mmap(addr: usize, len: usize, prot: usize, flags: usize, fd: usize) -> usize {
    let args: [usize; 6] = [addr, len, prot, flags, fd, 0];
    // SAFETY: the caller's contract; `args` lives across the call.
    unsafe { syscall1(__NR_mmap, args.as_ptr() as usize) }
}

/// The thread pointer: access registers a0 (high 32 bits) and a1 (low 32
/// bits), which CLONE_SETTLS sets.
#[inline(always)]
pub fn thread_pointer() -> usize {
    let (high, low): (usize, usize);
    // SAFETY: reading access registers is allowed in problem state and has no side effects.
    unsafe {
        asm!(
            "ear {high}, %a0",          // high half of the thread pointer
            "ear {low}, %a1",           // low half
            high = out(reg) high,
            low = out(reg) low,
            options(nostack, preserves_flags, nomem)
        );
    }
    ((high & 0xffff_ffff) << 32) | (low & 0xffff_ffff)
}

/// The architecture value `PTRACE_GET_SYSCALL_INFO` reports for this arch.
pub const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_S390X;

/// Registers of a stopped tracee as `PTRACE_GETREGSET(NT_PRSTATUS)` fills
/// them: the PSW, r0..r15, a0..a15 and `orig_gpr2`.
pub type TraceeRegs = linux_raw_sys::ptrace::s390_regs;

/// From a tracee stopped at syscall entry: the number and the six arguments.
///
/// Before it stops the tracer, the kernel copies the number (from r1, or
/// from the `svc` instruction) into r2, so the first argument is in
/// `orig_gpr2`; the others are still r3..r7.
pub fn syscall_registers(regs: &TraceeRegs) -> (u64, [u64; 6]) {
    let g = &regs.gprs;
    (g[2], [regs.orig_gpr2, g[3], g[4], g[5], g[6], g[7]])
}

// The trampolines live in real assembly files; the syscall numbers are
// substituted from linux-raw-sys so no number is typed by hand, and the symbol
// names through `sym` operands, so they carry the crate's version.
global_asm!(
    include_str!("../../arch/s390x/clone.s"),
    SYS_clone = const __NR_clone,
    SYS_exit = const __NR_exit,
    personality = sym super::child_personality,
    clone = sym super::clonelab_clone,
    child_start = sym super::clonelab_child_start,
);
global_asm!(
    include_str!("../../arch/s390x/clone3.s"),
    SYS_clone3 = const __NR_clone3,
    clone3 = sym super::clonelab_clone3,
    child_start = sym super::clonelab_child_start,
);
global_asm!(
    include_str!("../../arch/s390x/restore.s"),
    SYS_rt_sigreturn = const __NR_rt_sigreturn,
    SYS_sigreturn = const __NR_sigreturn,
    restore_rt = sym super::clonelab_restore_rt,
    restore = sym super::clonelab_restore,
);
