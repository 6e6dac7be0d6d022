//! The kernel's constants that the calls of [`crate::sys`] take, re-exported
//! from `linux-raw-sys` with the types those calls use (`u32`), so a program
//! built on clonelab needs neither libc nor casts.
//!
//! Where it sits: beside the wrappers; it defines nothing, it only names.
//! Clone flags are [`crate::CloneFlags`], signals [`crate::Signal`].

pub use linux_raw_sys::general::{
    __WALL, __WCLONE, __WNOTHREAD, AT_FDCWD, AT_REMOVEDIR, CLOCK_MONOTONIC, FD_CLOEXEC, F_GETFD,
    MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MAP_STACK, MNT_DETACH, MS_BIND, MS_NODEV, MS_NOEXEC,
    MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SHARED, MS_SLAVE, O_CLOEXEC, O_CREAT,
    O_DIRECTORY, O_EXCL, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, PROT_EXEC,
    PROT_NONE, PROT_READ, PROT_WRITE, P_ALL, P_PGID, P_PID, P_PIDFD, RLIMIT_NOFILE, RLIMIT_NPROC,
    SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, STATX_BASIC_STATS, WCONTINUED, WEXITED, WNOHANG, WNOWAIT,
    WSTOPPED, WUNTRACED,
};
