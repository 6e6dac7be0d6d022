//! The static gates `cargo xtask test` runs before the tests: formatting,
//! clippy with warnings denied, and rustdoc with warnings denied (broken
//! intra-doc links fail). Each gate counts as one host check, passed or failed.

use crate::tally::Tally;
use std::io::Write;
use std::process::Command;

/// One gate: what to call it, cargo's arguments, an extra environment variable.
struct Gate {
    name: &'static str,
    args: &'static [&'static str],
    env: Option<(&'static str, &'static str)>,
}

const GATES: &[Gate] = &[
    Gate {
        name: "cargo fmt --check",
        args: &["fmt", "--all", "--", "--check"],
        env: None,
    },
    Gate {
        name: "cargo clippy -D warnings",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        env: None,
    },
    Gate {
        name: "cargo doc -D warnings",
        args: &["doc", "--no-deps", "--workspace"],
        env: Some(("RUSTDOCFLAGS", "-D warnings")),
    },
];

/// Run every gate; record each in `host`. Their output goes to `log`
/// (the terminal if none).
pub fn run(host: &mut Tally, log: Option<&std::fs::File>) {
    for gate in GATES {
        let mut cmd = Command::new("cargo");
        cmd.args(gate.args);
        if let Some((key, value)) = gate.env {
            cmd.env(key, value);
        }
        match log {
            Some(mut file) => {
                let _ = writeln!(file, "xtask: gate: {}", gate.name);
                if let (Ok(out), Ok(err)) = (file.try_clone(), file.try_clone()) {
                    cmd.stdout(out).stderr(err);
                }
            }
            None => eprintln!("xtask: gate: {}", gate.name),
        }
        match cmd.status() {
            Ok(status) if status.success() => host.passed += 1,
            Ok(status) => {
                host.failed += 1;
                host.failures.push(format!("gate {}: {status}", gate.name));
            }
            Err(e) => {
                host.failed += 1;
                host.failures
                    .push(format!("gate {}: could not run cargo: {e}", gate.name));
            }
        }
    }
}
