//! The syscall layer: typed wrappers, one syscall each, named after its man page.
//!
//! Where it sits: directly on [`crate::arch`] (the raw `syscall0..6`) and
//! [`crate::errno`]; everything above (stacks, clone, wait, spawn, trace)
//! is built on it, and nothing here reaches up. None of these functions
//! allocates or touches thread-local state, so all of them are fine to call
//! in a child that shares memory with its parent.
//!
//! By family, like the man pages' sections:
//!
//! | module | calls |
//! |--------|-------|
//! | [`process`] | `getpid`, `getppid`, `gettid`, `exit`, `exit_group`, `fork`, `execve`, `wait4`, `waitid`, `kcmp`, `ptrace`, sessions and groups, `setrlimit`, `nanosleep`, `sched_yield` |
//! | [`cred`] | user and group ids, `capget`, `capset` |
//! | [`fd`] | [`OwnedFd`], [`BorrowedFd`], `read`, `write`, `pipe`, `dup3`, `close`, `fcntl`, [`is_open`] |
//! | [`fs`] | `open`, `statx`, `readlink`, `chdir`, `getcwd`, `umask`, `mkdir`, `rmdir`, `unlink`, `chroot` |
//! | [`memory`] | `mmap`, `munmap`, `mprotect` |
//! | [`mount`](mod@mount) | `mount`, `umount2`, `pivot_root` |
//! | [`ns`] | `unshare`, `setns` |
//! | [`futex`] | `futex` wait and wake |
//! | [`poll`] | `ppoll`, `epoll_create1`, `epoll_ctl`, `epoll_wait` (a pidfd is readable once its process exits) |
//! | [`prctl`] | `prctl`: the parent-death signal, the child subreaper, keeping capabilities |
//! | [`signal`] | [`Signal`](crate::Signal) sets, masks, `sigaction`, `kill`, `tgkill`, `pidfd_send_signal`, queued signals with a value (`sigqueue`), `signalfd` |
//! | [`system`] | `uname`, `sethostname` |
//! | [`consts`] | the kernel's constants these calls take (`O_*`, `MAP_*`, `MS_*`, `__WALL`, ...) |
//!
//! Every name is also re-exported here, so `clonelab::sys::getpid` works.
//! Helpers that compose several calls live above: [`crate::probe`] (reading
//! `/proc`, namespace identities, the kernel version), [`crate::net`].

pub mod consts;
pub mod cred;
pub mod fd;
pub mod fs;
pub mod futex;
pub mod memory;
pub mod mount;
pub mod ns;
pub mod poll;
pub mod prctl;
pub mod process;
pub mod signal;
pub mod system;

/// A process or thread id as the kernel hands it out.
pub type Pid = i32;

pub use cred::{
    capget, capset, getegid, geteuid, getgid, getuid, setresgid, setresuid, Capabilities,
};
pub use fd::{close, dup3, fcntl_getfd, is_open, pipe, read, write, BorrowedFd, OwnedFd};
pub use fs::{chdir, chroot, getcwd, mkdir, open, readlink, rmdir, statx, umask, unlink};
pub use futex::{futex_wait, futex_wait_timeout, futex_wake};
pub use memory::{mmap_anonymous, mprotect, munmap};
pub use mount::{mount, pivot_root, umount2};
pub use ns::{setns, unshare, unshare_unchecked};
pub use poll::{epoll_create1, epoll_ctl, epoll_wait, ppoll};
pub use prctl::{
    get_child_subreaper, get_keepcaps, get_pdeathsig, set_child_subreaper, set_keepcaps,
    set_pdeathsig,
};
pub use process::{
    execve, exit, exit_group, fork, getpgid, getpid, getppid, getsid, gettid, kcmp, nanosleep,
    ptrace, sched_yield, setpgid, setrlimit, setsid, wait4, waitid, Kcmp,
};
pub use signal::{
    kill, kill_probe, pidfd_send_signal, pidfd_sigqueue, read_signalfd, signalfd, sigqueue, tgkill,
};
pub use system::{sethostname, uname};
