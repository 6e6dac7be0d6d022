//! armhf (32-bit ARM, EABI) system-call entry: the `svc #0` instruction.
//!
//! | role            | register | note                                   |
//! |-----------------|----------|----------------------------------------|
//! | syscall number  | `r7`     | EABI (the old ABI put it in the `svc` immediate) |
//! | arguments 1..6  | `r0..r5` |                                        |
//! | result          | `r0`     | `-errno` on failure                    |
//! | clobbered       | none     | every other register survives `svc`    |
//!
//! `clone` follows CONFIG_CLONE_BACKWARDS (tls before child_tid); its `tls`
//! becomes the child's TPIDRURO, the read-only thread ID register user space
//! reads as its thread pointer.

use core::arch::{asm, global_asm};
use core::ffi::{c_int, c_void};
use linux_raw_sys::general::{
    __NR_clone, __NR_clone3, __NR_exit, __NR_mmap2, __NR_rt_sigreturn, __NR_sigreturn,
};

/// Name of this architecture as the docs and the tour print it.
pub const NAME: &str = "armhf";
/// Register that carries the syscall number.
pub const NR_REGISTER: &str = "r7";
/// Registers of syscall arguments 1..=6, in order.
pub const ARG_REGISTERS: [&str; 6] = ["r0", "r1", "r2", "r3", "r4", "r5"];
/// Register in which the result comes back.
pub const RET_REGISTER: &str = "r0";
/// The kernel's order of `clone`'s arguments on this arch (CONFIG_CLONE_BACKWARDS).
pub const CLONE_ARG_ORDER: [&str; 5] = ["flags", "stack", "parent_tid", "tls", "child_tid"];

/// Syscall with no arguments.
///
/// # Safety
/// `nr` must be a syscall whose effects the caller has accounted for.
#[inline(always)]
pub unsafe fn syscall0(nr: u32) -> usize {
    let ret;
    // SAFETY: the caller vouches for the syscall; `svc` clobbers only r0.
    unsafe {
        asm!(
            "svc #0",                   // enter the kernel; result in r0
            in("r7") nr as usize,
            lateout("r0") ret,
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
            "svc #0",                   // enter the kernel; result in r0
            in("r7") nr as usize,
            lateout("r0") ret,
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
            "svc #0",                   // r0 = a1
            in("r7") nr as usize,
            inlateout("r0") a1 => ret,
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
            "svc #0",                   // r0 = status; the thread ends here
            "udf #0",                   // unreachable: trap if the kernel ever came back
            in("r7") nr as usize,
            in("r0") a1,
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
            "svc #0",                   // r0, r1 = a1, a2
            in("r7") nr as usize,
            inlateout("r0") a1 => ret, in("r1") a2,
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
            "svc #0",                   // r0..r2 = a1..a3
            in("r7") nr as usize,
            inlateout("r0") a1 => ret, in("r1") a2, in("r2") a3,
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
            "svc #0",                   // r0..r3 = a1..a4
            in("r7") nr as usize,
            inlateout("r0") a1 => ret, in("r1") a2, in("r2") a3, in("r3") a4,
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
            "svc #0",                   // r0..r4 = a1..a5
            in("r7") nr as usize,
            inlateout("r0") a1 => ret, in("r1") a2, in("r2") a3, in("r3") a4, in("r4") a5,
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
            "svc #0",                   // r0..r5 = a1..a6
            in("r7") nr as usize,
            inlateout("r0") a1 => ret, in("r1") a2, in("r2") a3, in("r3") a4, in("r4") a5,
            in("r5") a6,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// `mmap(addr, len, prot, flags, fd, 0)` as EABI spells it: `mmap2`, whose
/// offset counts 4096-byte pages (there is no `__NR_mmap`).
///
/// # Safety
/// As for [`syscall6`].
#[inline(always)]
pub unsafe fn mmap(addr: usize, len: usize, prot: usize, flags: usize, fd: usize) -> usize {
    // SAFETY: the caller's contract; offset 0.
    unsafe { syscall6(__NR_mmap2, addr, len, prot, flags, fd, 0) }
}

/// The thread pointer: TPIDRURO (CP15 c13, c0, 3), which CLONE_SETTLS sets.
#[inline(always)]
pub fn thread_pointer() -> usize {
    let tp;
    // SAFETY: reading TPIDRURO is allowed in user mode and has no side effects.
    unsafe {
        asm!(
            "mrc p15, 0, {tp}, c13, c0, 3", // the user read-only thread ID register
            tp = out(reg) tp,
            options(nostack, preserves_flags, nomem)
        );
    }
    tp
}

/// The architecture value `PTRACE_GET_SYSCALL_INFO` reports for this arch.
pub const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_ARM;

/// Registers of a stopped tracee as `PTRACE_GETREGSET(NT_PRSTATUS)` fills
/// them: `uregs[0..=15]` are r0..r15, then cpsr and ORIG_r0.
pub type TraceeRegs = linux_raw_sys::ptrace::pt_regs;

/// From a tracee stopped at syscall entry: the number (`r7`) and `r0..r5`.
pub fn syscall_registers(regs: &TraceeRegs) -> (u64, [u64; 6]) {
    let r = |i: usize| u64::from(regs.uregs[i] as u32);
    (r(7), [r(0), r(1), r(2), r(3), r(4), r(5)])
}

/// The child's first frame's personality routine in the ARM EHABI form
/// (`_Unwind_State`, control block, context), which is what the unwinder
/// calls on 32-bit ARM: the same claim as `child_personality`. In the search
/// phase (`_US_VIRTUAL_UNWIND_FRAME`) it says "a handler is here", so the
/// panic proceeds to phase 2, whose cleanups end the child; phase 2 never
/// reaches this frame (see `child_personality`).
unsafe extern "C" fn child_personality_ehabi(
    state: c_int,
    _control_block: *mut c_void,
    _context: *mut c_void,
) -> c_int {
    const US_ACTION_MASK: c_int = 3;
    const US_VIRTUAL_UNWIND_FRAME: c_int = 0;
    const URC_HANDLER_FOUND: c_int = 6;
    if state & US_ACTION_MASK == US_VIRTUAL_UNWIND_FRAME {
        return URC_HANDLER_FOUND;
    }
    // SAFETY: we are on the child's own stack in its outermost frame: nothing
    // above us can be abandoned, and exit ends only this child.
    unsafe {
        syscall1_noreturn(
            linux_raw_sys::general::__NR_exit,
            super::PANIC_EXIT_STATUS as usize,
        )
    }
}

// The trampolines live in real assembly files; the syscall numbers are
// substituted from linux-raw-sys so no number is typed by hand, and the symbol
// names through `sym` operands, so they carry the crate's version.
global_asm!(
    include_str!("../../arch/arm/clone.s"),
    SYS_clone = const __NR_clone,
    SYS_exit = const __NR_exit,
    personality = sym child_personality_ehabi,
    clone = sym super::clonelab_clone,
    child_start = sym super::clonelab_child_start,
);
global_asm!(
    include_str!("../../arch/arm/clone3.s"),
    SYS_clone3 = const __NR_clone3,
    clone3 = sym super::clonelab_clone3,
    child_start = sym super::clonelab_child_start,
);
global_asm!(
    include_str!("../../arch/arm/restore.s"),
    SYS_rt_sigreturn = const __NR_rt_sigreturn,
    SYS_sigreturn = const __NR_sigreturn,
    restore_rt = sym super::clonelab_restore_rt,
    restore = sym super::clonelab_restore,
);
