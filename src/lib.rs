//! # clonelab
//!
//! Linux `clone()` and `clone3()` with no libc, on six arches (x86_64,
//! aarch64, i386, armhf, s390x, ppc64le): raw syscalls in inline assembly
//! (out of line on ppc64le), hand-written child trampolines under `arch/`,
//! and a safe API on top. Read it in this order:
//!
//! 1. [`arch`] — the one per-architecture seam, for six arches: `syscall0..6`
//!    with each arch's instruction (x86_64 `syscall`, aarch64 and armhf
//!    `svc #0`, i386 `int 0x80`, s390x `svc 0`, ppc64le `sc`, out of line),
//!    and the two trampolines (`arch/<arch>/clone.s`, `clone3.s`), each
//!    opening with a diagram of the child's registers and stack at its first
//!    instruction.
//! 2. [`flags`] — `CLONE_*` flags, the exit signal in the low byte of clone()'s
//!    flags word, clone3's separate `exit_signal`, and the rules of clone(2).
//! 3. [`stack`] — a child stack with a guard page.
//! 4. [`clone()`] and [`clone3()`] — the raw calls, every argument exposed.
//! 5. [`wait`] — reaping, `__WCLONE`, pidfds.
//! 6. [`spawn`](mod@spawn) — fork-like children (safe), scoped `CLONE_VM` children (`unsafe`),
//!    thread-like children joined through `CLONE_CHILD_CLEARTID`.
//! 7. [`trace`] — a ptrace observer that records the registers of every
//!    clone/clone3 a closure makes, to check [`abi::RegisterImage`] against.
//! 8. [`experiments`] — one module per clone flag experiment, each with its
//!    chapter from `docs/` and its test in `tests/`.
//!
//! The modules stand on floors, each importing only from those below it
//! (README, "How to read the code"): `arch` and `plain`; `errno` and
//! `signum`; `flags`; `sys` and `error`; `stack`, `wait`, `shared`, `probe`, `net`;
//! `clone`; `spawn` and `abi`; `trace`; `experiments`. The `clonelab`
//! command (`src/bin/clonelab/`) uses the public API only.
//!
//! The library is `#![no_std]` and needs no allocator.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[doc = include_str!("../docs/abi.md")]
pub mod abi;
pub mod arch;
pub mod clone;
pub mod errno;
pub mod error;
pub mod experiments;
pub mod flags;
pub mod net;
pub mod plain;
pub mod probe;
pub mod shared;
pub mod signum;
pub mod spawn;
pub mod stack;
pub mod sys;
pub mod trace;
pub mod wait;

pub use abi::{CloneCall, RegisterImage};
pub use clone::{clone, clone3, clone3_available, CloneArgs};
pub use errno::Errno;
pub use error::{Error, Refusal, SetTidError};
pub use flags::{CloneFlags, EncodingError, ExitSignal, FlagsWord, Syscall};
/// The kernel's own definitions, as clonelab takes them (every number and struct).
pub use linux_raw_sys;
pub use plain::Plain;
pub use shared::{SharedError, SharedPage};
pub use signum::Signal;
pub use spawn::{
    scope, spawn, spawn_unchecked, spawn_via, Child, Scope, ScopedChild, PANIC_EXIT_STATUS,
    THREAD_FLAGS,
};
pub use stack::Stack;
pub use sys::Pid;
pub use sys::{BorrowedFd, OwnedFd};
pub use wait::WaitStatus;
