//! # File handling: relative paths follow CLONE_FS, descriptors follow CLONE_FILES.
//!
//! Chapter: `docs/files.md`. Experiment: `clonelab::experiments::files`.
//! Changes and restores the process's cwd, so it is alone in its process (the suite runs each module in a process of its own).
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.
//!
//! Asserted: after the child's `chdir(b)` and `open("note", O_CREAT)`, the
//! parent's `open("note")` finds it only with CLONE_FS (ENOENT without); a
//! descriptor the child opens is open in the parent, and one it closes is
//! closed in the parent, only with CLONE_FILES; kcmp(KCMP_FILES) agrees.

use crate::common;

use clonelab::experiments::files::observe;

/// Paths resolve against the shared cwd; descriptors live in the shared table.
#[test]
fn paths_follow_fs_and_descriptors_follow_files() {
    let o = observed!(observe, "CLONE_VM without CLONE_THREAD");
    assert!(o.shared.relative_open_found);
    assert!(!o.private.relative_open_found);
    assert!(o.shared.child_fd_open_in_parent);
    assert!(!o.private.child_fd_open_in_parent);
    assert!(!o.shared.parent_fd_still_open);
    assert!(o.private.parent_fd_still_open);
    assert_ne!(o.shared.kcmp_files, Some(false));
    assert_ne!(o.private.kcmp_files, Some(true));
}
