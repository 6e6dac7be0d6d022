//! CLONE_VM: does the parent see what the child writes?
//!
//! A child made with CLONE_VM stores into a variable of ours; a child made
//! without it stores into its own copy. Each line shows the flags word the
//! call really carried. Run: `cargo run --example clone_vm`.
//!
//! Expected output:
//!
//! ```text
//! with CLONE_VM (0x380111): the child stored 0x5eed; the parent reads 0x5eed
//! without CLONE_VM (0x11): the child stored 0x5eed; the parent reads 0x0
//! ```

use clonelab::{scope, spawn, CloneFlags, ExitSignal, FlagsWord, Stack, WaitStatus};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// What each child stores.
const WRITTEN: u64 = 0x5EED;

fn main() -> Result<(), clonelab::Error> {
    let sigchld = ExitSignal::SIGCHLD;

    // With CLONE_VM the child runs in our memory, so it needs a stack of its
    // own, and a scope that waits for it before `value` and `stack` go away.
    let value = AtomicU64::new(0);
    let mut stack = Stack::new(64 * 1024)?;
    let word = FlagsWord::new(CloneFlags::CLONE_VM, sigchld);
    let (call, status) = scope(|s| {
        let store = || {
            value.store(WRITTEN, SeqCst);
            0
        };
        // SAFETY: the child does one atomic store: no TLS, no allocation, no panic.
        let child = unsafe { s.spawn(&mut stack, word, store) }?;
        Ok::<_, clonelab::Error>((*child.call(), child.join()?))
    })?;
    let with_vm = value.load(SeqCst);
    assert_eq!(status, WaitStatus::Exited(0));
    let word = call.word.encode_clone()?;
    println!(
        "with CLONE_VM ({word:#x}): the child stored {WRITTEN:#x}; the parent reads {with_vm:#x}"
    );

    // Without CLONE_VM (fork-like): the child stores into its copy of `value`.
    let value = AtomicU64::new(0);
    let mut child = spawn(FlagsWord::new(CloneFlags::EMPTY, sigchld), || {
        value.store(WRITTEN, SeqCst);
        0
    })?;
    assert_eq!(child.wait()?, WaitStatus::Exited(0));
    let without_vm = value.load(SeqCst);
    let word = child.call().word.encode_clone()?;
    println!("without CLONE_VM ({word:#x}): the child stored {WRITTEN:#x}; the parent reads {without_vm:#x}");

    let hex = |v: u64| format!("{v:#x}"); // the base printed above
    assert_eq!(hex(with_vm), hex(WRITTEN), "with CLONE_VM: one memory");
    assert_eq!(hex(without_vm), hex(0), "without: the child's own copy");
    Ok(())
}
