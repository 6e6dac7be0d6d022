//! The `getppid` set: one syscall round trip (no libc caches getppid)
//! through a bare `syscall`/`svc`, clonelab, `libc::syscall`,
//! `libc::getppid`, the `syscalls` and `sc` crates, and `rustix`.
//!
//! Part of `benches/clone/`; `main.rs` measures [`paths`]. Uses
//! `linux-raw-sys` for the syscall number and the peers' own calls.

use super::harness::{path, Growth, Path};
use clonelab::sys;
use linux_raw_sys::general as k;
use std::hint::black_box;

/// One getppid through a bare `syscall` / `svc` instruction, no wrapper at all.
#[inline(always)]
pub fn bare_getppid() -> usize {
    let ret: usize;
    // SAFETY: getppid takes no arguments and touches no memory.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        std::arch::asm!(
            "syscall",                       // getppid
            inlateout("rax") k::__NR_getppid as usize => ret,
            lateout("rcx") _, lateout("r11") _,
            options(nostack, preserves_flags, nomem)
        );
        #[cfg(target_arch = "aarch64")]
        std::arch::asm!(
            "svc #0",                        // getppid
            in("x8") k::__NR_getppid as usize,
            lateout("x0") ret,
            options(nostack, preserves_flags, nomem)
        );
    }
    ret
}

/// Every getppid path.
pub fn paths() -> Vec<Path<'static>> {
    let g = "getppid";
    vec![
        path(g, "bare asm", Growth::No, || {
            black_box(bare_getppid());
        }),
        path(g, "clonelab", Growth::No, || {
            black_box(sys::getppid());
        }),
        path(g, "libc::syscall", Growth::No, || {
            // SAFETY: getppid has no arguments.
            black_box(unsafe { libc::syscall(libc::SYS_getppid) });
        }),
        path(g, "libc::getppid", Growth::No, || {
            // SAFETY: getppid has no arguments.
            black_box(unsafe { libc::getppid() });
        }),
        path(g, "syscalls", Growth::No, || {
            // SAFETY: getppid has no arguments.
            let _ = black_box(unsafe { syscalls::syscall0(syscalls::Sysno::getppid) });
        }),
        path(g, "sc", Growth::No, || {
            // SAFETY: getppid has no arguments.
            black_box(unsafe { sc::syscall!(GETPPID) });
        }),
        path(g, "rustix", Growth::No, || {
            black_box(rustix::process::getppid());
        }),
    ]
}
