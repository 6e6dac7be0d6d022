//! # Soundness regressions: each test fails on the API as it was before the fix.
//!
//! | hazard | test |
//! |--------|------|
//! | the parent's copy of a fork-like closure dropped too (double drop) | `captures_are_dropped_once_in_the_child`, `clone_files_child_leaves_the_table_as_it_left_it` |
//! | `spawn` sharing the descriptor table | `spawn_refuses_clone_files` |
//! | handlers without SA_RESTORER (x86_64 forces SIGSEGV) | `handler_installed_with_clonelab_runs` |
//! | a join that returns while the child still runs | `thread_join_survives_a_refused_futex`, `join_survives_a_refused_wait` |
//! | signal handlers running on a thread without TLS | `scoped_child_runs_with_every_signal_blocked` |
//! | what a TLS access in a scoped child really does | `tls_access_in_a_thread_child_ends_the_process`, `tls_access_in_a_clone_vm_child_ends_only_it` |
//! | a thread's status cut to 8 bits | `thread_join_returns_the_full_i32` |
//! | `stack + stack_size` overflowing | `clone3_stack_range_overflow_is_refused` |
//! | "needs a stack" for a CLONE_VM nobody asked for | `broken_rule_is_reported_before_the_missing_stack` |
//!
//! The tests hold one lock each while they run: some share the descriptor
//! table or fork this process, and must not see another test's work half done.

use crate::common;

use clonelab::experiments::SharedPage;
use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall};
use clonelab::sys::signal::{self, SigAction, SigSet};
use clonelab::{
    clone, clone3, scope, spawn, spawn_unchecked, sys, CloneArgs, Errno, Error, Stack, WaitStatus,
    THREAD_FLAGS,
};
use common::{observed_or_skip, STACK};
use linux_raw_sys::general as k;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering::SeqCst};
use std::sync::Mutex;

const SIGCHLD: ExitSignal = ExitSignal::SIGCHLD;

/// One test at a time in this binary (see the module docs).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds one to slot 0 of a shared page when dropped.
struct CountsDrops<'a>(&'a SharedPage);

impl Drop for CountsDrops<'_> {
    fn drop(&mut self) {
        self.0.slot(0).fetch_add(1, SeqCst);
    }
}

/// A value moved into a fork-like child's closure is dropped once: in the child.
#[test]
fn captures_are_dropped_once_in_the_child() {
    let _serial = serial();
    let page = SharedPage::new().unwrap();
    let guard = CountsDrops(&page);
    let mut child = spawn(FlagsWord::new(F::EMPTY, SIGCHLD), move || {
        let _owned = guard;
        0
    })
    .unwrap();
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
    assert_eq!(
        page.get(0),
        1,
        "dropped in the child, and not again in the parent"
    );
}

/// The safe `spawn` refuses CLONE_FILES: one descriptor table, two copies of memory.
#[test]
fn spawn_refuses_clone_files() {
    let err = spawn(FlagsWord::new(F::CLONE_FILES, SIGCHLD), || 0).unwrap_err();
    assert!(
        matches!(&err, Error::FlagNotAllowed(r) if r.flag() == "CLONE_FILES"),
        "{err}"
    );
}

/// With CLONE_FILES, a File moved into the child is closed by the child only:
/// the descriptor the child then reopens is still open in the parent's table.
#[test]
fn clone_files_child_leaves_the_table_as_it_left_it() {
    let _serial = serial();
    let file = std::fs::File::open("/dev/null").unwrap();
    let fd = file.as_raw_fd();
    let word = FlagsWord::new(F::CLONE_FILES, SIGCHLD);
    let reopen = move || {
        drop(file); // closes `fd` in the shared table
                    // Raw: whichever slot /dev/zero lands in must stay open.
        match sys::open(c"/dev/zero", k::O_RDONLY, 0).map(clonelab::OwnedFd::into_raw) {
            // SAFETY: `fd` is free (we just closed it) and `zero` is ours.
            Ok(zero) if zero != fd => unsafe {
                let moved = sys::dup3(clonelab::BorrowedFd::borrow_raw(zero), fd, 0).is_ok();
                let _ = sys::close(zero);
                (!moved) as i32
            },
            Ok(_) => 0,
            Err(_) => 2,
        }
    };
    // SAFETY: the child closes only the File it owns, then puts /dev/zero in
    // the same slot; nothing else in this process owns that descriptor.
    let child = unsafe { spawn_unchecked(Syscall::Clone, word, reopen) };
    let mut child = child.unwrap();
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}"));
    assert_eq!(
        target.ok().as_deref(),
        Some(std::path::Path::new("/dev/zero")),
        "the parent's copy of the File must not close what the child reopened"
    );
    // SAFETY: the descriptor the child left open is ours to close now.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
}

