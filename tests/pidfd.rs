//! # CLONE_PIDFD: a descriptor for the child.
//!
//! Chapter: `docs/pidfd.md`. Experiment: `clonelab::experiments::pidfd`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: the pidfd's fdinfo names the child's pid, and `waitid(P_PIDFD)`
//! returns the child's exit status. A pidfd turns readable (`POLLIN`,
//! `EPOLLIN`) when its child exits and not before, which `Child::wait_timeout`
//! waits on: it times out leaving the child ours, or reports the exit before
//! its deadline (with a pidfd, and by pid without one). A child reaped by pid
//! behind its `Child`'s back is not signalled through it: `Child::kill`
//! refuses (ECHILD), and a process that reuses the pid is left alone;
//! `Child::wait` and `wait_timeout` say `Error::ReapedElsewhere`.

use crate::common;

use clonelab::experiments::pidfd::{observe, CODE};
use clonelab::linux_raw_sys::general as k;
use clonelab::spawn::{spawn_with, SpawnOptions};
use clonelab::sys::consts::O_CLOEXEC;
use clonelab::sys::poll::{EpollCtl, EpollEvent, EpollFlags, PollFd, PollFlags, EPOLL_CLOEXEC};
use clonelab::wait::wait_pid;
use clonelab::{
    spawn, sys, Child, CloneFlags, Errno, Error, ExitSignal, FlagsWord, Signal, WaitStatus,
};
use std::time::{Duration, Instant};

/// The pidfd names the child and reaps it.
#[test]
fn pidfd_names_and_reaps_the_child() {
    let o = observed!(observe, "CLONE_PIDFD");
    assert_ne!(
        o.calls.get(0).unwrap().call.parent_tid,
        0,
        "clone() carries the pidfd pointer in parent_tid"
    );
    assert_eq!(o.fdinfo_pid, Some(o.pid as u64));
    assert_eq!(o.status, WaitStatus::Exited(CODE));
}

/// A SIGCHLD child, with a pidfd or without.
fn word(pidfd: bool) -> FlagsWord {
    let flags = if pidfd {
        CloneFlags::CLONE_PIDFD
    } else {
        CloneFlags::EMPTY
    };
    FlagsWord::new(flags, ExitSignal::SIGCHLD)
}

/// Which way `Child::wait_timeout` went for this child.
fn path(child: &Child) -> &'static str {
    if child.pidfd().is_some() {
        "pidfd"
    } else {
        "pid"
    }
}

const KILLED: WaitStatus = WaitStatus::Signaled {
    signal: k::SIGKILL,
    core_dumped: false,
};

/// A child still asleep when the time is up: `Ok(None)`, no sooner than the
/// timeout, and the child is left unreaped (a `WNOWAIT` look still finds
/// it), to be killed and waited for again.
#[test]
fn wait_timeout_times_out_and_the_child_stays_ours() {
    for pidfd in [true, false] {
        let mut child = spawn(word(pidfd), || {
            let _ = sys::nanosleep(Duration::from_secs(30));
            0
        })
        .unwrap();
        let how = path(&child);
        let start = Instant::now();
        let timeout = Duration::from_millis(100);
        assert_eq!(child.wait_timeout(timeout).unwrap(), None, "{how}");
        assert!(start.elapsed() >= timeout, "{how}: {:?}", start.elapsed());
        assert_eq!(child.wait_timeout(Duration::ZERO).unwrap(), None, "{how}");
        let look = k::WEXITED | k::WNOHANG | k::WNOWAIT;
        assert!(
            sys::waitid(k::P_PID, child.pid() as u32, look).is_ok(),
            "{how}: still our unreaped child"
        );
        child.kill(Signal::SIGKILL).unwrap();
        assert_eq!(child.wait().unwrap(), KILLED, "{how}");
    }
}

