//! # The tour as a reader sees it: whole labels, words not Rust, one line each.
//!
//! The tour (`src/bin/clonelab/tour.rs`) prints what every experiment
//! recorded. Asserted here, for every entry of `clonelab::experiments::ALL`
//! run as the tour runs it:
//!
//! - no label is cut: every call's label, every check's claim and evidence,
//!   the reason to skip and the printed observation fit the record
//!   (`Label::is_cut`, `TextBuffer::is_cut`), and no check was dropped;
//! - no Rust `Debug` text reaches the reader (`Some(`, `None`, `Ok(`, `Err(`,
//!   `Exited(`, a `[true, false]` list ...), nor a bare `true`/`false`;
//! - every evidence names what its values are (not `false false true`).
//!
//! And the command line: `clonelab tour --brief` prints one line per entry
//! with its verdict and what it showed; `help`, `--help` and `-h` list every
//! command (an unknown one prints the same to stderr and exits 2); `run`
//! takes every name `list` shows.

use crate::common;

use clonelab::experiments::ALL;

/// Rust `Debug` renderings that must not reach the reader.
const DEBUG_TEXT: [&str; 14] = [
    "Some(",
    "None",
    "Ok(",
    "Err(",
    "Exited(",
    "Signaled {",
    "Stopped(",
    "Continued",
    "StaticText(",
    "Label(",
    "CloneFlags(",
    "FlagsWord(",
    "ExitSignal(",
    "WaitStatus",
];

/// Why `text` reads as Rust rather than words, if it does.
fn debug_leak(text: &str) -> Option<String> {
    if let Some(found) = DEBUG_TEXT.iter().find(|d| text.contains(*d)) {
        return Some(format!("Debug text {found:?}"));
    }
    // A Debug list: `[` followed by a value and `, `: `[true, true]`, `[1, 2, 3]`.
    for (i, _) in text.match_indices('[') {
        let inside = &text[i + 1..];
        let end = inside.find(']').unwrap_or(inside.len());
        let items: Vec<&str> = inside[..end].split(", ").collect();
        if items.len() > 1
            && items
                .iter()
                .all(|v| v.parse::<i64>().is_ok() || matches!(*v, "true" | "false"))
        {
            return Some(format!("a Debug list {:?}", &text[i..i + 1 + end + 1]));
        }
    }
    let words = text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_');
    if let Some(bare) = words.clone().find(|w| matches!(*w, "true" | "false")) {
        return Some(format!("a bare {bare:?} (say what it is, in words)"));
    }
    None
}

/// Whether `evidence` names something besides its values: a word that is
/// not a number, an address, or a bare verdict word.
fn names_its_values(evidence: &str) -> bool {
    evidence
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .any(|w| {
            !w.chars().all(|c| c.is_ascii_digit())
                && !w.starts_with("0x")
                && !matches!(w, "yes" | "no" | "same" | "different" | "true" | "false")
        })
}

