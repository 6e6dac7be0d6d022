//! # Soak: thousands of create/reap cycles leak nothing.
//!
//! For each API path — fork-like `spawn` (clone), `spawn_via(Clone3)`, a
//! scoped CLONE_VM child on one reused stack, and a thread-like child on one
//! reused stack — create and reap `CLONELAB_SOAK` children (10,000 by default;
//! `cargo xtask soak` sets 100,000, the VMs 1,000). Before and after, compare: open file
//! descriptors, lines of /proc/self/maps, the tasks of this process
//! (`Threads:` in /proc/self/status: a thread-like child that never exits is
//! one more, and `wait4` cannot see it; a joined one may linger a moment
//! after its join, so both counts are read once it has settled back to the
//! count the test started with), children left to reap (none may be), and
//! resident memory (VmRSS), which may grow by at most 512 pages (allocator
//! and page-cache noise: 2 MiB with 4 KiB pages, 32 MiB with ppc64le's
//! 64 KiB pages). Descriptors, mappings, threads and children are
//! compared exactly, so one leaked per cycle shows after any count. A leaked
//! child stack is a leaked mapping, caught by the count; its pages are mapped
//! MAP_NORESERVE and only the ones a child touched are resident, so RSS is not
//! what shows it. Memory shows once N cycles of a leak pass 512 pages: at the
//! VMs' 1,000, one page a cycle (1,000 pages, whatever the page size).
//! Everything runs in one test so nothing else in the process disturbs the counts.

use crate::common;

use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall};
use clonelab::{scope, spawn, spawn_via, sys, Errno, Stack, WaitStatus, THREAD_FLAGS};
use std::time::Instant;

/// How many pages resident memory may grow by (see the module doc).
const RSS_TOLERANCE_PAGES: i64 = 512;

/// [`RSS_TOLERANCE_PAGES`] in KiB on this machine.
fn rss_tolerance_kib() -> i64 {
    RSS_TOLERANCE_PAGES * (clonelab::stack::page_size() / 1024) as i64
}

/// The count of this process's tasks, read once it has settled: a joined
/// thread-like child has cleared its tid word (in mm_release) but may not
/// have left the thread group yet (release_task comes after). Waits up to
/// 5 s for the count to come down to `base`; a leaked task never does.
fn settled_threads(base: i64) -> i64 {
    let mut threads = status_field("Threads:");
    for _ in 0..500 {
        if threads <= base {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        threads = status_field("Threads:");
    }
    threads
}

fn cycles() -> usize {
    std::env::var("CLONELAB_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// A number field of /proc/self/status (`VmRSS:` in KiB, `Threads:`).
fn status_field(name: &str) -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(name)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

struct Snapshot {
    fds: usize,
    maps: usize,
    threads: i64,
    rss: i64,
}

/// The counts, with the task count settled to `base` (the test's own tasks).
fn snapshot(base: i64) -> Snapshot {
    Snapshot {
        threads: settled_threads(base),
        fds: common::open_fd_count(),
        maps: common::mapping_count(),
        rss: status_field("VmRSS:"),
    }
}

fn check(path: &str, base: i64, before: &Snapshot, n: usize, started: Instant) {
    let after = snapshot(base);
    println!(
        "{path}: {n} cycles in {:.2}s; fds {} -> {}, maps {} -> {}, threads {} -> {}, rss {} -> {} KiB",
        started.elapsed().as_secs_f64(),
        before.fds,
        after.fds,
        before.maps,
        after.maps,
        before.threads,
        after.threads,
        before.rss,
        after.rss
    );
    assert_eq!(after.fds, before.fds, "{path}: descriptors leaked");
    assert_eq!(after.maps, before.maps, "{path}: mappings leaked");
    assert_eq!(
        after.threads, before.threads,
        "{path}: tasks of this process leaked"
    );
    assert!(
        after.rss - before.rss <= rss_tolerance_kib(),
        "{path}: RSS grew by {} KiB",
        after.rss - before.rss
    );
    assert_eq!(
        sys::wait4(-1, (libc::__WALL | libc::WNOHANG) as u32),
        Err(Errno::ECHILD),
        "{path}: children left over"
    );
}

/// Every API path creates and reaps N children with no leak.
#[test]
fn create_and_reap_leaks_nothing() {
    let n = cycles();
    // This process's own tasks, before any child: what every count settles to.
    let base = status_field("Threads:");
    let word = FlagsWord::new(F::EMPTY, ExitSignal::SIGCHLD);
    // Warm up allocator and caches once per path before the first snapshot.
    spawn(word, || 0).unwrap().wait().unwrap();

    let (before, started) = (snapshot(base), Instant::now());
    for i in 0..n {
        let code = (i % 200) as i32;
        assert_eq!(
            spawn(word, move || code).unwrap().wait().unwrap(),
            WaitStatus::Exited(code)
        );
    }
    check("spawn (clone)", base, &before, n, started);

    if clonelab::clone3_available() {
        let (before, started) = (snapshot(base), Instant::now());
        for _ in 0..n {
            let mut child = spawn_via(Syscall::Clone3, word, || 1).unwrap();
            assert_eq!(child.wait().unwrap(), WaitStatus::Exited(1));
        }
        check("spawn_via(clone3)", base, &before, n, started);
    } else {
        common::skip("clone3 is not available here (ENOSYS)");
    }

    let mut stack = Stack::new(common::STACK).unwrap();
    for (path, flags, signal) in [
        ("scoped CLONE_VM child", F::CLONE_VM, ExitSignal::SIGCHLD),
        ("thread-like child", THREAD_FLAGS, ExitSignal::NONE),
    ] {
        let vm = FlagsWord::new(flags, signal);
        let probe = join_constant(&mut stack, vm, 0);
        if common::qemu_user_cannot(&probe, path) {
            continue;
        }
        let (before, started) = (snapshot(base), Instant::now());
        for _ in 0..n {
            let status = join_constant(&mut stack, vm, 2).unwrap();
            assert_eq!(status, WaitStatus::Exited(2));
        }
        check(path, base, &before, n, started);
    }
}

/// Start a scoped child on `stack` that returns `value`, and join it.
fn join_constant(
    stack: &mut Stack,
    word: FlagsWord,
    value: i32,
) -> Result<WaitStatus, clonelab::Error> {
    scope(|s| {
        // SAFETY: the child only returns a constant.
        let child = unsafe { s.spawn(stack, word, move || value) }?;
        child.join()
    })
}
