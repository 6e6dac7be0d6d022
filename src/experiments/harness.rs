//! The harness every experiment runs its children with.
//!
//! What it is for: making a child with chosen flags, letting it report what it
//! saw through a [`SharedPage`], keeping it alive while the parent compares
//! (kcmp, /proc), then reaping it, and recording each clone call in the
//! experiment's [`Calls`]. [`run_child`] goes through the safe API
//! ([`spawn`], [`scope`]); [`raw_fork_like`] is for what that API refuses.
//!
//! Where it sits: below every experiment module, beside [`super::host`] (what
//! the experiments ask about this process) and [`super::text`].
//!
//! What it may use: clonelab's own API and raw syscalls only (`no_std`, no
//! allocator): the children run this code without libc or thread-local storage.

use super::record::{self, Calls};
use crate::clone::CloneCall;
use crate::error::Error;
use crate::flags::{CloneFlags, FlagsWord};
use crate::spawn::{scope, spawn};
use crate::stack::Stack;
use crate::sys::{self, Pid};
use crate::wait::WaitStatus;
use core::sync::atomic::{AtomicU64, Ordering};

/// The experiments' page: a [`crate::shared::SharedPage`] (`MAP_SHARED`, so
/// a fork-like child's writes land where the parent can read them) used as
/// 64-bit slots, plus a gate the child waits at and a "ready" word it sets.
/// The gate is the page's 32-bit slot 0, "ready" its slot 1.
pub struct SharedPage {
    page: crate::shared::SharedPage,
}

/// The 32-bit slot of the page the child waits at ([`SharedPage::wait_gate`]).
const GATE: usize = 0;
/// The 32-bit slot the child sets when its part is done ([`SharedPage::signal_ready`]).
const READY: usize = 1;

impl SharedPage {
    /// Map a fresh zeroed page, shared with every child cloned after this.
    pub fn new() -> Result<SharedPage, Error> {
        Ok(SharedPage {
            page: crate::shared::SharedPage::new()?,
        })
    }

    /// 64-bit slot `i` (the experiments use 0..64; the page has
    /// [`crate::shared::SharedPage::U64_SLOTS`]).
    ///
    /// # Panics
    /// If `i` is out of range, as an index would: the experiments pass
    /// constants. [`crate::shared::SharedPage::u64`] returns an error instead.
    pub fn slot(&self, i: usize) -> &AtomicU64 {
        match self.page.u64(i) {
            Ok(slot) => slot,
            Err(e) => panic!("{e}"),
        }
    }

    /// Store `value` in slot `i`.
    pub fn put(&self, i: usize, value: u64) {
        self.slot(i).store(value, Ordering::SeqCst);
    }

    /// Read slot `i`.
    pub fn get(&self, i: usize) -> u64 {
        self.slot(i).load(Ordering::SeqCst)
    }

    /// Block until [`open_gate`](Self::open_gate) (a shared futex on this page).
    pub fn wait_gate(&self) {
        while self.page.wait(GATE, 0).is_err() {}
    }

    /// Child: say "my part is done" (wakes [`wait_ready`](Self::wait_ready)).
    pub fn signal_ready(&self) {
        let _ = self.page.store_and_wake(READY, 1);
    }

    /// Parent: block until the child called [`signal_ready`](Self::signal_ready)
    /// or `pid` is gone (so a child that died early cannot hang us).
    pub fn wait_ready(&self, pid: Pid) {
        // Wake up now and then to re-check that the child is alive.
        let tick = core::time::Duration::from_millis(10);
        while self.page.wait_timeout(READY, 0, tick).is_err() {
            if sys::kill_probe(pid).is_err() {
                return;
            }
        }
    }

    /// Let every child waiting at the gate go on.
    pub fn open_gate(&self) {
        let _ = self.page.store_and_wake(GATE, 1);
    }
}

/// What one child run produced.
#[derive(Clone, Copy, Debug)]
pub struct ChildRun<R> {
    /// How the child ended.
    pub status: WaitStatus,
    /// Its pid in our namespace.
    pub pid: Pid,
    /// What `while_alive` returned.
    pub parent: R,
}

