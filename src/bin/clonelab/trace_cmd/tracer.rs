//! The tracer's loop: every stop and exit of every traced task, from
//! `wait4(-1, __WALL | WNOHANG)`. A syscall-entry stop of a clone-family call
//! opens a record, the clone event adds the new task, the syscall-exit stop
//! completes it and it is written out; group stops are kept with
//! PTRACE_LISTEN, signals are passed on. On SIGINT, SIGTERM or SIGHUP,
//! [`Tracer::detach_all`] lets every task go.
//!
//! Part of `trace_cmd/`; `launch.rs` drives it. Uses `clonelab::trace`
//! (syscall info), `clonelab::sys::wait4`, `clonelab::arch::AUDIT_ARCH`, and
//! std.

use super::call::{Call, Kind};
use super::capture::{begin_call, inspect_new_task, proc_status};
use super::json::render_json;
use super::ptrace::{event_message, ptrace, Request};
use super::text::{note, render_text, Out};
use clonelab::errno::Errno;
use clonelab::trace::syscall_info;
use clonelab::{arch, sys, Pid, WaitStatus};
use linux_raw_sys::general as k;
use linux_raw_sys::ptrace as p;
use std::collections::{HashMap, HashSet};

/// A traced task (thread or process) and what it is in the middle of.
#[derive(Default)]
pub(super) struct Task {
    /// Its process (read from /proc once: a task never changes thread group).
    pub(super) tgid: Option<Pid>,
    pub(super) call: Option<Call>,
    /// A `ptrace()` this task is making, by request.
    pub(super) ptrace_request: Option<u64>,
}

/// What [`Tracer::drain`] left behind.
pub(super) enum Drained {
    /// Every traced task is gone.
    AllGone,
    /// Nothing more is ready now.
    Waiting,
}

/// Every traced task, the command's status once it ends, and the count of calls.
pub(super) struct Tracer {
    pub(super) tasks: HashMap<Pid, Task>,
    pub(super) root: Pid,
    pub(super) root_status: Option<WaitStatus>,
    pub(super) calls: usize,
}

/// A stop as wait4 reports it: the signal and the ptrace event (status >> 16).
pub(super) fn split_stop(raw: i32) -> (u32, u32) {
    (((raw >> 8) & 0xff) as u32, ((raw >> 16) & 0xff) as u32)
}

/// The signals whose stop is a group stop (job control) for a seized task.
pub(super) fn is_group_stop_signal(signal: u32) -> bool {
    [k::SIGSTOP, k::SIGTSTP, k::SIGTTIN, k::SIGTTOU].contains(&signal)
}

impl Tracer {
    /// Handle every stop and exit that is ready, resuming each task.
    pub(super) fn drain(&mut self, out: &mut Out) -> Result<Drained, String> {
        loop {
            let (tid, raw) = match sys::wait4(-1, k::__WALL | k::WNOHANG) {
                Ok((0, _)) => return Ok(Drained::Waiting),
                Ok(found) => found,
                Err(Errno::ECHILD) => return Ok(Drained::AllGone),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(format!("wait4: {e}")),
            };
            self.handle(tid, raw, out);
        }
    }

    pub(super) fn handle(&mut self, tid: Pid, raw: i32, out: &mut Out) {
        let status = WaitStatus::from_wait4(raw);
        let WaitStatus::Stopped(signal) = status else {
            self.tasks.remove(&tid);
            if tid == self.root {
                self.root_status = Some(status);
            }
            if out.follow {
                note(out, "exit", tid, &format!("task {tid} {status}"));
            }
            return;
        };
        let (_, event) = split_stop(raw);
        self.tasks.entry(tid).or_default();
        let mut deliver = 0;
        let mut request = Request::Syscall;
        if signal == (k::SIGTRAP | 0x80) {
            self.syscall_stop(tid, out);
        } else if signal == k::SIGTRAP
            && [
                p::PTRACE_EVENT_CLONE,
                p::PTRACE_EVENT_FORK,
                p::PTRACE_EVENT_VFORK,
            ]
            .contains(&event)
        {
            if let Ok(new) = event_message(tid) {
                let new = new as Pid;
                self.tasks.entry(new).or_default();
                let inspected = inspect_new_task(tid, new);
                if let Some(call) = self.tasks.get_mut(&tid).and_then(|t| t.call.as_mut()) {
                    call.new_task = Some(inspected);
                }
            }
        } else if signal == k::SIGTRAP && event == p::PTRACE_EVENT_EXEC {
            // The exec'ing thread takes over the leader's tid; others are gone.
            if let Ok(former) = event_message(tid) {
                let former = former as Pid;
                if former != tid {
                    self.tasks.remove(&former);
                }
            }
            if out.follow {
                let exe = std::fs::read_link(format!("/proc/{tid}/exe"))
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                note(out, "exec", tid, &format!("task {tid} executes {exe}"));
            }
        } else if event == p::PTRACE_EVENT_STOP {
            if is_group_stop_signal(signal) {
                request = Request::Listen; // stay stopped as job control wants, but tell us
            }
        } else {
            deliver = signal as usize; // a signal for the tracee: pass it on
        }
        let _ = ptrace(request, tid, deliver);
    }

