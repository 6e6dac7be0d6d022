//! # Faults in the child: the child may crash; the parent never does.
//!
//! Each test makes a child misbehave and asserts what the parent observes:
//!
//! | test | child | parent sees |
//! |------|-------|-------------|
//! | `overflow_hits_guard_page` (tests/stack.rs) | recurses off its stack | `Signaled(SIGSEGV)`, canary intact |
//! | `panic_in_child_exits_101` (tests/spawn.rs) | fork-like child panics | `Exited(101)` |
//! | `panic_in_clone_vm_child_is_sigsegv` | CLONE_VM child panics | `Signaled(SIGSEGV)`: no TLS, by design |
//! | `sigkill_mid_work` | loops forever | `Signaled(SIGKILL)` after `kill` |
//! | `vfork_child_execs` | execs, parent suspended until then | `Exited(0)` of the new program |
//! | `vfork_child_exec_fails` | execve of a missing file | `Exited(127)`, errno ENOENT |
//! | `dropped_fork_child_is_detached` | handle dropped unjoined | child still reapable: not killed, not reaped |
//! | `dropped_scoped_child_is_joined` | handle dropped in a scope | its write is done when the scope returns, and it is reaped |

use crate::common;

use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord};
use clonelab::{scope, spawn, sys, Errno, Stack, WaitStatus};
use common::{observed_or_skip, STACK};
use std::ffi::CString;
use std::sync::atomic::{AtomicI32, Ordering::SeqCst};

const SIGCHLD: ExitSignal = ExitSignal::SIGCHLD;

/// A CLONE_VM child has no thread pointer, so its panic faults: SIGSEGV, parent intact.
#[test]
fn panic_in_clone_vm_child_is_sigsegv() {
    let canary = AtomicI32::new(7);
    let mut stack = Stack::new(STACK).unwrap();
    let word = FlagsWord::new(F::CLONE_VM, SIGCHLD);
    // SAFETY: not upheld on purpose: the child panics, touching TLS. It
    // borrows nothing, so its SIGSEGV leaves nothing half-changed behind.
    let result = scope(|s| unsafe { s.spawn(&mut stack, word, || panic!("child panics")) }?.join());
    let Some(status) = observed_or_skip(result, "CLONE_VM without CLONE_THREAD") else {
        return;
    };
    assert!(common::killed_by(status, libc::SIGSEGV as u32), "{status}");
    assert_eq!(canary.load(SeqCst), 7);
}

/// A child killed with SIGKILL while it works is seen as Signaled(SIGKILL).
#[test]
fn sigkill_mid_work() {
    let mut child = spawn(FlagsWord::new(F::EMPTY, SIGCHLD), || loop {
        sys::sched_yield();
    })
    .unwrap();
    child.kill(clonelab::Signal::SIGKILL).unwrap();
    assert_eq!(
        child.wait().unwrap(),
        WaitStatus::Signaled {
            signal: libc::SIGKILL as u32,
            core_dumped: false
        }
    );
    assert_eq!(
        child.kill(clonelab::Signal::SIGKILL),
        Err(Errno::ESRCH),
        "no signal to a reaped pid"
    );
}

