//! Scoped children that share our memory (`CLONE_VM`), thread-like ones
//! included: each runs on a borrowed [`Stack`] and is joined before [`scope`]
//! returns. Part of [`crate::spawn`]; see its docs for why starting one is
//! `unsafe`.

use super::{refuse_managed, ExitOnUnwind};
use crate::clone::CloneCall;
use crate::clone::{clone, STACK_ALIGN};
use crate::errno::Errno;
use crate::error::{Error, Refusal};
use crate::flags::{CloneFlags, FlagsWord, Syscall};
use crate::stack::Stack;
use crate::sys::signal::{self, SigSet};
use crate::sys::{self, Pid};
use crate::wait::{options_for, wait_pid, WaitStatus};
use core::cell::Cell;
use core::ffi::{c_int, c_void};
use core::marker::PhantomData;
use core::mem::{self, align_of, size_of};
use core::ptr;
use core::ptr::addr_of;
use core::sync::atomic::{AtomicI32, Ordering};
use linux_raw_sys::general as k;

/// What a scoped child and its parent both touch. The child is given a
/// pointer to this part only, and everything in it is either atomic or
/// written before the clone and only read afterwards.
struct ChildShared {
    /// The child's tid: written by the kernel before the child runs
    /// (CLONE_PARENT_SETTID) and set to 0, with a futex wake, when the child
    /// leaves our address space (CLONE_CHILD_CLEARTID: the kernel does it in
    /// `mm_release`, as the exiting or exec-ing child detaches from the mm).
    /// Always 0 for a CLONE_VFORK child, which has left when clone returns.
    tid: AtomicI32,
    /// The closure's return value, stored by the child before it exits.
    code: AtomicI32,
    /// Where the closure was moved; read once by the child.
    closure: *mut u8,
}

/// Bookkeeping for one scoped child. It lives at the top of the child's own
/// [`Stack`] (no allocator needed), which the scope borrows until every child
/// is joined. Only the parent uses the fields after `shared`, and only through
/// a pointer the child never sees.
struct Record {
    shared: ChildShared,
    pid: Pid,
    thread: bool,
    wait_options: u32,
    status: Cell<Option<WaitStatus>>,
    next: Cell<*const Record>,
}

impl Record {
    /// Block until the child is gone; idempotent. Never returns while the
    /// child may still use our memory: if the kernel's answer cannot prove
    /// that (a wait refused by seccomp, say), it waits for the tid word.
    fn join(&self) -> Result<WaitStatus, Error> {
        if let Some(status) = self.status.get() {
            return Ok(status);
        }
        let status = if self.thread {
            // A thread cannot be waited for; its return value is the full i32.
            self.wait_until_gone();
            WaitStatus::Exited(self.shared.code.load(Ordering::Acquire))
        } else {
            match wait_pid(self.pid, self.wait_options) {
                Ok(status) => status,
                // No such child: it was reaped elsewhere (a wait(-1), or
                // SIGCHLD ignored), and only a task that has exited is reaped.
                Err(Errno::ECHILD) => return Err(Errno::ECHILD.into()),
                Err(e) => {
                    // Anything else proves nothing: wait for the tid word.
                    self.wait_until_gone();
                    return Err(e.into());
                }
            }
        };
        self.status.set(Some(status));
        Ok(status)
    }

    /// Wait until the kernel has cleared the tid word (CLONE_CHILD_CLEARTID).
    /// With futex unavailable (seccomp), poll instead: never return early.
    /// (The kernel leaves the word alone when the child dies dumping core.
    /// A thread that does takes the whole process with it; a process child is
    /// reaped with wait4 and comes here only when wait4 is refused — then the
    /// join waits for ever rather than return early.)
    fn wait_until_gone(&self) {
        let word = &self.shared.tid;
        loop {
            let tid = word.load(Ordering::Acquire);
            if tid == 0 {
                return;
            }
            match sys::futex_wait(word, tid) {
                Ok(()) | Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
                Err(_) => sys::sched_yield(),
            }
        }
    }
}

