//! x86_64 system-call entry: the `syscall` instruction.
//!
//! | role            | register | note                                      |
//! |-----------------|----------|-------------------------------------------|
//! | syscall number  | `rax`    | also carries the result back              |
//! | arguments 1..6  | `rdi, rsi, rdx, r10, r8, r9` | `r10`, not `rcx`: the C ABI's 4th register is taken |
//! | clobbered       | `rcx, r11` | the CPU saves `rip` in `rcx` and `rflags` in `r11` |
//!
//! Every other register survives the call, and a child made by `clone` starts
//! with a copy of all of them (except `rax = 0` and `rsp = the new stack`).
//!
//! Part of the arch seam ([`crate::arch`], ground floor): uses `core` and
//! `linux-raw-sys` only; `arch/x86_64/*.s` are its trampolines.

use core::arch::{asm, global_asm};
use linux_raw_sys::general::{__NR_clone, __NR_clone3, __NR_exit, __NR_mmap, __NR_rt_sigreturn};

/// Name of this architecture as the docs and the tour print it.
pub const NAME: &str = "x86_64";
/// Register that carries the syscall number.
pub const NR_REGISTER: &str = "rax";
/// Registers of syscall arguments 1..=6, in order.
pub const ARG_REGISTERS: [&str; 6] = ["rdi", "rsi", "rdx", "r10", "r8", "r9"];
/// Register in which the result comes back.
pub const RET_REGISTER: &str = "rax";
/// The kernel's order of `clone`'s arguments on this arch: the generic one.
/// x86_64 sets none of CONFIG_CLONE_BACKWARDS (tls before child_tid: aarch64,
/// i386, arm, powerpc), CONFIG_CLONE_BACKWARDS2 (stack first: s390) or
/// CONFIG_CLONE_BACKWARDS3 (an extra stack-size argument: microblaze).
pub const CLONE_ARG_ORDER: [&str; 5] = ["flags", "stack", "parent_tid", "child_tid", "tls"];

/// Syscall with no arguments.
///
/// # Safety
/// `nr` must be a syscall whose effects the caller has accounted for.
#[inline(always)]
pub unsafe fn syscall0(nr: u32) -> usize {
    let ret;
    // SAFETY: the caller vouches for the syscall; `syscall` clobbers only rcx and r11.
    unsafe {
        asm!(
            "syscall",                  // enter the kernel; result in rax
            inlateout("rax") nr as usize => ret,
            lateout("rcx") _, lateout("r11") _,
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
            "syscall",                  // enter the kernel; result in rax
            inlateout("rax") nr as usize => ret,
            lateout("rcx") _, lateout("r11") _,
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
            "syscall",                  // rdi = a1
            inlateout("rax") nr as usize => ret,
            in("rdi") a1,
            lateout("rcx") _, lateout("r11") _,
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
            "syscall",                  // rdi = status; the thread ends here
            "ud2",                      // unreachable: trap if the kernel ever came back
            in("rax") nr as usize,
            in("rdi") a1,
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
            "syscall",                  // rdi, rsi = a1, a2
            inlateout("rax") nr as usize => ret,
            in("rdi") a1, in("rsi") a2,
            lateout("rcx") _, lateout("r11") _,
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
            "syscall",                  // rdi, rsi, rdx = a1..a3
            inlateout("rax") nr as usize => ret,
            in("rdi") a1, in("rsi") a2, in("rdx") a3,
            lateout("rcx") _, lateout("r11") _,
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
            "syscall",                  // rdi, rsi, rdx, r10 = a1..a4
            inlateout("rax") nr as usize => ret,
            in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4,
            lateout("rcx") _, lateout("r11") _,
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
            "syscall",                  // rdi, rsi, rdx, r10, r8 = a1..a5
            inlateout("rax") nr as usize => ret,
            in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4, in("r8") a5,
            lateout("rcx") _, lateout("r11") _,
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
            "syscall",                  // rdi, rsi, rdx, r10, r8, r9 = a1..a6
            inlateout("rax") nr as usize => ret,
            in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4, in("r8") a5, in("r9") a6,
            lateout("rcx") _, lateout("r11") _,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// The thread pointer as the TLS ABI exposes it: the first word of the block
/// `fs` points at, which by the x86_64 TLS convention holds the block's own
/// address (glibc's TCB does; a CLONE_SETTLS block must too). Faults if `fs`
/// is 0 — as it is in a child of clonelab's scoped API.
#[inline(always)]
pub fn thread_pointer() -> usize {
    let tp;
    // SAFETY: reads one word at fs:0; the caller has a TLS block (see above).
    unsafe {
        asm!(
            "mov {tp}, qword ptr fs:[0]", // the TLS block's self-pointer
            tp = out(reg) tp,
            options(nostack, preserves_flags, readonly)
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
pub const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_X86_64;

/// Registers of a stopped tracee as `PTRACE_GETREGSET(NT_PRSTATUS)` fills
/// them (`user_regs_struct`, whose first 21 words are `pt_regs`).
pub type TraceeRegs = linux_raw_sys::ptrace::pt_regs;

/// From a tracee stopped at syscall entry: the number (`orig_rax`: `rax`
/// itself already holds -ENOSYS there) and the six argument registers.
pub fn syscall_registers(regs: &TraceeRegs) -> (u64, [u64; 6]) {
    (
        regs.orig_rax,
        [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9],
    )
}

// The trampolines live in real assembly files; the syscall numbers are
// substituted from linux-raw-sys so no number is typed by hand, and the symbol
// names through `sym` operands, so they carry the crate's version.
global_asm!(
    include_str!("../../arch/x86_64/clone.s"),
    SYS_clone = const __NR_clone,
    SYS_exit = const __NR_exit,
    personality = sym super::child_personality,
    clone = sym super::clonelab_clone,
    child_start = sym super::clonelab_child_start,
);
global_asm!(
    include_str!("../../arch/x86_64/clone3.s"),
    SYS_clone3 = const __NR_clone3,
    clone3 = sym super::clonelab_clone3,
    child_start = sym super::clonelab_child_start,
);
global_asm!(
    include_str!("../../arch/x86_64/restore.s"),
    SYS_rt_sigreturn = const __NR_rt_sigreturn,
    restore = sym super::clonelab_restore_rt,
);
