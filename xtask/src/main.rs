//! `cargo xtask`: the project's own commands.
//!
//! - `cargo xtask test [--host] [--arch A,B] [--vms N]` — every test: the
//!   host stage and the whole suite inside real kernels under qemu-system for
//!   every arch in [`vm::SUITE`], overlapped (see `pipeline`); `--host` only
//!   the host, `--arch` only those VMs. One summary line per run, then the
//!   total: `N passed, N failed, N skipped`.
//! - `cargo xtask qemu --arch aarch64|x86_64|i386|armhf|ppc64le|s390x` — one VM run.
//! - `cargo xtask bench [--quick] [--report-only] [--compare FIRST SECOND]` — run the
//!   benches in interleaved rounds (or reuse the last records), write `docs/benchmarks.md`
//!   and `.svg` (a `--quick` smoke run writes under `target/bench/`).
//! - `cargo xtask bench --costs [--quick] [--report-only]` — the per-flag cost ledger and
//!   the container start against unshare(1), bubblewrap and crun: `docs/costs.md` and `.svg`.
//! - `cargo xtask docs [--check]` — render the chapters' generated sections
//!   (call tables from a host run, VM captures from `target/qemu/<arch>.log`);
//!   `--check` fails when a call table is stale (`cargo xtask test` runs it).
//! - `cargo xtask book [--check]` — build the book (`docs/`, mdBook, installed into the
//!   cache when missing) into `target/book/html/`, with the source trees its chapters link
//!   to copied beside it; `--check` also checks it: mdBook's warnings, every link and
//!   anchor, the chapters' shape, the examples they include, and the pages in a headless
//!   chromium (`cargo xtask test` runs it; see `book`).
//! - `cargo xtask examples` — build and run every `examples/*.rs` (but `vm_init`), each
//!   checked against the expected output in its header (`cargo xtask test` runs it).
//! - `cargo xtask soak` — the soak test with 100,000 create/reap cycles per API path (host).
//! - `cargo xtask qemu-user` — quick aarch64 smoke run under qemu-user
//!   (it cannot emulate most clone flags; those tests skip with a reason).
//! - `cargo xtask provision` — install the toolchain, QEMU and kernels, the container
//!   tools `bench --costs` compares with (crun, bubblewrap, iproute2), chromium (Debian,
//!   as root) and mdBook (into the cache).

mod apt;
mod arch;
mod bench;
mod book;
mod cache;
mod docs;
mod examples;
mod gates;
mod pipeline;
mod progress;
mod provision;
mod tally;
mod timed;
mod toolchain;
mod vm;