/// The child side of [`Scope::spawn`].
unsafe extern "C" fn scoped_entry<F: FnOnce() -> i32>(arg: *mut c_void) -> c_int {
    // SAFETY: arg points at the ChildShared the parent wrote at the top of our
    // stack; it stays valid until we are joined, and we only read `closure`
    // and use the atomics.
    let shared = unsafe { &*(arg as *const ChildShared) };
    let guard = ExitOnUnwind(Some(&shared.code));
    // SAFETY: the parent moved the closure to `closure` and never touches it again.
    let f = unsafe { ptr::read(shared.closure as *mut F) };
    let code = f();
    shared.code.store(code, Ordering::Release);
    mem::forget(guard);
    code
}

/// A scope in which `CLONE_VM` children may borrow from the enclosing frame.
/// See [`scope`].
pub struct Scope<'scope, 'env: 'scope> {
    children: Cell<*const Record>,
    // Invariant in both lifetimes, as std::thread::Scope is.
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

/// A child spawned in a [`Scope`]. Joining is optional: the scope joins
/// every child before it returns, whether this handle is joined, dropped or forgotten.
pub struct ScopedChild<'scope> {
    record: &'scope Record,
    call: CloneCall,
}

impl ScopedChild<'_> {
    /// The arguments of the clone call that made this child.
    pub fn call(&self) -> &CloneCall {
        &self.call
    }

    /// The child's tid (its pid too, unless it is a thread).
    pub fn pid(&self) -> Pid {
        self.record.pid
    }

    /// Wait for the child. Thread-like children (CLONE_THREAD) are joined
    /// through CLONE_CHILD_CLEARTID + futex and report `Exited(the full i32
    /// their closure returned)`; others are reaped with `wait4`, which keeps
    /// only the low 8 bits of the status. An error means the kernel would not
    /// say how the child ended; it has ended all the same.
    pub fn join(self) -> Result<WaitStatus, Error> {
        self.record.join()
    }
}

/// Run `f` with a [`Scope`]; every child spawned in it has left the shared
/// memory when `scope` returns (also when `f` panics: the join runs during
/// unwinding).
///
/// ```
/// use clonelab::{scope, spawn::THREAD_FLAGS, ExitSignal, FlagsWord, Stack, WaitStatus};
/// use core::sync::atomic::{AtomicU64, Ordering};
/// let total = AtomicU64::new(0);
/// let mut stack = Stack::new(64 * 1024).unwrap();
/// let status = scope(|s| {
///     let word = FlagsWord::new(THREAD_FLAGS, ExitSignal::NONE);
///     // SAFETY: the closure only adds to an atomic: no TLS, no allocation, no panic.
///     let child = unsafe {
///         s.spawn(&mut stack, word, || {
///             total.fetch_add(40 + 2, Ordering::SeqCst);
///             0
///         })
///     }
///     .unwrap();
///     child.join().unwrap()
/// });
/// assert_eq!(status, WaitStatus::Exited(0));
/// assert_eq!(total.load(Ordering::SeqCst), 42); // written by the child, read by us
/// ```
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    struct JoinAll<'a, 'scope, 'env>(&'a Scope<'scope, 'env>);
    impl Drop for JoinAll<'_, '_, '_> {
        fn drop(&mut self) {
            let mut next = self.0.children.get();
            while !next.is_null() {
                // SAFETY: every Record in the list lives on a Stack borrowed for 'scope,
                // which has not ended yet.
                let record = unsafe { &*next };
                // join returns only once the child is gone; an Err only says
                // the kernel would not tell us its status.
                let _ = record.join();
                next = record.next.get();
            }
        }
    }

    let scope = Scope {
        children: Cell::new(ptr::null()),
        _scope: PhantomData,
        _env: PhantomData,
    };
    let join_all = JoinAll(&scope);
    let result = f(&scope);
    drop(join_all);
    result
}