    pub(super) fn syscall_stop(&mut self, tid: Pid, out: &mut Out) {
        let Ok(info) = syscall_info(tid) else { return };
        let task = self.tasks.entry(tid).or_default();
        if info.op == p::PTRACE_SYSCALL_INFO_ENTRY as u8 {
            // SAFETY: op = ENTRY selects the `entry` member.
            let entry = unsafe { info.__bindgen_anon_1.entry };
            task.call = None;
            task.ptrace_request = None;
            // Only this arch's own ABI: a 32-bit (compat) task numbers its syscalls differently.
            let native = info.arch == arch::AUDIT_ARCH;
            if let Some(kind) = Kind::of(entry.nr).filter(|_| native) {
                let pid = *task
                    .tgid
                    .get_or_insert_with(|| proc_status(tid, "Tgid").unwrap_or(tid));
                task.call = begin_call(pid, tid, kind, &info).ok();
            } else if native && entry.nr == k::__NR_ptrace as u64 {
                task.ptrace_request = Some(entry.args[0]);
            }
        } else if info.op == p::PTRACE_SYSCALL_INFO_EXIT as u8 {
            // SAFETY: op = EXIT selects the `exit` member.
            let exit = unsafe { info.__bindgen_anon_1.exit };
            if let Some(mut call) = task.call.take() {
                call.stop.result = Some(exit.rval);
                self.calls += 1;
                let text = if out.json {
                    render_json(&call)
                } else {
                    render_text(&call)
                };
                out.line(&text);
            } else if let Some(request) = task.ptrace_request.take() {
                let own_tracing = [p::PTRACE_TRACEME, p::PTRACE_ATTACH, p::PTRACE_SEIZE]
                    .map(u64::from)
                    .contains(&request);
                if own_tracing && exit.rval < 0 {
                    let errno = Errno::from_raw((-exit.rval) as u16);
                    let name = if request == p::PTRACE_TRACEME as u64 {
                        "PTRACE_TRACEME"
                    } else if request == p::PTRACE_ATTACH as u64 {
                        "PTRACE_ATTACH"
                    } else {
                        "PTRACE_SEIZE"
                    };
                    let pid = proc_status(tid, "Tgid").unwrap_or(tid);
                    note(
                        out,
                        "ptrace_refused",
                        tid,
                        &format!(
                            "pid {pid} tid {tid}: ptrace({name}) -> {errno}: a program that uses ptrace itself cannot be traced by clonelab (a task has one tracer; clonelab is it), so its own tracing fails"
                        ),
                    );
                }
            }
        }
    }

    /// Let go of every task: PTRACE_INTERRUPT each, then PTRACE_DETACH each at
    /// its next stop (passing on a signal it was about to receive). Tasks born
    /// meanwhile are detached at their first stop. A task that reports nothing
    /// for two seconds (a zombie thread-group leader waiting for its threads)
    /// is left attached: clonelab's exit detaches it. Returns how many were detached.
    pub(super) fn detach_all(&mut self) -> usize {
        let mut remaining: HashSet<Pid> = self.tasks.keys().copied().collect();
        for &tid in &remaining {
            let _ = ptrace(Request::Interrupt, tid, 0);
        }
        let mut detached = 0;
        let mut quiet_since = std::time::Instant::now();
        while !remaining.is_empty() {
            let (tid, raw) = match sys::wait4(-1, k::__WALL | k::WNOHANG) {
                Ok((0, _)) if quiet_since.elapsed().as_secs() >= 2 => break,
                Ok((0, _)) | Err(Errno::EINTR) => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    continue;
                }
                Ok(found) => found,
                Err(_) => break,
            };
            quiet_since = std::time::Instant::now();
            let status = WaitStatus::from_wait4(raw);
            let WaitStatus::Stopped(signal) = status else {
                remaining.remove(&tid);
                if tid == self.root {
                    self.root_status = Some(status);
                }
                continue;
            };
            let (_, event) = split_stop(raw);
            if signal == k::SIGTRAP
                && [
                    p::PTRACE_EVENT_CLONE,
                    p::PTRACE_EVENT_FORK,
                    p::PTRACE_EVENT_VFORK,
                ]
                .contains(&event)
            {
                if let Ok(new) = event_message(tid) {
                    remaining.insert(new as Pid);
                }
            }
            let signal_stop = event == 0 && signal != (k::SIGTRAP | 0x80);
            let deliver = if signal_stop { signal as usize } else { 0 };
            if ptrace(Request::Detach, tid, deliver).is_ok() {
                detached += 1;
            }
            remaining.remove(&tid);
        }
        self.tasks.clear();
        detached
    }
}
