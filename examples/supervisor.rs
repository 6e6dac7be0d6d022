//! A program that makes and manages its own children with clonelab alone.
//!
//! Every system call this file makes goes through clonelab's public API — no
//! `libc`, no `nix`, no `std::process`, no `std::fs`. (std still provides
//! `main`, strings, `format!` and printing, and its allocator makes calls of
//! its own.) It shows, in order:
//!
//! 1. a signal handler (SA_SIGINFO) installed with [`signal::sigaction`], run
//!    when a fork-like child signals its parent, and told the child's pid;
//! 2. a signal sent through the child's pidfd ([`Child::kill`] uses
//!    `pidfd_send_signal`), and the child reaped with the status that signal
//!    gave it;
//! 3. namespaces entered and left: a child born in a new UTS namespace names
//!    its host; the parent enters that namespace with `setns`, reads the
//!    name, and returns to its own; then it `unshare`s a UTS namespace of its
//!    own and comes back the same way.
//!
//! Run it as root (step 3 needs CAP_SYS_ADMIN; without it, step 3 says why it
//! is skipped): `cargo run --example supervisor`. `tests/supervisor.rs`
//! includes this file and checks what each step observed.

use clonelab::sys::consts::{O_CLOEXEC, O_RDONLY};
use clonelab::sys::signal::{self, SigAction, SigInfo};
use clonelab::{
    probe, spawn, sys, Child, CloneFlags, Errno, ExitSignal, FlagsWord, Pid, Signal, WaitStatus,
};
use std::ffi::{c_int, c_void, CString};
use std::sync::atomic::{AtomicI32, Ordering::SeqCst};
use std::time::Duration;

/// The pid the SIGUSR1 handler was told (0: not run yet).
static SENDER: AtomicI32 = AtomicI32::new(0);

/// The handler: async-signal-safe (one atomic store).
extern "C" fn on_usr1(
    _signal: c_int,
    info: *mut clonelab::linux_raw_sys::general::siginfo_t,
    _context: *mut c_void,
) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let info = unsafe { SigInfo::from_ptr(info) };
    SENDER.store(info.pid(), SeqCst);
}

/// Sleep in small steps until `done()` or about two seconds have passed.
fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if done() {
            return true;
        }
        let _ = sys::nanosleep(Duration::from_millis(10));
    }
    done()
}

/// How long a child waits to be told to stop before it gives up (exit 99):
/// no child of this program outlives it by more than this, whatever happens.
const PATIENCE: Duration = Duration::from_secs(30);

/// Child: sleep until killed, the parent has gone, or [`PATIENCE`] runs out.
fn linger() -> i32 {
    let parent = sys::getppid();
    let mut waited = Duration::ZERO;
    while waited < PATIENCE && sys::getppid() == parent {
        let _ = sys::nanosleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
    99
}

/// A fork-like child running `body`, with a pidfd.
fn child(flags: CloneFlags, body: impl FnOnce() -> i32) -> Result<Child, clonelab::Error> {
    spawn(
        FlagsWord::new(flags | CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD),
        body,
    )
}

type Failure = Box<dyn std::error::Error>;

/// What steps 1 and 2 saw.
#[derive(Debug)]
pub struct SignalsSeen {
    /// Whether the handler ran (within two seconds).
    pub handler_ran: bool,
    /// The sender's pid, as the handler's siginfo said.
    pub sender: Pid,
    /// The child's pid, as clone returned it.
    pub child: Pid,
    /// How the child ended after SIGTERM through its pidfd.
    pub status: WaitStatus,
}

/// Steps 1 and 2: a handler, a signal through a pidfd, a reaped child.
pub fn signals() -> Result<SignalsSeen, Failure> {
    let action = SigAction::info_handler(on_usr1);
    // SAFETY: on_usr1 only stores an atomic.
    let previous = unsafe { signal::sigaction(Signal::SIGUSR1, &action) }?;
    let mut kid = child(CloneFlags::EMPTY, || {
        let _ = sys::kill(sys::getppid(), Signal::SIGUSR1);
        linger()
    })?;
    let handler_ran = wait_until(|| SENDER.load(SeqCst) != 0);
    kid.kill(Signal::SIGTERM)?;
    let status = kid.wait()?;
    // SAFETY: `previous` was this process's action a moment ago.
    unsafe { signal::sigaction(Signal::SIGUSR1, &previous) }?;
    Ok(SignalsSeen {
        handler_ran,
        sender: SENDER.load(SeqCst),
        child: kid.pid(),
        status,
    })
}

fn hostname() -> String {
    let mut buf = [0u8; 65];
    String::from_utf8_lossy(probe::hostname(&mut buf).unwrap_or(b"?")).into_owned()
}

/// What step 3 saw: hostnames before, inside and after each namespace.
#[derive(Debug)]
pub struct NamespacesSeen {
    /// Ours, at the start.
    pub before: String,
    /// Inside the child's UTS namespace (entered with setns).
    pub in_child_namespace: String,
    /// After setns back to ours.
    pub after_setns: String,
    /// How the child ended (SIGKILL through its pidfd).
    pub child_status: WaitStatus,
    /// Inside a namespace of our own (unshare), after renaming it.
    pub in_unshared: String,
    /// After setns back to ours again.
    pub after_unshare: String,
}

/// Step 3: enter a child's namespace and leave it; unshare one and leave it.
/// `Ok(None)` when we lack the privilege (the reason is printed).
pub fn namespaces() -> Result<Option<NamespacesSeen>, Failure> {
    // This thread's namespace (a test runs this on a thread other than main).
    let home = sys::open(c"/proc/thread-self/ns/uts", O_RDONLY | O_CLOEXEC, 0)?;
    let before = hostname();
    let mut kid = match child(CloneFlags::CLONE_NEWUTS, || {
        if sys::sethostname(b"child-box").is_err() {
            return 1;
        }
        linger()
    }) {
        Err(e) if e.errno() == Some(Errno::EPERM) => {
            eprintln!("namespaces: skipped: CLONE_NEWUTS needs CAP_SYS_ADMIN ({e})");
            return Ok(None);
        }
        other => other?,
    };
    let path = CString::new(format!("/proc/{}/ns/uts", kid.pid()))?;
    let theirs = sys::open(&path, O_RDONLY | O_CLOEXEC, 0)?;
    // The child may not have renamed its host yet.
    let mut inside = String::new();
    wait_until(|| {
        let _ = sys::setns(theirs.as_fd(), CloneFlags::CLONE_NEWUTS);
        inside = hostname();
        let _ = sys::setns(home.as_fd(), CloneFlags::CLONE_NEWUTS);
        inside == "child-box"
    });
    let after_setns = hostname();
    kid.kill(Signal::SIGKILL)?;
    let child_status = kid.wait()?;

    sys::unshare(CloneFlags::CLONE_NEWUTS)?;
    sys::sethostname(b"unshared")?;
    let in_unshared = hostname();
    sys::setns(home.as_fd(), CloneFlags::CLONE_NEWUTS)?;
    Ok(Some(NamespacesSeen {
        before,
        in_child_namespace: inside,
        after_setns,
        child_status,
        in_unshared,
        after_unshare: hostname(),
    }))
}

#[allow(dead_code)] // tests/supervisor.rs includes this file as a module
fn main() -> Result<(), Failure> {
    println!("{:#?}", signals()?);
    println!("{:#?}", namespaces()?);
    Ok(())
}
