//! # `clonelab trace -- CMD`: what the kernel saw, checked against what the program got.
//!
//! Chapter: `docs/real-programs.md`. The traced program is this test binary
//! itself: with `CLONELAB_TRACE_SUBJECT` set, a constructor (run by the C
//! runtime before libtest's `main`) turns it into the *subject*, a static
//! program that forks through glibc, spawns a `std::thread`, runs a
//! `std::process::Command`, makes a clone3 through clonelab and a clone the
//! kernel refuses — and prints what each call gave it. The tests run
//! `clonelab trace --json` on it and compare the trace with those lines.
//! Being this binary, the subject exists wherever the tests run: on the host
//! and inside both VMs.

mod common;

use common::{clonelab_binary, skip};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SUBJECT: &str = "CLONELAB_TRACE_SUBJECT";

// ---------------------------------------------------------------- the subject

/// The C runtime calls everything in `.init_array` before `main`: if the
/// environment says so, this process is the subject and never reaches libtest.
#[used]
#[link_section = ".init_array"]
static SUBJECT_HOOK: extern "C" fn() = subject_hook;

extern "C" fn subject_hook() {
    if let Ok(mode) = std::env::var(SUBJECT) {
        let code = subject(&mode);
        let _ = std::io::stdout().flush();
        std::process::exit(code);
    }
}

/// Refused by the kernel (CLONE_THREAD needs CLONE_SIGHAND), so never run.
unsafe extern "C" fn never_runs(_: *mut std::ffi::c_void) -> std::ffi::c_int {
    0
}

fn subject(mode: &str) -> i32 {
    use clonelab::flags::{CloneFlags, ExitSignal, FlagsWord, Syscall};
    match mode {
        "exit" => 0,
        "segv" => {
            // SAFETY: raise only sends a signal; SIGSEGV's default action ends us.
            unsafe { libc::raise(libc::SIGSEGV) };
            1
        }
        "all" => {
            println!("subject pid {}", std::process::id());
            // 1. glibc's fork.
            // SAFETY: single-threaded here; the child only calls _exit.
            match unsafe { libc::fork() } {
                // SAFETY: _exit is async-signal-safe.
                0 => unsafe { libc::_exit(0) },
                pid => {
                    println!("fork {pid}");
                    // SAFETY: waiting for our own child.
                    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
                }
            }
            // 2. std::thread::spawn: glibc's pthread_create.
            let (tid, tls, local) = std::thread::spawn(|| {
                let local = 0u8;
                (
                    clonelab::sys::gettid(),
                    clonelab::arch::thread_pointer(),
                    &local as *const u8 as usize,
                )
            })
            .join()
            .unwrap();
            println!("thread {tid} tls {tls} local {local}");
            // 3. std::process::Command: glibc's posix_spawn.
            let mut child = Command::new(std::env::current_exe().unwrap())
                .env(SUBJECT, "exit")
                .spawn()
                .unwrap();
            println!("command {}", child.id());
            child.wait().unwrap();
            // 4. clonelab's own clone3, with a pidfd.
            let word = FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD);
            let mut c = clonelab::spawn_via(Syscall::Clone3, word, || 0).unwrap();
            let call = *c.call();
            println!(
                "clonelab-clone3 {} flags {} exit_signal {} pidfd {} parent_tid {} child_tid {} stack {} stack_size {} tls {} args_address {}",
                c.pid(),
                call.word.flags.bits(),
                call.word.signal.number(),
                call.pidfd,
                call.parent_tid,
                call.child_tid,
                call.stack,
                call.stack_size,
                call.tls,
                call.args_address
            );
            c.wait().unwrap();
            // 5. a clone the kernel refuses: CLONE_THREAD without CLONE_SIGHAND.
            let bad = FlagsWord::new(CloneFlags::CLONE_THREAD, ExitSignal::NONE);
            let stack = clonelab::Stack::new(common::STACK).unwrap();
            // SAFETY: the kernel refuses these flags with EINVAL, so no child
            // exists; had one been made, it would run `never_runs` on `stack`,
            // which outlives this call.
            let refused = unsafe {
                clonelab::clone(
                    bad,
                    stack.top(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    0,
                    never_runs,
                    std::ptr::null_mut(),
                )
            };
            let errno = refused.err().and_then(|e| e.errno()).map(|e| e.raw());
            println!("refused {} errno {}", bad.flags.bits(), errno.unwrap_or(0));
            0
        }
        #[cfg(target_arch = "x86_64")]
        "raw-fork" => {
            // SAFETY: the fork syscall (x86_64 only) in a single-threaded process;
            // the child only calls _exit.
            let pid = unsafe { clonelab::arch::syscall0(linux_raw_sys::general::__NR_fork) };
            if pid == 0 {
                // SAFETY: _exit is async-signal-safe.
                unsafe { libc::_exit(0) };
            }
            println!("raw-fork {pid}");
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(pid as i32, std::ptr::null_mut(), 0) };
            0
        }
        "threads" => {
            let mut tids = Vec::new();
            for _ in 0..20 {
                let batch: Vec<_> = (0..50)
                    .map(|_| {
                        std::thread::Builder::new()
                            .stack_size(64 * 1024)
                            .spawn(clonelab::sys::gettid)
                            .unwrap()
                    })
                    .collect();
                tids.extend(batch.into_iter().map(|t| t.join().unwrap()));
            }
            let list: Vec<String> = tids.iter().map(|t| t.to_string()).collect();
            println!("threads {}", list.join(","));
            0
        }
        "wait" => {
            std::thread::spawn(|| loop {
                std::thread::sleep(Duration::from_millis(50));
            });
            println!("waiting {}", std::process::id());
            let _ = std::io::stdout().flush();
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            7
        }
        "unshare-fork" => {
            // What util-linux's `unshare --fork --pid` does: unshare, then fork.
            // SAFETY: unshare takes no pointers.
            if unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
                println!("unshare refused {}", std::io::Error::last_os_error());
                return 0;
            }
            // SAFETY: single-threaded; the child only calls _exit.
            match unsafe { libc::fork() } {
                // SAFETY: _exit is async-signal-safe.
                0 => unsafe { libc::_exit(0) },
                pid => {
                    println!("unshare-fork {pid}");
                    // SAFETY: waiting for our own child.
                    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
                }
            }
            0
        }
        other => {
            eprintln!("subject: unknown mode {other}");
            2
        }
    }
}

