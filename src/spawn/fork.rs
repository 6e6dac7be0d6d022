//! Fork-like children: their own copy of memory, run a closure, reaped
//! through [`Child`]. Part of [`crate::spawn`]; see its docs for ownership
//! across the clone and panics.

use super::{refuse, refuse_managed, refuse_shared_memory, ExitOnUnwind};
use crate::arch::ChildEntry;
use crate::clone::CloneCall;
use crate::clone::{clone, clone3, zeroed_args, CloneArgs};
use crate::errno::Errno;
use crate::error::{Error, Refusal};
use crate::flags::{CloneFlags, FlagsWord, Syscall};
use crate::signum::Signal;
use crate::sys::{self, BorrowedFd, OwnedFd, Pid};
use crate::wait::{options_for, wait_pid, wait_pidfd, WaitStatus};
use core::ffi::{c_int, c_void};
use core::mem::{self, size_of, ManuallyDrop};
use core::ptr;
use core::sync::atomic::{AtomicI32, Ordering};

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
    pidfd: Option<OwnedFd>,
    parent_settid: Option<Pid>,
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

    /// The tid the kernel stored with CLONE_PARENT_SETTID (see
    /// [`SpawnOptions::parent_settid`]).
    pub fn parent_settid(&self) -> Option<Pid> {
        self.parent_settid
    }

    /// The pidfd, if the child was spawned with CLONE_PIDFD (owned by the
    /// `Child`, closed when it is dropped).
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(OwnedFd::as_fd)
    }

    /// Wait for the child to end: `waitid(P_PIDFD)` when there is a pidfd,
    /// else `wait4(pid)`, with `__WCLONE` if its exit signal is not SIGCHLD.
    /// A second call returns the same status.
    pub fn wait(&mut self) -> Result<WaitStatus, Error> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = match &self.pidfd {
            Some(fd) => wait_pidfd(fd.as_fd(), self.wait_options)?,
            None => wait_pid(self.pid, self.wait_options)?,
        };
        self.status = Some(status);
        Ok(status)
    }

    /// Send `signal` to the child unless it has been reaped (its pid could be
    /// reused): through its pidfd when it has one, else with `kill`.
    pub fn kill(&self, signal: Signal) -> Result<(), Errno> {
        if self.status.is_some() {
            return Err(Errno::ESRCH);
        }
        match &self.pidfd {
            Some(fd) => sys::pidfd_send_signal(fd.as_fd(), signal),
            None => sys::kill(self.pid, signal),
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
/// [`Stack`](crate::Stack) is needed. `f` and what it captures are dropped in the child
/// only (see the module docs).
///
/// Refused: CLONE_VM and what needs it (use [`scope`](super::scope)); the flags the API
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
    spawn_with(word, SpawnOptions::new(), |_| f())
}

/// [`spawn`] through the syscall you choose. With clone3 unavailable (ENOSYS:
/// old kernel, qemu-user, a seccomp profile) and flags that clone() can carry,
/// it falls back to clone().
pub fn spawn_via<F: FnOnce() -> i32>(
    syscall: Syscall,
    word: FlagsWord,
    f: F,
) -> Result<Child, Error> {
    spawn_with(word, SpawnOptions::new().via(syscall), |_| f())
}

/// What a fork-like child is given besides its flags word. Each choice adds
/// the flag it needs, and clonelab owns the memory the kernel writes: that is
/// why the flags themselves are refused in the word.
///
/// ```
/// use clonelab::spawn::{spawn_with, SpawnOptions};
/// use clonelab::{CloneFlags, ExitSignal, FlagsWord, WaitStatus};
/// let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
/// let options = SpawnOptions::new().parent_settid().child_settid();
/// // The child learns its tid from CLONE_CHILD_SETTID, the parent from CLONE_PARENT_SETTID.
/// let mut child = spawn_with(word, options, |born| {
///     (born.child_settid == Some(clonelab::sys::gettid())) as i32
/// })
/// .unwrap();
/// assert_eq!(child.parent_settid(), Some(child.pid()));
/// assert_eq!(child.wait().unwrap(), WaitStatus::Exited(1));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SpawnOptions<'fd> {
    syscall: Option<Syscall>,
    cgroup: Option<BorrowedFd<'fd>>,
    parent_settid: bool,
    child_settid: bool,
}

