//! `cargo xtask examples`: every chapter's short program, built, run and its
//! output checked (`cargo xtask test` runs it in the host stage).
//!
//! Every `examples/*.rs` but `vm_init.rs` (PID 1 of the test VMs, not a
//! program to run here) is built with `cargo build --examples` and run, at
//! most [`LIMIT`] each. It passes when it exits with status 0 and either
//!
//! - prints one line `skipped: <reason>` (the host lacks what it needs, e.g.
//!   root for namespaces): counted as a skip, with its reason; or
//! - prints every line of its expected output in order: the first ```` ```text ````
//!   block after the line `Expected output` of its `//!` header. Each expected
//!   line must match a later line of the program's standard output, `…`
//!   (U+2026) standing for any text, trailing spaces ignored.
//!
//! An example without an expected block fails, except the ones in
//! [`NO_BLOCK`] (which must still exit 0). Each example is one check.

use crate::tally::Tally;
use crate::timed;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long one example may run.
pub const LIMIT: Duration = Duration::from_secs(120);

/// Examples that are not run: `vm_init` is a VM's PID 1.
const NOT_RUN: &[&str] = &["vm_init"];

/// Examples that need no expected-output block (exit status 0 only):
/// `supervisor` shows an API tour whose output `tests/supervisor.rs` checks.
const NO_BLOCK: &[&str] = &["supervisor"];