// ---------------------------------------------------------------- running it

struct Traced {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The `--json` objects, one per line of the output file.
    records: Vec<Value>,
}

impl Traced {
    fn calls(&self) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|r| r["event"] == "clone")
            .collect()
    }

    /// The subject's `KEY v1 v2 ...` line, split.
    fn said(&self, key: &str) -> Vec<String> {
        let line = self
            .stdout
            .lines()
            .find(|l| l.split(' ').next() == Some(key))
            .unwrap_or_else(|| panic!("the subject printed no {key:?} line:\n{}", self.stdout));
        line.split(' ').skip(1).map(str::to_string).collect()
    }
}

/// Run `clonelab trace --json --output F -- CMD` with the subject mode in the
/// environment, failing the test if it takes longer than `limit`.
fn trace_json(cmd: &[&str], mode: &str, limit: Duration) -> Traced {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!("clonelab-trace-{}-{n}.json", std::process::id()));
    let mut command = Command::new(clonelab_binary());
    command
        .args(["trace", "--json", "--output"])
        .arg(&file)
        .arg("--")
        .args(cmd)
        .env(SUBJECT, mode);
    // One CPU for clonelab and its tracees: every ptrace stop hands control
    // between tracer and tracee, which is far cheaper on one CPU (the
    // 1,000-thread run took 0.9 s pinned against 3.2-3.6 s unpinned on the
    // 2-core build machine, and the gap is wider under TCG). What is traced
    // does not depend on it.
    // SAFETY: sched_getcpu and sched_setaffinity are async-signal-safe and
    // touch only the set, a local of the child.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(libc::sched_getcpu().max(0) as usize, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
            Ok(())
        });
    }
    let (code, stdout, stderr) = run_with_limit(command, limit);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    let records = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect();
    Traced {
        code,
        stdout,
        stderr,
        records,
    }
}

