//! The wrappers an outside program needs beyond clone: sessions and process
//! groups, capabilities, ids, statx, sleeping, probing a pid, fds that close
//! themselves. Each test observes the call's effect, not only its return.

use crate::common;

use clonelab::sys::consts::{FD_CLOEXEC, O_CLOEXEC, O_RDONLY, STATX_BASIC_STATS};
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
/// Ids above 65535 survive a round trip: on i386 and armhf the plain
/// `getuid`/`setresuid` syscalls carry 16-bit ids, so clonelab must use the
/// `*32` ones there (a 16-bit call would give back 65534 or a truncated id).
#[test]
fn ids_above_16_bits_round_trip() {
    if sys::geteuid() != 0 {
        return common::skip("setting another uid needs root (CAP_SETUID)");
    }
    const ID: u32 = 100_000;
    let mut child = spawn(sigchld(), || {
        if sys::setresgid(ID, ID, ID).is_err() || sys::setresuid(ID, ID, ID).is_err() {
            return 3;
        }
        let got = [sys::getuid(), sys::geteuid(), sys::getgid(), sys::getegid()];
        i32::from(got != [ID; 4])
    })
    .unwrap();
    assert_eq!(
        child.wait().unwrap(),
        WaitStatus::Exited(0),
        "1: an id came back other than {ID}; 3: setresuid/setresgid refused it"
    );
}

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

/// A file only this test opens, so that a descriptor number another test
/// thread reuses cannot look like ours; removed when dropped.
struct OwnFile {
    path: std::path::PathBuf,
    c_path: std::ffi::CString,
}

impl OwnFile {
    fn new(tag: &str) -> OwnFile {
        let path = std::env::temp_dir().join(format!("clonelab-{tag}-{}", sys::getpid()));
        std::fs::write(&path, b"").unwrap();
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        OwnFile { path, c_path }
    }

    fn open(&self, flags: u32) -> sys::OwnedFd {
        sys::open(&self.c_path, O_RDONLY | flags, 0).unwrap()
    }

    /// Whether descriptor `raw` of this process is this file.
    fn is(&self, raw: i32) -> bool {
        std::fs::read_link(format!("/proc/self/fd/{raw}")).ok() == Some(self.path.clone())
    }
}

impl Drop for OwnFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// OwnedFd::close closes the descriptor and says Ok; the number is gone
/// from our table afterwards (and is_open agrees with /proc).
#[test]
fn owned_fd_close_closes_and_reports() {
    let file = OwnFile::new("owned-close");
    let fd = file.open(O_CLOEXEC);
    let raw = fd.as_raw();
    assert!(file.is(raw));
    assert_eq!(fd.close(), Ok(()));
    assert!(!file.is(raw), "closed by close()");
}

/// fcntl_getfd reads the slot's FD_CLOEXEC flag from a borrowed descriptor:
/// set with O_CLOEXEC, clear without.
#[test]
fn fcntl_getfd_reads_close_on_exec() {
    let (with, _w) = sys::pipe(O_CLOEXEC).unwrap();
    let (without, _w2) = sys::pipe(0).unwrap();
    assert_eq!(sys::fcntl_getfd(with.as_fd()), Ok(FD_CLOEXEC));
    assert_eq!(sys::fcntl_getfd(without.as_fd()), Ok(0));
}

/// A descriptor number far above what the other tests of this process open
/// (each takes the lowest free one), so no other thread can reuse it here.
const HIGH_FD: i32 = 700;

/// is_open answers for any number: open, closed, negative, far too large.
/// Checked at a high number, and against /proc, so no other test thread
/// can open or close it in between.
#[test]
fn is_open_answers_for_any_number() {
    let file = OwnFile::new("is-open");
    let fd = file.open(O_CLOEXEC);
    // SAFETY: nothing in this process uses HIGH_FD: it is ours to fill.
    let high = unsafe { sys::dup3(fd.as_fd(), HIGH_FD + 1, O_CLOEXEC) }.unwrap();
    assert!(file.is(high));
    assert!(sys::is_open(high));
    // SAFETY: dup3 just made `high` for us alone.
    let high_fd = unsafe { sys::OwnedFd::from_raw(high) };
    drop(high_fd);
    assert!(!file.is(high));
    assert!(!sys::is_open(high), "closed on drop");
    assert!(!sys::is_open(-1));
    assert!(!sys::is_open(i32::MIN));
    assert!(!sys::is_open(i32::MAX));
}

