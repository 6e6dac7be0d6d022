//! `SpawnOptions`: a fork-like child gets a cgroup, the tids the SETTID
//! flags write, in memory the API owns, and the pids set_tid chooses; the
//! flags themselves stay refused.

use crate::common;

use clonelab::experiments::{contains, own_cgroup_dir};
use clonelab::linux_raw_sys::general as k;
use clonelab::spawn::{spawn_with, SpawnOptions, MAX_SET_TID};
use clonelab::sys::consts::{O_CLOEXEC, O_DIRECTORY, O_RDONLY};
use clonelab::{
    probe, sys, CloneFlags, Errno, Error, ExitSignal, FlagsWord, Pid, SetTidError, WaitStatus,
};

fn sigchld() -> FlagsWord {
    FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD)
}

/// CLONE_PARENT_SETTID stores the child's tid where `Child::parent_settid` reads it.
#[test]
fn parent_settid_is_the_childs_pid() {
    let mut child = spawn_with(sigchld(), SpawnOptions::new().parent_settid(), |_| 0).unwrap();
    assert!(child
        .call()
        .word
        .flags
        .contains(CloneFlags::CLONE_PARENT_SETTID));
    if child.parent_settid().is_none() && common::under_qemu_user() {
        common::skip("qemu-user writes PARENT_SETTID in the child's memory, not ours");
        child.wait().unwrap();
        return;
    }
    assert_eq!(child.parent_settid(), Some(child.pid()));
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
}

/// CLONE_CHILD_SETTID stores the tid in the child's memory: the closure sees
/// its own tid there (exit 1), and nothing without the option (exit 2).
#[test]
fn child_settid_reaches_the_closure() {
    let check = |born: clonelab::spawn::Born| match born.child_settid {
        Some(tid) if tid == sys::gettid() => 1,
        Some(_) => 3,
        None => 2,
    };
    for (options, expected) in [
        (SpawnOptions::new().child_settid(), 1),
        (SpawnOptions::new(), 2),
    ] {
        let mut child = spawn_with(sigchld(), options, check).unwrap();
        assert_eq!(child.wait().unwrap(), WaitStatus::Exited(expected));
    }
}

/// Both tids through clone3, beside a pidfd (clone3 keeps them apart).
#[test]
fn clone3_carries_pidfd_and_both_tids() {
    let word = FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD);
    let options = SpawnOptions::new()
        .via(clonelab::Syscall::Clone3)
        .parent_settid()
        .child_settid();
    let made = spawn_with(word, options, |born| {
        (born.child_settid == Some(sys::gettid())) as i32
    });
    if common::qemu_user_cannot(&made, "clone3") {
        return;
    }
    let mut child = made.unwrap();
    assert!(child.pidfd().is_some());
    assert_eq!(child.parent_settid(), Some(child.pid()));
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(1));
}

/// The flags the options own are refused in the word, naming the way to ask.
#[test]
fn settid_flags_in_the_word_are_refused() {
    for flag in [
        CloneFlags::CLONE_PARENT_SETTID,
        CloneFlags::CLONE_CHILD_SETTID,
        CloneFlags::CLONE_INTO_CGROUP,
    ] {
        let word = FlagsWord::new(flag, ExitSignal::SIGCHLD);
        match spawn_with(word, SpawnOptions::new(), |_| 0) {
            Err(Error::FlagNotAllowed(refusal)) => {
                assert!(refusal.why().contains("SpawnOptions"), "{refusal:?}")
            }
            other => panic!("{flag}: {other:?}"),
        }
    }
}

