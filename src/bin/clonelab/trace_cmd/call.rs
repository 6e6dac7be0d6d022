//! One clone-family call decoded: which syscall, the flags and exit signal
//! the kernel reads for it, the errno and the clone(2) rule behind it, the
//! registers with their roles (`clonelab::abi::RegisterImage`), the
//! `clone_args` fields and their struct version, the call in C, and the new
//! task it made ([`NewTask`]), described in words.
//!
//! Part of `trace_cmd/`; `capture.rs` fills a [`Call`], `text.rs` and
//! `json.rs` render it. Uses `clonelab::flags`, `clonelab::abi`,
//! `clonelab::arch` (register names, argument order), and
//! `linux-raw-sys` for syscall numbers and `CLONE_ARGS_SIZE_*`.

use clonelab::errno::Errno;
use clonelab::flags::{broken_rules, CloneFlags, ExitSignal, FlagsWord, Syscall};
use clonelab::trace::CloneStop;
use clonelab::{arch, CloneArgs, Pid};
use linux_raw_sys::general as k;
use std::fmt::Write as _;

/// Which of the four process-creating syscalls a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Clone,
    Clone3,
    /// x86_64 only: the kernel runs it as clone with SIGCHLD.
    Fork,
    /// x86_64 only: the kernel runs it as clone with CLONE_VM|CLONE_VFORK|SIGCHLD.
    Vfork,
}

impl Kind {
    pub(super) fn of(nr: u64) -> Option<Kind> {
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

    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Clone => "clone",
            Kind::Clone3 => "clone3",
            Kind::Fork => "fork",
            Kind::Vfork => "vfork",
        }
    }
}

/// One clone-family call, from entry to exit.
#[derive(Clone, Debug)]
pub(super) struct Call {
    /// Caller's process (tgid) and thread.
    pub(super) pid: Pid,
    pub(super) tid: Pid,
    pub(super) kind: Kind,
    /// Registers and arguments at entry, result at exit (clonelab's own record type).
    pub(super) stop: CloneStop,
    /// clone3: `size` (arg 2), and how many bytes of `clone_args` were read.
    pub(super) args_size: u64,
    pub(super) args_read: usize,
    pub(super) new_task: Option<NewTask>,
}

impl Call {
    /// Flags and exit signal as the kernel reads them for this call.
    pub(super) fn word(&self) -> (CloneFlags, u64) {
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

    pub(super) fn signal_text(signal: u64) -> String {
        match ExitSignal::new(signal as u32) {
            Ok(_) if signal == 0 => "0 (none)".to_string(),
            Ok(s) if signal <= 64 => s.to_string(),
            _ => format!("{signal} (out of range)"),
        }
    }

    pub(super) fn errno(&self) -> Option<Errno> {
        match self.stop.result {
            Some(r) if (-4095..0).contains(&r) => Some(Errno::from_raw((-r) as u16)),
            _ => None,
        }
    }

    /// The rule of clone(2) the flags break for this errno, if clonelab knows it.
    pub(super) fn rule(&self) -> Option<&'static str> {
        let errno = self.errno()?;
        let (flags, signal) = self.word();
        let syscall = match self.kind {
            Kind::Clone3 => Syscall::Clone3,
            _ => Syscall::Clone,
        };
        let word = FlagsWord::new(flags, ExitSignal::new(signal as u32).ok()?);
        broken_rules(word, syscall, clonelab::probe::kernel_version())
            .find(|r| r.errno == errno)
            .map(|r| r.text)
    }

    /// The registers with their roles, as `(name, value, meaning)`.
    pub(super) fn register_rows(&self) -> Vec<(&'static str, u64, String)> {
        match self.kind {
            Kind::Clone | Kind::Clone3 => {
                let image = clonelab::trace::observed_image(&self.stop);
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

    pub(super) fn c_call(&self) -> String {
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

/// The fields of `struct clone_args`, named, in their order in memory.
pub(super) fn clone_args_fields(a: &CloneArgs) -> [(&'static str, u64); 11] {
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
pub(super) fn args_version(size: u64) -> String {
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

/// The new task, as seen at the caller's PTRACE_EVENT_CLONE/FORK/VFORK stop
/// (the child has not run a user instruction yet: it starts in a ptrace stop).
#[derive(Clone, Debug)]
pub(super) struct NewTask {
    /// Its tid in clonelab's pid namespace (`PTRACE_GETEVENTMSG`).
    pub(super) tid: Pid,
    /// From `/proc/<tid>/status`.
    pub(super) tgid: Option<Pid>,
    pub(super) ppid: Option<Pid>,
    /// kcmp(caller, child, KCMP_VM) == 0.
    pub(super) shares_memory: Option<bool>,
    /// Namespaces (`/proc/<tid>/ns/*`) that differ from the caller's.
    pub(super) new_namespaces: Vec<&'static str>,
}

/// Namespaces whose `/proc/<tid>/ns/<name>` link can differ after a clone.
pub(super) const NAMESPACES: [(&str, CloneFlags); 8] = [
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("time", CloneFlags::CLONE_NEWTIME),
    ("user", CloneFlags::CLONE_NEWUSER),
    ("uts", CloneFlags::CLONE_NEWUTS),
];

/// The new task in words: thread or process, memory, namespaces.
pub(super) fn describe_new_task(call: &Call, new: &NewTask) -> String {
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

/// Which of clone's arguments is the flags word on this arch: the first,
/// except on s390x (CLONE_BACKWARDS2), where the stack comes first.
pub(super) fn clone_flags_index() -> usize {
    arch::CLONE_ARG_ORDER
        .iter()
        .position(|a| *a == "flags")
        .unwrap_or(0)
}