static HANDLED: AtomicI32 = AtomicI32::new(0);
static HANDLED_SIGNO: AtomicI32 = AtomicI32::new(0);
static HANDLED_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn record_siginfo(
    _signal: i32,
    info: *mut k::siginfo_t,
    _context: *mut std::ffi::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler; for
    // a tgkill the kill member (_pid) is the one filled.
    let (signo, pid) = unsafe {
        let inner = &(*info).__bindgen_anon_1.__bindgen_anon_1;
        (inner.si_signo, inner._sifields._kill._pid)
    };
    HANDLED_SIGNO.store(signo, SeqCst);
    HANDLED_PID.store(pid, SeqCst);
    HANDLED.fetch_add(1, SeqCst);
}

/// A handler installed with clonelab's sigaction runs on delivery and returns
/// through clonelab's restorer (without one, x86_64 would force a SIGSEGV);
/// on ppc64le, whose kernel ignores `sa_restorer`, through the vDSO's.
#[test]
fn handler_installed_with_clonelab_runs() {
    let _serial = serial();
    let action = SigAction::info_handler(record_siginfo);
    // SAFETY: record_siginfo only reads its siginfo and stores atomics.
    let previous = unsafe { signal::sigaction(clonelab::Signal::SIGUSR1, &action) }.unwrap();
    let installed = signal::current_action(clonelab::Signal::SIGUSR1).unwrap();
    assert_eq!(
        installed.flags() & k::SA_RESTORER as u64 != 0,
        !cfg!(target_arch = "powerpc64"),
        "SA_RESTORER is set (but on ppc64le)"
    );
    assert_ne!(
        installed.flags() & k::SA_SIGINFO as u64,
        0,
        "SA_SIGINFO is set"
    );
    signal::raise(clonelab::Signal::SIGUSR1).unwrap();
    assert_eq!(HANDLED.load(SeqCst), 1, "the handler ran once");
    assert_eq!(HANDLED_SIGNO.load(SeqCst), k::SIGUSR1 as i32);
    assert_eq!(
        HANDLED_PID.load(SeqCst),
        sys::getpid(),
        "si_pid: we sent it"
    );
    // SAFETY: `previous` was this process's action a moment ago.
    unsafe { signal::sigaction(clonelab::Signal::SIGUSR1, &previous) }.unwrap();
}

/// Run `body` in a fork-like child of this process and return its status
/// (the seccomp filters and fatal faults below must not touch the test process).
fn in_a_child(body: impl FnOnce() -> i32) -> WaitStatus {
    let mut child = spawn(FlagsWord::new(F::EMPTY, SIGCHLD), body).unwrap();
    child.wait().unwrap()
}

/// Exit codes of the children below.
const JOINED_AFTER_THE_CHILD: i32 = 0;
const RETURNED_EARLY: i32 = 1;
const SETUP_FAILED: i32 = 3;

/// In a child process with syscall `nr` refused (EPERM) by seccomp, start a
/// scoped child that yields 2,000 times and then sets a flag, and join it.
/// The child process exits JOINED_AFTER_THE_CHILD if the join returned only
/// after the flag was set, with the error `expected` (None: success).
fn join_with_refused(nr: u32, word: FlagsWord, expected: Option<Errno>) -> WaitStatus {
    in_a_child(move || {
        if common::seccomp_deny(nr, linux_raw_sys::errno::EPERM).is_err() {
            return SETUP_FAILED;
        }
        let Ok(mut stack) = Stack::new(STACK) else {
            return SETUP_FAILED;
        };
        let done = AtomicI32::new(0);
        let slow = || {
            for _ in 0..2000 {
                sys::sched_yield();
            }
            done.store(1, SeqCst);
            0
        };
        // SAFETY: `slow` makes raw syscalls and an atomic store only.
        let joined = scope(|s| unsafe { s.spawn(&mut stack, word, slow) }.map(|c| c.join()));
        let Ok(joined) = joined else {
            return SETUP_FAILED;
        };
        let as_expected = joined.err().and_then(|e| e.errno()) == expected;
        if done.load(SeqCst) == 1 && as_expected {
            JOINED_AFTER_THE_CHILD
        } else {
            RETURNED_EARLY
        }
    })
}

