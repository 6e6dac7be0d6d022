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
//! - EAGAIN for RLIMIT_NPROC reached (the same child, with the limit at 0);
//! - ENOSPC for PID namespaces and for user namespaces nested past 32 levels
//!   (user namespaces said EUSERS until Linux 4.8).
//!
//! Calls that must fail are made in a throwaway fork-like child where they
//! need lost privileges, so the parent keeps its own.

use super::record::Checks;
use super::Calls;
use super::{run_child, SharedPage};
use crate::clone::CloneCall;
use crate::clone::{clone, clone3, zeroed_args, CloneArgs};
use crate::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall, RULES};
use crate::plain::StaticText;
use crate::stack::Stack;
use crate::sys;
use crate::{Errno, Error};
use core::ffi::c_void;
use core::fmt;
use linux_raw_sys::general as k;

/// One reproduced error.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// What was tried.
    pub what: StaticText,
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
                format_args!("expected {:?}, got {:?}", k.expected, k.got),
            );
        }
        c
    }
}

unsafe extern "C" fn exit_zero(_: *mut c_void) -> i32 {
    0
}

/// The errno of a call that should have failed; a child it made anyway is reaped.
fn refusal(result: Result<crate::sys::Pid, Error>) -> Result<(), Errno> {
    match result {
        Ok(pid) => {
            let _ = crate::wait::wait_pid(pid, k::__WALL);
            Ok(())
        }
        Err(e) => Err(e.errno().unwrap_or(Errno::from_raw(0))),
    }
}

/// Whether reproducing this word needs root: unprivileged, a namespace flag
/// without CLONE_NEWUSER may be refused with EPERM before the EINVAL check.
pub fn needs_privilege(word: FlagsWord, syscall: Syscall) -> bool {
    sys::geteuid() != 0
        && crate::flags::broken_rules(word, syscall, crate::probe::kernel_version())
            .any(|r| r.errno == Errno::EPERM)
}

/// A flags word that breaks the rule with this text (and the syscall that
/// enforces it), if the rule applies on this kernel.
pub fn example(text: &str) -> Option<(FlagsWord, Syscall)> {
    examples(text).into_iter().flatten().next()
}

/// Every example of the rule with this text: one per half of a rule that
/// names two flags ("CLONE_NEWPID or CLONE_NEWUSER"), each on the syscall
/// that can show it; only those that apply on this kernel.
pub fn examples(text: &str) -> [Option<(FlagsWord, Syscall)>; 2] {
    let applies = |(word, syscall): (FlagsWord, Syscall)| {
        crate::flags::broken_rules(word, syscall, crate::probe::kernel_version())
            .any(|r| r.text == text)
            .then_some((word, syscall))
    };
    let [a, b] = example_words(text);
    [a.and_then(applies), b.and_then(applies)]
}

fn example_words(text: &str) -> [Option<(FlagsWord, Syscall)>; 2] {
    let sig = ExitSignal::SIGCHLD;
    let none = ExitSignal::NONE;
    let w = |f: F, s: ExitSignal| FlagsWord::new(f, s);
    let thread = F::CLONE_VM | F::CLONE_SIGHAND | F::CLONE_THREAD;
    match text {
        t if t.starts_with("CLONE_THREAD cannot") => [
            Some((w(thread | F::CLONE_NEWPID, none), Syscall::Clone)),
            Some((w(thread | F::CLONE_NEWUSER, none), Syscall::Clone)),
        ],
        t if t.starts_with("clone3 needs exit_signal") => [
            Some((w(thread, sig), Syscall::Clone3)),
            Some((w(F::CLONE_PARENT, sig), Syscall::Clone3)),
        ],
        _ => [example_word(text), None],
    }
}

