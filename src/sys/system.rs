//! The system's name: `uname` and `sethostname` (per UTS namespace).
//!
//! Where it sits: in the syscall layer ([`crate::sys`]), on [`crate::arch`]
//! and [`crate::errno`] only.

use crate::arch::{syscall1, syscall2};
use crate::errno::{decode, Errno};
use linux_raw_sys::general as k;

/// `sethostname(name)`.
pub fn sethostname(name: &[u8]) -> Result<(), Errno> {
    // SAFETY: name is readable for its length.
    decode(unsafe { syscall2(k::__NR_sethostname, name.as_ptr() as usize, name.len()) }).map(drop)
}

/// `uname()`: the kernel's name, release, version, machine, and this UTS
/// namespace's hostname and domain name.
pub fn uname() -> Result<linux_raw_sys::system::new_utsname, Errno> {
    // SAFETY: new_utsname is plain old data; all zeroes is a valid value.
    let mut uts: linux_raw_sys::system::new_utsname = unsafe { core::mem::zeroed() };
    // SAFETY: uts is writable for its size.
    decode(unsafe { syscall1(k::__NR_uname, &mut uts as *mut _ as usize) })?;
    Ok(uts)
}
