//! The one per-architecture seam.
//!
//! Everything that differs between x86_64 and aarch64 lives behind this module:
//! the syscall instruction and its registers (`syscall0..syscall6`), the
//! register names the docs print, and the two assembly trampolines under
//! `arch/<arch>/` (`clone.s`, `clone3.s`) that start a child on its own stack.
//! The rest of the crate is written once.

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::*;

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::*;

use core::ffi::{c_int, c_void};

/// The function a child runs first: it receives `arg`, and its return value
/// becomes the child's exit status (passed to `SYS_exit`, never `exit_group`).
pub type ChildEntry = unsafe extern "C" fn(arg: *mut c_void) -> c_int;

extern "C" {
    /// `arch/<arch>/clone.s`: issue `clone`, then in the child call `entry(arg)`
    /// on `stack` and exit with its result. Returns the child's tid or `-errno`.
    pub fn clonelab_clone(
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
    pub fn clonelab_clone3(
        args: *mut linux_raw_sys::general::clone_args,
        size: usize,
        entry: ChildEntry,
        arg: *mut c_void,
    ) -> isize;
}

/// The unwinder's personality routine for `clonelab_child_start`, the
/// outermost frame of every child (named by `.cfi_personality` in `clone.s`).
///
/// A Rust panic first searches for a frame that will catch it (phase 1) and
/// aborts with "failed to initiate panic" if none exists — and a child has no
/// `catch_unwind` above its entry, nor can a `no_std` crate write one. This
/// routine claims to be that frame, so the panic proceeds to phase 2, where the
/// cleanups run innermost first: the child entry's guard among them ends the
/// child with `SYS_exit(PANIC_EXIT_STATUS)`. Should unwinding ever reach this
/// frame itself, the child exits here with the same status. The parent's
/// frames are never visited: they are not on the child's stack.
///
/// The numbers are the Itanium C++ ABI's (`_Unwind_Action`, `_Unwind_Reason_Code`),
/// which Linux uses on both x86_64 and aarch64.
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
    crate::sys::exit(crate::spawn::PANIC_EXIT_STATUS)
}
