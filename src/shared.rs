//! Memory shared with a child: one page of atomics that a fork-like child
//! and its parent both see, with a futex wait and wake on its 32-bit slots.
//!
//! A fork-like child (no `CLONE_VM`) gets a *copy* of its parent's memory:
//! what it writes to a variable, the parent never reads. A page mapped
//! `MAP_SHARED | MAP_ANONYMOUS` before the clone is the exception — both
//! processes map the same physical page at the same address — so a
//! [`SharedPage`] made before [`spawn`](crate::spawn()) is how the child hands
//! values back while it runs, and how the two wait for each other.
//!
//! ```text
//!  SharedPage (4096 bytes, MAP_SHARED | MAP_ANONYMOUS, zeroed)
//!  +-----------------------------------+-----------------------------------+
//!  | 512 × AtomicU32  (slots 0..512)   | 256 × AtomicU64  (slots 0..256)   |
//!  | futex wait / wake on each         | load, store, fetch_add, ...       |
//!  +-----------------------------------+-----------------------------------+
//! ```
//!
//! Everything here is fine in a child with no thread pointer (a `CLONE_VM`
//! child of [`Scope::spawn`](crate::Scope::spawn)): no allocation, no
//! thread-local storage, no panic — a slot out of range is an error
//! ([`SharedError::NoSuchSlot`]), not an index that panics. The 64-bit slots
//! are `AtomicU64`, which all six arches have natively (checked with `rustc
//! --print cfg`: `target_has_atomic="64"` on i686, armv7 and ppc64le too):
//! lock-free, so they work across processes, which a lock-based fallback
//! would not.
//!
//! Where it sits: on [`crate::sys`] (`mmap`, `futex`, the monotonic clock)
//! and [`crate::errno`] only.

use crate::errno::Errno;
use crate::sys;
use core::fmt;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use core::time::Duration;
use linux_raw_sys::general as k;

/// One page of `MAP_SHARED` atomics, shared with every child cloned after it
/// was made (fork-like or not), unmapped when dropped.
///
/// [`u32`](Self::u32) and [`u64`](Self::u64) give the slots;
/// [`store_and_wake`](Self::store_and_wake) and
/// [`wait_timeout`](Self::wait_timeout) are the futex pair: "here is the
/// value, wake up" and "sleep until the slot changes, at most this long".
///
/// ```
/// use clonelab::shared::{SharedError, SharedPage};
/// use clonelab::{spawn, CloneFlags, ExitSignal, FlagsWord, WaitStatus};
/// use core::time::Duration;
///
/// let page = SharedPage::new().unwrap();
/// // A fork-like child: its own copy of our memory, but this page is shared.
/// let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
/// let mut child = spawn(word, || match page.store_and_wake(0, 42) {
///     Ok(_) => 0,
///     Err(_) => 1,
/// })
/// .unwrap();
/// // Sleep until slot 0 is no longer 0: the child's 42.
/// assert_eq!(page.wait_timeout(0, 0, Duration::from_secs(10)), Ok(42));
/// assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
/// // Nobody changes slot 1: the wait ends with the timeout.
/// let quick = Duration::from_millis(10);
/// assert_eq!(page.wait_timeout(1, 0, quick), Err(SharedError::TimedOut { timeout: quick }));
/// // No slot 512: an error, not a panic.
/// assert_eq!(page.u32(512).unwrap_err(), SharedError::NoSuchSlot { slot: 512, slots: 512 });
/// ```
pub struct SharedPage {
    words: NonNull<Words>,
}

/// The page's layout: the 32-bit slots (futex words), then the 64-bit ones.
#[repr(C)]
struct Words {
    u32s: [AtomicU32; SharedPage::U32_SLOTS],
    u64s: [AtomicU64; SharedPage::U64_SLOTS],
}

const _: () = assert!(size_of::<Words>() == 4096, "one page of the smallest size");

// SAFETY: a SharedPage gives out only shared references to atomics in a
// mapping that lives as long as it does: using them from several threads at
// once (or processes: the mapping is MAP_SHARED, the atomics lock-free) is
// what atomics are for. The futex calls take those same references.
unsafe impl Sync for SharedPage {}
// SAFETY: a SharedPage owns its mapping alone (it is not Clone); munmap may
// be called from any thread, and the atomics are not tied to one.
unsafe impl Send for SharedPage {}