fn run_with_limit(mut command: Command, limit: Duration) -> (Option<i32>, String, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("clonelab runs");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} still running after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.code(),
        reader.join().unwrap(),
        err_reader.join().unwrap(),
    )
}

fn subject_path() -> String {
    std::env::current_exe()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn u64_of(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_i64().map(|i| i as u64))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

fn flag(name: &str) -> u64 {
    clonelab::flags::ALL_FLAGS
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap()
        .1
        .bits()
}

/// Argument `name` (`stack`, `tls`, `child_tid`, ...) of a traced call: from
/// `clone_args` for clone3, from its register (in this arch's order) for clone.
fn clone_arg(call: &Value, name: &str) -> u64 {
    if call["syscall"] == "clone3" {
        return u64_of(&call["clone_args"][name]);
    }
    let i = clonelab::arch::CLONE_ARG_ORDER
        .iter()
        .position(|n| *n == name)
        .unwrap();
    u64_of(&call["registers"][i + 1]["value"])
}

const LIMIT: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------- the tests

/// Tracing the subject yields exactly its five calls, in order, each with the
/// result the subject itself got (its fork's pid, its thread's tid, its
/// Command's pid, its clone3's pid, the EINVAL), and CMD's stdout passes through.
#[test]
fn trace_sees_exactly_the_calls_the_program_made() {
    let t = trace_json(&[&subject_path()], "all", LIMIT);
    assert_eq!(t.code, Some(0), "stderr: {}", t.stderr);
    let pid: i64 = t.said("subject")[1].parse().unwrap();
    let calls = t.calls();
    for c in &calls {
        println!("{c}");
    }
    assert_eq!(calls.len(), 5, "expected 5 calls, traced {}", calls.len());
    for c in &calls {
        assert_eq!(
            c["pid"].as_i64(),
            Some(pid),
            "a call from another process: {c}"
        );
        // The register set (PTRACE_GETREGSET) holds the number and arguments
        // PTRACE_GET_SYSCALL_INFO reported.
        let regs = c["registers"].as_array().unwrap();
        assert_eq!(u64_of(&regs[0]["value"]), u64_of(&c["nr"]));
        for (i, reg) in regs.iter().enumerate().skip(1) {
            assert_eq!(u64_of(&reg["value"]), u64_of(&c["args"][i - 1]), "{c}");
        }
        assert_eq!(c["arch"], clonelab::arch::NAME);
    }
    let result = |i: usize| calls[i]["result"].as_i64().unwrap();
    // 1. glibc's fork: clone(CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD, ctid = a tid field).
    let fork: i64 = t.said("fork")[0].parse().unwrap();
    assert_eq!(calls[0]["syscall"], "clone");
    assert_eq!(result(0), fork);
    assert_eq!(
        u64_of(&calls[0]["flags"]),
        flag("CLONE_CHILD_SETTID") | flag("CLONE_CHILD_CLEARTID")
    );
    assert_eq!(u64_of(&calls[0]["exit_signal"]), libc::SIGCHLD as u64);
    assert_eq!(calls[0]["new_task"]["kind"], "process");
    assert_eq!(calls[0]["new_task"]["shares_memory"], false);
    // 2. the std::thread: clone3 (glibc 2.36 on x86_64) or clone (on aarch64)
    // with CLONE_THREAD, its tid, tls and stack.
    let thread = t.said("thread");
    let (tid, tls, local): (i64, u64, u64) = (
        thread[0].parse().unwrap(),
        thread[2].parse().unwrap(),
        thread[4].parse().unwrap(),
    );
    assert_eq!(result(1), tid);
    let flags = u64_of(&calls[1]["flags"]);
    for f in ["CLONE_VM", "CLONE_THREAD", "CLONE_SIGHAND", "CLONE_SETTLS"] {
        assert_ne!(flags & flag(f), 0, "{f} missing from the thread's call");
    }
    // On i386 the tls argument is the address of a `struct user_desc` whose
    // base is the thread pointer (glibc builds it on the creating thread's stack).
    #[cfg(not(target_arch = "x86"))]
    assert_eq!(
        clone_arg(calls[1], "tls"),
        tls,
        "the tls argument is not the thread's thread pointer"
    );
    #[cfg(target_arch = "x86")]
    assert!(
        clone_arg(calls[1], "tls") != tls && clone_arg(calls[1], "tls") != 0,
        "i386: the tls argument is a user_desc's address, not the thread pointer"
    );
    let stack = clone_arg(calls[1], "stack");
    if calls[1]["syscall"] == "clone3" {
        // clone3: the lowest byte and the size.
        let size = clone_arg(calls[1], "stack_size");
        assert!(
            stack <= local && local < stack + size,
            "the thread's local {local:#x} is not on the clone_args stack {stack:#x}+{size:#x}"
        );
    } else {
        // clone: the first stack pointer; the stack grows down from it.
        assert!(
            local < stack && stack - local < 16 << 20,
            "the thread's local {local:#x} is not below its first sp {stack:#x}"
        );
    }
    assert_eq!(calls[1]["new_task"]["kind"], "thread");
    assert_eq!(calls[1]["new_task"]["shares_memory"], true);
    // 3. Command (posix_spawn): CLONE_VM|CLONE_VFORK, the child's pid.
    let command: i64 = t.said("command")[0].parse().unwrap();
    assert_eq!(result(2), command);
    let spawn_flags = u64_of(&calls[2]["flags"]);
    assert_eq!(
        spawn_flags & (flag("CLONE_VM") | flag("CLONE_VFORK")),
        flag("CLONE_VM") | flag("CLONE_VFORK"),
        "posix_spawn without CLONE_VM|CLONE_VFORK: {}",
        calls[2]["flag_names"]
    );
    assert_eq!(calls[2]["new_task"]["kind"], "process");
    // 4. clonelab's clone3: result.
    let own: i64 = t.said("clonelab-clone3")[0].parse().unwrap();
    assert_eq!(result(3), own);
    // 5. the refused clone.
    assert_eq!(calls[4]["syscall"], "clone");
    assert_eq!(result(4), -(libc::EINVAL as i64));
    assert!(calls[4]["new_task"].is_null());
}

/// The `clone_args` clonelab reads from the tracee's memory are, field by
/// field, the ones the program passed to clone3, at the address it passed.
#[test]
fn clone3_args_are_what_the_program_passed() {
    let t = trace_json(&[&subject_path()], "all", LIMIT);
    assert_eq!(t.code, Some(0), "stderr: {}", t.stderr);
    let said = t.said("clonelab-clone3");
    let value = |key: &str| -> u64 {
        let i = said.iter().position(|s| s == key).unwrap();
        said[i + 1].parse().unwrap()
    };
    let pid: i64 = said[0].parse().unwrap();
    let call = t
        .calls()
        .into_iter()
        .find(|c| c["result"].as_i64() == Some(pid))
        .expect("the clone3 is traced");
    println!("{call}");
    assert_eq!(call["syscall"], "clone3");
    let args = &call["clone_args"];
    assert_eq!(
        u64_of(&args["size"]),
        88,
        "clonelab passes sizeof(struct clone_args)"
    );
    assert_eq!(u64_of(&args["address"]), value("args_address"));
    assert_eq!(
        u64_of(&call["registers"][1]["value"]),
        value("args_address")
    );
    assert_eq!(u64_of(&call["registers"][2]["value"]), 88);
    assert_eq!(u64_of(&args["flags"]), value("flags"));
    assert_eq!(u64_of(&args["exit_signal"]), value("exit_signal"));
    assert_eq!(u64_of(&args["pidfd"]), value("pidfd"));
    assert_ne!(value("pidfd"), 0, "CLONE_PIDFD needs a pidfd pointer");
    for field in ["parent_tid", "child_tid", "stack", "stack_size", "tls"] {
        assert_eq!(u64_of(&args[field]), value(field), "clone_args.{field}");
    }
    for field in ["set_tid", "set_tid_size", "cgroup"] {
        assert_eq!(u64_of(&args[field]), 0, "clone_args.{field}");
    }
}

/// A clone the kernel refuses shows EINVAL and the rule it broke.
#[test]
fn refused_clone_shows_einval_and_its_rule() {
    let t = trace_json(&[&subject_path()], "all", LIMIT);
    let said = t.said("refused");
    assert_eq!(said[2], libc::EINVAL.to_string(), "the subject got EINVAL");
    let flags: u64 = said[0].parse().unwrap();
    let refused = t
        .calls()
        .into_iter()
        .find(|c| c["errno"].is_string())
        .expect("the refused clone is traced");
    println!("{refused}");
    assert_eq!(u64_of(&refused["flags"]), flags);
    assert_eq!(refused["errno"], "EINVAL");
    assert_eq!(refused["rule"], "CLONE_THREAD requires CLONE_SIGHAND");
    // What the flags register held: CLONE_THREAD and exit signal 0 (the
    // register after the number; on s390x the one after the stack).
    let flags_at = clonelab::arch::CLONE_ARG_ORDER
        .iter()
        .position(|a| *a == "flags")
        .unwrap();
    assert_eq!(u64_of(&refused["registers"][flags_at + 1]["value"]), flags);
}

/// CMD's exit status becomes clonelab's; a CMD killed by a signal gives
/// 128 + signal and is reported; a missing CMD gives 127.
#[test]
fn exit_status_of_the_command_comes_back() {
    let t = trace_json(&[&subject_path()], "segv", LIMIT);
    assert_eq!(t.code, Some(128 + libc::SIGSEGV), "stderr: {}", t.stderr);
    assert!(t.stderr.contains("was killed by SIGSEGV"), "{}", t.stderr);
    let t = trace_json(&["/no/such/program"], "exit", LIMIT);
    assert_eq!(t.code, Some(127));
    assert!(t.stderr.contains("command not found"), "{}", t.stderr);
}

/// A fork after unshare(CLONE_NEWPID) — what `unshare --fork --pid` does —
/// makes a child in a new pid namespace without CLONE_NEWPID in its flags:
/// the trace sees the namespace differ through /proc, not through the flags.
#[test]
fn fork_after_unshare_enters_a_new_pid_namespace() {
    let t = trace_json(&[&subject_path()], "unshare-fork", LIMIT);
    assert_eq!(t.code, Some(0), "stderr: {}", t.stderr);
    if t.stdout.starts_with("unshare refused") {
        skip(&format!("needs privilege: {}", t.stdout.trim()));
        return;
    }
    let pid: i64 = t.said("unshare-fork")[0].parse().unwrap();
    let calls = t.calls();
    assert_eq!(calls.len(), 1, "{:?}", t.records);
    println!("{}", calls[0]);
    assert_eq!(calls[0]["result"].as_i64(), Some(pid));
    assert_eq!(u64_of(&calls[0]["flags"]) & flag("CLONE_NEWPID"), 0);
    assert_eq!(
        calls[0]["new_task"]["new_namespaces"],
        serde_json::json!(["pid"])
    );
}

/// A traced program that uses ptrace itself (here: clonelab trace, nested)
/// is reported as unable to be traced, and nothing hangs.
#[test]
fn program_using_ptrace_is_reported_not_hung() {
    let bin = clonelab_binary();
    let subject = subject_path();
    let t = trace_json(
        &[&bin, "trace", "--", &subject],
        "exit",
        Duration::from_secs(120),
    );
    println!("{}", t.stderr);
    assert!(
        t.stderr
            .contains("cannot be traced: the command is already traced by pid"),
        "inner clonelab: {}",
        t.stderr
    );
    assert_eq!(t.code, Some(125), "the inner clonelab's status comes back");
    let refused: Vec<_> = t
        .records
        .iter()
        .filter(|r| r["event"] == "ptrace_refused")
        .collect();
    assert_eq!(refused.len(), 1, "records: {:?}", t.records);
    assert!(refused[0]["text"]
        .as_str()
        .unwrap()
        .contains("ptrace(PTRACE_SEIZE) -> EPERM"));
}

/// x86_64's own `fork` syscall (aarch64 has none) is traced as a fork: one
/// register (the number), no flags passed, the child's pid as result.
#[cfg(target_arch = "x86_64")]
#[test]
fn fork_syscall_is_traced_as_fork() {
    let t = trace_json(&[&subject_path()], "raw-fork", LIMIT);
    assert_eq!(t.code, Some(0), "stderr: {}", t.stderr);
    let pid: i64 = t.said("raw-fork")[0].parse().unwrap();
    let calls = t.calls();
    assert_eq!(calls.len(), 1, "{:?}", t.records);
    println!("{}", calls[0]);
    assert_eq!(calls[0]["syscall"], "fork");
    assert_eq!(
        u64_of(&calls[0]["nr"]),
        linux_raw_sys::general::__NR_fork as u64
    );
    assert_eq!(calls[0]["registers"].as_array().unwrap().len(), 1);
    assert_eq!(calls[0]["registers"][0]["name"], "rax");
    assert_eq!(calls[0]["result"].as_i64(), Some(pid));
    assert_eq!(calls[0]["new_task"]["kind"], "process");
}

/// 1,000 threads: every one of their clone3 calls is traced, with the very
/// tids the threads reported.
#[test]
fn thousand_threads_none_lost() {
    let t = trace_json(&[&subject_path()], "threads", LIMIT);
    assert_eq!(t.code, Some(0), "stderr: {}", t.stderr);
    let reported: Vec<i64> = t.said("threads")[0]
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(reported.len(), 1000);
    let calls = t.calls();
    let threads: Vec<i64> = calls
        .iter()
        .filter(|c| c["new_task"]["kind"] == "thread")
        .map(|c| c["result"].as_i64().unwrap())
        .collect();
    assert_eq!(calls.len(), 1000, "every traced call is one of the threads");
    let mut a = reported.clone();
    let mut b = threads.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "traced tids differ from the threads' own");
}

