//! Raw syscalls agree with std and with the peer crates.
//!
//! clonelab issues every syscall with its own assembly (x86_64 `syscall`,
//! aarch64 `svc #0`, ...; on ppc64le an out-of-line `sc`) and takes every
//! number from linux-raw-sys. These tests check the
//! results against std, the errno decoding against a known failure, and every
//! number and constant against the `syscalls`, `sc` and `libc` crates, on
//! whichever arch they run (the xtask runs them in each of the six VMs).

use clonelab::{sys, Errno};
use linux_raw_sys::general as k;

/// getpid/getppid through clonelab's asm equal std's answers.
#[test]
fn process_ids_match_std() {
    assert_eq!(sys::getpid() as u32, std::process::id());
    assert_eq!(sys::getppid() as u32, std::os::unix::process::parent_id());
    // gettid differs from getpid in a test thread, equals it in no other way
    // SAFETY: gettid takes no arguments.
    let libc_tid = unsafe { libc::gettid() };
    assert_eq!(sys::gettid(), libc_tid);
}

/// close(-1) fails with EBADF, decoded from -9 and printed with its meaning.
#[test]
fn errno_is_decoded_with_name_and_text() {
    // SAFETY: -1 is no descriptor; nothing is closed.
    let err = unsafe { sys::close(-1) }.unwrap_err();
    assert_eq!(err, Errno::EBADF);
    assert_eq!(err.raw(), libc::EBADF);
    assert_eq!(err.to_string(), "EBADF (Bad file descriptor)");
    assert_eq!(Errno::EINVAL.to_string(), "EINVAL (Invalid argument)");
}

/// The raw arch seam returns a failure as -errno and a success as the value,
/// on every arch: ppc64le's kernel returns +errno with CR0.SO set instead, and
/// its syscall entry must negate it (read raw, EBADF would look like fd 9).
#[test]
fn raw_seam_returns_negative_errno() {
    // SAFETY: -1 is no descriptor; nothing is closed.
    let failed = unsafe { clonelab::arch::syscall1(k::__NR_close, -1isize as usize) };
    assert_eq!(failed as isize, -(linux_raw_sys::errno::EBADF as isize));
    // SAFETY: getpid takes no arguments and touches no memory.
    let pid = unsafe { clonelab::arch::syscall0_readonly(k::__NR_getpid) };
    assert_eq!(pid, std::process::id() as usize);
}

