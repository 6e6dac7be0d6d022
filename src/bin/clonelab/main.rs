//! `clonelab`: the command-line front end of the clonelab library. It uses
//! std; the library does not. This file only reads the command word and hands
//! the rest of the arguments to the module that serves it:
//!
//! ```text
//! clonelab tour            run every experiment, print call, flags, registers, observation, verdict   tour.rs
//! clonelab list            list the experiments                                                        tour.rs
//! clonelab run NAME        run one experiment                                                          tour.rs
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

/// A command's `i32` status as the process's exit code (clamped to 0..=255).
fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["tour"] => tour::tour_all(),
        ["list"] => tour::list(),
        ["run", name] => tour::run_named(name),
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
        _ => {
            eprintln!("usage: clonelab tour | list | run NAME | explain VALUE | container [OPTIONS] -- CMD ARGS... | trace [OPTIONS] -- CMD ARGS...");
            ExitCode::from(2)
        }
    }
}
