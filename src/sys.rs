//! Typed wrappers over the raw syscalls clonelab itself needs.
//!
//! Each function is one syscall, named after it, returning `Result<_, Errno>`.
//! None of them allocates or touches thread-local state, so all of them are
//! safe to call in a child that shares memory with its parent.

use crate::arch::{
    syscall0, syscall0_readonly, syscall1, syscall1_noreturn, syscall2, syscall3, syscall4,
    syscall5, syscall6,
};
use crate::errno::{decode, Errno};
use core::ffi::c_int;
use linux_raw_sys::general as k;

/// A process or thread id as the kernel hands it out.
pub type Pid = i32;

/// `getpid()`: the thread-group id of the caller.
pub fn getpid() -> Pid {
    // SAFETY: getpid reads kernel state only and cannot fail.
    unsafe { syscall0_readonly(k::__NR_getpid) as Pid }
}

/// `getppid()`: the thread-group id of the parent.
pub fn getppid() -> Pid {
    // SAFETY: getppid reads kernel state only and cannot fail.
    unsafe { syscall0_readonly(k::__NR_getppid) as Pid }
}

/// `gettid()`: the id of the calling thread.
pub fn gettid() -> Pid {
    // SAFETY: gettid reads kernel state only and cannot fail.
    unsafe { syscall0_readonly(k::__NR_gettid) as Pid }
}

/// `exit(status)`: end the calling *thread* (not the thread group).
pub fn exit(status: i32) -> ! {
    // SAFETY: exit ends the calling thread; nothing runs after it.
    unsafe { syscall1_noreturn(k::__NR_exit, status as usize) }
}

/// `exit_group(status)`: end every thread of the calling process.
pub fn exit_group(status: i32) -> ! {
    // SAFETY: exit_group ends the process; nothing runs after it.
    unsafe { syscall1_noreturn(k::__NR_exit_group, status as usize) }
}

/// `close(fd)`.
///
/// # Safety
/// `fd` must be owned by the caller: closing a descriptor that a `File` or
/// another owner still uses breaks Rust's I/O safety.
pub unsafe fn close(fd: c_int) -> Result<(), Errno> {
    // SAFETY: close takes no pointers; the caller owns fd.
    decode(unsafe { syscall1(k::__NR_close, fd as usize) }).map(drop)
}

/// `write(fd, buf)`: returns the number of bytes written.
pub fn write(fd: c_int, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: buf is valid for buf.len() bytes of reading.
    decode(unsafe { syscall3(k::__NR_write, fd as usize, buf.as_ptr() as usize, buf.len()) })
}

/// `kill(pid, sig)`.
pub fn kill(pid: Pid, signal: u32) -> Result<(), Errno> {
    // SAFETY: no pointers are passed.
    decode(unsafe { syscall2(k::__NR_kill, pid as usize, signal as usize) }).map(drop)
}

