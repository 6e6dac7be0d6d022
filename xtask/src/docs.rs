//! `cargo xtask docs [--check]`: the generated parts of the chapters.
//!
//! Every experiment chapter has two marked sections:
//!
//! - `calls`: rendered by `clonelab chapter-calls` from the record of a host
//!   run (as root): each call's C call, flag bits, exit signal and a register
//!   table for all six arches. Addresses are named, so the text is the same on
//!   every run of the same kernel; `--check` fails when a chapter differs.
//! - `observed`: copied from the tour in `target/qemu/<arch>.log` (the serial
//!   log of `cargo xtask qemu`), for every arch that has a log: the first
//!   arch's open, the others folded into one `<details>`. These are captures of one run
//!   (pids, inodes), refreshed by `cargo xtask docs` when a log exists and
//!   never compared by `--check`, which only requires the section to exist.
//!
//! Both modes also check that every link of a page of `docs/` into the cost
//! report (`costs.md#row`) names an anchor `docs/costs.md` has.

use crate::arch::Arch;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const CALLS_BEGIN: &str = "<!-- BEGIN GENERATED calls:";
const CALLS_END: &str = "<!-- END GENERATED calls -->";
const OBSERVED_BEGIN: &str = "<!-- BEGIN GENERATED observed:";
const OBSERVED_END: &str = "<!-- END GENERATED observed -->";

/// Replace what lies between the line starting with `begin` and the line
/// `end` (both kept) with `body`.
fn splice(text: &str, begin: &str, end: &str, body: &str) -> Option<String> {
    let start = text.find(begin)?;
    let open_end = start + text[start..].find('\n')? + 1;
    let close = open_end + text[open_end..].find(end)?;
    Some(format!("{}{}{}", &text[..open_end], body, &text[close..]))
}

/// The Markdown `clonelab chapter-calls` prints, grouped by chapter file
/// (entries in tour order).
fn chapter_calls() -> Result<BTreeMap<String, String>, String> {
    if effective_uid() != 0 {
        return Err(
            "needs root: the records come from running every experiment, namespaces included"
                .into(),
        );
    }
    let out = Command::new("cargo")
        .args([
            "run",
            "--quiet",
            "--release",
            "--bin",
            "clonelab",
            "--",
            "chapter-calls",
        ])
        .output()
        .map_err(|e| format!("cargo run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "clonelab chapter-calls failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8(out.stdout).map_err(|e| e.to_string())?;
    let mut chapters: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("@@@ ") {
            let chapter = rest.split_whitespace().next().unwrap_or("").to_string();
            chapters.entry(chapter.clone()).or_default();
            current = Some(chapter);
        } else if let Some(c) = &current {
            let body = chapters.get_mut(c).expect("entry made above");
            body.push_str(line);
            body.push('\n');
        }
    }
    Ok(chapters)
}

/// The effective uid, from /proc (xtask has no libc).
fn effective_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|u| u.parse().ok())
        .unwrap_or(u32::MAX)
}

