//! The exit signal byte: SIGCHLD, another signal, or none — and who can wait.
//!
//! Three fork-like children, `clone(SIGCHLD)` (0x11), `clone(SIGURG)` (0x17)
//! and `clone(0)` (0x00). Once each has exited, the parent asks whether a wait
//! with and without `__WCLONE` can see it: `waitid(P_PID, pid, WEXITED |
//! WNOHANG | WNOWAIT | options)`, which looks without reaping and chooses
//! children by the same rule as `wait4` (`eligible_child` in kernel/exit.c);
//! then it reaps it with `wait4(pid, __WALL)`. Linux calls a child whose exit signal is not
//! SIGCHLD a "clone child": plain waits skip it, `__WCLONE` waits see only it,
//! `__WALL` sees both. SIGURG is used because its default action is to ignore,
//! so the parent needs no handler.

use super::record::Checks;
use super::text::YesNo;
use super::Calls;
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::sys::{self, Pid};
use crate::Error;
use core::ffi::c_void;
use core::fmt;
use linux_raw_sys::general as k;

/// One child's answers.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// Its exit signal.
    pub signal: ExitSignal,
    /// The clone() flags word.
    pub word: u64,
    /// `waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT)` found it (without `__WCLONE`).
    pub plain_wait_sees_it: bool,
    /// The same with `__WCLONE` found it.
    pub wclone_wait_sees_it: bool,
    /// The status it was finally reaped with (`__WALL`).
    pub code: i32,
}

/// All three.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// SIGCHLD, SIGURG, none.
    pub cases: [Case; 3],
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let [s, u, n] = &self.cases;
        let mut c = Checks::new();
        c.check(
            s.plain_wait_sees_it && !s.wclone_wait_sees_it,
            "a SIGCHLD child is seen by a plain wait, not by __WCLONE",
            format_args!(
                "a plain wait sees it: {}, a __WCLONE wait: {}",
                YesNo(s.plain_wait_sees_it),
                YesNo(s.wclone_wait_sees_it)
            ),
        );
        c.check(
            !u.plain_wait_sees_it && u.wclone_wait_sees_it,
            "a SIGURG child only by __WCLONE",
            format_args!(
                "a plain wait sees it: {}, a __WCLONE wait: {}",
                YesNo(u.plain_wait_sees_it),
                YesNo(u.wclone_wait_sees_it)
            ),
        );
        c.check(
            !n.plain_wait_sees_it && n.wclone_wait_sees_it,
            "a child with no exit signal too: it can still be reaped",
            format_args!(
                "a plain wait sees it: {}, a __WCLONE wait: {}",
                YesNo(n.plain_wait_sees_it),
                YesNo(n.wclone_wait_sees_it)
            ),
        );
        c.check(
            [s.code, u.code, n.code] == [1, 2, 3],
            "each was reaped with its own exit code",
            format_args!(
                "exit codes 1, 2, 3 were given; reaped: SIGCHLD child {}, SIGURG child {}, no-signal child {}",
                s.code, u.code, n.code
            ),
        );
        c
    }
}

unsafe extern "C" fn exit_with(code: *mut c_void) -> i32 {
    code as usize as i32
}

/// Whether a wait with `options` can see the (exited) child: `waitid` with
/// WNOWAIT looks without reaping, under the same rules as `wait4`.
fn sees(pid: Pid, options: u32) -> bool {
    sys::waitid(
        k::P_PID,
        pid as u32,
        k::WEXITED | k::WNOHANG | k::WNOWAIT | options,
    )
    .is_ok()
}

fn case(calls: &mut Calls, label: &str, signal: ExitSignal, code: i32) -> Result<Case, Error> {
    let word = FlagsWord::new(CloneFlags::EMPTY, signal);
    // SAFETY: fork-like (no CLONE_VM); the argument is a plain number.
    let result = unsafe { super::raw_fork_like(word, exit_with, code as usize as *mut c_void) };
    calls.push(
        label,
        super::raw_fork_like_call(word),
        super::record::pid_result(&result),
    );
    let pid = result?;
    // Wait until it has exited, without reaping it.
    sys::waitid(k::P_PID, pid as u32, k::WEXITED | k::WNOWAIT | k::__WALL)?;
    let plain_wait_sees_it = sees(pid, 0);
    let wclone_wait_sees_it = sees(pid, k::__WCLONE);
    let code = match crate::wait::wait_pid(pid, k::__WALL)? {
        crate::WaitStatus::Exited(code) => code,
        _ => -1,
    };
    Ok(Case {
        signal,
        word: word.encode_clone()?,
        plain_wait_sees_it,
        wclone_wait_sees_it,
        code,
    })
}

/// Run the three children.
pub fn observe() -> Result<Observed, Error> {
    let mut calls = Calls::new();
    let sigchld = case(&mut calls, "exit signal SIGCHLD", ExitSignal::SIGCHLD, 1)?;
    let sigurg = case(
        &mut calls,
        "exit signal SIGURG",
        ExitSignal::new(k::SIGURG)?,
        2,
    )?;
    let none = case(&mut calls, "exit signal 0: none", ExitSignal::NONE, 3)?;
    Ok(Observed {
        calls,
        cases: [sigchld, sigurg, none],
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "exit signal  word   plain wait  wait with __WCLONE")?;
        for c in &self.cases {
            writeln!(
                f,
                "{:<12} {:#06x} {:<11} {}",
                c.signal,
                c.word,
                if c.plain_wait_sees_it {
                    "sees it"
                } else {
                    "does not"
                },
                if c.wclone_wait_sees_it {
                    "sees it"
                } else {
                    "does not"
                }
            )?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, CloneCall, WaitStatus,
// Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Case {}
// SAFETY: every field is Plain (integers, bools, CloneCall, WaitStatus,
// Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
