//! `CLONE_VM | CLONE_SYSVSEM | SIGCHLD` (0x40111; the kernel is given 0x3c0111,
//! as the scoped API adds CLONE_SETTLS, CLONE_PARENT_SETTID and
//! CLONE_CHILD_CLEARTID, see [`clone_vm`](super::clone_vm)): one System V
//! semaphore undo list.
//!
//! A `semop` with `SEM_UNDO` records an adjustment in the caller's *undo list*;
//! the kernel applies it when the last task using that list exits, so that a
//! process that dies holding a semaphore releases it. CLONE_SYSVSEM makes the
//! child share the parent's list (POSIX threads do). So:
//!
//! - without the flag, the child's `semop(+1, SEM_UNDO)` is undone when the
//!   child exits: the parent reads the semaphore back at 0;
//! - with it, the adjustment sits in the shared list, and is not undone until
//!   the parent (the last user) exits: the parent reads 1.
//!
//! kcmp(KCMP_SYSVSEM) agrees while the child lives.

use super::record::Checks;
use super::Calls;
use super::{run_child, shares, Kcmp, SharedPage};
use crate::arch::{syscall3, syscall4};
use crate::errno::{decode, Errno};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::sys::Kcmp as K;
use crate::{Error, WaitStatus};
use core::fmt;
use linux_raw_sys::general as k;

/// System V IPC values. linux-raw-sys 0.12 carries neither `<linux/ipc.h>` nor
/// `<linux/sem.h>`, so these are typed from those headers; `tests/sysvsem.rs`
/// checks each against the libc crate.
pub mod ipc {
    /// `IPC_PRIVATE`: a new key-less set.
    pub const IPC_PRIVATE: i32 = 0;
    /// `IPC_CREAT`.
    pub const IPC_CREAT: i32 = 0o1000;
    /// `IPC_RMID`: remove the set.
    pub const IPC_RMID: i32 = 0;
    /// `GETVAL`: read one semaphore's value.
    pub const GETVAL: i32 = 12;
    /// `SEM_UNDO`: record the operation in the undo list.
    pub const SEM_UNDO: i16 = 0x1000;
}

/// `struct sembuf`.
#[repr(C)]
struct SemBuf {
    sem_num: u16,
    sem_op: i16,
    sem_flg: i16,
}

fn semget() -> Result<i32, Errno> {
    // SAFETY: no pointers.
    decode(unsafe {
        syscall3(
            k::__NR_semget,
            ipc::IPC_PRIVATE as usize,
            1,
            (ipc::IPC_CREAT | 0o600) as usize,
        )
    })
    .map(|id| id as i32)
}

/// `semop(id, sops, n)` is `semtimedop(id, sops, n, NULL)`, the one form every
/// arch has (i386, s390x and ppc64 have no `semop`; i386 only the time64 one).
#[cfg(target_arch = "x86")]
const NR_SEMTIMEDOP: u32 = k::__NR_semtimedop_time64;
#[cfg(not(target_arch = "x86"))]
const NR_SEMTIMEDOP: u32 = k::__NR_semtimedop;

fn semop_undo(id: i32, delta: i16) -> Result<(), Errno> {
    let op = SemBuf {
        sem_num: 0,
        sem_op: delta,
        sem_flg: ipc::SEM_UNDO,
    };
    // SAFETY: one valid sembuf.
    decode(unsafe {
        syscall4(
            NR_SEMTIMEDOP,
            id as usize,
            &op as *const SemBuf as usize,
            1,
            0,
        )
    })
    .map(drop)
}

fn semctl(id: i32, cmd: i32) -> Result<usize, Errno> {
    // SAFETY: GETVAL and IPC_RMID take no argument pointer.
    decode(unsafe { syscall4(k::__NR_semctl, id as usize, 0, cmd as usize, 0) })
}

/// One run.
#[derive(Clone, Copy, Debug)]
pub struct Side {
    /// The semaphore's value after the child's +1 (SEM_UNDO) and its exit.
    pub value_after_exit: usize,
    /// kcmp(KCMP_SYSVSEM) while the child lived.
    pub kcmp: Option<bool>,
    /// How the child ended.
    pub status: WaitStatus,
}

/// Both runs.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// With CLONE_SYSVSEM.
    pub shared: Side,
    /// Without.
    pub private: Side,
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let (s, p) = (&self.shared, &self.private);
        let mut c = Checks::new();
        c.check(
            s.value_after_exit == 1,
            "with CLONE_SYSVSEM the child's SEM_UNDO waits for the shared list",
            format_args!(
                "the semaphore after the child exited: {}",
                s.value_after_exit
            ),
        );
        c.check(
            p.value_after_exit == 0,
            "contrast: without it, the undo is applied at the child's exit",
            format_args!(
                "the semaphore after the child exited: {}",
                p.value_after_exit
            ),
        );
        c.check(
            s.kcmp != Some(false) && p.kcmp != Some(true),
            "kcmp(KCMP_SYSVSEM) agrees",
            format_args!(
                "with CLONE_SYSVSEM {}, without {}",
                Kcmp(s.kcmp),
                Kcmp(p.kcmp)
            ),
        );
        c.check(
            s.status == WaitStatus::Exited(0) && p.status == WaitStatus::Exited(0),
            "both children exited 0",
            format_args!(
                "with CLONE_SYSVSEM the child {}, without it {}",
                s.status, p.status
            ),
        );
        c
    }
}

fn run(calls: &mut Calls, label: &str, flags: CloneFlags) -> Result<Side, Error> {
    let id = semget()?;
    let result = (|| {
        let page = SharedPage::new()?;
        let child = || semop_undo(id, 1).is_err() as i32;
        // SAFETY: `child` makes raw syscalls and touches a SharedPage and
        // atomics only: no TLS, no allocation, no panics.
        let child = unsafe {
            run_child(
                calls,
                label,
                FlagsWord::new(flags, ExitSignal::SIGCHLD),
                &page,
                child,
                |pid| shares(pid, K::Sysvsem),
            )
        }?;
        let value_after_exit = semctl(id, ipc::GETVAL)?;
        Ok(Side {
            value_after_exit,
            kcmp: child.parent,
            status: child.status,
        })
    })();
    let _ = semctl(id, ipc::IPC_RMID);
    result
}

/// Run with and without CLONE_SYSVSEM.
pub fn observe() -> Result<Observed, Error> {
    let mut calls = Calls::new();
    let shared = run(
        &mut calls,
        "CLONE_SYSVSEM: the child semops with SEM_UNDO",
        CloneFlags::CLONE_VM | CloneFlags::CLONE_SYSVSEM,
    )?;
    let private = run(&mut calls, "contrast: CLONE_VM only", CloneFlags::CLONE_VM)?;
    Ok(Observed {
        calls,
        shared,
        private,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "child: semop(+1, SEM_UNDO), exit; the parent then reads the semaphore:"
        )?;
        let undo = |value: usize| {
            if value == 0 {
                "(undone at the child's exit)         "
            } else {
                "(not undone yet: the list is ours too)"
            }
        };
        for (name, side) in [
            ("with CLONE_SYSVSEM   ", &self.shared),
            ("without CLONE_SYSVSEM", &self.private),
        ] {
            writeln!(
                f,
                "  {name}  {}  {}  kcmp(KCMP_SYSVSEM): {}",
                side.value_after_exit,
                undo(side.value_after_exit),
                Kcmp(side.kcmp)
            )?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Side {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