/// Why a [`SharedPage`] call failed.
///
/// ```
/// use clonelab::{SharedError, SharedPage};
/// let page = SharedPage::new().unwrap();
/// let err = page.u32(600).unwrap_err();
/// assert_eq!(err, SharedError::NoSuchSlot { slot: 600, slots: 512 });
/// assert_eq!(err.to_string(), "no shared slot 600: there are 512, numbered 0 to 511");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedError {
    /// There is no slot `slot`: the page has `slots` of that width.
    NoSuchSlot {
        /// The slot asked for.
        slot: usize,
        /// How many there are ([`SharedPage::U32_SLOTS`] or [`SharedPage::U64_SLOTS`]).
        slots: usize,
    },
    /// The slot still held the value waited on when `timeout` was up.
    TimedOut {
        /// The timeout the wait was given.
        timeout: Duration,
    },
    /// The kernel refused (`mmap`, `futex`, `clock_gettime`).
    Kernel(Errno),
}

impl From<Errno> for SharedError {
    fn from(errno: Errno) -> SharedError {
        SharedError::Kernel(errno)
    }
}

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SharedError::NoSuchSlot { slot, slots } => write!(
                f,
                "no shared slot {slot}: there are {slots}, numbered 0 to {}",
                slots.saturating_sub(1)
            ),
            SharedError::TimedOut { timeout } => {
                write!(f, "the slot did not change within {timeout:?}")
            }
            SharedError::Kernel(errno) => write!(f, "{errno}"),
        }
    }
}

impl core::error::Error for SharedError {}

impl SharedPage {
    /// How many 32-bit slots (the futex words) a page has.
    pub const U32_SLOTS: usize = 512;
    /// How many 64-bit slots a page has.
    pub const U64_SLOTS: usize = 256;

    /// Map a fresh page of zeroed slots (`mmap(MAP_SHARED | MAP_ANONYMOUS)`):
    /// shared with every child cloned after this.
    ///
    /// ```
    /// use clonelab::SharedPage;
    /// use core::sync::atomic::Ordering;
    /// let page = SharedPage::new().unwrap();
    /// assert_eq!(page.u32(0).unwrap().load(Ordering::SeqCst), 0); // zeroed
    /// ```
    pub fn new() -> Result<SharedPage, Errno> {
        let len = size_of::<Words>();
        let page = sys::mmap_anonymous(len, k::PROT_READ | k::PROT_WRITE, k::MAP_SHARED)?;
        // mmap returns a page-aligned address or an errno, never 0 (decoded above).
        let words = NonNull::new(page as *mut Words).ok_or(Errno::ENOMEM)?;
        Ok(SharedPage { words })
    }

    fn words(&self) -> &Words {
        // SAFETY: the mapping is page-aligned, at least size_of::<Words>()
        // long, lives as long as self, and was zeroed by the kernel: zero is
        // a valid value for every atomic, and it is only ever accessed through them.
        unsafe { self.words.as_ref() }
    }

    /// The 32-bit slot `slot` (`0..U32_SLOTS`): the kind a futex waits on.
    pub fn u32(&self, slot: usize) -> Result<&AtomicU32, SharedError> {
        self.words().u32s.get(slot).ok_or(SharedError::NoSuchSlot {
            slot,
            slots: Self::U32_SLOTS,
        })
    }

    /// The 64-bit slot `slot` (`0..U64_SLOTS`).
    ///
    /// ```
    /// use clonelab::{spawn, CloneFlags, ExitSignal, FlagsWord, SharedPage};
    /// use core::sync::atomic::Ordering;
    /// let page = SharedPage::new().unwrap();
    /// let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
    /// // The child counts into a shared slot: its additions reach us.
    /// let mut child = spawn(word, || match page.u64(9) {
    ///     Ok(slot) => {
    ///         slot.fetch_add(1 << 40, Ordering::SeqCst);
    ///         0
    ///     }
    ///     Err(_) => 1,
    /// })
    /// .unwrap();
    /// child.wait().unwrap();
    /// assert_eq!(page.u64(9).unwrap().load(Ordering::SeqCst), 1 << 40);
    /// assert!(page.u64(SharedPage::U64_SLOTS).is_err());
    /// ```
    pub fn u64(&self, slot: usize) -> Result<&AtomicU64, SharedError> {
        self.words().u64s.get(slot).ok_or(SharedError::NoSuchSlot {
            slot,
            slots: Self::U64_SLOTS,
        })
    }

    /// The 32-bit slot as the `AtomicI32` the futex wrappers take.
    fn futex_word(&self, slot: usize) -> Result<&AtomicI32, SharedError> {
        let word = self.u32(slot)?;
        // SAFETY: AtomicI32 and AtomicU32 have the same size and alignment
        // (4), the location is valid for as long as the borrow of self, and
        // every access to it is atomic, through one type or the other.
        Ok(unsafe { AtomicI32::from_ptr(word.as_ptr() as *mut i32) })
    }

