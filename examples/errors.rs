//! How clone says no: clonelab before the syscall, the kernel with an errno.
//!
//! clonelab refuses what it can see is wrong without asking the kernel: a stack
//! too small or misaligned, an exit signal out of range, a flag in clone()'s
//! signal byte. The kernel refuses the rest: EINVAL for a broken rule of
//! clone(2), EPERM without CAP_SYS_ADMIN. Run: `cargo run --example errors` (root or not).
//!
//! Expected output:
//!
//! ```text
//! Stack::new(4096)
//!   refused by clonelab: stack of 4096 bytes is too small: …
//! clone(CLONE_VM|SIGCHLD), stack top 0x…8
//!   refused by clonelab: child stack pointer 0x…8 is not 16-byte aligned…
//! ExitSignal::new(65)
//!   refused by clonelab: exit signal 65 (0x41) is out of range…
//! clone(CLONE_NEWTIME|SIGCHLD)
//!   refused by clonelab: flag bits 0x80 fall in clone()'s low byte…
//! clone(CLONE_SIGHAND|SIGCHLD)
//!   refused by the kernel: EINVAL (Invalid argument): CLONE_SIGHAND requires CLONE_VM
//! clone(CLONE_NEWNET|SIGCHLD) as uid …
//!   refused by the kernel: EPERM (Operation not permitted)…
//! ```

use clonelab::{clone, spawn, spawn_via, sys, CloneFlags as F, Errno, Error, ExitSignal};
use clonelab::{FlagsWord, Stack, Syscall, WaitStatus};
use std::ptr::null_mut;

/// The entry of a child that should never be made.
unsafe extern "C" fn never(_: *mut std::ffi::c_void) -> i32 {
    0
}

/// Print what was tried, who refused it and why; return the error.
fn refused<T, E: Into<Error>>(tried: &str, result: Result<T, E>) -> Error {
    let err = result.err().expect("this must be refused").into();
    let by = ["clonelab", "the kernel"][err.errno().is_some() as usize];
    println!("{tried}\n  refused by {by}: {err}");
    err
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sigchld = ExitSignal::SIGCHLD;
    let err = refused("Stack::new(4096)", Stack::new(4096));
    assert!(matches!(err, Error::StackTooSmall { .. }));

    let (stack, word) = (Stack::new(64 * 1024)?, FlagsWord::new(F::CLONE_VM, sigchld));
    let top = stack.top().wrapping_sub(8);
    // SAFETY: a child, were one made, would run `never` (it touches nothing) on `stack`.
    let made = unsafe { clone(word, top, null_mut(), null_mut(), 0, never, null_mut()) };
    let err = refused(&format!("clone({word}), stack top {top:p}"), made);
    assert!(matches!(err, Error::MisalignedStack { .. }));

    let err = refused("ExitSignal::new(65)", ExitSignal::new(65));
    assert_eq!(err, Error::SignalOutOfRange(65));

    let word = FlagsWord::new(F::CLONE_NEWTIME, sigchld);
    let tried = format!("clone({word})");
    let err = refused(&tried, spawn_via(Syscall::Clone, word, || 0));
    assert!(matches!(err, Error::FlagsInSignalByte { .. }));

    let word = FlagsWord::new(F::CLONE_SIGHAND, sigchld);
    let top = null_mut();
    // SAFETY: no CLONE_VM, no stack: a child, were one made, runs `never` on a copy of ours.
    let made = unsafe { clone(word, top, null_mut(), null_mut(), 0, never, null_mut()) };
    let err = refused(&format!("clone({word})"), made);
    assert!(matches!(err, Error::Kernel { rule: Some(_), .. })); // the rule it broke
    assert_eq!(err.errno(), Some(Errno::EINVAL));

    // EPERM: a child that has no capabilities asks for a network namespace.
    let word = FlagsWord::new(F::CLONE_NEWNET, sigchld);
    let mut child = spawn(FlagsWord::new(F::EMPTY, sigchld), || {
        let _ = sys::setresuid(65534, 65534, 65534); // root drops every capability
        let tried = format!("clone({word}) as uid {}", sys::geteuid());
        let err = refused(&tried, spawn(word, || 0)); // we wait, so the child prints
        (err.errno() != Some(Errno::EPERM)) as i32
    })?;
    assert_eq!(child.wait()?, WaitStatus::Exited(0), "not EPERM");
    Ok(())
}
