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
//!
//! The files: `subject.rs` (the traced program), `run.rs` (running
//! `clonelab trace` on it and reading its records), this file (the calls
//! the trace shows), `text.rs` (the text view), `detach.rs` (signals to
//! clonelab) and `host_programs.rs` (a shell, Python and unshare, on the host).

use crate::common;
mod detach;
mod host_programs;
mod run;
pub mod subject;
mod text;

use common::{clonelab_binary, skip};
use run::{clone_arg, flag, subject_path, trace_json, u64_of, LIMIT};
use std::time::Duration;

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
    // What the flags register held: CLONE_THREAD and exit signal 0.
    // (the register after the number; on s390x the one after the stack).
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
