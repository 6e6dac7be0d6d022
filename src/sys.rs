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

pub mod signal;

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

/// The futex call that reads a 64-bit `__kernel_timespec`: `futex` itself on
/// 64-bit arches; on 32-bit ones `futex` reads the old 32-bit timespec and
/// `futex_time64` (Linux 5.1) the 64-bit one.
#[cfg(target_pointer_width = "64")]
const NR_FUTEX_TIME64: u32 = k::__NR_futex;
#[cfg(target_pointer_width = "32")]
const NR_FUTEX_TIME64: u32 = k::__NR_futex_time64;

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
            NR_FUTEX_TIME64,
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
/// child). Prefer [`crate::spawn()`], which runs a closure instead of returning twice.
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

/// `read(fd, buf)`: returns the number of bytes read.
pub fn read(fd: c_int, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is valid for buf.len() bytes of writing.
    decode(unsafe {
        syscall3(
            k::__NR_read,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    })
}

/// Read a whole (small) file into `buf`; returns the part filled.
pub fn read_file<'a>(path: &core::ffi::CStr, buf: &'a mut [u8]) -> Result<&'a [u8], Errno> {
    let fd = open(path, k::O_RDONLY | k::O_CLOEXEC, 0)?;
    let mut filled = 0;
    let result = loop {
        match read(fd, &mut buf[filled..]) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                filled += n;
                if filled == buf.len() {
                    break Ok(());
                }
            }
            Err(Errno::EINTR) => {}
            Err(e) => break Err(e),
        }
    };
    // SAFETY: fd was opened above and is ours.
    let _ = unsafe { close(fd) };
    result.map(|()| &buf[..filled])
}

/// `readlinkat(AT_FDCWD, path, buf)`: returns the link's target bytes.
pub fn readlink<'a>(path: &core::ffi::CStr, buf: &'a mut [u8]) -> Result<&'a [u8], Errno> {
    // SAFETY: path is a C string; buf is writable for its length.
    let n = decode(unsafe {
        syscall4(
            k::__NR_readlinkat,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    })?;
    Ok(&buf[..n])
}

/// `statx(AT_FDCWD, path, 0, STATX_BASIC_STATS)`: returns `(st_dev, st_ino)`,
/// the identity of a file — and of a namespace, for `/proc/self/ns/*`.
pub fn file_identity(path: &core::ffi::CStr) -> Result<(u64, u64), Errno> {
    // SAFETY: statx is plain old data; zeroes are a valid value.
    let mut stx: k::statx = unsafe { core::mem::zeroed() };
    // SAFETY: path is a C string; stx is writable.
    decode(unsafe {
        syscall5(
            k::__NR_statx,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            0,
            k::STATX_BASIC_STATS as usize,
            &mut stx as *mut k::statx as usize,
        )
    })?;
    let dev = ((stx.stx_dev_major as u64) << 32) | stx.stx_dev_minor as u64;
    Ok((dev, stx.stx_ino))
}

/// `chdir(path)`.
pub fn chdir(path: &core::ffi::CStr) -> Result<(), Errno> {
    // SAFETY: path is a C string.
    decode(unsafe { syscall1(k::__NR_chdir, path.as_ptr() as usize) }).map(drop)
}

/// `getcwd(buf)`: the current directory, without its NUL.
pub fn getcwd(buf: &mut [u8]) -> Result<&[u8], Errno> {
    // SAFETY: buf is writable for its length.
    let n = decode(unsafe { syscall2(k::__NR_getcwd, buf.as_mut_ptr() as usize, buf.len()) })?;
    Ok(&buf[..n.saturating_sub(1)])
}

/// `umask(mask)`: sets the mask, returns the previous one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask has no pointers and cannot fail.
    unsafe { syscall1(k::__NR_umask, mask as usize) as u32 }
}

/// `geteuid()`.
pub fn geteuid() -> u32 {
    // SAFETY: reads kernel state only.
    unsafe { syscall0_readonly(k::__NR_geteuid) as u32 }
}

/// `getuid()`.
pub fn getuid() -> u32 {
    // SAFETY: reads kernel state only.
    unsafe { syscall0_readonly(k::__NR_getuid) as u32 }
}

/// `fcntl(fd, F_GETFD)`: Ok if `fd` is open in this process's table.
pub fn fd_is_open(fd: c_int) -> bool {
    // SAFETY: F_GETFD reads a descriptor's flags only.
    decode(unsafe { syscall2(k::__NR_fcntl, fd as usize, k::F_GETFD as usize) }).is_ok()
}

/// `sethostname(name)`.
pub fn sethostname(name: &[u8]) -> Result<(), Errno> {
    // SAFETY: name is readable for its length.
    decode(unsafe { syscall2(k::__NR_sethostname, name.as_ptr() as usize, name.len()) }).map(drop)
}

