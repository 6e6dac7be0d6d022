//! ppc64le system-call entry: the `sc` instruction, **out of line**.
//!
//! | role            | register | note                                   |
//! |-----------------|----------|----------------------------------------|
//! | syscall number  | `r0`     |                                        |
//! | arguments 1..6  | `r3..r8` |                                        |
//! | result          | `r3`     | **+errno with CR0.SO set** on failure  |
//! | clobbered       | `r0`, `r4..r12`, `ctr`, `xer`, `cr0`, `cr1`, `cr5..cr7` | the C ABI's volatile set |
//!
//! **Why out of line.** Rust 1.85, the only Rust with ppc64el standard
//! libraries here, has no stable inline assembly for PowerPC: `asm!` and
//! `global_asm!` are `error[E0658]` there. So the `sc` instruction, the thread
//! pointer and the trampolines live in `arch/powerpc64/*.S`, which build.rs
//! preprocesses and assembles with the cross gcc (the numbers come from the
//! kernel's `<asm/unistd.h>`; the names carry the crate version through
//! `-DCLONELAB_SYMBOL_PREFIX`), the way musl keeps its syscall code. The
//! functions below call them through the C ABI; a call costs a branch more
//! than inline `sc`, and the compiler takes all memory as touched.
//!
//! **The error convention, the lesson of this arch.** Every other arch returns
//! `-errno` in the result register. PowerPC returns the *positive* errno in
//! `r3` and sets the summary-overflow bit of CR0. `syscall.S`, `clone.S` and
//! `clone3.S` test CR0.SO right after `sc` (`bns+` / `neg`, as musl's syscall
//! path does) and hand back `-errno`, so the rest of the crate decodes results
//! the same way on every arch. Read raw, `EPERM` would look like the result 1.
//!
//! `clone` follows CONFIG_CLONE_BACKWARDS (flags, stack, parent_tid, **tls**,
//! child_tid); its `tls` becomes `r13`, the thread pointer.
//!
//! **Signal return: no restorer.** The ppc64 kernel ignores `sa_restorer`:
//! `handle_rt_signal64` (arch/powerpc/kernel/signal_64.c, in 6.1, the kernel
//! the VM boots) always points the handler's return at the vDSO's
//! `__kernel_sigtramp_rt64` (or, with no vDSO, a trampoline it writes into the
//! signal frame); the flag is accepted and stored, and nothing reads it
//! (patches to honour it have been proposed on linuxppc-dev). So on this arch
//! clonelab installs handlers without SA_RESTORER ([`super::restorer`]) and
//! ships no `restore.S`.

use linux_raw_sys::general::__NR_mmap;

// The syscall numbers the `.S` files assembled come from the cross headers'
// `<asm/unistd.h>`; build.rs writes each as a compile-time assertion that it
// equals linux-raw-sys's, so the two sources cannot drift apart unnoticed.
include!(concat!(env!("OUT_DIR"), "/unistd_check.rs"));

/// Name of this architecture as the docs and the tour print it.
pub const NAME: &str = "ppc64le";
/// Register that carries the syscall number.
pub const NR_REGISTER: &str = "r0";
/// Registers of syscall arguments 1..=6, in order.
pub const ARG_REGISTERS: [&str; 6] = ["r3", "r4", "r5", "r6", "r7", "r8"];
/// Register in which the result comes back.
pub const RET_REGISTER: &str = "r3";
/// The kernel's order of `clone`'s arguments on this arch (CONFIG_CLONE_BACKWARDS).
pub const CLONE_ARG_ORDER: [&str; 5] = ["flags", "stack", "parent_tid", "tls", "child_tid"];

extern "C" {
    /// `arch/powerpc64/syscall.S`: `sc` with the number in r0 and up to six
    /// arguments in r3..r8; returns the result or `-errno` (converted from
    /// PowerPC's +errno with CR0.SO, see the module doc).
    #[link_name = versioned_symbol!("syscall")]
    fn clonelab_syscall(
        nr: usize,
        a1: usize,
        a2: usize,
        a3: usize,
        a4: usize,
        a5: usize,
        a6: usize,
    ) -> usize;

    /// `arch/powerpc64/syscall.S`: `sc` for a syscall that ends the caller
    /// (`exit`, `exit_group`); a `trap` follows in case it came back.
    #[link_name = versioned_symbol!("syscall_noreturn")]
    fn clonelab_syscall_noreturn(nr: usize, a1: usize) -> !;

    /// `arch/powerpc64/syscall.S`: returns r13, the thread pointer.
    #[link_name = versioned_symbol!("thread_pointer")]
    fn clonelab_thread_pointer() -> usize;
}

