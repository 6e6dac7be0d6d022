//! `clonelab trace [--follow] [--json] [--output FILE] -- CMD ARGS...`: run a
//! command under ptrace and show every `clone`, `clone3`, `fork` and `vfork`
//! its whole process tree makes, at the register level. See
//! `docs/real-programs.md`.
//!
//! ```text
//! clonelab                                  CMD (a fork-like child of clonelab)
//!   block SIGCHLD, SIGINT, SIGTERM, SIGHUP;
//!   a signalfd reads them
//!   spawn ───────────────────────────────►  restore the signal mask
//!                                           kill(getpid(), SIGSTOP)
//!   wait4(WUNTRACED): stopped
//!   PTRACE_SEIZE (TRACESYSGOOD, TRACECLONE,
//!     TRACEFORK, TRACEVFORK, TRACEEXEC)
//!   SIGCONT ─────────────────────────────►  execve(CMD)
//!   loop: wait4(-1, __WALL | WNOHANG) until nothing is ready, then read the signalfd
//!     syscall-entry stop of clone/clone3/fork/vfork: registers, clone_args
//!     PTRACE_EVENT_CLONE/FORK/VFORK: the new tid; its tgid, kcmp(VM), namespaces
//!     syscall-exit stop: the result; one record is printed
//!     PTRACE_EVENT_STOP: a new task's first stop (resumed) or a group-stop (PTRACE_LISTEN)
//!     any other stop: a signal for the tracee, passed on
//!   SIGINT/SIGTERM/SIGHUP: PTRACE_INTERRUPT and PTRACE_DETACH every task,
//!   then wait for CMD, untraced
//! ```
//!
//! New tasks are attached by the kernel (seized tasks start with a
//! PTRACE_EVENT_STOP, not a SIGSTOP), so no call is missed between a clone
//! and the tracer noticing the child. Records are printed at the caller's
//! syscall exit, when the result is known.

use clonelab::abi::RegisterImage;
use clonelab::clone::zeroed_args;
use clonelab::errno::{decode, Errno};
use clonelab::flags::{broken_rules, signal_name, CloneFlags, ExitSignal, FlagsWord, Syscall};
use clonelab::sys::signal::{self, SigSet};
use clonelab::trace::{registers, syscall_info, CloneStop};
use clonelab::{arch, sys, CloneArgs, Pid, WaitStatus};
use linux_raw_sys::general as k;
use linux_raw_sys::ptrace as p;
use std::collections::{HashMap, HashSet};
use std::ffi::{c_char, CString};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::os::unix::fs::FileExt;

const USAGE: &str = "clonelab trace [--follow] [--json] [--output FILE] -- CMD ARGS...";

/// `clonelab trace --help`: how to read a record (docs/real-programs.md has examples).
const HELP: &str = "\
Runs CMD under ptrace, follows every thread and process it creates, and prints
one record per clone, clone3, fork or vfork (x86_64 only) of the whole tree:

  == pid P tid T: SYSCALL -> RESULT   the caller, the call, the new tid or errno
     C call     the call as C would make it: the raw syscall and its arguments
     flags      the flag bits and the exit signal (clone: one word, signal in
                the low byte; clone3: clone_args.flags and .exit_signal)
     clone_args clone3 only: every field read from the caller's memory, the
                size it passed and which struct version that size is
     registers  the registers at the syscall instruction, in this arch's names
     result     the new task's tid, or the errno and the clone(2) rule it broke
     new task   thread or process, memory shared or copied (kcmp), and the
                namespaces that differ from the caller's (/proc/TID/ns)

  --json         one JSON object per line instead
  --output FILE  records to FILE instead of stderr (CMD's output is untouched)
  --follow       also a line for each exec and each task's end

CMD's exit status becomes clonelab's (128 + signal if a signal killed it;
127: no such command; 125: clonelab failed, e.g. CMD cannot be traced).
SIGINT, SIGTERM or SIGHUP to clonelab detach it: CMD runs on, untraced.
See docs/real-programs.md.
";

/// What `clonelab trace` was asked to do.
#[derive(Debug, Default)]
pub struct Options {
    help: bool,
    follow: bool,
    json: bool,
    output: Option<String>,
    command: Vec<String>,
}

impl Options {
    /// Parse `[--follow] [--json] [--output FILE] [--] CMD ARGS...`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--help" | "-h" => {
                    o.help = true;
                    return Ok(o);
                }
                "--follow" => o.follow = true,
                "--json" => o.json = true,
                "--output" | "-o" => {
                    o.output = Some(it.next().ok_or("--output needs a file name")?.clone())
                }
                "--" => {
                    o.command = it.by_ref().cloned().collect();
                    break;
                }
                other if other.starts_with('-') => {
                    return Err(format!("unknown option {other}; usage: {USAGE}"))
                }
                _ => {
                    o.command = std::iter::once(arg).chain(it.by_ref()).cloned().collect();
                    break;
                }
            }
        }
        if o.command.is_empty() {
            return Err(format!("no command; usage: {USAGE}"));
        }
        Ok(o)
    }
}