/// With futex refused by seccomp, a thread-like child's join still waits for
/// its tid word to clear: the scope never ends while the child runs.
#[test]
fn thread_join_survives_a_refused_futex() {
    let _serial = serial();
    let word = FlagsWord::new(THREAD_FLAGS, ExitSignal::NONE);
    let status = join_with_refused(k::__NR_futex, word, None);
    if status == WaitStatus::Exited(SETUP_FAILED) && common::under_qemu_user() {
        common::skip("qemu-user cannot install seccomp filters or start this child");
        return;
    }
    assert_eq!(status, WaitStatus::Exited(JOINED_AFTER_THE_CHILD));
}

/// With wait4 refused by seccomp, a CLONE_VM child's join reports the error
/// only once the kernel has cleared the child's tid word.
#[test]
fn join_survives_a_refused_wait() {
    let _serial = serial();
    let word = FlagsWord::new(F::CLONE_VM, ExitSignal::SIGCHLD);
    let status = join_with_refused(k::__NR_wait4, word, Some(Errno::EPERM));
    if status == WaitStatus::Exited(SETUP_FAILED) && common::under_qemu_user() {
        common::skip("qemu-user cannot run CLONE_VM without CLONE_THREAD");
        return;
    }
    assert_eq!(status, WaitStatus::Exited(JOINED_AFTER_THE_CHILD));
}

/// A scoped child starts with every blockable signal blocked, and the
/// parent's own mask is what it was before the spawn.
#[test]
fn scoped_child_runs_with_every_signal_blocked() {
    let _serial = serial();
    let parent_before = signal::sigprocmask(k::SIG_BLOCK, None).unwrap();
    let child_mask = AtomicU64::new(0);
    let mut stack = Stack::new(STACK).unwrap();
    let word = FlagsWord::new(THREAD_FLAGS, ExitSignal::NONE);
    let read_mask = || match signal::sigprocmask(k::SIG_BLOCK, None) {
        Ok(mask) => {
            child_mask.store(mask.bits(), SeqCst);
            0
        }
        Err(_) => 1,
    };
    // SAFETY: `read_mask` makes one raw syscall and an atomic store.
    let status = scope(|s| unsafe { s.spawn(&mut stack, word, read_mask) }.and_then(|c| c.join()));
    let Some(status) = observed_or_skip(status, "CLONE_THREAD") else {
        return;
    };
    assert_eq!(status, WaitStatus::Exited(0));
    let unblockable = SigSet::EMPTY
        .with(clonelab::Signal::SIGKILL)
        .with(clonelab::Signal::SIGSTOP)
        .bits();
    assert_eq!(
        child_mask.load(SeqCst),
        SigSet::FULL.bits() & !unblockable,
        "every signal but SIGKILL and SIGSTOP is blocked in the child"
    );
    assert_eq!(
        signal::sigprocmask(k::SIG_BLOCK, None).unwrap(),
        parent_before
    );
}

thread_local! {
    static PER_THREAD: std::cell::Cell<u32> = const { std::cell::Cell::new(7) };
}

/// A child with no thread pointer that touches a thread-local faults; with
/// CLONE_THREAD the SIGSEGV ends the whole process, as `Scope::spawn` says.
#[test]
fn tls_access_in_a_thread_child_ends_the_process() {
    let _serial = serial();
    let status = in_a_child(|| {
        let Ok(mut stack) = Stack::new(STACK) else {
            return SETUP_FAILED;
        };
        let word = FlagsWord::new(THREAD_FLAGS, ExitSignal::NONE);
        let touch_tls = || PER_THREAD.with(|v| v.get()) as i32;
        // SAFETY: not upheld, on purpose: this is what the contract warns of.
        let _ = scope(|s| unsafe { s.spawn(&mut stack, word, touch_tls) }.map(|c| c.join()));
        0
    });
    if common::under_qemu_user() {
        common::skip("qemu-user: the fault is emulated, not the kernel's");
        return;
    }
    assert!(common::killed_by(status, k::SIGSEGV), "{status}");
}

/// Without CLONE_THREAD only the child dies of the fault; the parent goes on.
#[test]
fn tls_access_in_a_clone_vm_child_ends_only_it() {
    let _serial = serial();
    let mut stack = Stack::new(STACK).unwrap();
    let word = FlagsWord::new(F::CLONE_VM, SIGCHLD);
    let touch_tls = || PER_THREAD.with(|v| v.get()) as i32;
    // SAFETY: not upheld, on purpose; the child borrows nothing it could leave
    // half-changed.
    let status = scope(|s| unsafe { s.spawn(&mut stack, word, touch_tls) }.and_then(|c| c.join()));
    let Some(status) = observed_or_skip(status, "CLONE_VM without CLONE_THREAD") else {
        return;
    };
    assert!(common::killed_by(status, k::SIGSEGV), "{status}");
}

