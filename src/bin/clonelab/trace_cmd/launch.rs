//! The run of `clonelab trace`: start CMD as a fork-like child that stops
//! itself, seize it with the trace options, resume it into its `execve`, run
//! the tracer's loop until every task is gone (or a signal says detach), and
//! turn CMD's status into clonelab's exit code. Also: why a seize was
//! refused, and the PATH lookup.
//!
//! Part of `trace_cmd/`; `mod.rs` calls [`run`]. Uses `clonelab::spawn`,
//! `clonelab::sys` (signals, wait4, kill, execve), and std.

use super::capture::proc_status;
use super::options::Options;
use super::ptrace::{ptrace, Request};
use super::text::{note, signal_text, Out};
use super::tracer::{Drained, Task, Tracer};
use clonelab::errno::Errno;
use clonelab::flags::{CloneFlags, ExitSignal, FlagsWord};
use clonelab::sys::signal::{self, SigSet};
use clonelab::{sys, Pid, WaitStatus};
use linux_raw_sys::general as k;
use linux_raw_sys::ptrace as p;
use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::io::{Read, Write};
use std::os::fd::FromRawFd;

/// Trace `options.command` to its end; its exit status as clonelab's.
pub(super) fn run(options: &Options) -> Result<i32, String> {
    let Some(program) = resolve(&options.command[0]) else {
        eprintln!("clonelab trace: {}: command not found", options.command[0]);
        return Ok(127);
    };
    let sink: Box<dyn Write> = match &options.output {
        Some(path) => {
            Box::new(std::fs::File::create(path).map_err(|e| format!("cannot write {path}: {e}"))?)
        }
        None => Box::new(std::io::stderr()),
    };
    let mut out = Out {
        sink,
        json: options.json,
        follow: options.follow,
    };

    let cstr = |s: &str| CString::new(s).map_err(|_| format!("{s:?} contains a NUL byte"));
    let program_c = cstr(&program)?;
    let argv_c = options
        .command
        .iter()
        .map(|a| cstr(a))
        .collect::<Result<Vec<_>, _>>()?;
    let mut argv: Vec<*const c_char> = argv_c.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let env_c: Vec<CString> = std::env::vars_os()
        .filter_map(|(key, value)| {
            use std::os::unix::ffi::OsStrExt;
            let mut entry = key.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(value.as_bytes());
            CString::new(entry).ok()
        })
        .collect();
    let mut envp: Vec<*const c_char> = env_c.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());

    // Signals are blocked before CMD exists, so none is lost; CMD gets the original mask.
    let set = SigSet::of(&[
        clonelab::Signal::SIGCHLD,
        clonelab::Signal::SIGINT,
        clonelab::Signal::SIGTERM,
        clonelab::Signal::SIGHUP,
    ]);
    let original_mask =
        signal::sigprocmask(k::SIG_BLOCK, Some(set)).map_err(|e| format!("sigprocmask: {e}"))?;
    let fd = sys::signalfd(set).map_err(|e| format!("signalfd: {e}"))?;
    // SAFETY: fd is the fresh signalfd, owned by nobody else.
    let mut signals = unsafe { std::fs::File::from_raw_fd(fd.into_raw()) };

    let child = clonelab::spawn(
        FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD),
        || {
            let _ = signal::sigprocmask(k::SIG_SETMASK, Some(original_mask));
            // Wait, stopped, until clonelab has seized us.
            let _ = sys::kill(sys::getpid(), clonelab::Signal::SIGSTOP);
            // SAFETY: NULL-terminated argv and envp built above.
            let errno = unsafe { sys::execve(&program_c, argv.as_ptr(), envp.as_ptr()) };
            let _ = sys::write(
                clonelab::BorrowedFd::STDERR,
                format!("clonelab trace: cannot execute {program}: {errno}\n").as_bytes(),
            );
            if errno == Errno::ENOENT {
                127
            } else {
                126
            }
        },
    )
    .map_err(|e| format!("cannot start the command: {e}"))?;
    let root = child.pid();
    drop(child); // does nothing to the process (no pidfd here): it stays ours to reap

    let unblock = || {
        let _ = signal::sigprocmask(k::SIG_SETMASK, Some(original_mask));
    };
    let (_, raw) = sys::wait4(root, k::WUNTRACED | k::__WALL).map_err(|e| format!("wait4: {e}"))?;
    match WaitStatus::from_wait4(raw) {
        WaitStatus::Stopped(_) => {}
        other => {
            unblock();
            return Err(format!(
                "the command ended before it could be traced: {other}"
            ));
        }
    }
    let seize_options = p::PTRACE_O_TRACESYSGOOD
        | p::PTRACE_O_TRACECLONE
        | p::PTRACE_O_TRACEFORK
        | p::PTRACE_O_TRACEVFORK
        | p::PTRACE_O_TRACEEXEC;
    if let Err(errno) = ptrace(Request::Seize, root, seize_options as usize) {
        let why = seize_refusal(root, errno);
        let _ = sys::kill(root, clonelab::Signal::SIGKILL);
        let _ = sys::wait4(root, k::__WALL);
        unblock();
        eprintln!(
            "clonelab trace: {} cannot be traced: {why}",
            options.command[0]
        );
        return Ok(125);
    }
    let _ = sys::kill(root, clonelab::Signal::SIGCONT);

    let mut tracer = Tracer {
        tasks: HashMap::from([(root, Task::default())]),
        root,
        root_status: None,
        calls: 0,
    };
    loop {
        match tracer.drain(&mut out)? {
            Drained::AllGone => break,
            Drained::Waiting => {}
        }
        let mut info = [0u8; 128];
        signals
            .read_exact(&mut info)
            .map_err(|e| format!("signalfd: {e}"))?;
        let signo = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
        if signo != k::SIGCHLD {
            let detached = tracer.detach_all();
            note(
                &mut out,
                "detach",
                root,
                &format!(
                    "{}: clonelab detached from {detached} tasks; the command (pid {root}) runs on untraced and clonelab waits for it",
                    signal_text(signo)
                ),
            );
            unblock();
            if tracer.root_status.is_none() {
                let (_, raw) = sys::wait4(root, k::__WALL).map_err(|e| format!("wait4: {e}"))?;
                tracer.root_status = Some(WaitStatus::from_wait4(raw));
            }
            break;
        }
    }
    unblock();
    let status = tracer.root_status.ok_or("the command's status was lost")?;
    if !out.json {
        out.line(&format!(
            "-- {} clone-family calls traced; the command (pid {root}) {status}\n",
            tracer.calls
        ));
    }
    Ok(match status {
        WaitStatus::Exited(code) => code,
        WaitStatus::Signaled {
            signal,
            core_dumped,
        } => {
            eprintln!(
                "clonelab trace: {} (pid {root}) was killed by {}{}",
                options.command[0],
                signal_text(signal),
                if core_dumped { " (core dumped)" } else { "" }
            );
            128 + signal as i32
        }
        _ => 1,
    })
}