/// Every label of every experiment fits its record, and none reads as Rust.
#[test]
fn every_rendered_label_is_whole_and_in_words() {
    let mut problems = Vec::new();
    for ran in common::run_every_experiment() {
        let name = ran.entry.name;
        let o = &ran.outcome;
        let mut texts: Vec<(String, String, bool)> = Vec::new();
        for (i, made) in o.calls.iter().enumerate() {
            let what = format!("call {}'s label", i + 1);
            texts.push((what, made.label.to_string(), made.label.is_cut()));
        }
        for check in o.checks.iter() {
            texts.push((
                "a claim".into(),
                check.claim.to_string(),
                check.claim.is_cut(),
            ));
            let cut = check.evidence.is_cut();
            texts.push((
                format!("the evidence of {:?}", check.claim.as_str()),
                check.evidence.to_string(),
                cut,
            ));
            if !names_its_values(check.evidence.as_str()) {
                problems.push(format!(
                    "{name}: the evidence of {:?} does not name its values: {:?}",
                    check.claim.as_str(),
                    check.evidence.as_str()
                ));
            }
        }
        if let Some(why) = o.skipped {
            texts.push(("the reason to skip".into(), why.to_string(), why.is_cut()));
        }
        texts.push((
            "the observation".into(),
            ran.text.as_str().to_string(),
            ran.text.is_cut(),
        ));
        if o.checks.dropped() > 0 {
            problems.push(format!("{name}: {} check(s) dropped", o.checks.dropped()));
        }
        for (what, text, cut) in texts {
            if cut {
                problems.push(format!("{name}: {what} is cut: {text:?}"));
            }
            for line in text.lines() {
                if let Some(leak) = debug_leak(line) {
                    problems.push(format!("{name}: {what}: {leak} in {line:?}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The checks above catch what they claim to: a cut label, Debug text, values without names.
#[test]
fn the_checks_catch_what_they_look_for() {
    use clonelab::experiments::record::{Label, LABEL_BYTES};
    let long = "x".repeat(LABEL_BYTES + 1);
    let cut = Label::new(&long);
    assert!(cut.is_cut() && cut.to_string().contains("[cut:"), "{cut}");
    assert!(!Label::new(&long[..LABEL_BYTES]).is_cut());
    let mut checks = clonelab::experiments::record::Checks::new();
    checks.check(true, "a claim", format_args!("{long}"));
    assert!(!checks.all_hold(), "a cut evidence must not hold");
    for leak in [
        "clone [Some(true), Some(false)]",
        "both children exited 0: (Exited(0), Exited(0))",
        "each was reaped with its own exit code: [1, 2, 3]",
        "only the thread joins our thread group: false false true",
    ] {
        assert!(debug_leak(leak).is_some(), "not caught: {leak}");
    }
    assert!(debug_leak("clone3 set_tid = [our own pid]").is_none());
    assert!(!names_its_values("false false true"));
    assert!(!names_its_values("same, different"));
    assert!(names_its_values("with CLONE_VM same, without different"));
}

/// `clonelab tour --brief`: a header, one line per entry in tour order (its
/// number, name, PASS/FAIL/SKIPPED and what it showed, from its record: the
/// first check's claim, or the reason it was skipped), then the tally.
#[test]
fn brief_tour_prints_one_line_per_experiment_with_its_verdict() {
    let (code, out, err) = common::clonelab(&["tour", "--brief"]);
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("clonelab tour on "), "{out}");
    let entries = &lines[1..lines.len() - 1];
    assert_eq!(entries.len(), ALL.len(), "one line per entry:\n{out}");
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    for (i, (line, entry)) in entries.iter().zip(ALL).enumerate() {
        let mut words = line.split_whitespace();
        assert_eq!(
            words.next(),
            Some(format!("{}/{}", i + 1, ALL.len()).as_str()),
            "{line}"
        );
        assert_eq!(words.next(), Some(entry.name), "{line}");
        match words.next() {
            Some("PASS") => pass += 1,
            Some("FAIL") => fail += 1,
            Some("SKIPPED") => skip += 1,
            other => panic!("no verdict after the name, but {other:?}: {line}"),
        }
        let shown: Vec<&str> = words.collect();
        assert!(
            !shown.is_empty(),
            "{}: nothing said of what it showed: {line}",
            entry.name
        );
        if let Some(leak) = debug_leak(line) {
            panic!("{}: {leak}: {line}", entry.name);
        }
    }
    assert_eq!(
        lines[lines.len() - 1],
        format!("tour: {pass} passed, {fail} failed, {skip} skipped"),
        "{out}"
    );
    assert_eq!(code, (fail > 0) as i32, "exit status\n{out}\n{err}");
    // What it showed comes from the record: a PASS line holds the entry's
    // first check's claim, a SKIPPED line its reason.
    for ran in common::run_every_experiment() {
        let line = entries
            .iter()
            .find(|l| l.split_whitespace().nth(1) == Some(ran.entry.name))
            .unwrap_or_else(|| panic!("no line for {}:\n{out}", ran.entry.name));
        let said = match (ran.outcome.skipped, ran.outcome.checks.iter().next()) {
            (Some(why), _) => why.to_string(),
            (None, Some(first)) if line.contains(" PASS ") => first.claim.to_string(),
            _ => continue,
        };
        assert!(
            line.contains(&said),
            "{}: {said:?} not in {line:?}",
            ran.entry.name
        );
    }
}

/// `help`, `--help` and `-h` list every command, a line each, and exit 0;
/// an unknown command prints the same to stderr and exits 2.
#[test]
fn help_lists_every_command() {
    let commands = [
        "tour ",
        "tour --brief",
        "list ",
        "run NAME",
        "explain VALUE",
        "container [OPTIONS] -- CMD ARGS...",
        "trace [OPTIONS] -- CMD ARGS...",
        "help, --help, -h",
    ];
    let (_, help, _) = common::clonelab(&["help"]);
    for args in [&["help"][..], &["--help"], &["-h"]] {
        let (code, out, err) = common::clonelab(args);
        assert_eq!((code, err.as_str()), (0, ""), "clonelab {args:?}");
        assert_eq!(out, help, "clonelab {args:?} prints the same help");
        for command in commands {
            assert!(
                out.lines().any(|l| l.trim_start().starts_with(command)),
                "clonelab {args:?} does not list {command:?}:\n{out}"
            );
        }
    }
    for args in [&["no-such-command"][..], &[], &["tour", "--no-such-option"]] {
        let (code, out, err) = common::clonelab(args);
        assert_eq!((code, out.as_str()), (2, ""), "clonelab {args:?}");
        assert!(
            err.contains(&help),
            "clonelab {args:?} prints the help to stderr:\n{err}"
        );
    }
}

/// `clonelab list` shows every entry's name, and `clonelab run NAME` takes
/// each one (`newns.propagation`, `namespaces.uts` included), and a module's
/// name for all its cases; an unknown name exits 2.
#[test]
fn run_takes_every_name_list_shows() {
    let (code, out, _) = common::clonelab(&["list"]);
    assert_eq!(code, 0);
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let all: Vec<&str> = ALL.iter().map(|e| e.name).collect();
    assert_eq!(names, all, "list shows every entry, in tour order");
    for name in names {
        let (code, out, err) = common::clonelab(&["run", name, "--brief"]);
        let ran: Vec<&str> = out
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(name))
            .collect();
        assert_eq!(ran.len(), 1, "run {name}:\n{out}\n{err}");
        assert!(
            code == 0 || ran[0].contains(" FAIL "),
            "run {name}: exit {code}\n{err}"
        );
    }
    let (code, out, _) = common::clonelab(&["run", "namespaces", "--brief"]);
    let cases = ALL.iter().filter(|e| e.module == "namespaces").count();
    let ran = out.lines().filter(|l| l.contains(" namespaces.")).count();
    assert_eq!(
        (code, ran),
        (0, cases),
        "run namespaces runs every case:\n{out}"
    );
    let (code, _, err) = common::clonelab(&["run", "no_such_experiment"]);
    assert_eq!(code, 2, "{err}");
}