/// CLONE_INTO_CGROUP: the child starts in the cgroup we chose, and says so
/// in its /proc/self/cgroup (exit 1); we do not move.
#[test]
fn into_cgroup_starts_the_child_there() {
    let Some(mut dir) = own_cgroup_dir() else {
        return common::skip("no cgroup v2 hierarchy is mounted");
    };
    let name = format!("clonelab-options-{}", sys::getpid());
    dir.push(b"/").push(name.as_bytes());
    if let Err(e) = sys::mkdir(dir.as_cstr(), 0o755) {
        return common::skip(&format!("cannot make a cgroup here: {e}"));
    }
    let fd = sys::open(dir.as_cstr(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0).unwrap();
    let options = SpawnOptions::new().into_cgroup(fd.as_fd());
    let made = spawn_with(sigchld(), options, |_| {
        let mut buf = [0u8; 4096];
        let text = probe::read_file(c"/proc/self/cgroup", &mut buf).unwrap_or(b"");
        contains(text, name.as_bytes()) as i32
    });
    let qemu_user = common::qemu_user_cannot(&made, "clone3");
    let status = made.ok().map(|mut child| child.wait().unwrap());
    let mut ours = [0u8; 4096];
    let ours = probe::read_file(c"/proc/self/cgroup", &mut ours).unwrap();
    let parent_moved = contains(ours, name.as_bytes());
    drop(fd);
    let _ = sys::rmdir(dir.as_cstr());
    if qemu_user {
        return;
    }
    assert_eq!(status, Some(WaitStatus::Exited(1)));
    assert!(!parent_moved, "the parent stays where it was");
}

/// CLONE_PIDFD with PARENT_SETTID: clone() would pass both through one
/// pointer, so the pair is made with clone3, and asking for clone() is refused.
#[test]
fn pidfd_with_parent_settid_needs_clone3() {
    let word = FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD);
    let refused = spawn_with(
        word,
        SpawnOptions::new()
            .via(clonelab::Syscall::Clone)
            .parent_settid(),
        |_| 0,
    );
    assert!(
        matches!(&refused, Err(Error::FlagNotAllowed(r)) if r.why().contains("clone3")),
        "{refused:?}"
    );
    let made = spawn_with(word, SpawnOptions::new().parent_settid(), |_| 0);
    if common::qemu_user_cannot(&made, "clone3") {
        return;
    }
    let mut child = made.unwrap();
    assert_eq!(child.call().syscall, Some(clonelab::Syscall::Clone3));
    assert!(child.pidfd().is_some());
    assert_eq!(child.parent_settid(), Some(child.pid()));
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
}

// ---- set_tid: the pid a child gets, chosen by the caller (clone3, Linux 5.5) ----

/// A pid that was free a moment ago: a child's, after we reaped it. Another
/// process may take it before we ask for it: callers retry on EEXIST.
fn a_free_pid() -> Pid {
    let mut child = spawn_with(sigchld(), SpawnOptions::new(), |_| 0).unwrap();
    let pid = child.pid();
    child.wait().unwrap();
    pid
}

/// How many PID namespaces this process is in (its `NSpid:` line has one pid each).
fn pid_ns_levels() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("NSpid:"));
    line.map_or(1, |l| l.split_whitespace().count() - 1)
}

/// Whether we may choose pids in our own PID namespace: CAP_SYS_ADMIN or
/// CAP_CHECKPOINT_RESTORE (alloc_pid's checkpoint_restore_ns_capable).
fn may_choose_pids() -> bool {
    let caps = sys::capget(0).unwrap();
    caps.has_effective(k::CAP_SYS_ADMIN) || caps.has_effective(k::CAP_CHECKPOINT_RESTORE)
}

/// `spawn_with(word, set_tid(pids))` for a child that exits 1 if `getpid()`
/// is `inner`, retried while the kernel says the pid is taken (EEXIST) and
/// `pids` comes from `fresh`. `None`: skipped (reported).
fn spawn_with_pids(
    word: FlagsWord,
    fresh: impl Fn() -> Vec<Pid>,
    inner: impl Fn(&[Pid]) -> Pid,
) -> Option<(clonelab::Child, Vec<Pid>)> {
    for _ in 0..20 {
        let pids = fresh();
        let want = inner(&pids);
        let made = spawn_with(word, SpawnOptions::new().set_tid(&pids), |_| {
            (sys::getpid() == want) as i32
        });
        if common::qemu_user_cannot(&made, "clone3") {
            return None;
        }
        match made {
            Err(e) if e.errno() == Some(Errno::EEXIST) => continue, // taken meanwhile
            Err(e) if e.errno() == Some(Errno::ENOSYS) => {
                common::skip("no clone3 here (set_tid needs Linux 5.5)");
                return None;
            }
            other => return Some((other.unwrap(), pids)),
        }
    }
    panic!("20 free pids were each taken before clone3 could use them");
}