/// The ptrace requests this tracer makes that pass no pointer to the kernel.
#[derive(Clone, Copy)]
enum Request {
    /// Resume until the next syscall stop, delivering `data` as a signal.
    Syscall,
    /// Leave a seized tracee in group-stop, but report when it ends.
    Listen,
    /// Stop a seized tracee (a PTRACE_EVENT_STOP follows).
    Interrupt,
    /// Let go of the tracee, delivering `data` as a signal.
    Detach,
    /// Attach to a task without stopping it; `data` holds the options.
    Seize,
}

/// `ptrace(request, tid, 0, data)` for requests that take no pointer.
fn ptrace(request: Request, tid: Pid, data: usize) -> Result<usize, Errno> {
    let request = match request {
        Request::Syscall => p::PTRACE_SYSCALL,
        Request::Listen => p::PTRACE_LISTEN,
        Request::Interrupt => p::PTRACE_INTERRUPT,
        Request::Detach => p::PTRACE_DETACH,
        Request::Seize => p::PTRACE_SEIZE,
    };
    // SAFETY: none of these requests reads or writes memory through addr or
    // data (data is a signal number or an options word).
    decode(unsafe { arch::syscall4(k::__NR_ptrace, request as usize, tid as usize, 0, data) })
}

/// `PTRACE_GETEVENTMSG`: the new tid after a clone event, the former tid after exec.
fn event_message(tid: Pid) -> Result<u64, Errno> {
    let mut message = 0u64;
    // SAFETY: the kernel writes one unsigned long at data, a valid local.
    decode(unsafe {
        arch::syscall4(
            k::__NR_ptrace,
            p::PTRACE_GETEVENTMSG as usize,
            tid as usize,
            0,
            &mut message as *mut u64 as usize,
        )
    })?;
    Ok(message)
}

/// Which of the four process-creating syscalls a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Clone,
    Clone3,
    /// x86_64 only: the kernel runs it as clone with SIGCHLD.
    Fork,
    /// x86_64 only: the kernel runs it as clone with CLONE_VM|CLONE_VFORK|SIGCHLD.
    Vfork,
}

impl Kind {
    fn of(nr: u64) -> Option<Kind> {
        match nr {
            n if n == k::__NR_clone as u64 => Some(Kind::Clone),
            n if n == k::__NR_clone3 as u64 => Some(Kind::Clone3),
            #[cfg(target_arch = "x86_64")]
            n if n == k::__NR_fork as u64 => Some(Kind::Fork),
            #[cfg(target_arch = "x86_64")]
            n if n == k::__NR_vfork as u64 => Some(Kind::Vfork),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Clone => "clone",
            Kind::Clone3 => "clone3",
            Kind::Fork => "fork",
            Kind::Vfork => "vfork",
        }
    }
}

/// The new task, as seen at the caller's PTRACE_EVENT_CLONE/FORK/VFORK stop
/// (the child has not run a user instruction yet: it starts in a ptrace stop).
#[derive(Clone, Debug)]
struct NewTask {
    /// Its tid in clonelab's pid namespace (`PTRACE_GETEVENTMSG`).
    tid: Pid,
    /// From `/proc/<tid>/status`.
    tgid: Option<Pid>,
    ppid: Option<Pid>,
    /// kcmp(caller, child, KCMP_VM) == 0.
    shares_memory: Option<bool>,
    /// Namespaces (`/proc/<tid>/ns/*`) that differ from the caller's.
    new_namespaces: Vec<&'static str>,
}