/// Why PTRACE_SEIZE was refused, in the words of the cause.
pub(super) fn seize_refusal(pid: Pid, errno: Errno) -> String {
    if let Some(tracer) = proc_status(pid, "TracerPid").filter(|&t| t != 0) {
        let name = std::fs::read_to_string(format!("/proc/{tracer}/comm")).unwrap_or_default();
        return format!(
            "the command is already traced by pid {tracer} ({}): a task has one tracer at a time ({errno})",
            name.trim()
        );
    }
    let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    match scope {
        Some(3) => {
            return format!(
                "Yama's kernel.yama.ptrace_scope is 3: no process may use ptrace ({errno})"
            )
        }
        Some(2) => {
            return format!(
                "Yama's kernel.yama.ptrace_scope is 2: only CAP_SYS_PTRACE may use ptrace ({errno})"
            )
        }
        _ => {}
    }
    if proc_status(sys::getpid(), "Seccomp").is_some_and(|m| m != 0) {
        return format!("clonelab runs under a seccomp filter that refuses ptrace ({errno})");
    }
    format!("PTRACE_SEIZE was refused: {errno}")
}

/// PATH lookup, as a shell does it.
pub(super) fn resolve(name: &str) -> Option<String> {
    if name.contains('/') {
        return std::path::Path::new(name)
            .exists()
            .then(|| name.to_string());
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    path.split(':')
        .map(|dir| format!("{dir}/{name}"))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
}
