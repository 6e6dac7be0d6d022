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
use core::sync::atomic::AtomicI32;
use linux_raw_sys::general as k;

/// The futex call that reads a 64-bit `__kernel_timespec`: `futex` itself on
/// 64-bit arches; on 32-bit ones `futex` reads the old 32-bit timespec and
/// `futex_time64` (Linux 5.1) the 64-bit one.
#[cfg(target_pointer_width = "64")]
const NR_FUTEX_TIME64: u32 = k::__NR_futex;
#[cfg(target_pointer_width = "32")]
const NR_FUTEX_TIME64: u32 = k::__NR_futex_time64;

/// `futex(uaddr, FUTEX_WAIT, expected, timeout)` (`futex_time64` on 32-bit
/// arches), the one wait both functions below make (`timeout` NULL: no limit).
fn futex_wait_until(
    word: &AtomicI32,
    expected: i32,
    timeout: Option<&k::__kernel_timespec>,
) -> Result<(), Errno> {
    let timeout = timeout.map_or(0, |t| t as *const k::__kernel_timespec as usize);
    // SAFETY: word is a valid, aligned 32-bit location for the whole call;
    // timeout is NULL or a valid timespec.
    decode(unsafe {
        syscall4(
            NR_FUTEX_TIME64,
            word.as_ptr() as usize,
            k::FUTEX_WAIT as usize,
            expected as u32 as usize,
            timeout,
        )
    })
    .map(drop)
}

/// `futex(uaddr, FUTEX_WAIT, expected, NULL)`: sleep while `*uaddr == expected`.
///
/// Not private: the word may be cleared by the kernel on behalf of a child
/// (CLONE_CHILD_CLEARTID), which wakes with a shared futex.
pub fn futex_wait(word: &AtomicI32, expected: i32) -> Result<(), Errno> {
    futex_wait_until(word, expected, None)
}

/// [`futex_wait`] that gives up after `nanos` nanoseconds (ETIMEDOUT).
pub fn futex_wait_timeout(word: &AtomicI32, expected: i32, nanos: u64) -> Result<(), Errno> {
    let timeout = k::__kernel_timespec {
        tv_sec: (nanos / 1_000_000_000) as _,
        tv_nsec: (nanos % 1_000_000_000) as _,
    };
    futex_wait_until(word, expected, Some(&timeout))
}

/// `futex(uaddr, FUTEX_WAKE, n)`: wake up to `n` waiters; returns how many
/// woke. The kernel takes `n` as an `int` and wakes one waiter for any count
/// it reads as 0 or less, so `n` is capped at `i32::MAX` (every waiter) and
/// `n == 0` wakes nobody without asking the kernel.
pub fn futex_wake(word: &AtomicI32, n: u32) -> Result<usize, Errno> {
    if n == 0 {
        return Ok(0);
    }
    let n = n.min(i32::MAX as u32);
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
