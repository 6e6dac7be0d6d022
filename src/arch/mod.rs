//! The one per-architecture seam.
//!
//! Everything that differs between the arches (x86_64, aarch64, i386, armhf,
//! s390x, ppc64le) lives behind this module:
//! the syscall instruction and its registers (`syscall0..syscall6`), the
//! register names the docs print, and the two assembly trampolines under
//! `arch/<arch>/` (`clone.s`, `clone3.s`) that start a child on its own stack.
//! ppc64le's are `.S` files assembled by gcc, with the syscall entry out of
//! line too (Rust 1.85 has no stable inline assembly for PowerPC; see
//! `powerpc64.rs`). The rest of the crate is written once.
//!
//! It sits on the ground floor: it uses `core` and `linux-raw-sys` only, and
//! nothing from the rest of the crate. Every name it exports is listed below;
//! each arch file defines all of them.

/// A symbol name that carries the crate's version, so that two versions of
/// clonelab linked into one program each keep their own trampolines.
macro_rules! versioned_symbol {
    ($name:literal) => {
        concat!(
            "clonelab_",
            env!("CARGO_PKG_VERSION_MAJOR"),
            "_",
            env!("CARGO_PKG_VERSION_MINOR"),
            "_",
            env!("CARGO_PKG_VERSION_PATCH"),
            "_",
            $name
        )
    };
}

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
use aarch64 as this_arch;

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
use x86_64 as this_arch;

#[cfg(target_arch = "x86")]
mod x86;
#[cfg(target_arch = "x86")]
use x86 as this_arch;

#[cfg(target_arch = "arm")]
mod arm;
#[cfg(target_arch = "arm")]
use arm as this_arch;

#[cfg(target_arch = "s390x")]
mod s390x;
#[cfg(target_arch = "s390x")]
use s390x as this_arch;

#[cfg(target_arch = "powerpc64")]
mod powerpc64;
#[cfg(target_arch = "powerpc64")]
use powerpc64 as this_arch;

pub use this_arch::{
    mmap, syscall0, syscall0_readonly, syscall1, syscall1_noreturn, syscall2, syscall3, syscall4,
    syscall5, syscall6, syscall_registers, thread_pointer, TraceeRegs, ARG_REGISTERS, AUDIT_ARCH,
    CLONE_ARG_ORDER, NAME, NR_REGISTER, RET_REGISTER,
};

/// The syscall numbers of the credential calls that take and return full
/// 32-bit user and group ids. On i386 and armhf the plain names (`getuid`,
/// `setresuid`, ...) are the old calls with 16-bit ids, kept for old binaries
/// (an id above 65535 comes back wrong through them), and the `*32` calls
/// are the real ones; on the other four arches the plain names are 32-bit.
pub mod cred_nr {
    #[cfg(not(any(target_arch = "x86", target_arch = "arm")))]
    pub use linux_raw_sys::general::{
        __NR_getegid as GETEGID, __NR_geteuid as GETEUID, __NR_getgid as GETGID,
        __NR_getuid as GETUID, __NR_setresgid as SETRESGID, __NR_setresuid as SETRESUID,
    };
    #[cfg(any(target_arch = "x86", target_arch = "arm"))]
    pub use linux_raw_sys::general::{
        __NR_getegid32 as GETEGID, __NR_geteuid32 as GETEUID, __NR_getgid32 as GETGID,
        __NR_getuid32 as GETUID, __NR_setresgid32 as SETRESGID, __NR_setresuid32 as SETRESUID,
    };
}

/// What clone's `tls` argument is: a thread pointer everywhere but i386,
/// where it is the address of a `struct user_desc` (see `x86.rs`).
#[cfg(target_arch = "x86")]
pub use x86::TlsArgument;
#[cfg(not(target_arch = "x86"))]
mod plain_tls;
#[cfg(not(target_arch = "x86"))]
pub use plain_tls::TlsArgument;

/// The exit status of a child whose closure panicked: 101, Rust's own status
/// for a panicking program. The personality routine below exits with it as a
/// last resort; `spawn` re-exports it as `PANIC_EXIT_STATUS`.
pub const PANIC_EXIT_STATUS: i32 = 101;

use core::ffi::{c_int, c_void};

/// The function a child runs first: it receives `arg`, and its return value
/// becomes the child's exit status (passed to `SYS_exit`, never `exit_group`).
pub type ChildEntry = unsafe extern "C" fn(arg: *mut c_void) -> c_int;

