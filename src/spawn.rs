//! The safe API: children that cannot outlive what they use.
//!
//! Three shapes, from loosest to tightest sharing:
//!
//! | function | shares memory? | stack | how it is reaped |
//! |----------|----------------|-------|------------------|
//! | [`spawn`] (safe) | no (fork-like) | the child's copy of ours | [`Child::wait`]: `wait4` or `waitid(P_PIDFD)` |
//! | [`Scope::spawn`] (`unsafe`) | yes (`CLONE_VM`) | a [`Stack`] borrowed for the scope | joined before [`scope`] returns |
//! | [`Scope::spawn`] with [`THREAD_FLAGS`] | yes, same thread group | a borrowed [`Stack`] | `CLONE_CHILD_CLEARTID` + futex |
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
//! **Memory-sharing children are `unsafe` to start.** A `CLONE_VM` child from
//! [`Scope::spawn`] starts with its thread pointer (x86_64 `fs`, aarch64
//! `tpidr_el0`) set to 0 via `CLONE_SETTLS`: sharing the parent thread's
//! thread-local storage (std's, libc's `errno` and malloc caches, the panic
//! counter) would race with it. With 0, any thread-local access faults. No
//! type can promise that a closure never allocates, prints or panics (all of
//! which use TLS), so the caller must: see the `# Safety` section of
//! [`Scope::spawn`]. What the types do promise is enforced: the stack and
//! every borrow outlive the child, and [`scope`] never returns before every
//! child has provably left the shared memory.

use crate::abi::CloneCall;
use crate::clone::{clone, clone3, zeroed_args, CloneArgs, STACK_ALIGN};
use crate::errno::Errno;
use crate::error::{Error, Refusal};
use crate::flags::{CloneFlags, FlagsWord, Syscall};
use crate::stack::Stack;
use crate::sys::signal::{self, SigSet};
use crate::sys::{self, Pid};
use crate::wait::{options_for, wait_pid, wait_pidfd, WaitStatus};
use core::cell::Cell;
use core::ffi::{c_int, c_void};
use core::marker::PhantomData;
use core::mem::{self, align_of, size_of, ManuallyDrop};
use core::ptr;
use core::ptr::addr_of;
use core::sync::atomic::{AtomicI32, Ordering};
use linux_raw_sys::general as k;

/// Exit status of a child whose closure panicked (and unwinding was enabled).
pub const PANIC_EXIT_STATUS: i32 = 101;

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
    const WHY: &str =
        "the safe API manages tid pointers and TLS itself; use clonelab::clone for raw control";
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
        "it needs a cgroup fd in clone_args; use clonelab::clone3",
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

// ---------------------------------------------------------------- fork-like

/// A fork-like child: its own copy of memory, reaped with [`Child::wait`].
///
/// Dropping a `Child` without waiting does what `std::process::Child` does:
/// nothing to the child. It runs on and, once it exits, stays a zombie until
/// this process reaps it or exits. No memory is shared, so nothing can dangle.
/// A pidfd (CLONE_PIDFD) is closed on drop.
#[derive(Debug)]
pub struct Child {
    call: CloneCall,
    pid: Pid,
    pidfd: Option<c_int>,
    wait_options: u32,
    status: Option<WaitStatus>,
}

impl Child {
    /// The child's pid, as seen from the parent's PID namespace.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The arguments of the clone/clone3 call that made this child.
    pub fn call(&self) -> &CloneCall {
        &self.call
    }

    /// The pidfd, if the child was spawned with CLONE_PIDFD (owned by the `Child`).
    pub fn pidfd(&self) -> Option<c_int> {
        self.pidfd
    }

    /// Wait for the child to end: `waitid(P_PIDFD)` when there is a pidfd,
    /// else `wait4(pid)`, with `__WCLONE` if its exit signal is not SIGCHLD.
    /// A second call returns the same status.
    pub fn wait(&mut self) -> Result<WaitStatus, Error> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = match self.pidfd {
            Some(fd) => wait_pidfd(fd, self.wait_options)?,
            None => wait_pid(self.pid, self.wait_options)?,
        };
        self.status = Some(status);
        Ok(status)
    }

    /// Send `signal` to the child unless it has been reaped (its pid could be reused).
    pub fn kill(&self, signal: u32) -> Result<(), Errno> {
        if self.status.is_some() {
            return Err(Errno::ESRCH);
        }
        sys::kill(self.pid, signal)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(fd) = self.pidfd {
            // SAFETY: the pidfd was created for this Child and is owned by it.
            let _ = unsafe { sys::close(fd) };
        }
    }
}

