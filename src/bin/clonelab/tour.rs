//! The tour: `clonelab tour`, `list`, `run NAME` and `chapter-calls`.
//!
//! Runs the experiments of `clonelab::experiments::ALL`, each under the
//! library's ptrace observer (`clonelab::trace`) where it can, and renders
//! everything it prints from what was recorded: each call's C form, its flag
//! bits and signal byte (`clonelab::abi`), the registers the observer saw on
//! this arch, the image the same call has on the other arch (derived), then
//! the experiment's observations and checks, and PASS / FAIL / SKIPPED. A call
//! the observer saw that the experiment did not record, or the reverse, is a
//! FAIL. `chapter-calls` renders the same records as the chapters' Markdown.
//!
//! Called from `main.rs`; uses clonelab's public API and std only.

use clonelab::abi::{self, CCall, FlagBits, ImageLines};
use clonelab::experiments::record::{match_trace, ChapterCall};
use clonelab::experiments::{Entry, Made, Outcome, TextBuffer, ALL};
use clonelab::flags::Syscall;
use clonelab::trace::{trace, CloneStop, Trace};
use clonelab::{Errno, Error, RegisterImage};
use std::io::IsTerminal;
use std::process::ExitCode;

/// How an experiment ended.
enum Verdict {
    Pass,
    Fail(String),
    Skipped(String),
}

/// How verdicts and headings are printed: in colour only on a terminal.
struct Style {
    colour: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn verdict(&self, v: &Verdict) -> String {
        match v {
            Verdict::Pass => self.paint("32;1", "PASS"),
            Verdict::Fail(why) => self.paint("31;1", &format!("FAIL ({why})")),
            Verdict::Skipped(why) => self.paint("33;1", &format!("SKIPPED ({why})")),
        }
    }
}

/// Why an error means "this environment cannot" rather than "clonelab is wrong".
fn skip_reason(err: &Error) -> Option<String> {
    let errno = err.errno()?;
    if std::env::var_os("CLONELAB_QEMU_USER").is_some()
        && matches!(errno, Errno::EINVAL | Errno::ENOSYS)
    {
        return Some(format!("qemu-user cannot emulate this: {errno}"));
    }
    if matches!(errno, Errno::EPERM | Errno::EACCES) && clonelab::sys::geteuid() != 0 {
        return Some(format!(
            "needs privilege: {errno}; run as root or allow unprivileged user namespaces"
        ));
    }
    None
}

/// Run an experiment under the ptrace observer when possible (not under
/// qemu-user, which cannot ptrace): its output comes back by value.
fn run_traced(entry: &Entry) -> (Result<Outcome, Error>, TextBuffer, Option<Trace>) {
    if std::env::var_os("CLONELAB_QEMU_USER").is_none() {
        let traced = trace(|| {
            let mut text = TextBuffer::new();
            let result = (entry.run)(&mut text);
            (result, text)
        });
        if let Ok(((result, text), trace)) = traced {
            return (result, text, Some(trace));
        }
    }
    let mut text = TextBuffer::new();
    let result = (entry.run)(&mut text);
    (result, text, None)
}

/// Print `text` with every line indented by `indent`.
fn indented(indent: &str, text: &str) {
    for line in text.lines() {
        println!("{indent}{line}");
    }
}

