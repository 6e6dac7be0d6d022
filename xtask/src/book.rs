//! `cargo xtask book [--check]`: the book, built with mdBook and checked.
//!
//! The chapters are `docs/*.md`, ordered by `docs/SUMMARY.md`; `docs/book.toml`
//! sends the HTML to `target/book/html/`. mdBook [`MDBOOK_VERSION`] is
//! installed once into the cache (`~/.cache/clonelab/mdbook-<version>/`, with
//! `cargo install`, search kept, its server left out). After the build, the
//! source trees the chapters link to (`../src/...`, `../examples/...`,
//! `../../arch/...` from `docs/trampolines/`) are copied into `target/book/`,
//! so that a link resolves from an HTML page exactly as it does from the
//! Markdown on disk.
//!
//! With `--check` (and always in `cargo xtask test`), five checks:
//!
//! - **a** mdBook built the book and printed no `WARN` or `ERROR` line;
//! - **b** every relative link and `#anchor` of every page resolves: the file
//!   exists in `target/book/` (a page or a copied source) and, for
//!   `page.html#id`, that page has an element with that id;
//! - **c** every chapter of the part `# Learning clone` of SUMMARY.md (but
//!   `introduction.md`) has the one chapter shape: its SUMMARY.md title as its
//!   `#` heading, a `**tl;dr**` line, the headings [`SHAPE`] in that order with
//!   no other `##` heading among them, no generated block before
//!   `## What was observed`, an `{{#include ../examples/...}}` in
//!   `## The program` and at least two `<details>` in `## Exercises`;
//! - **d** every example a chapter includes exists and has 30 to 80 lines;
//! - **e** Debian's chromium, headless, loads `index.html` and two chapters:
//!   each shows its body text, its SUMMARY.md title as its `<h1>`, no "not
//!   found" page, and a sidebar (built by mdBook's `toc.js`, so read from the
//!   DOM after the scripts ran) with every SUMMARY.md entry. Screenshots are
//!   kept in `target/book-shots/`.

use crate::tally::Tally;
use crate::timed;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The mdBook the book is built with.
pub const MDBOOK_VERSION: &str = "0.5.4";

/// Where the book goes: the HTML in `html/`, the copied trees beside it.
const BOOK: &str = "target/book";
const HTML: &str = "target/book/html";
const SHOTS: &str = "target/book-shots";

/// What is copied beside the HTML, so that the chapters' links into the
/// repository resolve.
const COPIED: &[&str] = &[
    "src",
    "tests",
    "examples",
    "arch",
    "benches",
    "xtask",
    "build.rs",
    "Cargo.toml",
    "README.md",
];

/// The `##` headings of a chapter, in order.
pub const SHAPE: [&str; 7] = [
    "## The question",
    "## Predict",
    "## The program",
    "## What the kernel does",
    "## What was observed",
    "## Try this",
    "## Exercises",
];

/// SUMMARY.md's part of the chapters [`SHAPE`] applies to, and the part after it.
const LEARNING_PART: &str = "Learning clone";
const REFERENCE_PART: &str = "Reference";

/// Examples a chapter may include whatever their length.
const LONG_EXAMPLES: &[&str] = &["vm_init.rs", "supervisor.rs"];

/// The pages the browser loads.
const BROWSED: &[&str] = &["index.html", "clone_vm.html", "container.html"];

/// How long chromium may take for one page.
const BROWSER_LIMIT: Duration = Duration::from_secs(60);