/// A thread-like child's join returns its closure's whole i32; a CLONE_VM
/// process child goes through wait4, which keeps the low 8 bits.
#[test]
fn thread_join_returns_the_full_i32() {
    let _serial = serial();
    let mut stack = Stack::new(STACK).unwrap();
    let mut join_with = |word| {
        let big = || 0x12345;
        // SAFETY: the child returns a constant.
        scope(|s| unsafe { s.spawn(&mut stack, word, big) }.and_then(|c| c.join()))
    };
    let thread = join_with(FlagsWord::new(THREAD_FLAGS, ExitSignal::NONE));
    let Some(thread) = observed_or_skip(thread, "CLONE_THREAD") else {
        return;
    };
    assert_eq!(thread, WaitStatus::Exited(0x12345));
    let process = join_with(FlagsWord::new(F::CLONE_VM, SIGCHLD));
    let Some(process) = observed_or_skip(process, "CLONE_VM without CLONE_THREAD") else {
        return;
    };
    assert_eq!(process, WaitStatus::Exited(0x45));
}

/// clone3's `stack + stack_size` past the end of the address space is refused
/// before the syscall.
#[test]
fn clone3_stack_range_overflow_is_refused() {
    let mut args = CloneArgs {
        flags: F::CLONE_VM.bits(),
        exit_signal: k::SIGCHLD as u64,
        stack: u64::MAX - 15,
        stack_size: 64,
        ..clonelab::clone::zeroed_args()
    };
    // SAFETY: refused before any syscall (asserted).
    let result = unsafe {
        clone3(
            &mut args,
            size_of::<CloneArgs>(),
            common::exit_zero,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(
        result,
        Err(Error::StackRangeOverflows {
            stack: u64::MAX - 15,
            size: 64
        })
    );
}

/// `clone(CLONE_SIGHAND, stack = 0)` names the rule it breaks (CLONE_SIGHAND
/// needs CLONE_VM), not a stack for a CLONE_VM that was never asked for.
#[test]
fn broken_rule_is_reported_before_the_missing_stack() {
    let word = FlagsWord::new(F::CLONE_SIGHAND, SIGCHLD);
    let null = std::ptr::null_mut();
    // SAFETY: the kernel refuses these flags before creating anything (asserted).
    let result = unsafe {
        clone(
            word,
            null as *mut u8,
            null,
            null,
            0,
            common::exit_zero,
            null as _,
        )
    };
    let err = result.unwrap_err();
    if common::qemu_user_cannot(&Err::<(), _>(err), "CLONE_SIGHAND") {
        return;
    }
    match err {
        Error::Kernel {
            errno: Errno::EINVAL,
            rule: Some(rule),
        } => assert!(rule.text.contains("CLONE_SIGHAND"), "{}", rule.text),
        other => panic!("expected the CLONE_SIGHAND rule, got: {other}"),
    }
}

/// The trampolines' symbols carry the crate version, so two versions of
/// clonelab in one program do not collide (the linked test binary has them).
#[test]
fn assembly_symbols_carry_the_crate_version() {
    let exe = std::fs::read("/proc/self/exe").unwrap();
    let has = |name: &str| {
        let needle = format!("\0{name}\0");
        // glibc's memmem: a byte-by-byte search of the whole binary in this
        // unoptimised build took 30 s per run under TCG.
        // SAFETY: both pointers cover the lengths given, and outlive the call.
        let found = unsafe {
            libc::memmem(
                exe.as_ptr().cast(),
                exe.len(),
                needle.as_ptr().cast(),
                needle.len(),
            )
        };
        !found.is_null()
    };
    let version = format!(
        "{}_{}_{}",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH")
    );
    // ppc64le has no restorer (its kernel ignores sa_restorer); its syscall
    // entry and thread pointer are assembly too, and clone.S names the
    // personality routine the Rust side exports.
    #[cfg(not(target_arch = "powerpc64"))]
    let names = ["clone", "clone3", "child_start", "restore_rt"];
    #[cfg(target_arch = "powerpc64")]
    let names = [
        "clone",
        "clone3",
        "child_start",
        "syscall",
        "syscall_noreturn",
        "thread_pointer",
        "child_personality",
    ];
    for name in names {
        assert!(has(&format!("clonelab_{version}_{name}")), "{name}");
        assert!(!has(&format!("clonelab_{name}")), "unversioned {name}");
    }
}
