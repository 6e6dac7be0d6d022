//! `SpawnOptions`: a fork-like child gets a cgroup and the tids the SETTID
//! flags write, in memory the API owns; the flags themselves stay refused.

use crate::common;

use clonelab::experiments::{contains, own_cgroup_dir};
use clonelab::spawn::{spawn_with, SpawnOptions};
use clonelab::sys::consts::{O_CLOEXEC, O_DIRECTORY, O_RDONLY};
use clonelab::{probe, sys, CloneFlags, Error, ExitSignal, FlagsWord, WaitStatus};

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
