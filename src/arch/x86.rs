//! i386 (32-bit x86) system-call entry: the `int $0x80` instruction.
//!
//! | role            | register | note                                      |
//! |-----------------|----------|-------------------------------------------|
//! | syscall number  | `eax`    | also carries the result back (`-errno`)   |
//! | arguments 1..6  | `ebx, ecx, edx, esi, edi, ebp` | all six are kept by the kernel |
//! | clobbered       | none     | every register but `eax` survives         |
//!
//! LLVM reserves `esi` (its base pointer) and `ebp` (the frame pointer) on
//! i686, so `asm!` cannot name them as operands: the wrappers below swap a
//! value into `esi` with `xchg` (4 arguments) or load `esi`/`ebp` from a small
//! array after saving them on the stack (5 and 6 arguments).
//!
//! `clone` here follows CONFIG_CLONE_BACKWARDS (tls before child_tid), and its
//! `tls` is not a thread pointer: it is the address of a `struct user_desc`,
//! a GDT entry the kernel installs with `set_thread_area` semantics.

use core::arch::{asm, global_asm};
use linux_raw_sys::general::{
    __NR_clone, __NR_clone3, __NR_exit, __NR_mmap2, __NR_rt_sigreturn, __NR_sigreturn,
};

/// Name of this architecture as the docs and the tour print it.
pub const NAME: &str = "i386";
/// Register that carries the syscall number.
pub const NR_REGISTER: &str = "eax";
/// Registers of syscall arguments 1..=6, in order.
pub const ARG_REGISTERS: [&str; 6] = ["ebx", "ecx", "edx", "esi", "edi", "ebp"];
/// Register in which the result comes back.
pub const RET_REGISTER: &str = "eax";
/// The kernel's order of `clone`'s arguments on this arch (CONFIG_CLONE_BACKWARDS).
pub const CLONE_ARG_ORDER: [&str; 5] = ["flags", "stack", "parent_tid", "tls", "child_tid"];

