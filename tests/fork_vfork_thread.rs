//! # fork vs vfork vs clone(CLONE_VM) vs a thread, asked of kcmp(2).
//!
//! Chapter: `docs/fork_vfork_thread.md`. Experiment: `clonelab::experiments::fork_vfork_thread`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.

use crate::common;

use clonelab::experiments::fork_vfork_thread::{observe, WRITTEN};

/// Each shape shares exactly what its flags say, per the kernel.
#[test]
fn shapes_share_what_their_flags_say() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD");
    let [fork, vfork, clone, thread] = &o.shapes;
    for (shape, want) in [
        (fork, [false; 4]),
        (vfork, [true, false, false, false]),
        (clone, [true, false, false, false]),
        (thread, [true; 4]),
    ] {
        for (got, w) in shape.shares.iter().zip(want) {
            if let Some(got) = got {
                assert_eq!(*got, w, "{}: {:?}", shape.name, shape.shares);
            }
        }
    }
    assert!(thread.same_thread_group && !fork.same_thread_group && !clone.same_thread_group);
    assert!(fork.waitable && clone.waitable && !thread.waitable);
    assert_eq!(
        o.vfork_reads,
        (WRITTEN, WRITTEN),
        "CLONE_VFORK: the sleeping child's write is there the instant clone returns"
    );
    assert_eq!(
        o.clone_vm_reads,
        (0, WRITTEN),
        "CLONE_VM alone: clone returns while the child sleeps; its write shows after the wait"
    );
}

/// glibc's fork is a clone call: traced, it is `clone` with
/// `CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD`, no stack, and
/// child_tid pointing at the calling thread's tid field (glibc's `arch_fork`).
#[test]
fn glibc_fork_is_clone_with_child_tid_flags() {
    use clonelab::CloneFlags as F;
    if common::under_qemu_user() {
        common::skip("qemu-user cannot ptrace");
        return;
    }
    let (pid, trace) = clonelab::trace::trace(|| {
        // SAFETY: the child only calls _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: ends the forked child at once.
            unsafe { libc::_exit(0) };
        }
        // SAFETY: reaps the child forked above.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        pid
    })
    .unwrap();
    let stops: Vec<_> = trace.clones().collect();
    assert_eq!(stops.len(), 1, "one clone call per fork");
    let image = clonelab::trace::observed_image(stops[0]);
    let call = image.call();
    assert_eq!(
        call.syscall,
        Some(clonelab::Syscall::Clone),
        "fork() is clone(), not fork()"
    );
    assert_eq!(
        call.word.flags,
        F::CLONE_CHILD_SETTID | F::CLONE_CHILD_CLEARTID,
        "glibc passes CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID"
    );
    assert_eq!(call.word.signal, clonelab::ExitSignal::SIGCHLD);
    assert_eq!(call.stack, 0, "no stack: the child runs on a copy of ours");
    assert_ne!(call.child_tid, 0, "child_tid: the thread's own tid field");
    assert_eq!(stops[0].result, Some(pid as i64));
}
