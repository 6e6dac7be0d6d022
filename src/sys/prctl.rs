//! `prctl`: the three process settings a supervisor or a container's init
//! needs, typed. Each function is one `prctl(option, ...)` call.
//!
//! Where it sits: in the syscall layer ([`crate::sys`]), on [`crate::arch`],
//! [`crate::errno`] and [`crate::signum`] only; the option numbers come from
//! linux-raw-sys's `prctl` module.
//!
//! | setting | set | get | what it does |
//! |---------|-----|-----|--------------|
//! | parent-death signal | [`set_pdeathsig`] | [`get_pdeathsig`] | the kernel sends *us* a signal when our parent dies |
//! | child subreaper | [`set_child_subreaper`] | [`get_child_subreaper`] | orphans below us are reparented to us, not to the pid namespace's init |
//! | keep capabilities | [`set_keepcaps`] | [`get_keepcaps`] | keep the permitted capabilities when every uid leaves 0 |
//!
//! A new process does not inherit the first two: `copy_process` clears the
//! parent-death signal, and the subreaper flag lives in the new process's
//! own `signal_struct`. "Keep capabilities" is a bit of the credentials'
//! `securebits`, copied to a child with the rest of them and cleared by
//! `execve`.
//!
//! ```
//! use clonelab::sys;
//! use clonelab::{spawn, CloneFlags, ExitSignal, FlagsWord, Signal, WaitStatus};
//! sys::set_pdeathsig(Some(Signal::SIGTERM)).unwrap();
//! assert_eq!(sys::get_pdeathsig(), Ok(Some(Signal::SIGTERM)));
//! // A child starts without it.
//! let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
//! let mut child = spawn(word, || (sys::get_pdeathsig() == Ok(None)) as i32).unwrap();
//! assert_eq!(child.wait().unwrap(), WaitStatus::Exited(1));
//! sys::set_pdeathsig(None).unwrap();
//! assert_eq!(sys::get_pdeathsig(), Ok(None));
//! ```

use crate::arch::syscall5;
use crate::errno::{decode, Errno};
use crate::signum::Signal;
use core::ffi::c_int;
use linux_raw_sys::general as k;
use linux_raw_sys::prctl as pr;

/// `prctl(option, arg2, 0, 0, 0)`: what the kernel returns.
///
/// # Safety
/// Where `option` makes the kernel write through `arg2`, `arg2` must be the
/// address of a writable `int`.
unsafe fn prctl(option: u32, arg2: usize) -> Result<usize, Errno> {
    // SAFETY: the caller vouches for arg2; the other arguments are 0, which
    // every option used here accepts.
    decode(unsafe { syscall5(k::__NR_prctl, option as usize, arg2, 0, 0, 0) })
}

/// `prctl(option, &value)` for the `PR_GET_*` options that store an `int`.
fn prctl_get_int(option: u32) -> Result<c_int, Errno> {
    let mut value: c_int = 0;
    // SAFETY: the option stores one int at arg2, which is `value`.
    unsafe { prctl(option, &mut value as *mut c_int as usize) }?;
    Ok(value)
}

