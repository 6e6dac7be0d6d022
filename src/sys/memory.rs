//! Memory: anonymous mappings and their protection, for child stacks.
//!
//! Where it sits: in the syscall layer ([`crate::sys`]), on [`crate::arch`]
//! and [`crate::errno`] only. [`crate::stack::Stack`] is built on these.
//!
//! ```
//! use clonelab::sys::{self, consts::{MAP_PRIVATE, PROT_READ, PROT_WRITE}};
//! let page = sys::mmap_anonymous(4096, PROT_READ | PROT_WRITE, MAP_PRIVATE).unwrap();
//! // SAFETY: the mapping is ours, readable and writable, 4096 bytes long.
//! unsafe { page.write(7) };
//! // SAFETY: nothing uses the page after this.
//! unsafe { sys::munmap(page, 4096) }.unwrap();
//! ```

use crate::arch::{syscall2, syscall3};
use crate::errno::{decode, Errno};
use linux_raw_sys::general as k;

/// `mmap(NULL, len, prot, flags, -1, 0)`: an anonymous mapping.
pub fn mmap_anonymous(len: usize, prot: u32, flags: u32) -> Result<*mut u8, Errno> {
    // SAFETY: a NULL hint without MAP_FIXED never replaces an existing mapping.
    // arch::mmap is `mmap` (offset 0), `mmap2` on i386 and armhf, and the
    // one-pointer form on s390x.
    decode(unsafe {
        crate::arch::mmap(
            0,
            len,
            prot as usize,
            (flags | k::MAP_ANONYMOUS) as usize,
            usize::MAX, // fd = -1
        )
    })
    .map(|addr| addr as *mut u8)
}

/// `munmap(addr, len)`.
///
/// # Safety
/// Nothing may use the range afterwards.
pub unsafe fn munmap(addr: *mut u8, len: usize) -> Result<(), Errno> {
    // SAFETY: the caller guarantees the range is no longer in use.
    decode(unsafe { syscall2(k::__NR_munmap, addr as usize, len) }).map(drop)
}

/// `mprotect(addr, len, prot)`.
///
/// # Safety
/// Removing access to memory that is still referenced makes later accesses fault.
pub unsafe fn mprotect(addr: *mut u8, len: usize, prot: u32) -> Result<(), Errno> {
    // SAFETY: the caller guarantees the protection change is intended.
    decode(unsafe { syscall3(k::__NR_mprotect, addr as usize, len, prot as usize) }).map(drop)
}
