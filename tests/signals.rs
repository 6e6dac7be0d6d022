//! # CLONE_SIGHAND and CLONE_CLEAR_SIGHAND: one handler table, or a reset one.
//!
//! Chapter: `docs/signals.md`. Experiment: `clonelab::experiments::signals`.
//! Changes (and restores) the process's SIGUSR2 disposition: alone in its
//! process (the suite runs each module in a process of its own).
//! The calls it makes (flags, registers on all six arches) are rendered in
//! the chapter from its record; `common::observe_traced` checks each against
//! ptrace.
//!
//! Asserted, part 1: the parent ignores SIGUSR2 (SIG_IGN), a CLONE_VM child
//! installs a handler that counts its runs, and the parent sends itself
//! SIGUSR2. The child's handler runs in the parent exactly once when the
//! child was cloned with CLONE_SIGHAND (one shared table), and 0 times when
//! it was cloned with CLONE_VM alone (the parent's own table still says
//! SIG_IGN). Part 2: the parent installs a handler; a fork-like clone3 child
//! sees that handler, and sees SIG_DFL (0) when cloned with
//! CLONE_CLEAR_SIGHAND. Every child exits 0.
//!
//! Queued signals (the parent's own dispositions and mask untouched): a
//! child blocks a real-time signal and reads it from a signalfd, or catches
//! it in a handler; the parent sends it with a value, through the child's
//! pidfd or by pid; the child reports what arrived, value and sender.

use crate::common;

use clonelab::experiments::signals::observe;
use clonelab::linux_raw_sys::general::{SI_QUEUE, SI_USER};
use clonelab::sys::consts::{O_CLOEXEC, SIG_BLOCK};
use clonelab::sys::signal::{self, SigAction, SigInfo, SigSet, SigValue};
use clonelab::sys::{self, OwnedFd};
use clonelab::{spawn, CloneFlags, ExitSignal, FlagsWord, Signal, WaitStatus};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

/// Shared table with CLONE_SIGHAND; handlers reset with CLONE_CLEAR_SIGHAND.
#[test]
fn handlers_are_shared_or_cleared() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD, and clone3");
    assert_eq!(
        o.with_sighand, 1,
        "with CLONE_SIGHAND the handler the child installed runs once in the parent"
    );
    assert_eq!(
        o.without_sighand, 0,
        "with CLONE_VM alone the child's handler never runs in the parent, whose table still says SIG_IGN"
    );
    assert_eq!(
        o.child_saw.0, o.handler,
        "a fork-like clone3 child inherits the parent's handler"
    );
    assert_eq!(
        o.child_saw.1, 0,
        "CLONE_CLEAR_SIGHAND resets the child's handler to SIG_DFL (0)"
    );
    assert!(o.children_ok, "every child exited with status 0");
}

/// What a child saw of one signal: code, sender's pid and uid, and the
/// value (its int; i32::MIN when `value()` said None).
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    code: i32,
    pid: i32,
    uid: u32,
    value: i32,
}

impl Seen {
    fn send(&self, fd: &OwnedFd) {
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&self.code.to_ne_bytes());
        bytes[4..8].copy_from_slice(&self.pid.to_ne_bytes());
        bytes[8..12].copy_from_slice(&self.uid.to_ne_bytes());
        bytes[12..].copy_from_slice(&self.value.to_ne_bytes());
        let _ = sys::write(fd.as_fd(), &bytes);
    }

    fn recv(fd: &OwnedFd) -> Option<Seen> {
        let mut bytes = [0u8; 16];
        if sys::read(fd.as_fd(), &mut bytes) != Ok(16) {
            return None;
        }
        let word = |i: usize| <[u8; 4]>::try_from(&bytes[i..i + 4]).unwrap();
        Some(Seen {
            code: i32::from_ne_bytes(word(0)),
            pid: i32::from_ne_bytes(word(4)),
            uid: u32::from_ne_bytes(word(8)),
            value: i32::from_ne_bytes(word(12)),
        })
    }

    /// What a queued signal from this process with `value` looks like.
    fn queued_from_us(value: i32) -> Seen {
        Seen {
            code: SI_QUEUE,
            pid: sys::getpid(),
            uid: sys::getuid(),
            value,
        }
    }
}

