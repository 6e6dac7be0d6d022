//! Child stacks: an anonymous mapping with a guard page at its low end.
//!
//! ```text
//!   high addresses
//!   +--------------------------+ <- top(): page-aligned, so 16-byte aligned;
//!   |                          |    a raw clone() may take this as the child's first sp
//!   |   usable: size() bytes   |
//!   |   (grows downward)       |
//!   +--------------------------+ <- bottom(): clone3's `stack` (lowest byte);
//!   |   guard page, PROT_NONE  |    clone3's `stack_size` = size()
//!   +--------------------------+ <- the mapping's start
//!   low addresses
//! ```
//!
//! The scoped API ([`Scope::spawn`](crate::Scope::spawn)) does not start its
//! child at `top()`. It first moves two things to the top of the stack, where
//! no allocator is needed and where they live exactly as long as the borrow:
//! its bookkeeping for the child (a `Record`, whose first part the child is
//! given as `arg` and which holds the tid word the kernel writes and clears),
//! and the closure itself. It passes clone the first 16-byte boundary below
//! them, so they lie *above* the child's stack top:
//!
//! ```text
//!   +--------------------------+ <- top()
//!   |   Record                 |    size_of::<Record>() bytes (&tid is in here)
//!   +--------------------------+
//!   |   the closure F          |    size_of::<F>() bytes, aligned to align_of::<F>()
//!   +--------------------------+
//!   |   0 to 15 bytes padding  |
//!   +--------------------------+ <- stack_top: clone()'s `stack`, the child's first sp
//!   |   the child's frames     |    at least 8 KiB of them
//!   |   (grow downward)        |
//!   +--------------------------+ <- bottom()
//!   |   guard page, PROT_NONE  |
//!   +--------------------------+
//! ```
//!
//! The child must never return from its first frame: on x86_64 a `ret`
//! would pop the 8 bytes just above its stack top (padding, or the first
//! bytes of the closure or of the Record) as a return address. Each trampoline under
//! `arch/<arch>/clone.s` draws this picture for its arch.
//!
//! An overflow runs into the guard page and the child dies with SIGSEGV
//! instead of silently overwriting whatever lies below. `MAP_GROWSDOWN` is
//! deliberately not used: its growth rules (and its stack-guard-gap) make the
//! size unpredictable and it is a known source of bugs; a fixed mapping is
//! what glibc and musl give their threads.
//!
//! Where it sits: above the syscall layer (`mmap`, `mprotect`, `munmap`);
//! the raw calls and the scoped API take a `Stack`.

use crate::errno::Errno;
use crate::error::Error;
use crate::sys;
use core::sync::atomic::{AtomicUsize, Ordering};
use linux_raw_sys::general as k;

/// A child stack. Unmapped on drop; the safe spawn APIs borrow it for as long
/// as a child may run on it, so it cannot be dropped under a live child.
#[derive(Debug)]
pub struct Stack {
    mapping: *mut u8,
    mapping_len: usize,
    guard_len: usize,
}

// SAFETY: a Stack is an owned memory range; moving its ownership between
// threads is fine (it is not shared while a child runs: spawns borrow it).
unsafe impl Send for Stack {}

static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);

/// The kernel's page size, found once by probing (no libc, no /proc needed).
///
/// `mprotect` accepts only page-aligned addresses, so the smallest of 4 KiB,
/// 16 KiB, 64 KiB at which an offset `mprotect` succeeds is the page size.
pub fn page_size() -> usize {
    let cached = PAGE_SIZE.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    const CANDIDATES: [usize; 3] = [4096, 16384, 65536];
    const PROBE_LEN: usize = 2 * 65536;
    let found = match sys::mmap_anonymous(PROBE_LEN, k::PROT_NONE, k::MAP_PRIVATE) {
        Ok(probe) => {
            let size = CANDIDATES
                .iter()
                .copied()
                // SAFETY: the range lies inside our private probe mapping.
                .find(|&p| unsafe { sys::mprotect(probe.add(p), p, k::PROT_READ) }.is_ok())
                .unwrap_or(65536);
            // SAFETY: the probe mapping is ours and no longer used.
            let _ = unsafe { sys::munmap(probe, PROBE_LEN) };
            size
        }
        Err(_) => 4096,
    };
    PAGE_SIZE.store(found, Ordering::Relaxed);
    found
}

impl Stack {
    /// Smallest usable size accepted: room for the trampoline's call frame,
    /// a closure, and a little Rust code.
    pub const MIN_SIZE: usize = 16 * 1024;

    /// Map a stack of at least `size` usable bytes (rounded up to whole pages)
    /// plus one guard page below it.
    pub fn new(size: usize) -> Result<Stack, Error> {
        if size < Self::MIN_SIZE {
            return Err(Error::StackTooSmall {
                requested: size,
                minimum: Self::MIN_SIZE,
            });
        }
        let page = page_size();
        let usable = size.checked_add(page - 1).ok_or(Error::Kernel {
            errno: Errno::ENOMEM,
            rule: None,
        })? & !(page - 1);
        let mapping_len = usable + page;
        let mapping = sys::mmap_anonymous(
            mapping_len,
            k::PROT_READ | k::PROT_WRITE,
            k::MAP_PRIVATE | k::MAP_STACK | k::MAP_NORESERVE,
        )?;
        let stack = Stack {
            mapping,
            mapping_len,
            guard_len: page,
        };
        // SAFETY: the guard page is the first page of our own fresh mapping.
        unsafe { sys::mprotect(mapping, page, k::PROT_NONE) }?;
        Ok(stack)
    }

    /// One past the highest usable byte: the initial stack pointer for clone().
    pub fn top(&self) -> *mut u8 {
        // SAFETY: mapping_len is the length of the mapping; one-past-the-end is allowed.
        unsafe { self.mapping.add(self.mapping_len) }
    }

    /// The lowest usable byte, just above the guard page: clone3's `stack`.
    pub fn bottom(&self) -> *mut u8 {
        // SAFETY: guard_len < mapping_len.
        unsafe { self.mapping.add(self.guard_len) }
    }

    /// Usable bytes between [`bottom`](Self::bottom) and [`top`](Self::top): clone3's `stack_size`.
    pub fn size(&self) -> usize {
        self.mapping_len - self.guard_len
    }

    /// The guard page's address range `(start, len)`.
    pub fn guard(&self) -> (*mut u8, usize) {
        (self.mapping, self.guard_len)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the safe APIs hold a borrow of this Stack while any child can
        // run on it, so by now no child uses the range.
        let _ = unsafe { sys::munmap(self.mapping, self.mapping_len) };
    }
}