/// Bytes left below the closure for the child's own frames, at the least.
const MIN_CHILD_FRAMES: usize = 8 * 1024;

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Start a child that runs `f` on `stack`, sharing what `word.flags` says.
    ///
    /// For `CLONE_VM` children (required; with [`THREAD_FLAGS`](super::THREAD_FLAGS) for a
    /// thread-like one); `f` may borrow anything that outlives the scope. The
    /// child's bookkeeping and `f` itself are moved to the top of `stack`, and
    /// the child starts just below them. The API adds `CLONE_SETTLS` (tls = 0),
    /// and, unless the call has `CLONE_VFORK`, `CLONE_PARENT_SETTID` and
    /// `CLONE_CHILD_CLEARTID` (its tid word, which the join waits on; a vfork
    /// child has left our memory when clone returns, so it needs none). The child starts with every signal blocked, so no
    /// handler ever runs on it; the parent's mask is restored after the clone.
    ///
    /// Refused: calls without CLONE_VM (use [`spawn`](super::spawn)), the flags the API
    /// manages itself (SETTLS, *_SETTID, CHILD_CLEARTID), CLONE_PARENT,
    /// clone3-only flags, and CLONE_NEWPID with CLONE_SIGHAND.
    ///
    /// # Safety
    /// The child runs with no thread pointer. `f` must not touch thread-local
    /// storage: no allocation through an allocator that uses it (glibc's
    /// malloc does), no `std` I/O, no `thread_local!`, no libc calls (errno),
    /// and no panics (the panic machinery uses TLS; so do index and overflow
    /// checks, which panic). Atomics, plain memory and clonelab's raw syscalls
    /// are fine — except that `f` must not unblock signals (`sigprocmask`,
    /// `sigsuspend`, a `ppoll`/`pselect` mask): the child starts with every
    /// signal blocked so that no handler, which may use TLS, ever runs on it.
    /// `f` must also fit in `stack`.
    ///
    /// What happens otherwise: the access faults and the child dies of
    /// SIGSEGV. With CLONE_THREAD that signal ends the whole process. Without
    /// it only the child dies — but whatever it was changing in memory it
    /// borrowed is left half-changed for the parent to find, which is
    /// undefined behaviour waiting to happen.
    pub unsafe fn spawn<F>(
        &'scope self,
        stack: &'scope mut Stack,
        word: FlagsWord,
        f: F,
    ) -> Result<ScopedChild<'scope>, Error>
    where
        F: FnOnce() -> i32 + Send + 'scope,
    {
        refuse_managed(word.flags)?;
        if !word.flags.contains(CloneFlags::CLONE_VM) {
            return Err(Error::FlagNotAllowed(Refusal::new(
                "a scoped child without CLONE_VM",
                "a scoped child runs on a borrowed Stack in our memory; for a fork-like \
                 child use clonelab::spawn",
            )));
        }
        if word
            .flags
            .contains(CloneFlags::CLONE_SIGHAND | CloneFlags::CLONE_NEWPID)
        {
            return Err(Error::FlagNotAllowed(Refusal::new(
                "CLONE_NEWPID with CLONE_SIGHAND",
                "when the child, PID 1 of its namespace, exits, the kernel sets SIGCHLD to SIG_IGN \
                 in its signal handler table, which CLONE_SIGHAND shares with this process: every \
                 later child would be reaped behind our back",
            )));
        }
        let thread = word.flags.contains(CloneFlags::CLONE_THREAD);
        // A CLONE_VFORK child has left our memory when clone returns: the
        // kernel resumes the parent only from the child's `mm_release` (exit or
        // execve), and if a fatal signal cuts that wait short the parent never
        // runs user code again. So its tid word needs no clearing: it stays 0,
        // and the join's wait for the word returns at once (the kernel's
        // put_user and futex wake at the child's exit are saved).
        let tid_flags = if word.flags.contains(CloneFlags::CLONE_VFORK) {
            CloneFlags::EMPTY
        } else {
            CloneFlags::CLONE_PARENT_SETTID | CloneFlags::CLONE_CHILD_CLEARTID
        };
        let flags = word.flags | CloneFlags::CLONE_SETTLS | tid_flags;
        let word = FlagsWord::new(flags, word.signal);
        word.encode_clone()?;

        // Lay out [ Record | closure | child frames ... ] from the top down.
        let top = stack.top() as usize;
        let record_at = (top - size_of::<Record>()) & !(align_of::<Record>() - 1);
        let closure_at = (record_at - size_of::<F>()) & !(align_of::<F>() - 1);
        let child_sp = closure_at & !(STACK_ALIGN - 1);
        let needed = top - child_sp + MIN_CHILD_FRAMES;
        if needed > stack.size() {
            return Err(Error::ClosureTooLarge {
                needed,
                available: stack.size(),
            });
        }
        let record = record_at as *mut Record;
        // SAFETY: both addresses lie inside `stack`, which we borrow exclusively
        // for 'scope, are aligned for their types, and do not overlap.
        unsafe {
            ptr::write(closure_at as *mut F, f);
            ptr::write(
                record,
                Record {
                    shared: ChildShared {
                        tid: AtomicI32::new(0),
                        code: AtomicI32::new(0),
                        closure: closure_at as *mut u8,
                    },
                    pid: 0,
                    thread,
                    wait_options: options_for(word.signal),
                    status: Cell::new(None),
                    next: Cell::new(ptr::null()),
                },
            );
        }
        // The child gets a pointer to `shared` only, derived from the raw
        // pointer: no reference to the whole Record exists while it runs.
        // SAFETY: record points at the Record written above.
        let shared = unsafe { addr_of!((*record).shared) };
        // `tid` is an AtomicI32, so the kernel's writes race with nothing
        // non-atomic.
        let tid_ptr = if tid_flags == CloneFlags::EMPTY {
            ptr::null_mut()
        } else {
            // SAFETY: as above.
            unsafe { (*shared).tid.as_ptr() }
        };

        // Block every signal across the clone: the child inherits the full mask
        // and keeps it, so no handler ever runs on a thread without TLS.
        let parent_mask = match signal::sigprocmask(k::SIG_SETMASK, Some(SigSet::FULL)) {
            Ok(mask) => mask,
            Err(e) => {
                // SAFETY: no child exists, so the closure is still ours to drop.
                unsafe { ptr::drop_in_place(closure_at as *mut F) };
                return Err(e.into());
            }
        };
        // No thread pointer for the child: 0 (on i386 a descriptor of base 0).
        let no_tls = crate::arch::TlsArgument::none();
        // SAFETY: the stack, the closure and the Record outlive the child: the
        // scope joins it (waiting for the tid word to clear) before 'scope ends.
        // tls = 0 gives the child no TLS; the caller upholds what that demands.
        // tid_ptr points into the Record.
        let result = unsafe {
            clone(
                word,
                child_sp as *mut u8,
                tid_ptr,
                tid_ptr,
                no_tls.value(),
                scoped_entry::<F>,
                shared as *mut c_void,
            )
        };
        // Cannot fail: the mask came from the kernel a moment ago.
        let _ = signal::sigprocmask(k::SIG_SETMASK, Some(parent_mask));
        let pid = match result {
            Ok(pid) => pid,
            Err(e) => {
                // SAFETY: no child exists, so the closure is still ours to drop.
                unsafe { ptr::drop_in_place(closure_at as *mut F) };
                return Err(e);
            }
        };
        // SAFETY: `pid` is a parent-only field the child never reads; the write
        // goes through the raw pointer, disjoint from `shared`.
        unsafe { (*record).pid = pid };
        // SAFETY: from here on the Record is only read (its Cells aside, which
        // only the parent touches); it lives as long as the borrowed stack.
        let record: &'scope Record = unsafe { &*record };
        record.next.set(self.children.get());
        self.children.set(record);
        let call = CloneCall {
            syscall: Some(Syscall::Clone),
            word,
            stack: child_sp,
            parent_tid: tid_ptr as usize,
            child_tid: tid_ptr as usize,
            tls: no_tls.value(),
            ..CloneCall::default()
        };
        Ok(ScopedChild { record, call })
    }
}