/// One clone-family call, from entry to exit.
#[derive(Clone, Debug)]
struct Call {
    /// Caller's process (tgid) and thread.
    pid: Pid,
    tid: Pid,
    kind: Kind,
    /// Registers and arguments at entry, result at exit (clonelab's own record type).
    stop: CloneStop,
    /// clone3: `size` (arg 2), and how many bytes of `clone_args` were read.
    args_size: u64,
    args_read: usize,
    new_task: Option<NewTask>,
}

/// A traced task (thread or process) and what it is in the middle of.
#[derive(Default)]
struct Task {
    /// Its process (read from /proc once: a task never changes thread group).
    tgid: Option<Pid>,
    call: Option<Call>,
    /// A `ptrace()` this task is making, by request.
    ptrace_request: Option<u64>,
}

/// Where the records go.
struct Out {
    sink: Box<dyn Write>,
    json: bool,
    follow: bool,
}

impl Out {
    fn line(&mut self, text: &str) {
        let _ = self.sink.write_all(text.as_bytes());
        let _ = self.sink.flush();
    }
}

fn proc_status(tid: Pid, field: &str) -> Option<Pid> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

/// Namespaces whose `/proc/<tid>/ns/<name>` link can differ after a clone.
const NAMESPACES: [(&str, CloneFlags); 8] = [
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("time", CloneFlags::CLONE_NEWTIME),
    ("user", CloneFlags::CLONE_NEWUSER),
    ("uts", CloneFlags::CLONE_NEWUTS),
];

fn inspect_new_task(caller: Pid, tid: Pid) -> NewTask {
    let ns = |t: Pid, name: &str| std::fs::read_link(format!("/proc/{t}/ns/{name}")).ok();
    NewTask {
        tid,
        tgid: proc_status(tid, "Tgid"),
        ppid: proc_status(tid, "PPid"),
        shares_memory: sys::kcmp(caller, tid, sys::Kcmp::Vm).ok().map(|d| d == 0),
        new_namespaces: NAMESPACES
            .iter()
            .filter(|(name, _)| {
                matches!((ns(caller, name), ns(tid, name)), (Some(a), Some(b)) if a != b)
            })
            .map(|(name, _)| *name)
            .collect(),
    }
}

/// Read the `clone_args` a clone3 caller passed: `size` bytes at `address`
/// (at most what this kernel header knows). Returns the struct (fields the
/// caller did not pass stay zero) and the bytes read.
fn read_clone_args(tid: Pid, address: u64, size: u64) -> (Option<CloneArgs>, usize) {
    let want = (size as usize).min(std::mem::size_of::<CloneArgs>()) / 8 * 8;
    let mut bytes = vec![0u8; std::mem::size_of::<CloneArgs>()];
    let read = std::fs::File::open(format!("/proc/{tid}/mem"))
        .and_then(|mem| mem.read_exact_at(&mut bytes[..want], address));
    if read.is_err() {
        return (None, 0);
    }
    let mut args = zeroed_args();
    let words: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|c| u64::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    let fields: [&mut u64; 11] = [
        &mut args.flags,
        &mut args.pidfd,
        &mut args.child_tid,
        &mut args.parent_tid,
        &mut args.exit_signal,
        &mut args.stack,
        &mut args.stack_size,
        &mut args.tls,
        &mut args.set_tid,
        &mut args.set_tid_size,
        &mut args.cgroup,
    ];
    for (field, word) in fields.into_iter().zip(words) {
        *field = word;
    }
    (Some(args), want)
}

fn begin_call(
    pid: Pid,
    tid: Pid,
    kind: Kind,
    info: &p::ptrace_syscall_info,
) -> Result<Call, Errno> {
    // SAFETY: the caller checked op = ENTRY, which selects the `entry` member.
    let entry = unsafe { info.__bindgen_anon_1.entry };
    let regs = registers(tid)?;
    let (register_nr, regs6) = arch::syscall_registers(&regs);
    let (clone_args, args_read) = if kind == Kind::Clone3 {
        read_clone_args(tid, entry.args[0], entry.args[1])
    } else {
        (None, 0)
    };
    Ok(Call {
        pid,
        tid,
        kind,
        stop: CloneStop {
            arch: info.arch,
            nr: entry.nr,
            args: entry.args,
            instruction_pointer: info.instruction_pointer,
            stack_pointer: info.stack_pointer,
            register_nr,
            registers: regs6,
            clone_args,
            result: None,
        },
        args_size: entry.args[1],
        args_read,
        new_task: None,
    })
}