fn example_word(text: &str) -> Option<(FlagsWord, Syscall)> {
    let sig = ExitSignal::SIGCHLD;
    let none = ExitSignal::NONE;
    let w = |f: F, s: ExitSignal| FlagsWord::new(f, s);
    Some(match text {
        t if t.starts_with("CLONE_SIGHAND requires") => (w(F::CLONE_SIGHAND, sig), Syscall::Clone),
        t if t.starts_with("CLONE_THREAD requires") => {
            (w(F::CLONE_VM | F::CLONE_THREAD, none), Syscall::Clone)
        }
        t if t.starts_with("CLONE_FS cannot be combined with CLONE_NEWNS") => {
            (w(F::CLONE_FS | F::CLONE_NEWNS, sig), Syscall::Clone)
        }
        t if t.starts_with("CLONE_FS cannot be combined with CLONE_NEWUSER") => {
            (w(F::CLONE_FS | F::CLONE_NEWUSER, sig), Syscall::Clone)
        }
        t if t.starts_with("CLONE_NEWIPC") => {
            (w(F::CLONE_NEWIPC | F::CLONE_SYSVSEM, sig), Syscall::Clone)
        }
        // Through clone(): clone3 refuses CLONE_DETACHED on its own first,
        // so there the call could not show this rule.
        t if t.starts_with("CLONE_PIDFD cannot be combined with CLONE_DETACHED") => {
            (w(F::CLONE_PIDFD | F::CLONE_DETACHED, sig), Syscall::Clone)
        }
        t if t.starts_with("clone() returns the pidfd") => (
            w(F::CLONE_PIDFD | F::CLONE_PARENT_SETTID, sig),
            Syscall::Clone,
        ),
        t if t.starts_with("CLONE_PIDFD cannot be combined with CLONE_THREAD") => (
            w(
                F::CLONE_VM | F::CLONE_SIGHAND | F::CLONE_THREAD | F::CLONE_PIDFD,
                none,
            ),
            Syscall::Clone3,
        ),
        t if t.starts_with("clone3 refuses CLONE_DETACHED") => {
            (w(F::CLONE_DETACHED, sig), Syscall::Clone3)
        }
        t if t.starts_with("CLONE_SIGHAND cannot be combined with CLONE_CLEAR_SIGHAND") => (
            w(F::CLONE_VM | F::CLONE_SIGHAND | F::CLONE_CLEAR_SIGHAND, sig),
            Syscall::Clone3,
        ),
        _ => return None,
    })
}

/// Make the call; reap a child if the kernel (unexpectedly) made one. Also
/// returns the call as made (for the register image).
fn attempt(
    word: FlagsWord,
    syscall: Syscall,
    stack: &Stack,
) -> (Result<(), Errno>, CloneCall, i64) {
    let mut tid: i32 = 0;
    let tid_ptr = &mut tid as *mut i32;
    let mut call = CloneCall {
        syscall: Some(syscall),
        word,
        parent_tid: tid_ptr as usize,
        child_tid: tid_ptr as usize,
        ..CloneCall::default()
    };
    let result = match syscall {
        Syscall::Clone => {
            call.stack = stack.top() as usize;
            if word.flags.contains(F::CLONE_PIDFD) {
                // clone() returns the pidfd through parent_tid; no PARENT_SETTID here.
                call.child_tid = 0;
            }
            // SAFETY: the child (if any) runs exit_zero on `stack`, touching nothing;
            // it is reaped below before `stack` and `tid` go away.
            unsafe {
                clone(
                    word,
                    stack.top(),
                    call.parent_tid as *mut i32,
                    call.child_tid as *mut i32,
                    0,
                    exit_zero,
                    core::ptr::null_mut(),
                )
            }
        }
        Syscall::Clone3 => {
            let mut args = CloneArgs {
                flags: word.flags.bits(),
                exit_signal: word.signal.number() as u64,
                pidfd: tid_ptr as u64,
                parent_tid: tid_ptr as u64,
                child_tid: tid_ptr as u64,
                stack: stack.bottom() as u64,
                stack_size: stack.size() as u64,
                ..zeroed_args()
            };
            call.pidfd = tid_ptr as usize;
            call.stack = stack.bottom() as usize;
            call.stack_size = stack.size();
            call.args_address = &args as *const CloneArgs as usize;
            // SAFETY: as above.
            unsafe {
                clone3(
                    &mut args,
                    core::mem::size_of::<CloneArgs>(),
                    exit_zero,
                    core::ptr::null_mut(),
                )
            }
        }
    };
    let raw = super::record::pid_result(&result);
    (refusal(result), call, raw)
}

