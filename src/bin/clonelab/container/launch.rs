//! The parent side of `clonelab container`: the one clone3 call that makes
//! every namespace, and what the parent does around it. It picks the flags
//! (CLONE_NEWUSER when not root, or for `--uid-map`), creates the cgroup
//! (`cgroup.rs`) and passes it as CLONE_INTO_CGROUP, falls back to clone and
//! `cgroup.procs` where clone3 is missing, writes the id maps, says "go" on
//! the sync pipe, and waits for the container's init (`supervise.rs`).
//!
//! Part of `container/`; `main.rs` calls [`run`]. Uses clonelab's raw
//! `clone3`/`clone`, `sys`, the register image of the call (for `--verbose`),
//! and std.

use super::cgroup::Cgroup;
use super::init::{container_entry, Plan};
use super::supervise::{exit_code, supervise};
use super::{cstr, say, Options};
use clonelab::clone::{clone, clone3, zeroed_args, CloneArgs};
use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall};
use clonelab::sys::signal::{self, SigSet};
use clonelab::{sys, CloneCall, Errno, Error, RegisterImage};
use linux_raw_sys::general as k;
use std::ffi::c_void;

/// Map the container's ids: `0 <our id> 1` (its root is us), or as real root
/// the `--uid-map` given (for both uids and gids).
fn write_id_maps(pid: i32, requested: Option<&str>) -> Result<(), String> {
    let uid = sys::geteuid();
    let gid = sys::getegid();
    let (uid_line, gid_line) = match requested {
        Some(map) => (format!("{map}\n"), format!("{map}\n")),
        None => (format!("0 {uid} 1\n"), format!("0 {gid} 1\n")),
    };
    std::fs::write(format!("/proc/{pid}/uid_map"), &uid_line)
        .map_err(|e| format!("uid_map: {e}"))?;
    if requested.is_none() {
        std::fs::write(format!("/proc/{pid}/setgroups"), "deny")
            .map_err(|e| format!("setgroups: {e}"))?;
    }
    std::fs::write(format!("/proc/{pid}/gid_map"), &gid_line).map_err(|e| format!("gid_map: {e}"))
}

/// The empty directory the init mounts the new root on: in `/dev/shm`
/// where there is one (a tmpfs), else in `/tmp`: made and removed in an
/// ext4 `/tmp` it slowed the start (`docs/container.md`, "Where the start
/// goes, against unshare(1)").
fn make_root_dir() -> Result<String, String> {
    let name = format!("clonelab-root-{}", std::process::id());
    let shm = format!("/dev/shm/{name}");
    if std::fs::create_dir(&shm).is_ok() {
        return Ok(shm);
    }
    let root = format!("/tmp/{name}");
    std::fs::create_dir_all(&root).map_err(|e| format!("mkdir {root}: {e}"))?;
    Ok(root)
}

