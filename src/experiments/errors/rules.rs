//! EINVAL, once per rule of clone(2) in [`crate::flags::RULES`]: a flags word
//! that breaks the rule (and the syscall that enforces it), and the call made
//! with it.
//!
//! Where it sits: in [`super`] (the errors experiment); `tests/errors.rs`
//! and `clonelab explain` share its examples. What it may use: the raw
//! [`clone`]/[`clone3`] and the flag rules.

use super::{exit_zero, refusal};
use crate::clone::CloneCall;
use crate::clone::{clone, clone3, zeroed_args, CloneArgs};
use crate::experiments::record;
use crate::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall};
use crate::stack::Stack;
use crate::sys;
use crate::Errno;

/// Whether reproducing this word needs root: unprivileged, a namespace flag
/// without CLONE_NEWUSER is refused with EPERM when no EINVAL rule checked
/// before the capability check is broken (CLONE_NEWIPC with CLONE_SYSVSEM;
/// see [`crate::flags::Check`]).
pub fn needs_privilege(word: FlagsWord, syscall: Syscall) -> bool {
    sys::geteuid() != 0
        && crate::flags::refused_for_privilege(word, syscall, crate::probe::kernel_version())
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
pub(super) fn attempt(
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
    let raw = record::pid_result(&result);
    (refusal(result), call, raw)
}