/// `mmap(NULL, len, prot, flags, -1, 0)`: an anonymous mapping.
pub fn mmap_anonymous(len: usize, prot: u32, flags: u32) -> Result<*mut u8, Errno> {
    // SAFETY: a NULL hint without MAP_FIXED never replaces an existing mapping.
    decode(unsafe {
        syscall6(
            k::__NR_mmap,
            0,
            len,
            prot as usize,
            (flags | k::MAP_ANONYMOUS) as usize,
            usize::MAX, // fd = -1
            0,
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

/// `wait4(pid, &status, options, NULL)`: returns the pid reaped (0 with WNOHANG
/// and nothing ready) and the raw status word.
pub fn wait4(pid: Pid, options: u32) -> Result<(Pid, i32), Errno> {
    let mut status: c_int = 0;
    // SAFETY: status is a valid c_int for the kernel to write; rusage is NULL.
    let ret = decode(unsafe {
        syscall4(
            k::__NR_wait4,
            pid as usize,
            &mut status as *mut c_int as usize,
            options as usize,
            0,
        )
    })?;
    Ok((ret as Pid, status))
}

/// `waitid(idtype, id, &info, options, NULL)`: the raw `siginfo` is returned.
pub fn waitid(idtype: u32, id: u32, options: u32) -> Result<k::siginfo_t, Errno> {
    // SAFETY: siginfo_t is plain old data; all zeroes is a valid value.
    let mut info: k::siginfo_t = unsafe { core::mem::zeroed() };
    // SAFETY: info is valid for the kernel to write; rusage is NULL.
    decode(unsafe {
        syscall5(
            k::__NR_waitid,
            idtype as usize,
            id as usize,
            &mut info as *mut k::siginfo_t as usize,
            options as usize,
            0,
        )
    })?;
    Ok(info)
}

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

/// `sched_yield()`.
pub fn sched_yield() {
    // SAFETY: sched_yield has no arguments and cannot fail.
    unsafe { syscall0(k::__NR_sched_yield) };
}

/// Create a child like `fork()`: it resumes right here, on a copy of the
/// caller's stack, and `Ok(None)` tells it that it is the child.
///
/// aarch64 has no `fork` syscall, so this is `clone(SIGCHLD, 0, 0, 0, 0)` on
/// both arches, exactly what libc's fork does.
///
/// # Safety
/// The child of a multi-threaded process may only make async-signal-safe
/// calls (every lock held by another thread stays locked forever in the
/// child). Prefer [`crate::spawn`], which runs a closure instead of returning twice.
pub unsafe fn fork() -> Result<Option<Pid>, Errno> {
    // SAFETY: stack = 0 makes the child continue on its copy of our stack, so
    // returning from this function in the child is sound (its memory is private).
    let pid = decode(unsafe { syscall5(k::__NR_clone, k::SIGCHLD as usize, 0, 0, 0, 0) })?;
    Ok(if pid == 0 { None } else { Some(pid as Pid) })
}

/// `mount(source, target, fstype, flags, data)`; all strings NUL-terminated.
///
/// # Safety
/// Mounting over a path other code relies on changes what it sees; the
/// pointers must be valid C strings (or null where mount(2) allows).
pub unsafe fn mount(
    source: &core::ffi::CStr,
    target: &core::ffi::CStr,
    fstype: Option<&core::ffi::CStr>,
    flags: u32,
) -> Result<(), Errno> {
    let fstype = fstype.map_or(core::ptr::null(), |s| s.as_ptr());
    // SAFETY: valid C strings; data = NULL.
    decode(unsafe {
        syscall5(
            k::__NR_mount,
            source.as_ptr() as usize,
            target.as_ptr() as usize,
            fstype as usize,
            flags as usize,
            0,
        )
    })
    .map(drop)
}

/// `openat(AT_FDCWD, path, flags, mode)`: returns the new descriptor.
pub fn open(path: &core::ffi::CStr, flags: u32, mode: u32) -> Result<c_int, Errno> {
    // SAFETY: path is a valid C string.
    decode(unsafe {
        syscall4(
            k::__NR_openat,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            flags as usize,
            mode as usize,
        )
    })
    .map(|fd| fd as c_int)
}

/// `dup3(old, new, flags)` (aarch64 has no dup2; dup3 exists on both).
///
/// # Safety
/// `new` is closed first if open: it must be the caller's to replace.
pub unsafe fn dup3(old: c_int, new: c_int, flags: u32) -> Result<c_int, Errno> {
    // SAFETY: no pointers; the caller owns `new`.
    decode(unsafe { syscall3(k::__NR_dup3, old as usize, new as usize, flags as usize) })
        .map(|fd| fd as c_int)
}

/// `execve(path, argv, envp)`: returns only on failure.
///
/// # Safety
/// `argv` and `envp` must be NULL-terminated arrays of valid C strings.
pub unsafe fn execve(
    path: &core::ffi::CStr,
    argv: *const *const core::ffi::c_char,
    envp: *const *const core::ffi::c_char,
) -> Errno {
    // SAFETY: the caller guarantees the arrays.
    match decode(unsafe {
        syscall3(
            k::__NR_execve,
            path.as_ptr() as usize,
            argv as usize,
            envp as usize,
        )
    }) {
        Err(e) => e,
        Ok(_) => Errno::EINVAL, // execve does not return on success
    }
}
