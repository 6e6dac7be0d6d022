//! The safe API: children that cannot outlive what they use.
//!
//! Three shapes, from loosest to tightest sharing:
//!
//! | function | shares memory? | stack | how it is reaped |
//! |----------|----------------|-------|------------------|
//! | [`spawn`] | no (fork-like) | the child's copy of ours | [`Child::wait`]: `wait4` or `waitid(P_PIDFD)` |
//! | [`Scope::spawn`] | yes (`CLONE_VM`) | a [`Stack`] borrowed for the scope | joined before [`scope`] returns |
//! | [`Scope::spawn`] with [`THREAD_FLAGS`] | yes, same thread group | a borrowed [`Stack`] | `CLONE_CHILD_CLEARTID` + futex |
//!
//! **Panics.** A child's closure that panics never unwinds into the parent's
//! frames (they are not on its stack): a guard in the child's first Rust frame
//! ends it with `SYS_exit(`[`PANIC_EXIT_STATUS`]`)`, so the parent sees
//! `Exited(101)` — Rust's own exit status for a panicking program.
//!
//! **Thread pointer.** A `CLONE_VM` child from [`Scope::spawn`] starts with its
//! thread pointer (x86_64 `fs`, aarch64 `tpidr_el0`) set to 0 via
//! `CLONE_SETTLS`. Otherwise it would share the *parent thread's* thread-local
//! storage — std's, libc's `errno`, the panic counter — and race with it. With 0,
//! any thread-local access in the child faults (SIGSEGV) instead: loud, not
//! silently wrong. Such a child should stick to clonelab's raw syscalls and
//! atomics, which need no TLS; a panic in it ends as SIGSEGV, not status 101,
//! because the panic machinery itself uses TLS.

use crate::abi::CloneCall;
use crate::clone::{clone, clone3, zeroed_args, CloneArgs, STACK_ALIGN};
use crate::errno::Errno;
use crate::error::Error;
use crate::flags::{CloneFlags, FlagsWord, Syscall};
use crate::stack::Stack;
use crate::sys::{self, Pid};
use crate::wait::{options_for, wait_pid, wait_pidfd, WaitStatus};
use core::cell::Cell;
use core::ffi::{c_int, c_void};
use core::marker::PhantomData;
use core::mem::{self, align_of, size_of, ManuallyDrop};
use core::ptr;
use core::sync::atomic::{AtomicI32, Ordering};

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
        sys::exit(PANIC_EXIT_STATUS);
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
        Err(Error::FlagNotAllowed { flag: name, why })
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
/// [`Stack`] is needed. Refused: CLONE_VM and what needs it (use [`scope`]),
/// and the flags the API manages itself.
///
/// In a multi-threaded parent, `f` must not take a lock another thread may have
/// held at the moment of the clone (the allocator's, stdout's): in the child
/// it stays locked forever. Raw syscalls and plain memory are fine.
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
    let why_vm = "a fork-like child must not share our memory: use clonelab::scope with a Stack";
    refuse(word.flags, CloneFlags::CLONE_VM, "CLONE_VM", why_vm)?;
    refuse(
        word.flags,
        CloneFlags::CLONE_SIGHAND,
        "CLONE_SIGHAND",
        why_vm,
    )?;
    refuse(word.flags, CloneFlags::CLONE_THREAD, "CLONE_THREAD", why_vm)?;
    refuse_managed(word.flags)?;

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
            let (flags, exit_signal) = word.encode_clone3()?;
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
    // SAFETY: this (the parent's) copy of `f` was never called; the child had its own.
    unsafe { ManuallyDrop::drop(&mut f) };
    let (pid, call) = result?;
    Ok(Child {
        call,
        pid,
        pidfd: want_pidfd.then_some(pidfd),
        wait_options: options_for(word.signal),
        status: None,
    })
}

// ---------------------------------------------------------------- scoped (CLONE_VM)

/// Bookkeeping for one scoped child. It lives at the top of the child's own
/// [`Stack`] (no allocator needed), which the scope borrows until every child
/// is joined.
struct Record {
    /// tid, written by the kernel (CLONE_PARENT_SETTID) and zeroed at the
    /// child's exit (CLONE_CHILD_CLEARTID) for thread-like children.
    tid: AtomicI32,
    /// The closure's return value, stored by a thread-like child before exit.
    code: AtomicI32,
    /// Where the closure was moved.
    closure: *mut u8,
    pid: Pid,
    thread: bool,
    wait_options: u32,
    status: Cell<Option<WaitStatus>>,
    next: Cell<*const Record>,
}

