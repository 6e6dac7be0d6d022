//! Creating and reaping children through every API path, each checked by an effect.
//!
//! | test | call (x86_64 registers) | what is observed |
//! |------|------------------------|------------------|
//! | exit code | `clone(rdi=SIGCHLD=0x11, rsi=0)` | `wait4` status `Exited(42)` |
//! | shared memory | `clone(rdi=CLONE_VM\|SIGCHLD=0x111, rsi=stack top)` | the child's store, read by the parent |
//! | private memory | `clone(rdi=0x11, rsi=stack top)` | the child's store, *not* seen |
//! | clone3 | `clone3(rdi=&args, rsi=88)`, `args.exit_signal=17` | plain `wait4` reaps it |
//! | no exit signal | `args.exit_signal=0` | plain `wait4` says ECHILD; `__WCLONE` reaps |
//! | thread | `clone(rdi=0x3d0f00, ...)`: THREAD_FLAGS + SETTLS + tid flags | same tgid, other tid; CLEARTID zeroed |
//! | vfork | `clone(rdi=CLONE_VM\|CLONE_VFORK\|SIGCHLD=0x4111)` | the child's store done before clone returns |
//!
//! The other five arches load the same values into their own registers
//! (aarch64: x8 for the number, x0 to x4 for the arguments), in clone's
//! order for that arch: s390x takes the stack before the flags, and aarch64,
//! i386, armhf and ppc64le take `tls` before `child_tid`. docs/abi.md has
//! every arch's row.

use crate::common;

use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord};
use clonelab::{
    clone, clone3, scope, spawn, sys, CloneArgs, Errno, Error, Stack, WaitStatus, THREAD_FLAGS,
};
use common::{qemu_user_cannot, STACK};
use std::ffi::c_void;
use std::sync::atomic::{AtomicI32, Ordering::SeqCst};

const SIGCHLD: ExitSignal = ExitSignal::SIGCHLD;

/// The value the child's fn returns reaches the parent as `Exited(value)`.
#[test]
fn exit_code_reaches_the_parent() {
    let mut child = spawn(FlagsWord::new(F::EMPTY, SIGCHLD), || 42).unwrap();
    assert_ne!(child.pid(), sys::getpid());
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(42));
    // waiting again returns the same status, without a second wait4
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(42));
}

/// A fork-like child runs in a new process whose parent is us.
#[test]
fn fork_like_child_is_a_new_process() {
    let parent = sys::getpid();
    let mut child = spawn(FlagsWord::new(F::EMPTY, SIGCHLD), move || {
        // Exit status 0 only if the child's view of the world is right.
        (sys::getppid() != parent || sys::getpid() == parent) as i32
    })
    .unwrap();
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
}

/// With CLONE_VM the parent sees what the child wrote.
#[test]
fn clone_vm_child_write_is_seen() {
    let value = AtomicI32::new(0);
    let mut stack = Stack::new(STACK).unwrap();
    let result = scope(|s| {
        let word = FlagsWord::new(F::CLONE_VM, SIGCHLD);
        // SAFETY: the child does one atomic store: no TLS, no allocation, no panic.
        let child = unsafe {
            s.spawn(&mut stack, word, || {
                value.store(0x5EED, SeqCst);
                0
            })
        }?;
        child.join()
    });
    if qemu_user_cannot(&result, "CLONE_VM without CLONE_THREAD") {
        return;
    }
    assert_eq!(result.unwrap(), WaitStatus::Exited(0));
    assert_eq!(value.load(SeqCst), 0x5EED);
}

/// Without CLONE_VM the child writes to its own copy; the parent's value is unchanged.
#[test]
fn without_clone_vm_the_write_stays_in_the_child() {
    let value = AtomicI32::new(0);
    let mut child = spawn(FlagsWord::new(F::EMPTY, SIGCHLD), || {
        value.store(0x5EED, SeqCst);
        (value.load(SeqCst) == 0x5EED) as i32 // 1: the child did see its own write
    })
    .unwrap();
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(1));
    assert_eq!(value.load(SeqCst), 0);
}

/// The scoped API is for CLONE_VM children only: without it, it refuses.
#[test]
fn scope_refuses_a_child_without_clone_vm() {
    let mut stack = Stack::new(STACK).unwrap();
    let word = FlagsWord::new(F::EMPTY, SIGCHLD);
    // SAFETY: refused before any clone (asserted).
    let err = scope(|s| unsafe { s.spawn(&mut stack, word, || 0) }.map(|_| ())).unwrap_err();
    assert!(
        matches!(&err, Error::FlagNotAllowed(r) if r.flag() == "a scoped child without CLONE_VM"),
        "{err}"
    );
}

unsafe extern "C" fn return_arg(arg: *mut c_void) -> i32 {
    arg as usize as i32
}

