//! The rules of clone(2) that a flags word can break, as a table.
//!
//! Each rule was checked against `kernel/fork.c` (`copy_process`,
//! `clone3_args_valid`) and `kernel/nsproxy.c` (`copy_namespaces`), and each
//! names where the kernel checks it ([`Check`]): the order decides which errno
//! a word that breaks two rules gets. The table is pure data: a rule that depends on the
//! kernel's version names the version, and [`broken_rules`] is told which
//! kernel to judge for (the caller asks the running one, see
//! `clonelab::probe::kernel_version`). The same table explains an errno after a
//! failed call and drives `clonelab explain`.

use super::{CloneFlags, FlagsWord, Syscall};
use crate::errno::Errno;

/// A kernel version, `(major, minor)`; `None` where it is not known.
pub type Kernel = Option<(u32, u32)>;

/// A rule from clone(2) (checked against kernel/fork.c) that a flags word can break.
#[derive(Debug)]
pub struct Rule {
    /// The rule, in the words the tour and errors print.
    pub text: &'static str,
    /// The errno the kernel returns when it is broken.
    pub errno: Errno,
    /// Which syscalls enforce it.
    pub syscalls: &'static [Syscall],
    /// Kernels from this version on no longer enforce it (`None`: all do).
    pub until: Kernel,
    /// Where the kernel checks it, and so which rules it meets first.
    pub checked_in: Check,
    broken: fn(FlagsWord) -> bool,
}

/// Where the kernel checks a rule. A call meets the checks in this order
/// (the variants are ordered so), and the first broken rule decides the errno:
///
/// ```text
///  clone3 only:  copy_clone_args_from_user, clone3_args_valid   EINVAL
///  kernel_clone                                                 EINVAL
///  copy_process: its first lines, before it copies anything     EINVAL
///    ... copy_creds (makes a CLONE_NEWUSER child's user namespace) ...
///  copy_namespaces (kernel/nsproxy.c): ns_capable(CAP_SYS_ADMIN)  EPERM
///  copy_namespaces, after that check                            EINVAL
/// ```
///
/// So an unprivileged caller who breaks an EINVAL rule of copy_process gets
/// EINVAL, not EPERM; one who asks for CLONE_NEWIPC with CLONE_SYSVSEM gets
/// EPERM, as the capability check comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// clone3 only, before anything else: `copy_clone_args_from_user` and
    /// `clone3_args_valid` (kernel/fork.c).
    Clone3Args,
    /// `kernel_clone` (kernel/fork.c), before it calls copy_process.
    KernelClone,
    /// The first lines of `copy_process` (kernel/fork.c).
    CopyProcess,
    /// `copy_namespaces` (kernel/nsproxy.c) asks for CAP_SYS_ADMIN in the
    /// child's user namespace before making any namespace: EPERM.
    Capability,
    /// `copy_namespaces`, after the capability check.
    CopyNamespaces,
}

impl Check {
    /// The kernel function that makes the check.
    pub const fn function(self) -> &'static str {
        match self {
            Check::Clone3Args => "clone3_args_valid",
            Check::KernelClone => "kernel_clone",
            Check::CopyProcess => "copy_process",
            Check::Capability | Check::CopyNamespaces => "copy_namespaces",
        }
    }
}

const BOTH: &[Syscall] = &[Syscall::Clone, Syscall::Clone3];
const CLONE3: &[Syscall] = &[Syscall::Clone3];
const CLONE: &[Syscall] = &[Syscall::Clone];

fn has(w: FlagsWord, f: CloneFlags) -> bool {
    w.flags.intersects(f)
}