/// Which of clone's arguments is the flags word on this arch: the first,
/// except on s390x (CLONE_BACKWARDS2), where the stack comes first.
fn clone_flags_index() -> usize {
    arch::CLONE_ARG_ORDER
        .iter()
        .position(|a| *a == "flags")
        .unwrap_or(0)
}

impl Call {
    /// Flags and exit signal as the kernel reads them for this call.
    fn word(&self) -> (CloneFlags, u64) {
        match self.kind {
            Kind::Clone => {
                let word = self.stop.args[clone_flags_index()];
                (
                    CloneFlags::from_bits_retain(word & !0xff),
                    word & clonelab::flags::CSIGNAL,
                )
            }
            Kind::Clone3 => self
                .stop
                .clone_args
                .map(|a| (CloneFlags::from_bits_retain(a.flags), a.exit_signal))
                .unwrap_or((CloneFlags::EMPTY, 0)),
            // kernel/fork.c: sys_fork passes only .exit_signal = SIGCHLD; sys_vfork
            // adds .flags = CLONE_VFORK | CLONE_VM.
            Kind::Fork => (CloneFlags::EMPTY, k::SIGCHLD as u64),
            Kind::Vfork => (
                CloneFlags::CLONE_VM | CloneFlags::CLONE_VFORK,
                k::SIGCHLD as u64,
            ),
        }
    }

    fn signal_text(signal: u64) -> String {
        match ExitSignal::new(signal as u32) {
            Ok(_) if signal == 0 => "0 (none)".to_string(),
            Ok(s) if signal <= 64 => s.to_string(),
            _ => format!("{signal} (out of range)"),
        }
    }

    fn errno(&self) -> Option<Errno> {
        match self.stop.result {
            Some(r) if (-4095..0).contains(&r) => Some(Errno::from_raw((-r) as u16)),
            _ => None,
        }
    }

    /// The rule of clone(2) the flags break for this errno, if clonelab knows it.
    fn rule(&self) -> Option<&'static str> {
        let errno = self.errno()?;
        let (flags, signal) = self.word();
        let syscall = match self.kind {
            Kind::Clone3 => Syscall::Clone3,
            _ => Syscall::Clone,
        };
        let word = FlagsWord::new(flags, ExitSignal::new(signal as u32).ok()?);
        broken_rules(word, syscall)
            .find(|r| r.errno == errno)
            .map(|r| r.text)
    }

    /// The registers with their roles, as `(name, value, meaning)`.
    fn register_rows(&self) -> Vec<(&'static str, u64, String)> {
        match self.kind {
            Kind::Clone | Kind::Clone3 => {
                let image = RegisterImage::observed(&self.stop);
                let text = image.to_string();
                image
                    .registers()
                    .iter()
                    .zip(text.lines())
                    .map(|(r, line)| {
                        // Each Display line is "  name value  meaning".
                        let value = format!("{:#018x}", r.value);
                        let meaning = line.split_once(&value).map_or("", |(_, m)| m.trim());
                        (r.name, r.value, meaning.to_string())
                    })
                    .collect()
            }
            Kind::Fork | Kind::Vfork => vec![(
                arch::NR_REGISTER,
                self.stop.register_nr,
                format!(
                    "syscall number: {} ({}); no arguments",
                    self.kind.name(),
                    self.stop.register_nr
                ),
            )],
        }
    }

    fn c_call(&self) -> String {
        let (flags, signal) = self.word();
        match self.kind {
            Kind::Fork | Kind::Vfork => format!("{}()", self.kind.name()),
            Kind::Clone => {
                let word = FlagsWord::new(
                    flags,
                    ExitSignal::new(signal as u32).unwrap_or(ExitSignal::NONE),
                );
                let mut s = format!("syscall(SYS_clone, {word}");
                // Every argument but the flags word (first everywhere but s390x).
                let others = arch::CLONE_ARG_ORDER.iter().zip(self.stop.args);
                for (name, value) in others.filter(|(name, _)| **name != "flags") {
                    let _ = write!(s, ", {name} = {value:#x}");
                }
                s + ")"
            }
            Kind::Clone3 => match self.stop.clone_args {
                Some(a) => {
                    let mut s = format!(
                        "syscall(SYS_clone3, &(struct clone_args){{ .flags = {flags}, .exit_signal = {}",
                        Self::signal_text(signal)
                    );
                    for (name, value) in clone_args_fields(&a).into_iter().skip(1) {
                        if value != 0 && name != "exit_signal" {
                            let _ = write!(s, ", .{name} = {value:#x}");
                        }
                    }
                    s + &format!(" }}, {})", self.args_size)
                }
                None => format!(
                    "syscall(SYS_clone3, {:#x}, {}) (clone_args unreadable)",
                    self.stop.args[0], self.args_size
                ),
            },
        }
    }
}

