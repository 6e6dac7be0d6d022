//! [`CloneCall`]: the record of one clone/clone3 call — every argument as
//! the caller passed it. The API fills one for each child it makes
//! ([`crate::Child::call`]); [`crate::abi`] lays it out in registers and
//! prints it, and the tour renders what it shows from these records alone.
//!
//! Where it sits: in the clone layer, on the flag encoding only.

use crate::flags::{FlagsWord, Syscall};
use linux_raw_sys::general as k;

/// The arguments of one clone/clone3 call, as the caller passed them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CloneCall {
    /// clone or clone3.
    pub syscall: Option<Syscall>,
    /// Flags and exit signal.
    pub word: FlagsWord,
    /// clone: the child's initial sp (stack top). clone3: the lowest byte.
    pub stack: usize,
    /// clone3 only: the stack's size.
    pub stack_size: usize,
    /// Where CLONE_PARENT_SETTID (or, for clone, CLONE_PIDFD) writes.
    pub parent_tid: usize,
    /// Where CLONE_CHILD_SETTID writes / CLONE_CHILD_CLEARTID clears.
    pub child_tid: usize,
    /// The thread pointer for CLONE_SETTLS.
    pub tls: usize,
    /// clone3 only: where CLONE_PIDFD writes the pidfd.
    pub pidfd: usize,
    /// clone3 only: address of the `clone_args` passed in arg1.
    pub args_address: usize,
    /// clone3 only: the size passed in arg2 (0: `sizeof(struct clone_args)`).
    pub args_size: usize,
    /// clone3 only: `clone_args.cgroup` (a cgroup directory fd for CLONE_INTO_CGROUP).
    pub cgroup: u64,
    /// clone3 only: `clone_args.set_tid` (address of the pid array).
    pub set_tid: usize,
    /// clone3 only: `clone_args.set_tid_size`.
    pub set_tid_size: usize,
}

impl CloneCall {
    /// The size clone3's arg2 carries: `args_size`, or `sizeof(struct clone_args)`.
    pub fn clone3_size(&self) -> usize {
        if self.args_size == 0 {
            core::mem::size_of::<k::clone_args>()
        } else {
            self.args_size
        }
    }
}

// SAFETY: an Option<Syscall>, a FlagsWord and addresses kept as plain
// integers (never dereferenced by the parent).
unsafe impl crate::plain::Plain for CloneCall {}
