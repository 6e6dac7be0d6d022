//! Running test binaries and counting what happened.
//!
//! libtest prints `test result: ok. N passed; N failed; ...` per binary and
//! `test NAME ... FAILED` per failure; clonelab's tests print
//! `skipped: NAME: reason` on stderr when the environment lacks a capability.
//! A skipped test passes in libtest's eyes, so it is moved from passed to
//! skipped here. A binary that ends without its result line counts as a failure.

use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;

/// Counts for one run.
#[derive(Clone, Default)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub failures: Vec<String>,
    pub skips: Vec<String>,
    /// Where the run's whole output was written, if not to the terminal.
    pub log: Option<std::path::PathBuf>,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.failures.extend(other.failures.iter().cloned());
        self.skips.extend(other.skips.iter().cloned());
    }

    pub fn print_details(&self) {
        for f in &self.failures {
            println!("    FAILED  {f}");
        }
        for s in &self.skips {
            println!("    skipped {s}");
        }
    }

    /// A run that could not happen at all: one failure with the reason.
    pub fn broken(reason: &str) -> Tally {
        Tally {
            failed: 1,
            failures: vec![reason.to_string()],
            ..Tally::default()
        }
    }

    /// Count one line of test output.
    pub fn line(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("tour: ") {
            // The tour's closing line counts its experiments like tests.
            self.passed += number_before(rest, " passed");
            self.failed += number_before(rest, " failed");
            self.skipped += number_before(rest, " skipped");
            self.passed += number_before(rest, " skipped"); // settle() takes skips out again
            if number_before(rest, " failed") > 0 {
                self.failures.push("tour: an experiment failed".to_string());
            }
        } else if let Some(rest) = line.strip_prefix("test result: ") {
            self.passed += number_before(rest, " passed");
            self.failed += number_before(rest, " failed");
        } else if let Some(name) = line
            .strip_prefix("test ")
            .and_then(|l| l.strip_suffix(" ... FAILED"))
        {
            self.failures.push(name.to_string());
        } else if let Some(rest) = line.strip_prefix("bench: skipped: ") {
            // The bench prints no libtest result: its skips took no pass,
            // so add one for settle() to take out again.
            self.skipped += 1;
            self.passed += 1;
            self.skips.push(format!("bench: {rest}"));
        } else if let Some(rest) = line.strip_prefix("skipped: ") {
            self.skipped += 1;
            self.skips.push(rest.to_string());
        }
    }

    /// Skips were counted as passes by libtest; take them out.
    pub fn settle(&mut self) {
        self.passed = self.passed.saturating_sub(self.skipped);
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

fn number_before(text: &str, label: &str) -> usize {
    text.find(label)
        .and_then(|end| {
            text[..end]
                .rsplit(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Run `cmd`, echoing its stdout and stderr as they come (to `sink` if there
/// is one, else to the terminal), and count.
fn run_counting(
    mut cmd: Command,
    label: &str,
    mut sink: Option<&mut dyn Write>,
) -> Result<(Tally, bool), String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{label}: cannot start {cmd:?}: {e}"))?;
    let (tx, rx) = mpsc::channel::<String>();
    let readers: Vec<_> = [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ]
    .into_iter()
    .map(|pipe| {
        let tx = tx.clone();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        })
    })
    .collect();
    drop(tx);
    let mut tally = Tally::default();
    for line in rx {
        match sink.as_mut() {
            Some(sink) => {
                let _ = writeln!(sink, "{line}");
            }
            None => println!("{line}"),
        }
        tally.line(&line);
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    tally.settle();
    Ok((tally, status.success()))
}

/// `cargo test ...`: counts every binary it runs.
pub fn run_cargo_test(
    cmd: &mut Command,
    label: &str,
    sink: Option<&mut dyn Write>,
) -> Result<Tally, String> {
    let cmd = std::mem::replace(cmd, Command::new("true"));
    let (mut tally, ok) = run_counting(cmd, label, sink)?;
    if !ok && tally.failed == 0 {
        tally.failed += 1;
        tally
            .failures
            .push(format!("{label}: cargo test failed (build error or crash)"));
    }
    Ok(tally)
}

/// One test binary: a missing result line or a non-zero exit is a failure.
pub fn run_test_binary(cmd: Command, binary: &str, label: &str) -> Result<Tally, String> {
    let (mut tally, ok) = run_counting(cmd, label, None)?;
    if !ok && tally.failed == 0 {
        tally.failed += 1;
        tally
            .failures
            .push(format!("{label}: {binary} exited without a passing result"));
    }
    Ok(tally)
}
