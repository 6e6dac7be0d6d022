//! # CLONE_FS: what the child's chdir and umask do to the parent.
//!
//! Chapter: `docs/clone_fs.md`. Experiment: `clonelab::experiments::clone_fs`.
//! This test changes the process's cwd and umask (and restores them), so it is
//! the only test in its module, which runs in a process of its own.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! CLONE_FS makes the child share the parent's `fs_struct`: root, cwd, umask.
//! The child runs `chdir("/proc")` and `umask(027)`; with CLONE_FS the parent's
//! `getcwd()` is `/proc` and its umask 027 afterwards; without, both unchanged.
//! (If the parent's umask is already 027, the child sets 077 instead.)
//! The tutorial "tests" CLONE_FS by remounting `/` as shared: mount
//! propagation is a property of mounts and has nothing to do with CLONE_FS.

use crate::common;

use clonelab::experiments::clone_fs::observe;

/// cwd and umask follow the child's changes with CLONE_FS, and only with it.
#[test]
fn clone_fs_shares_cwd_and_umask() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD");
    assert!(
        o.with_fs.cwd_followed,
        "parent's cwd did not follow the CLONE_FS child's chdir"
    );
    assert_eq!(o.with_fs.umask, o.child_umask);
    assert!(!o.without_fs.cwd_followed, "cwd followed without CLONE_FS");
    assert_ne!(o.without_fs.umask, o.child_umask);
    assert_ne!(o.with_fs.kcmp_fs, Some(false));
    assert_ne!(o.without_fs.kcmp_fs, Some(true));
}