extern "C" {
    /// `arch/<arch>/clone.s`: issue `clone`, then in the child call `entry(arg)`
    /// on `stack` and exit with its result. Returns the child's tid or `-errno`.
    #[link_name = versioned_symbol!("clone")]
    pub(crate) fn clonelab_clone(
        flags: usize,
        stack: *mut u8,
        parent_tid: *mut c_int,
        child_tid: *mut c_int,
        tls: usize,
        entry: ChildEntry,
        arg: *mut c_void,
    ) -> isize;

    /// `arch/<arch>/clone3.s`: issue `clone3(args, size)`, then in the child
    /// call `entry(arg)` and exit with its result. Returns the tid or `-errno`.
    #[link_name = versioned_symbol!("clone3")]
    pub(crate) fn clonelab_clone3(
        args: *mut linux_raw_sys::general::clone_args,
        size: usize,
        entry: ChildEntry,
        arg: *mut c_void,
    ) -> isize;

    /// `arch/<arch>/clone.s`: the child's first frame (never called from Rust;
    /// declared so the assembly can name it through a `sym` operand).
    #[link_name = versioned_symbol!("child_start")]
    fn clonelab_child_start();

    /// `arch/<arch>/restore.s`: the signal restorer (`rt_sigreturn`) that
    /// every handler installed through [`crate::sys::signal`] returns to
    /// (not on ppc64le, whose kernel ignores `sa_restorer`: see [`restorer`]).
    #[cfg(not(target_arch = "powerpc64"))]
    #[link_name = versioned_symbol!("restore_rt")]
    pub(crate) fn clonelab_restore_rt();

    /// `arch/<arch>/restore.s`: the restorer (`sigreturn`) for a handler
    /// installed without `SA_SIGINFO`, on the arches whose kernel then builds
    /// an older, non-rt signal frame.
    #[cfg(any(target_arch = "x86", target_arch = "arm", target_arch = "s390x"))]
    #[link_name = versioned_symbol!("restore")]
    pub(crate) fn clonelab_restore();
}

/// The restorer for a handler installed without `SA_SIGINFO`: on these arches
/// the kernel builds an rt frame for every handler, so it is the rt one.
#[cfg(not(any(
    target_arch = "x86",
    target_arch = "arm",
    target_arch = "s390x",
    target_arch = "powerpc64"
)))]
use self::clonelab_restore_rt as clonelab_restore;

/// How a handler returns: the `sa_flags` bit and the `sa_restorer` address
/// [`crate::sys::signal`] installs a handler with (`siginfo`: an `SA_SIGINFO`
/// handler). Everywhere but ppc64le: `SA_RESTORER` and clonelab's restorer.
#[cfg(not(target_arch = "powerpc64"))]
pub(crate) fn restorer(siginfo: bool) -> (u32, usize) {
    let function = if siginfo {
        clonelab_restore_rt
    } else {
        clonelab_restore
    };
    (
        linux_raw_sys::general::SA_RESTORER,
        function as *const () as usize,
    )
}

/// How a handler returns on ppc64le: no `SA_RESTORER`, no restorer. The
/// kernel ignores `sa_restorer` there and always returns through the vDSO's
/// `__kernel_sigtramp_rt64` (see `powerpc64.rs`), so passing one would only
/// suggest a path that is never taken.
#[cfg(target_arch = "powerpc64")]
pub(crate) fn restorer(_siginfo: bool) -> (u32, usize) {
    (0, 0)
}

/// The unwinder's personality routine for the child's first frame (the
/// trampoline's child start code, which names it with `.cfi_personality`).
///
/// A Rust panic first searches for a frame that will catch it (phase 1) and
/// aborts with "failed to initiate panic" if none exists — and a child has no
/// `catch_unwind` above its entry, nor can a `no_std` crate write one. This
/// routine claims to be that frame, so the panic proceeds to phase 2, where the
/// cleanups run innermost first.
///
/// What then ends the child with `SYS_exit(PANIC_EXIT_STATUS)` is not this
/// frame: it is the drop guard that the child's Rust entry function
/// (`spawn`'s `fork_entry`, `Scope::spawn`'s `scoped_entry`) holds, dropped
/// in phase 2. Unwinding never gets past that entry function: it is
/// `extern "C"`, and since Rust 1.81 an unwind that reaches the boundary of an
/// `extern "C"` function aborts the process (here: the child) instead. So the
/// phase-2 branch below is a last resort that correct code never reaches.
///
/// With `panic = "abort"` none of this runs: the panic calls `abort()`, which
/// ends the child with SIGABRT (a fork-like child is its own process, so only
/// it ends; a child that shares the thread group takes the process with it).
///
/// The numbers are the Itanium C++ ABI's (`_Unwind_Action`, `_Unwind_Reason_Code`),
/// which Linux uses on every arch here but 32-bit ARM (EHABI).
// arm uses the EHABI form in arm.rs instead.
#[cfg_attr(target_arch = "arm", allow(dead_code))]
// ppc64le: clone.S names it through this symbol (no `sym` operand without global_asm!).
#[cfg_attr(
    target_arch = "powerpc64",
    export_name = versioned_symbol!("child_personality")
)]
unsafe extern "C" fn child_personality(
    _version: c_int,
    actions: c_int,
    _exception_class: u64,
    _exception: *mut c_void,
    _context: *mut c_void,
) -> c_int {
    const UA_SEARCH_PHASE: c_int = 1;
    const URC_HANDLER_FOUND: c_int = 6;
    if actions & UA_SEARCH_PHASE != 0 {
        return URC_HANDLER_FOUND;
    }
    // SAFETY: we are on the child's own stack in its outermost frame: nothing
    // above us can be abandoned, and SYS_exit ends only this child.
    unsafe {
        syscall1_noreturn(
            linux_raw_sys::general::__NR_exit,
            PANIC_EXIT_STATUS as usize,
        )
    }
}
