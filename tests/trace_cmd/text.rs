//! The text view of `clonelab trace` (what it prints without `--json`).
//!
//! Part of `tests/trace_cmd/`. Uses clonelab's arch names and std.

use super::common::clonelab_binary;
use super::run::{run_with_limit, subject_path, LIMIT};
use super::subject::SUBJECT;
use std::process::Command;

/// The text view of the subject's calls: each call's C form, flags and
/// register image in this arch's register names. Inside the test VMs it is
/// also written to the console, which is where `docs/real-programs.md` took
/// its aarch64 images from.
#[test]
fn text_trace_names_this_arch_registers() {
    let mut command = Command::new(clonelab_binary());
    command
        .args(["trace", "--", &subject_path()])
        .env(SUBJECT, "all");
    let (code, _, text) = run_with_limit(command, LIMIT);
    assert_eq!(code, Some(0), "{text}");
    for needle in [
        format!(
            "registers ({}), observed at syscall entry:",
            clonelab::arch::NAME
        ),
        format!("     {:<4} ", clonelab::arch::NR_REGISTER),
        format!("     {:<4} ", clonelab::arch::ARG_REGISTERS[0]),
        "clone_args size 88 (CLONE_ARGS_SIZE_VER2".to_string(),
        "result     EINVAL (Invalid argument): rule broken: CLONE_THREAD requires CLONE_SIGHAND"
            .to_string(),
        "-- 5 clone-family calls traced".to_string(),
    ] {
        assert!(text.contains(&needle), "{needle:?} missing from:\n{text}");
    }
    if std::env::var_os("CLONELAB_VM").is_some() {
        let mut command = Command::new(clonelab_binary());
        command
            .args(["trace", "--", &subject_path()])
            .env(SUBJECT, "unshare-fork");
        let (_, _, unshare) = run_with_limit(command, LIMIT);
        let shown = format!("CLONELAB-TRACE-BEGIN\n{text}{unshare}CLONELAB-TRACE-END\n");
        let _ = clonelab::sys::write(clonelab::BorrowedFd::STDERR, shown.as_bytes());
    }
}