/// clone3 with an args buffer of `size` bytes whose last byte is `tail`.
fn clone3_sized(calls: &mut Calls, label: &str, size: usize, tail: u8) -> Result<(), Errno> {
    let mut buffer = [0u64; 512];
    let args = CloneArgs {
        exit_signal: k::SIGCHLD as u64,
        ..zeroed_args()
    };
    // SAFETY: CloneArgs is 88 bytes of u64s; the buffer is 4096 bytes and u64-aligned.
    unsafe { core::ptr::write(buffer.as_mut_ptr() as *mut CloneArgs, args) };
    if tail != 0 {
        buffer[size / 8 - 1] = tail as u64;
    }
    let mut call = super::record::clone3_call(&args, size);
    call.args_address = buffer.as_ptr() as usize;
    // SAFETY: the buffer holds `size` bytes; a child (if created) exits at once.
    let result = unsafe {
        clone3(
            &mut *(buffer.as_mut_ptr() as *mut CloneArgs),
            size,
            exit_zero,
            core::ptr::null_mut(),
        )
    };
    calls.push(label, call, super::record::pid_result(&result));
    refusal(result)
}

/// In a fork-like child that drops to uid 65534 (and sets RLIMIT_NPROC to 0
/// for the second), try `flags` and report the errno.
fn unprivileged_attempt(
    calls: &mut Calls,
    label: &str,
    flags: F,
    nproc_zero: bool,
) -> Result<Result<(), Errno>, Error> {
    let page = SharedPage::new()?;
    let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
    let child = || {
        if nproc_zero && sys::setrlimit(k::RLIMIT_NPROC, 0).is_err() {
            return 1;
        }
        if sys::setresuid(65534, 65534, 65534).is_err() {
            return 2;
        }
        // SAFETY: fork-like; the grandchild (if made) exits at once and is reaped.
        let made = unsafe { super::raw_fork_like(word, exit_zero, core::ptr::null_mut()) };
        page.put(0, refusal(made).err().map_or(0, |e| e.raw() as u64));
        0
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    unsafe {
        run_child(
            calls,
            "a fork-like child that drops to uid 65534",
            FlagsWord::new(F::EMPTY, ExitSignal::SIGCHLD),
            &page,
            child,
            |_| (),
        )
    }?;
    let errno = page.get(0) as u16;
    calls.push_in_child(label, super::raw_fork_like_call(word), -(errno as i64));
    Ok(if errno == 0 {
        Ok(())
    } else {
        Err(Errno::from_raw(errno))
    })
}

/// Where a nesting run reports: slot 0 = errno of the refused clone, slot 1 = depth.
struct Nesting<'a> {
    flag: F,
    depth: u64,
    page: &'a SharedPage,
}

unsafe extern "C" fn nest_deeper(arg: *mut c_void) -> i32 {
    // SAFETY: arg is the parent's Nesting; this fork-like child has its own copy
    // of it (and the shared page behind it).
    let outer = unsafe { &*(arg as *const Nesting) };
    let inner = Nesting {
        flag: outer.flag,
        depth: outer.depth + 1,
        page: outer.page,
    };
    let word = FlagsWord::new(inner.flag, ExitSignal::SIGCHLD);
    // SAFETY: fork-like; `inner` lives in this frame until the child is reaped.
    match unsafe {
        super::raw_fork_like(word, nest_deeper, &inner as *const Nesting as *mut c_void)
    } {
        Ok(pid) => {
            if outer.depth == 0 {
                inner.page.put(FIRST_PID_SLOT, pid as u64);
            }
            crate::wait::wait_pid(pid, k::__WALL).map_or(1, |_| 0)
        }
        Err(e) => {
            inner.page.put(0, e.errno().map_or(0, |e| e.raw() as u64));
            inner.page.put(1, inner.depth);
            0
        }
    }
}