/// The child side of [`spawn`]: run the closure copied into our memory.
unsafe extern "C" fn fork_entry<F: FnOnce() -> i32>(arg: *mut c_void) -> c_int {
    let guard = ExitOnUnwind(None);
    // SAFETY: arg points at the closure in the parent's frame, which this child
    // has its own copy of; the parent never calls its copy.
    let f = unsafe { ptr::read(arg as *mut F) };
    let code = f();
    mem::forget(guard);
    code
}

/// Run `f` in a new fork-like child (no CLONE_VM) and return its handle.
///
/// Uses clone() unless the flags exist only in clone3 (CLONE_NEWTIME,
/// CLONE_CLEAR_SIGHAND). The child runs on its copy of our stack, so no
/// [`Stack`] is needed. `f` and what it captures are dropped in the child
/// only (see the module docs).
///
/// Refused: CLONE_VM and what needs it (use [`scope`]); the flags the API
/// manages itself; and CLONE_FILES: with one descriptor table but two copies
/// of memory, the child's copy of an owner elsewhere in the program (a
/// `File` in a static, say) could close a descriptor the parent still owns.
/// [`spawn_unchecked`] allows it. Allowed and worth knowing: CLONE_FS (a
/// `chdir`, `chroot` or `umask` in the child is the parent's too) and
/// CLONE_SYSVSEM (one `SEM_UNDO` list, undone when the last sharer exits).
///
/// In a multi-threaded parent, `f` must not take a lock another thread may have
/// held at the moment of the clone (the allocator's, stdout's): in the child
/// it stays locked forever. Raw syscalls and plain memory are fine.
///
/// ```
/// use clonelab::{spawn, CloneFlags, ExitSignal, FlagsWord, WaitStatus};
/// let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
/// let mut child = spawn(word, || 7).unwrap();
/// assert_eq!(child.wait().unwrap(), WaitStatus::Exited(7));
/// ```
pub fn spawn<F: FnOnce() -> i32>(word: FlagsWord, f: F) -> Result<Child, Error> {
    let needs_clone3 = word
        .flags
        .intersects(CloneFlags::CLONE_NEWTIME | CloneFlags::CLONE_CLEAR_SIGHAND);
    spawn_via(
        if needs_clone3 {
            Syscall::Clone3
        } else {
            Syscall::Clone
        },
        word,
        f,
    )
}

/// [`spawn`] through the syscall you choose. With clone3 unavailable (ENOSYS:
/// old kernel, qemu-user, a seccomp profile) and flags that clone() can carry,
/// it falls back to clone().
pub fn spawn_via<F: FnOnce() -> i32>(
    syscall: Syscall,
    word: FlagsWord,
    f: F,
) -> Result<Child, Error> {
    refuse(
        word.flags,
        CloneFlags::CLONE_FILES,
        "CLONE_FILES",
        "a child with its own copy of memory must not share our descriptor table: it could \
         close a descriptor an owner in this process still holds; see clonelab::spawn_unchecked",
    )?;
    // SAFETY: CLONE_FILES is refused above, which is all spawn_unchecked asks.
    unsafe { spawn_unchecked(syscall, word, f) }
}

