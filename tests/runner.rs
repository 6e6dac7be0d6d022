//! # How the suite runs: one process per module, as many at once as there are CPUs.
//!
//! Inside a module's process one test runs at a time. A fork-like child of a
//! multi-threaded process must not take a lock another thread held at the
//! clone (the allocator's, stdout's): it would wait forever. Tests whose
//! children allocate — every experiment run under the ptrace observer — ran
//! two at a time in one process before, and one such child hung in the
//! aarch64 VM (`fork_vfork_thread`, whose two tests both clone under trace).
//! With one test at a time, no other test thread is running when a test
//! clones; the parallelism comes from the modules' processes instead.
//!
//! Before libtest's `main`, a constructor (listed in `.init_array`, which the
//! C runtime calls with `argc` and `argv`) decides what this process is:
//!
//! - a *module process*, started by the runner with `CLONELAB_SUITE_MODULE`
//!   set (or the trace subject of `trace_cmd`, or any program a test starts
//!   from this binary, which inherits the variable): the constructor returns
//!   and libtest runs the tests its command line names;
//! - `--list` or `--help`: libtest, unchanged;
//! - otherwise the *runner*. It asks libtest (`--list`, with the caller's
//!   filters) which tests are selected, groups them by module (the first part
//!   of `<module>::<test>`), and starts this binary once per module with
//!   `--exact`, that module's test names and `--test-threads=1`, as many
//!   module processes at a time as `--test-threads` says (default:
//!   `CLONELAB_SUITE_JOBS`, else the CPUs this process may use), the slowest
//!   modules first. Each module's output (stdout and stderr through
//!   one pipe) is printed as one block when it ends, followed by a progress
//!   line, `suite: done M/N modules, T/U tests, S s`. A module's process that
//!   runs longer than `CLONELAB_SUITE_TIMEOUT` seconds (300) is killed and
//!   fails, with the output it printed (the hung test is its last line). It exits 0 if every
//!   module passed and 101 (libtest's failure status) otherwise; a module
//!   process that ends without libtest's result line (a crash, a signal) is
//!   printed as a failed test `<module>::(process)` with a result line, so
//!   that a test counter counts it.
//!
//! A module passes only if its process exited 0 **and** its result line
//! accounts for every test listed for it (passed + failed + ignored): a test
//! path that ends the process early with status 0 (`process::exit(0)`, a
//! CLONE_THREAD child reaching `exit_group(0)`) would otherwise skip the
//! module's remaining tests with no FAILED line. A listing that selects no
//! test although no filter was given fails too. Each module process leads a
//! process group of its own; the whole group is killed on timeout and when
//! the module ends, and a process of the group that still holds the
//! module's output open fails the module (`tests/runner_selftest.rs` plants
//! both and checks that the run fails).

use std::collections::VecDeque;
use std::ffi::{c_char, c_int, CStr};
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// Set in every module process: its module's name.
const MODULE_VAR: &str = "CLONELAB_SUITE_MODULE";
/// How many module processes run at once (default: the CPUs we may use).
const JOBS_VAR: &str = "CLONELAB_SUITE_JOBS";

/// Modules started first because they take longest (seconds in the VMs of a
/// clean run, slowest arch: soak 18, soundness 15, trace_cmd 11, flag_fuzz 7,
/// concurrency 4; every other module under 1). Longest first keeps one slow
/// module from starting last while the other CPUs idle.
const SLOWEST_FIRST: [&str; 5] = ["soak", "soundness", "trace_cmd", "flag_fuzz", "concurrency"];

/// libtest options that take their value as the next argument (besides
/// `--skip` and `--test-threads`, which the runner takes itself).
const OPTIONS_WITH_VALUE: [&str; 5] = ["--logfile", "--color", "--format", "-Z", "--shuffle-seed"];

/// The C runtime calls everything in `.init_array` before `main`, with the
/// arguments `main` will get.
#[used]
#[link_section = ".init_array"]
static RUNNER_HOOK: extern "C" fn(c_int, *const *const c_char, *const *const c_char) = runner_hook;

