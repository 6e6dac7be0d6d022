//! The ptrace requests `clonelab trace` makes itself: resume, listen,
//! interrupt, detach, seize (none of them passes a pointer), and
//! `PTRACE_GETEVENTMSG`. The two it needs that read registers and syscall
//! information come from `clonelab::trace`.
//!
//! Part of `trace_cmd/`; used by `launch.rs` and `tracer.rs`. Issues the
//! syscall through `clonelab::sys::ptrace`, with request numbers from
//! `linux-raw-sys`.

use clonelab::errno::Errno;
use clonelab::{sys, Pid};
use linux_raw_sys::ptrace as p;

/// The ptrace requests this tracer makes that pass no pointer to the kernel.
#[derive(Clone, Copy)]
pub(super) enum Request {
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
pub(super) fn ptrace(request: Request, tid: Pid, data: usize) -> Result<usize, Errno> {
    let request = match request {
        Request::Syscall => p::PTRACE_SYSCALL,
        Request::Listen => p::PTRACE_LISTEN,
        Request::Interrupt => p::PTRACE_INTERRUPT,
        Request::Detach => p::PTRACE_DETACH,
        Request::Seize => p::PTRACE_SEIZE,
    };
    // SAFETY: none of these requests reads or writes memory through addr or
    // data (data is a signal number or an options word).
    unsafe { sys::ptrace(request, tid, 0, data) }
}

/// `PTRACE_GETEVENTMSG`: the new tid after a clone event, the former tid after exec.
pub(super) fn event_message(tid: Pid) -> Result<u64, Errno> {
    let mut message = 0u64;
    // SAFETY: the kernel writes one unsigned long at data, a valid local.
    unsafe {
        sys::ptrace(
            p::PTRACE_GETEVENTMSG,
            tid,
            0,
            &mut message as *mut u64 as usize,
        )
    }?;
    Ok(message)
}