/// One check's result: what it found (passed) or why it failed.
pub type Check = (&'static str, Result<String, String>);

/// The cached mdBook, installed with `cargo install` when missing (progress
/// to `sink`).
pub fn mdbook(sink: &mut dyn Write) -> Result<PathBuf, String> {
    let root = crate::cache::dir(&format!("mdbook-{MDBOOK_VERSION}"))?;
    let binary = root.join("bin/mdbook");
    if binary.is_file() {
        return Ok(binary);
    }
    let _ = writeln!(
        sink,
        "xtask: installing mdBook {MDBOOK_VERSION} into {} (cargo install, a few minutes, once)",
        root.display()
    );
    let out = Command::new("cargo")
        .args([
            "install",
            "mdbook",
            "--version",
            MDBOOK_VERSION,
            "--locked",
            "--no-default-features",
            "--features",
            "search",
            "--root",
        ])
        .arg(&root)
        .output()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    let _ = sink.write_all(&out.stderr);
    if !out.status.success() || !binary.is_file() {
        let text = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        return Err(format!(
            "cargo install mdbook {MDBOOK_VERSION} failed ({}):{}",
            out.status,
            indent(&tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
        ));
    }
    let _ = writeln!(sink, "xtask: installed {}", binary.display());
    Ok(binary)
}

/// Debian's chromium, installed with apt when missing (as root).
pub fn provide_chromium() -> Result<(), String> {
    crate::apt::ensure_packages(&[("chromium", "/usr/bin/chromium")])
}

/// `chromium` on PATH.
fn find_chromium() -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
        .ok_or_else(|| "no chromium on PATH (as root: apt-get install chromium)".to_string())
}

/// Build the book and copy the trees beside it; mdBook's output (returned)
/// also goes to `sink`.
fn build(mdbook: &Path, sink: &mut dyn Write) -> Result<String, String> {
    let out = Command::new(mdbook)
        .args(["build", "docs"])
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", mdbook.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = sink.write_all(text.as_bytes());
    if !out.status.success() {
        return Err(format!(
            "mdbook build docs: {}:{}",
            out.status,
            indent(&text)
        ));
    }
    copy_trees()?;
    Ok(text)
}

/// Copy [`COPIED`] into `target/book/`, replacing what an earlier build left.
fn copy_trees() -> Result<(), String> {
    for name in COPIED {
        let from = Path::new(name);
        let to = Path::new(BOOK).join(name);
        if to.is_dir() {
            std::fs::remove_dir_all(&to).map_err(|e| format!("{}: {e}", to.display()))?;
        }
        if from.exists() {
            copy(from, &to)?;
        }
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    let err = |e: std::io::Error| format!("copying {} to {}: {e}", from.display(), to.display());
    if from.is_dir() {
        std::fs::create_dir_all(to).map_err(err)?;
        for entry in std::fs::read_dir(from).map_err(err)? {
            let entry = entry.map_err(err)?;
            if entry.file_name() == "target" {
                continue;
            }
            copy(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to).map(drop).map_err(err)
    }
}

/// `cargo xtask book [--check]`.
pub fn run(check: bool) -> Result<Vec<(String, Tally)>, String> {
    let mut out = std::io::stdout();
    if !check {
        let mdbook = mdbook(&mut out)?;
        build(&mdbook, &mut out)?;
        println!("xtask: the book is {HTML}/index.html");
        return Ok(Vec::new());
    }
    let chromium = provide_chromium();
    let mdbook = mdbook(&mut out);
    let checks = checks(&mut out, mdbook, chromium);
    Ok(vec![("book".to_string(), tally(&checks))])
}

/// One check per entry, passed or failed with its message.
pub fn tally(checks: &[Check]) -> Tally {
    let mut tally = Tally::default();
    for (name, result) in checks {
        match result {
            Ok(_) => tally.passed += 1,
            Err(e) => {
                tally.failed += 1;
                tally
                    .failures
                    .push(format!("book {name}: {}", shortened(e)));
            }
        }
    }
    tally
}

/// Build the book with `mdbook` (see [`mdbook`]) and run the checks a-e;
/// each result is also written to `sink`. `chromium`: whether it could be
/// provided.
pub fn checks(
    sink: &mut dyn Write,
    mdbook: Result<PathBuf, String>,
    chromium: Result<(), String>,
) -> Vec<Check> {
    let built = mdbook
        .map_err(|e| format!("no mdBook {MDBOOK_VERSION}: {e}"))
        .and_then(|mdbook| build(&mdbook, sink));
    let clean = match &built {
        Ok(output) => {
            let noisy: Vec<&str> = output.lines().filter(|l| is_warning(l)).collect();
            if noisy.is_empty() {
                Ok(format!("mdbook {MDBOOK_VERSION} built {HTML}/"))
            } else {
                Err(format!(
                    "mdbook printed {} warning(s) or error(s):{}",
                    noisy.len(),
                    indent(&noisy.join("\n"))
                ))
            }
        }
        Err(e) => Err(e.clone()),
    };
    let no_book = || Err("no book was built (see check a)".to_string());
    let summary = read_summary();
    let links = match &built {
        Ok(_) => links(),
        Err(_) => no_book(),
    };
    let shape = summary.as_ref().map_err(String::clone).and_then(shapes);
    let examples = summary.as_ref().map_err(String::clone).and_then(examples);
    let browser = match (&built, &summary) {
        (Err(_), _) => no_book(),
        (_, Err(e)) => Err(e.clone()),
        (Ok(_), Ok(summary)) => chromium
            .and_then(|()| find_chromium())
            .and_then(|chromium| browse(&chromium, summary)),
    };
    let checks: Vec<Check> = vec![
        ("a: mdbook build is clean", clean),
        ("b: links and anchors resolve", links),
        ("c: chapter shape", shape),
        ("d: included examples", examples),
        ("e: the book in a browser", browser),
    ];
    // One line each here (the summary lists every failure), all of it in REPORT.
    let mut report = String::new();
    for (name, result) in &checks {
        let _ = match result {
            Ok(note) => writeln!(sink, "xtask: book {name}: passed: {note}"),
            Err(e) => writeln!(
                sink,
                "xtask: book {name}: FAILED: {}",
                e.lines().next().unwrap_or("")
            ),
        };
        report.push_str(&match result {
            Ok(note) => format!("{name}: passed: {note}\n"),
            Err(e) => format!("{name}: FAILED: {e}\n"),
        });
    }
    let _ = std::fs::create_dir_all(BOOK).and_then(|()| std::fs::write(REPORT, report));
    checks
}

/// A line of mdBook's log at level WARN or ERROR (" WARN mdbook::...: ...").
fn is_warning(line: &str) -> bool {
    let line = line.trim_start();
    ["WARN", "ERROR", "[WARN]", "[ERROR]"]
        .iter()
        .any(|level| line.split_whitespace().take(3).any(|w| w == *level))
}

/// Lines indented under a summary line.
fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("\n        {line}"))
        .collect()
}

/// Where every check's whole message is written (the summary shows at most
/// [`SHOWN_LINES`] lines of each).
const REPORT: &str = "target/book/checks.txt";
const SHOWN_LINES: usize = 40;

/// A message cut to its first [`SHOWN_LINES`] lines.
fn shortened(message: &str) -> String {
    let lines: Vec<&str> = message.lines().collect();
    if lines.len() <= SHOWN_LINES + 1 {
        return message.to_string();
    }
    format!(
        "{}\n        ... and {} more (all of them in {REPORT})",
        lines[..=SHOWN_LINES].join("\n"),
        lines.len() - SHOWN_LINES - 1
    )
}

// ---- SUMMARY.md ----

/// One entry of SUMMARY.md: its title, its file (relative to docs/; empty for
/// a draft) and the part it is in.
pub struct Entry {
    pub title: String,
    pub path: String,
    pub part: Option<String>,
}

/// The entries of SUMMARY.md in order, and its part titles.
pub struct Summary {
    pub entries: Vec<Entry>,
    pub parts: Vec<String>,
}

fn read_summary() -> Result<Summary, String> {
    let text =
        std::fs::read_to_string("docs/SUMMARY.md").map_err(|e| format!("docs/SUMMARY.md: {e}"))?;
    Ok(parse_summary(&text))
}

/// mdBook's SUMMARY.md: an optional `# title` first, then prefix chapters,
/// `# part` lines and list items `- [title](file.md)`.
pub fn parse_summary(text: &str) -> Summary {
    let mut summary = Summary {
        entries: Vec::new(),
        parts: Vec::new(),
    };
    let mut part = None;
    let mut seen_heading = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(heading) = line.strip_prefix("# ") {
            // The first heading before any entry is the summary's title.
            if seen_heading || !summary.entries.is_empty() {
                summary.parts.push(heading.trim().to_string());
                part = Some(heading.trim().to_string());
            }
            seen_heading = true;
            continue;
        }
        let item = line
            .strip_prefix("- ")
            .or_else(|| line.strip_prefix("* "))
            .or_else(|| {
                let digits = line.find(|c: char| !c.is_ascii_digit())?;
                line[digits..].strip_prefix(". ").filter(|_| digits > 0)
            })
            .unwrap_or(line);
        let Some(rest) = item.strip_prefix('[') else {
            continue;
        };
        let Some((title, rest)) = rest.split_once("](") else {
            continue;
        };
        let path = rest.split(')').next().unwrap_or("").trim();
        summary.entries.push(Entry {
            title: title.to_string(),
            path: path.to_string(),
            part: part.clone(),
        });
    }
    summary
}

