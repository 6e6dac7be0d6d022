//! Processes: who am I, ending, forking, executing, waiting, comparing.
//!
//! Where it sits: in the syscall layer ([`crate::sys`]), on [`crate::arch`]
//! and [`crate::errno`] only. [`crate::wait`] builds typed statuses on
//! [`wait4`] and [`waitid`].
//!
//! ```
//! use clonelab::sys;
//! assert_eq!(sys::getpid(), std::process::id() as i32);
//! assert_eq!(sys::getsid(0), sys::getsid(sys::getpid()));
//! ```

use super::Pid;
use crate::arch::{
    syscall0, syscall0_readonly, syscall1, syscall1_noreturn, syscall2, syscall3, syscall4,
    syscall5,
};
use crate::errno::{decode, Errno};
use core::ffi::c_int;
use linux_raw_sys::general as k;

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
///
/// # Safety
/// Like `pthread_exit`, this abandons every frame of the calling thread
/// without running destructors. Whatever those frames lent out must no longer
/// be needed: a `std::thread::scope` or [`crate::scope`] above would end while
/// its borrows are still in use elsewhere, locks held by the frames stay
/// held, and values they own are never dropped. Sound where there are no
/// such frames: in a child's outermost frame, or a thread that owns nothing.
pub unsafe fn exit(status: i32) -> ! {
    // SAFETY: exit ends the calling thread; the caller vouches for its frames.
    unsafe { syscall1_noreturn(k::__NR_exit, status as usize) }
}

/// `exit_group(status)`: end every thread of the calling process.
pub fn exit_group(status: i32) -> ! {
    // SAFETY: exit_group ends the process; nothing runs after it.
    unsafe { syscall1_noreturn(k::__NR_exit_group, status as usize) }
}

/// Create a child like `fork()`: it resumes right here, on a copy of the
/// caller's stack, and `Ok(None)` tells it that it is the child.
///
/// aarch64 has no `fork` syscall, so on all six arches this is `clone` with
/// the flags word `SIGCHLD` and every other argument 0 (no stack: the child
/// runs on its copy of ours), as musl's fork does where there is no `fork`
/// syscall. s390x takes clone's stack before its flags
/// (CONFIG_CLONE_BACKWARDS2), so there the two arguments trade places.
///
/// # Safety
/// The child of a multi-threaded process may only make async-signal-safe
/// calls (every lock held by another thread stays locked forever in the
/// child). Prefer [`crate::spawn()`], which runs a closure instead of returning twice.
pub unsafe fn fork() -> Result<Option<Pid>, Errno> {
    #[cfg(not(target_arch = "s390x"))]
    let (first, second) = (k::SIGCHLD as usize, 0); // flags, stack
    #[cfg(target_arch = "s390x")]
    let (first, second) = (0, k::SIGCHLD as usize); // stack, flags

    // SAFETY: stack = 0 makes the child continue on its copy of our stack, so
    // returning from this function in the child is sound (its memory is private).
    let pid = decode(unsafe { syscall5(k::__NR_clone, first, second, 0, 0, 0) })?;
    Ok(if pid == 0 { None } else { Some(pid as Pid) })
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

/// `sched_yield()`.
pub fn sched_yield() {
    // SAFETY: sched_yield has no arguments and cannot fail.
    unsafe { syscall0(k::__NR_sched_yield) };
}

/// `kcmp(pid1, pid2, type, 0, 0)`: 0 if the two processes share the resource.
pub fn kcmp(pid1: Pid, pid2: Pid, kind: Kcmp) -> Result<usize, Errno> {
    // SAFETY: no pointers for these kcmp types.
    decode(unsafe {
        syscall5(
            k::__NR_kcmp,
            pid1 as usize,
            pid2 as usize,
            kind as usize,
            0,
            0,
        )
    })
}

/// The kcmp(2) resource types clonelab compares.
///
/// linux-raw-sys 0.12 does not carry `<linux/kcmp.h>`, so these are the one
/// set of values typed here, from that header's `enum kcmp_type`; the tests
/// check their meaning against clone flags (a CLONE_VM child compares equal
/// under `Vm` and a fork child does not, and so on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kcmp {
    /// Same address space (CLONE_VM).
    Vm = 1,
    /// Same file descriptor table (CLONE_FILES).
    Files = 2,
    /// Same root/cwd/umask (CLONE_FS).
    Fs = 3,
    /// Same signal handler table (CLONE_SIGHAND).
    Sighand = 4,
    /// Same I/O context (CLONE_IO).
    Io = 5,
    /// Same System V semaphore undo list (CLONE_SYSVSEM).
    Sysvsem = 6,
}

