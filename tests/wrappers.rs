//! The wrappers an outside program needs beyond clone: sessions and process
//! groups, capabilities, ids, statx, sleeping, probing a pid, fds that close
//! themselves. Each test observes the call's effect, not only its return.

use crate::common;

use clonelab::sys::consts::{O_CLOEXEC, O_RDONLY, STATX_BASIC_STATS};
use clonelab::sys::{self, Kcmp};
use clonelab::{probe, spawn, CloneFlags, Errno, ExitSignal, FlagsWord, Signal, WaitStatus};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

fn sigchld() -> FlagsWord {
    FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD)
}

/// Two pipes: the child says "ready" on one and waits for "go" on the other,
/// so the parent can look at it between the two.
struct Handshake {
    ready: (sys::OwnedFd, sys::OwnedFd),
    go: (sys::OwnedFd, sys::OwnedFd),
}

impl Handshake {
    fn new() -> Handshake {
        Handshake {
            ready: sys::pipe(O_CLOEXEC).unwrap(),
            go: sys::pipe(O_CLOEXEC).unwrap(),
        }
    }

    /// Child: say ready, then wait for go (or for the parent's end to close,
    /// if the parent's test fails first: the child keeps no copy of it).
    fn child_ready_then_wait(&self) {
        // SAFETY: this is the child's own copy of the go pipe's write end,
        // in its own descriptor table and memory; it is never used or dropped
        // again here (the child exits without dropping what it borrows).
        let _ = unsafe { sys::close(self.go.1.as_raw()) };
        let _ = sys::write(self.ready.1.as_fd(), b"r");
        let mut byte = [0u8; 1];
        let _ = sys::read(self.go.0.as_fd(), &mut byte);
    }

    /// Parent: wait for ready.
    fn wait_ready(&self) {
        let mut byte = [0u8; 1];
        assert_eq!(sys::read(self.ready.0.as_fd(), &mut byte), Ok(1));
    }

    /// Parent: let the child go on.
    fn go(&self) {
        assert_eq!(sys::write(self.go.1.as_fd(), b"g"), Ok(1));
    }
}

/// setsid makes the child a session and group leader: the parent sees the
/// child's pid as its session and group (getsid/getpgid from outside).
#[test]
fn setsid_makes_a_session_the_parent_can_see() {
    let hand = Handshake::new();
    let mut child = spawn(sigchld(), || {
        let made = sys::setsid();
        hand.child_ready_then_wait();
        (made == Ok(sys::getpid())) as i32
    })
    .unwrap();
    hand.wait_ready();
    let pid = child.pid();
    assert_eq!(sys::getsid(pid), Ok(pid), "the child leads a session");
    assert_eq!(sys::getpgid(pid), Ok(pid), "and its process group");
    assert_ne!(sys::getsid(0), Ok(pid), "ours is unchanged");
    hand.go();
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(1));
}

/// setpgid(0, 0) puts the child in a group of its own, seen from outside.
#[test]
fn setpgid_moves_the_child_into_its_own_group() {
    let hand = Handshake::new();
    let mut child = spawn(sigchld(), || {
        let moved = sys::setpgid(0, 0).is_ok() as i32;
        hand.child_ready_then_wait();
        moved
    })
    .unwrap();
    hand.wait_ready();
    assert_eq!(sys::getpgid(child.pid()), Ok(child.pid()));
    assert_ne!(sys::getpgid(0), Ok(child.pid()));
    hand.go();
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(1));
}

/// capget reads what /proc says; a child that drops CAP_SYS_ADMIN with
/// capset can no longer unshare a UTS namespace (EPERM), one that keeps it can.
#[test]
fn capset_drop_takes_effect() {
    const CAP_SYS_ADMIN: u32 = 21;
    let caps = sys::capget(0).unwrap();
    let mut buf = [0u8; 4096];
    let status = probe::read_file(c"/proc/self/status", &mut buf).unwrap();
    let status = String::from_utf8_lossy(status);
    let cap_eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:\t"))
        .map(|hex| u64::from_str_radix(hex.trim(), 16).unwrap());
    assert_eq!(Some(caps.effective), cap_eff, "capget agrees with /proc");
    if !caps.has_effective(CAP_SYS_ADMIN) {
        return common::skip("needs CAP_SYS_ADMIN to show it being dropped");
    }
    let unshare_after = |drop_it: bool| {
        let mut child = spawn(sigchld(), move || {
            if drop_it {
                let mut less = sys::capget(0).unwrap_or_default();
                less.effective &= !(1 << CAP_SYS_ADMIN);
                if sys::capset(less).is_err() {
                    return 9;
                }
            }
            match sys::unshare(CloneFlags::CLONE_NEWUTS) {
                Ok(()) => 0,
                Err(e) if e.errno() == Some(Errno::EPERM) => 1,
                Err(_) => 2,
            }
        })
        .unwrap();
        child.wait().unwrap()
    };
    assert_eq!(unshare_after(false), WaitStatus::Exited(0));
    assert_eq!(unshare_after(true), WaitStatus::Exited(1));
}

/// The id getters agree with libc's (dev-dependency: the peer we check against).
#[test]
fn ids_match_libc() {
    // SAFETY: these libc calls read the caller's ids.
    let (uid, euid, gid, egid) = unsafe {
        (
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    };
    assert_eq!(
        (sys::getuid(), sys::geteuid(), sys::getgid(), sys::getegid()),
        (uid, euid, gid, egid)
    );
}

/// statx and file_identity name the file std's metadata names.
#[test]
fn statx_names_the_same_file_as_std() {
    let meta = std::fs::metadata("/proc/self/exe").unwrap();
    let stx = sys::statx(c"/proc/self/exe", STATX_BASIC_STATS).unwrap();
    assert_eq!(stx.stx_ino, meta.ino());
    assert_eq!(stx.stx_size, meta.size());
    let (_, ino) = probe::file_identity(c"/proc/self/exe").unwrap();
    assert_eq!(ino, meta.ino());
}

/// nanosleep sleeps at least as long as asked.
#[test]
fn nanosleep_sleeps() {
    let start = Instant::now();
    sys::nanosleep(Duration::from_millis(30)).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(30));
}