/// What can be known before the syscall is refused there as
/// `Error::SetTid`, naming the exact value (the length, the pid and its
/// index) in the variant and its Display, with the errno clone3 would
/// answer as `kernel_errno` (EINVAL; none for clone(), which has no
/// set_tid); no syscall was made, so `errno` is `None`. The count limit is
/// the kernel's MAX_PID_NS_LEVEL, 32.
#[test]
fn set_tid_refused_before_the_syscall() {
    let too_many = [1 as Pid; MAX_SET_TID + 3];
    let newpid = FlagsWord::new(CloneFlags::CLONE_NEWPID, ExitSignal::SIGCHLD);
    let einval = Some(Errno::EINVAL);
    let cases = [
        (
            sigchld(),
            SpawnOptions::new().set_tid(&[]),
            SetTidError::Empty,
            "set_tid(&[])",
            einval,
        ),
        (
            sigchld(),
            SpawnOptions::new().set_tid(&too_many),
            SetTidError::TooMany { len: 35 },
            "with 35 pids, more than 32",
            einval,
        ),
        (
            sigchld(),
            SpawnOptions::new().set_tid(&[0]),
            SetTidError::NotPositive { index: 0, pid: 0 },
            "set_tid[0] is 0",
            einval,
        ),
        (
            sigchld(),
            SpawnOptions::new().set_tid(&[5, 6, -1, -2]),
            SetTidError::NotPositive { index: 2, pid: -1 },
            "set_tid[2] is -1",
            einval,
        ),
        (
            newpid,
            SpawnOptions::new().set_tid(&[2, 5]),
            SetTidError::NewPidNotInit { pid: 2 },
            "set_tid[0] is 2",
            einval,
        ),
        (
            newpid,
            SpawnOptions::new().set_tid(&[1, -7]),
            SetTidError::NotPositive { index: 1, pid: -7 },
            "set_tid[1] is -7",
            einval,
        ),
        (
            sigchld(),
            SpawnOptions::new()
                .via(clonelab::Syscall::Clone)
                .set_tid(&[5, 6]),
            SetTidError::NeedsClone3 { len: 2 },
            "(2 pids) with Syscall::Clone",
            None,
        ),
    ];
    assert_eq!(MAX_SET_TID, 32, "the Display says 32");
    for (word, options, problem, names, kernel_errno) in cases {
        let err = spawn_with(word, options, |_| 0).unwrap_err();
        assert_eq!(err, Error::SetTid(problem), "{options:?}");
        let text = err.to_string();
        assert!(text.contains("set_tid"), "{text}");
        assert!(text.contains(names), "{names:?} in {text}");
        assert_eq!(err.errno(), None, "no syscall: {text}");
        assert_eq!(err.kernel_errno(), kernel_errno, "{text}");
        assert_eq!(problem.kernel_errno(), kernel_errno, "{text}");
        if kernel_errno.is_some() {
            assert!(text.contains("EINVAL"), "{text}");
        }
    }
    // 32 pids pass the checks: the kernel judges them (EINVAL: we are not
    // 31 namespaces deep), and the call was made with clone3.
    let deep = [1 as Pid; MAX_SET_TID];
    let made = spawn_with(sigchld(), SpawnOptions::new().set_tid(&deep), |_| 0);
    if common::qemu_user_cannot(&made, "clone3") {
        return;
    }
    assert!(
        matches!(
            made.as_ref().map_err(Error::errno),
            Err(Some(Errno::EINVAL | Errno::EPERM))
        ),
        "{made:?}"
    );
}

/// The kernel's set_tid answers, explained in the Display: EEXIST a pid
/// taken, EINVAL too many levels / pid_max / no init, EPERM the
/// capabilities in the owning user namespace; the errno is the kernel's,
/// and an errno alloc_pid does not give for set_tid gets no explanation.
#[test]
fn set_tid_kernel_answers_are_explained() {
    let cases = [
        (Errno::EEXIST, &["taken in its PID namespace"][..]),
        (
            Errno::EINVAL,
            &["more pids than", "levels", "pid_max", "no init"][..],
        ),
        (
            Errno::EPERM,
            &[
                "CAP_SYS_ADMIN",
                "CAP_CHECKPOINT_RESTORE",
                "user namespace that owns",
            ][..],
        ),
    ];
    for (errno, words) in cases {
        let err = Error::SetTid(SetTidError::Kernel {
            errno,
            len: 2,
            first: 1234,
        });
        assert_eq!(
            (err.errno(), err.kernel_errno()),
            (Some(errno), Some(errno))
        );
        let text = err.to_string();
        assert!(text.starts_with(&errno.to_string()), "{text}");
        assert!(
            text.contains("set_tid of 2 pids, set_tid[0] = 1234"),
            "{text}"
        );
        for word in words {
            assert!(text.contains(word), "{word:?} in {text}");
        }
    }
}