impl<'fd> SpawnOptions<'fd> {
    /// No options: clone, or clone3 where the flags need it.
    pub const fn new() -> SpawnOptions<'fd> {
        SpawnOptions {
            syscall: None,
            cgroup: None,
            parent_settid: false,
            child_settid: false,
        }
    }

    /// Make the child with this syscall (clone3 falls back to clone on ENOSYS
    /// when the flags and options allow).
    pub const fn via(mut self, syscall: Syscall) -> SpawnOptions<'fd> {
        self.syscall = Some(syscall);
        self
    }

    /// `CLONE_INTO_CGROUP` (clone3 only): the child starts in the cgroup
    /// whose directory `dir` is open on, instead of ours.
    pub const fn into_cgroup(mut self, dir: BorrowedFd<'fd>) -> SpawnOptions<'fd> {
        self.cgroup = Some(dir);
        self
    }

    /// `CLONE_PARENT_SETTID`: the kernel stores the child's tid in our memory
    /// before clone returns; [`Child::parent_settid`] reads it (`None` if
    /// nothing was written, as under qemu-user). With CLONE_PIDFD too, the
    /// child is made with clone3: clone() passes both through one argument.
    pub const fn parent_settid(mut self) -> SpawnOptions<'fd> {
        self.parent_settid = true;
        self
    }

    /// `CLONE_CHILD_SETTID`: the child's tid is stored in the *child's* copy
    /// of memory by the child itself, in the kernel, as it first runs
    /// (`schedule_tail`), before its first user instruction; the closure
    /// receives it in [`Born::child_settid`].
    pub const fn child_settid(mut self) -> SpawnOptions<'fd> {
        self.child_settid = true;
        self
    }
}

/// What a child made by [`spawn_with`] is told when it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Born {
    /// The tid the kernel wrote into the child's memory, with
    /// [`SpawnOptions::child_settid`].
    pub child_settid: Option<Pid>,
}

/// [`spawn`] with [`SpawnOptions`]: a syscall, a cgroup to start in, the tids
/// the SETTID flags write. Refuses what [`spawn`] refuses.
pub fn spawn_with<F: FnOnce(Born) -> i32>(
    word: FlagsWord,
    options: SpawnOptions<'_>,
    f: F,
) -> Result<Child, Error> {
    refuse(
        word.flags,
        CloneFlags::CLONE_FILES,
        "CLONE_FILES",
        "a child with its own copy of memory must not share our descriptor table: it could \
         close a descriptor an owner in this process still holds; see clonelab::spawn_unchecked",
    )?;
    // SAFETY: CLONE_FILES is refused above, which is all spawn_options_unchecked asks.
    unsafe { spawn_options_unchecked(word, options, f) }
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
    // SAFETY: the caller keeps spawn_unchecked's contract, which is this one's.
    unsafe { spawn_options_unchecked(word, SpawnOptions::new().via(syscall), |_| f()) }
}

