//! The static gates `cargo xtask test` runs after the tests: formatting,
//! clippy with warnings denied, rustdoc with warnings denied (broken
//! intra-doc links fail), then the three that say the crate is ready to
//! publish: what `cargo package` would put in it, `cargo publish --dry-run`
//! (which packs the crate and builds it from the package alone), and the
//! library built with Rust 1.85, the `rust-version` Cargo.toml states (the
//! Debian 1.85 that the VM builds use, see `toolchain`). Each gate counts as
//! one host check, passed or failed.

use crate::arch::Arch;
use crate::tally::Tally;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
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
    // Packs the crate as crates.io would get it and builds it from the
    // package alone (build.rs, arch/, docs/abi.md must all be in it). It
    // resolves the dependencies against crates.io's index, so it needs the
    // network. `--allow-dirty`: the gate runs on work not yet committed; a
    // real publish is made from a clean tree.
    Gate {
        name: "cargo publish --dry-run",
        args: &[
            "publish",
            "--dry-run",
            "--package",
            "clonelab",
            "--allow-dirty",
        ],
        env: None,
    },
];

/// The arch whose Rust 1.85 build stands for `rust-version`: the library
/// for i686, with the compiler and standard library the i386 VM build
/// already uses (32-bit, so `c_ulong` and friends are checked at their narrow width too).
const MSRV_ARCH: Arch = Arch::I386;

/// Files the package must hold besides every file under `src/` and `arch/`:
/// the build script, the chapter `src/lib.rs` includes as the `abi` module's
/// doc, and what crates.io shows.
const PACKAGE_MUST_HOLD: &[&str] = &[
    "build.rs",
    "docs/abi.md",
    "README.md",
    "CHANGELOG.md",
    "Cargo.toml",
];

/// What the package must not hold: the xtask, the tests, the benches, the
/// book and its images, the xtask's reports and the VMs' init.
const PACKAGE_MUST_NOT_HOLD: &[&str] = &[
    "xtask/",
    "tests/",
    "benches/",
    "target/",
    "proptest-regressions/",
    "examples/vm_init.rs",
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
        record(host, log, gate.name, run_logged(&mut cmd, gate.name, log));
    }
    let name = "cargo package --list: the crate and nothing else";
    announce(log, name);
    record(host, log, name, package_contents());
    let name = "rust-version: Rust 1.85 builds the library";
    let result = msrv_command().and_then(|mut cmd| run_logged(&mut cmd, name, log));
    record(host, log, name, result);
}

/// Count one gate's result in `host`, the reason of a failure in its log too.
fn record(host: &mut Tally, log: Option<&std::fs::File>, name: &str, result: Result<(), String>) {
    match result {
        Ok(()) => host.passed += 1,
        Err(e) => {
            if let Some(mut file) = log {
                let _ = writeln!(file, "xtask: gate {name} failed: {e}");
            }
            host.failed += 1;
            host.failures.push(format!("gate {name}: {e}"));
        }
    }
}

fn announce(log: Option<&std::fs::File>, name: &str) {
    match log {
        Some(mut file) => {
            let _ = writeln!(file, "xtask: gate: {name}");
        }
        None => eprintln!("xtask: gate: {name}"),
    }
}

/// Run `cmd` with its output in `log` (the terminal if none).
fn run_logged(cmd: &mut Command, name: &str, log: Option<&std::fs::File>) -> Result<(), String> {
    announce(log, name);
    if let Some(file) = log {
        if let (Ok(out), Ok(err)) = (file.try_clone(), file.try_clone()) {
            cmd.stdout(out).stderr(err);
        }
    }
    match cmd.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(status.to_string()),
        Err(e) => Err(format!("could not run {cmd:?}: {e}")),
    }
}

/// `cargo build --lib` for [`MSRV_ARCH`] with Debian's rustc 1.85 (cargo
/// refuses to build a package whose `rust-version` is newer than its rustc,
/// so a `rust-version` raised past 1.85 fails here as well as code that needs
/// a newer Rust). Its own target dir: the VM builds' flags differ.
fn msrv_command() -> Result<Command, String> {
    let tools = crate::toolchain::debian_185(MSRV_ARCH)?;
    let mut cmd = Command::new("cargo");
    cmd.args(["build", "--lib", "--package", "clonelab", "--target"])
        .arg(MSRV_ARCH.target())
        .args(["--target-dir", "target/msrv"])
        .env("RUSTC", tools.join("rustc"))
        .env("RUSTDOC", tools.join("rustdoc"));
    Ok(cmd)
}

/// `cargo package --list`, checked: every file under `src/` and `arch/` and
/// each of [`PACKAGE_MUST_HOLD`] is in it, nothing of [`PACKAGE_MUST_NOT_HOLD`]
/// and nothing else of `docs/` but `docs/abi.md` is.
fn package_contents() -> Result<(), String> {
    let out = crate::provision::run_ok(Command::new("cargo").args([
        "package",
        "--list",
        "--package",
        "clonelab",
        "--allow-dirty",
    ]))?;
    let listed: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let mut needed: Vec<String> = PACKAGE_MUST_HOLD.iter().map(|f| f.to_string()).collect();
    for dir in ["src", "arch"] {
        files_under(Path::new(dir), &mut needed)?;
    }
    let problems = package_problems(&listed, &needed);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// What is wrong with a package list, given the files it must hold.
fn package_problems(listed: &BTreeSet<String>, needed: &[String]) -> Vec<String> {
    let missing: Vec<&str> = needed
        .iter()
        .filter(|f| !listed.contains(*f))
        .map(String::as_str)
        .collect();
    let unwanted: Vec<&str> = listed
        .iter()
        .filter(|f| {
            PACKAGE_MUST_NOT_HOLD.iter().any(|p| f.starts_with(p))
                || (f.starts_with("docs/") && *f != "docs/abi.md")
        })
        .map(String::as_str)
        .collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing from the package: {}", missing.join(" ")));
    }
    if !unwanted.is_empty() {
        problems.push(format!(
            "in the package but not wanted: {}",
            unwanted.join(" ")
        ));
    }
    problems
}

/// Every file under `dir`, as a path relative to the workspace root.
fn files_under(dir: &Path, found: &mut Vec<String>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            files_under(&path, found)?;
        } else {
            found.push(path.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(files: &[&str]) -> BTreeSet<String> {
        files.iter().map(|f| f.to_string()).collect()
    }

    /// A package with what it needs and nothing else passes; a missing file
    /// and an unwanted one are each named.
    #[test]
    fn package_lists_are_judged_file_by_file() {
        let needed = vec!["build.rs".to_string(), "src/lib.rs".to_string()];
        let good = set(&["build.rs", "src/lib.rs", "docs/abi.md", "Cargo.lock"]);
        assert!(package_problems(&good, &needed).is_empty());
        let bad = set(&[
            "src/lib.rs",
            "tests/suite.rs",
            "docs/costs.svg",
            "xtask/src/main.rs",
        ]);
        let problems = package_problems(&bad, &needed);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("build.rs"));
        for unwanted in ["tests/suite.rs", "docs/costs.svg", "xtask/src/main.rs"] {
            assert!(problems[1].contains(unwanted), "{problems:?}");
        }
    }
}
