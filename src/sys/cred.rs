//! Credentials: user and group ids, and capabilities.
//!
//! Where it sits: in the syscall layer ([`crate::sys`]), on [`crate::arch`]
//! and [`crate::errno`] only. Raw syscalls change the calling *thread*'s
//! credentials (libc's wrappers broadcast them to every thread; these do not).
//!
//! ```
//! use clonelab::sys;
//! let caps = sys::capget(0).unwrap();
//! assert_eq!(caps.effective & !caps.permitted, 0, "effective is within permitted");
//! println!("CAP_SYS_ADMIN (21) effective: {}", caps.has_effective(21));
//! ```

use super::Pid;
use crate::arch::{cred_nr, syscall0_readonly, syscall2, syscall3};
use crate::errno::{decode, Errno};
use linux_raw_sys::general as k;

/// `getuid()`.
pub fn getuid() -> u32 {
    // SAFETY: reads kernel state only.
    unsafe { syscall0_readonly(cred_nr::GETUID) as u32 }
}

/// `geteuid()`.
pub fn geteuid() -> u32 {
    // SAFETY: reads kernel state only.
    unsafe { syscall0_readonly(cred_nr::GETEUID) as u32 }
}

/// `setresuid(ruid, euid, suid)` for the calling *thread* (raw syscalls do
/// not broadcast credentials to other threads the way libc's wrapper does).
pub fn setresuid(ruid: u32, euid: u32, suid: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    decode(unsafe {
        syscall3(
            cred_nr::SETRESUID,
            ruid as usize,
            euid as usize,
            suid as usize,
        )
    })
    .map(drop)
}

/// `setresgid(rgid, egid, sgid)` for the calling thread.
pub fn setresgid(rgid: u32, egid: u32, sgid: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    decode(unsafe {
        syscall3(
            cred_nr::SETRESGID,
            rgid as usize,
            egid as usize,
            sgid as usize,
        )
    })
    .map(drop)
}

/// `getgid()`.
pub fn getgid() -> u32 {
    // SAFETY: reads kernel state only.
    unsafe { syscall0_readonly(cred_nr::GETGID) as u32 }
}

/// `getegid()`.
pub fn getegid() -> u32 {
    // SAFETY: reads kernel state only.
    unsafe { syscall0_readonly(cred_nr::GETEGID) as u32 }
}

/// A thread's three capability sets (64 bits each: capability `n` is bit `n`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// What the thread may use now.
    pub effective: u64,
    /// What it may make effective.
    pub permitted: u64,
    /// What survives `execve` (with file capabilities).
    pub inheritable: u64,
}

impl Capabilities {
    /// Whether capability `cap` (e.g. `CAP_SYS_ADMIN` = 21, from
    /// `linux/capability.h`) is effective.
    pub const fn has_effective(&self, cap: u32) -> bool {
        cap < 64 && self.effective & (1 << cap) != 0
    }
}

fn cap_header(pid: Pid) -> k::__user_cap_header_struct {
    k::__user_cap_header_struct {
        version: k::_LINUX_CAPABILITY_VERSION_3,
        pid,
    }
}

/// `capget(header, data)`: the capability sets of thread `pid` (0: the caller),
/// with the 64-bit (version 3) layout.
pub fn capget(pid: Pid) -> Result<Capabilities, Errno> {
    let mut header = cap_header(pid);
    let mut data = [k::__user_cap_data_struct {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: header and the two-element data array are valid for version 3.
    decode(unsafe {
        syscall2(
            k::__NR_capget,
            &mut header as *mut _ as usize,
            data.as_mut_ptr() as usize,
        )
    })?;
    let join = |low: u32, high: u32| (high as u64) << 32 | low as u64;
    Ok(Capabilities {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// `capset(header, data)`: set the calling thread's capability sets (the
/// kernel allows only dropping from, or staying within, the permitted set).
pub fn capset(caps: Capabilities) -> Result<(), Errno> {
    let mut header = cap_header(0);
    let split = |sets: [u64; 3], half: u32| k::__user_cap_data_struct {
        effective: (sets[0] >> half) as u32,
        permitted: (sets[1] >> half) as u32,
        inheritable: (sets[2] >> half) as u32,
    };
    let sets = [caps.effective, caps.permitted, caps.inheritable];
    let data = [split(sets, 0), split(sets, 32)];
    // SAFETY: header and data are valid for version 3; the kernel only reads data.
    decode(unsafe {
        syscall2(
            k::__NR_capset,
            &mut header as *mut _ as usize,
            data.as_ptr() as usize,
        )
    })
    .map(drop)
}