/// `setrlimit(resource, {limit, limit})` (as `prlimit64(0, ...)`, whose
/// `struct rlimit64` has 64-bit fields on all six arches; plain `setrlimit`
/// takes `unsigned long`s, 32 bits on i386 and armhf): set a resource limit
/// of this process. Both the soft and the hard limit are set, and without
/// CAP_SYS_RESOURCE a hard limit cannot be raised again.
pub fn setrlimit(resource: u32, limit: u64) -> Result<(), Errno> {
    let new = k::rlimit64 {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: new is a valid rlimit64; old = NULL.
    decode(unsafe {
        syscall4(
            k::__NR_prlimit64,
            0,
            resource as usize,
            &new as *const k::rlimit64 as usize,
            0,
        )
    })
    .map(drop)
}

/// `getsid(pid)`: the session id of `pid` (0: the caller).
pub fn getsid(pid: Pid) -> Result<Pid, Errno> {
    // SAFETY: no pointers are passed.
    decode(unsafe { syscall1(k::__NR_getsid, pid as usize) }).map(|sid| sid as Pid)
}

/// `setsid()`: start a new session (and process group) led by the caller;
/// EPERM if it already leads a process group.
pub fn setsid() -> Result<Pid, Errno> {
    // SAFETY: no arguments.
    decode(unsafe { syscall0(k::__NR_setsid) }).map(|sid| sid as Pid)
}

/// `getpgid(pid)`: the process group of `pid` (0: the caller).
pub fn getpgid(pid: Pid) -> Result<Pid, Errno> {
    // SAFETY: no pointers are passed.
    decode(unsafe { syscall1(k::__NR_getpgid, pid as usize) }).map(|pgid| pgid as Pid)
}

/// `setpgid(pid, pgid)`: move `pid` (0: the caller) into process group `pgid`
/// (0: a new group with its own id).
pub fn setpgid(pid: Pid, pgid: Pid) -> Result<(), Errno> {
    // SAFETY: no pointers are passed.
    decode(unsafe { syscall2(k::__NR_setpgid, pid as usize, pgid as usize) }).map(drop)
}

/// The clock_nanosleep that reads a 64-bit `__kernel_timespec`: the call
/// itself on 64-bit arches, `clock_nanosleep_time64` (Linux 5.1) on 32-bit
/// ones, whose `clock_nanosleep` reads the old 32-bit timespec.
#[cfg(target_pointer_width = "64")]
const NR_CLOCK_NANOSLEEP_TIME64: u32 = k::__NR_clock_nanosleep;
#[cfg(target_pointer_width = "32")]
const NR_CLOCK_NANOSLEEP_TIME64: u32 = k::__NR_clock_nanosleep_time64;

/// `nanosleep(duration)` (as `clock_nanosleep(CLOCK_MONOTONIC, 0, ...)`):
/// sleep; a signal handler cuts it short with EINTR. A duration of more than
/// `i64::MAX` seconds is EINVAL.
pub fn nanosleep(duration: core::time::Duration) -> Result<(), Errno> {
    let request = k::__kernel_timespec {
        tv_sec: duration.as_secs() as _,
        tv_nsec: duration.subsec_nanos() as _,
    };
    // SAFETY: request is a valid timespec; remain = NULL.
    decode(unsafe {
        syscall4(
            NR_CLOCK_NANOSLEEP_TIME64,
            k::CLOCK_MONOTONIC as usize,
            0,
            &request as *const k::__kernel_timespec as usize,
            0,
        )
    })
    .map(drop)
}

/// `ptrace(request, pid, addr, data)`, the raw syscall: `PTRACE_PEEK*` store
/// the word at `data` (glibc's wrapper returns it instead).
///
/// # Safety
/// `addr` and `data` must be what `request` expects: where the kernel reads
/// or writes through them, valid memory of the right size; `PTRACE_POKE*`
/// and `PTRACE_SETREGSET` change the tracee, which must be ours to change.
pub unsafe fn ptrace(request: u32, pid: Pid, addr: usize, data: usize) -> Result<usize, Errno> {
    // SAFETY: the caller vouches for addr and data.
    decode(unsafe { syscall4(k::__NR_ptrace, request as usize, pid as usize, addr, data) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// fork's child is a plain SIGCHLD child: a plain `wait4(pid, 0)` reaps it
    /// with the status it exited with. With clone's arguments in the wrong
    /// order (s390x takes the stack first) the child would get exit signal 0
    /// and a stack pointer of 17, and this wait would fail with ECHILD.
    #[test]
    fn fork_child_is_a_plain_sigchld_child() {
        // SAFETY: the child makes one async-signal-safe call, exit_group.
        match unsafe { fork() }.expect("fork") {
            None => exit_group(7),
            Some(pid) => {
                let (reaped, status) = loop {
                    match wait4(pid, 0) {
                        Err(Errno::EINTR) => continue,
                        other => break other.expect("a plain wait4 reaps fork's child"),
                    }
                };
                assert_eq!(reaped, pid);
                assert_eq!(status, 7 << 8, "the child exited with status 7");
            }
        }
    }
}
