//! What clone3 refuses in its `clone_args`: a size below the first version
//! (EINVAL), a larger size with a byte the kernel does not know (E2BIG), and a
//! `set_tid` naming a pid in use (EEXIST).
//!
//! Where it sits: in [`super`] (the errors experiment). What it may use: the
//! raw [`clone3`] and the record.

use super::{exit_zero, refusal};
use crate::clone::{clone3, zeroed_args, CloneArgs};
use crate::experiments::{record, Calls};
use crate::sys;
use crate::Errno;
use linux_raw_sys::general as k;

/// clone3 with an args buffer of `size` bytes whose last byte is `tail`.
pub(super) fn clone3_sized(
    calls: &mut Calls,
    label: &str,
    size: usize,
    tail: u8,
) -> Result<(), Errno> {
    let mut buffer = [0u64; 512];
    let args = CloneArgs {
        exit_signal: k::SIGCHLD as u64,
        ..zeroed_args()
    };
    // SAFETY: CloneArgs is 88 bytes of u64s; the buffer is 4096 bytes and u64-aligned.
    unsafe { core::ptr::write(buffer.as_mut_ptr() as *mut CloneArgs, args) };
    if tail != 0 {
        buffer[size / 8 - 1] = tail as u64;
    }
    let mut call = record::clone3_call(&args, size);
    call.args_address = buffer.as_ptr() as usize;
    // SAFETY: the buffer holds `size` bytes; a child (if created) exits at once.
    let result = unsafe {
        clone3(
            &mut *(buffer.as_mut_ptr() as *mut CloneArgs),
            size,
            exit_zero,
            core::ptr::null_mut(),
        )
    };
    calls.push(label, call, record::pid_result(&result));
    refusal(result)
}

/// clone3 with `set_tid = [our own pid]`: a pid that is alive (root only).
pub(super) fn set_tid_in_use(calls: &mut Calls, what: &str) -> Result<(), Errno> {
    let mut own = [sys::getpid()];
    let mut args = CloneArgs {
        exit_signal: k::SIGCHLD as u64,
        set_tid: own.as_mut_ptr() as u64,
        set_tid_size: 1,
        ..zeroed_args()
    };
    let size = core::mem::size_of::<CloneArgs>();
    let call = record::clone3_call(&args, size);
    // SAFETY: args and own are valid; a child, if created, exits at once.
    let made = unsafe { clone3(&mut args, size, exit_zero, core::ptr::null_mut()) };
    calls.push(what, call, record::pid_result(&made));
    refusal(made)
}
