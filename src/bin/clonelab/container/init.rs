//! The container's init: the child of the clone3 call, PID 1 of the new
//! namespaces. It waits for the parent's go, becomes root of its user
//! namespace if it has one, sets the hostname, builds and enters the new root
//! (`rootfs.rs`), brings `lo` up, then runs CMD and supervises it
//! (`supervise.rs`).
//!
//! Part of `container/`; `launch.rs` passes [`container_entry`] and a
//! [`Plan`] to clone3. Uses clonelab's `sys` wrappers and `spawn`, signal
//! masks from `clonelab::sys::signal`, and std.

use super::supervise::{exit_code, supervise};
use super::{cstr, rootfs, say, Options};
use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord};
use clonelab::sys::signal::{self, SigSet};
use clonelab::{sys, WaitStatus};
use linux_raw_sys::general as k;
use std::ffi::{c_char, c_void, CString};
use std::io::Read;
use std::os::fd::FromRawFd;
use std::path::Path;

/// Everything the container's init needs, prepared before the clone.
pub(super) struct Plan<'a> {
    pub(super) options: &'a Options,
    /// The read end of the sync pipe: one byte says "go".
    pub(super) sync_read: i32,
    /// The write end: the init closes its copy at once, so that the read
    /// ends (EOF) if the parent dies before saying "go".
    pub(super) sync_write: i32,
    /// The directory that becomes the new root.
    pub(super) root: String,
}

/// The entry function clone3's child runs; `plan` points at a [`Plan`].
///
/// # Safety
///
/// `plan` must point at a live `Plan` in this (fork-like) child's copy of
/// the parent's memory.
pub(super) unsafe extern "C" fn container_entry(plan: *mut c_void) -> i32 {
    // SAFETY: plan points at the parent's Plan; this fork-like child has its own copy.
    let plan = unsafe { &*(plan as *const Plan) };
    match init(plan) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("container: {e}");
            125
        }
    }
}

/// The init side, up to the exec of CMD. Returns the exit code.
fn init(plan: &Plan) -> Result<i32, String> {
    let o = plan.options;
    let mut go = [0u8; 1];
    // SAFETY: the init's own copy of the write end (its own descriptor
    // table); nothing in the init uses it.
    let _ = unsafe { sys::close(plan.sync_write) };
    // SAFETY: sync_read is the pipe's read end, inherited from the parent.
    let mut pipe = unsafe { std::fs::File::from_raw_fd(plan.sync_read) };
    pipe.read_exact(&mut go)
        .map_err(|e| format!("waiting for the parent: {e}"))?;
    drop(pipe);

    if o.uid_map.is_some() {
        // Our ids outside (root's 0) have no mapping inside: become the
        // namespace's 0, which the map ties to the chosen outside id.
        sys::setresgid(0, 0, 0)
            .and_then(|()| sys::setresuid(0, 0, 0))
            .map_err(|e| format!("setresgid/setresuid 0: {e}"))?;
    }
    if let Some(name) = &o.hostname {
        sys::sethostname(name.as_bytes()).map_err(|e| format!("sethostname: {e}"))?;
    }
    let root = plan.root.as_str();
    rootfs::build(o, root)?;
    // A new network namespace has only lo, down; it is always interface 1.
    clonelab::net::netlink_link_up(1).map_err(|e| format!("RTM_NEWLINK lo up: {e}"))?;
    rootfs::switch_root(o, root)?;
    say(
        o,
        format!(
            "pid {} in the new namespaces; root pivoted; running {:?}",
            sys::getpid(),
            o.command
        ),
    );

    let status = run_command(&o.command)?;
    Ok(exit_code(status))
}

/// Fork CMD (signals unblocked for it), then supervise it as PID 1.
fn run_command(command: &[String]) -> Result<WaitStatus, String> {
    let program = resolve(&command[0]);
    let argv_c: Vec<CString> = command.iter().map(|a| cstr(a)).collect();
    let mut argv: Vec<*const c_char> = argv_c.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let env_c = [
        cstr("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        cstr("HOME=/"),
    ];
    let mut envp: Vec<*const c_char> = env_c.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    let child = clonelab::spawn(FlagsWord::new(F::EMPTY, ExitSignal::SIGCHLD), || {
        let _ = signal::sigprocmask(k::SIG_SETMASK, Some(SigSet::EMPTY));
        // SAFETY: NULL-terminated argv and envp built above.
        let errno = unsafe { sys::execve(&program, argv.as_ptr(), envp.as_ptr()) };
        let _ = sys::write(
            clonelab::BorrowedFd::STDERR,
            format!("container: exec {}: {errno}\n", command[0]).as_bytes(),
        );
        127
    })
    .map_err(|e| format!("fork: {e}"))?;
    supervise(child.pid())
}

/// PATH lookup for a bare command name.
fn resolve(name: &str) -> CString {
    if name.contains('/') {
        return cstr(name);
    }
    for dir in [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ] {
        let path = format!("{dir}/{name}");
        if Path::new(&path).exists() {
            return cstr(&path);
        }
    }
    cstr(name)
}