/// A clone3 child with exit_signal = SIGCHLD is reaped by a plain wait4.
#[test]
fn clone3_child_with_sigchld() {
    let mut args = CloneArgs {
        exit_signal: libc::SIGCHLD as u64,
        ..clonelab::clone::zeroed_args()
    };
    // SAFETY: fork-like (no CLONE_VM, no stack): the child runs on its own copy.
    let pid = unsafe {
        clone3(
            &mut args,
            size_of::<CloneArgs>(),
            return_arg,
            7 as *mut c_void,
        )
    };
    if qemu_user_cannot(&pid, "clone3") {
        return;
    }
    let pid = pid.unwrap();
    let (reaped, status) = sys::wait4(pid, 0).unwrap();
    assert_eq!(reaped, pid);
    assert_eq!(WaitStatus::from_wait4(status), WaitStatus::Exited(7));
}

/// A child with no exit signal is invisible to plain wait4 and reaped with __WCLONE.
#[test]
fn no_exit_signal_needs_wclone() {
    let stack = Stack::new(STACK).unwrap();
    // Raw clone: the safe API would pick the right wait options for us.
    // SAFETY: no CLONE_VM; the stack outlives the child (reaped below).
    let pid = unsafe {
        clone(
            FlagsWord::new(F::EMPTY, ExitSignal::NONE),
            stack.top(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
            return_arg,
            9 as *mut c_void,
        )
    };
    if qemu_user_cannot(&pid, "a fork-like clone whose exit signal is not SIGCHLD") {
        return;
    }
    let pid = pid.unwrap();
    assert_eq!(
        sys::wait4(pid, 0),
        Err(Errno::ECHILD),
        "plain wait4 cannot see it"
    );
    let (reaped, status) = sys::wait4(pid, libc::__WCLONE as u32).unwrap();
    assert_eq!(
        (reaped, WaitStatus::from_wait4(status)),
        (pid, WaitStatus::Exited(9))
    );
    drop(stack);
}

/// A thread-like child shares our tgid, has its own tid, and is joined when the
/// kernel zeroes its CLEARTID word.
#[test]
fn thread_is_joined_through_cleartid() {
    let seen_pid = AtomicI32::new(0);
    let seen_tid = AtomicI32::new(0);
    let mut stack = Stack::new(STACK).unwrap();
    let (tid, status) = scope(|s| {
        let word = FlagsWord::new(THREAD_FLAGS, ExitSignal::NONE);
        // SAFETY: raw getpid/gettid and atomic stores only.
        let child = unsafe {
            s.spawn(&mut stack, word, || {
                seen_pid.store(sys::getpid(), SeqCst);
                seen_tid.store(sys::gettid(), SeqCst);
                7
            })
        }
        .unwrap();
        (child.pid(), child.join().unwrap())
    });
    assert_eq!(status, WaitStatus::Exited(7));
    assert_eq!(seen_pid.load(SeqCst), sys::getpid(), "same thread group");
    assert_eq!(seen_tid.load(SeqCst), tid, "the tid clone returned");
    assert_ne!(tid, sys::gettid());
}

/// With CLONE_VFORK the parent sleeps until the child exits: its write is
/// visible the moment the spawn returns, before any join.
#[test]
fn vfork_suspends_the_parent() {
    let done = AtomicI32::new(0);
    let mut stack = Stack::new(STACK).unwrap();
    let word = FlagsWord::new(F::CLONE_VM | F::CLONE_VFORK, SIGCHLD);
    let result = scope(|s| {
        // SAFETY: raw sched_yield and an atomic store only.
        let child = unsafe {
            s.spawn(&mut stack, word, || {
                for _ in 0..200 {
                    sys::sched_yield(); // give the parent every chance to run, were it not suspended
                }
                done.store(1, SeqCst);
                0
            })
        }?;
        let seen_at_return = done.load(SeqCst);
        child.join().map(|status| (seen_at_return, status))
    });
    if qemu_user_cannot(&result, "CLONE_VM without CLONE_THREAD") {
        return;
    }
    if common::under_qemu_user() && matches!(result, Ok((0, _))) {
        common::skip("qemu-user runs CLONE_VM|CLONE_VFORK as a plain fork");
        return;
    }
    assert_eq!(result.unwrap(), (1, WaitStatus::Exited(0)));
}

/// A scoped CLONE_VFORK child is given no tid word to clear: it has left our
/// memory when clone returns, so the call carries neither CLONE_PARENT_SETTID
/// nor CLONE_CHILD_CLEARTID (each costs the kernel a store, the second a futex
/// wake), while a CLONE_VM child without CLONE_VFORK carries both.
#[test]
fn vfork_child_needs_no_tid_word() {
    let tid_flags = F::CLONE_PARENT_SETTID | F::CLONE_CHILD_CLEARTID;
    let mut stack = Stack::new(STACK).unwrap();
    let mut calls = Vec::new();
    for flags in [F::CLONE_VM | F::CLONE_VFORK, F::CLONE_VM] {
        let result = scope(|s| {
            // SAFETY: the child returns a constant: no TLS, no allocation.
            let child = unsafe { s.spawn(&mut stack, FlagsWord::new(flags, SIGCHLD), || 3) }?;
            let call = *child.call();
            child.join().map(|status| (call, status))
        });
        if qemu_user_cannot(&result, "CLONE_VM without CLONE_THREAD") {
            return;
        }
        let (call, status) = result.unwrap();
        assert_eq!(status, WaitStatus::Exited(3));
        calls.push(call);
    }
    let (vfork, vm) = (calls[0], calls[1]);
    assert!(!vfork.word.flags.intersects(tid_flags), "{}", vfork.word);
    assert_eq!((vfork.parent_tid, vfork.child_tid), (0, 0));
    assert!(vm.word.flags.contains(tid_flags), "{}", vm.word);
    assert_ne!(vm.child_tid, 0);
}

/// CLONE_PIDFD yields a descriptor that refers to the child and can be waited on.
#[test]
fn pidfd_refers_to_the_child() {
    let child = spawn(FlagsWord::new(F::CLONE_PIDFD, SIGCHLD), || 5);
    if qemu_user_cannot(&child, "CLONE_PIDFD") {
        return;
    }
    let mut child = child.unwrap();
    let fd = child.pidfd().expect("pidfd");
    let fdinfo = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw())).unwrap();
    assert!(
        fdinfo.contains(&format!("Pid:\t{}", child.pid())),
        "{fdinfo}"
    );
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(5));
}