/// A title as text: Markdown's backticks and emphasis dropped, mdBook's
/// smart punctuation undone, whitespace collapsed.
fn plain_title(title: &str) -> String {
    let text = title
        .replace('`', "")
        .replace("**", "")
        .replace(['\u{2019}', '\u{2018}'], "'")
        .replace(['\u{201c}', '\u{201d}'], "\"")
        .replace('\u{2014}', "---")
        .replace('\u{2013}', "--")
        .replace('\u{2026}', "...");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---- c: the chapter shape ----

/// The chapters [`SHAPE`] applies to: SUMMARY.md's entries after the part
/// `# Learning clone` and before `# Reference`, but the introduction.
fn learning_chapters(summary: &Summary) -> Result<Vec<&Entry>, String> {
    for part in [LEARNING_PART, REFERENCE_PART] {
        if !summary.parts.iter().any(|p| p == part) {
            return Err(format!("docs/SUMMARY.md has no part line `# {part}`"));
        }
    }
    Ok(summary
        .entries
        .iter()
        .filter(|e| e.part.as_deref() == Some(LEARNING_PART))
        .filter(|e| !e.path.is_empty() && e.path != "introduction.md")
        .collect())
}

fn shapes(summary: &Summary) -> Result<String, String> {
    let chapters = learning_chapters(summary)?;
    if chapters.is_empty() {
        return Err(format!(
            "SUMMARY.md lists no chapter under `# {LEARNING_PART}`"
        ));
    }
    let mut problems = Vec::new();
    for entry in &chapters {
        let path = Path::new("docs").join(&entry.path);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let found = shape_problems(&text, &entry.title);
                if !found.is_empty() {
                    problems.push(format!("docs/{}: {}", entry.path, found.join("; ")));
                }
            }
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    if problems.is_empty() {
        Ok(format!("{} chapters have the shape", chapters.len()))
    } else {
        Err(format!(
            "{} of {} chapters differ from the shape:{}",
            problems.len(),
            chapters.len(),
            indent(&problems.join("\n"))
        ))
    }
}

/// What a chapter's text lacks of the one shape (empty: nothing).
pub fn shape_problems(text: &str, title: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    // Which lines are outside fenced code blocks.
    let mut prose = Vec::with_capacity(lines.len());
    let mut fence: Option<&str> = None;
    for line in &lines {
        let t = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| t.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => {
                fence = Some(m);
                prose.push(false);
            }
            // A closing fence is the opening's character alone, three or more.
            (Some(open), Some(m))
                if open == m && t.trim_end().chars().all(|c| m.starts_with(c)) =>
            {
                fence = None;
                prose.push(false);
            }
            (Some(_), _) => prose.push(false),
            (None, None) => prose.push(true),
        }
    }
    let headings: Vec<(usize, &str)> = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| prose[*i] && l.starts_with("## "))
        .map(|(i, l)| (i, l.trim_end()))
        .collect();
    let mut problems = Vec::new();

    match lines.iter().find(|l| !l.trim().is_empty()) {
        Some(first) if first.starts_with("# ") => {
            if plain_title(&first[2..]) != plain_title(title) {
                problems.push(format!(
                    "its title `{}` is not its SUMMARY.md title `{title}`",
                    first.trim_end()
                ));
            }
        }
        _ => problems.push(format!("it does not open with `# {title}`")),
    }

    // The headings of the shape, each once, in order, none other among them.
    let at = |wanted: &str| headings.iter().find(|(_, h)| *h == wanted).map(|(i, _)| *i);
    let mut missing = Vec::new();
    for wanted in SHAPE {
        match headings.iter().filter(|(_, h)| *h == wanted).count() {
            0 => missing.push(format!("`{wanted}`")),
            1 => {}
            n => problems.push(format!("`{wanted}` appears {n} times")),
        }
    }
    if !missing.is_empty() {
        problems.insert(0, format!("missing {}", missing.join(", ")));
    }
    let found: Vec<&str> = headings
        .iter()
        .map(|(_, h)| *h)
        .filter(|h| SHAPE.contains(h))
        .collect();
    let mut dedup = found.clone();
    dedup.dedup();
    let in_order: Vec<&str> = SHAPE
        .iter()
        .copied()
        .filter(|h| found.contains(h))
        .collect();
    if dedup == found && found != in_order {
        problems.push(format!(
            "the headings are out of order: {} (the shape: {})",
            found.join(", "),
            SHAPE.join(", ")
        ));
    }
    if let (Some(first), Some(last)) = (at(SHAPE[0]), at(SHAPE[6])) {
        for (i, h) in &headings {
            if *i > first && *i < last && !SHAPE.contains(h) {
                problems.push(format!(
                    "`{h}` (line {}) is not a heading of the shape (a `###` under one?)",
                    i + 1
                ));
            }
        }
        if let Some((i, h)) = headings.iter().find(|(i, _)| *i < first) {
            problems.push(format!(
                "`{h}` (line {}) comes before `{}`",
                i + 1,
                SHAPE[0]
            ));
        }
    }

    // The tl;dr before the question.
    let tldr = lines
        .iter()
        .position(|l| l.trim_start().starts_with("**tl;dr**"));
    match (tldr, at(SHAPE[0])) {
        (None, _) => problems.push("no `**tl;dr**` line".to_string()),
        (Some(t), Some(q)) if t > q => {
            problems.push(format!("its `**tl;dr**` line comes after `{}`", SHAPE[0]))
        }
        _ => {}
    }

    // No generated block before what was observed.
    let observed = at(SHAPE[4]).unwrap_or(lines.len());
    if let Some(i) = lines[..observed]
        .iter()
        .position(|l| l.contains("<!-- BEGIN GENERATED"))
    {
        problems.push(format!(
            "a generated block (line {}) comes before `{}`",
            i + 1,
            SHAPE[4]
        ));
    }

    // The section of a heading: its lines up to the next `##` heading.
    let section = |wanted: &str| -> Option<&[&str]> {
        let start = at(wanted)?;
        let end = headings
            .iter()
            .map(|(i, _)| *i)
            .find(|i| *i > start)
            .unwrap_or(lines.len());
        Some(&lines[start + 1..end])
    };
    if let Some(program) = section(SHAPE[2]) {
        if !program
            .iter()
            .any(|l| l.trim_start().starts_with("{{#include ../examples/"))
        {
            problems.push(format!(
                "`{}` has no `{{{{#include ../examples/NAME.rs}}}}` line",
                SHAPE[2]
            ));
        }
    }
    if let Some(exercises) = section(SHAPE[6]) {
        let answers: usize = exercises
            .iter()
            .map(|l| l.matches("<details").count())
            .sum();
        if answers < 2 {
            problems.push(format!(
                "`{}` has {answers} `<details>` (answers), at least 2 wanted",
                SHAPE[6]
            ));
        }
    }
    problems
}