/// Per tour entry name: the lines of its block in a VM's serial log that say
/// what happened (the header, each call's headline and C call, the registers
/// ptrace observed on that arch, on one line, the observation and the
/// verdict), without the other arch's derived registers.
fn vm_tour(log: &str) -> BTreeMap<String, String> {
    let mut entries = BTreeMap::new();
    let mut name: Option<String> = None;
    let mut body = String::new();
    let mut in_observed = false;
    // The register lines of the image ptrace observed, collected into one line.
    let mut observed_registers: Option<Vec<String>> = None;
    let mut finish = |name: &mut Option<String>, body: &mut String| {
        if let Some(n) = name.take() {
            entries.insert(n, std::mem::take(body));
        }
    };
    for raw in log.lines() {
        let line = strip_ansi(raw.trim_end_matches('\r'));
        if line.starts_with("== ") {
            finish(&mut name, &mut body);
            // "== 3/23 newpid: question"
            name = line
                .split_whitespace()
                .nth(2)
                .map(|n| n.trim_end_matches(':').to_string());
            in_observed = false;
            body.push_str(&line);
            body.push('\n');
            continue;
        }
        if line.starts_with("tour: ") {
            finish(&mut name, &mut body);
            continue;
        }
        if name.is_none() {
            continue;
        }
        let trimmed = line.trim_start();
        if let Some(registers) = &mut observed_registers {
            // "       r2   0x000003ff9b3f7fb0  stack_top (stack)"
            let mut fields = trimmed.split_whitespace();
            if let (Some(name), Some(hex)) = (fields.next(), fields.next()) {
                if hex.starts_with("0x") {
                    let what = trimmed[trimmed.find(hex).unwrap_or(0) + hex.len()..].trim_start();
                    let value = what.split(" (").next().unwrap_or(what);
                    registers.push(format!("{name}={value}"));
                    continue;
                }
            }
            body.push_str(&format!(
                "     registers observed by ptrace: {}\n",
                registers.join(" ")
            ));
            observed_registers = None;
        }
        if trimmed.contains(" registers, observed by ptrace") {
            observed_registers = Some(Vec::new());
            continue;
        }
        let keep = in_observed
            || trimmed.starts_with("call ")
            || trimmed.starts_with("C call")
            || trimmed.starts_with("observed");
        if trimmed.starts_with("observed") {
            in_observed = true;
        }
        if keep && !trimmed.is_empty() {
            body.push_str(&line);
            body.push('\n');
        }
        if trimmed.starts_with("PASS")
            || trimmed.starts_with("FAIL")
            || trimmed.starts_with("SKIPPED")
        {
            finish(&mut name, &mut body);
        }
    }
    entries
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The entries whose chapter is `chapter`, from the `@@@` lines' order.
fn entries_of(calls: &str) -> Vec<String> {
    calls
        .lines()
        .filter_map(|l| l.strip_prefix("#### `"))
        .filter_map(|l| l.split('`').next().map(str::to_string))
        .collect()
}

/// The text without its `_Recorded on <arch>, Linux <release>, euid N._`
/// lines: which kernel a table was recorded on is provenance, not content, so
/// the check passes on another kernel whose calls are the same.
fn without_provenance(text: &str) -> String {
    text.lines()
        .filter(|line| !line.starts_with("_Recorded on "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `costs.md#row` link of the pages of `docs/` whose anchor
/// `docs/costs.md` lacks, as `page: row`.
fn dangling_cost_links() -> Result<Vec<String>, String> {
    const LINK: &str = "(costs.md#";
    let ledger = std::fs::read_to_string("docs/costs.md").unwrap_or_default();
    let mut pages: Vec<_> = std::fs::read_dir("docs")
        .map_err(|e| format!("docs: {e}"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.sort();
    let mut dangling = Vec::new();
    for page in pages {
        let chapter = page.display();
        let text = std::fs::read_to_string(&page).map_err(|e| format!("{chapter}: {e}"))?;
        for tail in text.split(LINK).skip(1) {
            let row = tail.split(')').next().unwrap_or_default();
            if !ledger.contains(&format!("<a id=\"{row}\">")) {
                dangling.push(format!("{chapter}: {row}"));
            }
        }
    }
    Ok(dangling)
}

/// The tour's blocks of the entries `names` in one VM's serial `log`, as a
/// headed `text` block; None when the log has none of them.
fn capture(arch: &str, log: &str, names: &[String]) -> Option<String> {
    let tour = vm_tour(log);
    let blocks: Vec<&String> = names.iter().filter_map(|n| tour.get(n)).collect();
    if blocks.is_empty() {
        return None;
    }
    // "clonelab tour on aarch64, Linux 6.1.0-57-arm64 (pid 1, euid 0)"
    let kernel = log
        .lines()
        .find_map(|l| l.split("clonelab tour on ").nth(1))
        .and_then(|l| l.split(" (").next())
        .unwrap_or(arch);
    let mut text =
        format!("**{kernel}** (the tour in a VM, `target/qemu/{arch}.log`):\n\n```text\n");
    for b in blocks {
        text.push_str(b);
    }
    text.push_str("```\n\n");
    Some(text)
}

/// The `observed` section: the first arch's capture open, the others folded
/// into one `<details>` (blank lines around its Markdown, so that it renders).
fn observed_section(captures: &[(&str, String)]) -> String {
    let Some(((_, first), rest)) = captures.split_first() else {
        return String::new();
    };
    let mut text = first.clone();
    if rest.is_empty() {
        return text;
    }
    let names: Vec<&str> = rest.iter().map(|(arch, _)| *arch).collect();
    let listed = match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, others)) => format!("{} and {last}", others.join(", ")),
        None => unreachable!("rest is not empty"),
    };
    text.push_str(&format!(
        "<details><summary>The same experiment on {listed}</summary>\n\n"
    ));
    for (_, capture) in rest {
        text.push_str(capture);
    }
    text.push_str("</details>\n\n");
    text
}

/// Regenerate (or with `check`, compare) every chapter.
pub fn run(check: bool) -> Result<(), String> {
    let chapters = chapter_calls()?;
    let logs: Vec<(&str, Option<String>)> = Arch::ALL
        .iter()
        .map(|arch| arch.name())
        .map(|arch| {
            (
                arch,
                std::fs::read_to_string(format!("target/qemu/{arch}.log")).ok(),
            )
        })
        .collect();
    let mut stale = Vec::new();
    for (chapter, calls) in &chapters {
        let path = Path::new(chapter);
        let text = std::fs::read_to_string(path).map_err(|e| format!("{chapter}: {e}"))?;
        let mut new = splice(&text, CALLS_BEGIN, CALLS_END, calls)
            .ok_or(format!("{chapter}: no `calls` markers"))?;
        if !new.contains(OBSERVED_BEGIN) || !new.contains(OBSERVED_END) {
            return Err(format!("{chapter}: no `observed` markers"));
        }
        if check {
            if without_provenance(&new) != without_provenance(&text) {
                stale.push(chapter.clone());
            }
            continue;
        }
        let names = entries_of(calls);
        let captures: Vec<(&str, String)> = logs
            .iter()
            .filter_map(|(arch, log)| Some((*arch, capture(arch, log.as_deref()?, &names)?)))
            .collect();
        let captured = observed_section(&captures);
        if !captured.is_empty() {
            new = splice(&new, OBSERVED_BEGIN, OBSERVED_END, &captured).expect("checked above");
        }
        if new != text {
            std::fs::write(path, &new).map_err(|e| format!("{chapter}: {e}"))?;
            println!("xtask: wrote {chapter}");
        }
    }
    let dangling = dangling_cost_links()?;
    if !dangling.is_empty() {
        return Err(format!(
            "links to rows docs/costs.md does not have (run `cargo xtask bench --costs`): {}",
            dangling.join(", ")
        ));
    }
    if !stale.is_empty() {
        return Err(format!(
            "stale generated sections (run `cargo xtask docs` as root): {}",
            stale.join(", ")
        ));
    }
    if check {
        println!(
            "xtask: docs: {} chapters' call tables are current",
            chapters.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "clonelab tour on ARCH, Linux 6.1.0-57-ARCH (pid 1, euid 0)\n\
== 1/23 clone_vm: Does the parent see what a CLONE_VM child writes?\n\
   call 1/2: with CLONE_VM  -> child 18023\n\
   observed\n\
     the parent read 0x5eed\n\
   PASS\n\
tour: 1 passed, 0 failed, 0 skipped\n";

    #[test]
    fn the_first_arch_open_the_others_folded() {
        let names = vec!["clone_vm".to_string()];
        let captures: Vec<(&str, String)> = ["aarch64", "x86_64", "i386"]
            .iter()
            .map(|arch| {
                (
                    *arch,
                    capture(arch, &LOG.replace("ARCH", arch), &names).unwrap(),
                )
            })
            .collect();
        let section = observed_section(&captures);
        let open = section.find("**aarch64, Linux 6.1.0-57-aarch64**").unwrap();
        let fold = section
            .find("<details><summary>The same experiment on x86_64 and i386</summary>\n\n")
            .unwrap();
        let x86_64 = section.find("**x86_64, Linux").unwrap();
        assert!(open < fold && fold < x86_64, "{section}");
        assert!(section.ends_with("```\n\n</details>\n\n"), "{section}");
        assert!(section.contains("the parent read 0x5eed"));
        // One arch: nothing folded; none: nothing at all.
        assert!(!observed_section(&captures[..1]).contains("<details>"));
        assert_eq!(observed_section(&[]), "");
        let four: Vec<(&str, String)> = ["a", "b", "c", "d"]
            .iter()
            .map(|a| (*a, String::new()))
            .collect();
        assert!(observed_section(&four).contains("on b, c and d</summary>"));
    }

    #[test]
    fn markers_are_found_wherever_they_sit() {
        let chapter = "# T\n\n## What was observed\n\nProse.\n\n<!-- BEGIN GENERATED observed: x -->\nold\n<!-- END GENERATED observed -->\n\n## Appendix\n\n<!-- BEGIN GENERATED calls: y -->\nold\n<!-- END GENERATED calls -->\n";
        let new = splice(chapter, CALLS_BEGIN, CALLS_END, "new calls\n").unwrap();
        let new = splice(&new, OBSERVED_BEGIN, OBSERVED_END, "new observed\n").unwrap();
        assert!(new.contains("x -->\nnew observed\n<!-- END GENERATED observed -->\n\n## Appendix"));
        assert!(new.ends_with("y -->\nnew calls\n<!-- END GENERATED calls -->\n"));
    }
}