    /// Store `value` in the 32-bit slot `slot`, then wake every process and
    /// thread sleeping on it (`futex(FUTEX_WAKE)`). Returns how many woke.
    pub fn store_and_wake(&self, slot: usize, value: u32) -> Result<usize, SharedError> {
        self.u32(slot)?.store(value, Ordering::SeqCst);
        self.wake(slot, i32::MAX as u32)
    }

    /// Wake up to `waiters` sleepers on the 32-bit slot `slot`, without
    /// changing it (`waiters` of `i32::MAX` or more: every one; 0: none).
    /// Returns how many woke.
    ///
    /// ```
    /// use clonelab::SharedPage;
    /// let page = SharedPage::new().unwrap();
    /// assert_eq!(page.wake(0, 1), Ok(0)); // nobody sleeps on slot 0
    /// ```
    pub fn wake(&self, slot: usize, waiters: u32) -> Result<usize, SharedError> {
        Ok(sys::futex_wake(self.futex_word(slot)?, waiters)?)
    }

    /// Sleep while the 32-bit slot `slot` holds `expected`, with no time
    /// limit; returns the value it then holds. Prefer
    /// [`wait_timeout`](Self::wait_timeout) where the writer may die first.
    ///
    /// ```
    /// use clonelab::{spawn, CloneFlags, ExitSignal, FlagsWord, SharedPage};
    /// let page = SharedPage::new().unwrap();
    /// let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
    /// let mut child = spawn(word, || page.store_and_wake(1, 5).map_or(1, |_| 0)).unwrap();
    /// assert_eq!(page.wait(1, 0), Ok(5));
    /// child.wait().unwrap();
    /// ```
    pub fn wait(&self, slot: usize, expected: u32) -> Result<u32, SharedError> {
        let word = self.futex_word(slot)?;
        loop {
            let now = word.load(Ordering::SeqCst) as u32;
            if now != expected {
                return Ok(now);
            }
            match sys::futex_wait(word, expected as i32) {
                Ok(()) | Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
                Err(errno) => return Err(errno.into()),
            }
        }
    }

    /// Sleep while the 32-bit slot `slot` holds `expected`, at most
    /// `timeout` (on `CLOCK_MONOTONIC`): the value it then holds, or
    /// [`SharedError::TimedOut`]. A wake-up that finds the value unchanged,
    /// or a signal handler that runs meanwhile, sleeps again for what is
    /// left of the timeout. `Duration::ZERO` only looks.
    ///
    /// `futex(FUTEX_WAIT)` compares and sleeps in one step, in the kernel, so
    /// a [`store_and_wake`](Self::store_and_wake) between our look and our
    /// sleep is not missed: the kernel sees the new value and returns at once.
    pub fn wait_timeout(
        &self,
        slot: usize,
        expected: u32,
        timeout: Duration,
    ) -> Result<u32, SharedError> {
        let word = self.futex_word(slot)?;
        let start = sys::poll::monotonic_now()?;
        loop {
            let now = word.load(Ordering::SeqCst) as u32;
            if now != expected {
                return Ok(now);
            }
            let elapsed = sys::poll::monotonic_now()?
                .checked_sub(start)
                .unwrap_or(Duration::ZERO);
            let left = match timeout.checked_sub(elapsed) {
                Some(left) if !left.is_zero() => left,
                _ => return Err(SharedError::TimedOut { timeout }),
            };
            let nanos = u64::try_from(left.as_nanos()).unwrap_or(u64::MAX);
            match sys::futex_wait_timeout(word, expected as i32, nanos) {
                Ok(()) | Err(Errno::EAGAIN) | Err(Errno::EINTR) | Err(Errno::ETIMEDOUT) => {}
                Err(errno) => return Err(errno.into()),
            }
        }
    }
}

impl fmt::Debug for SharedPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedPage")
            .field("address", &self.words.as_ptr())
            .finish()
    }
}

impl Drop for SharedPage {
    fn drop(&mut self) {
        // SAFETY: the slots are borrowed from self, so no reference to them
        // outlives it. A child holds its own mapping of the page (fork-like)
        // or shares ours only while it borrows this SharedPage (CLONE_VM).
        let _ = unsafe { sys::munmap(self.words.as_ptr() as *mut u8, size_of::<Words>()) };
    }
}
