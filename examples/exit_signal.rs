//! The exit signal: what the parent is sent when a child exits, and who can wait.
//!
//! Three fork-like children, exit signals SIGCHLD, SIGURG and 0 (none), exit
//! with codes 1, 2 and 3. A handler notes the signal each exit brings; a plain
//! and a `__WCLONE` wait are asked if they see the exited child; then it is
//! reaped. Last, clone3 is offered exit signal 145. Run: `cargo run --example exit_signal`.
//!
//! Expected output:
//!
//! ```text
//! exit signal SIGCHLD: the parent got SIGCHLD; a plain wait sees it: true; a __WCLONE wait: false; reaped: exited with status 1
//! exit signal SIGURG: the parent got SIGURG; a plain wait sees it: false; a __WCLONE wait: true; reaped: exited with status 2
//! exit signal 0: the parent got no signal; a plain wait sees it: false; a __WCLONE wait: true; reaped: exited with status 3
//! clone3 with exit signal 145: EINVAL (Invalid argument)
//! ```

use clonelab::clone::{clone3_raw, zeroed_args};
use clonelab::sys::consts::{__WALL, __WCLONE, P_PID, SIG_UNBLOCK, WEXITED, WNOHANG, WNOWAIT};
use clonelab::sys::signal::{sigaction, sigprocmask, SaFlags, SigAction, SigSet};
use clonelab::{spawn, sys, CloneArgs, CloneFlags, Errno, ExitSignal, FlagsWord, Signal};
use std::sync::atomic::{AtomicI32, Ordering::SeqCst};

/// The last signal the handler ran for (0: none since we cleared it).
static GOT: AtomicI32 = AtomicI32::new(0);
extern "C" fn note(signal: i32) {
    GOT.store(signal, SeqCst);
}

/// Whether a wait with `options` can see `pid` (WNOWAIT: look, do not reap).
fn sees(pid: i32, options: u32) -> bool {
    sys::waitid(P_PID, pid as u32, WEXITED | WNOHANG | WNOWAIT | options).is_ok()
}

unsafe extern "C" fn exit_0(_: *mut std::ffi::c_void) -> i32 {
    0
}

fn main() -> Result<(), clonelab::Error> {
    let action = SigAction::handler(note).with_flags(SaFlags::RESTART);
    let caught = [Signal::SIGCHLD, Signal::SIGURG];
    for signal in caught {
        // SAFETY: the handler does one atomic store.
        unsafe { sigaction(signal, &action) }?;
    }
    // Whoever started us may have blocked them; a blocked signal never runs the handler.
    sigprocmask(SIG_UNBLOCK, Some(SigSet::of(&caught)))?;
    let urg = Signal::SIGURG.into();
    for (exit_signal, code) in [(ExitSignal::SIGCHLD, 1), (urg, 2), (ExitSignal::NONE, 3)] {
        GOT.store(0, SeqCst);
        let mut child = spawn(FlagsWord::new(CloneFlags::EMPTY, exit_signal), || code)?;
        // Wait until it has exited, without reaping it (__WALL: any child).
        sys::waitid(P_PID, child.pid() as u32, WEXITED | WNOWAIT | __WALL)?;
        let (plain, wclone) = (sees(child.pid(), 0), sees(child.pid(), __WCLONE));
        let status = child.wait()?; // reaps it (with __WCLONE if it is a clone child)
        let got = GOT.load(SeqCst);
        let name = Signal::new(got as u32).map_or("no signal".into(), |s| s.to_string());
        println!("exit signal {exit_signal}: the parent got {name}; a plain wait sees it: {plain}; a __WCLONE wait: {wclone}; reaped: {status}");
        assert_eq!(got as u32, exit_signal.number(), "the signal sent at exit");
        assert_eq!(status, clonelab::WaitStatus::Exited(code), "exit status");
        let sigchld = exit_signal.is_sigchld();
        assert_eq!((plain, wclone), (sigchld, !sigchld), "who can wait for it");
    }
    if !clonelab::clone3_available() {
        println!("skipped: this kernel has no clone3");
        return Ok(());
    }
    let mut args = zeroed_args();
    args.exit_signal = 145; // above _NSIG (64)
    let size = size_of::<CloneArgs>();
    // SAFETY: no pointers in args: a fork-like request; a child, if made, only exits.
    let made = unsafe { clone3_raw(&mut args, size, exit_0, std::ptr::null_mut()) };
    if let Ok(pid) = made {
        clonelab::wait::wait_pid(pid, __WALL)?;
    }
    let errno = made.err().and_then(|e| e.errno());
    let said = errno.map_or("a child".into(), |e| e.to_string());
    println!("clone3 with exit signal 145: {said}");
    assert_eq!(errno, Some(Errno::EINVAL));
    Ok(())
}
