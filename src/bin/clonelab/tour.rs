//! The tour: `clonelab tour [--brief]`, `list`, `run NAME` and `chapter-calls`.
//!
//! Runs the experiments of `clonelab::experiments::ALL`, each under the
//! library's ptrace observer (`clonelab::trace`) where it can, and renders
//! everything it prints from what was recorded: each call's C form, its flag
//! bits and signal byte (`clonelab::abi`), the registers the observer saw on
//! this arch, the image the same call has on another arch (derived), then
//! the experiment's observations and checks, and PASS / FAIL / SKIPPED. A call
//! the observer saw that the experiment did not record, or the reverse, is a
//! FAIL; so is a label or an observation too long for the record to hold
//! (`Label::is_cut`, `TextBuffer::is_cut`): nothing is cut silently.
//! `--brief` prints one line per experiment instead: its name, its verdict
//! and what it showed (its first check, claim and evidence, from the record;
//! for a FAIL the check that failed, for a SKIPPED the reason).
//! `chapter-calls` renders the same records as the chapters' Markdown.
//!
//! Called from `main.rs`; uses clonelab's public API and std only.

use clonelab::abi::{self, CCall, FlagBits, ImageLines};
use clonelab::experiments::record::{match_trace, ChapterCall, LABEL_BYTES, MAX_CHECKS};
use clonelab::experiments::{Entry, Made, Outcome, TextBuffer, ALL};
use clonelab::flags::Syscall;
use clonelab::trace::{trace, CloneStop, Trace};
use clonelab::{Errno, Error, RegisterImage};
use std::io::IsTerminal;
use std::process::ExitCode;