/// The flag combinations the kernel refuses with EINVAL whatever the caller's
/// state (one depends on the kernel's version), and the EPERM rule for callers
/// without privilege, each with where it is checked ([`Check`]).
/// (Rules that depend on state — CLONE_PARENT from a namespace's init, CLONE_THREAD
/// after unshare(CLONE_NEWPID) — cannot be judged from the word alone and are not here.)
pub static RULES: &[Rule] = &[
    Rule {
        text: "CLONE_SIGHAND requires CLONE_VM",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        checked_in: Check::CopyProcess,
        broken: |w| has(w, CloneFlags::CLONE_SIGHAND) && !has(w, CloneFlags::CLONE_VM),
    },
    Rule {
        text: "CLONE_THREAD requires CLONE_SIGHAND",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        checked_in: Check::CopyProcess,
        broken: |w| has(w, CloneFlags::CLONE_THREAD) && !has(w, CloneFlags::CLONE_SIGHAND),
    },
    Rule {
        text: "CLONE_FS cannot be combined with CLONE_NEWNS (a shared fs_struct cannot span two mount namespaces)",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        checked_in: Check::CopyProcess,
        broken: |w| has(w, CloneFlags::CLONE_FS) && has(w, CloneFlags::CLONE_NEWNS),
    },
    Rule {
        text: "CLONE_FS cannot be combined with CLONE_NEWUSER",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        checked_in: Check::CopyProcess,
        broken: |w| has(w, CloneFlags::CLONE_FS) && has(w, CloneFlags::CLONE_NEWUSER),
    },
    Rule {
        text: "CLONE_NEWIPC cannot be combined with CLONE_SYSVSEM",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        checked_in: Check::CopyNamespaces,
        broken: |w| has(w, CloneFlags::CLONE_NEWIPC) && has(w, CloneFlags::CLONE_SYSVSEM),
    },
    Rule {
        text: "CLONE_THREAD cannot be combined with CLONE_NEWPID or CLONE_NEWUSER (a thread group lives in one PID and user namespace)",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        checked_in: Check::CopyProcess,
        broken: |w| {
            has(w, CloneFlags::CLONE_THREAD)
                && has(w, CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWUSER)
        },
    },
    Rule {
        text: "CLONE_PIDFD cannot be combined with CLONE_DETACHED",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        checked_in: Check::CopyProcess,
        broken: |w| has(w, CloneFlags::CLONE_PIDFD) && has(w, CloneFlags::CLONE_DETACHED),
    },
    Rule {
        text: "clone() returns the pidfd through parent_tid, so CLONE_PIDFD cannot be combined with CLONE_PARENT_SETTID",
        errno: Errno::EINVAL,
        syscalls: CLONE,
        until: None,
        checked_in: Check::KernelClone,
        broken: |w| has(w, CloneFlags::CLONE_PIDFD) && has(w, CloneFlags::CLONE_PARENT_SETTID),
    },
    Rule {
        text: "CLONE_PIDFD cannot be combined with CLONE_THREAD on kernels before 6.9 (pidfds for threads came with PIDFD_THREAD)",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: Some((6, 9)),
        checked_in: Check::CopyProcess,
        broken: |w| {
            has(w, CloneFlags::CLONE_PIDFD) && has(w, CloneFlags::CLONE_THREAD)
        },
    },
    Rule {
        text: "clone3 refuses CLONE_DETACHED",
        errno: Errno::EINVAL,
        syscalls: CLONE3,
        until: None,
        checked_in: Check::Clone3Args,
        broken: |w| has(w, CloneFlags::CLONE_DETACHED),
    },
    Rule {
        text: "clone3 needs exit_signal = 0 with CLONE_THREAD or CLONE_PARENT",
        errno: Errno::EINVAL,
        syscalls: CLONE3,
        until: None,
        checked_in: Check::Clone3Args,
        broken: |w| {
            has(w, CloneFlags::CLONE_THREAD | CloneFlags::CLONE_PARENT) && w.signal.number() != 0
        },
    },
    Rule {
        text: "CLONE_SIGHAND cannot be combined with CLONE_CLEAR_SIGHAND (shared handlers cannot be reset for one side)",
        errno: Errno::EINVAL,
        syscalls: CLONE3,
        until: None,
        checked_in: Check::Clone3Args,
        broken: |w| has(w, CloneFlags::CLONE_SIGHAND) && has(w, CloneFlags::CLONE_CLEAR_SIGHAND),
    },
    Rule {
        text: "creating a namespace other than a user namespace needs CAP_SYS_ADMIN, or CLONE_NEWUSER in the same call",
        errno: Errno::EPERM,
        syscalls: BOTH,
        until: None,
        checked_in: Check::Capability,
        broken: |w| {
            let others = CloneFlags::NAMESPACES.without(CloneFlags::CLONE_NEWUSER);
            has(w, others) && !has(w, CloneFlags::CLONE_NEWUSER)
        },
    },
];

impl PartialEq for Rule {
    /// Rules are unique entries of [`RULES`]: equal when they are the same entry.
    fn eq(&self, other: &Rule) -> bool {
        core::ptr::eq(self, other)
    }
}

impl Eq for Rule {}

