//! `cargo xtask`: the project's own commands.
//!
//! - `cargo xtask test` — every test: the host suite, then the whole suite
//!   inside real kernels under qemu-system for every arch in [`vm::SUITE`].
//!   One summary line per run, then the total: `N passed, N failed, N skipped`.
//! - `cargo xtask qemu --arch aarch64|x86_64|i386|armhf|ppc64le|s390x` — one VM run.
//! - `cargo xtask bench [--quick] [--report-only] [--compare FIRST SECOND]` — run the
//!   benches in interleaved rounds (or reuse the last records), write `docs/benchmarks.md`
//!   and `.svg` (a `--quick` smoke run writes under `target/bench/`).
//! - `cargo xtask docs [--check]` — render the chapters' generated sections
//!   (call tables from a host run, VM captures from `target/qemu/<arch>.log`);
//!   `--check` fails when a call table is stale (`cargo xtask test` runs it).
//! - `cargo xtask soak` — the soak test with 100,000 create/reap cycles per API path (host).
//! - `cargo xtask qemu-user` — quick aarch64 smoke run under qemu-user
//!   (it cannot emulate most clone flags; those tests skip with a reason).
//! - `cargo xtask provision` — install the toolchain, QEMU and kernels (Debian, as root).

mod apt;
mod arch;
mod bench;
mod docs;
mod gates;
mod provision;
mod tally;
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
        Some("test") => test(),
        Some("qemu") => match arch_arg() {
            Some(arch) => vm::run(arch).map(|t| vec![(format!("{} (VM)", arch.name()), t)]),
            None => Err(format!("usage: cargo xtask qemu --arch {}", arch_names())),
        },
        Some("bench") => bench::run(&args[1..]).map(|()| Vec::new()),
        Some("docs") => docs::run(args.iter().any(|a| a == "--check")).map(|()| Vec::new()),
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
                provision::kernel(arch).map(drop)
            })
            .map(|()| Vec::new()),
        _ => {
            eprintln!(
                "usage: cargo xtask <test | qemu --arch {} | qemu-user | soak | bench | docs [--check] | provision>",
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

/// Host tests, then every VM. A VM that cannot even start is a failure, not a skip.
fn test() -> Result<Vec<(String, Tally)>, String> {
    let mut host =
        tally::run_cargo_test(Command::new("cargo").args(["test", "--workspace"]), "host")?;
    // The chapters' generated call tables must match what the experiments do.
    match docs::run(true) {
        Ok(()) => host.passed += 1,
        Err(e) if e.starts_with("needs root") => {
            host.skipped += 1;
            host.skips.push(format!("docs --check: {e}"));
        }
        Err(e) => {
            host.failed += 1;
            host.failures.push(format!("docs --check: {e}"));
        }
    }
    // Formatting, clippy and rustdoc, warnings denied.
    gates::run(&mut host);
    let mut runs = vec![("host".to_string(), host)];
    for arch in vm::SUITE {
        let result =
            vm::run(arch).unwrap_or_else(|e| Tally::broken(&format!("{} VM: {e}", arch.name())));
        runs.push((format!("{} (VM)", arch.name()), result));
    }
    Ok(runs)
}

/// The aarch64 suite under qemu-user, one test at a time (qemu-user forks a
/// multi-threaded emulator).
fn qemu_user() -> Result<Tally, String> {
    provision::cross_toolchain()?;
    let mut total = Tally::default();
    for binary in provision::build_tests(Arch::Aarch64)? {
        let mut cmd = Command::new("qemu-aarch64-static");
        cmd.arg(&binary)
            .arg("--test-threads=1")
            .env("CLONELAB_QEMU_USER", "1");
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
        total.add(t);
    }
    println!(
        "{} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    total
}
