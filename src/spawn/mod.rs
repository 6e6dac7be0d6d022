//! The safe API: children that cannot outlive what they use.
//!
//! Three shapes, from loosest to tightest sharing:
//!
//! | function | shares memory? | stack | how it is reaped |
//! |----------|----------------|-------|------------------|
//! | [`spawn`] (safe) | no (fork-like) | the child's copy of ours | [`Child::wait`]: `wait4` or `waitid(P_PIDFD)` |
//! | [`Scope::spawn`] (`unsafe`) | yes (`CLONE_VM`) | a [`Stack`](crate::Stack) borrowed for the scope | joined before [`scope`] returns |
//! | [`Scope::spawn`] with [`THREAD_FLAGS`] | yes, same thread group | a borrowed [`Stack`](crate::Stack) | `CLONE_CHILD_CLEARTID` + futex |
//!
//! **Ownership across the clone.** A fork-like child gets a copy of everything,
//! the closure included. The closure runs, and its captures are dropped, in
//! the child only; the parent's copy of the closure is forgotten once the
//! clone succeeds (and dropped if it fails). So a captured `BufWriter`
//! flushes once and a captured `File` is closed once — by the child. The
//! parent's copy of the captured bytes is simply not used again: heap blocks
//! they own stay allocated in the parent, and descriptors they own stay open
//! in the parent's table (the kernel duplicated the table at the clone); close
//! those yourself in the parent if you need to.
//!
//! **Panics.** A child's closure that panics never unwinds into the parent's
//! frames (they are not on its stack): a guard in the child's first Rust frame
//! ends it with `SYS_exit(`[`PANIC_EXIT_STATUS`]`)`, so the parent sees
//! `Exited(101)` — Rust's own exit status for a panicking program. This needs
//! unwinding (`panic = "unwind"`) and a working thread pointer (fork-like
//! children have one); under `panic = "abort"` the child dies of SIGABRT.
//! Like any code in a child of a multi-threaded parent, the panic machinery
//! must not find a lock (the panic hook's, stderr's) that another thread held
//! at the clone: it would wait forever.
//!
//! Where it sits: the safe API, above [`crate::clone`](mod@crate::clone),
//! [`crate::stack`], [`crate::wait`] and the syscall layer; [`crate::trace`]
//! and the experiments build on it. `fork.rs` holds the fork-like children,
//! `scope.rs` the memory-sharing ones; this file, what both refuse.
//!
//! **Memory-sharing children are `unsafe` to start.** A `CLONE_VM` child from
//! [`Scope::spawn`] starts with its thread pointer (`fs` on x86_64,
//! `tpidr_el0` on aarch64, the `gs` selector and its GDT entry on i386,
//! TPIDRURO on armhf, `a0:a1` on s390x, `r13` on ppc64le) set to 0 via
//! `CLONE_SETTLS` (on i386, a GDT entry of base 0 and a one-byte limit):
//! sharing the parent thread's thread-local storage (std's, libc's `errno`
//! and malloc caches, the panic counter) would race with it. With 0, any
//! thread-local access faults. No
//! type can promise that a closure never allocates, prints or panics (all of
//! which use TLS), so the caller must: see the `# Safety` section of
//! [`Scope::spawn`]. What the types do promise is enforced: the stack and
//! every borrow outlive the child, and [`scope`] never returns before every
//! child has provably left the shared memory.

mod fork;
mod scope;

pub use fork::{
    spawn, spawn_unchecked, spawn_via, spawn_with, Born, Child, SpawnOptions, MAX_SET_TID,
};
pub use scope::{scope, Scope, ScopedChild};

use crate::error::{Error, Refusal};
use crate::flags::CloneFlags;
use crate::sys::{self};
use core::sync::atomic::{AtomicI32, Ordering};

/// Exit status of a child whose closure panicked (and unwinding was enabled).
pub use crate::arch::PANIC_EXIT_STATUS;

/// The flags of a POSIX thread: shared memory, files, fs info, signal handlers,
/// thread group, and System V semaphore undo lists.
pub const THREAD_FLAGS: CloneFlags = CloneFlags::from_bits_retain(
    CloneFlags::CLONE_VM.bits()
        | CloneFlags::CLONE_FS.bits()
        | CloneFlags::CLONE_FILES.bits()
        | CloneFlags::CLONE_SIGHAND.bits()
        | CloneFlags::CLONE_THREAD.bits()
        | CloneFlags::CLONE_SYSVSEM.bits(),
);

/// Ends the child if its closure unwinds: dropped only during a panic.
struct ExitOnUnwind<'a>(Option<&'a AtomicI32>);

impl Drop for ExitOnUnwind<'_> {
    fn drop(&mut self) {
        if let Some(code) = self.0 {
            code.store(PANIC_EXIT_STATUS, Ordering::Release);
        }
        // SAFETY: this guard lives in the child's entry function, the outermost
        // Rust frame of the child. Every frame above it belongs to the child
        // alone (its own copy of memory, or its own Stack) and is being
        // unwound already; ending the thread abandons nothing anyone else uses.
        unsafe { sys::exit(PANIC_EXIT_STATUS) }
    }
}

/// Refuse `flag` in `flags` with a reason.
fn refuse(
    flags: CloneFlags,
    flag: CloneFlags,
    name: &'static str,
    why: &'static str,
) -> Result<(), Error> {
    if flags.intersects(flag) {
        Err(Error::FlagNotAllowed(Refusal::new(name, why)))
    } else {
        Ok(())
    }
}

/// Flags the safe APIs manage themselves (pointers into memory they own).
fn refuse_managed(flags: CloneFlags) -> Result<(), Error> {
    const WHY: &str = "the safe API owns the memory these write: ask through \
         clonelab::spawn::SpawnOptions (fork-like children), or use clonelab::clone for raw control";
    refuse(flags, CloneFlags::CLONE_SETTLS, "CLONE_SETTLS", WHY)?;
    refuse(
        flags,
        CloneFlags::CLONE_PARENT_SETTID,
        "CLONE_PARENT_SETTID",
        WHY,
    )?;
    refuse(
        flags,
        CloneFlags::CLONE_CHILD_SETTID,
        "CLONE_CHILD_SETTID",
        WHY,
    )?;
    refuse(
        flags,
        CloneFlags::CLONE_CHILD_CLEARTID,
        "CLONE_CHILD_CLEARTID",
        WHY,
    )?;
    refuse(
        flags,
        CloneFlags::CLONE_PARENT,
        "CLONE_PARENT",
        "the child would be our parent's, not ours to reap or join",
    )?;
    refuse(
        flags,
        CloneFlags::CLONE_INTO_CGROUP,
        "CLONE_INTO_CGROUP",
        "it needs a cgroup fd in clone_args: use SpawnOptions::into_cgroup",
    )
}

/// Flags that make a child share our memory: fork-like spawning refuses them.
fn refuse_shared_memory(flags: CloneFlags) -> Result<(), Error> {
    const WHY: &str =
        "a fork-like child must not share our memory: use clonelab::scope with a Stack";
    refuse(flags, CloneFlags::CLONE_VM, "CLONE_VM", WHY)?;
    refuse(flags, CloneFlags::CLONE_SIGHAND, "CLONE_SIGHAND", WHY)?;
    refuse(flags, CloneFlags::CLONE_THREAD, "CLONE_THREAD", WHY)
}
