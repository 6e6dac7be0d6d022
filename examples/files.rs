//! CLONE_FILES: does the child's close() close the parent's descriptor?
//!
//! The parent opens /dev/null. A fork-like child closes that descriptor
//! number and exits. Then the parent asks the kernel whether the number is
//! still open in its own table (`fcntl(fd, F_GETFD)`). Once with CLONE_FILES
//! (one table for both), once without (the child has a copy). Each line
//! shows the flags word the call carried. Run: `cargo run --example files`.
//!
//! Expected output:
//!
//! ```text
//! with CLONE_FILES (0x411): the child ran close(…) and exited with status 0; then our fcntl(…, F_GETFD) failed with EBADF (Bad file descriptor)
//! without CLONE_FILES (0x11): the child ran close(…) and exited with status 0; then our fcntl(…, F_GETFD) returned 1
//! ```

use clonelab::sys::consts::{O_CLOEXEC, O_RDONLY};
use clonelab::{
    spawn_unchecked, sys, CloneFlags, Errno, ExitSignal, FlagsWord, Syscall, WaitStatus,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for (name, flags, shared) in [
        ("with CLONE_FILES", CloneFlags::CLONE_FILES, true),
        ("without CLONE_FILES", CloneFlags::EMPTY, false),
    ] {
        // c"...": a NUL-terminated C string. into_raw: from here on `fd` is a
        // bare number, which no OwnedFd in this process will close.
        let fd = sys::open(c"/dev/null", O_RDONLY | O_CLOEXEC, 0)?.into_raw();
        let close_it = || {
            // SAFETY: `fd` belongs to this loop alone; nothing else uses it.
            unsafe { sys::close(fd) }.is_err() as i32
        };
        let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
        // Make the child with clone (not clone3).
        // SAFETY: the child closes only `fd`, which no owner in this process
        // holds, and the parent touches no descriptor until it has reaped it.
        let mut child = unsafe { spawn_unchecked(Syscall::Clone, word, close_it) }?;
        let status = child.wait()?;
        // The descriptor's flags (1 = FD_CLOEXEC), or EBADF if it is not open.
        let after = sys::fcntl_getfd(fd);
        let word = child.call().word.encode_clone()?; // the word the call carried
        let said = match after {
            Ok(flags) => format!("returned {flags}"),
            Err(e) => format!("failed with {e}"),
        };
        println!(
            "{name} ({word:#x}): the child ran close({fd}) and {status}; then our fcntl({fd}, F_GETFD) {said}"
        );
        if after.is_ok() {
            // SAFETY: still open in our table, and still ours alone.
            unsafe { sys::close(fd) }?;
        }
        assert_eq!(status, WaitStatus::Exited(0)); // the child's close succeeded
        assert_eq!(after == Err(Errno::EBADF), shared); // closed here only if shared
    }
    Ok(())
}