/// Syscall with no arguments.
///
/// # Safety
/// `nr` must be a syscall whose effects the caller has accounted for.
#[inline(always)]
pub unsafe fn syscall0(nr: u32) -> usize {
    let ret;
    // SAFETY: the caller vouches for the syscall; `int 0x80` clobbers only eax.
    unsafe {
        asm!(
            "int 0x80",                 // enter the kernel; result in eax
            inlateout("eax") nr as usize => ret,
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
            "int 0x80",                 // enter the kernel; result in eax
            inlateout("eax") nr as usize => ret,
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
            "int 0x80",                 // ebx = a1
            inlateout("eax") nr as usize => ret,
            in("ebx") a1,
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
            "int 0x80",                 // ebx = status; the thread ends here
            "ud2",                      // unreachable: trap if the kernel ever came back
            in("eax") nr as usize,
            in("ebx") a1,
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
            "int 0x80",                 // ebx, ecx = a1, a2
            inlateout("eax") nr as usize => ret,
            in("ebx") a1, in("ecx") a2,
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
            "int 0x80",                 // ebx, ecx, edx = a1..a3
            inlateout("eax") nr as usize => ret,
            in("ebx") a1, in("ecx") a2, in("edx") a3,
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
    // SAFETY: see the function's contract; esi is swapped back before the asm ends.
    unsafe {
        asm!(
            "xchg esi, {a4}",           // esi = a4; LLVM's esi is parked in a4's register
            "int 0x80",                 // ebx, ecx, edx, esi = a1..a4
            "xchg esi, {a4}",           // give LLVM its esi back
            a4 = inout(reg) a4 => _,
            inlateout("eax") nr as usize => ret,
            in("ebx") a1, in("ecx") a2, in("edx") a3,
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
    // Every register LLVM lets us name is taken, so a4 and the number ride in memory.
    let rest = [a4, nr as usize];
    // SAFETY: see the function's contract; esi is restored before the asm ends.
    unsafe {
        asm!(
            "push esi",                 // save LLVM's esi
            "mov esi, [eax]",           // esi = a4
            "mov eax, [eax + 4]",       // eax = the syscall number
            "int 0x80",                 // ebx, ecx, edx, esi, edi = a1..a5
            "pop esi",                  // give LLVM its esi back
            inlateout("eax") rest.as_ptr() => ret,
            in("ebx") a1, in("ecx") a2, in("edx") a3, in("edi") a5,
            options(preserves_flags)
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
    // a4, a6 and the number ride in memory (see syscall5); a6 goes in ebp.
    let rest = [a4, a6, nr as usize];
    // SAFETY: see the function's contract; esi and ebp are restored before the asm ends.
    unsafe {
        asm!(
            "push ebp",                 // save the frame pointer
            "push esi",                 // save LLVM's esi
            "mov esi, [eax]",           // esi = a4
            "mov ebp, [eax + 4]",       // ebp = a6
            "mov eax, [eax + 8]",       // eax = the syscall number
            "int 0x80",                 // ebx, ecx, edx, esi, edi, ebp = a1..a6
            "pop esi",                  // give LLVM its esi back
            "pop ebp",                  // and the frame pointer
            inlateout("eax") rest.as_ptr() => ret,
            in("ebx") a1, in("ecx") a2, in("edx") a3, in("edi") a5,
            options(preserves_flags)
        );
    }
    ret
}

/// `mmap(addr, len, prot, flags, fd, 0)` as i386 spells it: `mmap2`, whose
/// offset counts 4096-byte pages (`__NR_mmap` is the old one-pointer form).
///
/// # Safety
/// As for [`syscall6`].
#[inline(always)]
pub unsafe fn mmap(addr: usize, len: usize, prot: usize, flags: usize, fd: usize) -> usize {
    // SAFETY: the caller's contract; offset 0.
    unsafe { syscall6(__NR_mmap2, addr, len, prot, flags, fd, 0) }
}

/// The thread pointer as the i386 TLS ABI exposes it: the first word of the
/// block `gs` points at, which holds the block's own address (a CLONE_SETTLS
/// block must too).
#[inline(always)]
pub fn thread_pointer() -> usize {
    let tp;
    // SAFETY: reads one word at gs:0; the process has a TLS block (see above).
    unsafe {
        asm!(
            "mov {tp}, dword ptr gs:[0]", // the TLS block's self-pointer
            tp = out(reg) tp,
            options(nostack, preserves_flags, readonly)
        );
    }
    tp
}

/// What CLONE_SETTLS takes on i386: a GDT entry (`struct user_desc`) whose
/// base is the new thread pointer. The entry is the one this thread's `gs`
/// selects (`gs >> 3`), which the kernel rewrites for the child only.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct TlsArgument {
    desc: linux_raw_sys::general::user_desc,
}

impl TlsArgument {
    /// A descriptor with base `block`, limit 4 GiB in pages, 32-bit, usable.
    pub fn new(block: usize) -> TlsArgument {
        let gs: u16;
        // SAFETY: reading a segment register has no side effects.
        unsafe {
            asm!(
                "mov {0:x}, gs",        // the selector of this thread's TLS entry
                out(reg) gs,
                options(nostack, preserves_flags, nomem)
            );
        }
        // SAFETY: user_desc is plain integers; all-zero is a valid value.
        let mut desc: linux_raw_sys::general::user_desc = unsafe { core::mem::zeroed() };
        desc.entry_number = u32::from(gs >> 3);
        desc.base_addr = block as u32;
        desc.limit = 0xfffff;
        // seg_32bit=1, contents=0, read_exec_only=0, limit_in_pages=1,
        // seg_not_present=0, useable=1: the bit order of struct user_desc.
        desc.set_seg_32bit(1);
        desc.set_limit_in_pages(1);
        desc.set_useable(1);
        TlsArgument { desc }
    }

    /// A descriptor that leaves the child no usable thread pointer: base 0 and
    /// a one-byte limit, so `gs:[0]` reads address 0 and faults, like the
    /// other arches' thread pointer 0.
    pub fn none() -> TlsArgument {
        let mut arg = TlsArgument::new(0);
        arg.desc.limit = 0;
        arg.desc.set_limit_in_pages(0);
        arg
    }

    /// The value clone's `tls` register carries: the descriptor's address.
    pub fn value(&self) -> usize {
        &self.desc as *const _ as usize
    }
}

/// The architecture value `PTRACE_GET_SYSCALL_INFO` reports for this arch.
pub const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_I386;

/// Registers of a stopped tracee as `PTRACE_GETREGSET(NT_PRSTATUS)` fills
/// them for a 32-bit tracee (`user_regs_struct`, 17 words).
pub type TraceeRegs = linux_raw_sys::ptrace::pt_regs;

/// From a tracee stopped at syscall entry: the number (`orig_eax`: `eax`
/// itself already holds -ENOSYS there) and the six argument registers.
pub fn syscall_registers(regs: &TraceeRegs) -> (u64, [u64; 6]) {
    let w = |v: core::ffi::c_long| u64::from(v as u32);
    (
        w(regs.orig_eax),
        [
            w(regs.ebx),
            w(regs.ecx),
            w(regs.edx),
            w(regs.esi),
            w(regs.edi),
            w(regs.ebp),
        ],
    )
}

// The trampolines live in real assembly files; the syscall numbers are
// substituted from linux-raw-sys so no number is typed by hand, and the symbol
// names through `sym` operands, so they carry the crate's version.
global_asm!(
    include_str!("../../arch/x86/clone.s"),
    SYS_clone = const __NR_clone,
    SYS_exit = const __NR_exit,
    personality = sym super::child_personality,
    clone = sym super::clonelab_clone,
    child_start = sym super::clonelab_child_start,
);
global_asm!(
    include_str!("../../arch/x86/clone3.s"),
    SYS_clone3 = const __NR_clone3,
    clone3 = sym super::clonelab_clone3,
    child_start = sym super::clonelab_child_start,
);
global_asm!(
    include_str!("../../arch/x86/restore.s"),
    SYS_rt_sigreturn = const __NR_rt_sigreturn,
    SYS_sigreturn = const __NR_sigreturn,
    restore_rt = sym super::clonelab_restore_rt,
    restore = sym super::clonelab_restore,
);
