//! The kernel's refusals, each reproduced.
//!
//! Every case makes a call that must fail and records the errno the kernel
//! actually returned, next to the one clone(2) documents:
//!
//! - EINVAL for each flag rule in [`crate::flags::RULES`] (the error carries the rule);
//! - EINVAL for a clone_args smaller than the first version (64 bytes);
//! - E2BIG for a clone_args larger than the kernel knows, with a non-zero byte
//!   in the part it does not know;
//! - EEXIST for clone3 `set_tid` naming a pid that is alive (our own);
//! - EPERM for CLONE_NEWNET without CAP_SYS_ADMIN (a child that dropped to uid 65534);
//! - which check comes first for that child: EINVAL for CLONE_FS|CLONE_NEWNS
//!   (copy_process refuses it before copy_namespaces asks for the capability),
//!   EPERM for CLONE_NEWIPC|CLONE_SYSVSEM (refused in copy_namespaces, after it);
//! - EAGAIN for RLIMIT_NPROC reached (the same child, with the limit at 0);
//! - ENOSPC for PID namespaces and for user namespaces nested as deep as the
//!   kernel allows (user namespaces said EUSERS until Linux 4.8); what is
//!   printed about each limit is the levels observed ([`NestingLimit`]), and
//!   why user namespaces reach one level deeper (`limits.rs`).
//!
//! Calls that must fail are made in a throwaway fork-like child where they
//! need lost privileges, so the parent keeps its own.
//!
//! One file per family of errno: `rules.rs` (EINVAL for each flag rule),
//! `args.rs` (clone_args: its size, EINVAL and E2BIG; `set_tid`, EEXIST),
//! `limits.rs` (ENOSPC for nested namespaces) and `privilege.rs` (EPERM and
//! EAGAIN as an unprivileged uid). This file runs them all and holds the cases.

mod args;
mod limits;
mod privilege;
mod rules;

pub use limits::{NestingLimit, WhyTheyDiffer};
pub use rules::{example, examples, needs_privilege};

use super::record::{Checks, Label};
use super::Calls;
use crate::flags::{first_broken_rule, CloneFlags as F, ExitSignal, FlagsWord, Syscall, RULES};
use crate::stack::Stack;
use crate::sys;
use crate::{Errno, Error};
use core::ffi::c_void;
use core::fmt;
use linux_raw_sys::general as k;

/// One reproduced error.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// What was tried (for a nesting limit: rendered from the levels observed).
    pub what: Label,
    /// The errno clone(2) documents for it.
    pub expected: Errno,
    /// What the kernel returned (Ok(()) if the call unexpectedly succeeded).
    pub got: Result<(), Errno>,
}

/// Every case.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// The cases, in order.
    pub cases: [Option<Case>; 24],
    /// How deep PID namespaces nested (as root only).
    pub pid_nesting: Option<NestingLimit>,
    /// How deep user namespaces nested (as root only).
    pub user_nesting: Option<NestingLimit>,
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let mut c = Checks::new();
        let n = self.cases().count();
        let same = self.cases().filter(|k| k.got == Err(k.expected)).count();
        c.check(
            same == n && n > 0,
            "every refusal comes with the errno clone(2) documents",
            format_args!("{same} of {n} cases"),
        );
        for k in self.cases().filter(|k| k.got != Err(k.expected)) {
            c.check(
                false,
                k.what.as_str(),
                format_args!(
                    "expected {}, got {}",
                    k.expected.name().unwrap_or("?"),
                    match k.got {
                        Ok(()) => "success",
                        Err(e) => e.name().unwrap_or("?"),
                    }
                ),
            );
        }
        c
    }
}

/// The entry of a child the kernel was expected to refuse: it exits at once.
pub(super) unsafe extern "C" fn exit_zero(_: *mut c_void) -> i32 {
    0
}

/// The errno of a call that should have failed; a child it made anyway is reaped.
pub(super) fn refusal(result: Result<crate::sys::Pid, Error>) -> Result<(), Errno> {
    match result {
        Ok(pid) => {
            let _ = crate::wait::wait_pid(pid, k::__WALL);
            Ok(())
        }
        Err(e) => Err(e.errno().unwrap_or(Errno::from_raw(0))),
    }
}