/// The CLONE_FILES lesson with the safe query: a fork-like child owns a
/// descriptor and closes it; the parent then asks is_open about the number.
/// With CLONE_FILES the one table loses it (false); without, only the
/// child's copy does (true).
#[test]
fn is_open_sees_a_clone_files_child_close() {
    let file = OwnFile::new("clone-files");
    let still_open_after_child_close = |flags: CloneFlags, number: i32| {
        let source = file.open(O_CLOEXEC);
        // SAFETY: nothing in this process uses `number`: it is ours to fill.
        let raw = unsafe { sys::dup3(source.as_fd(), number, O_CLOEXEC) }.unwrap();
        // SAFETY: dup3 just made it, for this owner alone.
        let owned = unsafe { sys::OwnedFd::from_raw(raw) };
        let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
        // SAFETY: the child closes only `owned`, which its closure owns (the
        // parent's copy of the closure is never dropped), and the parent
        // closes nothing while the child runs.
        let mut child = unsafe {
            clonelab::spawn_unchecked(clonelab::Syscall::Clone, word, move || {
                owned.close().is_err() as i32
            })
        }
        .unwrap();
        assert_eq!(
            child.wait().unwrap(),
            WaitStatus::Exited(0),
            "the child's close"
        );
        let open = sys::is_open(raw);
        assert_eq!(open, file.is(raw), "is_open agrees with /proc/self/fd");
        if open {
            // SAFETY: no owner of it is left in this process.
            unsafe { sys::close(raw) }.unwrap();
        }
        open
    };
    assert!(!still_open_after_child_close(
        CloneFlags::CLONE_FILES,
        HIGH_FD + 2
    ));
    assert!(still_open_after_child_close(CloneFlags::EMPTY, HIGH_FD + 3));
}

/// Write an i32 to a pipe (a child reporting to the test).
fn send_i32(fd: &sys::OwnedFd, value: i32) {
    let _ = sys::write(fd.as_fd(), &value.to_ne_bytes());
}

/// Read an i32 a child sent; None once every writer closed the pipe without one.
fn recv_i32(fd: &sys::OwnedFd) -> Option<i32> {
    let mut bytes = [0u8; 4];
    (sys::read(fd.as_fd(), &mut bytes) == Ok(4)).then(|| i32::from_ne_bytes(bytes))
}

/// Poll getppid (every millisecond, up to 5 s) until it is no longer `old`:
/// the new parent, once the old one has exited and the kernel handed us on.
fn new_parent(old: sys::Pid) -> sys::Pid {
    for _ in 0..5000 {
        let now = sys::getppid();
        if now != old {
            return now;
        }
        let _ = sys::nanosleep(Duration::from_millis(1));
    }
    old
}

/// What became of an orphaned grandchild, told by the processes involved.
#[derive(Debug)]
struct Orphaned {
    /// The helper at the top: a subreaper, or not.
    helper: sys::Pid,
    /// The grandchild's getppid() once its parent had exited (None: it
    /// died before it could say).
    new_parent: Option<sys::Pid>,
    /// How it ended, as the helper's wait4(-1) reaped it (a subreaper only).
    status: Option<WaitStatus>,
}

/// helper → middle → grandchild, in a child of the test (so the test
/// process never becomes a subreaper). The helper is a subreaper if asked.
/// The grandchild sets `pdeathsig`, tells the middle it is ready, then waits
/// for a new parent and reports it; the middle exits once told, orphaning
/// it. A subreaper helper then reaps it with wait4(-1).
fn orphan_a_grandchild(subreaper: bool, pdeathsig: Option<Signal>) -> Orphaned {
    let (report_r, report_w) = sys::pipe(O_CLOEXEC).unwrap();
    let (adopted_r, adopted_w) = sys::pipe(O_CLOEXEC).unwrap();
    let mut helper = spawn(sigchld(), || {
        if subreaper && sys::set_child_subreaper(true).is_err() {
            return 1;
        }
        if sys::get_child_subreaper() != Ok(subreaper) {
            return 2;
        }
        send_i32(&report_w, sys::getpid());
        let (ready_r, ready_w) = sys::pipe(O_CLOEXEC).unwrap();
        // The middle takes its copy of the write end out, to close it once
        // the grandchild has its own: then its read ends, at the latest,
        // when the grandchild is gone.
        let mut ready_w = Some(ready_w);
        let Ok(mut middle) = spawn(sigchld(), || {
            let middle = sys::getpid();
            let Some(ready) = ready_w.take() else {
                return 6;
            };
            let made = spawn(sigchld(), || {
                if sys::set_pdeathsig(pdeathsig).is_err() || sys::get_pdeathsig() != Ok(pdeathsig) {
                    return 8;
                }
                if sys::getppid() != middle {
                    return 9; // the middle is gone already: too late to ask
                }
                let _ = sys::write(ready.as_fd(), b"r");
                send_i32(&adopted_w, new_parent(middle));
                0
            });
            drop(ready);
            // Until the grandchild is ready (or gone: end of file).
            let _ = sys::read(ready_r.as_fd(), &mut [0u8; 1]);
            made.is_ok() as i32
        }) else {
            return 3;
        };
        drop(ready_w);
        if middle.wait().ok() != Some(WaitStatus::Exited(1)) {
            return 4;
        }
        if subreaper {
            // The orphan is ours now: our only child left.
            match sys::wait4(-1, 0) {
                Ok((_, status)) => send_i32(&report_w, status),
                Err(_) => return 5,
            }
        }
        0
    })
    .unwrap();
    drop((report_w, adopted_w));
    assert_eq!(
        helper.wait().unwrap(),
        WaitStatus::Exited(0),
        "the helper's steps"
    );
    Orphaned {
        helper: recv_i32(&report_r).expect("the helper's pid"),
        status: recv_i32(&report_r).map(WaitStatus::from_wait4),
        new_parent: recv_i32(&adopted_r),
    }
}

