//! The static gates `cargo xtask test` runs before the tests: formatting,
//! clippy with warnings denied, and rustdoc with warnings denied (broken
//! intra-doc links fail). Each gate counts as one host check, passed or failed.

use crate::tally::Tally;
use std::process::Command;

/// (name, cargo arguments, an extra environment variable)
const GATES: &[(&str, &[&str], Option<(&str, &str)>)] = &[
    (
        "cargo fmt --check",
        &["fmt", "--all", "--", "--check"],
        None,
    ),
    (
        "cargo clippy -D warnings",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        None,
    ),
    (
        "cargo doc -D warnings",
        &["doc", "--no-deps", "--workspace"],
        Some(("RUSTDOCFLAGS", "-D warnings")),
    ),
];

/// Run every gate; record each in `host`.
pub fn run(host: &mut Tally) {
    for Gate { name, args, env } in GATES {
        let mut cmd = Command::new("cargo");
        cmd.args(*args);
        if let Some((key, value)) = env {
            cmd.env(key, value);
        }
        eprintln!("xtask: gate: {name}");
        match cmd.status() {
            Ok(status) if status.success() => host.passed += 1,
            Ok(status) => {
                host.failed += 1;
                host.failures.push(format!("gate {name}: {status}"));
            }
            Err(e) => {
                host.failed += 1;
                host.failures
                    .push(format!("gate {name}: could not run cargo: {e}"));
            }
        }
    }
}