/// In our own PID namespace: the child gets exactly the pid asked for, seen
/// by us (`Child::pid`) and by itself (`getpid`, exit 1), through clone3 with
/// the array recorded in the call.
#[test]
fn set_tid_gives_the_child_that_pid() {
    if !may_choose_pids() {
        return common::skip("choosing a pid needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE");
    }
    let Some((mut child, pids)) = spawn_with_pids(sigchld(), || vec![a_free_pid()], |p| p[0])
    else {
        return;
    };
    assert_eq!(child.pid(), pids[0]);
    assert_eq!(child.call().syscall, Some(clonelab::Syscall::Clone3));
    assert_eq!(child.call().set_tid_size, 1);
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(1));
}

/// With CLONE_NEWPID, `[1, outer]`: pid 1 inside its new namespace (exit 1),
/// `outer` in ours.
#[test]
fn set_tid_in_a_new_pid_namespace() {
    if !may_choose_pids() {
        return common::skip("choosing a pid needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE");
    }
    let word = FlagsWord::new(CloneFlags::CLONE_NEWPID, ExitSignal::SIGCHLD);
    let Some((mut child, pids)) = spawn_with_pids(word, || vec![1, a_free_pid()], |p| p[0]) else {
        return;
    };
    assert_eq!(child.pid(), pids[1], "the outer pid, in our namespace");
    assert_eq!(child.call().set_tid_size, 2);
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(1), "pid 1 inside");
}

/// The kernel's answers, as `SetTidError::Kernel` with the array's length
/// and first pid, explained: EEXIST for a pid in use (ours); EINVAL for one
/// pid more than the child has namespace levels.
#[test]
fn set_tid_kernel_refusals() {
    if !may_choose_pids() {
        return common::skip("choosing a pid needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE");
    }
    let taken = [sys::getpid()];
    let made = spawn_with(sigchld(), SpawnOptions::new().set_tid(&taken), |_| 0);
    if common::qemu_user_cannot(&made, "clone3") {
        return;
    }
    let err = made.unwrap_err();
    let kernel = |errno, pids: &[Pid]| {
        Error::SetTid(SetTidError::Kernel {
            errno,
            len: pids.len(),
            first: pids[0],
        })
    };
    assert_eq!(err, kernel(Errno::EEXIST, &taken), "our own pid is taken");
    assert_eq!(err.errno(), Some(Errno::EEXIST));
    assert!(err.to_string().contains("is taken"), "{err}");
    let levels = pid_ns_levels();
    let mut pids = vec![a_free_pid()];
    pids.extend(std::iter::repeat_n(1, levels)); // one more than our levels
    let err = spawn_with(sigchld(), SpawnOptions::new().set_tid(&pids), |_| 0).unwrap_err();
    assert_eq!(
        err,
        kernel(Errno::EINVAL, &pids),
        "{levels} levels, {pids:?}"
    );
    assert!(err.to_string().contains("more pids than"), "{err}");
}

/// Without CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE (dropped in a child of
/// ours), choosing a pid in our namespace is EPERM, explained
/// (`SetTidError::Kernel`): the child exits with the errno its spawn got,
/// or 103 if it came back as another variant.
#[test]
fn set_tid_without_privilege_is_eperm() {
    let free = a_free_pid();
    let mut tester = spawn_with(sigchld(), SpawnOptions::new(), move |_| {
        // No unwrap here: a panic in a fork of a threaded process could
        // wait for a lock another thread held at the fork.
        let Ok(mut caps) = sys::capget(0) else {
            return 100;
        };
        let mask = 1u64 << k::CAP_SYS_ADMIN | 1u64 << k::CAP_CHECKPOINT_RESTORE;
        caps.effective &= !mask;
        if sys::capset(caps).is_err() {
            return 100;
        }
        let pids = [free];
        match spawn_with(sigchld(), SpawnOptions::new().set_tid(&pids), |_| 0) {
            Ok(mut grandchild) => {
                let _ = grandchild.wait();
                101
            }
            Err(Error::SetTid(SetTidError::Kernel {
                errno,
                len: 1,
                first,
            })) if first == free => errno.raw(),
            Err(Error::Kernel {
                errno: Errno::ENOSYS,
                ..
            }) => Errno::ENOSYS.raw(),
            Err(_) => 103,
        }
    })
    .unwrap();
    let status = tester.wait().unwrap();
    if common::under_qemu_user() && status == WaitStatus::Exited(Errno::ENOSYS.raw()) {
        return common::skip("qemu-user has no clone3");
    }
    assert_eq!(status, WaitStatus::Exited(Errno::EPERM.raw()));
}
