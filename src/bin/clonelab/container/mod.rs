//! `clonelab container [options] -- CMD ARGS...`: a minimal container made of
//! one clone3 call and clonelab's raw syscalls. See `docs/container.md`.
//!
//! ```text
//! clonelab (parent)                       container init (PID 1 of the new namespaces)
//!   cgroup: mkdir, memory.max, pids.max          (cgroup.rs)
//!   clone3(NEWPID|NEWNS|NEWNET|NEWUTS|    ──►  waits on the sync pipe
//!          NEWIPC|NEWCGROUP[|NEWUSER]
//!          [|INTO_CGROUP], SIGCHLD)              (launch.rs)
//!   uid_map / gid_map (if NEWUSER)
//!   sync pipe: "go"                       ──►  sethostname; / made private; new root on tmpfs
//!                                              with read-only binds; /dev; lo up (netlink);
//!                                              pivot_root; old root detached; /proc mounted
//!                                                (init.rs, rootfs.rs)
//!                                              fork + exec CMD; forward SIGINT/SIGTERM;
//!   forwards SIGINT/SIGTERM; waits      ◄──    reap orphans; exit with CMD's status
//!   rmdir cgroup; exit with that status          (supervise.rs)
//! ```
//!
//! The modules, in the order of a run: `options` (the command line),
//! `cgroup` (the limits), `launch` (the parent: the clone3 call, the id maps,
//! the go signal), `init` (the container's PID 1), `rootfs` (its mounts and
//! new root), `supervise` (PID 1's and the parent's wait loop), and `probe`
//! (`clonelab container-probe`, what the tests run inside). They use
//! clonelab's public API (`clone3`, `sys`, `spawn`), `linux-raw-sys` for
//! constants, and std; nothing else in the binary uses them.

mod cgroup;
mod init;
mod launch;
mod options;
mod probe;
mod rootfs;
mod supervise;

pub use launch::run;
pub use options::Options;
pub use probe::probe;

use std::ffi::CString;

/// Print a step of the run on stderr, if `--verbose`.
fn say(o: &Options, what: impl AsRef<str>) {
    if o.verbose {
        eprintln!("container: {}", what.as_ref());
    }
}

/// A path or argument as a C string (none of ours holds a NUL).
fn cstr(s: &str) -> CString {
    CString::new(s).expect("no NUL in paths")
}