// ---- d: the examples the chapters include ----

/// Every `{{#include ...}}` (or `#rustdoc_include`) of `text` whose file is
/// under `examples/`, resolved from `dir` (the chapter's directory), as a
/// path relative to the repository.
fn included_examples(text: &str, dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        for tail in text.split(directive).skip(1) {
            let Some(arg) = tail.split("}}").next() else {
                continue;
            };
            // `file.rs:anchor` or `file.rs:10:20`: the file is what precedes ':'.
            let file = arg.trim().split(':').next().unwrap_or("");
            let path = normalize(&dir.join(file));
            if path.components().any(|c| c.as_os_str() == "examples") {
                found.push(path);
            }
        }
    }
    found
}

fn examples(summary: &Summary) -> Result<String, String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in summary.entries.iter().filter(|e| !e.path.is_empty()) {
        let chapter = Path::new("docs").join(&entry.path);
        let Ok(text) = std::fs::read_to_string(&chapter) else {
            continue; // check a reports a chapter that is not there
        };
        let dir = chapter.parent().unwrap_or(Path::new("docs"));
        for example in included_examples(&text, dir) {
            if !seen.insert(example.clone()) {
                continue;
            }
            let name = example.file_name().and_then(|n| n.to_str()).unwrap_or("");
            match std::fs::read_to_string(&example) {
                Err(e) => problems.push(format!(
                    "{} includes {}: {e}",
                    chapter.display(),
                    example.display()
                )),
                Ok(source) => {
                    let n = source.lines().count();
                    if !(30..=80).contains(&n) && !LONG_EXAMPLES.contains(&name) {
                        problems.push(format!(
                            "{} has {n} lines (30 to 80 wanted; included by {})",
                            example.display(),
                            chapter.display()
                        ));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{} examples included, each 30 to 80 lines",
            seen.len()
        ))
    } else {
        Err(format!(
            "{} problem(s):{}",
            problems.len(),
            indent(&problems.join("\n"))
        ))
    }
}

// ---- HTML ----

/// The values of every `name="..."` (or `'...'`) attribute in `html`.
fn attributes(html: &str, name: &str) -> Vec<String> {
    let mut values = Vec::new();
    let pattern = format!("{name}=");
    let mut from = 0;
    while let Some(at) = html[from..].find(&pattern) {
        let start = from + at;
        from = start + pattern.len();
        let before = html[..start].chars().next_back();
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let Some(quote) = html[from..]
            .chars()
            .next()
            .filter(|q| *q == '"' || *q == '\'')
        else {
            continue;
        };
        let value_start = from + 1;
        if let Some(len) = html[value_start..].find(quote) {
            values.push(decode_entities(&html[value_start..value_start + len]));
            from = value_start + len;
        }
    }
    values
}

/// `&amp;` and friends, and numeric references.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `%20` and friends.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The text of an HTML fragment: scripts, styles and tags dropped, entities
/// decoded, whitespace collapsed.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        text.push(' ');
        rest = &rest[lt..];
        let lower = rest.get(..7).unwrap_or("").to_ascii_lowercase();
        let close = if lower.starts_with("<script") {
            "</script>"
        } else if lower.starts_with("<style") {
            "</style>"
        } else {
            ">"
        };
        match rest.find(close) {
            Some(end) => rest = &rest[end + close.len()..],
            None => rest = "",
        }
    }
    text.push_str(rest);
    let text = decode_entities(&text);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The part of `html` from the first `<tag` at or after `from` to its `</tag>`