/// The one fork-like path: every public spawn function above ends here.
///
/// # Safety
/// As [`spawn_unchecked`] (only CLONE_FILES needs it).
unsafe fn spawn_options_unchecked<F: FnOnce(Born) -> i32>(
    word: FlagsWord,
    options: SpawnOptions<'_>,
    f: F,
) -> Result<Child, Error> {
    refuse_shared_memory(word.flags)?;
    refuse_managed(word.flags)?;
    let mut word = word;
    if options.parent_settid {
        word.flags |= CloneFlags::CLONE_PARENT_SETTID;
    }
    if options.child_settid {
        word.flags |= CloneFlags::CLONE_CHILD_SETTID;
    }
    if options.cgroup.is_some() {
        word.flags |= CloneFlags::CLONE_INTO_CGROUP;
    }
    // clone() has one parent_tid for both CLONE_PIDFD and CLONE_PARENT_SETTID
    // (and kernels before 5.2 ignore CLONE_PIDFD but honour PARENT_SETTID,
    // which would write a tid where we expect a descriptor): both need clone3.
    let pidfd_and_parent_tid =
        word.flags.contains(CloneFlags::CLONE_PIDFD) && options.parent_settid;
    let needs_clone3 = pidfd_and_parent_tid
        || word.flags.intersects(
            CloneFlags::CLONE_NEWTIME
                | CloneFlags::CLONE_CLEAR_SIGHAND
                | CloneFlags::CLONE_INTO_CGROUP,
        );
    let syscall = options.syscall.unwrap_or(if needs_clone3 {
        Syscall::Clone3
    } else {
        Syscall::Clone
    });
    if pidfd_and_parent_tid && syscall == Syscall::Clone {
        return Err(Error::FlagNotAllowed(Refusal::new(
            "CLONE_PIDFD with SpawnOptions::parent_settid",
            "clone() returns both through one parent_tid pointer: use clone3",
        )));
    }
    // Checked here, before `f` is set aside, so that an error drops it.
    let clone3_encoding = match syscall {
        Syscall::Clone3 => Some(word.encode_clone3()?),
        Syscall::Clone => None,
    };

    // What the kernel writes: the pidfd and PARENT_SETTID's tid in this frame,
    // CHILD_SETTID's tid in the child's copy of it.
    let mut pidfd: c_int = -1;
    let parent_tid = AtomicI32::new(0);
    let child_tid = AtomicI32::new(0);
    let want_pidfd = word.flags.contains(CloneFlags::CLONE_PIDFD);
    let pointer_if = |wanted: bool, target: *mut c_int| {
        if wanted {
            target
        } else {
            ptr::null_mut()
        }
    };
    let pidfd_ptr = pointer_if(want_pidfd, &mut pidfd);
    let parent_tid_ptr = pointer_if(options.parent_settid, parent_tid.as_ptr());
    let child_tid_ptr = pointer_if(options.child_settid, child_tid.as_ptr());
    let child_tid_address = child_tid_ptr as usize;

    // The child reads its copy of `child_tid`: this frame is an ancestor of
    // its first frame, on its copy of our stack.
    let f = move || {
        let child_settid = (child_tid_address != 0).then(|| {
            // SAFETY: the address is `child_tid` in this (copied) frame, live
            // while the child runs; the kernel wrote it before the child began.
            unsafe { (*(child_tid_address as *const AtomicI32)).load(Ordering::Relaxed) }
        });
        f(Born { child_settid })
    };
    let mut f = ManuallyDrop::new(f);
    let arg = &mut *f as *mut _ as *mut c_void;
    let entry = entry_for(&*f);

    // With clone(), CLONE_PIDFD and CLONE_PARENT_SETTID share parent_tid;
    // the clone(2) rule check reports asking for both.
    let clone_parent_tid = if want_pidfd {
        pidfd_ptr
    } else {
        parent_tid_ptr
    };
    let clone_call = CloneCall {
        syscall: Some(Syscall::Clone),
        word,
        parent_tid: clone_parent_tid as usize,
        child_tid: child_tid_address,
        ..CloneCall::default()
    };
    let cgroup = options.cgroup.map_or(0, |fd| fd.as_raw() as u64);
    let via_clone = || {
        // SAFETY: no CLONE_VM, so the child works on its own copy of `f` and of
        // this stack (stack = 0); the tid and pidfd pointers are valid or null
        // as the flags need. A lock another thread held at the clone stays
        // held in the child: a deadlock there is a liveness failure, not
        // memory unsafety.
        let pid = unsafe {
            clone(
                word,
                ptr::null_mut(),
                clone_parent_tid,
                child_tid_ptr,
                0,
                entry,
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
                parent_tid: parent_tid_ptr as u64,
                child_tid: child_tid_ptr as u64,
                cgroup,
                ..zeroed_args()
            };
            let call = CloneCall {
                syscall: Some(Syscall::Clone3),
                word,
                pidfd: pidfd_ptr as usize,
                parent_tid: parent_tid_ptr as usize,
                child_tid: child_tid_address,
                cgroup,
                args_address: &args as *const CloneArgs as usize,
                ..CloneCall::default()
            };
            // SAFETY: as above; the pointers in args are valid or 0, and
            // `cgroup` is a descriptor borrowed for this call.
            match unsafe { clone3(&mut args, size_of::<CloneArgs>(), entry, arg) } {
                Err(Error::Kernel {
                    errno: Errno::ENOSYS,
                    ..
                }) if word.encode_clone().is_ok() && !pidfd_and_parent_tid => via_clone(),
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
        // SAFETY: with CLONE_PIDFD a kernel that knows the flag wrote a new
        // descriptor, ours alone. One that does not (before 5.2) left -1; 0 is
        // what qemu-user stores when it cannot make one: neither is taken.
        pidfd: (want_pidfd && pidfd > 0).then(|| unsafe { OwnedFd::from_raw(pidfd) }),
        // A tid is never 0: 0 means nothing was written here (qemu-user
        // writes PARENT_SETTID in the child's memory, not ours).
        parent_settid: options
            .parent_settid
            .then(|| parent_tid.load(Ordering::Relaxed))
            .filter(|&tid| tid > 0),
        wait_options: options_for(word.signal),
        status: None,
    })
}

/// The trampoline entry for a closure of `f`'s type.
fn entry_for<F: FnOnce() -> i32>(_: &F) -> ChildEntry {
    fork_entry::<F>
}
