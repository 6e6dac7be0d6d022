//! The rules of clone(2) that a flags word can break, as a table.
//!
//! Each rule was checked against `kernel/fork.c` (`copy_process`,
//! `clone3_args_valid`). The table is pure data: a rule that depends on the
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
    broken: fn(FlagsWord) -> bool,
}

const BOTH: &[Syscall] = &[Syscall::Clone, Syscall::Clone3];
const CLONE3: &[Syscall] = &[Syscall::Clone3];
const CLONE: &[Syscall] = &[Syscall::Clone];

fn has(w: FlagsWord, f: CloneFlags) -> bool {
    w.flags.intersects(f)
}

/// The flag combinations the kernel refuses with EINVAL whatever the caller's
/// state (one depends on the kernel's version), and the EPERM rule for callers
/// without privilege.
/// (Rules that depend on state — CLONE_PARENT from a namespace's init, CLONE_THREAD
/// after unshare(CLONE_NEWPID) — cannot be judged from the word alone and are not here.)
pub static RULES: &[Rule] = &[
    Rule {
        text: "CLONE_SIGHAND requires CLONE_VM",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        broken: |w| has(w, CloneFlags::CLONE_SIGHAND) && !has(w, CloneFlags::CLONE_VM),
    },
    Rule {
        text: "CLONE_THREAD requires CLONE_SIGHAND",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        broken: |w| has(w, CloneFlags::CLONE_THREAD) && !has(w, CloneFlags::CLONE_SIGHAND),
    },
    Rule {
        text: "CLONE_FS cannot be combined with CLONE_NEWNS (a shared fs_struct cannot span two mount namespaces)",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        broken: |w| has(w, CloneFlags::CLONE_FS) && has(w, CloneFlags::CLONE_NEWNS),
    },
    Rule {
        text: "CLONE_FS cannot be combined with CLONE_NEWUSER",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        broken: |w| has(w, CloneFlags::CLONE_FS) && has(w, CloneFlags::CLONE_NEWUSER),
    },
    Rule {
        text: "CLONE_NEWIPC cannot be combined with CLONE_SYSVSEM",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
        broken: |w| has(w, CloneFlags::CLONE_NEWIPC) && has(w, CloneFlags::CLONE_SYSVSEM),
    },
    Rule {
        text: "CLONE_THREAD cannot be combined with CLONE_NEWPID or CLONE_NEWUSER (a thread group lives in one PID and user namespace)",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: None,
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
        broken: |w| has(w, CloneFlags::CLONE_PIDFD) && has(w, CloneFlags::CLONE_DETACHED),
    },
    Rule {
        text: "clone() returns the pidfd through parent_tid, so CLONE_PIDFD cannot be combined with CLONE_PARENT_SETTID",
        errno: Errno::EINVAL,
        syscalls: CLONE,
        until: None,
        broken: |w| has(w, CloneFlags::CLONE_PIDFD) && has(w, CloneFlags::CLONE_PARENT_SETTID),
    },
    Rule {
        text: "CLONE_PIDFD cannot be combined with CLONE_THREAD on kernels before 6.9 (pidfds for threads came with PIDFD_THREAD)",
        errno: Errno::EINVAL,
        syscalls: BOTH,
        until: Some((6, 9)),
        broken: |w| {
            has(w, CloneFlags::CLONE_PIDFD) && has(w, CloneFlags::CLONE_THREAD)
        },
    },
    Rule {
        text: "clone3 refuses CLONE_DETACHED",
        errno: Errno::EINVAL,
        syscalls: CLONE3,
        until: None,
        broken: |w| has(w, CloneFlags::CLONE_DETACHED),
    },
    Rule {
        text: "clone3 needs exit_signal = 0 with CLONE_THREAD or CLONE_PARENT",
        errno: Errno::EINVAL,
        syscalls: CLONE3,
        until: None,
        broken: |w| {
            has(w, CloneFlags::CLONE_THREAD | CloneFlags::CLONE_PARENT) && w.signal.number() != 0
        },
    },
    Rule {
        text: "CLONE_SIGHAND cannot be combined with CLONE_CLEAR_SIGHAND (shared handlers cannot be reset for one side)",
        errno: Errno::EINVAL,
        syscalls: CLONE3,
        until: None,
        broken: |w| has(w, CloneFlags::CLONE_SIGHAND) && has(w, CloneFlags::CLONE_CLEAR_SIGHAND),
    },
    Rule {
        text: "creating a namespace other than a user namespace needs CAP_SYS_ADMIN, or CLONE_NEWUSER in the same call",
        errno: Errno::EPERM,
        syscalls: BOTH,
        until: None,
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