fn clone_args_fields(a: &CloneArgs) -> [(&'static str, u64); 11] {
    [
        ("flags", a.flags),
        ("pidfd", a.pidfd),
        ("child_tid", a.child_tid),
        ("parent_tid", a.parent_tid),
        ("exit_signal", a.exit_signal),
        ("stack", a.stack),
        ("stack_size", a.stack_size),
        ("tls", a.tls),
        ("set_tid", a.set_tid),
        ("set_tid_size", a.set_tid_size),
        ("cgroup", a.cgroup),
    ]
}

/// Which `struct clone_args` version a size is (include/uapi/linux/sched.h).
fn args_version(size: u64) -> String {
    match size {
        s if s == k::CLONE_ARGS_SIZE_VER0 as u64 => "CLONE_ARGS_SIZE_VER0: flags..tls".into(),
        s if s == k::CLONE_ARGS_SIZE_VER1 as u64 => {
            "CLONE_ARGS_SIZE_VER1: adds set_tid, set_tid_size".into()
        }
        s if s == k::CLONE_ARGS_SIZE_VER2 as u64 => "CLONE_ARGS_SIZE_VER2: adds cgroup".into(),
        s if s < k::CLONE_ARGS_SIZE_VER0 as u64 => {
            "smaller than CLONE_ARGS_SIZE_VER0: the kernel answers EINVAL".into()
        }
        _ => "no version this header knows: bytes past it must be zero".into(),
    }
}

fn describe_new_task(call: &Call, new: &NewTask) -> String {
    let (flags, _) = call.word();
    let kind = match new.tgid {
        Some(t) if t == call.pid => format!("a thread of process {t}"),
        Some(t) => format!(
            "a process (tgid {t}, parent {})",
            new.ppid.map_or("?".into(), |p| p.to_string())
        ),
        None => "gone before it could be inspected".into(),
    };
    let memory = match new.shares_memory {
        Some(true) => "memory shared with the caller",
        Some(false) => "memory copied (not shared)",
        None => "memory: unknown",
    };
    let ns = if new.new_namespaces.is_empty() {
        "same namespaces".to_string()
    } else {
        let list: Vec<String> = new
            .new_namespaces
            .iter()
            .map(|name| {
                let flag = NAMESPACES.iter().find(|(n, _)| n == name).map(|(_, f)| *f);
                match flag {
                    Some(f) if flags.contains(f) => format!("{name} ({f})"),
                    _ => format!("{name} (the caller's {name}_for_children, from an earlier unshare or setns)"),
                }
            })
            .collect();
        format!("new namespaces: {}", list.join(", "))
    };
    format!("{kind}, {memory}, {ns}")
}

fn render_text(call: &Call) -> String {
    let (flags, signal) = call.word();
    let mut s = String::new();
    let result = match (call.stop.result, call.errno()) {
        (_, Some(e)) => format!("-> {e}"),
        (Some(r), None) => format!("-> {r}"),
        (None, _) => "-> (no result: the caller never returned)".into(),
    };
    let _ = writeln!(
        s,
        "== pid {} tid {}: {} {result}",
        call.pid,
        call.tid,
        call.kind.name()
    );
    let _ = writeln!(s, "   C call     {}", call.c_call());
    match call.kind {
        Kind::Clone => {
            let word = call.stop.args[clone_flags_index()];
            let _ = writeln!(
                s,
                "   flags      {word:#010x} = bits 8+: {:#x} = {flags} | low byte: {:#04x} = exit signal {}",
                flags.bits(),
                signal,
                Call::signal_text(signal)
            );
        }
        Kind::Clone3 => {
            let _ = writeln!(
                s,
                "   flags      clone_args.flags {:#x} = {flags}; clone_args.exit_signal = {}",
                flags.bits(),
                Call::signal_text(signal)
            );
            let _ = writeln!(
                s,
                "   clone_args size {} ({}), read from the tracee at {:#x}:",
                call.args_size,
                args_version(call.args_size),
                call.stop.args[0]
            );
            if let Some(a) = call.stop.clone_args {
                for (i, (name, value)) in clone_args_fields(&a).into_iter().enumerate() {
                    if i * 8 < call.args_read && name == "exit_signal" {
                        let _ = writeln!(s, "     {name:<12} {}", Call::signal_text(value));
                    } else if i * 8 < call.args_read {
                        let _ = writeln!(s, "     {name:<12} {value:#x}");
                    } else {
                        let _ =
                            writeln!(s, "     {name:<12} (not passed: size {})", call.args_size);
                    }
                }
            }
        }
        Kind::Fork | Kind::Vfork => {
            let _ = writeln!(
                s,
                "   flags      none passed; the kernel runs {}() as clone with {} and exit signal {}",
                call.kind.name(),
                if flags.bits() == 0 {
                    "no flags".to_string()
                } else {
                    flags.to_string()
                },
                Call::signal_text(signal)
            );
        }
    }
    let _ = writeln!(
        s,
        "   registers ({}), observed at syscall entry:",
        arch::NAME
    );
    for (name, value, meaning) in call.register_rows() {
        let _ = writeln!(s, "     {name:<4} {value:#018x}  {meaning}");
    }
    match (call.stop.result, call.errno()) {
        (_, Some(e)) => {
            let rule = call.rule().map_or(
                "(no clone(2) rule clonelab knows explains it)".into(),
                |r| format!("rule broken: {r}"),
            );
            let _ = writeln!(s, "   result     {e}: {rule}");
        }
        (Some(r), None) => {
            let _ = writeln!(
                s,
                "   result     {r}: the new task's tid, as the caller sees it"
            );
        }
        (None, None) => {}
    }
    if let Some(new) = &call.new_task {
        let _ = writeln!(
            s,
            "   new task   {}: {}",
            new.tid,
            describe_new_task(call, new)
        );
    }
    s
}

fn json_string(text: &str) -> String {
    let mut s = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s + "\""
}

fn render_json(call: &Call) -> String {
    let (flags, signal) = call.word();
    let mut s = format!(
        "{{\"event\":\"clone\",\"pid\":{},\"tid\":{},\"syscall\":\"{}\",\"nr\":{},\"arch\":\"{}\",\"c_call\":{},\"flags\":{},\"flag_names\":{},\"exit_signal\":{}",
        call.pid,
        call.tid,
        call.kind.name(),
        call.stop.nr,
        arch::NAME,
        json_string(&call.c_call()),
        flags.bits(),
        json_string(&flags.to_string()),
        signal
    );
    match call.stop.clone_args {
        Some(a) if call.kind == Kind::Clone3 => {
            let _ = write!(
                s,
                ",\"clone_args\":{{\"address\":{},\"size\":{},\"version\":{}",
                call.stop.args[0],
                call.args_size,
                json_string(&args_version(call.args_size))
            );
            for (i, (name, value)) in clone_args_fields(&a).into_iter().enumerate() {
                if i * 8 < call.args_read {
                    let _ = write!(s, ",\"{name}\":{value}");
                }
            }
            s.push('}');
        }
        _ => s.push_str(",\"clone_args\":null"),
    }
    let args: Vec<String> = call.stop.args.iter().map(u64::to_string).collect();
    let _ = write!(s, ",\"args\":[{}]", args.join(","));
    s.push_str(",\"registers\":[");
    for (i, (name, value, meaning)) in call.register_rows().into_iter().enumerate() {
        let _ = write!(
            s,
            "{}{{\"name\":\"{name}\",\"value\":{value},\"meaning\":{}}}",
            if i > 0 { "," } else { "" },
            json_string(&meaning)
        );
    }
    s.push(']');
    match call.stop.result {
        Some(r) => {
            let _ = write!(s, ",\"result\":{r}");
        }
        None => s.push_str(",\"result\":null"),
    }
    match call.errno() {
        Some(e) => {
            let _ = write!(
                s,
                ",\"errno\":{},\"rule\":{}",
                json_string(&format!("{e:?}")),
                call.rule().map_or("null".into(), json_string)
            );
        }
        None => s.push_str(",\"errno\":null,\"rule\":null"),
    }
    match &call.new_task {
        Some(n) => {
            let thread = n.tgid == Some(call.pid);
            let names: Vec<String> = n.new_namespaces.iter().map(|n| json_string(n)).collect();
            let _ = write!(
                s,
                ",\"new_task\":{{\"tid\":{},\"tgid\":{},\"ppid\":{},\"kind\":\"{}\",\"shares_memory\":{},\"new_namespaces\":[{}],\"description\":{}}}",
                n.tid,
                n.tgid.map_or("null".into(), |t| t.to_string()),
                n.ppid.map_or("null".into(), |t| t.to_string()),
                if thread { "thread" } else { "process" },
                n.shares_memory.map_or("null".into(), |b| b.to_string()),
                names.join(","),
                json_string(&describe_new_task(call, n))
            );
        }
        None => s.push_str(",\"new_task\":null"),
    }
    s + "}\n"
}

/// A note about something other than a clone call (exec, exit, refused ptrace).
fn note(out: &mut Out, event: &str, tid: Pid, text: &str) {
    if out.json {
        out.line(&format!(
            "{{\"event\":\"{event}\",\"tid\":{tid},\"text\":{}}}\n",
            json_string(text)
        ));
    } else {
        out.line(&format!("-- {text}\n"));
    }
}

fn signal_text(signal: u32) -> String {
    signal_name(signal).map_or(format!("signal {signal}"), str::to_string)
}

/// Why PTRACE_SEIZE was refused, in the words of the cause.
fn seize_refusal(pid: Pid, errno: Errno) -> String {
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
fn resolve(name: &str) -> Option<String> {
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

/// `clonelab trace ...`: returns the exit code for clonelab.
pub fn main(args: &[String]) -> i32 {
    let options = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("clonelab trace: {e}");
            return 2;
        }
    };
    if options.help {
        print!("usage: {USAGE}\n\n{HELP}");
        return 0;
    }
    match run(&options) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("clonelab trace: {e}");
            125
        }
    }
}