/// `/proc/<pid>/task/*/status` field `field` of each thread of `pid`.
fn task_status(pid: i32, field: &str) -> HashMap<i32, String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|dir| {
            dir.filter_map(|e| {
                let tid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
                let text =
                    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok()?;
                let v = text.lines().find_map(|l| l.strip_prefix(field))?;
                Some((tid, v.trim().to_string()))
            })
            .collect()
        })
        .unwrap_or_default()
}

/// Start `clonelab trace -- subject wait`, wait until the subject (two
/// threads) runs traced by it, send `signal` to clonelab only, and check that
/// every task of the subject ends up untraced and not stopped.
fn signal_clonelab(signal: i32) -> (std::process::Child, i32) {
    let mut child = Command::new(clonelab_binary())
        .args(["trace", "--", &subject_path()])
        .env(SUBJECT, "wait")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8];
    while out.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let line = String::from_utf8(line).unwrap();
    let pid: i32 = line.strip_prefix("waiting ").unwrap().parse().unwrap();
    let tracers = task_status(pid, "TracerPid:");
    assert!(
        tracers.len() >= 2,
        "the subject and its thread: {tracers:?}"
    );
    assert!(
        tracers.values().all(|t| *t == child.id().to_string()),
        "{tracers:?}"
    );
    clonelab::sys::kill(child.id() as i32, signal as u32).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let tracers = task_status(pid, "TracerPid:");
        if tracers.values().all(|t| t == "0") {
            break;
        }
        assert!(Instant::now() < deadline, "still traced: {tracers:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let states = task_status(pid, "State:");
    assert!(states.len() >= 2, "the subject ended: {states:?}");
    assert!(
        states
            .values()
            .all(|s| !s.starts_with('t') && !s.starts_with('T')),
        "a task is left stopped: {states:?}"
    );
    (child, pid)
}

