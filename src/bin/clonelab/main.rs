//! `clonelab`: the command-line front end of the clonelab library. It uses
//! std; the library does not. This file only reads the command word and hands
//! the rest of the arguments to the module that serves it; [`HELP`] (what
//! `clonelab help`, `--help` and `-h` print) lists every command:
//!
//! ```text
//! clonelab tour [--brief]  run every experiment, print call, flags, registers, observation, verdict   tour.rs
//! clonelab list            list the experiments                                                        tour.rs
//! clonelab run NAME        run one experiment (or every case of a module)                              tour.rs
//! clonelab explain VALUE   decode a flags word: 0x111, 273 or CLONE_VM|SIGCHLD                         explain.rs
//! clonelab container [--hostname N] [--rootfs DIR] [--bind SRC:DST] [--memory BYTES] [--pids N]
//!                    [--uid-map IN:OUT:COUNT] [--verbose] -- CMD ARGS...                               container/
//! clonelab trace [--follow] [--json] [--output FILE] -- CMD ARGS...                                    trace_cmd/
//! ```
//!
//! Two more words serve the project's own tooling: `chapter-calls` (the call
//! tables `cargo xtask docs` splices into `docs/*.md`, `tour.rs`) and
//! `container-probe` (what `tests/container.rs` runs inside a container,
//! `container/probe.rs`).
//!
//! Every module here uses only clonelab's public API, `linux-raw-sys` for
//! kernel constants, and std: the binary is a client of the library, like any
//! other program.

mod container;
mod explain;
mod tour;
mod trace_cmd;

use std::process::ExitCode;

/// What `clonelab help` prints: every command, a line each. An unknown
/// command prints it to stderr and exits 2.
const HELP: &str = "\
clonelab: Linux clone() and clone3() with no libc, explained by experiment.

usage: clonelab COMMAND [ARGS]

  tour                 run every experiment: each clone/clone3 call with its flags and
                       registers (observed by ptrace), what was observed, PASS/FAIL/SKIPPED
  tour --brief         the same, one line per experiment: name, verdict, what it showed
  list                 list the experiments: the names `run` takes, and each one's question
  run NAME [--brief]   run one experiment from `list` (clone_vm, newns.propagation), or
                       every case of a module (run namespaces)
  explain VALUE        decode a flags word, 0x111, 273 or CLONE_VM|SIGCHLD: its bits, its
                       exit signal, the registers of the call, what the kernel does with it
  container [OPTIONS] -- CMD ARGS...
                       run CMD in new namespaces, a cgroup and a root of its own; OPTIONS:
                       --hostname N, --rootfs DIR, --bind SRC:DST, --memory BYTES, --pids N,
                       --uid-map IN:OUT:COUNT, --verbose
  trace [OPTIONS] -- CMD ARGS...
                       run CMD under ptrace and print every clone and clone3 (on x86_64
                       also fork and vfork) of it and its children, with the registers;
                       OPTIONS: --follow, --json, --output FILE
                       (clonelab trace --help says how to read a record)
  help, --help, -h     this text

Namespaces, cgroups and trace need root (or unprivileged user namespaces); an
experiment that cannot run here says SKIPPED and why. The book that explains
each experiment: `cargo xtask book`, then open target/book/html/index.html.
";

/// A command's `i32` status as the process's exit code (clamped to 0..=255).
fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn main() -> ExitCode {
    // std starts every Rust program with SIGPIPE ignored, so a write to a
    // closed pipe (`clonelab tour | head -2`) fails with EPIPE and `println!`
    // panics. With the default back, the kernel ends the process quietly on
    // that write, as it ends `cat` in `cat file | head -1`. The commands that
    // `container` and `trace` run inherit the default too, not an ignored
    // SIGPIPE (execve keeps SIG_IGN). rt_sigaction with SIG_DFL cannot fail
    // for SIGPIPE; if it did, the old behaviour would remain.
    let _ = clonelab::sys::signal::set_default(clonelab::Signal::SIGPIPE);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["tour"] => tour::tour_all(false),
        ["tour", "--brief"] => tour::tour_all(true),
        ["list"] => tour::list(),
        ["run", name] => tour::run_named(name, false),
        ["run", name, "--brief"] | ["run", "--brief", name] => tour::run_named(name, true),
        ["help"] | ["--help"] | ["-h"] => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        ["explain", value] => explain::explain(value),
        ["chapter-calls"] => tour::chapter_calls(),
        ["container", ..] => {
            match container::Options::parse(&args[1..]).and_then(|o| container::run(&o)) {
                Ok(code) => exit_code(code),
                Err(e) => {
                    eprintln!("clonelab container: {e}");
                    ExitCode::from(125)
                }
            }
        }
        ["trace", ..] => exit_code(trace_cmd::main(&args[1..])),
        ["container-probe", ..] => exit_code(container::probe(&args[1..])),
        other => {
            if other.is_empty() {
                eprintln!("clonelab: no command given\n");
            } else {
                eprintln!("clonelab: no command `{}`\n", other.join(" "));
            }
            eprint!("{HELP}");
            ExitCode::from(2)
        }
    }
}