/// (the first one: no nesting of the same tag is expected).
fn element<'a>(html: &'a str, open: &str, tag: &str) -> Option<&'a str> {
    let start = html.find(open)?;
    let end = html[start..].find(&format!("</{tag}>"))? + start;
    Some(&html[start..end + tag.len() + 3])
}

/// Lexically normalized `path` (`a/./b/../c` -> `a/c`); `..` past the start kept.
fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    out.iter().collect()
}

// ---- b: links and anchors ----

/// Every `.html` file under `dir`, sorted.
fn pages(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|x| x == "html") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn links() -> Result<String, String> {
    let html = Path::new(HTML);
    let book = Path::new(BOOK);
    let mut ids: HashMap<PathBuf, HashSet<String>> = HashMap::new();
    let mut ids_of = |page: &Path| -> HashSet<String> {
        ids.entry(page.to_path_buf())
            .or_insert_with(|| {
                let text = std::fs::read_to_string(page).unwrap_or_default();
                let mut set: HashSet<String> = attributes(&text, "id").into_iter().collect();
                set.extend(attributes(&text, "name"));
                set
            })
            .clone()
    };
    let mut broken = Vec::new();
    let mut external = BTreeSet::new();
    let mut count = 0;
    // 404.html is for a web server (its `<base href="/">` makes every link
    // absolute); a book read from disk never shows it.
    let pages: Vec<PathBuf> = pages(html)
        .into_iter()
        .filter(|p| p != &html.join("404.html"))
        .collect();
    for page in &pages {
        let text = std::fs::read_to_string(page).map_err(|e| format!("{}: {e}", page.display()))?;
        let shown = page
            .strip_prefix(html)
            .unwrap_or(page)
            .display()
            .to_string();
        let dir = page.parent().unwrap_or(html);
        let mut targets = attributes(&text, "href");
        targets.extend(attributes(&text, "src"));
        for target in targets {
            count += 1;
            let target = target.trim();
            if let Some((scheme, _)) = target.split_once(':') {
                if !scheme.contains('/') && !scheme.contains('#') {
                    if (scheme == "http" || scheme == "https") && shown != "print.html" {
                        external.insert(format!("{shown}: {target}"));
                    }
                    continue; // mailto:, javascript:, data:
                }
            }
            if target.starts_with("//") {
                external.insert(format!("{shown}: {target}"));
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((p, f)) => (p, Some(percent_decode(f))),
                None => (target, None),
            };
            let path = path.split('?').next().unwrap_or("");
            if path.starts_with('/') {
                broken.push(format!("{shown}: {target} (absolute: it leaves the book)"));
                continue;
            }
            let file = if path.is_empty() {
                page.clone()
            } else {
                normalize(&dir.join(percent_decode(path)))
            };
            if !file.starts_with(book) {
                broken.push(format!("{shown}: {target} (outside {BOOK}/)"));
                continue;
            }
            if !file.exists() {
                broken.push(format!("{shown}: {target}"));
                continue;
            }
            if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
                if file.extension().is_some_and(|x| x == "html")
                    && !ids_of(&file).contains(&fragment)
                {
                    broken.push(format!("{shown}: {target} (no id `{fragment}` there)"));
                }
            }
        }
    }
    // print.html holds every chapter: a fragment missing from a chapter's
    // target is missing there too, and is reported once, for the chapter.
    let elsewhere: HashSet<String> = broken
        .iter()
        .filter(|b| !b.starts_with("print.html: "))
        .filter_map(|b| Some(b.split_once('#')?.1.split(' ').next()?.to_string()))
        .collect();
    broken.retain(|b| {
        !b.starts_with("print.html: #")
            || !elsewhere.contains(b["print.html: #".len()..].split(' ').next().unwrap_or(""))
    });
    broken.sort();
    broken.dedup();
    let note = if external.is_empty() {
        String::new()
    } else {
        format!(
            "\nnote: {} external link(s), not followed:{}",
            external.len(),
            indent(&external.into_iter().collect::<Vec<_>>().join("\n"))
        )
    };
    if broken.is_empty() {
        Ok(format!(
            "{count} links and anchors in {} pages resolve{note}",
            pages.len()
        ))
    } else {
        Err(format!(
            "{} broken link(s) (page: href){}{note}",
            broken.len(),
            indent(&broken.join("\n"))
        ))
    }
}

