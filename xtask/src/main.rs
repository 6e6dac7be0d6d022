//! `cargo xtask`: the project's own commands.
//!
//! - `cargo xtask test` — every test: the host suite, then the suite built for
//!   aarch64 with Debian's toolchain and run under qemu-user (what qemu-user
//!   cannot emulate is skipped with a printed reason). One summary line per
//!   run and a total: `N passed, N failed, N skipped`.
//! - `cargo xtask provision` — install what the cross runs need (Debian, as root).

mod provision;
mod tally;

use std::process::{Command, ExitCode};
use tally::Tally;

const AARCH64: &str = "aarch64-unknown-linux-gnu";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("provision") => provision::cross_toolchain().map(|_| Tally::default()),
        _ => {
            eprintln!("usage: cargo xtask <test|provision>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(total) if total.failed == 0 && total.passed > 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Host tests, then the aarch64 build under qemu-user.
fn test() -> Result<Tally, String> {
    let mut summary = Vec::new();

    let host = tally::run_cargo_test(Command::new("cargo").args(["test", "--workspace"]), "host")?;
    summary.push(("host", host.clone()));

    provision::cross_toolchain()?;
    let binaries = provision::build_tests(AARCH64)?;
    let mut aarch64 = Tally::default();
    for binary in &binaries {
        let mut cmd = Command::new("qemu-aarch64-static");
        // qemu-user forks a multi-threaded emulator: run tests one at a time.
        cmd.arg(binary).arg("--test-threads=1").env("CLONELAB_QEMU_USER", "1");
        aarch64.add(&tally::run_test_binary(cmd, binary, "aarch64 (qemu-user)")?);
    }
    summary.push(("aarch64 (qemu-user)", aarch64));

    let mut total = Tally::default();
    println!("\n==== clonelab test summary ====");
    for (name, t) in &summary {
        println!("{name}: {t}");
        t.print_details();
        total.add(t);
    }
    println!("total: {total}");
    println!("{} passed, {} failed, {} skipped", total.passed, total.failed, total.skipped);
    Ok(total)
}
