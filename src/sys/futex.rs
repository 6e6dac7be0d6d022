//! Futexes: sleeping on a 32-bit word until another task changes it.
//!
//! Where it sits: in the syscall layer ([`crate::sys`]), on [`crate::arch`]
//! and [`crate::errno`] only. The scoped API joins a thread-like child by
//! waiting on the tid word that `CLONE_CHILD_CLEARTID` makes the kernel zero.
//!
//! ```
//! use clonelab::{sys, Errno};
//! use core::sync::atomic::AtomicI32;
//! let word = AtomicI32::new(1);
//! // The word is not 0, so FUTEX_WAIT returns at once with EAGAIN.
//! assert_eq!(sys::futex_wait(&word, 0), Err(Errno::EAGAIN));
//! // It is 1: sleep until woken or 1 ms passes.
//! assert_eq!(sys::futex_wait_timeout(&word, 1, 1_000_000), Err(Errno::ETIMEDOUT));
//! assert_eq!(sys::futex_wake(&word, 1), Ok(0)); // nobody was waiting
//! ```

use crate::arch::{syscall3, syscall4};
use crate::errno::{decode, Errno};
use linux_raw_sys::general as k;

/// `futex(uaddr, FUTEX_WAIT, expected, NULL)`: sleep while `*uaddr == expected`.
///
/// Not private: the word may be cleared by the kernel on behalf of a child
/// (CLONE_CHILD_CLEARTID), which wakes with a shared futex.
pub fn futex_wait(word: &core::sync::atomic::AtomicI32, expected: i32) -> Result<(), Errno> {
    // SAFETY: word is a valid, aligned 32-bit location for the whole call.
    decode(unsafe {
        syscall4(
            k::__NR_futex,
            word.as_ptr() as usize,
            k::FUTEX_WAIT as usize,
            expected as u32 as usize,
            0,
        )
    })
    .map(drop)
}

/// [`futex_wait`] that gives up after `nanos` nanoseconds (ETIMEDOUT).
pub fn futex_wait_timeout(
    word: &core::sync::atomic::AtomicI32,
    expected: i32,
    nanos: u64,
) -> Result<(), Errno> {
    let timeout = k::__kernel_timespec {
        tv_sec: (nanos / 1_000_000_000) as _,
        tv_nsec: (nanos % 1_000_000_000) as _,
    };
    // SAFETY: word is a valid aligned 32-bit location; timeout is a valid timespec.
    decode(unsafe {
        syscall4(
            k::__NR_futex,
            word.as_ptr() as usize,
            k::FUTEX_WAIT as usize,
            expected as u32 as usize,
            &timeout as *const k::__kernel_timespec as usize,
        )
    })
    .map(drop)
}

/// `futex(uaddr, FUTEX_WAKE, n)`: wake up to `n` waiters; returns how many woke.
pub fn futex_wake(word: &core::sync::atomic::AtomicI32, n: u32) -> Result<usize, Errno> {
    // SAFETY: word is a valid, aligned 32-bit location.
    decode(unsafe {
        syscall3(
            k::__NR_futex,
            word.as_ptr() as usize,
            k::FUTEX_WAKE as usize,
            n as usize,
        )
    })
}