/// Run `path --list` (this test binary lists its tests and exits 0) in a vfork
/// child, stdout and stderr to /dev/null. Returns (status, errno the child saw,
/// marker visible when the spawn returned).
fn vfork_exec(path: &str) -> Result<(WaitStatus, i32, i32), clonelab::Error> {
    let program = CString::new(path).unwrap();
    let list = CString::new("--list").unwrap();
    let argv = [program.as_ptr(), list.as_ptr(), std::ptr::null()];
    let envp: [*const std::ffi::c_char; 1] = [std::ptr::null()];
    // Raw pointers are not Send; the child gets the arrays' addresses.
    let (argv_at, envp_at) = (argv.as_ptr() as usize, envp.as_ptr() as usize);
    let errno = AtomicI32::new(0);
    let marker = AtomicI32::new(0);
    let mut stack = Stack::new(STACK).unwrap();
    let word = FlagsWord::new(F::CLONE_VM | F::CLONE_VFORK, SIGCHLD);
    scope(|s| {
        let body = || {
            marker.store(1, SeqCst);
            if let Ok(null) = sys::open(c"/dev/null", linux_raw_sys::general::O_WRONLY, 0) {
                // SAFETY: the child has its own descriptor table (no CLONE_FILES).
                unsafe {
                    let _ = sys::dup3(null.as_fd(), 1, 0);
                    let _ = sys::dup3(null.as_fd(), 2, 0);
                }
            }
            // SAFETY: argv and envp are NULL-terminated arrays of C strings.
            let e = unsafe { sys::execve(&program, argv_at as *const _, envp_at as *const _) };
            errno.store(e.raw(), SeqCst);
            127
        };
        // SAFETY: `body` makes raw syscalls and atomic stores only.
        let child = unsafe { s.spawn(&mut stack, word, body) }?;
        let seen = marker.load(SeqCst);
        Ok((child.join()?, errno.load(SeqCst), seen))
    })
}

/// [`vfork_exec`], or a visible skip where the environment cannot run it
/// (qemu-user refuses CLONE_VM, or runs CLONE_VFORK as a plain fork).
fn vfork_exec_or_skip(path: &str) -> Option<(WaitStatus, i32, i32)> {
    let (status, errno, marker) = observed_or_skip(vfork_exec(path), "CLONE_VM|CLONE_VFORK")?;
    if common::under_qemu_user() && marker == 0 {
        common::skip("qemu-user runs CLONE_VFORK as a plain fork");
        return None;
    }
    Some((status, errno, marker))
}

/// A vfork child that execs: the parent resumes at the exec and reaps the new program.
#[test]
fn vfork_child_execs() {
    let Some((status, errno, marker)) = vfork_exec_or_skip("/proc/self/exe") else {
        return;
    };
    assert_eq!(marker, 1, "the parent ran before the child got to exec");
    assert_eq!(errno, 0, "execve failed");
    assert_eq!(status, WaitStatus::Exited(0));
}

/// A vfork child whose exec fails: the parent resumes when it exits, status 127.
#[test]
fn vfork_child_exec_fails() {
    let Some((status, errno, _)) = vfork_exec_or_skip("/nonexistent/program") else {
        return;
    };
    assert_eq!(errno, Errno::ENOENT.raw());
    assert_eq!(status, WaitStatus::Exited(127));
}

/// Dropping a fork-like Child neither kills nor reaps it: it stays ours to reap.
#[test]
fn dropped_fork_child_is_detached() {
    let child = spawn(FlagsWord::new(F::EMPTY, SIGCHLD), || 3).unwrap();
    let pid = child.pid();
    drop(child);
    let (reaped, status) = sys::wait4(pid, 0).unwrap();
    assert_eq!(
        (reaped, WaitStatus::from_wait4(status)),
        (pid, WaitStatus::Exited(3))
    );
}

/// Dropping a scoped child's handle does not detach it: the scope joins it.
#[test]
fn dropped_scoped_child_is_joined() {
    let done = AtomicI32::new(0);
    let mut stack = Stack::new(STACK).unwrap();
    let word = FlagsWord::new(F::CLONE_VM, SIGCHLD);
    let pid = scope(|s| {
        // SAFETY: raw sched_yield and an atomic store only.
        let child = unsafe {
            s.spawn(&mut stack, word, || {
                for _ in 0..1000 {
                    sys::sched_yield();
                }
                done.store(1, SeqCst);
                0
            })
        };
        child.map(|c| c.pid()) // the handle is dropped here
    });
    let Some(pid) = observed_or_skip(pid, "CLONE_VM without CLONE_THREAD") else {
        return;
    };
    assert_eq!(
        done.load(SeqCst),
        1,
        "scope returned before its child finished"
    );
    assert_eq!(
        sys::wait4(pid, libc::__WALL as u32),
        Err(Errno::ECHILD),
        "the scope reaped it"
    );
}