/// PR_SET_CHILD_SUBREAPER: once the middle process exits, the orphaned
/// grandchild's getppid() names the subreaper above it, which reaps it with
/// wait4(-1). Without the setting, the orphan goes elsewhere (the pid
/// namespace's init, or a subreaper further up), never to the helper.
#[test]
fn subreaper_adopts_the_orphaned_grandchild() {
    let with = orphan_a_grandchild(true, None);
    assert_eq!(with.new_parent, Some(with.helper), "{with:?}");
    assert_eq!(with.status, Some(WaitStatus::Exited(0)), "{with:?}");
    let without = orphan_a_grandchild(false, None);
    let adopter = without
        .new_parent
        .expect("the orphan reports its new parent");
    assert_ne!(adopter, without.helper, "{without:?}");
    assert_eq!(without.status, None);
}

/// PR_SET_PDEATHSIG: the grandchild asked for SIGUSR1 when its parent dies;
/// the middle process exits, and the subreaper reaps a grandchild killed by
/// SIGUSR1. (Whether it reported its new parent first is a race with the
/// signal's delivery, so it is not asserted.) Without the request, the same
/// grandchild lives on, reports, and exits 0.
#[test]
fn pdeathsig_signals_the_orphan_when_its_parent_dies() {
    let asked = orphan_a_grandchild(true, Some(Signal::SIGUSR1));
    let status = asked.status.expect("the subreaper reaped it");
    assert!(
        common::killed_by(status, Signal::SIGUSR1.number()),
        "{asked:?}"
    );
    let not_asked = orphan_a_grandchild(true, None);
    assert_eq!(
        not_asked.status,
        Some(WaitStatus::Exited(0)),
        "{not_asked:?}"
    );
}

/// PR_SET_KEEPCAPS reads back as set. As root, its effect: a thread that
/// sets it and then leaves uid 0 (setresuid to nobody) keeps its permitted
/// capabilities, while the effective set is cleared; without it, both are
/// cleared.
#[test]
fn keepcaps_reads_back_and_keeps_capabilities_across_setuid() {
    let mut child = spawn(sigchld(), || {
        let steps = [
            sys::get_keepcaps() == Ok(false),
            sys::set_keepcaps(true).is_ok(),
            sys::get_keepcaps() == Ok(true),
            sys::set_keepcaps(false).is_ok(),
            sys::get_keepcaps() == Ok(false),
        ];
        steps.iter().position(|ok| !ok).map_or(0, |i| 10 + i as i32)
    })
    .unwrap();
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0), "read back");

    const CAP_SETUID: u32 = 7;
    if sys::getuid() != 0 || !sys::capget(0).unwrap().has_effective(CAP_SETUID) {
        return common::skip("needs root with CAP_SETUID to leave uid 0");
    }
    const NOBODY: u32 = 65534;
    let caps_after_setuid = |keep: bool| {
        let (report_r, report_w) = sys::pipe(O_CLOEXEC).unwrap();
        let mut child = spawn(sigchld(), || {
            if sys::set_keepcaps(keep).is_err() || sys::setresuid(NOBODY, NOBODY, NOBODY).is_err() {
                return 1;
            }
            let caps = sys::capget(0).unwrap_or_default();
            let _ = sys::write(report_w.as_fd(), &caps.permitted.to_ne_bytes());
            let _ = sys::write(report_w.as_fd(), &caps.effective.to_ne_bytes());
            0
        })
        .unwrap();
        drop(report_w);
        assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
        let mut bytes = [0u8; 16];
        assert_eq!(sys::read(report_r.as_fd(), &mut bytes), Ok(16));
        let permitted = u64::from_ne_bytes(bytes[..8].try_into().unwrap());
        let effective = u64::from_ne_bytes(bytes[8..].try_into().unwrap());
        (permitted, effective)
    };
    let (permitted, effective) = caps_after_setuid(true);
    assert_ne!(permitted, 0, "with KEEPCAPS the permitted set survives");
    assert_eq!(effective, 0, "the effective set is cleared all the same");
    assert_eq!(
        caps_after_setuid(false),
        (0, 0),
        "without it, nothing survives"
    );
}