/// pidfd_sigqueue: a child blocks SIGRTMIN+3 and reads it from a signalfd.
/// Three values sent through its pidfd arrive as three records (a real-time
/// signal queues), in order, each with SI_QUEUE and our pid and uid. A plain
/// pidfd_send_signal after them arrives as SI_USER, with no value.
#[test]
fn a_queued_signal_carries_its_value_to_a_signalfd() {
    let sig = Signal::rt(3).unwrap();
    let (ready_r, ready_w) = sys::pipe(O_CLOEXEC).unwrap();
    let (seen_r, seen_w) = sys::pipe(O_CLOEXEC).unwrap();
    let word = FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD);
    let child = spawn(word, || {
        let set = SigSet::of(&[sig]);
        if signal::sigprocmask(SIG_BLOCK, Some(set)).is_err() {
            return 1;
        }
        let Ok(fd) = sys::signalfd(set) else { return 2 };
        let _ = sys::write(ready_w.as_fd(), b"r");
        for _ in 0..4 {
            let Ok(record) = signal::read_signalfd(fd.as_fd()) else {
                return 3;
            };
            Seen {
                code: record.code(),
                pid: record.pid(),
                uid: record.uid(),
                value: record.value().map_or(i32::MIN, SigValue::int),
            }
            .send(&seen_w);
        }
        0
    });
    if common::qemu_user_cannot(&child, "CLONE_PIDFD") {
        return;
    }
    let mut child = child.unwrap();
    drop((ready_w, seen_w));
    assert_eq!(
        sys::read(ready_r.as_fd(), &mut [0u8; 1]),
        Ok(1),
        "the child is ready"
    );
    let pidfd = child.pidfd().expect("a pidfd");
    for value in [7, -8, 9] {
        sys::pidfd_sigqueue(pidfd, sig, SigValue::from_int(value)).unwrap();
    }
    sys::pidfd_send_signal(pidfd, sig).unwrap();
    for value in [7, -8, 9] {
        assert_eq!(Seen::recv(&seen_r), Some(Seen::queued_from_us(value)));
    }
    let plain = Seen {
        code: SI_USER as i32,
        value: i32::MIN,
        ..Seen::queued_from_us(0)
    };
    assert_eq!(Seen::recv(&seen_r), Some(plain), "kill's code, no value");
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
}

/// sigqueue by pid: a child's SA_SIGINFO handler stores what
/// SigInfo::value() says; the child reports it with the code and sender.
#[test]
fn a_queued_signal_carries_its_value_to_a_handler() {
    static VALUE: AtomicI32 = AtomicI32::new(i32::MIN);
    static CODE: AtomicI32 = AtomicI32::new(0);
    static PID: AtomicI32 = AtomicI32::new(0);
    static UID: AtomicI32 = AtomicI32::new(0);
    extern "C" fn on_signal(
        _: i32,
        info: *mut clonelab::linux_raw_sys::general::siginfo_t,
        _: *mut core::ffi::c_void,
    ) {
        // SAFETY: the kernel's siginfo is valid while the handler runs.
        let info = unsafe { SigInfo::from_ptr(info) };
        CODE.store(info.code(), Ordering::SeqCst);
        PID.store(info.pid(), Ordering::SeqCst);
        UID.store(info.uid() as i32, Ordering::SeqCst);
        // Stored last: the child waits for it.
        VALUE.store(info.value().map_or(-1, SigValue::int), Ordering::SeqCst);
    }
    let sig = Signal::rt(4).unwrap();
    let (ready_r, ready_w) = sys::pipe(O_CLOEXEC).unwrap();
    let (seen_r, seen_w) = sys::pipe(O_CLOEXEC).unwrap();
    let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
    let mut child = spawn(word, || {
        // SAFETY: the handler only stores atomics (in the child's own copy
        // of memory): async-signal-safe.
        if unsafe { signal::sigaction(sig, &SigAction::info_handler(on_signal)) }.is_err() {
            return 1;
        }
        let _ = sys::write(ready_w.as_fd(), b"r");
        for _ in 0..5000 {
            if VALUE.load(Ordering::SeqCst) != i32::MIN {
                break;
            }
            let _ = sys::nanosleep(Duration::from_millis(1)); // the signal cuts it short
        }
        Seen {
            code: CODE.load(Ordering::SeqCst),
            pid: PID.load(Ordering::SeqCst),
            uid: UID.load(Ordering::SeqCst) as u32,
            value: VALUE.load(Ordering::SeqCst),
        }
        .send(&seen_w);
        0
    })
    .unwrap();
    drop((ready_w, seen_w));
    assert_eq!(
        sys::read(ready_r.as_fd(), &mut [0u8; 1]),
        Ok(1),
        "the child is ready"
    );
    sys::sigqueue(child.pid(), sig, SigValue::from_int(0x5eed)).unwrap();
    assert_eq!(Seen::recv(&seen_r), Some(Seen::queued_from_us(0x5eed)));
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
}