/// write(2) through clonelab writes the bytes (seen through a pipe).
#[test]
fn write_reaches_a_pipe() {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe writes.
    let piped = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(piped, 0);
    // SAFETY: fds[1] stays open until the close below.
    let writer = unsafe { clonelab::BorrowedFd::borrow_raw(fds[1]) };
    assert_eq!(sys::write(writer, b"clone"), Ok(5));
    let mut buf = [0u8; 8];
    // SAFETY: buf is writable for its length.
    let n = unsafe { libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(&buf[..n as usize], b"clone");
    // SAFETY: both descriptors came from the pipe above and are ours.
    unsafe {
        sys::close(fds[0]).unwrap();
        sys::close(fds[1]).unwrap()
    };
}

/// sc's number for this arch, where sc builds (its other ports still use the
/// removed `llvm_asm!`; there syscalls and libc are the peers).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
macro_rules! sc_nr {
    ($name:ident) => {
        Some(sc::nr::$name)
    };
}
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
macro_rules! sc_nr {
    ($name:ident) => {
        None
    };
}

/// The syscalls crate's number for this arch, where it builds on stable Rust
/// (on s390x and ppc64 it needs nightly inline assembly; there linux-raw-sys
/// is checked against libc, and sc where it builds).
#[cfg(not(any(target_arch = "s390x", target_arch = "powerpc64")))]
macro_rules! syscalls_nr {
    ($name:ident) => {
        Some(syscalls::Sysno::$name as u32)
    };
}
#[cfg(any(target_arch = "s390x", target_arch = "powerpc64"))]
macro_rules! syscalls_nr {
    ($name:ident) => {
        None
    };
}

/// The mapping call clonelab makes: `mmap`, or on i386 and armhf `mmap2`
/// (offset in pages; i386's `mmap` is the old one-pointer form, arm has none).
#[cfg(not(any(target_arch = "x86", target_arch = "arm")))]
const MMAP_ROW: (&str, u32, Option<u32>, Option<usize>) =
    ("mmap", k::__NR_mmap, syscalls_nr!(mmap), sc_nr!(MMAP));
#[cfg(any(target_arch = "x86", target_arch = "arm"))]
const MMAP_ROW: (&str, u32, Option<u32>, Option<usize>) =
    ("mmap2", k::__NR_mmap2, syscalls_nr!(mmap2), None);

/// Every syscall number clonelab uses equals the peers' value for this arch.
#[test]
fn syscall_numbers_match_syscalls_and_sc() {
    let table: &[(&str, u32, Option<u32>, Option<usize>)] = &[
        ("clone", k::__NR_clone, syscalls_nr!(clone), sc_nr!(CLONE)),
        (
            "clone3",
            k::__NR_clone3,
            syscalls_nr!(clone3),
            sc_nr!(CLONE3),
        ),
        ("exit", k::__NR_exit, syscalls_nr!(exit), sc_nr!(EXIT)),
        (
            "exit_group",
            k::__NR_exit_group,
            syscalls_nr!(exit_group),
            sc_nr!(EXIT_GROUP),
        ),
        ("wait4", k::__NR_wait4, syscalls_nr!(wait4), sc_nr!(WAIT4)),
        (
            "waitid",
            k::__NR_waitid,
            syscalls_nr!(waitid),
            sc_nr!(WAITID),
        ),
        MMAP_ROW,
        (
            "munmap",
            k::__NR_munmap,
            syscalls_nr!(munmap),
            sc_nr!(MUNMAP),
        ),
        (
            "mprotect",
            k::__NR_mprotect,
            syscalls_nr!(mprotect),
            sc_nr!(MPROTECT),
        ),
        (
            "getpid",
            k::__NR_getpid,
            syscalls_nr!(getpid),
            sc_nr!(GETPID),
        ),
        (
            "getppid",
            k::__NR_getppid,
            syscalls_nr!(getppid),
            sc_nr!(GETPPID),
        ),
        (
            "gettid",
            k::__NR_gettid,
            syscalls_nr!(gettid),
            sc_nr!(GETTID),
        ),
        ("close", k::__NR_close, syscalls_nr!(close), sc_nr!(CLOSE)),
        ("write", k::__NR_write, syscalls_nr!(write), sc_nr!(WRITE)),
        ("kill", k::__NR_kill, syscalls_nr!(kill), sc_nr!(KILL)),
        ("futex", k::__NR_futex, syscalls_nr!(futex), sc_nr!(FUTEX)),
        (
            "sched_yield",
            k::__NR_sched_yield,
            syscalls_nr!(sched_yield),
            sc_nr!(SCHED_YIELD),
        ),
    ];
    for &(name, ours, peer_syscalls, peer_sc) in table {
        if let Some(peer_syscalls) = peer_syscalls {
            assert_eq!(ours, peer_syscalls, "{name}: linux-raw-sys vs syscalls");
        }
        if let Some(peer_sc) = peer_sc {
            assert_eq!(ours as usize, peer_sc, "{name}: linux-raw-sys vs sc");
        }
        assert_eq!(
            ours as libc::c_long,
            libc_number(name),
            "{name}: linux-raw-sys vs libc"
        );
    }
}

fn libc_number(name: &str) -> libc::c_long {
    match name {
        "clone" => libc::SYS_clone,
        "clone3" => libc::SYS_clone3,
        "exit" => libc::SYS_exit,
        "exit_group" => libc::SYS_exit_group,
        "wait4" => libc::SYS_wait4,
        "waitid" => libc::SYS_waitid,
        #[cfg(not(any(target_arch = "x86", target_arch = "arm")))]
        "mmap" => libc::SYS_mmap,
        #[cfg(any(target_arch = "x86", target_arch = "arm"))]
        "mmap2" => libc::SYS_mmap2,
        "munmap" => libc::SYS_munmap,
        "mprotect" => libc::SYS_mprotect,
        "getpid" => libc::SYS_getpid,
        "getppid" => libc::SYS_getppid,
        "gettid" => libc::SYS_gettid,
        "close" => libc::SYS_close,
        "write" => libc::SYS_write,
        "kill" => libc::SYS_kill,
        "futex" => libc::SYS_futex,
        "sched_yield" => libc::SYS_sched_yield,
        _ => unreachable!("{name} missing from the libc table"),
    }
}

/// Every arch's numbers, from syscalls' per-arch tables, as the docs print them.
#[cfg(not(any(target_arch = "s390x", target_arch = "powerpc64")))]
#[test]
fn both_arches_clone_numbers_as_documented() {
    // i386, armhf, ppc64le and s390x share clone's number, and every arch clone3's.
    for (clone, clone3) in [
        (
            syscalls::x86::Sysno::clone as u32,
            syscalls::x86::Sysno::clone3 as u32,
        ),
        (
            syscalls::arm::Sysno::clone as u32,
            syscalls::arm::Sysno::clone3 as u32,
        ),
        (
            syscalls::powerpc64::Sysno::clone as u32,
            syscalls::powerpc64::Sysno::clone3 as u32,
        ),
        (
            syscalls::s390x::Sysno::clone as u32,
            syscalls::s390x::Sysno::clone3 as u32,
        ),
    ] {
        assert_eq!((clone, clone3), (120, 435));
    }
    assert_eq!(syscalls::x86_64::Sysno::clone as u32, 56);
    assert_eq!(syscalls::aarch64::Sysno::clone as u32, 220);
    assert_eq!(syscalls::x86_64::Sysno::clone3 as u32, 435);
    assert_eq!(syscalls::aarch64::Sysno::clone3 as u32, 435);
    assert_eq!(syscalls::x86_64::Sysno::exit as u32, 60);
    assert_eq!(syscalls::aarch64::Sysno::exit as u32, 93);
}

/// Every CLONE_* value in clonelab's table equals libc's (syscalls and sc have none).
#[test]
fn clone_flag_values_match_libc() {
    use clonelab::flags::ALL_FLAGS;
    let libc_value = |name: &str| -> u64 {
        (match name {
            "CLONE_NEWTIME" => libc::CLONE_NEWTIME as i64,
            "CLONE_VM" => libc::CLONE_VM as i64,
            "CLONE_FS" => libc::CLONE_FS as i64,
            "CLONE_FILES" => libc::CLONE_FILES as i64,
            "CLONE_SIGHAND" => libc::CLONE_SIGHAND as i64,
            "CLONE_PIDFD" => libc::CLONE_PIDFD as i64,
            "CLONE_PTRACE" => libc::CLONE_PTRACE as i64,
            "CLONE_VFORK" => libc::CLONE_VFORK as i64,
            "CLONE_PARENT" => libc::CLONE_PARENT as i64,
            "CLONE_THREAD" => libc::CLONE_THREAD as i64,
            "CLONE_NEWNS" => libc::CLONE_NEWNS as i64,
            "CLONE_SYSVSEM" => libc::CLONE_SYSVSEM as i64,
            "CLONE_SETTLS" => libc::CLONE_SETTLS as i64,
            "CLONE_PARENT_SETTID" => libc::CLONE_PARENT_SETTID as i64,
            "CLONE_CHILD_CLEARTID" => libc::CLONE_CHILD_CLEARTID as i64,
            "CLONE_DETACHED" => libc::CLONE_DETACHED as i64,
            "CLONE_UNTRACED" => libc::CLONE_UNTRACED as i64,
            "CLONE_CHILD_SETTID" => libc::CLONE_CHILD_SETTID as i64,
            "CLONE_NEWCGROUP" => libc::CLONE_NEWCGROUP as i64,
            "CLONE_NEWUTS" => libc::CLONE_NEWUTS as i64,
            "CLONE_NEWIPC" => libc::CLONE_NEWIPC as i64,
            "CLONE_NEWUSER" => libc::CLONE_NEWUSER as i64,
            "CLONE_NEWPID" => libc::CLONE_NEWPID as i64,
            "CLONE_NEWNET" => libc::CLONE_NEWNET as i64,
            "CLONE_IO" => libc::CLONE_IO as u32 as i64,
            other => panic!("{other} missing from the libc table"),
        }) as u64
    };
    // libc (0.2.191, gnu targets) declares these two as `c_int = 0x1_0000_0000`
    // and `0x2_0000_0000`: the values do not fit and truncate to 0, so libc
    // cannot vouch for them. linux-raw-sys has them right (bits 32 and 33).
    let libc_truncates = ["CLONE_CLEAR_SIGHAND", "CLONE_INTO_CGROUP"];
    for (name, flag, _) in ALL_FLAGS {
        if libc_truncates.contains(name) {
            assert!(flag.bits() >> 32 != 0, "{name} lives above bit 31");
            continue;
        }
        assert_eq!(flag.bits(), libc_value(name), "{name}");
    }
    assert_eq!(ALL_FLAGS.len(), 27, "a CLONE_* flag was added or lost");
}

/// The errno values clonelab names equal the syscalls crate's.
#[cfg(not(any(target_arch = "s390x", target_arch = "powerpc64")))]
#[test]
fn errno_values_match_syscalls() {
    for (ours, theirs) in [
        (Errno::EPERM, syscalls::Errno::EPERM),
        (Errno::EINVAL, syscalls::Errno::EINVAL),
        (Errno::EAGAIN, syscalls::Errno::EAGAIN),
        (Errno::ENOSYS, syscalls::Errno::ENOSYS),
        (Errno::ECHILD, syscalls::Errno::ECHILD),
        (Errno::EEXIST, syscalls::Errno::EEXIST),
        (Errno::EBUSY, syscalls::Errno::EBUSY),
        (Errno::E2BIG, syscalls::Errno::E2BIG),
        (Errno::ENOSPC, syscalls::Errno::ENOSPC),
        (Errno::EUSERS, syscalls::Errno::EUSERS),
    ] {
        assert_eq!(ours.raw(), theirs.into_raw(), "{ours:?}");
    }
}