/// [`spawn_via`] that also allows CLONE_FILES.
///
/// # Safety
/// With CLONE_FILES the child shares this process's descriptor table while
/// holding its own copy of memory, so descriptor ownership must hold across
/// both processes:
/// - `f` must not close, replace (`dup2`) or otherwise end a descriptor that
///   an owner in this process (a `File`, an `OwnedFd`, anything reachable from
///   `f` or from statics) still holds. What `f` itself owns it may close: the
///   parent's copy of `f` is never dropped after a successful clone, so each
///   descriptor the closure owns is closed once.
/// - While the child runs, the parent must not close or replace a descriptor
///   the child may still use (one `f` borrows, or one in a static): the number
///   could be reused for another file, which the child would then read or
///   write.
pub unsafe fn spawn_unchecked<F: FnOnce() -> i32>(
    syscall: Syscall,
    word: FlagsWord,
    f: F,
) -> Result<Child, Error> {
    refuse_shared_memory(word.flags)?;
    refuse_managed(word.flags)?;
    // Checked here, before `f` is set aside, so that an error drops it.
    let clone3_encoding = match syscall {
        Syscall::Clone3 => Some(word.encode_clone3()?),
        Syscall::Clone => None,
    };

    let mut f = ManuallyDrop::new(f);
    let arg = &mut *f as *mut F as *mut c_void;
    let mut pidfd: c_int = -1;
    let want_pidfd = word.flags.contains(CloneFlags::CLONE_PIDFD);
    let pidfd_ptr = if want_pidfd {
        &mut pidfd as *mut c_int
    } else {
        ptr::null_mut()
    };

    let clone_call = CloneCall {
        syscall: Some(Syscall::Clone),
        word,
        parent_tid: pidfd_ptr as usize,
        ..CloneCall::default()
    };
    let via_clone = || {
        // SAFETY: no CLONE_VM, so the child works on its own copy of `f` and of
        // this stack (stack = 0); pidfd_ptr is valid or null as the flags need.
        // A lock another thread held at the clone stays held in the child: a
        // deadlock there is a liveness failure, not memory unsafety.
        let pid = unsafe {
            clone(
                word,
                ptr::null_mut(),
                pidfd_ptr,
                ptr::null_mut(),
                0,
                fork_entry::<F>,
                arg,
            )
        };
        pid.map(|pid| (pid, clone_call))
    };
    let result = match syscall {
        Syscall::Clone => via_clone(),
        Syscall::Clone3 => {
            let (flags, exit_signal) = clone3_encoding.expect("encoded above for clone3");
            let mut args = CloneArgs {
                flags,
                exit_signal,
                pidfd: pidfd_ptr as u64,
                ..zeroed_args()
            };
            let call = CloneCall {
                syscall: Some(Syscall::Clone3),
                word,
                pidfd: pidfd_ptr as usize,
                args_address: &args as *const CloneArgs as usize,
                ..CloneCall::default()
            };
            // SAFETY: as above; args.pidfd is valid or 0.
            match unsafe { clone3(&mut args, size_of::<CloneArgs>(), fork_entry::<F>, arg) } {
                Err(Error::Kernel {
                    errno: Errno::ENOSYS,
                    ..
                }) if word.encode_clone().is_ok() => via_clone(),
                other => other.map(|pid| (pid, call)),
            }
        }
    };
    let (pid, call) = match result {
        Ok(created) => created,
        Err(e) => {
            // SAFETY: no child exists, so this is the only copy of `f`, and it
            // was never called.
            unsafe { ManuallyDrop::drop(&mut f) };
            return Err(e);
        }
    };
    // A child exists: it owns `f` now and drops it there. Our copy stays in
    // its ManuallyDrop and is never dropped.
    Ok(Child {
        call,
        pid,
        pidfd: want_pidfd.then_some(pidfd),
        wait_options: options_for(word.signal),
        status: None,
    })
}

// ---------------------------------------------------------------- scoped (CLONE_VM)

/// What a scoped child and its parent both touch. The child is given a
/// pointer to this part only, and everything in it is either atomic or
/// written before the clone and only read afterwards.
struct ChildShared {
    /// The child's tid: written by the kernel before the child runs
    /// (CLONE_PARENT_SETTID) and set to 0, with a futex wake, when the child
    /// leaves our address space (CLONE_CHILD_CLEARTID: the kernel does it in
    /// `mm_release`, as the exiting or exec-ing child detaches from the mm).
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
    /// For `CLONE_VM` children (required; with [`THREAD_FLAGS`] for a
    /// thread-like one); `f` may borrow anything that outlives the scope. The
    /// child's bookkeeping and `f` itself are moved to the top of `stack`, and
    /// the child starts just below them. The API adds `CLONE_SETTLS` (tls = 0),
    /// `CLONE_PARENT_SETTID` and `CLONE_CHILD_CLEARTID` (its tid word, which
    /// the join waits on). The child starts with every signal blocked, so no
    /// handler ever runs on it; the parent's mask is restored after the clone.
    ///
    /// Refused: calls without CLONE_VM (use [`spawn`]), the flags the API
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
        let flags = word.flags
            | CloneFlags::CLONE_SETTLS
            | CloneFlags::CLONE_PARENT_SETTID
            | CloneFlags::CLONE_CHILD_CLEARTID;
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
        // SAFETY: as above; `tid` is an AtomicI32, so the kernel's writes race
        // with nothing non-atomic.
        let tid_ptr = unsafe { (*shared).tid.as_ptr() };

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