/// `prctl(PR_SET_PDEATHSIG, signal)`: ask the kernel to send us `signal`
/// when our parent dies (`None`: send nothing, the default).
///
/// This is how a child makes sure it does not outlive its supervisor. Worth
/// knowing:
/// - "Parent" is the parent *thread*: the thread that created us. If it
///   exits, the signal comes, even when the rest of its process lives on.
/// - It is sent once per parent death, at the moment the orphan is handed
///   to its new parent (`forget_original_parent` in `kernel/exit.c`). If the
///   parent has died already, nothing comes: check [`getppid`](super::getppid)
///   after setting it (see the example).
/// - The kernel clears it in a new child, when our credentials change
///   (`setuid` and friends), and on `execve` of a set-user-ID or
///   set-group-ID program or one with file capabilities.
///
/// A signal whose default action ends the process (`SIGTERM`, `SIGKILL`)
/// ends us unless it is caught, blocked or ignored.
///
/// # Errors
/// None that a typed [`Signal`] can cause (the kernel checks only that the
/// number is a valid signal, `EINVAL`).
///
/// ```
/// use clonelab::{sys, spawn, CloneFlags, ExitSignal, FlagsWord, Signal, WaitStatus};
/// use std::time::Duration;
/// let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
/// // In a child that is a subreaper, so that the orphan comes back to be reaped.
/// let mut reaper = spawn(word, || {
///     sys::set_child_subreaper(true).unwrap();
///     let Ok(mut middle) = spawn(word, || {
///         let middle = sys::getpid();
///         let (armed_r, armed_w) = sys::pipe(0).unwrap();
///         let grandchild = spawn(word, || {
///             sys::set_pdeathsig(Some(Signal::SIGUSR1)).unwrap();
///             if sys::getppid() != middle {
///                 return 1; // the middle died first: no signal will come
///             }
///             let _ = sys::write(armed_w.as_fd(), b"a");
///             let _ = sys::nanosleep(Duration::from_secs(10)); // SIGUSR1 ends this
///             2
///         });
///         drop(armed_w);
///         let _ = sys::read(armed_r.as_fd(), &mut [0u8; 1]); // until it is armed
///         grandchild.is_ok() as i32 // and the middle dies
///     }) else { return 10 };
///     let _ = middle.wait();
///     // The orphan was handed to us, and SIGUSR1's default action ended it.
///     match sys::wait4(-1, 0) {
///         Ok((_, status)) => match WaitStatus::from_wait4(status) {
///             WaitStatus::Signaled { signal, .. } if signal == Signal::SIGUSR1.number() => 0,
///             _ => 11,
///         },
///         Err(_) => 12,
///     }
/// })
/// .unwrap();
/// assert_eq!(reaper.wait().unwrap(), WaitStatus::Exited(0));
/// ```
pub fn set_pdeathsig(signal: Option<Signal>) -> Result<(), Errno> {
    let number = signal.map_or(0, Signal::number);
    // SAFETY: PR_SET_PDEATHSIG takes the signal number, no pointer.
    unsafe { prctl(pr::PR_SET_PDEATHSIG, number as usize) }.map(drop)
}

/// `prctl(PR_GET_PDEATHSIG, &signal)`: the signal [`set_pdeathsig`] asked
/// for, `None` if none.
///
/// ```
/// use clonelab::{sys, Signal};
/// sys::set_pdeathsig(Some(Signal::SIGHUP)).unwrap();
/// assert_eq!(sys::get_pdeathsig(), Ok(Some(Signal::SIGHUP)));
/// sys::set_pdeathsig(None).unwrap();
/// assert_eq!(sys::get_pdeathsig(), Ok(None));
/// ```
pub fn get_pdeathsig() -> Result<Option<Signal>, Errno> {
    let number = prctl_get_int(pr::PR_GET_PDEATHSIG)?;
    Ok(Signal::new(number as u32))
}