/// Nest `flag` namespaces, each child making the next, until the kernel says
/// no; returns (errno, how many levels this run created). `level` is
/// `nest_deeper`, or for user namespaces `nest_users`, which maps each level
/// before it goes deeper (an unmapped child may not create the next: EPERM).
fn nest(
    calls: &mut Calls,
    flag: F,
    level: crate::arch::ChildEntry,
) -> Result<(Result<(), Errno>, u64), Error> {
    let page = SharedPage::new()?;
    let top = Nesting {
        flag,
        depth: 0,
        page: &page,
    };
    // SAFETY: `level` is nest_deeper or nest_users, which take a Nesting.
    unsafe { level(&top as *const Nesting as *mut c_void) };
    let errno = page.get(0) as u16;
    let word = FlagsWord::new(flag, ExitSignal::SIGCHLD);
    let first = page.get(FIRST_PID_SLOT) as i64;
    calls.push(
        "level 1 (each level's child makes the next)",
        super::raw_fork_like_call(word),
        first,
    );
    // The levels in between: the same call, each made by the level above
    // (the record keeps one entry for them; `depth` is the level the kernel refused).
    let depth = page.get(1);
    let mut label = super::record::Label::new("");
    let _ = fmt::Write::write_fmt(
        &mut label,
        format_args!(
            "levels 2 to {}: the same call, each made by the level above ({} calls)",
            depth.saturating_sub(1),
            depth.saturating_sub(2)
        ),
    );
    calls.push_in_child(label.as_str(), super::raw_fork_like_call(word), 0);
    let mut label = super::record::Label::new("");
    let _ = fmt::Write::write_fmt(
        &mut label,
        format_args!(
            "level {depth}: past the limit, made by level {}",
            depth.saturating_sub(1)
        ),
    );
    calls.push_in_child(
        label.as_str(),
        super::raw_fork_like_call(word),
        -(errno as i64),
    );
    Ok((
        if errno == 0 {
            Ok(())
        } else {
            Err(Errno::from_raw(errno))
        },
        page.get(1),
    ))
}

/// Write `0 0 1` to a child's uid_map and gid_map (we are uid 0 with every
/// capability in our own user namespace, so we may map our 0 to its 0).
pub(super) fn map_root(pid: crate::sys::Pid) -> bool {
    [b"/uid_map".as_slice(), b"/gid_map".as_slice()]
        .iter()
        .all(|file| {
            let mut path = super::CPath::numbered("/proc/", pid as u64);
            path.push(file);
            match sys::open(path.as_cstr(), k::O_WRONLY | k::O_CLOEXEC, 0) {
                Ok(fd) => {
                    let ok = sys::write(fd.as_fd(), b"0 0 1\n").is_ok();
                    drop(fd);
                    ok
                }
                Err(_) => false,
            }
        })
}

/// Slot of the shared page that holds the pid of the first level (the call the
/// experiment's own process makes).
const FIRST_PID_SLOT: usize = 2;

/// Slot of the shared page that says "the maps of the user namespace at this
/// depth are written": its owner waits for it before nesting further.
const MAPPED_SLOT: usize = 8;

unsafe extern "C" fn nest_users(arg: *mut c_void) -> i32 {
    // SAFETY: as in nest_deeper.
    let outer = unsafe { &*(arg as *const Nesting) };
    // Unmapped, this process may not create the next namespace (EPERM): wait for the maps.
    if outer.depth > 0 {
        while outer.page.get(MAPPED_SLOT + outer.depth as usize) == 0 {
            sys::sched_yield();
        }
    }
    let inner = Nesting {
        flag: outer.flag,
        depth: outer.depth + 1,
        page: outer.page,
    };
    let word = FlagsWord::new(F::CLONE_NEWUSER, ExitSignal::SIGCHLD);
    // SAFETY: fork-like; `inner` lives in this frame until the child is reaped.
    match unsafe { super::raw_fork_like(word, nest_users, &inner as *const Nesting as *mut c_void) }
    {
        Ok(pid) => {
            if outer.depth == 0 {
                inner.page.put(FIRST_PID_SLOT, pid as u64);
            }
            let mapped = map_root(pid);
            inner.page.put(MAPPED_SLOT + inner.depth as usize, 1);
            let reaped = crate::wait::wait_pid(pid, k::__WALL).is_ok();
            (!(mapped && reaped)) as i32
        }
        Err(e) => {
            inner.page.put(0, e.errno().map_or(0, |e| e.raw() as u64));
            inner.page.put(1, inner.depth);
            0
        }
    }
}