/// `uname()`'s nodename (the hostname), copied into `buf`.
pub fn hostname(buf: &mut [u8; 65]) -> Result<&[u8], Errno> {
    // SAFETY: new_utsname is plain old data.
    let mut uts: linux_raw_sys::system::new_utsname = unsafe { core::mem::zeroed() };
    // SAFETY: uts is writable.
    decode(unsafe { syscall1(k::__NR_uname, &mut uts as *mut _ as usize) })?;
    let len = uts.nodename.iter().position(|&c| c == 0).unwrap_or(64);
    for (dst, &src) in buf.iter_mut().zip(&uts.nodename[..len]) {
        *dst = src as u8;
    }
    Ok(&buf[..len])
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
    /// Same System V semaphore undo list (CLONE_SYSVSEM).
    Sysvsem = 6,
}

/// `mkdirat(AT_FDCWD, path, mode)`; EEXIST is success.
pub fn mkdir(path: &core::ffi::CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: path is a C string.
    match decode(unsafe {
        syscall3(
            k::__NR_mkdirat,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            mode as usize,
        )
    }) {
        Ok(_) | Err(Errno::EEXIST) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `unlinkat(AT_FDCWD, path, AT_REMOVEDIR)`: remove an empty directory.
pub fn rmdir(path: &core::ffi::CStr) -> Result<(), Errno> {
    // SAFETY: path is a C string.
    decode(unsafe {
        syscall3(
            k::__NR_unlinkat,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            k::AT_REMOVEDIR as usize,
        )
    })
    .map(drop)
}

/// Whether interface `name` (e.g. `b"lo"`) is up, via `SIOCGIFFLAGS` on a
/// datagram socket; ENODEV if this network namespace has no such interface.
pub fn interface_is_up(name: &[u8]) -> Result<bool, Errno> {
    use linux_raw_sys::net;
    // SAFETY: socket takes no pointers.
    let sock = decode(unsafe {
        syscall3(
            k::__NR_socket,
            net::AF_INET as usize,
            (net::SOCK_DGRAM | k::O_CLOEXEC) as usize,
            0,
        )
    })? as c_int;
    // SAFETY: ifreq is plain old data.
    let mut req: net::ifreq = unsafe { core::mem::zeroed() };
    // SAFETY: writing the name into the union's name member (16 bytes, NUL-padded).
    unsafe {
        for (dst, &src) in req.ifr_ifrn.ifrn_name.iter_mut().zip(name.iter().take(15)) {
            *dst = src as _;
        }
    }
    // SAFETY: req is a valid ifreq for SIOCGIFFLAGS to fill.
    let result = decode(unsafe {
        syscall3(
            k::__NR_ioctl,
            sock as usize,
            linux_raw_sys::ioctl::SIOCGIFFLAGS as usize,
            &mut req as *mut net::ifreq as usize,
        )
    });
    // SAFETY: sock was created above and is ours.
    let _ = unsafe { close(sock) };
    result?;
    // SAFETY: SIOCGIFFLAGS filled the flags member.
    let flags = unsafe { req.ifr_ifru.ifru_flags } as u32;
    Ok(flags & net::net_device_flags::IFF_UP as u32 != 0)
}

/// `unlinkat(AT_FDCWD, path, 0)`: remove a file.
pub fn unlink(path: &core::ffi::CStr) -> Result<(), Errno> {
    // SAFETY: path is a C string.
    decode(unsafe {
        syscall3(
            k::__NR_unlinkat,
            k::AT_FDCWD as usize,
            path.as_ptr() as usize,
            0,
        )
    })
    .map(drop)
}

/// `setresuid(uid, uid, uid)` for the calling *thread* (raw syscalls do not
/// broadcast credentials to other threads the way libc's wrapper does).
pub fn set_uid(uid: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    decode(unsafe { syscall3(k::__NR_setresuid, uid as usize, uid as usize, uid as usize) })
        .map(drop)
}

/// `setresgid(gid, gid, gid)` for the calling thread.
pub fn set_gid(gid: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    decode(unsafe { syscall3(k::__NR_setresgid, gid as usize, gid as usize, gid as usize) })
        .map(drop)
}

/// `prlimit64(0, resource, {limit, limit}, NULL)`: set a resource limit of this process.
pub fn set_rlimit(resource: u32, limit: u64) -> Result<(), Errno> {
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

/// The running kernel's (major, minor) version, from `uname().release`.
pub fn kernel_version() -> Option<(u32, u32)> {
    // SAFETY: new_utsname is plain old data.
    let mut uts: linux_raw_sys::system::new_utsname = unsafe { core::mem::zeroed() };
    // SAFETY: uts is writable.
    decode(unsafe { syscall1(k::__NR_uname, &mut uts as *mut _ as usize) }).ok()?;
    let release = uts.release.map(|c| c as u8);
    let mut parts = release.split(|&b| b == b'.' || b == 0 || b == b'-');
    let number = |p: Option<&[u8]>| core::str::from_utf8(p?).ok()?.parse().ok();
    Some((number(parts.next())?, number(parts.next())?))
}

/// `pivot_root(new_root, put_old)`.
///
/// # Safety
/// Changes the root of every process in the mount namespace that had the old root.
pub unsafe fn pivot_root(
    new_root: &core::ffi::CStr,
    put_old: &core::ffi::CStr,
) -> Result<(), Errno> {
    // SAFETY: C strings; the caller owns the mount namespace.
    decode(unsafe {
        syscall2(
            k::__NR_pivot_root,
            new_root.as_ptr() as usize,
            put_old.as_ptr() as usize,
        )
    })
    .map(drop)
}

/// `umount2(target, flags)`.
///
/// # Safety
/// Removes a mount other code may be using.
pub unsafe fn umount2(target: &core::ffi::CStr, flags: u32) -> Result<(), Errno> {
    // SAFETY: a C string; the caller owns the mount.
    decode(unsafe { syscall2(k::__NR_umount2, target.as_ptr() as usize, flags as usize) }).map(drop)
}

/// `pipe2(flags)`: (read end, write end).
pub fn pipe(flags: u32) -> Result<(c_int, c_int), Errno> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: fds has room for two descriptors.
    decode(unsafe { syscall2(k::__NR_pipe2, fds.as_mut_ptr() as usize, flags as usize) })?;
    Ok((fds[0], fds[1]))
}

/// `signalfd4(-1, set, O_CLOEXEC)`: a descriptor from which the (blocked)
/// signals in `set` are read as 128-byte `signalfd_siginfo` records.
pub fn signalfd(set: signal::SigSet) -> Result<c_int, Errno> {
    let set = set.bits();
    // SAFETY: set is a valid 8-byte sigset.
    decode(unsafe {
        syscall4(
            k::__NR_signalfd4,
            usize::MAX,
            &set as *const u64 as usize,
            8,
            k::O_CLOEXEC as usize,
        )
    })
    .map(|fd| fd as c_int)
}

/// Bring network interface `index` up with a raw netlink `RTM_NEWLINK`
/// request (what `ip link set lo up` sends), and wait for the kernel's ack.
pub fn netlink_link_up(index: i32) -> Result<(), Errno> {
    use linux_raw_sys::net;
    use linux_raw_sys::netlink as nl;
    #[repr(C)]
    struct Request {
        header: nl::nlmsghdr,
        link: nl::ifinfomsg,
    }
    // SAFETY: socket takes no pointers.
    let sock = decode(unsafe {
        syscall3(
            k::__NR_socket,
            net::AF_NETLINK as usize,
            (net::SOCK_RAW | k::O_CLOEXEC) as usize,
            nl::NETLINK_ROUTE as usize,
        )
    })? as c_int;
    let up = net::net_device_flags::IFF_UP as u32;
    let request = Request {
        header: nl::nlmsghdr {
            nlmsg_len: core::mem::size_of::<Request>() as u32,
            nlmsg_type: nl::RTM_NEWLINK as u16,
            nlmsg_flags: (nl::NLM_F_REQUEST | nl::NLM_F_ACK) as u16,
            nlmsg_seq: 1,
            nlmsg_pid: 0,
        },
        link: nl::ifinfomsg {
            ifi_family: 0,
            __ifi_pad: 0,
            ifi_type: 0,
            ifi_index: index,
            ifi_flags: up,
            ifi_change: up,
        },
    };
    let mut reply = [0u64; 128];
    // SAFETY: request and reply are valid for their lengths; a NULL address
    // sends to the kernel.
    let result = decode(unsafe {
        syscall6(
            k::__NR_sendto,
            sock as usize,
            &request as *const Request as usize,
            core::mem::size_of::<Request>(),
            0,
            0,
            0,
        )
    })
    .and_then(|_| {
        // SAFETY: as above.
        decode(unsafe {
            syscall6(
                k::__NR_recvfrom,
                sock as usize,
                reply.as_mut_ptr() as usize,
                1024,
                0,
                0,
                0,
            )
        })
    });
    // SAFETY: sock was created above.
    let _ = unsafe { close(sock) };
    result?;
    // SAFETY: the reply starts with an nlmsghdr; an ack is NLMSG_ERROR with error 0.
    let header = unsafe { &*(reply.as_ptr() as *const nl::nlmsghdr) };
    if header.nlmsg_type as u32 == nl::NLMSG_ERROR {
        // SAFETY: an NLMSG_ERROR payload is an nlmsgerr, right after the header.
        let error = unsafe { &*((reply.as_ptr() as *const u8).add(16) as *const nl::nlmsgerr) };
        if error.error != 0 {
            return Err(Errno::from_raw((-error.error) as u16));
        }
    }
    Ok(())
}

/// `chroot(path)`.
///
/// # Safety
/// Changes the root directory of the calling process.
pub unsafe fn chroot(path: &core::ffi::CStr) -> Result<(), Errno> {
    // SAFETY: a C string.
    decode(unsafe { syscall1(k::__NR_chroot, path.as_ptr() as usize) }).map(drop)
}