// ---- e: the browser ----

/// The common arguments of a headless chromium run.
fn chromium_command(chromium: &Path, profile: &Path) -> Command {
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        "--window-size=1280,1600",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// Run chromium with `arg` on `url`; its standard output.
fn chromium_run(chromium: &Path, profile: &Path, arg: &str, url: &str) -> Result<String, String> {
    let ran = timed::run(
        chromium_command(chromium, profile).args([arg, url]),
        BROWSER_LIMIT,
    )?;
    match ran.status {
        None => Err(format!(
            "chromium {arg} {url} ran past {} s and was killed",
            BROWSER_LIMIT.as_secs()
        )),
        Some(status) if !status.success() => {
            let tail: Vec<&str> = ran.stderr.lines().rev().take(10).collect();
            Err(format!(
                "chromium {arg} {url}: {status}:{}",
                indent(&tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
            ))
        }
        Some(_) => Ok(ran.stdout),
    }
}

fn browse(chromium: &Path, summary: &Summary) -> Result<String, String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let shots = cwd.join(SHOTS);
    std::fs::create_dir_all(&shots).map_err(|e| format!("{}: {e}", shots.display()))?;
    // A profile of its own: no lock shared with another chromium.
    let profile = std::env::temp_dir().join(format!("clonelab-chromium-{}", std::process::id()));
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for page in BROWSED {
        match browse_page(chromium, &profile, &cwd, &shots, page, summary) {
            Ok(note) => seen.push(note),
            Err(e) => problems.push(format!("{page}: {e}")),
        }
    }
    let _ = std::fs::remove_dir_all(&profile);
    if problems.is_empty() {
        Ok(format!("{}; screenshots in {SHOTS}/", seen.join("; ")))
    } else {
        Err(format!(
            "{} problem(s):{}",
            problems.len(),
            indent(&problems.join("\n"))
        ))
    }
}

/// The smallest screenshot taken as a page with something on it: a blank
/// 1280x1600 PNG is a few KiB.
const MIN_SHOT_BYTES: u64 = 20_000;

/// The least text a page's `<main>` holds.
const MIN_TEXT: usize = 200;

fn browse_page(
    chromium: &Path,
    profile: &Path,
    cwd: &Path,
    shots: &Path,
    page: &str,
    summary: &Summary,
) -> Result<String, String> {
    let entry = if page == "index.html" {
        // mdBook's index.html is its first chapter.
        summary.entries.iter().find(|e| !e.path.is_empty())
    } else {
        let source = page.replace(".html", ".md");
        summary.entries.iter().find(|e| e.path == source)
    };
    let entry = entry.ok_or("SUMMARY.md lists no such chapter")?;
    let file = cwd.join(HTML).join(page);
    if !file.is_file() {
        return Err(format!("{} was not built", file.display()));
    }
    let url = format!("file://{}", file.display());
    let dom = chromium_run(chromium, profile, "--dump-dom", &url)?;
    let mut problems = Vec::new();

    // Not a "not found" page.
    let title = element(&dom, "<title", "title")
        .map(text_of)
        .unwrap_or_default();
    let lower = title.to_lowercase();
    if dom.contains("ERR_FILE_NOT_FOUND")
        || dom.contains("neterror")
        || lower.contains("not found")
        || lower.contains("404")
    {
        problems.push(format!("a \"not found\" page (title {title:?})"));
    }
    // Its body, and its title as the <h1> of <main> (the menu bar has one too).
    match element(&dom, "<main", "main") {
        None => problems.push("no <main> in the page (blank?)".to_string()),
        Some(main) => {
            let text = text_of(main);
            if text.chars().count() < MIN_TEXT {
                problems.push(format!(
                    "blank: its <main> holds {} characters of text",
                    text.chars().count()
                ));
            }
            let h1 = element(main, "<h1", "h1").map(text_of);
            match h1 {
                None => problems.push("no <h1> in <main>".to_string()),
                Some(h1) if plain_title(&h1) != plain_title(&entry.title) => problems.push(
                    format!("its <h1> is {h1:?}, SUMMARY.md's title {:?}", entry.title),
                ),
                Some(_) => {}
            }
        }
    }
    // The sidebar, as toc.js built it: every entry of SUMMARY.md.
    match element(&dom, "<nav id=\"mdbook-sidebar\"", "nav") {
        None => problems.push("no sidebar (<nav id=\"mdbook-sidebar\">)".to_string()),
        Some(nav) => {
            let base = cwd.join(HTML);
            let dir = Path::new(page).parent().unwrap_or(Path::new(""));
            let linked: HashSet<PathBuf> = attributes(nav, "href")
                .iter()
                .map(|h| {
                    let h = h.split('#').next().unwrap_or("");
                    match h.strip_prefix("file://") {
                        Some(abs) => Path::new(abs)
                            .strip_prefix(&base)
                            .map(Path::to_path_buf)
                            .unwrap_or_default(),
                        None => normalize(&dir.join(percent_decode(h))),
                    }
                })
                .collect();
            let text = plain_title(&text_of(nav));
            let mut missing = Vec::new();
            for e in &summary.entries {
                let present = if e.path.is_empty() {
                    text.contains(&plain_title(&e.title))
                } else {
                    linked.contains(&PathBuf::from(e.path.replace(".md", ".html")))
                };
                if !present {
                    missing.push(format!("{} ({})", e.title, e.path));
                }
            }
            for part in &summary.parts {
                if !text.contains(&plain_title(part)) {
                    missing.push(format!("the part title {part:?}"));
                }
            }
            if !missing.is_empty() {
                problems.push(format!("the sidebar lacks: {}", missing.join(", ")));
            }
        }
    }
    // A screenshot, kept.
    let shot = shots.join(page.replace(".html", ".png"));
    let _ = std::fs::remove_file(&shot);
    chromium_run(
        chromium,
        profile,
        &format!("--screenshot={}", shot.display()),
        &url,
    )?;
    let bytes = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    if bytes < MIN_SHOT_BYTES {
        problems.push(format!(
            "its screenshot {} has {bytes} bytes (blank?)",
            shot.display()
        ));
    }
    if problems.is_empty() {
        Ok(format!("{page} shows {:?}", entry.title))
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "# Summary\n\n[Introduction](introduction.md)\n\n# Learning clone\n\n- [CLONE_VM: one address space](clone_vm.md)\n- [Draft]()\n\n# Reference\n\n- [The trampolines](trampolines.md)\n    - [x86_64](trampolines/x86_64.md)\n";

    #[test]
    fn summary_entries_and_parts() {
        let s = parse_summary(SUMMARY);
        assert_eq!(s.parts, ["Learning clone", "Reference"]);
        let paths: Vec<&str> = s.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "introduction.md",
                "clone_vm.md",
                "",
                "trampolines.md",
                "trampolines/x86_64.md"
            ]
        );
        assert_eq!(s.entries[0].part, None);
        assert_eq!(s.entries[1].part.as_deref(), Some("Learning clone"));
        let learning: Vec<&str> = learning_chapters(&s)
            .unwrap()
            .iter()
            .map(|e| e.path.as_str())
            .collect();
        assert_eq!(learning, ["clone_vm.md"]);
    }

    fn chapter(skip: &str) -> String {
        let mut text = String::from("# CLONE_VM: one address space\n\n**tl;dr** It is shared.\n\n");
        for h in SHAPE {
            if h == skip {
                continue;
            }
            text.push_str(h);
            text.push_str("\n\ntext\n\n");
            if h == "## The program" {
                text.push_str(
                    "```rust,noplayground\n{{#include ../examples/clone_vm.rs}}\n```\n\n",
                );
            }
            if h == "## What was observed" {
                text.push_str(
                    "<!-- BEGIN GENERATED observed: x -->\n<!-- END GENERATED observed -->\n\n",
                );
            }
            if h == "## Exercises" {
                text.push_str("1. Q\n\n   <details><summary>Answer</summary>\n\n   A\n\n   </details>\n\n2. Q\n\n   <details><summary>Answer</summary>\n\n   A\n\n   </details>\n");
            }
        }
        text
    }

    #[test]
    fn the_shape() {
        let title = "`CLONE_VM`: one address space";
        assert_eq!(shape_problems(&chapter(""), title), Vec::<String>::new());
        let missing = shape_problems(&chapter("## Predict"), title);
        assert_eq!(missing, ["missing `## Predict`"]);
        let fenced = chapter("").replace("## Try this", "```text\n## Try this\n```");
        assert!(shape_problems(&fenced, title)
            .iter()
            .any(|p| p.contains("## Try this")));
        let generated_early = chapter("").replace(
            "**tl;dr** It is shared.",
            "**tl;dr** It is shared.\n\n<!-- BEGIN GENERATED calls: x -->",
        );
        assert_eq!(shape_problems(&generated_early, title).len(), 1);
        let one_answer = chapter("").replacen("<details>", "<p>", 1);
        assert_eq!(shape_problems(&one_answer, title).len(), 1);
        let swapped = chapter("")
            .replace("## Predict", "## TMP")
            .replace("## The question", "## Predict")
            .replace("## TMP", "## The question");
        assert!(!shape_problems(&swapped, title).is_empty());
        let retitled = shape_problems(&chapter(""), "Another title");
        assert_eq!(retitled.len(), 1);
    }

    #[test]
    fn html_helpers() {
        let html = r#"<a href="a.html#x" id="top"><span id='s'>T &amp; U</span></a><script>var x = "<a href='no'>";</script>"#;
        assert_eq!(attributes(html, "id"), ["top", "s"]);
        assert_eq!(text_of(html), "T & U");
        assert_eq!(percent_decode("a%20b%2"), "a b%2");
        assert_eq!(percent_decode("%C3%A9%é"), "é%é");
        assert_eq!(
            normalize(Path::new("a/./b/../../../c")),
            PathBuf::from("../c")
        );
        assert_eq!(plain_title("It\u{2019}s \u{2013} `x`"), "It's -- x");
        assert!(is_warning(" WARN mdbook::preprocess: Unable to find x"));
        assert!(!is_warning(" INFO Book building has started"));
    }

    #[test]
    fn includes_resolve_from_the_chapter() {
        let text = "{{#include ../examples/clone_vm.rs}}\n{{#include ../../examples/a.rs:5:9}}\n{{#include ../src/x.rs}}";
        assert_eq!(
            included_examples(text, Path::new("docs")),
            [
                PathBuf::from("examples/clone_vm.rs"),
                PathBuf::from("../examples/a.rs")
            ]
        );
    }
}