/// Stack for experiment children.
pub const CHILD_STACK: usize = 64 * 1024;

/// Run `child` in a child made with `word`; once `child` has returned and the
/// child waits at `page`'s gate, run `while_alive(pid)` in the parent (kcmp
/// and /proc comparisons need the child alive), then open the gate and reap it.
///
/// CLONE_VM children get a fresh [`Stack`] through [`scope`]; others are
/// fork-like ([`spawn`]). With CLONE_VFORK the parent cannot run while the
/// child lives, so there is no gate and `while_alive` runs after it exits.
///
/// # Safety
/// With CLONE_VM in `word`, `child` runs without a thread pointer: it must
/// keep to what [`Scope::spawn`](crate::Scope::spawn) allows (no TLS, no
/// allocation, no std I/O, no panics).
pub unsafe fn run_child<C, P, R>(
    calls: &mut Calls,
    label: &str,
    word: FlagsWord,
    page: &SharedPage,
    child: C,
    while_alive: P,
) -> Result<ChildRun<R>, Error>
where
    C: FnOnce() -> i32 + Send,
    P: FnOnce(Pid) -> R,
{
    let gated = !word.flags.contains(CloneFlags::CLONE_VFORK);
    let body = move || {
        let code = child();
        page.signal_ready();
        if gated {
            page.wait_gate();
        }
        code
    };
    if word.flags.contains(CloneFlags::CLONE_VM) {
        let mut stack = Stack::new(CHILD_STACK)?;
        scope(|s| {
            // SAFETY: `body` runs `child`, which the caller vouches for, then
            // only touches the SharedPage's atomics and raw futex syscalls.
            let handle = unsafe { s.spawn(&mut stack, word, body) }?;
            let (pid, call) = (handle.pid(), *handle.call());
            calls.push(label, call, pid as i64);
            page.wait_ready(pid);
            let parent = while_alive(pid);
            page.open_gate();
            Ok(ChildRun {
                status: handle.join()?,
                pid,
                parent,
            })
        })
    } else {
        let mut handle = spawn(word, body)?;
        let (pid, call) = (handle.pid(), *handle.call());
        calls.push(label, call, pid as i64);
        page.wait_ready(pid);
        let parent = while_alive(pid);
        page.open_gate();
        Ok(ChildRun {
            status: handle.wait()?,
            pid,
            parent,
        })
    }
}

/// Raw `clone(word, stack = 0, ...)` for a fork-like child running `entry(arg)`
/// (the experiments that need what the safe API refuses, e.g. CLONE_PARENT).
///
/// # Safety
/// `word` must not contain CLONE_VM (the child runs on a copy of our stack);
/// `arg` must stay valid for the child as the experiment requires.
pub unsafe fn raw_fork_like(
    word: FlagsWord,
    entry: crate::arch::ChildEntry,
    arg: *mut core::ffi::c_void,
) -> Result<Pid, Error> {
    let (no_stack, no_tid) = (core::ptr::null_mut(), core::ptr::null_mut());
    // SAFETY: per the contract: no shared memory, so stack 0 is sound.
    unsafe { crate::clone::clone(word, no_stack, no_tid, no_tid, 0, entry, arg) }
}

/// The call [`raw_fork_like`] makes: `clone(word, 0, NULL, NULL, 0)`.
pub fn raw_fork_like_call(word: FlagsWord) -> CloneCall {
    record::clone_call(word, 0, 0, 0, 0)
}

/// Reap `pid`, a child made with raw `clone(CLONE_VM, ..)` that uses memory in
/// the caller's frame (its stack, the words it writes): return only once it
/// is gone. ECHILD means it was reaped elsewhere, so it has exited; any other
/// failure of `wait4` proves nothing, so the wait is retried, never returned.
pub(crate) fn reap_sharing_child(pid: Pid) -> Result<WaitStatus, Error> {
    loop {
        match crate::wait::wait_pid(pid, 0) {
            Ok(status) => return Ok(status),
            Err(crate::Errno::ECHILD) => return Err(crate::Errno::ECHILD.into()),
            Err(_) => sys::sched_yield(),
        }
    }
}