/// How an experiment ended.
#[derive(Clone)]
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

    /// The verdict's word alone, padded to a column (`--brief`).
    fn verdict_word(&self, v: &Verdict) -> String {
        let (code, word) = match v {
            Verdict::Pass => ("32;1", "PASS"),
            Verdict::Fail(_) => ("31;1", "FAIL"),
            Verdict::Skipped(_) => ("33;1", "SKIPPED"),
        };
        let pad = " ".repeat(8 - word.len());
        format!("{}{pad}", self.paint(code, word))
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

/// Why recorded call `n` contradicts the trace, if it does: the traced call
/// with its registers returned something else, or no traced call has its
/// registers (unless a child of the experiment made it, which the observer
/// does not follow, or nothing was traced).
fn call_problem(n: usize, made: &Made, stop: Option<&CloneStop>, traced: bool) -> Option<String> {
    match stop {
        Some(stop) if stop.result != Some(made.result) => Some(format!(
            "call {n} returned {} to the tracer but {} to the experiment",
            stop.result.map_or("nothing".into(), |r| r.to_string()),
            made.result
        )),
        Some(_) => None,
        None if !made.in_child && traced => {
            Some(format!("no traced call had the registers of call {n}"))
        }
        None => None,
    }
}

/// Print one recorded call: its C call, its flags word split into bits and
/// the signal byte, the registers observed on this arch (or expected, where
/// the observer could not see the call), and the image derived for another
/// arch ([`call_problem`] says whether it contradicts the trace).
fn show_call(n: usize, total: usize, made: &Made, stop: Option<&CloneStop>, traced: bool) {
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
    match stop {
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
        }
        None => {
            let why = if made.in_child {
                "made by a child of the experiment, which the observer does not follow"
            } else if !traced {
                "no ptrace here"
            } else {
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
}

/// One experiment's run: what it returned and printed, what the observer
/// saw, and the verdict all of it adds up to.
struct Run {
    result: Result<Outcome, Error>,
    observed: TextBuffer,
    trace: Option<Trace>,
    verdict: Verdict,
}

/// Why an outcome whose checks do not all hold fails: a label too long for
/// the record, checks past what it keeps, or the first check that failed.
fn fail_reason(o: &Outcome) -> String {
    if let Some(label) = o.checks.cut_label().or(o.calls.cut_label()) {
        let start: String = label.as_str().chars().take(60).collect();
        return format!(
            "a label does not fit the {LABEL_BYTES} bytes a record holds: \"{start}...\""
        );
    }
    if o.checks.dropped() > 0 {
        return format!(
            "{} check(s) past the {MAX_CHECKS} a record keeps",
            o.checks.dropped()
        );
    }
    o.checks
        .iter()
        .find(|c| !c.holds)
        .map_or("no observation".into(), |c| format!("not so: {}", c.claim))
}

/// Run `entry` (traced where possible) and judge it: its checks, its record
/// against the trace, and whether everything it rendered fit.
fn run(entry: &Entry) -> Run {
    let (result, observed, trace) = run_traced(entry);
    let mut verdict = match &result {
        Ok(o) if o.skipped.is_some() => {
            Verdict::Skipped(o.skipped.map(|l| l.to_string()).unwrap_or_default())
        }
        Ok(o) if o.holds => Verdict::Pass,
        Ok(o) => Verdict::Fail(fail_reason(o)),
        Err(e) => match skip_reason(e) {
            Some(why) => Verdict::Skipped(why),
            None => Verdict::Fail(e.to_string()),
        },
    };
    if let (Ok(outcome), Verdict::Pass) = (&result, &verdict) {
        let mut problems = Vec::new();
        if let Some(label) = outcome.calls.cut_label() {
            problems.push(format!(
                "a call's label does not fit the {LABEL_BYTES} bytes a record holds: \"{}...\"",
                label.as_str().chars().take(60).collect::<String>()
            ));
        }
        if observed.is_cut() {
            problems.push("the observation is longer than the text a record holds".into());
        }
        if let Some(t) = &trace {
            let m = match_trace(&outcome.calls, t);
            let stops: Vec<&CloneStop> = t.clones().collect();
            for (i, made) in outcome.calls.iter().enumerate() {
                let stop = m.stop_of[i].map(|j| stops[j]);
                problems.extend(call_problem(i + 1, made, stop, true));
            }
            if m.unrecorded_count() > 0 {
                problems.push(format!("{} unrecorded call(s)", m.unrecorded_count()));
            }
        }
        if let Some(problem) = problems.into_iter().next() {
            verdict = Verdict::Fail(problem);
        }
    }
    Run {
        result,
        observed,
        trace,
        verdict,
    }
}

/// Print everything experiment `index` recorded, and its verdict.
fn print_run(index: usize, entry: &Entry, run: &Run, style: &Style) {
    println!(
        "{} {}",
        style.paint(
            "1",
            &format!("== {}/{} {}:", index + 1, ALL.len(), entry.name)
        ),
        entry.question
    );
    if let Ok(outcome) = &run.result {
        let trace = run.trace.as_ref();
        let total = outcome.calls.len();
        let matched = trace.map(|t| match_trace(&outcome.calls, t));
        let stops: Vec<&CloneStop> = trace.map_or(Vec::new(), |t| t.clones().collect());
        for (i, made) in outcome.calls.iter().enumerate() {
            let stop = matched.and_then(|m| m.stop_of[i]).map(|j| stops[j]);
            show_call(i + 1, total, made, stop, trace.is_some());
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
        }
        println!("   observed");
        indented("     ", run.observed.as_str());
        if run.observed.is_cut() {
            println!("     [cut: the observation is longer than the text a record holds]");
        }
        println!("   checks (each claim, and the values it rests on)");
        indented("     ", &outcome.checks.to_string());
    }
    println!(
        "   {}   see {}\n",
        style.verdict(&run.verdict),
        entry.chapter
    );
}

/// What an experiment showed, on one line: its first check (claim and
/// evidence) and how many more held; for a FAIL, the check that failed (or
/// the reason); for a SKIPPED, the reason.
fn shown(run: &Run) -> String {
    match (&run.result, &run.verdict) {
        (_, Verdict::Skipped(why)) => why.clone(),
        (Ok(o), Verdict::Pass) => {
            let mut checks = o.checks.iter();
            match checks.next() {
                Some(first) => {
                    let more = checks.count();
                    let rest = if more > 0 {
                        format!(" (and {more} more check(s), all hold)")
                    } else {
                        String::new()
                    };
                    format!("{}: {}{rest}", first.claim, first.evidence)
                }
                None => "no check".into(),
            }
        }
        (Ok(o), Verdict::Fail(why)) => match o.checks.iter().find(|c| !c.holds) {
            Some(c) => format!("{why}: {}", c.evidence),
            None => why.clone(),
        },
        (Err(_), Verdict::Fail(why)) => why.clone(),
        (Err(e), Verdict::Pass) => e.to_string(),
    }
}

/// Run `entries` in order with a header (arch, kernel, pid, euid) and a
/// tally; each printed in full, or on one line with `brief`.
fn tour(entries: &[(usize, &Entry)], brief: bool) -> ExitCode {
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
    let width = ALL.iter().map(|e| e.name.len()).max().unwrap_or(0);
    for (i, entry) in entries {
        let run = run(entry);
        if brief {
            println!(
                "{:>2}/{} {:<width$}  {} {}",
                i + 1,
                ALL.len(),
                entry.name,
                style.verdict_word(&run.verdict),
                shown(&run)
            );
        } else {
            print_run(*i, entry, &run, &style);
        }
        match run.verdict {
            Verdict::Pass => pass += 1,
            Verdict::Fail(_) => fail += 1,
            Verdict::Skipped(_) => skip += 1,
        }
    }
    if brief {
        println!();
    }
    println!("tour: {pass} passed, {fail} failed, {skip} skipped");
    if fail == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `clonelab tour [--brief]`: every experiment, in the order of `ALL`.
pub fn tour_all(brief: bool) -> ExitCode {
    let indexed: Vec<(usize, &Entry)> = ALL.iter().enumerate().collect();
    tour(&indexed, brief)
}

/// `clonelab run NAME [--brief]`: one experiment by the name `clonelab list`
/// shows (`clone_vm`, `newns.propagation`), numbered as in the whole tour; or
/// every case of a module (`run namespaces`: `namespaces.uts`, `.ipc`, ...).
pub fn run_named(name: &str, brief: bool) -> ExitCode {
    let exact: Vec<(usize, &Entry)> = ALL
        .iter()
        .enumerate()
        .filter(|(_, e)| e.name == name)
        .collect();
    let chosen = if exact.is_empty() {
        ALL.iter()
            .enumerate()
            .filter(|(_, e)| e.module == name)
            .collect()
    } else {
        exact
    };
    if chosen.is_empty() {
        eprintln!("clonelab: no experiment {name:?}; `clonelab list` shows them");
        return ExitCode::from(2);
    }
    tour(&chosen, brief)
}

/// `clonelab list`: each experiment's name (what `run` takes) and question.
pub fn list() -> ExitCode {
    let width = ALL.iter().map(|e| e.name.len()).max().unwrap_or(0);
    for entry in ALL {
        println!("{:<width$}  {}", entry.name, entry.question);
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
