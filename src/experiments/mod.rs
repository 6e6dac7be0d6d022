//! The flag experiments: each one makes children with chosen clone flags and
//! *observes* what the flags changed.
//!
//! Every experiment module has the same shape:
//! - `observe() -> Result<Observed, Error>` runs the experiment and returns
//!   plain values (what the parent read, which inode it saw, ...) and the
//!   [`Calls`] record of every clone/clone3 call it made, each with all its
//!   arguments and its result ([`record`]);
//! - [`Recorded`] gives the record and the checks: each claim with the values
//!   it rests on, every claim with a contrast where the flag is missing;
//! - `Observed` prints the values for the tour.
//!
//! One record serves everything: the tour (`clonelab tour`) renders every
//! call from it (C call, flag bits, the registers ptrace observed, the other
//! arch's derived image) and checks it against the trace; the tests
//! (`tests/<module>.rs`, through `common::observe_traced`) assert the same;
//! the chapters' call tables (`docs/<module>.md`) are rendered from it by
//! `cargo xtask docs`. All of it is `no_std` and uses only clonelab's raw
//! syscalls, so the children can run it without libc or thread-local storage.
//!
//! One name per experiment: the module's (`clone_vm`), for its tour entry,
//! its test and its chapter; a further case of a module is `<module>.<case>`
//! (`newns.propagation`, run by `newns::propagation`). The [`registry`]
//! derives every entry's name from the module path.
//!
//! The modules beside the experiments:
//! - `harness` (crate-internal) runs a child and reaps it (`run_child`,
//!   [`SharedPage`], `raw_fork_like`);
//! - `host` (crate-internal) asks about this process (namespaces, kcmp, its
//!   cgroup: [`own_cgroup_dir`]);
//! - `text` (crate-internal) is text without an allocator ([`CPath`],
//!   [`TextBuffer`], [`contains`]);
//! - [`record`] is the record of calls and checks, and its match against a trace;
//! - [`registry`] lists every experiment for the tour ([`ALL`]).
//!
//! What the tour, the tests and the container use from them is re-exported
//! here; the rest is the experiments' own.
//!
//! The experiments, in the order the book teaches them. Each has a chapter,
//! `docs/<module>.md` (`cargo xtask book` renders the book):
//! - [`fork_vfork_thread`] — fork, vfork, a thread and a bare CLONE_VM child, compared by
//!   asking the kernel (kcmp) what each shares with its parent. The chapter:
//!   `docs/fork_vfork_thread.md`.
//! - [`exit_signal`] — the exit signal byte of the flags word: which signal the parent gets
//!   when the child exits (SIGCHLD, another, or none), and which waits can then reap it. The
//!   chapter: `docs/exit_signal.md`.
//! - [`clone_vm`] — CLONE_VM: a child made with it writes into the parent's memory; a fork-like
//!   child writes into its own copy. The chapter: `docs/clone_vm.md`.
//! - [`clone_fs`] — CLONE_FS: a child made with it changes the parent's current directory, root
//!   and umask; a child made without it changes only its own. The chapter: `docs/clone_fs.md`.
//! - [`files`] — paths and descriptors across clone: relative paths follow CLONE_FS, the
//!   descriptor table follows CLONE_FILES. The chapter: `docs/files.md`.
//! - [`signals`] — signal handlers across clone: CLONE_SIGHAND shares the parent's table of
//!   handlers, CLONE_CLEAR_SIGHAND resets the child's. The chapter: `docs/signals.md`.
//! - [`sysvsem`] — CLONE_SYSVSEM: parent and child share one System V semaphore undo list,
//!   applied when the last of them exits. The chapter: `docs/sysvsem.md`.
//! - [`relatives`] — CLONE_PARENT: the child becomes the caller's sibling, so the caller's
//!   parent reaps it. The chapter: `docs/relatives.md`.
//! - [`tids`] — the tid flags: CLONE_PARENT_SETTID and CLONE_CHILD_SETTID store the child's
//!   tid, CLONE_CHILD_CLEARTID clears it and wakes a futex waiter when the child exits. The
//!   chapter: `docs/tids.md`.
//! - [`settls`] — CLONE_SETTLS: the child starts with the thread pointer the caller chose, the
//!   register through which thread-local storage is found. The chapter: `docs/settls.md`.
//! - [`pidfd`] — CLONE_PIDFD: the parent gets a file descriptor for the child, a handle that
//!   cannot be recycled the way a pid can. The chapter: `docs/pidfd.md`.
//! - [`newuser`] — CLONE_NEWUSER: the child gets user and group ids and capabilities of its
//!   own, which a uid map ties to the parent's. The chapter: `docs/newuser.md`.
//! - [`newpid`] — CLONE_NEWPID: the child is PID 1 of a new PID namespace, while its parent
//!   sees an ordinary pid. The chapter: `docs/newpid.md`.
//! - [`newns`] — CLONE_NEWNS: the child gets a copy of the mount table, and mount propagation
//!   decides whether its mounts stay private. The chapter: `docs/newns.md`.
//! - [`newnet`] — CLONE_NEWNET: the child gets a new network stack with its own loopback, down,
//!   and none of our interfaces. The chapter: `docs/newnet.md`.
//! - [`namespaces`] — the UTS, IPC, cgroup and time namespaces: a child made with each flag is
//!   in a namespace of its own, as `/proc/self/ns` shows. The chapter: `docs/namespaces.md`.
//! - [`into_cgroup`] — clone3's CLONE_INTO_CGROUP: the child is born in a cgroup the parent
//!   chose and never runs in the parent's, as it would before a later write to `cgroup.procs`.
//!   The chapter: `docs/into_cgroup.md`.
//! - [`errors`] — the kernel's refusals: each invalid clone or clone3 call is made, and the
//!   errno the kernel returned is recorded beside the one clone(2) documents. The chapter:
//!   `docs/errors.md`.

pub(crate) mod harness;
pub(crate) mod host;
pub mod record;
pub mod registry;
pub(crate) mod text;

// What the tour, the tests and the container use; the rest of the harness is
// the experiments' own.
pub use harness::SharedPage;
pub use host::own_cgroup_dir;
pub use record::{Calls, Made, Recorded};
pub use registry::{Entry, Outcome, ALL};
pub use text::{contains, CPath, TextBuffer};

pub(crate) use harness::{
    raw_fork_like, raw_fork_like_call, reap_sharing_child, run_child, CHILD_STACK,
};
pub(crate) use host::{cgroup2_mount, map_root, namespace_flags, shares, Kcmp};
pub(crate) use text::{parse_decimal, Text};

pub mod clone_fs;
pub mod clone_vm;
pub mod errors;
pub mod exit_signal;
pub mod files;
pub mod fork_vfork_thread;
pub mod into_cgroup;
pub mod namespaces;
pub mod newnet;
pub mod newns;
pub mod newpid;
pub mod newuser;
pub mod pidfd;
pub mod relatives;
pub mod settls;
pub mod signals;
pub mod sysvsem;
pub mod tids;
