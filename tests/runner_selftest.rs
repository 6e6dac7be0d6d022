//! # The suite's runner cannot pass a module that did not run every test.
//!
//! Two faults are planted here, in tests that are `#[ignore]`d (so a normal
//! run skips them) and that act only when `CLONELAB_RUNNER_PLANT` says so:
//! a test that ends its module's process with status 0 before the module's
//! next test runs, and a test that leaves a process behind holding the
//! module's output open. Each check starts the suite's runner (this same
//! binary, without the variable that marks a module process) on one planted
//! fault and requires the run to fail, naming why; a control run of the same
//! tests without the fault must pass, so the check is not failing for some
//! other reason.

use std::process::{Command, Output};

/// Which fault the planted tests act out: `exit` or `leave`.
const PLANT: &str = "CLONELAB_RUNNER_PLANT";

/// Planted: ends the module's process with status 0, before the next test.
#[test]
#[ignore = "planted for exits_early_fail_the_module: run through the runner only"]
fn planted_a_exits_early() {
    if std::env::var(PLANT).as_deref() == Ok("exit") {
        std::process::exit(0);
    }
}

/// Planted: runs after `planted_a_exits_early`, so an early exit skips it.
#[test]
#[ignore = "planted for exits_early_fail_the_module: run through the runner only"]
fn planted_b_after_the_exit() {}

/// Planted: leaves a child running that holds the module's output open, and
/// prints its pid.
#[test]
#[ignore = "planted for a_process_left_running_fails_the_module: run through the runner only"]
fn planted_c_leaves_a_process() {
    if std::env::var(PLANT).as_deref() != Ok("leave") {
        return;
    }
    let word = clonelab::FlagsWord::new(clonelab::CloneFlags::EMPTY, clonelab::ExitSignal::SIGCHLD);
    let child = clonelab::spawn(word, || {
        let _ = clonelab::sys::nanosleep(std::time::Duration::from_secs(60));
        0
    })
    .expect("spawn");
    // Straight to descriptor 2: libtest's capture would keep a println.
    let line = format!("\nplanted pid {}\n", child.pid());
    let _ = clonelab::sys::write(clonelab::BorrowedFd::STDERR, line.as_bytes());
    // Dropping a fork-like Child leaves the child running, ours to reap.
    drop(child);
}

/// Start the runner on `filter` (with ignored tests included), the plant set
/// to `plant` (None: no fault); its output, stdout and stderr together.
fn run_runner(filter: &str, plant: Option<&str>) -> (Output, String) {
    let exe = std::env::current_exe().expect("this test binary");
    let mut cmd = Command::new(exe);
    cmd.args([filter, "--include-ignored"])
        .env_remove("CLONELAB_SUITE_MODULE")
        .env_remove(PLANT);
    if let Some(plant) = plant {
        cmd.env(PLANT, plant);
    }
    let out = cmd.output().expect("run the runner");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[test]
fn exits_early_fail_the_module() {
    let filter = "runner_selftest::planted_";
    let (control, text) = run_runner(filter, None);
    assert!(control.status.success(), "control run failed:\n{text}");
    let (out, text) = run_runner(filter, Some("exit"));
    assert!(!out.status.success(), "an early exit(0) passed:\n{text}");
    assert!(
        text.contains("exited 0, but only 0 of its 3 tests reached a result"),
        "the runner did not say why:\n{text}"
    );
}

#[test]
fn a_process_left_running_fails_the_module() {
    let filter = "runner_selftest::planted_c";
    let (out, text) = run_runner(filter, Some("leave"));
    assert!(
        !out.status.success(),
        "a process left running passed:\n{text}"
    );
    assert!(
        text.contains("still held its output open (killed)"),
        "the runner did not say why:\n{text}"
    );
    let pid: u32 = text
        .lines()
        .find_map(|l| l.strip_prefix("planted pid "))
        .and_then(|p| p.trim().parse().ok())
        .expect("the planted test printed its child's pid");
    // Killed with its group: gone, or a zombie its new parent has yet to
    // reap. SIGKILL is delivered as the task next runs, so allow it a moment
    // to die (a child left running sleeps 60 s: it would still be 'S').
    let state = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit(") ").next().and_then(|s| s.chars().next())
    };
    let mut last = state();
    for _ in 0..200 {
        if matches!(last, None | Some('Z') | Some('X')) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        last = state();
    }
    assert!(
        matches!(last, None | Some('Z') | Some('X')),
        "the planted child {pid} still runs after 2 s: state {last:?}"
    );
}