/// A child that exits after 20 ms: `Some(Exited(7))` long before a 60 s
/// deadline, and the `Child` knows it is reaped.
#[test]
fn wait_timeout_returns_the_exit_before_the_deadline() {
    for pidfd in [true, false] {
        let mut child = spawn(word(pidfd), || {
            let _ = sys::nanosleep(Duration::from_millis(20));
            7
        })
        .unwrap();
        let how = path(&child);
        let start = Instant::now();
        let status = child.wait_timeout(Duration::from_secs(60)).unwrap();
        assert_eq!(status, Some(WaitStatus::Exited(7)), "{how}");
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{how}: {:?}",
            start.elapsed()
        );
        assert_eq!(
            child.wait().unwrap(),
            WaitStatus::Exited(7),
            "{how}: the same status"
        );
        assert_eq!(
            child.kill(Signal::SIGTERM),
            Err(Errno::ESRCH),
            "{how}: reaped"
        );
    }
}

/// A pidfd is not readable while its child lives, and is readable (POLLIN
/// to ppoll, EPOLLIN to epoll, with the data it was registered with) once
/// the child has exited, before it is reaped.
#[test]
fn epoll_and_ppoll_see_pollin_at_exit() {
    let (reader, writer) = sys::pipe(O_CLOEXEC).unwrap();
    let release = reader.as_fd();
    // The child waits for a byte on the pipe, then exits 5.
    let mut child = spawn(word(true), move || {
        let mut byte = [0u8; 1];
        let _ = sys::read(release, &mut byte);
        5
    })
    .unwrap();
    let Some(pidfd) = child.pidfd() else {
        sys::write(writer.as_fd(), b"x").unwrap();
        child.wait().unwrap();
        return common::skip("no pidfd (a kernel before 5.2, or qemu-user)");
    };
    let epoll = sys::epoll_create1(EPOLL_CLOEXEC).unwrap();
    let data = child.pid() as u64;
    let watch = EpollEvent::new(EpollFlags::IN, data);
    sys::epoll_ctl(epoll.as_fd(), EpollCtl::Add(watch), pidfd).unwrap();
    let mut events = [EpollEvent::default(); 2];
    let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
    let now = Some(Duration::ZERO);
    assert_eq!(
        sys::epoll_wait(epoll.as_fd(), &mut events, now).unwrap(),
        0,
        "alive"
    );
    assert_eq!(sys::ppoll(&mut fds, now, None).unwrap(), 0, "alive");

    sys::write(writer.as_fd(), b"x").unwrap();
    let later = Some(Duration::from_secs(30));
    assert_eq!(
        sys::epoll_wait(epoll.as_fd(), &mut events, later).unwrap(),
        1
    );
    assert_eq!(events[0].data(), data);
    assert!(
        events[0].events().contains(EpollFlags::IN),
        "{:?}",
        events[0]
    );
    assert_eq!(
        sys::ppoll(&mut fds, now, None).unwrap(),
        1,
        "a zombie: readable"
    );
    assert!(fds[0].revents().contains(PollFlags::IN), "{:?}", fds[0]);
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(5));
}

/// Reaped by pid behind its `Child`'s back: `kill` refuses with ECHILD
/// (nothing sent: the pid may name another process now), and `wait` and
/// `wait_timeout` say `ReapedElsewhere` (ECHILD).
#[test]
fn kill_after_reap_by_pid_is_refused() {
    let mut child = spawn(word(false), || 3).unwrap();
    assert_eq!(wait_pid(child.pid(), 0).unwrap(), WaitStatus::Exited(3));
    assert_eq!(child.kill(Signal::SIGTERM), Err(Errno::ECHILD));
    assert_eq!(
        child.kill(Signal::SIGTERM),
        Err(Errno::ECHILD),
        "and stays so"
    );
    let reaped = Error::ReapedElsewhere { pid: child.pid() };
    assert_eq!(child.wait().unwrap_err(), reaped);
    assert_eq!(child.wait_timeout(Duration::ZERO).unwrap_err(), reaped);
}