/// Print one recorded call: its C call, its flags word split into bits and
/// the signal byte, the registers observed on this arch (or expected, where
/// the observer could not see the call), and the image derived for the other
/// arch. Returns why it contradicts the trace, if it does.
fn show_call(
    n: usize,
    total: usize,
    made: &Made,
    stop: Option<&CloneStop>,
    traced: bool,
) -> Option<String> {
    let call = &made.call;
    let outcome = match made.errno() {
        Some(e) => format!("-> {e}"),
        None if made.result == 0 => "-> a child each".to_string(),
        None => format!("-> child {}", made.result),
    };
    println!("   call {n}/{total}: {}  {outcome}", made.label);
    println!("     C call    {}", CCall(call));
    let bits = FlagBits(call).to_string();
    let mut lines = bits.lines();
    if let Some(first) = lines.next() {
        println!("     flags     {first}");
    }
    for line in lines {
        println!("              {line}");
    }
    let this = abi::this_arch();
    let expected = RegisterImage::of(call);
    let mut problem = None;
    let found = stop;
    match found {
        Some(stop) => {
            let image = clonelab::trace::observed_image(stop);
            println!(
                "     {} registers, observed by ptrace (returned {}):",
                this.name,
                stop.result.map_or("?".into(), |r| r.to_string())
            );
            indented(
                "       ",
                &ImageLines {
                    image: &image,
                    numbers: true,
                }
                .to_string(),
            );
            if call.syscall == Some(Syscall::Clone3) {
                let c = image.call();
                println!(
                    "       clone_args (read from the tracee): flags {:#x}, exit_signal {}, stack {:#x}+{:#x}, tls {:#x}, pidfd {:#x}, cgroup {}",
                    c.word.flags.bits(),
                    c.word.signal.number(),
                    c.stack,
                    c.stack_size,
                    c.tls,
                    c.pidfd,
                    c.cgroup
                );
            }
            if stop.result != Some(made.result) {
                problem = Some(format!(
                    "call {n} returned {:?} to the tracer but {} to the experiment",
                    stop.result, made.result
                ));
            }
        }
        None => {
            let why = if made.in_child {
                "made by a child of the experiment, which the observer does not follow"
            } else if !traced {
                "no ptrace here"
            } else {
                problem = Some(format!("no traced call had the registers of call {n}"));
                "NO traced call had these registers"
            };
            println!("     {} registers, expected ({why}):", this.name);
            indented(
                "       ",
                &ImageLines {
                    image: &expected,
                    numbers: true,
                }
                .to_string(),
            );
        }
    }
    let other = abi::other_arch();
    println!(
        "     {} registers, derived from the same call (not observed):",
        other.name
    );
    let derived = RegisterImage::on(other, call);
    indented(
        "       ",
        &ImageLines {
            image: &derived,
            numbers: true,
        }
        .to_string(),
    );
    problem
}

/// Run experiment `index` and print everything it recorded; its verdict.
fn run_one(index: usize, entry: &Entry, style: &Style) -> Verdict {
    let (result, observed, trace) = run_traced(entry);
    let mut verdict = match &result {
        Ok(o) if o.skipped.is_some() => {
            Verdict::Skipped(o.skipped.map(|l| l.to_string()).unwrap_or_default())
        }
        Ok(o) if o.holds => Verdict::Pass,
        Ok(o) => Verdict::Fail(
            o.checks
                .iter()
                .find(|c| !c.holds)
                .map_or("no observation".into(), |c| format!("not so: {}", c.claim)),
        ),
        Err(e) => match skip_reason(e) {
            Some(why) => Verdict::Skipped(why),
            None => Verdict::Fail(e.to_string()),
        },
    };
    println!(
        "{} {}",
        style.paint(
            "1",
            &format!("== {}/{} {}:", index + 1, ALL.len(), entry.name)
        ),
        entry.question
    );
    if let Ok(outcome) = &result {
        let mut problems = Vec::new();
        let total = outcome.calls.len();
        let matched = trace.as_ref().map(|t| match_trace(&outcome.calls, t));
        let stops: Vec<&CloneStop> = trace.as_ref().map_or(Vec::new(), |t| t.clones().collect());
        for (i, made) in outcome.calls.iter().enumerate() {
            let stop = matched.and_then(|m| m.stop_of[i]).map(|j| stops[j]);
            problems.extend(show_call(i + 1, total, made, stop, trace.is_some()));
        }
        if let Some(m) = matched.filter(|m| m.unrecorded_count() > 0) {
            println!(
                "   the observer saw {} call(s) the experiment did not record:",
                m.unrecorded_count()
            );
            for (stop, _) in stops.iter().zip(m.unrecorded).filter(|(_, u)| *u) {
                println!(
                    "     {}",
                    CCall(clonelab::trace::observed_image(stop).call())
                );
            }
            problems.push(format!("{} unrecorded call(s)", m.unrecorded_count()));
        }
        println!("   observed");
        indented("     ", observed.as_str());
        println!("   checks (each claim, and the values it rests on)");
        indented("     ", &outcome.checks.to_string());
        if let (Some(problem), Verdict::Pass) = (problems.first(), &verdict) {
            verdict = Verdict::Fail(problem.clone());
        }
    }
    println!("   {}   see {}\n", style.verdict(&verdict), entry.chapter);
    verdict
}