/// The rules from [`RULES`] that `word` breaks for `syscall` on `kernel`, in
/// table order. A rule that a later kernel dropped (`until`) counts only when
/// `kernel` is known and older.
///
/// ```
/// use clonelab::flags::{broken_rules, CloneFlags, ExitSignal, FlagsWord, Syscall};
/// let word = FlagsWord::new(CloneFlags::CLONE_SIGHAND, ExitSignal::SIGCHLD);
/// let rule = broken_rules(word, Syscall::Clone, Some((6, 1))).next().unwrap();
/// assert_eq!(rule.errno, clonelab::Errno::EINVAL); // CLONE_SIGHAND needs CLONE_VM
/// ```
pub fn broken_rules(
    word: FlagsWord,
    syscall: Syscall,
    kernel: Kernel,
) -> impl Iterator<Item = &'static Rule> {
    RULES.iter().filter(move |r| {
        let enforced = match (r.until, kernel) {
            (None, _) => true,
            (Some(until), Some(running)) => running < until,
            (Some(_), None) => false,
        };
        enforced && r.syscalls.contains(&syscall) && (r.broken)(word)
    })
}

/// The broken rule that decides the errno a caller without CAP_SYS_ADMIN
/// gets for `word`: the one the kernel checks first ([`Check`]; between two
/// rules of one check, the first in [`RULES`]). A privileged caller does not
/// meet the EPERM rule, and gets the first of the others.
///
/// ```
/// use clonelab::flags::{first_broken_rule, CloneFlags as F, ExitSignal, FlagsWord, Syscall};
/// use clonelab::Errno;
/// let errno = |f| {
///     let word = FlagsWord::new(f, ExitSignal::SIGCHLD);
///     first_broken_rule(word, Syscall::Clone, None).map(|r| r.errno)
/// };
/// // copy_process refuses CLONE_FS with CLONE_NEWNS first: EINVAL for everyone.
/// assert_eq!(errno(F::CLONE_FS | F::CLONE_NEWNS), Some(Errno::EINVAL));
/// // copy_namespaces checks privilege before CLONE_NEWIPC with CLONE_SYSVSEM.
/// assert_eq!(errno(F::CLONE_NEWIPC | F::CLONE_SYSVSEM), Some(Errno::EPERM));
/// ```
pub fn first_broken_rule(
    word: FlagsWord,
    syscall: Syscall,
    kernel: Kernel,
) -> Option<&'static Rule> {
    broken_rules(word, syscall, kernel).min_by_key(|r| r.checked_in)
}

/// Whether a caller without CAP_SYS_ADMIN gets EPERM for `word`: the EPERM
/// rule is broken and no EINVAL rule that the kernel checks before
/// `copy_namespaces`' capability check is (see [`first_broken_rule`]).
pub fn refused_for_privilege(word: FlagsWord, syscall: Syscall, kernel: Kernel) -> bool {
    first_broken_rule(word, syscall, kernel).is_some_and(|r| r.errno == Errno::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::ExitSignal;

    /// The capability check sits in copy_namespaces; every rule but one is
    /// checked before it, and that one (CLONE_NEWIPC with CLONE_SYSVSEM) in
    /// copy_namespaces too, after it.
    #[test]
    fn only_the_eperm_rule_is_the_capability_check() {
        for rule in RULES {
            assert_eq!(
                rule.errno == Errno::EPERM,
                rule.checked_in == Check::Capability,
                "{}",
                rule.text
            );
        }
        let after: [&str; 1] = ["CLONE_NEWIPC cannot be combined with CLONE_SYSVSEM"];
        for rule in RULES.iter().filter(|r| r.checked_in > Check::Capability) {
            assert!(after.contains(&rule.text), "{}", rule.text);
        }
    }

    #[test]
    fn eperm_only_when_no_earlier_einval_rule_is_broken() {
        let w = |f: CloneFlags| FlagsWord::new(f, ExitSignal::SIGCHLD);
        let thread = CloneFlags::CLONE_VM | CloneFlags::CLONE_SIGHAND | CloneFlags::CLONE_THREAD;
        let cases = [
            (CloneFlags::CLONE_NEWNS, true),
            (CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUSER, false),
            (CloneFlags::CLONE_FS | CloneFlags::CLONE_NEWNS, false),
            (thread | CloneFlags::CLONE_NEWPID, false),
            (CloneFlags::CLONE_SIGHAND | CloneFlags::CLONE_NEWUTS, false),
            (CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_SYSVSEM, true),
        ];
        for (flags, eperm) in cases {
            let word = if flags.contains(CloneFlags::CLONE_THREAD) {
                FlagsWord::new(flags, ExitSignal::NONE)
            } else {
                w(flags)
            };
            assert_eq!(
                refused_for_privilege(word, Syscall::Clone, None),
                eperm,
                "{word}"
            );
        }
    }
}