/// A child reaped outside its `Child`, with a pidfd and without, found by
/// `wait` or by `wait_timeout` first: `Error::ReapedElsewhere` naming its
/// pid, the kernel's ECHILD, and a Display that says what was lost; the
/// answer stays on later calls of both. `kill` keeps its `Errno`: ECHILD,
/// with a pidfd too, since the `Child` remembers what the wait found.
#[test]
fn wait_after_reap_elsewhere_says_so() {
    for pidfd in [false, true] {
        for wait_first in [true, false] {
            let mut child = spawn(word(pidfd), || 4).unwrap();
            let (pid, how) = (child.pid(), path(&child));
            assert_eq!(wait_pid(pid, 0).unwrap(), WaitStatus::Exited(4));
            let first = if wait_first {
                child.wait().map(Some)
            } else {
                child.wait_timeout(Duration::from_secs(10))
            };
            let err = first.unwrap_err();
            assert_eq!(err, Error::ReapedElsewhere { pid }, "{how}");
            assert_eq!(err.kernel_errno(), Some(Errno::ECHILD), "{how}");
            assert_eq!(err.errno(), Some(Errno::ECHILD), "{how}");
            let text = err.to_string();
            assert!(text.contains(&format!("child {pid} ")), "{how}: {text}");
            assert!(text.contains("reaped outside its Child"), "{text}");
            assert!(text.contains("status is gone"), "{text}");
            assert!(text.contains("may already name another process"), "{text}");
            assert_eq!(child.wait().unwrap_err(), err, "{how}: and stays so");
            assert_eq!(child.wait_timeout(Duration::ZERO).unwrap_err(), err);
            assert_eq!(child.kill(Signal::SIGTERM), Err(Errno::ECHILD), "{how}");
        }
    }
}

/// Whether we may choose pids in our own PID namespace (set_tid).
fn may_choose_pids() -> bool {
    let caps = sys::capget(0).unwrap();
    caps.has_effective(k::CAP_SYS_ADMIN) || caps.has_effective(k::CAP_CHECKPOINT_RESTORE)
}

/// The worst case made real: our child is reaped by pid, and a process that
/// is not our child gets its pid (a helper's child, made with set_tid). Then
/// `Child::kill(SIGTERM)` is refused — ECHILD by pid, ESRCH through the
/// pidfd — and that process, which has the default SIGTERM action, lives on
/// to exit 0. A plain `kill(pid)` would have killed it.
#[test]
fn kill_after_reap_spares_the_process_that_reuses_the_pid() {
    if !may_choose_pids() {
        return common::skip("reusing a pid on purpose needs set_tid: CAP_SYS_ADMIN");
    }
    for pidfd in [false, true] {
        let refused = if pidfd { Errno::ESRCH } else { Errno::ECHILD };
        let mut tries = (0..20).map(|_| stranger_survives(pidfd, refused));
        match tries.find(|tried| *tried != Some(false)) {
            Some(Some(_)) => {}
            Some(None) => return, // skipped
            None => panic!("20 freed pids were each taken by someone else first"),
        }
    }
}

