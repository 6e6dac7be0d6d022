//! CLONE_PARENT: whose child is it?
//!
//! A child of ours, the middle, makes a grandchild with a raw clone(): once
//! with CLONE_PARENT, once without (each line shows the grandchild's flags
//! word). The middle tries to wait for it, then we do. Only a task's parent
//! can wait for it, and its exit signal goes there.
//! Run: `cargo run --example relatives`.
//!
//! Expected output:
//!
//! ```text
//! with CLONE_PARENT (0x8011): grandchild …: the middle's wait4 failed with ECHILD (No child processes); ours reaped it: exited with status 0
//! without CLONE_PARENT (0x11): grandchild …: the middle's wait4 reaped it: exited with status 0; ours failed with ECHILD (No child processes)
//! ```

use clonelab::sys::{self, consts::__WALL, consts::O_CLOEXEC, BorrowedFd};
use clonelab::{
    clone, spawn, wait::wait_pid, CloneFlags, Errno, ExitSignal, FlagsWord, Pid, WaitStatus,
};
use std::ffi::{c_int, c_void};
use std::ptr::null_mut;

/// The grandchild: it only exits, with status 0.
unsafe extern "C" fn grandchild(_arg: *mut c_void) -> c_int {
    0
}

/// What a wait4 said, in words.
fn said(waited: Result<WaitStatus, Errno>) -> String {
    match waited {
        Ok(status) => format!("reaped it: {status}"),
        Err(e) => format!("failed with {e}"),
    }
}

/// The middle: make the grandchild, try to wait for it, and report both.
fn middle(word: FlagsWord, report_to: BorrowedFd) -> i32 {
    let (no_stack, no_tid) = (null_mut(), null_mut());
    // clonelab::clone(word, stack_top, parent_tid, child_tid, tls, fn, arg)
    // SAFETY: fork-like (no CLONE_VM): with stack 0 the grandchild runs on its
    // own copy of our stack, and it only returns.
    let made = unsafe { clone(word, no_stack, no_tid, no_tid, 0, grandchild, null_mut()) };
    let Ok(pid) = made else { return 1 };
    // __WALL: any child of ours, whatever its exit signal.
    let report = format!("{pid} {}", said(wait_pid(pid, __WALL)));
    sys::write(report_to, report.as_bytes()).is_err() as i32
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sigchld = ExitSignal::SIGCHLD;
    for (name, flags, ours) in [
        ("with CLONE_PARENT", CloneFlags::CLONE_PARENT, true),
        ("without CLONE_PARENT", CloneFlags::EMPTY, false),
    ] {
        let word = FlagsWord::new(flags, sigchld); // the grandchild's
        let (reader, writer) = sys::pipe(O_CLOEXEC)?;
        let mut child = spawn(FlagsWord::new(CloneFlags::EMPTY, sigchld), || {
            middle(word, writer.as_fd())
        })?;
        drop(writer); // so that our read ends if the middle writes nothing
        let mut buf = [0u8; 64];
        let n = sys::read(reader.as_fd(), &mut buf)?;
        let report = std::str::from_utf8(&buf[..n])?;
        let (pid, middle_saw) = report.split_once(' ').ok_or("no report")?;
        let pid: Pid = pid.parse()?;
        let we_saw = wait_pid(pid, 0); // plain wait4: reaps it if it is ours
        let word = word.encode_clone()?;
        println!(
            "{name} ({word:#x}): grandchild {pid}: the middle's wait4 {middle_saw}; ours {}",
            said(we_saw)
        );
        assert_eq!(child.wait()?, WaitStatus::Exited(0));
        assert_eq!(we_saw.is_ok(), ours); // ours to reap only with CLONE_PARENT
        assert_eq!(middle_saw.starts_with("reaped"), !ours); // and then not the middle's
    }
    Ok(())
}
