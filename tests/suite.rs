//! # The integration tests: one binary, each module in a process of its own.
//!
//! Every file in `tests/` is a module of this one test binary (`autotests =
//! false` in `Cargo.toml`), so each arch compiles and statically links one
//! test executable instead of one per file. The modules were written as
//! separate programs, and some of them change what a process has only one
//! of: `clone_fs` the cwd and umask, `soak` counts the process's
//! descriptors, mappings and children, `panic_exit` must be the only test
//! running while it clones. So the binary runs itself once per module, several
//! modules at a time: [`runner`] says how. `cargo test`, `cargo test --test
//! suite -- clone_vm` and the VMs' init all go through it.
//!
//! A module's tests are named `<module>::<test>`: `cargo test -- soak::` runs
//! one module, `cargo test -- --list` lists every test.

#[macro_use]
mod common;
mod runner;

mod abi;
mod clone3_args;
mod clone_fs;
mod clone_vm;
mod compile_fail;
mod concurrency;
mod container;
mod errors;
mod exit_signal;
mod explain;
mod faults;
mod files;
mod flag_fuzz;
mod flags;
mod fork_vfork_thread;
mod into_cgroup;
mod layout;
mod namespaces;
mod newnet;
mod newns;
mod newpid;
mod newuser;
mod panic_exit;
mod pidfd;
mod relatives;
mod runner_selftest;
mod seccomp;
mod settls;
mod shared;
mod signals;
mod soak;
mod soundness;
mod spawn;
mod spawn_options;
mod stack;
mod supervisor;
mod syscalls;
mod sysvsem;
mod tids;
mod tour;
#[path = "trace_cmd/main.rs"]
mod trace_cmd;
mod wrappers;