/// One try of the test above: `Some(false)` if another process took the pid
/// first, `None` if skipped (reported).
fn stranger_survives(pidfd: bool, refused: Errno) -> Option<bool> {
    let child = spawn(word(pidfd), || 0).unwrap();
    let pid = child.pid();
    assert_eq!(wait_pid(pid, 0).unwrap(), WaitStatus::Exited(0));
    let (ready_r, ready_w) = sys::pipe(O_CLOEXEC).unwrap();
    let (go_r, go_w) = sys::pipe(O_CLOEXEC).unwrap();
    let (ready, go) = (ready_w.as_fd(), go_r.as_fd());
    // The helper's child, the stranger, gets `pid`; it says "1" when it
    // runs, waits for a byte, and exits 0. The helper exits with what it
    // saw, or says "E" and exits with the errno if set_tid failed.
    let mut helper = spawn(word(false), move || {
        let pids = [pid];
        let made = spawn_with(word(false), SpawnOptions::new().set_tid(&pids), |_| {
            let _ = sys::write(ready, b"1");
            let mut byte = [0u8; 1];
            let _ = sys::read(go, &mut byte);
            0
        });
        match made {
            Ok(mut stranger) => match stranger.wait() {
                Ok(WaitStatus::Exited(0)) => 0,
                Ok(WaitStatus::Signaled { signal, .. }) => 100 + signal as i32,
                _ => 99,
            },
            Err(e) => {
                let _ = sys::write(ready, b"E");
                e.errno().map_or(-1, |e| e.raw())
            }
        }
    })
    .unwrap();
    let mut fds = [PollFd::new(ready_r.as_fd(), PollFlags::IN)];
    let ready_in_time = sys::ppoll(&mut fds, Some(Duration::from_secs(30)), None).unwrap();
    assert_eq!(ready_in_time, 1, "the helper said nothing in 30 s");
    let mut said = [0u8; 1];
    sys::read(ready_r.as_fd(), &mut said).unwrap();
    if &said == b"E" {
        return match helper.wait().unwrap() {
            // Taken by someone else meanwhile: try another pid.
            WaitStatus::Exited(e) if e == Errno::EEXIST.raw() => Some(false),
            WaitStatus::Exited(e) if common::under_qemu_user() && e == Errno::ENOSYS.raw() => {
                common::skip("qemu-user has no clone3 (set_tid)");
                None
            }
            other => panic!("set_tid failed in the helper: {other}"),
        };
    }
    let reused = sys::kill_probe(pid);
    assert_eq!(reused, Ok(()), "pid {pid} names the stranger now");
    assert_eq!(child.kill(Signal::SIGTERM), Err(refused));
    sys::write(go_w.as_fd(), b"x").unwrap();
    let status = helper.wait().unwrap();
    assert_eq!(
        status,
        WaitStatus::Exited(0),
        "the stranger was not signalled"
    );
    Some(true)
}

/// A dead child's pidfd stays readable, so epoll reports it every time:
/// with EPOLLONESHOT only once, until `EpollCtl::Modify` re-arms it; after
/// `EpollCtl::Delete`, never. `ppoll` takes no registration: it reports the
/// pidfd each time it is asked.
#[test]
fn epoll_oneshot_modify_and_delete_on_a_pidfd() {
    let mut child = spawn(word(true), || 0).unwrap();
    let Some(pidfd) = child.pidfd() else {
        child.wait().unwrap();
        return common::skip("no pidfd (a kernel before 5.2, or qemu-user)");
    };
    let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
    assert_eq!(
        sys::ppoll(&mut fds, Some(Duration::from_secs(30)), None).unwrap(),
        1,
        "exited"
    );
    assert_eq!(fds[0].fd(), pidfd);
    let epoll = sys::epoll_create1(EPOLL_CLOEXEC).unwrap();
    let (ep, now) = (epoll.as_fd(), Some(Duration::ZERO));
    let mut events = [EpollEvent::default(); 1];
    let mut reports = || sys::epoll_wait(ep, &mut events, now).unwrap();
    let once = EpollEvent::new(EpollFlags::IN | EpollFlags::ONESHOT, 9);
    sys::epoll_ctl(ep, EpollCtl::Add(once), pidfd).unwrap();
    assert_eq!(reports(), 1, "armed");
    assert_eq!(reports(), 0, "a oneshot, spent");
    sys::epoll_ctl(ep, EpollCtl::Modify(once), pidfd).unwrap();
    assert_eq!(reports(), 1, "re-armed by Modify");
    let always = EpollEvent::new(EpollFlags::IN, 9);
    sys::epoll_ctl(ep, EpollCtl::Modify(always), pidfd).unwrap();
    assert_eq!(
        (reports(), reports()),
        (1, 1),
        "level-triggered: every time"
    );
    sys::epoll_ctl(ep, EpollCtl::Delete, pidfd).unwrap();
    assert_eq!(reports(), 0, "deleted");
    assert_eq!(
        sys::ppoll(&mut fds, now, None).unwrap(),
        1,
        "still readable"
    );
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
}