/// SIGINT to clonelab detaches every task: the command runs on, neither
/// traced nor stopped, and its exit status still comes back through clonelab.
#[test]
fn sigint_detaches_and_the_command_runs_on() {
    let (mut child, _) = signal_clonelab(libc::SIGINT);
    drop(child.stdin.take()); // the subject exits 7 at EOF
    let code = child.wait().unwrap().code();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert!(err.contains("SIGINT: clonelab detached from"), "{err}");
    assert_eq!(code, Some(7), "{err}");
}

/// SIGKILL to clonelab: the kernel detaches the tasks, and the command runs
/// on, neither traced nor stopped, until it ends by itself.
#[test]
fn sigkill_of_clonelab_leaves_the_command_running() {
    let (mut child, pid) = signal_clonelab(libc::SIGKILL);
    assert_eq!(
        child.wait().unwrap().signal(),
        Some(libc::SIGKILL),
        "clonelab was killed"
    );
    drop(child.stdin.take()); // EOF: the subject, now an orphan, exits by itself
    let deadline = Instant::now() + Duration::from_secs(60);
    while task_status(pid, "State:")
        .values()
        .any(|s| !s.starts_with('Z'))
    {
        assert!(Instant::now() < deadline, "the subject did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

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
        let _ = clonelab::sys::write(2, shown.as_bytes());
    }
}

fn have(program: &str) -> bool {
    std::path::Path::new(program).exists()
}

/// A shell's `&` is one glibc fork: clone(CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD)
/// with a child_tid pointer. Skipped, visibly, where there is no /bin/sh (the test VMs).
#[test]
fn shell_background_job_is_glibc_fork() {
    if !have("/bin/sh") {
        skip("no /bin/sh here");
        return;
    }
    let t = trace_json(&["/bin/sh", "-c", "true & wait"], "", LIMIT);
    assert_eq!(t.code, Some(0), "{}", t.stderr);
    let forks: Vec<_> = t
        .calls()
        .into_iter()
        .filter(|c| {
            u64_of(&c["flags"]) == flag("CLONE_CHILD_SETTID") | flag("CLONE_CHILD_CLEARTID")
                && u64_of(&c["exit_signal"]) == libc::SIGCHLD as u64
        })
        .collect();
    assert_eq!(forks.len(), 1, "one glibc fork for `&`: {:?}", t.records);
    assert_ne!(clone_arg(forks[0], "child_tid"), 0, "ctid is passed");
    assert_eq!(clone_arg(forks[0], "tls"), 0);
}

/// A Python thread is one clone3 with CLONE_THREAD (glibc's pthread_create).
/// Skipped, visibly, where there is no python3 (the test VMs).
#[test]
fn python_thread_is_clone3_with_clone_thread() {
    if !have("/usr/bin/python3") {
        skip("no /usr/bin/python3 here");
        return;
    }
    let t = trace_json(
        &[
            "/usr/bin/python3",
            "-c",
            "import threading; t = threading.Thread(target=print); t.start(); t.join()",
        ],
        "",
        LIMIT,
    );
    assert_eq!(t.code, Some(0), "{}", t.stderr);
    let threads: Vec<_> = t
        .calls()
        .into_iter()
        .filter(|c| c["syscall"] == "clone3" && u64_of(&c["flags"]) & flag("CLONE_THREAD") != 0)
        .collect();
    assert_eq!(threads.len(), 1, "{:?}", t.records);
    assert_eq!(threads[0]["new_task"]["kind"], "thread");
    assert_ne!(u64_of(&threads[0]["clone_args"]["tls"]), 0);
}

/// util-linux's `unshare --fork --pid` forks into a new pid namespace without
/// CLONE_NEWPID in the call. Skipped, visibly, without util-linux (the test
/// VMs) or root.
#[test]
fn unshare_fork_pid_needs_no_clone_newpid() {
    if !have("/usr/bin/unshare") || clonelab::sys::geteuid() != 0 {
        skip("no /usr/bin/unshare here, or not root");
        return;
    }
    let t = trace_json(&["/usr/bin/unshare", "--fork", "--pid", "true"], "", LIMIT);
    assert_eq!(t.code, Some(0), "{}", t.stderr);
    let into_new_pid_ns = t.calls().into_iter().any(|c| {
        c["new_task"]["new_namespaces"] == serde_json::json!(["pid"])
            && u64_of(&c["flags"]) & flag("CLONE_NEWPID") == 0
    });
    assert!(into_new_pid_ns, "{:?}", t.records);
}