impl Record {
    /// Block until the child is gone; idempotent.
    fn join(&self) -> Result<WaitStatus, Error> {
        if let Some(status) = self.status.get() {
            return Ok(status);
        }
        let status = if self.thread {
            loop {
                let tid = self.tid.load(Ordering::Acquire);
                if tid == 0 {
                    break;
                }
                match sys::futex_wait(&self.tid, tid) {
                    Ok(()) | Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            WaitStatus::Exited(self.code.load(Ordering::Acquire))
        } else {
            wait_pid(self.pid, self.wait_options)?
        };
        self.status.set(Some(status));
        Ok(status)
    }
}

/// The child side of [`Scope::spawn`].
unsafe extern "C" fn scoped_entry<F: FnOnce() -> i32>(arg: *mut c_void) -> c_int {
    // SAFETY: arg is the Record the parent wrote at the top of our stack; it
    // stays valid until we are joined.
    let record = unsafe { &*(arg as *const Record) };
    let guard = ExitOnUnwind(Some(&record.code));
    // SAFETY: the parent moved the closure to record.closure and never touches it again.
    let f = unsafe { ptr::read(record.closure as *mut F) };
    let code = f();
    record.code.store(code, Ordering::Release);
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
    /// through CLONE_CHILD_CLEARTID + futex and report `Exited(value their
    /// closure returned)`; others are reaped with `wait4`.
    pub fn join(self) -> Result<WaitStatus, Error> {
        self.record.join()
    }
}

/// Run `f` with a [`Scope`]; every child spawned in it has ended when `scope` returns
/// (also when `f` panics: the join runs during unwinding).
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
                // Nothing useful can be done with an error here (ECHILD would
                // mean someone else reaped it); the child is gone either way.
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
    /// Meant for `CLONE_VM` children (with [`THREAD_FLAGS`] for a thread-like
    /// one); `f` may borrow anything that outlives the scope. The child's
    /// bookkeeping and `f` itself are moved to the top of `stack`, and the
    /// child starts just below them.
    ///
    /// Refused: the flags the API manages itself (SETTLS, *_SETTID,
    /// CHILD_CLEARTID), CLONE_PARENT, and clone3-only flags.
    pub fn spawn<F>(
        &'scope self,
        stack: &'scope mut Stack,
        word: FlagsWord,
        f: F,
    ) -> Result<ScopedChild<'scope>, Error>
    where
        F: FnOnce() -> i32 + Send + 'scope,
    {
        refuse_managed(word.flags)?;
        if word
            .flags
            .contains(CloneFlags::CLONE_SIGHAND | CloneFlags::CLONE_NEWPID)
        {
            return Err(Error::FlagNotAllowed {
                flag: "CLONE_NEWPID with CLONE_SIGHAND",
                why: "when the child, PID 1 of its namespace, exits, the kernel sets SIGCHLD to SIG_IGN \
                      in its signal handler table, which CLONE_SIGHAND shares with this process: every \
                      later child would be reaped behind our back",
            });
        }
        let thread = word.flags.contains(CloneFlags::CLONE_THREAD);
        let mut flags = word.flags | CloneFlags::CLONE_SETTLS;
        if thread {
            flags |= CloneFlags::CLONE_PARENT_SETTID | CloneFlags::CLONE_CHILD_CLEARTID;
        }
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
        // SAFETY: both addresses lie inside `stack`, which we borrow exclusively
        // for 'scope, are aligned for their types, and do not overlap.
        let record = unsafe {
            ptr::write(closure_at as *mut F, f);
            ptr::write(
                record_at as *mut Record,
                Record {
                    tid: AtomicI32::new(0),
                    code: AtomicI32::new(0),
                    closure: closure_at as *mut u8,
                    pid: 0,
                    thread,
                    wait_options: options_for(word.signal),
                    status: Cell::new(None),
                    next: Cell::new(ptr::null()),
                },
            );
            &mut *(record_at as *mut Record)
        };
        let tid_ptr = if thread {
            record.tid.as_ptr()
        } else {
            ptr::null_mut()
        };

        // SAFETY: the stack, the closure and the Record outlive the child: the
        // scope joins it before 'scope ends. tls = 0 gives the child no TLS
        // (see the module docs). tid_ptr points into the Record.
        let result = unsafe {
            clone(
                word,
                child_sp as *mut u8,
                tid_ptr,
                tid_ptr,
                0,
                scoped_entry::<F>,
                record_at as *mut c_void,
            )
        };
        let pid = match result {
            Ok(pid) => pid,
            Err(e) => {
                // SAFETY: no child exists, so the closure is still ours to drop.
                unsafe { ptr::drop_in_place(closure_at as *mut F) };
                return Err(e);
            }
        };
        record.pid = pid;
        let record: &'scope Record = record;
        record.next.set(self.children.get());
        self.children.set(record);
        let call = CloneCall {
            syscall: Some(Syscall::Clone),
            word,
            stack: child_sp,
            parent_tid: tid_ptr as usize,
            child_tid: tid_ptr as usize,
            ..CloneCall::default()
        };
        Ok(ScopedChild { record, call })
    }
}
