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
//!
//! The modules, in the order of a run: `options` (the command line),
//! `launch` (start CMD stopped, seize it, run the loop, turn its status into
//! ours), `tracer` (the wait4 loop over every stop of every task, and the
//! detach on SIGINT/SIGTERM/SIGHUP), `ptrace` (the requests it makes),
//! `capture` (what is read from the tracee at each stop: syscall info,
//! registers, `clone_args`, the new task's /proc entries), `call` (the
//! decoding of one call: flags, exit signal, registers with their roles, the
//! C form, the clone(2) rule an errno comes from), and the two renderings of
//! a record, `text` and `json`. They use clonelab's public API (`trace`,
//! `abi`, `flags`, `sys`, `spawn`, `arch`), `linux-raw-sys` for constants and
//! structs, and std.

mod call;
mod capture;
mod json;
mod launch;
mod options;
mod ptrace;
mod text;
mod tracer;

use launch::run;
use options::{Options, HELP, USAGE};

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