/// Syscall with no arguments.
///
/// # Safety
/// `nr` must be a syscall whose effects the caller has accounted for.
#[inline(always)]
pub unsafe fn syscall0(nr: u32) -> usize {
    // SAFETY: the caller vouches for the syscall; the entry follows the C ABI.
    unsafe { clonelab_syscall(nr as usize, 0, 0, 0, 0, 0, 0) }
}

/// Syscall with no arguments that only reads kernel state (getpid, gettid, ...).
/// Out of line it is the same call as [`syscall0`].
///
/// # Safety
/// `nr` must be a syscall that neither reads nor writes user memory.
#[inline(always)]
pub unsafe fn syscall0_readonly(nr: u32) -> usize {
    // SAFETY: as for syscall0.
    unsafe { clonelab_syscall(nr as usize, 0, 0, 0, 0, 0, 0) }
}

/// Syscall with one argument.
///
/// # Safety
/// As for [`syscall0`]; pointer arguments must be valid for what the kernel does with them.
#[inline(always)]
pub unsafe fn syscall1(nr: u32, a1: usize) -> usize {
    // SAFETY: see the function's contract.
    unsafe { clonelab_syscall(nr as usize, a1, 0, 0, 0, 0, 0) }
}

/// Syscall with one argument that does not return (exit, exit_group).
///
/// # Safety
/// `nr` must be a syscall that ends the calling thread or process.
#[inline(always)]
pub unsafe fn syscall1_noreturn(nr: u32, a1: usize) -> ! {
    // SAFETY: the syscall never returns (the entry traps if it did).
    unsafe { clonelab_syscall_noreturn(nr as usize, a1) }
}

/// Syscall with two arguments.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall2(nr: u32, a1: usize, a2: usize) -> usize {
    // SAFETY: see the function's contract.
    unsafe { clonelab_syscall(nr as usize, a1, a2, 0, 0, 0, 0) }
}

/// Syscall with three arguments.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall3(nr: u32, a1: usize, a2: usize, a3: usize) -> usize {
    // SAFETY: see the function's contract.
    unsafe { clonelab_syscall(nr as usize, a1, a2, a3, 0, 0, 0) }
}

/// Syscall with four arguments.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall4(nr: u32, a1: usize, a2: usize, a3: usize, a4: usize) -> usize {
    // SAFETY: see the function's contract.
    unsafe { clonelab_syscall(nr as usize, a1, a2, a3, a4, 0, 0) }
}

/// Syscall with five arguments.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall5(nr: u32, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> usize {
    // SAFETY: see the function's contract.
    unsafe { clonelab_syscall(nr as usize, a1, a2, a3, a4, a5, 0) }
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
    // SAFETY: see the function's contract.
    unsafe { clonelab_syscall(nr as usize, a1, a2, a3, a4, a5, a6) }
}

/// `mmap(addr, len, prot, flags, fd, 0)`: ppc64 has the plain six-argument form.
///
/// # Safety
/// As for [`syscall6`].
#[inline(always)]
pub unsafe fn mmap(addr: usize, len: usize, prot: usize, flags: usize, fd: usize) -> usize {
    // SAFETY: the caller's contract.
    unsafe { syscall6(__NR_mmap, addr, len, prot, flags, fd, 0) }
}

/// The thread pointer: `r13`, which CLONE_SETTLS sets (the ABI points it
/// 0x7000 bytes past the start of the thread's TLS block; clonelab's own
/// children get exactly the value passed).
#[inline(always)]
pub fn thread_pointer() -> usize {
    // SAFETY: the entry only copies r13 into r3; no memory, no side effects.
    unsafe { clonelab_thread_pointer() }
}

/// The architecture value `PTRACE_GET_SYSCALL_INFO` reports for this arch.
pub const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_PPC64LE;

/// Registers of a stopped tracee as `PTRACE_GETREGSET(NT_PRSTATUS)` fills
/// them: the kernel's `struct pt_regs` (arch/powerpc/include/uapi/asm/ptrace.h):
/// `gpr[32]`, nip, msr, orig_gpr3, ctr, link, xer, ccr, softe, trap, dar,
/// dsisr, result (44 words of the 48 the regset holds).
pub type TraceeRegs = linux_raw_sys::ptrace::pt_regs;

/// From a tracee stopped at syscall entry: the number and the six arguments.
///
/// The number is `gpr[0]`. The first argument's register, r3, is also the
/// result's, so the kernel keeps the argument in `orig_gpr3` (restart and
/// tracers read it there); the others are still `gpr[4..=8]`.
pub fn syscall_registers(regs: &TraceeRegs) -> (u64, [u64; 6]) {
    let g = &regs.gpr;
    (g[0], [regs.orig_gpr3, g[4], g[5], g[6], g[7], g[8]])
}
