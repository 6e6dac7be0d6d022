//! What `clonelab trace` reads from a tracee while it is stopped: at a
//! clone-family syscall entry, the registers and (for clone3) the
//! `clone_args` in its memory; at the clone event, the new task's thread
//! group, parent, memory (kcmp) and namespaces from /proc.
//!
//! Part of `trace_cmd/`; `tracer.rs` calls it, `call.rs` decodes what it
//! read. Uses `clonelab::trace::registers`, `clonelab::arch`,
//! `clonelab::sys::kcmp`, and std's file access to /proc.

use super::call::{Call, Kind, NewTask, NAMESPACES};
use clonelab::clone::zeroed_args;
use clonelab::errno::Errno;
use clonelab::trace::{registers, CloneStop};
use clonelab::{arch, sys, CloneArgs, Pid};
use linux_raw_sys::ptrace as p;
use std::os::unix::fs::FileExt;

/// A numeric field (`Tgid`, `PPid`, `TracerPid`, ...) of `/proc/<tid>/status`.
pub(super) fn proc_status(tid: Pid, field: &str) -> Option<Pid> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

/// What /proc and kcmp say about the new task `tid`, made by `caller`.
pub(super) fn inspect_new_task(caller: Pid, tid: Pid) -> NewTask {
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
pub(super) fn read_clone_args(tid: Pid, address: u64, size: u64) -> (Option<CloneArgs>, usize) {
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

/// Open the record of a clone-family call at its syscall-entry stop.
pub(super) fn begin_call(
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