/// `prctl(PR_SET_CHILD_SUBREAPER, on)`: make this process a *subreaper*
/// (Linux 3.4). When a process below us (a child's child, and so on) loses
/// its parent, the kernel gives it to the nearest living subreaper above it
/// instead of to the init of its pid namespace: we see it in `wait`, and
/// its `getppid()` says our pid. Service managers (`systemd --user`) and
/// container inits (`tini`, and clonelab's own `container` command) use it to
/// reap what daemons leave behind.
///
/// `false` turns it off again. It is a setting of the whole process, and a
/// new process does not inherit it.
///
/// # Errors
/// None in practice: the kernel accepts any value.
///
/// ```
/// use clonelab::{sys, spawn, CloneFlags, ExitSignal, FlagsWord, WaitStatus};
/// let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
/// // In a child of ours, so that this process stays as it was.
/// let mut reaper = spawn(word, || {
///     sys::set_child_subreaper(true).unwrap();
///     let me = sys::getpid();
///     // The middle process starts a grandchild and exits at once.
///     let Ok(mut middle) = spawn(word, || {
///         let grandchild = spawn(word, || {
///             // Wait (up to 5 s) for the middle to exit; then ask who our parent is.
///             for _ in 0..5000 {
///                 if sys::getppid() == me {
///                     return 0; // adopted by the subreaper, not by init
///                 }
///                 let _ = sys::nanosleep(std::time::Duration::from_millis(1));
///             }
///             1
///         });
///         grandchild.is_ok() as i32
///     }) else { return 10 };
///     let Ok(WaitStatus::Exited(1)) = middle.wait() else { return 11 };
///     // The orphan is ours now: wait4(-1) reaps it (status 0: exited 0).
///     match sys::wait4(-1, 0) {
///         Ok((_, status)) => status,
///         Err(_) => 12,
///     }
/// })
/// .unwrap();
/// assert_eq!(reaper.wait().unwrap(), WaitStatus::Exited(0));
/// ```
pub fn set_child_subreaper(on: bool) -> Result<(), Errno> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes 0 or 1, no pointer.
    unsafe { prctl(pr::PR_SET_CHILD_SUBREAPER, on as usize) }.map(drop)
}

/// `prctl(PR_GET_CHILD_SUBREAPER, &on)`: whether this process is a
/// subreaper ([`set_child_subreaper`]).
///
/// ```
/// use clonelab::{sys, spawn, CloneFlags, ExitSignal, FlagsWord, WaitStatus};
/// let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
/// let mut child = spawn(word, || {
///     let before = sys::get_child_subreaper() == Ok(false);
///     let set = sys::set_child_subreaper(true).is_ok();
///     let after = sys::get_child_subreaper() == Ok(true);
///     (before && set && after) as i32
/// })
/// .unwrap();
/// assert_eq!(child.wait().unwrap(), WaitStatus::Exited(1));
/// ```
pub fn get_child_subreaper() -> Result<bool, Errno> {
    prctl_get_int(pr::PR_GET_CHILD_SUBREAPER).map(|on| on != 0)
}

/// `prctl(PR_SET_KEEPCAPS, on)`: whether the calling *thread* keeps its
/// permitted capabilities when a `setuid`-family call takes every one of its
/// uids (real, effective, saved) away from 0. Without it the kernel clears
/// them all then (capabilities(7), "Effect of user ID changes on
/// capabilities"); with it, the permitted set stays, and the effective set
/// is still cleared, to be raised again with `capset`.
///
/// This is how a root daemon drops to an unprivileged user yet keeps one
/// capability it needs. The flag is cleared by `execve`.
///
/// # Errors
/// `EPERM` if the thread's `SECBIT_KEEP_CAPS_LOCKED` securebit is set: then
/// this flag cannot change.
///
/// ```
/// use clonelab::sys;
/// sys::set_keepcaps(true).unwrap();
/// assert_eq!(sys::get_keepcaps(), Ok(true));
/// sys::set_keepcaps(false).unwrap();
/// assert_eq!(sys::get_keepcaps(), Ok(false));
/// ```
pub fn set_keepcaps(on: bool) -> Result<(), Errno> {
    // SAFETY: PR_SET_KEEPCAPS takes 0 or 1, no pointer.
    unsafe { prctl(pr::PR_SET_KEEPCAPS, on as usize) }.map(drop)
}

/// `prctl(PR_GET_KEEPCAPS)`: the calling thread's flag ([`set_keepcaps`]),
/// which the kernel returns as the call's result.
///
/// ```
/// use clonelab::sys;
/// // Off in a process that never asked for it (execve clears it).
/// assert_eq!(sys::get_keepcaps(), Ok(false));
/// ```
pub fn get_keepcaps() -> Result<bool, Errno> {
    // SAFETY: PR_GET_KEEPCAPS takes no argument.
    unsafe { prctl(pr::PR_GET_KEEPCAPS, 0) }.map(|on| on != 0)
}