extern "C" fn runner_hook(argc: c_int, argv: *const *const c_char, _envp: *const *const c_char) {
    if std::env::var_os(MODULE_VAR).is_some()
        || std::env::var_os(crate::trace_cmd::subject::SUBJECT).is_some()
    {
        return;
    }
    let args: Vec<String> = (1..argc.max(1) as usize)
        // SAFETY: glibc calls `.init_array` entries with main's argc and argv:
        // argv holds argc valid, NUL-terminated strings.
        .map(|i| unsafe { CStr::from_ptr(*argv.add(i)) })
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    if args
        .iter()
        .any(|a| matches!(a.as_str(), "--list" | "--help" | "-h"))
    {
        return;
    }
    let code = run_modules(&args);
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

/// One module and the tests of it that the command line selects.
struct Module {
    name: String,
    tests: Vec<String>,
}

/// The runner: every selected module in a process of its own. Its exit status.
fn run_modules(args: &[String]) -> i32 {
    let started = Instant::now();
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return fail_early(&format!("cannot find this binary: {e}")),
    };
    let modules = match selected_modules(&exe, args) {
        Ok(modules) => modules,
        Err(e) => return fail_early(&e),
    };
    if modules.is_empty() && !has_filter(args) {
        return fail_early("the listing selected no test, and no filter was given");
    }
    // One test at a time in each module process; `--test-threads=N` from the
    // caller is the number of module processes at once instead.
    let (options, threads) = options_for_modules(args);
    let jobs = threads.unwrap_or_else(jobs);
    let total_tests: usize = modules.iter().map(|m| m.tests.len()).sum();
    let total_modules = modules.len();
    println!(
        "suite: {total_tests} tests in {total_modules} modules, {jobs} module process(es) at a time"
    );

    let queue = Mutex::new(VecDeque::from(modules));
    // (modules done, tests done, modules that failed)
    let progress = Mutex::new((0usize, 0usize, Vec::<String>::new()));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let Some(module) = queue.lock().unwrap().pop_front() else {
                    break;
                };
                let (output, passed) = run_module(&exe, &options, &module);
                let mut done = progress.lock().unwrap();
                done.0 += 1;
                done.1 += module.tests.len();
                if !passed {
                    done.2.push(module.name.clone());
                }
                // One block per module, printed whole under the lock.
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "---- suite: module {} ({} tests) ----",
                    module.name,
                    module.tests.len()
                );
                let _ = out.write_all(&output);
                let _ = writeln!(
                    out,
                    "suite: done {}/{total_modules} modules, {}/{total_tests} tests, {:.1} s",
                    done.0,
                    done.1,
                    started.elapsed().as_secs_f64()
                );
                let _ = out.flush();
            });
        }
    });
    let failed = &progress.lock().unwrap().2;
    if failed.is_empty() {
        println!(
            "suite: every module passed ({total_modules} modules, {:.1} s)",
            started.elapsed().as_secs_f64()
        );
        0
    } else {
        println!(
            "suite: {} of {total_modules} modules failed: {}",
            failed.len(),
            failed.join(", ")
        );
        101
    }
}

/// Say why the runner could not start, in a form a test counter counts.
fn fail_early(reason: &str) -> i32 {
    println!("suite: {reason}");
    println!("test suite::(runner) ... FAILED");
    println!("test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out");
    101
}