/// Reproduce every case.
pub fn observe() -> Result<Observed, Error> {
    let stack = Stack::new(super::CHILD_STACK)?;
    let mut cases = [None; 24];
    let mut n = 0;
    let mut calls = Calls::new();
    for rule in RULES.iter().filter(|r| r.errno == Errno::EINVAL) {
        for (word, syscall) in examples(rule.text).into_iter().flatten() {
            if needs_privilege(word, syscall) {
                continue;
            }
            let (got, made, raw) = attempt(word, syscall, &stack);
            calls.push(rule.text, made, raw);
            cases[n] = Some(Case {
                what: StaticText::new(rule.text),
                expected: rule.errno,
                got,
            });
            n += 1;
        }
    }
    let what = "clone3 with size 32, below CLONE_ARGS_SIZE_VER0 (64)";
    cases[n] = Some(Case {
        what: StaticText::new(what),
        expected: Errno::EINVAL,
        got: clone3_sized(&mut calls, what, 32, 0),
    });
    let what = "clone3 with size 4096 and a non-zero byte past the known fields";
    cases[n + 1] = Some(Case {
        what: StaticText::new(what),
        expected: Errno::E2BIG,
        got: clone3_sized(&mut calls, what, 4096, 1),
    });
    n += 2;

    if sys::geteuid() == 0 {
        // set_tid naming a live pid (our own).
        let mut own = [sys::getpid()];
        let mut args = CloneArgs {
            exit_signal: k::SIGCHLD as u64,
            set_tid: own.as_mut_ptr() as u64,
            set_tid_size: 1,
            ..zeroed_args()
        };
        let size = core::mem::size_of::<CloneArgs>();
        let call = super::record::clone3_call(&args, size);
        // SAFETY: args and own are valid; a child, if created, exits at once.
        let made = unsafe { clone3(&mut args, size, exit_zero, core::ptr::null_mut()) };
        let what = "clone3 set_tid = [our own pid] (a pid in use)";
        calls.push(what, call, super::record::pid_result(&made));
        let got = refusal(made);
        cases[n] = Some(Case {
            what: StaticText::new(what),
            expected: Errno::EEXIST,
            got,
        });
        n += 1;

        let (got, _) = nest(&mut calls, F::CLONE_NEWPID, nest_deeper)?;
        cases[n] = Some(Case {
            what: StaticText::new("PID namespaces nested deeper than 32 levels"),
            expected: Errno::ENOSPC,
            got,
        });
        n += 1;
        if sys::geteuid() == 0 {
            let (got, _) = nest(&mut calls, F::CLONE_NEWUSER, nest_users)?;
            // clone(2): EUSERS from Linux 3.11 to 4.8, ENOSPC since 4.9.
            cases[n] = Some(Case {
                what: StaticText::new(
                    "user namespaces nested deeper than 32 levels (EUSERS before Linux 4.9)",
                ),
                expected: Errno::ENOSPC,
                got,
            });
            n += 1;
        }
    }
    if sys::geteuid() == 0 {
        cases[n] = Some(Case {
            what: StaticText::new("CLONE_NEWNET as uid 65534 (no CAP_SYS_ADMIN)"),
            expected: Errno::EPERM,
            got: unprivileged_attempt(
                &mut calls,
                "CLONE_NEWNET as uid 65534",
                F::CLONE_NEWNET,
                false,
            )?,
        });
        cases[n + 1] = Some(Case {
            what: StaticText::new("fork as uid 65534 with RLIMIT_NPROC = 0"),
            expected: Errno::EAGAIN,
            got: unprivileged_attempt(
                &mut calls,
                "fork as uid 65534 with RLIMIT_NPROC = 0",
                F::EMPTY,
                true,
            )?,
        });
    }
    Ok(Observed { calls, cases })
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
