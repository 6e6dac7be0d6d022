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
    /// A child that dies dumping core: since Linux 5.16 the kernel writes the
    /// core first and then clears the word in `mm_release` like any exit
    /// (the word is cleared whenever another task still uses the mm, as we
    /// do). Up to 5.15 `mm_release` left the word set during a core dump
    /// (its `SIGNAL_GROUP_COREDUMP` test), but the dump also killed every
    /// process sharing the mm, us included, so no join was left waiting. A
    /// thread that dumps core takes its whole process with it on any kernel.
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

        // Lay out [ Record | closure | child frames ... ] from the top down
        // (the trampolines in arch/<arch>/clone.s draw it too):
        //
        //   top         +---------------------+  page-aligned (Stack::top)
        //               | Record              |  size_of::<Record>(), aligned to its alignment
        //   record_at   +---------------------+
        //               | the closure F       |  size_of::<F>(), aligned to align_of::<F>()
        //   closure_at  +---------------------+
        //               | 0..15 bytes padding |
        //   child_sp    +---------------------+  STACK_ALIGN-aligned: clone()'s `stack`, the first sp
        //               | the child's frames  |  at least MIN_CHILD_FRAMES bytes
        //   bottom      +---------------------+  (Stack::bottom, above the guard page)
        //
        // Both lie above the child's stack top, so the child's frames grow
        // away from them (on s390x and ppc64le, whose ABIs let a callee store
        // into its caller's frame, the trampoline makes a frame first), and
        // the child never returns from its first frame (a `ret` there would
        // take these bytes for a return address).
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

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    /// Where the docs say these numbers are stated; update them if this test fails.
    const DOCS: &str = "the layout above stack_top changed: update docs/trampolines.md \
        (\"What lies above stack_top\"), the pictures in docs/trampolines/<arch>.md, \
        and docs/abi.md and src/stack.rs if they quote it";

    /// What the docs state, per pointer width: the Record's size and
    /// alignment, ChildShared's size, where `closure`, `code` and `tid` lie in
    /// the Record, and so how far below `Stack::top()` the tid word is.
    struct Stated {
        record_size: usize,
        record_align: usize,
        shared_size: usize,
        closure: usize,
        code: usize,
        tid: usize,
        tid_below_top: usize,
    }

    #[cfg(target_pointer_width = "64")]
    const STATED: Stated = Stated {
        record_size: 48,
        record_align: 8,
        shared_size: 16,
        closure: 0,
        code: 12,
        tid: 8,
        tid_below_top: 40,
    };

    #[cfg(target_pointer_width = "32")]
    const STATED: Stated = Stated {
        record_size: 36,
        record_align: 4,
        shared_size: 12,
        closure: 8,
        code: 4,
        tid: 0,
        tid_below_top: 36,
    };

    /// The sizes, alignments and offsets docs/trampolines*.md draw are the
    /// ones this build lays out.
    #[test]
    fn record_layout_is_the_documented_one() {
        let shared = offset_of!(Record, shared);
        assert_eq!(
            size_of::<Record>(),
            STATED.record_size,
            "size_of::<Record>(): {DOCS}"
        );
        assert_eq!(
            align_of::<Record>(),
            STATED.record_align,
            "align_of::<Record>(): {DOCS}"
        );
        assert_eq!(
            size_of::<ChildShared>(),
            STATED.shared_size,
            "size_of::<ChildShared>(): {DOCS}"
        );
        assert_eq!(shared, 0, "ChildShared is not first in the Record: {DOCS}");
        let at = |field: usize| shared + field;
        assert_eq!(
            at(offset_of!(ChildShared, closure)),
            STATED.closure,
            "closure's offset: {DOCS}"
        );
        assert_eq!(
            at(offset_of!(ChildShared, code)),
            STATED.code,
            "code's offset: {DOCS}"
        );
        assert_eq!(
            at(offset_of!(ChildShared, tid)),
            STATED.tid,
            "tid's offset: {DOCS}"
        );
    }

    /// A real scoped spawn passes `&tid` at `Stack::top()` − 40 (64-bit) or
    /// − 36 (32-bit) as clone's parent_tid and child_tid, whatever the closure.
    #[test]
    fn tid_word_lies_where_the_docs_say() {
        let mut stack = Stack::new(64 * 1024).expect("a stack");
        let top = stack.top() as usize;
        let word = FlagsWord::new(CloneFlags::CLONE_VM, crate::flags::ExitSignal::SIGCHLD);
        let big = [7u8; 100]; // a closure larger than the Record changes nothing above it
        let spawned = scope(|s| {
            // SAFETY: the child copies a captured byte and returns: no TLS,
            // no allocation, no panic.
            let child = unsafe {
                s.spawn(&mut stack, word, move || {
                    let [.., last] = big;
                    i32::from(last != 7)
                })
            }?;
            let call = *child.call();
            Ok::<_, Error>((call, child.join()?))
        });
        let (call, status) = match spawned {
            // `cargo xtask qemu-user` runs this binary under qemu-user, which
            // refuses CLONE_VM without CLONE_THREAD.
            Err(e)
                if e.errno() == Some(Errno::EINVAL)
                    && std::env::var_os("CLONELAB_QEMU_USER").is_some() =>
            {
                // Straight to fd 2, past libtest's capture, where the xtask's
                // counter reads `skipped:` lines.
                let line = "\nskipped: spawn::scope::tests::tid_word_lies_where_the_docs_say: \
                            qemu-user cannot emulate CLONE_VM without CLONE_THREAD\n";
                let _ = sys::write(sys::BorrowedFd::STDERR, line.as_bytes());
                return;
            }
            other => other.expect("a scoped spawn and its join"),
        };
        assert_eq!(status, WaitStatus::Exited(0));
        assert_eq!(call.parent_tid, call.child_tid);
        assert_eq!(
            top - call.parent_tid,
            STATED.tid_below_top,
            "&tid below Stack::top(): {DOCS}"
        );
        assert!(
            call.stack < top - STATED.record_size - big.len(),
            "stack_top lies below the Record and the closure"
        );
    }
}