/// `CLONELAB_SUITE_JOBS`, else the CPUs this process may run on.
fn jobs() -> usize {
    std::env::var(JOBS_VAR)
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Ask libtest which tests `args` select, and group them by module, the
/// slowest modules first, the rest in name order.
fn selected_modules(exe: &std::path::Path, args: &[String]) -> Result<Vec<Module>, String> {
    let listing = Command::new(exe)
        .args(args)
        .arg("--list")
        .env(MODULE_VAR, "(list)")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot list the tests: {e}"))?;
    if !listing.status.success() {
        return Err(format!("listing the tests failed: {}", listing.status));
    }
    let mut modules: Vec<Module> = Vec::new();
    for line in String::from_utf8_lossy(&listing.stdout).lines() {
        let Some(test) = line.strip_suffix(": test") else {
            continue;
        };
        let module = test.split("::").next().unwrap_or(test);
        match modules.iter_mut().find(|m| m.name == module) {
            Some(m) => m.tests.push(test.to_string()),
            None => modules.push(Module {
                name: module.to_string(),
                tests: vec![test.to_string()],
            }),
        }
    }
    let rank = |m: &Module| {
        SLOWEST_FIRST
            .iter()
            .position(|&slow| slow == m.name)
            .unwrap_or(SLOWEST_FIRST.len())
    };
    modules.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name)));
    Ok(modules)
}

/// The caller's libtest options for the module processes, without what
/// selects tests (filters, `--skip`, `--exact`: the module processes get
/// exact names instead) and with `--test-threads=1`; and the caller's
/// `--test-threads` value, if any.
fn options_for_modules(args: &[String]) -> (Vec<String>, Option<usize>) {
    let mut kept = Vec::new();
    let mut threads = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if let Some(n) = arg.strip_prefix("--test-threads=") {
            threads = n.parse().ok();
            continue;
        }
        match arg.as_str() {
            "--exact" => continue,
            "--skip" => {
                args.next();
                continue;
            }
            "--test-threads" => {
                threads = args.next().and_then(|n| n.parse().ok());
                continue;
            }
            _ => {}
        }
        if arg.starts_with("--skip=") || !arg.starts_with('-') {
            continue; // a filter: already applied by the listing
        }
        kept.push(arg.clone());
        if OPTIONS_WITH_VALUE.contains(&arg.as_str()) {
            kept.extend(args.next().cloned());
        }
    }
    kept.push("--test-threads=1".to_string());
    (kept, threads.filter(|&n: &usize| n > 0))
}

/// Whether `args` hold a test name filter (an argument that is not an
/// option, nor the value of one).
fn has_filter(args: &[String]) -> bool {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if matches!(arg.as_str(), "--skip" | "--test-threads")
            || OPTIONS_WITH_VALUE.contains(&arg.as_str())
        {
            args.next();
        } else if !arg.starts_with('-') {
            return true;
        }
    }
    false
}

/// The counts of libtest's result line in `output`: passed + failed +
/// ignored, the tests it accounts for (None: no result line).
fn accounted_tests(output: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(output);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("test result: "))?;
    let count = |word: &str| -> usize {
        line.split(';')
            .find_map(|part| {
                let part = part.trim().trim_start_matches("test result: ");
                let part = part.split(". ").last().unwrap_or(part);
                part.strip_suffix(word)?.trim().parse().ok()
            })
            .unwrap_or(0)
    };
    Some(count(" passed") + count(" failed") + count(" ignored"))
}

/// Send SIGKILL to every process of the group `pgid` (ESRCH: none is left).
fn kill_group(pgid: u32) {
    // SAFETY: kill(2) with a negative pid signals a process group; it touches
    // no memory of ours. The group is the module process's own (it was
    // started as the leader of a new group), so nothing outside it is hit.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), libc::SIGKILL);
    }
}