/// Run `entries` in order with a header (arch, kernel, pid, euid) and a tally.
fn tour(entries: &[(usize, &Entry)]) -> ExitCode {
    let style = Style {
        colour: std::io::stdout().is_terminal(),
    };
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!(
        "clonelab tour on {}, Linux {} (pid {}, euid {})\n",
        clonelab::arch::NAME,
        release.trim(),
        clonelab::sys::getpid(),
        clonelab::sys::geteuid()
    );
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    for (i, entry) in entries {
        match run_one(*i, entry, &style) {
            Verdict::Pass => pass += 1,
            Verdict::Fail(_) => fail += 1,
            Verdict::Skipped(_) => skip += 1,
        }
    }
    println!("tour: {pass} passed, {fail} failed, {skip} skipped");
    if fail == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `clonelab tour`: every experiment, in the order of `ALL`.
pub fn tour_all() -> ExitCode {
    let indexed: Vec<(usize, &Entry)> = ALL.iter().enumerate().collect();
    tour(&indexed)
}

/// `clonelab run NAME`: one experiment, numbered as in the whole tour.
pub fn run_named(name: &str) -> ExitCode {
    match ALL.iter().enumerate().find(|(_, e)| e.name == name) {
        Some(found) => tour(&[found]),
        None => {
            eprintln!("clonelab: no experiment {name:?}; `clonelab list` shows them");
            ExitCode::from(2)
        }
    }
}

/// `clonelab list`: each experiment's name and question.
pub fn list() -> ExitCode {
    for entry in ALL {
        println!("{:<18} {}", entry.name, entry.question);
    }
    ExitCode::SUCCESS
}

/// `clonelab chapter-calls`: run every experiment (traced) and print, for
/// each, the Markdown the chapters embed between their `calls` markers; an
/// experiment that fails, or whose record disagrees with the trace, stops it.
/// `cargo xtask docs` splices the output into `docs/*.md`.
pub fn chapter_calls() -> ExitCode {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    for entry in ALL {
        let (result, _, trace) = run_traced(entry);
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                eprintln!("clonelab: {}: {e}", entry.name);
                return ExitCode::FAILURE;
            }
        };
        if let Some(trace) = &trace {
            let m = match_trace(&outcome.calls, trace);
            if m.unmatched(&outcome.calls).next().is_some() || m.unrecorded_count() > 0 {
                eprintln!(
                    "clonelab: {}: the record disagrees with the trace",
                    entry.name
                );
                return ExitCode::FAILURE;
            }
        }
        println!("@@@ {} {}", entry.chapter, entry.name);
        println!("#### `{}`: {}\n", entry.name, entry.question);
        println!(
            "_Recorded on {}, Linux {}, euid {}._\n",
            clonelab::arch::NAME,
            release.trim(),
            clonelab::sys::geteuid()
        );
        if let Some(why) = outcome.skipped {
            println!("_Not run where this was generated: {why}._\n");
            continue;
        }
        if !outcome.holds {
            eprintln!(
                "clonelab: {}: the observation contradicts the claim",
                entry.name
            );
            return ExitCode::FAILURE;
        }
        for (i, made) in outcome.calls.iter().enumerate() {
            print!(
                "{}",
                ChapterCall {
                    number: i + 1,
                    made
                }
            );
        }
    }
    ExitCode::SUCCESS
}
