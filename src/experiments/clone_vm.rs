//! `CLONE_VM`: the child runs in the parent's address space.
//!
//! The child stores [`WRITTEN`] into a variable of the parent's; the parent
//! reads it after the child exits. Without CLONE_VM (fork-like, 0x11) the
//! child's store lands in its own copy-on-write copy and the parent still reads
//! 0. kcmp(KCMP_VM) confirms independently: same `mm` with the flag, different without.
//!
//! The experiment asks for `CLONE_VM | SIGCHLD` (0x111), but the kernel is
//! given `0x380111`: the child is started through the scoped API
//! ([`Scope::spawn`](crate::Scope::spawn), `src/spawn/scope.rs`), which adds
//! three flags of its own (the last two only when the call has no
//! CLONE_VFORK):
//!
//! | bit | flag | why the scoped path adds it |
//! |-----|------|-----------------------------|
//! | 0x80000 | CLONE_SETTLS, tls "none" (0; on i386 a descriptor of base 0) | the child must not use the parent thread's thread-local storage (errno, malloc caches, the panic counter) at the same time as it: with no thread pointer, any TLS access faults instead |
//! | 0x100000 | CLONE_PARENT_SETTID | the kernel stores the child's tid in the scope's record (at the top of the child's stack, above stack_top) before clone returns |
//! | 0x200000 | CLONE_CHILD_CLEARTID | the same word: when the child leaves our memory (exit or execve) the kernel zeroes it and futex-wakes it; the scope's join waits for that, so the stack is never freed under a running child |
//!
//! The fork-like contrast goes through [`spawn`](crate::spawn()), which adds
//! nothing: the kernel is given 0x11.

use super::record::Checks;
use super::Calls;
use super::{run_child, shares, Kcmp, SharedPage};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::sys::Kcmp as K;
use crate::{Error, WaitStatus};
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

/// The value the child writes.
pub const WRITTEN: u64 = 0x5EED;

/// What the parent saw.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// The parent's variable after the CLONE_VM child wrote it.
    pub with_vm: u64,
    /// The parent's variable after a fork-like child wrote it.
    pub without_vm: u64,
    /// kcmp(KCMP_VM) with the CLONE_VM child, and with the fork-like child.
    pub kcmp_vm: (Option<bool>, Option<bool>),
    /// How the two children ended.
    pub status: (WaitStatus, WaitStatus),
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let mut c = Checks::new();
        c.check(
            self.with_vm == WRITTEN,
            "the parent reads the CLONE_VM child's store",
            format_args!(
                "read {:#x}; kcmp(KCMP_VM): {}",
                self.with_vm,
                Kcmp(self.kcmp_vm.0)
            ),
        );
        c.check(
            self.without_vm == 0,
            "contrast: a fork-like child's store stays in its copy",
            format_args!(
                "read {:#x}; kcmp(KCMP_VM): {}",
                self.without_vm,
                Kcmp(self.kcmp_vm.1)
            ),
        );
        c.check(
            self.kcmp_vm.0 != Some(false) && self.kcmp_vm.1 != Some(true),
            "kcmp agrees: one mm with the flag, two without",
            format_args!(
                "with CLONE_VM {}, without {}",
                Kcmp(self.kcmp_vm.0),
                Kcmp(self.kcmp_vm.1)
            ),
        );
        c.check(
            self.status == (WaitStatus::Exited(0), WaitStatus::Exited(0)),
            "both children exited 0",
            format_args!(
                "the CLONE_VM child {}, the fork-like child {}",
                self.status.0, self.status.1
            ),
        );
        c
    }
}

/// Run both children.
pub fn observe() -> Result<Observed, Error> {
    let mut calls = Calls::new();
    let mut run = |label: &str, flags: CloneFlags| -> Result<_, Error> {
        let page = SharedPage::new()?;
        let value = AtomicU64::new(0);
        let child = || {
            value.store(WRITTEN, Ordering::SeqCst);
            0
        };
        // SAFETY: `child` makes raw syscalls and touches a SharedPage and
        // atomics only: no TLS, no allocation, no panics.
        let child = unsafe {
            run_child(
                &mut calls,
                label,
                FlagsWord::new(flags, ExitSignal::SIGCHLD),
                &page,
                child,
                |pid| shares(pid, K::Vm),
            )
        }?;
        Ok((child, value.load(Ordering::SeqCst)))
    };
    let (vm, with_vm) = run(
        "with CLONE_VM: the child writes our variable",
        CloneFlags::CLONE_VM,
    )?;
    let (fork, without_vm) = run("contrast, fork-like: no CLONE_VM", CloneFlags::EMPTY)?;
    Ok(Observed {
        calls,
        with_vm,
        without_vm,
        kcmp_vm: (vm.parent, fork.parent),
        status: (vm.status, fork.status),
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "child wrote {WRITTEN:#x}; the parent then read:")?;
        writeln!(
            f,
            "  with CLONE_VM     {:<#8x} kcmp(KCMP_VM): {}",
            self.with_vm,
            Kcmp(self.kcmp_vm.0)
        )?;
        writeln!(
            f,
            "  without CLONE_VM  {:<#8x} kcmp(KCMP_VM): {}",
            self.without_vm,
            Kcmp(self.kcmp_vm.1)
        )
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
