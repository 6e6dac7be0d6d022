//! CLONE_SIGHAND: does a handler the child installs run in the parent?
//!
//! The parent ignores SIGUSR2. A child in our memory (CLONE_VM) installs a
//! handler for it and exits; then the parent sends itself SIGUSR2 and counts
//! the handler's runs. Last, a fork-like clone3 child reads which handler it
//! inherited from ours, with and without CLONE_CLEAR_SIGHAND.
//! Run: `cargo run --example signals`.
//!
//! Expected output:
//!
//! ```text
//! with CLONE_SIGHAND:    the child ran sigaction and exited with status 0; SIGUSR2 to us ran the handler 1 time(s)
//! without CLONE_SIGHAND: the child ran sigaction and exited with status 0; SIGUSR2 to us ran the handler 0 time(s)
//! without CLONE_CLEAR_SIGHAND: the child reads handler 0x…; ours is 0x…
//! with CLONE_CLEAR_SIGHAND:    the child reads handler 0x0; ours is 0x…
//! ```

use clonelab::sys::{consts::O_CLOEXEC, signal, signal::SigAction};
use clonelab::WaitStatus::Exited;
use clonelab::{scope, spawn_via, sys, CloneFlags, ExitSignal, FlagsWord, Signal, Stack, Syscall};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

const SIGUSR2: Signal = Signal::SIGUSR2;
static RUNS: AtomicU32 = AtomicU32::new(0);

/// The SIGUSR2 handler: one atomic add, which is async-signal-safe.
extern "C" fn count(_signal: std::ffi::c_int) {
    RUNS.fetch_add(1, SeqCst);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if !clonelab::clone3_available() {
        println!("skipped: this kernel has no clone3, and CLONE_CLEAR_SIGHAND needs it");
        return Ok(());
    }
    let (ours, mut stack) = (SigAction::handler(count), Stack::new(64 * 1024)?);
    let (vm, sighand) = (CloneFlags::CLONE_VM, CloneFlags::CLONE_SIGHAND);
    for (name, flags, runs) in [
        ("with CLONE_SIGHAND:   ", vm | sighand, 1),
        ("without CLONE_SIGHAND:", vm, 0),
    ] {
        signal::ignore(SIGUSR2)?;
        RUNS.store(0, SeqCst);
        // SAFETY: `count` only adds to an atomic.
        let install = || unsafe { signal::sigaction(SIGUSR2, &ours) }.is_err() as i32;
        let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
        // SAFETY: the child makes one raw syscall: no TLS, no allocation, no panic.
        let status = scope(|s| unsafe { s.spawn(&mut stack, word, install) }?.join())?;
        signal::raise(SIGUSR2)?; // runs a handler only if our table has one
        let ran = RUNS.load(SeqCst);
        println!(
            "{name} the child ran sigaction and {status}; SIGUSR2 to us ran the handler {ran} time(s)"
        );
        assert_eq!((status, ran), (Exited(0), runs));
    }
    // SAFETY: `count` only adds to an atomic.
    unsafe { signal::sigaction(SIGUSR2, &ours) }?;
    let (handler, clear) = (ours.handler_address(), CloneFlags::CLONE_CLEAR_SIGHAND);
    for (name, flags, expected) in [
        ("without CLONE_CLEAR_SIGHAND:", CloneFlags::EMPTY, handler),
        ("with CLONE_CLEAR_SIGHAND:   ", clear, 0), // 0 is SIG_DFL
    ] {
        let (reader, writer) = sys::pipe(O_CLOEXEC)?;
        let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
        let mut child = spawn_via(Syscall::Clone3, word, || {
            let seen = signal::current_action(SIGUSR2).map_or(usize::MAX, |a| a.handler_address());
            sys::write(writer.as_fd(), &seen.to_ne_bytes()).is_err() as i32
        })?;
        let status = child.wait()?;
        let mut bytes = [0u8; size_of::<usize>()];
        sys::read(reader.as_fd(), &mut bytes)?;
        let seen = usize::from_ne_bytes(bytes);
        println!("{name} the child reads handler {seen:#x}; ours is {handler:#x}");
        assert_eq!((status, seen), (Exited(0), expected));
    }
    signal::set_default(SIGUSR2)?;
    Ok(())
}
