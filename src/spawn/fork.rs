//! Fork-like children: their own copy of memory, run a closure, reaped
//! through [`Child`]. Part of [`crate::spawn`]; see its docs for ownership
//! across the clone and panics.

use super::{refuse, refuse_managed, refuse_shared_memory, ExitOnUnwind};
use crate::arch::ChildEntry;
use crate::clone::CloneCall;
use crate::clone::{clone, clone3, zeroed_args, CloneArgs};
use crate::errno::Errno;
use crate::error::{Error, Refusal, SetTidError};
use crate::flags::{CloneFlags, FlagsWord, Syscall};
use crate::signum::Signal;
use crate::sys::{self, BorrowedFd, OwnedFd, Pid};
use crate::wait::{self, options_for, wait_pid, wait_pidfd, WaitStatus, Waitable};
use core::ffi::{c_int, c_void};
use core::mem::{self, size_of, ManuallyDrop};
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use core::time::Duration;

/// A fork-like child: its own copy of memory, reaped with [`Child::wait`].
///
/// Dropping a `Child` without waiting does what `std::process::Child` does:
/// nothing to the child. It runs on and, once it exits, stays a zombie until
/// this process reaps it or exits. No memory is shared, so nothing can dangle.
/// A pidfd (CLONE_PIDFD) is closed on drop.
///
/// **Reaped elsewhere.** The `Child` reaps through itself ([`wait`](Child::wait),
/// [`wait_timeout`](Child::wait_timeout)). If the child is reaped another
/// way — [`wait_pid`](crate::wait::wait_pid)`(child.pid(), ..)`, a wait for
/// any child, SIGCHLD set to SIG_IGN — its status is lost to the `Child` and
/// its pid may be handed to a new process. The `Child` then says so: `wait`
/// and `wait_timeout` fail with [`Error::ReapedElsewhere`] (the kernel's
/// `ECHILD`), and [`kill`](Child::kill) refuses with `ECHILD` before sending
/// anything (see there for what a pid alone cannot promise, and why a pidfd
/// can).
///
/// ```
/// use clonelab::{spawn, wait::wait_pid, CloneFlags, Errno, Error, ExitSignal, FlagsWord, Signal, WaitStatus};
/// let mut child = spawn(FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD), || 5).unwrap();
/// // Reaped by pid, behind the Child's back.
/// assert_eq!(wait_pid(child.pid(), 0).unwrap(), WaitStatus::Exited(5));
/// // Its pid may name another process now: no signal is sent.
/// assert_eq!(child.kill(Signal::SIGKILL), Err(Errno::ECHILD));
/// let err = child.wait().unwrap_err();
/// assert_eq!(err, Error::ReapedElsewhere { pid: child.pid() });
/// assert_eq!(err.kernel_errno(), Some(Errno::ECHILD));
/// ```
#[derive(Debug)]
pub struct Child {
    call: CloneCall,
    pid: Pid,
    pidfd: Option<OwnedFd>,
    parent_settid: Option<Pid>,
    wait_options: u32,
    status: Option<WaitStatus>,
    /// The kernel said ECHILD for this child: someone else reaped it.
    reaped_elsewhere: AtomicBool,
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
    ///
    /// [`Error::ReapedElsewhere`] (`ECHILD`): the child was reaped elsewhere
    /// (see [`Child`]); its status is lost.
    pub fn wait(&mut self) -> Result<WaitStatus, Error> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        self.not_reaped_elsewhere().map_err(|e| self.failed(e))?;
        let reaped = match &self.pidfd {
            Some(fd) => wait_pidfd(fd.as_fd(), self.wait_options),
            None => wait_pid(self.pid, self.wait_options),
        };
        let status = reaped.map_err(|e| self.failed(e))?;
        self.status = Some(status);
        Ok(status)
    }

    /// Wait for the child to end, at most `timeout`: `Ok(Some(status))`
    /// once it is reaped (as [`wait`](Child::wait) would report it),
    /// `Ok(None)` if it still runs when the time is up. After `None` the
    /// child is untouched and still ours: wait for it again, with or without
    /// a timeout, or [`kill`](Child::kill) it. `Duration::ZERO` only looks
    /// (a `try_wait`); `Duration::MAX` waits for ever. A signal handler that
    /// runs meanwhile does not cut the wait short.
    ///
    /// **With a pidfd** (CLONE_PIDFD) the wait is exact: the pidfd turns
    /// readable (`POLLIN`) when the child exits (Linux 5.3), so this is
    /// `ppoll([pidfd], timeout)` and then `waitid(P_PIDFD, .., WNOHANG)`.
    /// This is the path to prefer.
    ///
    /// **Without a pidfd** there is no descriptor to poll, so this looks with
    /// `waitid(P_PID, pid, WNOHANG)`, sleeps, and looks again, the sleep
    /// doubling from 1 ms to 10 ms: an exit is seen up to 10 ms late, and the
    /// process wakes up to 100 times a second while it waits. (A wait on
    /// SIGCHLD could be exact, but it would take over a process-wide signal
    /// disposition that the caller, not a library, owns.)
    ///
    /// [`Error::ReapedElsewhere`] (`ECHILD`): the child was reaped elsewhere
    /// (see [`Child`]).
    ///
    /// ```
    /// use clonelab::{spawn, sys, CloneFlags, ExitSignal, FlagsWord, Signal, WaitStatus};
    /// use core::time::Duration;
    /// let word = FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD);
    /// let mut child = spawn(word, || {
    ///     let _ = sys::nanosleep(Duration::from_secs(30));
    ///     0
    /// })
    /// .unwrap();
    /// // Still asleep when the 10 ms are up: None, and the child is still ours.
    /// assert_eq!(child.wait_timeout(Duration::from_millis(10)).unwrap(), None);
    /// child.kill(Signal::SIGKILL).unwrap();
    /// let status = child.wait_timeout(Duration::from_secs(10)).unwrap();
    /// assert_eq!(status, Some(WaitStatus::Signaled { signal: 9, core_dumped: false }));
    /// ```
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<WaitStatus>, Error> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        self.not_reaped_elsewhere().map_err(|e| self.failed(e))?;
        let child = match &self.pidfd {
            Some(fd) => Waitable::Pidfd(fd.as_fd()),
            None => Waitable::Pid(self.pid),
        };
        let found = wait::wait_timeout(child, self.wait_options, timeout);
        let status = found.map_err(|e| self.failed(e))?;
        self.status = status;
        Ok(status)
    }

    /// The error for a failed wait; `ECHILD` means someone else reaped the
    /// child, which is remembered: [`Error::ReapedElsewhere`].
    fn failed(&self, errno: Errno) -> Error {
        if errno == Errno::ECHILD {
            self.reaped_elsewhere.store(true, Ordering::Relaxed);
            return Error::ReapedElsewhere { pid: self.pid };
        }
        errno.into()
    }

    /// `ECHILD` if a wait or a kill has already found the child reaped elsewhere.
    fn not_reaped_elsewhere(&self) -> Result<(), Errno> {
        if self.reaped_elsewhere.load(Ordering::Relaxed) {
            Err(Errno::ECHILD)
        } else {
            Ok(())
        }
    }

    /// Send `signal` to the child, unless it has been reaped (its pid could
    /// name another process by now).
    ///
    /// - **With a pidfd**: `pidfd_send_signal`. It reaches this child or
    ///   fails (`ESRCH` once the child is reaped); it never reaches another
    ///   process. The safe way to signal a child.
    /// - **Without one**: `kill(pid)`, but only after
    ///   `waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT | __WALL)` (which
    ///   reaps nothing) says the pid is still our unreaped child, running or
    ///   a zombie. While it is unreaped the kernel cannot give its pid to
    ///   anyone else. If the kernel says `ECHILD`, the child was reaped
    ///   elsewhere (see [`Child`]): nothing is sent and the error is
    ///   `ECHILD`, now and on every later call.
    ///
    /// Errors: `ESRCH` after this `Child` reaped the child; `ECHILD` after
    /// someone else did; otherwise what the kernel said (if the `waitid`
    /// check itself fails, `EPERM` from a seccomp filter say, that error,
    /// and no signal is sent).
    ///
    /// What a pid cannot promise. The check proves only that *some*
    /// unreaped child of ours has this pid: if the child was reaped
    /// elsewhere and the kernel handed its pid to another child of ours,
    /// `kill` (and `wait`) reach that one. And between the check and `kill`
    /// the child can be reaped — by another thread of this process (a wait
    /// for any child, or [`wait_pid`](crate::wait::wait_pid) on this pid), or
    /// by the kernel itself when SIGCHLD is set to SIG_IGN or SA_NOCLDWAIT —
    /// and its pid reused. Only a pidfd closes these gaps: spawn with
    /// `CLONE_PIDFD` where a child may be reaped outside its `Child`.
    pub fn kill(&self, signal: Signal) -> Result<(), Errno> {
        if self.status.is_some() {
            return Err(Errno::ESRCH);
        }
        self.not_reaped_elsewhere()?;
        match &self.pidfd {
            Some(fd) => sys::pidfd_send_signal(fd.as_fd(), signal),
            None => {
                wait::unreaped_child(self.pid).inspect_err(|&e| {
                    if e == Errno::ECHILD {
                        self.reaped_elsewhere.store(true, Ordering::Relaxed);
                    }
                })?;
                sys::kill(self.pid, signal)
            }
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
    set_tid: Option<&'fd [Pid]>,
}

/// The most pids [`SpawnOptions::set_tid`] takes: one per PID namespace a
/// task can be in. The kernel's `MAX_PID_NS_LEVEL` (32), from
/// `include/linux/pid_namespace.h`, which is not part of the uapi headers
/// and so not in linux-raw-sys: `copy_clone_args_from_user` refuses a
/// longer array with `EINVAL`, and a PID namespace 32 deep cannot be made.
///
/// ```
/// use clonelab::spawn::{spawn_with, SpawnOptions, MAX_SET_TID};
/// use clonelab::{CloneFlags, Error, ExitSignal, FlagsWord, SetTidError};
/// let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
/// let too_many = [1; MAX_SET_TID + 1];
/// let err = spawn_with(word, SpawnOptions::new().set_tid(&too_many), |_| 0).unwrap_err();
/// assert_eq!(err, Error::SetTid(SetTidError::TooMany { len: 33 }));
/// assert_eq!(err.kernel_errno(), Some(clonelab::Errno::EINVAL));
/// ```
pub const MAX_SET_TID: usize = 32;

impl<'fd> SpawnOptions<'fd> {
    /// No options: clone, or clone3 where the flags need it.
    pub const fn new() -> SpawnOptions<'fd> {
        SpawnOptions {
            syscall: None,
            cgroup: None,
            parent_settid: false,
            child_settid: false,
            set_tid: None,
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

    /// clone3's `set_tid` (Linux 5.5): the pid the child gets, one per PID
    /// namespace it is in, *innermost first*: `pids[0]` is its pid in its
    /// own PID namespace (the new one, with CLONE_NEWPID), `pids[1]` in the
    /// parent of that namespace, and so on outwards. The array may stop
    /// before the outermost namespace: the levels it does not cover get the
    /// next free pid as usual. Checkpoint/restore (CRIU) uses this to give a
    /// restored process its old pids. The child is made with clone3.
    ///
    /// Refused before the syscall, as [`Error::SetTid`] naming the value,
    /// with the `EINVAL` clone3 would answer as its
    /// [`kernel_errno`](Error::kernel_errno): an empty array
    /// ([`SetTidError::Empty`]); more than [`MAX_SET_TID`] pids
    /// ([`TooMany`](SetTidError::TooMany), the length); a pid that is 0 or
    /// negative ([`NotPositive`](SetTidError::NotPositive), the pid and its
    /// index); CLONE_NEWPID with a first pid other than 1, as a new namespace
    /// starts with its init ([`NewPidNotInit`](SetTidError::NewPidNotInit)).
    /// And [`via`](SpawnOptions::via)`(Syscall::Clone)`, which has no such
    /// argument ([`NeedsClone3`](SetTidError::NeedsClone3): no errno).
    /// clone3 is not replaced by clone where it is missing (`ENOSYS` is
    /// returned): the child would get other pids.
    ///
    /// What only the kernel can judge comes back as
    /// [`Error::SetTid`]`(`[`SetTidError::Kernel`]`)`, its Display saying
    /// what the errno means for set_tid (`alloc_pid`, `kernel/pid.c`, at each
    /// level that has a pid); [`Error::errno`] is the kernel's. A clone(2)
    /// flags rule the kernel checks earlier ([`Error::Kernel`] with a `rule`)
    /// and any other errno stay [`Error::Kernel`]. What each errno means:
    /// - `EEXIST`: that pid is taken in that namespace.
    /// - `EINVAL`: more pids than the child has namespace levels (a child in
    ///   our namespace, at its top level, takes one; each level down, one
    ///   more; CLONE_NEWPID adds one); a pid at or above that namespace's
    ///   `pid_max`; or a pid other than 1 in a namespace that has no init
    ///   yet.
    /// - `EPERM`: the caller lacks `CAP_SYS_ADMIN` or
    ///   `CAP_CHECKPOINT_RESTORE` in the user namespace that owns that PID
    ///   namespace. With CLONE_NEWUSER too, the new PID namespace is owned by
    ///   the new user namespace, where the child's creator has every
    ///   capability: so an unprivileged caller may choose pid 1 there.
    ///
    /// ```
    /// use clonelab::spawn::{spawn_with, SpawnOptions};
    /// use clonelab::{sys, CloneFlags, Errno, ExitSignal, FlagsWord, WaitStatus};
    /// // A new user namespace owns the new PID namespace: no privilege needed to
    /// // ask for pid 1 in it (where unprivileged user namespaces are allowed).
    /// let word = FlagsWord::new(
    ///     CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWPID,
    ///     ExitSignal::SIGCHLD,
    /// );
    /// let options = SpawnOptions::new().set_tid(&[1]);
    /// match spawn_with(word, options, |_| (sys::getpid() == 1) as i32) {
    ///     Ok(mut child) => assert_eq!(child.wait().unwrap(), WaitStatus::Exited(1)),
    ///     // No clone3 (before 5.5, qemu-user), or user namespaces are disabled.
    ///     Err(e) => assert!(matches!(e.errno(), Some(Errno::ENOSYS | Errno::EPERM | Errno::EINVAL | Errno::ENOSPC))),
    /// }
    /// // Taken, in our namespace (as root), or not ours to choose (EPERM):
    /// let ours = [sys::getpid()];
    /// let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
    /// let err = spawn_with(word, SpawnOptions::new().set_tid(&ours), |_| 0).unwrap_err();
    /// assert!(matches!(err.errno(), Some(Errno::EEXIST | Errno::EPERM | Errno::ENOSYS)));
    /// ```
    pub const fn set_tid(mut self, pids: &'fd [Pid]) -> SpawnOptions<'fd> {
        self.set_tid = Some(pids);
        self
    }
}

/// Refuse a `set_tid` array the kernel would refuse with EINVAL, and one
/// that clone() cannot carry, naming the value.
fn check_set_tid(pids: &[Pid], flags: CloneFlags, syscall: Option<Syscall>) -> Result<(), Error> {
    let len = pids.len();
    let problem = if syscall == Some(Syscall::Clone) {
        SetTidError::NeedsClone3 { len }
    } else if pids.is_empty() {
        SetTidError::Empty
    } else if len > MAX_SET_TID {
        SetTidError::TooMany { len }
    } else if let Some((index, &pid)) = pids.iter().enumerate().find(|(_, &pid)| pid <= 0) {
        SetTidError::NotPositive { index, pid }
    } else if flags.contains(CloneFlags::CLONE_NEWPID) && pids[0] != 1 {
        SetTidError::NewPidNotInit { pid: pids[0] }
    } else {
        return Ok(());
    };
    Err(Error::SetTid(problem))
}

/// The kernel's answer to a call with a `set_tid` array: explained
/// ([`SetTidError::Kernel`]) when it is one `alloc_pid` gives and no
/// clone(2) flags rule, checked earlier, was named for it.
fn explain_set_tid(e: Error, pids: Option<&[Pid]>) -> Error {
    match (e, pids) {
        (Error::Kernel { errno, rule: None }, Some(pids)) => {
            SetTidError::from_kernel(errno, pids).map_or(e, Error::SetTid)
        }
        _ => e,
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
    if let Some(pids) = options.set_tid {
        check_set_tid(pids, word.flags, options.syscall)?;
    }
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
        || options.set_tid.is_some()
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
    let (set_tid, set_tid_size) = options
        .set_tid
        .map_or((0, 0), |pids| (pids.as_ptr() as usize, pids.len()));
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
                set_tid: set_tid as u64,
                set_tid_size: set_tid_size as u64,
                ..zeroed_args()
            };
            let call = CloneCall {
                syscall: Some(Syscall::Clone3),
                word,
                pidfd: pidfd_ptr as usize,
                parent_tid: parent_tid_ptr as usize,
                child_tid: child_tid_address,
                cgroup,
                set_tid,
                set_tid_size,
                args_address: &args as *const CloneArgs as usize,
                ..CloneCall::default()
            };
            // SAFETY: as above; the pointers in args are valid or 0 (set_tid:
            // `set_tid_size` pids, borrowed for this call, which the kernel
            // only reads), and `cgroup` is a descriptor borrowed for this call.
            match unsafe { clone3(&mut args, size_of::<CloneArgs>(), entry, arg) } {
                Err(Error::Kernel {
                    errno: Errno::ENOSYS,
                    ..
                }) if word.encode_clone().is_ok()
                    && !pidfd_and_parent_tid
                    && options.set_tid.is_none() =>
                {
                    via_clone()
                }
                other => other
                    .map_err(|e| explain_set_tid(e, options.set_tid))
                    .map(|pid| (pid, call)),
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
        reaped_elsewhere: AtomicBool::new(false),
    })
}

/// The trampoline entry for a closure of `f`'s type.
fn entry_for<F: FnOnce() -> i32>(_: &F) -> ChildEntry {
    fork_entry::<F>
}