/// kill_probe finds a live child and, once it is reaped, says ESRCH.
#[test]
fn kill_probe_tells_live_from_gone() {
    let hand = Handshake::new();
    let mut child = spawn(sigchld(), || {
        hand.child_ready_then_wait();
        0
    })
    .unwrap();
    assert_eq!(sys::kill_probe(child.pid()), Ok(()));
    child.kill(Signal::SIGKILL).unwrap();
    assert!(common::killed_by(
        child.wait().unwrap(),
        Signal::SIGKILL.number()
    ));
    assert_eq!(sys::kill_probe(child.pid()), Err(Errno::ESRCH));
}

/// An OwnedFd closes its descriptor when dropped; into_raw hands it over open.
#[test]
fn owned_fd_closes_on_drop() {
    // A file no one else opens, so a descriptor number reused by another
    // test thread cannot look like ours.
    let path = std::env::temp_dir().join(format!("clonelab-owned-fd-{}", sys::getpid()));
    std::fs::write(&path, b"").unwrap();
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let names_ours =
        |raw: i32| std::fs::read_link(format!("/proc/self/fd/{raw}")).ok() == Some(path.clone());
    let fd = sys::open(&c_path, O_RDONLY | O_CLOEXEC, 0).unwrap();
    let raw = fd.as_raw();
    assert!(names_ours(raw));
    drop(fd);
    assert!(!names_ours(raw), "closed on drop");
    let raw = sys::open(&c_path, O_RDONLY | O_CLOEXEC, 0)
        .unwrap()
        .into_raw();
    assert!(names_ours(raw), "into_raw keeps it open");
    // SAFETY: into_raw handed us the descriptor.
    unsafe { sys::close(raw) }.unwrap();
    std::fs::remove_file(&path).unwrap();
}

/// kcmp's I/O-context comparison tells a CLONE_IO child from a plain one.
///
/// A task has an I/O context only once it needs one; a child without CLONE_IO
/// gets its own copy when the parent's carries an I/O priority. So a helper
/// child first sets its priority (ioprio_set, through libc: the peer), then
/// compares its two children: exit 3 = shared with CLONE_IO, apart without.
#[test]
fn kcmp_io_follows_clone_io() {
    let shares_io = |flags: CloneFlags| {
        let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
        let hand = Handshake::new();
        let mut child = spawn(word, || {
            hand.child_ready_then_wait();
            0
        })
        .ok()?;
        hand.wait_ready();
        let same = sys::kcmp(sys::getpid(), child.pid(), Kcmp::Io);
        hand.go();
        child.wait().ok()?;
        Some(same)
    };
    let mut helper = spawn(sigchld(), || {
        // c_long: syscall(2) is variadic, its arguments are machine words.
        const IOPRIO_WHO_PROCESS: libc::c_long = 1;
        const BEST_EFFORT_LEVEL_4: libc::c_long = (2 << 13) | 4;
        // SAFETY: ioprio_set takes no pointers; it changes only this helper.
        unsafe {
            libc::syscall(
                libc::SYS_ioprio_set,
                IOPRIO_WHO_PROCESS,
                0,
                BEST_EFFORT_LEVEL_4,
            )
        };
        let with = shares_io(CloneFlags::CLONE_IO) == Some(Ok(0));
        let without = matches!(shares_io(CloneFlags::EMPTY), Some(Ok(n)) if n != 0);
        with as i32 | (without as i32) << 1
    })
    .unwrap();
    assert_eq!(helper.wait().unwrap(), WaitStatus::Exited(3));
}

/// clone3_raw passes a pointer the kernel cannot read (a PROT_NONE page, and
/// null) straight through, and the kernel answers EFAULT.
#[test]
fn clone3_raw_bad_pointer_is_efault() {
    use clonelab::clone::clone3_raw;
    use clonelab::sys::consts::{MAP_PRIVATE, PROT_NONE};
    let page = sys::mmap_anonymous(4096, PROT_NONE, MAP_PRIVATE).unwrap();
    for pointer in [page, std::ptr::null_mut()] {
        // SAFETY: the kernel cannot read either pointer, so it creates nothing.
        let made = unsafe {
            clone3_raw(
                pointer.cast(),
                std::mem::size_of::<clonelab::CloneArgs>(),
                common::exit_zero,
                std::ptr::null_mut(),
            )
        };
        if common::qemu_user_cannot(&made, "clone3") {
            return;
        }
        assert_eq!(made.unwrap_err().errno(), Some(Errno::EFAULT));
    }
    // SAFETY: the page is ours and unused.
    unsafe { sys::munmap(page, 4096) }.unwrap();
}

/// The safe unshare refuses CLONE_FILES (a private descriptor table would
/// let an OwnedFd close another table's descriptor), naming the unsafe one.
#[test]
fn unshare_refuses_clone_files() {
    match sys::unshare(CloneFlags::CLONE_FILES | CloneFlags::CLONE_FS) {
        Err(clonelab::Error::FlagNotAllowed(r)) => {
            assert_eq!(r.flag(), "CLONE_FILES");
            assert!(r.why().contains("unshare_unchecked"));
        }
        other => panic!("{other:?}"),
    }
}