/// Misaligned or missing stacks are refused before the syscall.
#[test]
fn bad_stacks_are_refused() {
    let stack = Stack::new(STACK).unwrap();
    let vm = FlagsWord::new(F::CLONE_VM, SIGCHLD);
    let no_tid = std::ptr::null_mut();
    let no_arg = std::ptr::null_mut();
    // SAFETY: each call is refused before any syscall (asserted).
    unsafe {
        let misaligned = stack.top().sub(8);
        assert_eq!(
            clone(vm, misaligned, no_tid, no_tid, 0, return_arg, no_arg),
            Err(Error::MisalignedStack {
                address: misaligned as usize
            })
        );
        let no_stack = std::ptr::null_mut();
        assert_eq!(
            clone(vm, no_stack, no_tid, no_tid, 0, return_arg, no_arg),
            Err(Error::MissingStack)
        );
        let mut args = CloneArgs {
            stack: stack.bottom() as u64,
            ..clonelab::clone::zeroed_args()
        };
        assert_eq!(
            clone3(&mut args, size_of::<CloneArgs>(), return_arg, no_arg),
            Err(Error::Clone3StackIncomplete)
        );
    }
}

/// The safe fork-like spawn refuses CLONE_VM and points to the scoped API.
#[test]
fn spawn_refuses_shared_memory() {
    let err = spawn(FlagsWord::new(F::CLONE_VM, SIGCHLD), || 0).unwrap_err();
    assert!(
        matches!(&err, Error::FlagNotAllowed(r) if r.flag() == "CLONE_VM"),
        "{err}"
    );
    assert!(err.to_string().contains("scope"));
}

/// The kernel's EINVAL comes back with the clone(2) rule the flags broke.
#[test]
fn kernel_einval_carries_the_rule() {
    let err = spawn(FlagsWord::new(F::CLONE_FS | F::CLONE_NEWNS, SIGCHLD), || 0).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL));
    assert!(
        err.to_string()
            .starts_with("EINVAL (Invalid argument): CLONE_FS cannot be combined with CLONE_NEWNS"),
        "{err}"
    );
}

/// The scoped API refuses CLONE_NEWPID with CLONE_SIGHAND: the exiting PID 1
/// would set SIGCHLD to SIG_IGN in the handler table it shares with us.
#[test]
fn scope_refuses_newpid_with_shared_handlers() {
    let mut stack = Stack::new(STACK).unwrap();
    let word = FlagsWord::new(F::CLONE_VM | F::CLONE_SIGHAND | F::CLONE_NEWPID, SIGCHLD);
    // SAFETY: refused before any clone (asserted).
    let err = scope(|s| unsafe { s.spawn(&mut stack, word, || 0) }.map(|_| ())).unwrap_err();
    assert!(
        matches!(&err, Error::FlagNotAllowed(r) if r.flag() == "CLONE_NEWPID with CLONE_SIGHAND"),
        "{err}"
    );
    assert!(err.to_string().contains("SIG_IGN"));
}