/// The names of the examples to run (`examples/NAME.rs`), sorted.
fn names() -> Result<Vec<String>, String> {
    let mut names: Vec<String> = std::fs::read_dir("examples")
        .map_err(|e| format!("examples/: {e}"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .filter(|n| !NOT_RUN.contains(&n.as_str()))
        .collect();
    names.sort();
    Ok(names)
}

/// The expected output of an example: the first ```` ```text ```` block of its
/// `//!` header after a line starting `Expected output`.
pub fn expected_block(source: &str) -> Option<Vec<String>> {
    let header = source
        .lines()
        .take_while(|l| l.starts_with("//!") || l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l));
    let mut lines = header.skip_while(|l| !l.trim_start().starts_with("Expected output"));
    lines.next()?;
    let mut lines = lines.skip_while(|l| l.trim() != "```text");
    lines.next()?;
    let mut block = Vec::new();
    for line in lines {
        if line.trim() == "```" {
            return Some(block);
        }
        block.push(line.trim_end().to_string());
    }
    None // the block never closed
}

/// Whether `line` matches `pattern`, in which `…` stands for any text.
fn matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Check `output` against `expected`: every expected line matches some
/// output line after the one the line before matched.
pub fn check_output(expected: &[String], output: &str) -> Result<(), String> {
    let lines: Vec<&str> = output.lines().map(str::trim_end).collect();
    let mut next = 0;
    for (i, want) in expected.iter().enumerate() {
        match lines[next..].iter().position(|l| matches(want, l)) {
            Some(at) => next += at + 1,
            None => {
                return Err(format!(
                    "expected line {} `{want}` is not in the output{}",
                    i + 1,
                    if next > 0 {
                        format!(" after its line {next}")
                    } else {
                        String::new()
                    }
                ))
            }
        }
    }
    Ok(())
}

/// The output, indented, at most `max` lines (the last ones).
fn quoted(text: &str, max: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(max);
    let mut out = String::new();
    if from > 0 {
        out.push_str(&format!("\n        | ... ({from} lines before)"));
    }
    for line in &lines[from..] {
        out.push_str(&format!("\n        | {line}"));
    }
    out
}

/// What the example `name` did, built as `binary` from `source`, given at
/// most `limit`: Ok(None) passed, Ok(Some(reason)) skipped.
fn run_one(
    name: &str,
    source: &Path,
    binary: &Path,
    limit: Duration,
) -> Result<Option<String>, String> {
    let text = std::fs::read_to_string(source).map_err(|e| format!("{}: {e}", source.display()))?;
    let expected = expected_block(&text);
    if expected.is_none() && !NO_BLOCK.contains(&name) {
        return Err(format!(
            "{} has no expected output (a ```text block after `//! Expected output` in its header)",
            source.display()
        ));
    }
    let ran = timed::run(&mut Command::new(binary), limit)?;
    let both = || {
        format!(
            "{}{}",
            quoted(&ran.stdout, 20),
            if ran.stderr.trim().is_empty() {
                String::new()
            } else {
                format!("\n        stderr:{}", quoted(&ran.stderr, 20))
            }
        )
    };
    let Some(status) = ran.status else {
        return Err(format!(
            "ran past {} s and was killed; its output:{}",
            limit.as_secs(),
            both()
        ));
    };
    if !status.success() {
        return Err(format!("{status}; its output:{}", both()));
    }
    if ran.lingered {
        return Err(format!(
            "something it started still held its output 2 s after it exited (a child outlived it); its output:{}",
            both()
        ));
    }
    let said: Vec<&str> = ran
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let errs: Vec<&str> = ran
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let skip = match (said.as_slice(), errs.as_slice()) {
        ([line], _) | ([], [line]) => line.strip_prefix("skipped: "),
        _ => None,
    };
    if let Some(reason) = skip {
        return Ok(Some(reason.to_string()));
    }
    match expected {
        Some(expected) => check_output(&expected, &ran.stdout)
            .map(|()| None)
            .map_err(|e| format!("{e}; its output:{}", both())),
        None => Ok(None),
    }
}

/// Build every example and run each but [`NOT_RUN`]'s; one check each.
/// Progress and cargo's messages go to `sink`.
pub fn run(sink: &mut dyn Write) -> Tally {
    let mut tally = Tally::default();
    let names = match names() {
        Ok(names) => names,
        Err(e) => return Tally::broken(&format!("examples: {e}")),
    };
    let _ = writeln!(sink, "xtask: examples: cargo build --examples");
    let built = Command::new("cargo")
        .args([
            "build",
            "--package",
            "clonelab",
            "--examples",
            "--message-format=json-render-diagnostics",
        ])
        .output();
    let binaries: Vec<PathBuf> = match built {
        Ok(out) => {
            let _ = sink.write_all(&out.stderr);
            if !out.status.success() {
                let errors: Vec<String> = String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .skip_while(|l| !l.starts_with("error"))
                    .take(30)
                    .map(str::to_string)
                    .collect();
                let mut t = Tally::broken(&format!(
                    "examples: cargo build --examples failed:{}",
                    quoted(&errors.join("\n"), 30)
                ));
                t.failed += names.len();
                t.failures
                    .extend(names.iter().map(|n| format!("example {n}: not built")));
                return t;
            }
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
                .filter_map(|l| crate::provision::json_string(l, "executable"))
                .map(PathBuf::from)
                .collect()
        }
        Err(e) => return Tally::broken(&format!("examples: cannot run cargo: {e}")),
    };
    for name in &names {
        let binary = binaries
            .iter()
            .find(|b| b.file_name().is_some_and(|f| f == name.as_str()));
        let result = match binary {
            Some(binary) => run_one(
                name,
                &Path::new("examples").join(format!("{name}.rs")),
                binary,
                LIMIT,
            ),
            None => Err("cargo built no binary of that name".to_string()),
        };
        match result {
            Ok(None) => {
                tally.passed += 1;
                let _ = writeln!(sink, "xtask: example {name}: passed");
            }
            Ok(Some(reason)) => {
                tally.skipped += 1;
                let _ = writeln!(sink, "xtask: example {name}: skipped: {reason}");
                tally.skips.push(format!("example {name}: {reason}"));
            }
            Err(e) => {
                tally.failed += 1;
                let _ = writeln!(sink, "xtask: example {name}: FAILED: {e}");
                tally.failures.push(format!("example {name}: {e}"));
            }
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run a shell script as the example `name` whose source has `header`.
    fn run_script(
        name: &str,
        header: &str,
        script: &str,
        limit: u64,
    ) -> Result<Option<String>, String> {
        use std::os::unix::fs::PermissionsExt;
        let dir =
            std::env::temp_dir().join(format!("xtask-examples-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join(format!("{name}.rs"));
        std::fs::write(&source, format!("{header}\nfn main() {{}}\n")).unwrap();
        let binary = dir.join(name);
        std::fs::write(&binary, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        let result = run_one(name, &source, &binary, Duration::from_secs(limit));
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    const HEADER: &str =
        "//! Title\n//!\n//! Expected output:\n//!\n//! ```text\n//! pid …\n//! done\n//! ```";

    #[test]
    fn a_run_is_judged_by_its_status_and_output() {
        assert_eq!(
            run_script("ok", HEADER, "echo pid 12; echo extra; echo done", 10),
            Ok(None)
        );
        let wrong = run_script("wrong", HEADER, "echo pid 12; echo finished", 10).unwrap_err();
        assert!(wrong.contains("expected line 2 `done`"), "{wrong}");
        let failed =
            run_script("failed", HEADER, "echo pid 12; echo done; exit 3", 10).unwrap_err();
        assert!(failed.contains("exit status: 3"), "{failed}");
        assert_eq!(
            run_script("skip", HEADER, "echo 'skipped: needs root'", 10),
            Ok(Some("needs root".to_string()))
        );
        let no_block = run_script("no_block", "//! Title", "true", 10).unwrap_err();
        assert!(no_block.contains("has no expected output"), "{no_block}");
        assert_eq!(
            run_script("supervisor", "//! Title", "echo anything", 10),
            Ok(None)
        );
    }

    #[test]
    fn a_hang_and_a_child_left_behind_fail() {
        let hang = run_script("hang", HEADER, "echo pid 1; sleep 30", 1).unwrap_err();
        assert!(hang.contains("ran past 1 s"), "{hang}");
        let left = run_script("left", HEADER, "sleep 30 & echo pid 1; echo done", 10).unwrap_err();
        assert!(left.contains("outlived"), "{left}");
    }

    #[test]
    fn the_block_is_read_from_the_header() {
        let source = "//! Title\n//!\n//! Expected output:\n//!\n//! ```text\n//! a 1\n//! b …  \n//! ```\n\nfn main() {}\n";
        assert_eq!(
            expected_block(source),
            Some(vec!["a 1".to_string(), "b …".to_string()])
        );
        assert_eq!(expected_block("//! Title\nfn main() {}\n"), None);
    }

    #[test]
    fn lines_match_in_order_with_the_ellipsis() {
        let want = ["pid …: …".to_string(), "done".to_string()];
        assert!(check_output(&want, "hello\npid 12: ok  \nnoise\ndone\n").is_ok());
        assert!(check_output(&want, "done\npid 12: ok\n").is_err());
        assert!(matches("a…b…c", "a-b-c"));
        assert!(matches("…", ""));
        assert!(!matches("ab…ba", "aba"));
        assert!(!matches("x", "xy"));
    }
}