/// Run the container; returns the exit code for the `clonelab` process.
pub fn run(o: &Options) -> Result<i32, String> {
    let mut flags = F::CLONE_NEWPID
        | F::CLONE_NEWNS
        | F::CLONE_NEWNET
        | F::CLONE_NEWUTS
        | F::CLONE_NEWIPC
        | F::CLONE_NEWCGROUP;
    if sys::geteuid() != 0 {
        flags |= F::CLONE_NEWUSER;
        say(
            o,
            "not root: adding CLONE_NEWUSER (the container's root maps to you)",
        );
        if o.uid_map.is_some() {
            return Err(
                "--uid-map needs real root: unprivileged, only your own id can be mapped".into(),
            );
        }
    } else if let Some(map) = &o.uid_map {
        flags |= F::CLONE_NEWUSER;
        say(
            o,
            format!("--uid-map: CLONE_NEWUSER with uid and gid map \"{map}\""),
        );
    }
    let cgroup = if o.memory.is_some() || o.pids.is_some() {
        Some(Cgroup::create(o)?)
    } else {
        None
    };
    let root = make_root_dir()?;
    // CLOEXEC: neither end may reach CMD. The init closes its copy of the
    // write end first, so if we die before "go" its read ends (EOF).
    let (sync_read, sync_write) = sys::pipe(k::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let plan = Plan {
        options: o,
        sync_read: sync_read.as_raw(),
        sync_write: sync_write.as_raw(),
        root: root.clone(),
    };
    // Block the signals PID 1 and we forward before any child exists.
    let set = SigSet::of(&[
        clonelab::Signal::SIGCHLD,
        clonelab::Signal::SIGINT,
        clonelab::Signal::SIGTERM,
    ]);
    signal::sigprocmask(k::SIG_BLOCK, Some(set)).map_err(|e| format!("sigprocmask: {e}"))?;

    let arg = &plan as *const Plan as *mut c_void;
    let cgroup_fd = match &cgroup {
        Some(c) => Some(
            sys::open(
                &cstr(&c.dir),
                k::O_RDONLY | k::O_DIRECTORY | k::O_CLOEXEC,
                0,
            )
            .map_err(|e| format!("open {}: {e}", c.dir))?,
        ),
        None => None,
    };
    let mut word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
    if cgroup_fd.is_some() {
        word.flags |= F::CLONE_INTO_CGROUP;
    }
    let (flags3, exit_signal) = word.encode_clone3().map_err(|e| e.to_string())?;
    let mut args = CloneArgs {
        flags: flags3,
        exit_signal,
        cgroup: cgroup_fd.as_ref().map_or(0, |fd| fd.as_raw() as u64),
        ..zeroed_args()
    };
    let mut call = CloneCall {
        syscall: Some(Syscall::Clone3),
        word,
        args_address: &args as *const CloneArgs as usize,
        ..CloneCall::default()
    };
    // SAFETY: fork-like (no CLONE_VM): the child runs container_entry on its own copy of `plan`.
    let mut result = unsafe { clone3(&mut args, size_of::<CloneArgs>(), container_entry, arg) };
    if let Err(Error::Kernel {
        errno: Errno::ENOSYS,
        ..
    }) = result
    {
        say(
            o,
            "clone3 is unavailable (ENOSYS): falling back to clone, then writing cgroup.procs",
        );
        word.flags = word.flags.without(F::CLONE_INTO_CGROUP);
        call = CloneCall {
            syscall: Some(Syscall::Clone),
            word,
            ..CloneCall::default()
        };
        let (no_stack, no_tid) = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: as above.
        result = unsafe { clone(word, no_stack, no_tid, no_tid, 0, container_entry, arg) };
        if let (Ok(pid), Some(c)) = (&result, &cgroup) {
            std::fs::write(format!("{}/cgroup.procs", c.dir), pid.to_string())
                .map_err(|e| format!("cgroup.procs: {e}"))?;
        }
    }
    if let Some(fd) = cgroup_fd {
        drop(fd);
    }
    let pid = result.map_err(|e| format!("clone: {e}"))?;
    if o.verbose {
        eprintln!(
            "container: one call made every namespace: {word} (flags {:#x})",
            word.flags.bits()
        );
        eprintln!(
            "container: registers ({}):\n{}",
            clonelab::arch::NAME,
            RegisterImage::of(&call)
        );
        eprintln!("container: init is pid {pid} here, pid 1 inside");
    }
    if flags.contains(F::CLONE_NEWUSER) {
        if let Err(e) = write_id_maps(pid, o.uid_map.as_deref()) {
            // The init waits for a "go" that will not come: end it, reap it.
            let _ = sys::kill(pid, clonelab::Signal::SIGKILL);
            let _ = clonelab::wait::wait_pid(pid, 0);
            return Err(e);
        }
    }
    // SAFETY: our copy of the read end is not needed; the write end says "go".
    unsafe {
        let _ = sys::close(sync_read.into_raw());
        let _ = sys::write(sync_write.as_fd(), b"g");
        let _ = sys::close(sync_write.into_raw());
    }
    let status = supervise(pid)?;
    say(o, format!("container init {status}"));
    drop(cgroup);
    let _ = std::fs::remove_dir(&root);
    Ok(exit_code(status))
}