use provision::Arch;
use std::process::{Command, ExitCode};
use tally::Tally;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arch_arg = || {
        let i = args.iter().position(|a| a == "--arch")?;
        Arch::parse(args.get(i + 1)?)
    };
    let runs: Result<Vec<(String, Tally)>, String> = match args.first().map(String::as_str) {
        Some("test") => match test_options(&args[1..]) {
            Ok(options) => pipeline::run(&options),
            Err(usage) => {
                eprintln!("{usage}");
                return ExitCode::from(if args.iter().any(|a| a == "--help" || a == "-h") {
                    0
                } else {
                    2
                });
            }
        },
        Some("qemu") => match arch_arg() {
            Some(arch) => vm::run(arch).map(|t| vec![(format!("{} (VM)", arch.name()), t)]),
            None => Err(format!("usage: cargo xtask qemu --arch {}", arch_names())),
        },
        Some("bench") => bench::run(&args[1..]).map(|()| Vec::new()),
        Some("docs") => docs::run(args.iter().any(|a| a == "--check")).map(|()| Vec::new()),
        Some("book") => book::run(args.iter().any(|a| a == "--check")),
        Some("examples") => Ok(vec![(
            "examples".to_string(),
            examples::run(&mut std::io::stdout()),
        )]),
        Some("soak") => tally::run_cargo_test(
            Command::new("cargo")
                .args([
                    "test",
                    "--release",
                    "--package",
                    "clonelab",
                    "--test",
                    "soak",
                    "--",
                    "--nocapture",
                ])
                .env("CLONELAB_SOAK", "100000"),
            "soak",
            None,
        )
        .map(|t| vec![("host soak, 100,000 cycles per path".into(), t)]),
        Some("qemu-user") => qemu_user().map(|t| vec![("aarch64 (qemu-user)".into(), t)]),
        Some("provision") => vm::SUITE
            .iter()
            .try_for_each(|&arch| {
                provision::vm_tools(arch)?;
                if arch.compiler() == arch::Compiler::Debian185 {
                    toolchain::debian_185(arch)?;
                }
                provision::kernel(arch, true).map(drop)
            })
            .and_then(|()| bench::ensure_container_peers())
            .and_then(|()| book::provide_chromium())
            .and_then(|()| book::mdbook(&mut std::io::stdout()).map(drop))
            .map(|()| Vec::new()),
        _ => {
            eprintln!(
                "usage: cargo xtask <test | qemu --arch {} | qemu-user | soak | bench | docs [--check] | book [--check] | examples | provision>",
                arch_names()
            );
            return ExitCode::from(2);
        }
    };
    match runs {
        Ok(runs) if runs.is_empty() => ExitCode::SUCCESS,
        Ok(runs) => {
            let total = summarize(&runs);
            if total.failed == 0 && total.passed > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `aarch64|x86_64|...`: the names `--arch` takes.
fn arch_names() -> String {
    Arch::ALL.map(Arch::name).join("|")
}

const TEST_USAGE: &str = "\
usage: cargo xtask test [--host] [--arch ARCH[,ARCH...]] [--vms N]

Runs every test: the host stage (cargo test --workspace, the bench's smoke
run, the chapters' docs check, every example run and checked, the book built
and checked, fmt, clippy and rustdoc with warnings denied) and the whole suite in a
real kernel under qemu-system for each arch, the builds and VMs overlapped.
With no option, everything (this is what .ci/run calls).

  --host           the host stage only (no VM)
  --arch A,B       only these VMs (aarch64, x86_64, i386, armhf, ppc64le, s390x);
                   with --host as well, the host stage too
  --vms N          run N VMs at once (default: one per two CPUs and 2 GiB free)
  -h, --help       this text

Each run prints one progress line (phase, time, tests done/total) and its
summary; the logs are target/xtask/host.log and target/qemu/<arch>.log.";

/// The options of `cargo xtask test`, or the usage text.
fn test_options(args: &[String]) -> Result<pipeline::Options, String> {
    let mut host = false;
    let mut arches: Option<Vec<Arch>> = None;
    let mut vms = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = |args: &mut std::slice::Iter<String>, inline: Option<&str>| {
            inline
                .map(str::to_string)
                .or_else(|| args.next().cloned())
                .ok_or(format!("{arg}: a value is missing\n\n{TEST_USAGE}"))
        };
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg.as_str(), None),
        };
        match name {
            "--host" => host = true,
            "--arch" => {
                let list = value(&mut args, inline)?;
                let parsed = list
                    .split(',')
                    .map(|a| Arch::parse(a).ok_or(format!("unknown arch {a:?}\n\n{TEST_USAGE}")))
                    .collect::<Result<Vec<_>, _>>()?;
                arches.get_or_insert_with(Vec::new).extend(parsed);
            }
            "--vms" => {
                let n = value(&mut args, inline)?;
                vms = Some(
                    n.parse::<usize>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(format!("--vms {n}: a number of at least 1\n\n{TEST_USAGE}"))?,
                );
            }
            _ => return Err(TEST_USAGE.to_string()),
        }
    }
    let everything = !host && arches.is_none();
    let arches = match arches {
        // In the suite's order, each once.
        Some(chosen) => vm::SUITE
            .into_iter()
            .filter(|a| chosen.contains(a))
            .collect(),
        None if everything => vm::SUITE.to_vec(),
        None => Vec::new(),
    };
    Ok(pipeline::Options {
        host: host || everything,
        arches,
        vms,
    })
}

/// The aarch64 suite under qemu-user, one test at a time (qemu-user forks a
/// multi-threaded emulator), every module in one process: the suite's runner
/// cannot start itself again there (the machine has no binfmt entry for
/// aarch64), so it is told it already is a module process.
fn qemu_user() -> Result<Tally, String> {
    provision::cross_toolchain()?;
    let mut total = Tally::default();
    for binary in provision::build_tests(Arch::Aarch64)? {
        let mut cmd = Command::new("qemu-aarch64-static");
        cmd.arg(&binary)
            .arg("--test-threads=1")
            .env("CLONELAB_QEMU_USER", "1")
            .env("CLONELAB_SUITE_MODULE", "(every module, under qemu-user)");
        total.add(&tally::run_test_binary(
            cmd,
            &binary,
            "aarch64 (qemu-user)",
        )?);
    }
    Ok(total)
}

fn summarize(runs: &[(String, Tally)]) -> Tally {
    let mut total = Tally::default();
    println!("\n==== clonelab test summary ====");
    for (name, t) in runs {
        println!("{name}: {t}");
        t.print_details();
        if t.failed > 0 {
            if let Some(log) = &t.log {
                print_tail(log);
            }
        }
        total.add(t);
    }
    println!(
        "{} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    total
}

/// What a failed run's log says about the failure, so CI's output shows it:
/// the lines around each panic, failed test and kernel panic (at most 120),
/// or, where there is none of those, the log's last 40 lines.
fn print_tail(log: &std::path::Path) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let marks = |l: &&str| {
        l.contains("panicked at") || l.ends_with("... FAILED") || l.contains("Kernel panic")
    };
    let mut shown = vec![false; lines.len()];
    for (i, _) in lines.iter().enumerate().filter(|(_, l)| marks(l)) {
        for flag in &mut shown[i.saturating_sub(3)..(i + 12).min(lines.len())] {
            *flag = true;
        }
    }
    if !shown.contains(&true) {
        let from = lines.len().saturating_sub(40);
        shown[from..].iter_mut().for_each(|flag| *flag = true);
    }
    println!("    --- from {} ---", log.display());
    let mut last = None;
    for (i, line) in lines
        .iter()
        .enumerate()
        .filter(|(i, _)| shown[*i])
        .take(120)
    {
        if last.is_some_and(|l: usize| l + 1 != i) {
            println!("    | ...");
        }
        println!("    | {line}");
        last = Some(i);
    }
}
