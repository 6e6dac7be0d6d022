//! CLONE_FILES: does the child's close() close the parent's descriptor?
//!
//! The parent opens /dev/null and hands that descriptor to a fork-like
//! child, which closes it and exits. Then the parent asks the kernel whether
//! the number is still open in its own table (`sys::is_open`, which is
//! `fcntl(fd, F_GETFD)`). Once with CLONE_FILES (one table for both), once
//! without (the child has a copy). Each line shows the flags word the call
//! carried. Run: `cargo run --example files`.
//!
//! Expected output:
//!
//! ```text
//! with CLONE_FILES (0x411): the child ran close(…) and exited with status 0; then is_open(…) in the parent: false
//! without CLONE_FILES (0x11): the child ran close(…) and exited with status 0; then is_open(…) in the parent: true
//! ```

use clonelab::sys::consts::{O_CLOEXEC, O_RDONLY};
use clonelab::{spawn_unchecked, sys, CloneFlags, ExitSignal, FlagsWord, Syscall, WaitStatus};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for (name, flags, shared) in [
        ("with CLONE_FILES", CloneFlags::CLONE_FILES, true),
        ("without CLONE_FILES", CloneFlags::EMPTY, false),
    ] {
        // c"...": a NUL-terminated C string. `file` owns the descriptor;
        // `fd` is only its number, kept to ask about it afterwards.
        let file = sys::open(c"/dev/null", O_RDONLY | O_CLOEXEC, 0)?;
        let fd = file.as_raw();
        // `move`: the closure, which only the child runs, owns `file` and
        // closes it; close() reports an error where a drop would not.
        let close_it = move || file.close().is_err() as i32;
        let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
        // Make the child with clone (not clone3).
        // SAFETY: the child closes only `file`, which its closure owns; the
        // parent's copy of the closure is never run or dropped, and the
        // parent touches no descriptor until it has reaped the child.
        let mut child = unsafe { spawn_unchecked(Syscall::Clone, word, close_it) }?;
        let status = child.wait()?;
        // Safe with a bare number: is_open only asks (fcntl F_GETFD).
        let open_here = sys::is_open(fd);
        let word = child.call().word.encode_clone()?; // the word the call carried
        println!(
            "{name} ({word:#x}): the child ran close({fd}) and {status}; then is_open({fd}) in the parent: {open_here}"
        );
        if open_here {
            // SAFETY: still open in our table, and no owner is left in this
            // process (the closure that owned it was never dropped here).
            unsafe { sys::close(fd) }?;
        }
        assert_eq!(status, WaitStatus::Exited(0)); // the child's close succeeded
        assert_eq!(open_here, !shared); // closed here only if shared
    }
    Ok(())
}