/// Reproduce every case.
pub fn observe() -> Result<Observed, Error> {
    let stack = Stack::new(super::CHILD_STACK)?;
    let mut cases = [None; 24];
    let mut n = 0;
    let mut calls = Calls::new();
    let (mut pid_nesting, mut user_nesting) = (None, None);
    for rule in RULES.iter().filter(|r| r.errno == Errno::EINVAL) {
        for (word, syscall) in examples(rule.text).into_iter().flatten() {
            if needs_privilege(word, syscall) {
                continue;
            }
            let (got, made, raw) = rules::attempt(word, syscall, &stack);
            calls.push(rule.text, made, raw);
            cases[n] = Some(Case {
                what: Label::new(rule.text),
                expected: rule.errno,
                got,
            });
            n += 1;
        }
    }
    let what = "clone3 with size 32, below CLONE_ARGS_SIZE_VER0 (64)";
    cases[n] = Some(Case {
        what: Label::new(what),
        expected: Errno::EINVAL,
        got: args::clone3_sized(&mut calls, what, 32, 0),
    });
    let what = "clone3 with size 4096 and a non-zero byte past the known fields";
    cases[n + 1] = Some(Case {
        what: Label::new(what),
        expected: Errno::E2BIG,
        got: args::clone3_sized(&mut calls, what, 4096, 1),
    });
    n += 2;

    if sys::geteuid() == 0 {
        let what = "clone3 set_tid = [our own pid] (a pid in use)";
        let got = args::set_tid_in_use(&mut calls, what);
        cases[n] = Some(Case {
            what: Label::new(what),
            expected: Errno::EEXIST,
            got,
        });
        n += 1;

        let pid = limits::nest(&mut calls, F::CLONE_NEWPID, limits::nest_deeper)?;
        cases[n] = Some(Case {
            what: rendered(format_args!("{pid}")),
            expected: Errno::ENOSPC,
            got: pid.errno,
        });
        n += 1;
        pid_nesting = Some(pid);
        let user = limits::nest(&mut calls, F::CLONE_NEWUSER, limits::nest_users)?;
        // clone(2): EUSERS from Linux 3.11 to 4.8, ENOSPC since 4.9.
        cases[n] = Some(Case {
            what: rendered(format_args!("{user} (EUSERS before Linux 4.9)")),
            expected: Errno::ENOSPC,
            got: user.errno,
        });
        n += 1;
        user_nesting = Some(user);
    }
    if sys::geteuid() == 0 {
        cases[n] = Some(Case {
            what: Label::new("CLONE_NEWNET as uid 65534 (no CAP_SYS_ADMIN)"),
            expected: Errno::EPERM,
            got: privilege::unprivileged_attempt(
                &mut calls,
                "CLONE_NEWNET as uid 65534",
                F::CLONE_NEWNET,
                false,
            )?,
        });
        // Which check meets the call first: copy_process's EINVAL rules come
        // before copy_namespaces asks for CAP_SYS_ADMIN; CLONE_NEWIPC with
        // CLONE_SYSVSEM is refused in copy_namespaces after it. The errno
        // expected is the rules table's (`first_broken_rule`), so a wrong
        // order there shows here.
        for (i, (flags, what)) in [
            (
                F::CLONE_FS | F::CLONE_NEWNS,
                "CLONE_FS|CLONE_NEWNS as uid 65534: copy_process refuses it before \
                 copy_namespaces checks CAP_SYS_ADMIN",
            ),
            (
                F::CLONE_NEWIPC | F::CLONE_SYSVSEM,
                "CLONE_NEWIPC|CLONE_SYSVSEM as uid 65534: copy_namespaces checks \
                 CAP_SYS_ADMIN before it refuses the pair",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
            let kernel = crate::probe::kernel_version();
            let expected = first_broken_rule(word, Syscall::Clone, kernel)
                .map_or(Errno::from_raw(0), |r| r.errno);
            cases[n + 1 + i] = Some(Case {
                what: Label::new(what),
                expected,
                got: privilege::unprivileged_attempt(&mut calls, what, flags, false)?,
            });
        }
        cases[n + 3] = Some(Case {
            what: Label::new("fork as uid 65534 with RLIMIT_NPROC = 0"),
            expected: Errno::EAGAIN,
            got: privilege::unprivileged_attempt(
                &mut calls,
                "fork as uid 65534 with RLIMIT_NPROC = 0",
                F::EMPTY,
                true,
            )?,
        });
    }
    Ok(Observed {
        calls,
        cases,
        pid_nesting,
        user_nesting,
    })
}

/// A case's text, rendered from what was observed.
fn rendered(text: fmt::Arguments<'_>) -> Label {
    let mut label = Label::empty();
    let _ = fmt::Write::write_fmt(&mut label, text);
    label
}

impl Observed {
    /// The cases that were run.
    pub fn cases(&self) -> impl Iterator<Item = &Case> {
        self.cases.iter().flatten()
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.cases() {
            let got = match c.got {
                Ok(()) => "succeeded!",
                Err(e) => e.name().unwrap_or("?"),
            };
            let mark = if c.got == Err(c.expected) {
                "ok  "
            } else {
                "DIFF"
            };
            writeln!(
                f,
                "{mark} {:<7} (expected {:<6}) {}",
                got,
                c.expected.name().unwrap_or("?"),
                c.what
            )?;
        }
        if let (Some(pid), Some(user)) = (&self.pid_nesting, &self.user_nesting) {
            write!(f, "{}", WhyTheyDiffer { pid, user })?;
        }
        if sys::geteuid() != 0 {
            writeln!(
                f,
                "(not root: the cases that need privilege (namespaces without CLONE_NEWUSER, set_tid, \
                 nesting, EPERM, EAGAIN) were not run)"
            )?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Case {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