/// Run one module's tests in a process of their own; its output (stdout and
/// stderr interleaved as written) and whether it passed.
fn run_module(exe: &std::path::Path, options: &[String], module: &Module) -> (Vec<u8>, bool) {
    let mut fds = [0 as c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        let error = std::io::Error::last_os_error();
        return (failed_process(module, &format!("pipe2: {error}")), false);
    }
    // SAFETY: pipe2 just returned these two descriptors; each has one owner.
    let (mut reader, writer) = unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            OwnedFd::from_raw_fd(fds[1]),
        )
    };
    let spawned = writer.try_clone().and_then(|stderr| {
        use std::os::unix::process::CommandExt;
        Command::new(exe)
            .process_group(0)
            .args(options)
            .arg("--exact")
            .args(&module.tests)
            .env(MODULE_VAR, &module.name)
            .stdin(Stdio::null())
            .stdout(Stdio::from(writer))
            .stderr(Stdio::from(stderr))
            .spawn()
    });
    // The Command (and with it our copies of the write end) is gone: the
    // read below ends when the module process and its children close theirs.
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return (failed_process(module, &format!("cannot start: {e}")), false),
    };
    let group = child.id();
    let (chunks, collected) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        while let Ok(n @ 1..) = reader.read(&mut buffer) {
            if chunks.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut output = Vec::new();
    let deadline = Instant::now() + module_timeout();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                kill_group(group);
                break child.wait();
            }
            Ok(None) => {}
            Err(e) => break Err(e),
        }
        if let Ok(chunk) = collected.recv_timeout(Duration::from_millis(50)) {
            output.extend(chunk);
        }
    };
    // The rest of the output, until every write end is closed. A process the
    // module started and left running may hold one: then stop waiting soon.
    let grace = Instant::now() + Duration::from_secs(2);
    let mut left_open = false;
    loop {
        match collected.recv_timeout(grace.saturating_duration_since(Instant::now())) {
            Ok(chunk) => output.extend(chunk),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                left_open = true;
                break;
            }
        }
    }
    // Whatever the module left running goes with it.
    kill_group(group);
    let accounted = accounted_tests(&output);
    let exited_0 = matches!(status, Ok(s) if s.success());
    let complete = accounted == Some(module.tests.len());
    let passed = !timed_out && exited_0 && complete && !left_open;
    if left_open {
        output.extend_from_slice(
            b"suite: a process this module started still held its output open (killed)\n",
        );
        output.extend(failed_test(module, "(left running)"));
    }
    if timed_out {
        let why = format!("was killed after {} s", module_timeout().as_secs());
        output.extend(failed_process(module, &why));
    } else if !exited_0 && !contains_result_line(&output) {
        let why = match status {
            Ok(status) => describe(status),
            Err(e) => format!("could not be waited for: {e}"),
        };
        output.extend(failed_process(module, &why));
    } else if exited_0 && !complete {
        output.extend(
            format!(
                "suite: module {} exited 0, but only {} of its {} tests reached a result\n",
                module.name,
                accounted.unwrap_or(0),
                module.tests.len()
            )
            .into_bytes(),
        );
        output.extend(failed_test(module, "(incomplete)"));
    }
    (output, passed)
}

/// How long one module's process may run: `CLONELAB_SUITE_TIMEOUT` seconds,
/// else 300 (the slowest module takes about 20 s in the slowest VM). A test
/// that hangs then fails with its module's output, instead of holding the
/// whole run until an outer limit.
fn module_timeout() -> Duration {
    let seconds = std::env::var("CLONELAB_SUITE_TIMEOUT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    Duration::from_secs(seconds)
}

fn contains_result_line(output: &[u8]) -> bool {
    String::from_utf8_lossy(output)
        .lines()
        .any(|l| l.starts_with("test result: "))
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(signal)) => format!("was killed by signal {signal}"),
        (Some(code), _) => format!("exited with status {code}"),
        _ => format!("ended: {status}"),
    }
}

/// A failed pseudo-test `<module>::<what>` with a result line, so that a
/// test counter counts the failure.
fn failed_test(module: &Module, what: &str) -> Vec<u8> {
    format!(
        "test {}::{what} ... FAILED\n\
         test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n",
        module.name
    )
    .into_bytes()
}

/// A module process that ended without libtest's result line, as a failed
/// test and a result line.
fn failed_process(module: &Module, why: &str) -> Vec<u8> {
    format!(
        "suite: the process of module {} {why} before libtest's result line\n\
         test {}::(process) ... FAILED\n\
         test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n",
        module.name, module.name
    )
    .into_bytes()
}
