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

#[doc = include_str!("../../docs/clone_fs.md")]
pub mod clone_fs;
#[doc = include_str!("../../docs/clone_vm.md")]
pub mod clone_vm;
#[doc = include_str!("../../docs/errors.md")]
pub mod errors;
#[doc = include_str!("../../docs/exit_signal.md")]
pub mod exit_signal;
#[doc = include_str!("../../docs/files.md")]
pub mod files;
#[doc = include_str!("../../docs/fork_vfork_thread.md")]
pub mod fork_vfork_thread;
#[doc = include_str!("../../docs/into_cgroup.md")]
pub mod into_cgroup;
#[doc = include_str!("../../docs/namespaces.md")]
pub mod namespaces;
#[doc = include_str!("../../docs/newnet.md")]
pub mod newnet;
#[doc = include_str!("../../docs/newns.md")]
pub mod newns;
#[doc = include_str!("../../docs/newpid.md")]
pub mod newpid;
#[doc = include_str!("../../docs/newuser.md")]
pub mod newuser;
#[doc = include_str!("../../docs/pidfd.md")]
pub mod pidfd;
#[doc = include_str!("../../docs/relatives.md")]
pub mod relatives;
#[doc = include_str!("../../docs/settls.md")]
pub mod settls;
#[doc = include_str!("../../docs/signals.md")]
pub mod signals;
#[doc = include_str!("../../docs/sysvsem.md")]
pub mod sysvsem;
#[doc = include_str!("../../docs/tids.md")]
pub mod tids;