fn run(options: &Options) -> Result<i32, String> {
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
    let set = SigSet::of(&[k::SIGCHLD, k::SIGINT, k::SIGTERM, k::SIGHUP]);
    let original_mask =
        signal::sigprocmask(k::SIG_BLOCK, Some(set)).map_err(|e| format!("sigprocmask: {e}"))?;
    let fd = sys::signalfd(set).map_err(|e| format!("signalfd: {e}"))?;
    // SAFETY: fd is the fresh signalfd, owned by nobody else.
    let mut signals = unsafe { std::fs::File::from_raw_fd(fd) };

    let child = clonelab::spawn(
        FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD),
        || {
            let _ = signal::sigprocmask(k::SIG_SETMASK, Some(original_mask));
            // Wait, stopped, until clonelab has seized us.
            let _ = sys::kill(sys::getpid(), k::SIGSTOP);
            // SAFETY: NULL-terminated argv and envp built above.
            let errno = unsafe { sys::execve(&program_c, argv.as_ptr(), envp.as_ptr()) };
            let _ = sys::write(
                2,
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
    drop(child); // closes only its pidfd; the process stays ours to reap

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
        let _ = sys::kill(root, k::SIGKILL);
        let _ = sys::wait4(root, k::__WALL);
        unblock();
        eprintln!(
            "clonelab trace: {} cannot be traced: {why}",
            options.command[0]
        );
        return Ok(125);
    }
    let _ = sys::kill(root, k::SIGCONT);

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

enum Drained {
    /// Every traced task is gone.
    AllGone,
    /// Nothing more is ready now.
    Waiting,
}

struct Tracer {
    tasks: HashMap<Pid, Task>,
    root: Pid,
    root_status: Option<WaitStatus>,
    calls: usize,
}

/// A stop as wait4 reports it: the signal and the ptrace event (status >> 16).
fn split_stop(raw: i32) -> (u32, u32) {
    (((raw >> 8) & 0xff) as u32, ((raw >> 16) & 0xff) as u32)
}

fn is_group_stop_signal(signal: u32) -> bool {
    [k::SIGSTOP, k::SIGTSTP, k::SIGTTIN, k::SIGTTOU].contains(&signal)
}

impl Tracer {
    /// Handle every stop and exit that is ready, resuming each task.
    fn drain(&mut self, out: &mut Out) -> Result<Drained, String> {
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

    fn handle(&mut self, tid: Pid, raw: i32, out: &mut Out) {
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

    fn syscall_stop(&mut self, tid: Pid, out: &mut Out) {
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
    fn detach_all(&mut self) -> usize {
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
