//! `docs/costs.md` and `docs/costs.svg`, written from one run's records
//! (and the run before, if any): the machine, the per-flag ledger with its
//! plot, what each flag costs in the kernel, the sustained rate of the
//! namespaces torn down later, the container start against its peers with
//! the targets, what was skipped, the agreement with the run before, and
//! the Try this and Exercises every chapter ends with.
//!
//! Part of `xtask/src/bench/`; `costs` calls [`report`]. Std only.

use super::costs::{keyed, ledger, starts, Cost, CLONELAB, CONTAINER_SET, TARGETS};
use super::costs_text::{
    CONTAINER, CONTAINER_TRACE, FLAGS, IN_A_ROW, METHOD, NOTES, NOT_IN_LEDGER, STUDY,
};
use super::format::{esc, human, interval, repeat};
use super::ratios::agreement_of;
use super::records::Run;
use super::report::{agreement_section, machine, passes_section};
use super::stats::{median, Est};
use super::svg::ratio_svg;
use std::fmt::Write as _;

/// The set of the 1,000-in-a-row batches.
const IN_A_ROW_SET: &str = "costs, 1000 in a row";

/// The anchor of a ledger row, for the chapters' links: "clone_vm-clone_sighand".
pub(super) fn anchor(name: &str) -> String {
    name.to_lowercase()
        .replace('|', "-")
        .replace([' ', '(', ')'], "")
}

/// "costs more" / "costs less" / "within noise" for a ratio to a baseline.
fn cost_word(e: &Est) -> &'static str {
    if e.lo > 1.0 {
        "costs more"
    } else if e.hi < 1.0 {
        "costs less"
    } else {
        "within noise"
    }
}

fn ratio_cells(c: &Cost) -> String {
    format!(
        "{:.3} | {} | {} | {}",
        c.est.mid,
        interval(&c.est),
        repeat(&c.est),
        cost_word(&c.est)
    )
}

/// What a flag adds per child, from its paired ratio ([`Cost::added`]):
/// "5.7 µs [5.4 µs, 6.0 µs]", or "within noise [−412.0 ns, 531.0 ns]"
/// where the ratio's CI holds 1.0 (then the added time's holds 0).
fn added_cell(c: &Cost) -> String {
    let e = &c.added;
    let ci = format!("[{}, {}]", human(e.lo), human(e.hi));
    match cost_word(&c.est) {
        "within noise" => format!("within noise {ci}"),
        _ => format!("{} {ci}", human(e.mid)),
    }
}

/// The mounts cell of the container table, from a tool's `M mounts` record
/// ("N: point type \[ro\], ...") and, for a tool that keeps the host's root,
/// its `M host_mounts` record ("KEPT ABSENT": the host's mounts it kept and
/// those it lacks): such a tree is summarised, not listed (it holds the
/// private paths of the machine that ran it), and only what the tool added
/// is listed.
pub(super) fn mounts_cell(mounts: &str, host: Option<&String>) -> String {
    let Some(host) = host else {
        return mounts.to_string();
    };
    let mut counts = host.split(' ').map(|n| n.parse::<usize>().unwrap_or(0));
    let (kept, absent) = (counts.next().unwrap_or(0), counts.next().unwrap_or(0));
    let tree = match absent {
        0 => format!("the host's mount tree, {kept} mounts"),
        n => format!("the host's mount tree, {kept} of its {} mounts", kept + n),
    };
    match mounts.split_once(": ") {
        Some((n, list)) if n != "0" => format!("{tree}; added {n}: {list}"),
        _ => format!("{tree}; none added"),
    }
}

/// The table of what each tool's container was made of, from the bench's
/// records: the command line it ran, and what its probe saw inside (new
/// namespaces, the mount table, `lo`). The cgroup column reads the
/// command line: the probe cannot see its cgroup through a cgroup
/// namespace, whose root is wherever the container started.
fn container_isolation(md: &mut String, run: &Run) {
    let Some(set) = run.set(CONTAINER_SET) else {
        return;
    };
    md.push_str(
        "\n| tool | command line | new namespaces | mounts in the container | `lo` | cgroup asked for |\n\
         |---|---|---|---|---|---|\n",
    );
    for s in &set.series {
        let record = |what: &str| run.meta(&format!("{what} {}", s.name)).to_string();
        let command = record("command");
        let cgroup = if command.contains("--cgroup-manager=cgroupfs") {
            "one per container (`--cgroup-manager=cgroupfs`)"
        } else if command.contains("--cgroup-manager=disabled") {
            "none (`--cgroup-manager=disabled`)"
        } else {
            "none (the tool's own)"
        };
        let _ = writeln!(
            md,
            "| {} | `{}` | {} | {} | {} | {cgroup} |",
            esc(&s.name),
            esc(&command),
            record("namespaces"),
            esc(&mounts_cell(
                &record("mounts"),
                run.meta.get(&format!("host_mounts {}", s.name))
            )),
            record("lo"),
        );
    }
}

/// The whole report and its plot.
pub(super) fn report(run: &Run, previous: Option<&Run>, svg_name: &str) -> (String, String) {
    let ledger = ledger(run);
    let starts = starts(run);
    let mut md = String::from("# What each clone flag costs\n\n");
    md.push_str(&METHOD.replace("{PASSES}", run.meta("passes")));
    md.push('\n');
    machine(&mut md, run);
    let _ = writeln!(
        md,
        "- mounts this process saw (what CLONE_NEWNS copies): {}",
        run.meta("mounts")
    );

    // The ledger.
    let _ = write!(
        md,
        "\n## The ledger\n\nCreate+reap of a child made with the flag, over the same child made without it \
         (the baseline), paired by round. A ratio above 1 is what the flag adds.\n\n\
         ![per-flag ratios and the container start]({svg_name})\n\n\
         | flag | measured against | ratio | 95 % CI | repeat interval | | per child | baseline | added per child [95 % CI] | set, rounds |\n\
         |---|---|---:|---:|---:|---|---:|---:|---:|---|\n"
    );
    for c in ledger.iter().filter(|c| c.set != IN_A_ROW_SET) {
        let _ = writeln!(
            md,
            "| <a id=\"{}\"></a>{} | {} | {} | {} | {} | {} | {}, {} |",
            anchor(&c.name),
            esc(&c.name),
            esc(&c.baseline),
            ratio_cells(c),
            human(c.ns),
            human(c.baseline_ns),
            added_cell(c),
            c.set,
            c.rounds
        );
    }
    // A row the host refused keeps its anchor, so the chapters' links hold.
    for (name, reason) in run.meta.iter().filter_map(|(k, v)| {
        let name = k.strip_prefix("skip ")?;
        name.starts_with("CLONE_").then_some((name, v))
    }) {
        let _ = writeln!(
            md,
            "| <a id=\"{}\"></a>{} | | skipped: {} | | | | | | | |",
            anchor(name),
            esc(name),
            esc(reason)
        );
    }
    let measured: Vec<&str> = ledger.iter().map(|c| c.name.as_str()).collect();
    md.push_str("\n### What each flag makes the kernel do\n\n");
    for (name, text) in FLAGS {
        let status = if measured.contains(name) {
            String::new()
        } else {
            format!(
                " *Not measured in this run: {}.*",
                run.meta
                    .get(&format!("skip {name}"))
                    .map_or("no record", String::as_str)
            )
        };
        let _ = writeln!(
            md,
            "- **[{}](#{})**: {text}{status}",
            esc(name),
            anchor(name)
        );
    }

    md.push_str("\n### Not in the ledger\n\n");
    for (name, why) in NOT_IN_LEDGER {
        let _ = writeln!(md, "- <a id=\"{}\"></a>**{name}**: {why}", anchor(name));
    }

    // Many in a row.
    md.push_str("\n## Many in a row\n\n");
    md.push_str(IN_A_ROW);
    let batch = run
        .set(IN_A_ROW_SET)
        .and_then(|s| s.series.first())
        .map_or(0, |s| s.batch);
    let _ = write!(
        md,
        "\n| flag | children in a row | ratio to as many `SIGCHLD only` | 95 % CI | repeat interval | | per child in the row | baseline per child in the row | per child, ledger | rounds |\n\
         |---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n"
    );
    for c in ledger.iter().filter(|c| c.set == IN_A_ROW_SET) {
        let single = ledger
            .iter()
            .find(|l| l.set != IN_A_ROW_SET && l.name == c.name)
            .map_or(String::new(), |l| human(l.ns));
        let _ = writeln!(
            md,
            "| <a id=\"{}-in-a-row\"></a>{} | {batch} | {} | {} | {} | {single} | {} |",
            anchor(&c.name),
            esc(&c.name),
            ratio_cells(c),
            human(c.ns),
            human(c.baseline_ns),
            c.rounds
        );
    }

    // The container start.
    md.push_str("\n## <a id=\"container-start\"></a>Container start, side by side\n\n");
    md.push_str(CONTAINER);
    container_isolation(&mut md, run);
    if let Some(set) = run.set(CONTAINER_SET) {
        let _ = write!(
            md,
            "\n{} rounds. Start-to-exit wall time, median and quartiles over rounds; the ratio is clonelab's over the tool's:\n\n\
             | tool | median | quartiles | clonelab / tool | 95 % CI | repeat interval | |\n|---|---:|---:|---:|---:|---:|---|\n",
            set.rounds()
        );
        for s in &set.series {
            let mut v = s.ns.clone();
            v.sort_by(f64::total_cmp);
            let q = |p: usize| v[(v.len() - 1) * p / 4];
            let ratio =
                starts
                    .iter()
                    .find(|c| c.baseline == s.name)
                    .map_or(" | | | ".to_string(), |c| {
                        format!(
                            "{:.3} | {} | {} | {}",
                            c.est.mid,
                            interval(&c.est),
                            repeat(&c.est),
                            if c.est.hi < 1.0 {
                                "clonelab faster"
                            } else if c.est.lo > 1.0 {
                                "clonelab slower"
                            } else {
                                "within noise"
                            }
                        )
                    });
            let name = if s.name == CLONELAB {
                format!("**{}**", s.name)
            } else {
                esc(&s.name)
            };
            let _ = writeln!(
                md,
                "| {name} | {} | {} – {} | {ratio} |",
                human(median(&s.ns)),
                human(q(1)),
                human(q(3))
            );
        }
        md.push_str("\n### Targets\n\n| target | ratio | 95 % CI | wanted | verdict |\n|---|---:|---:|---|---|\n");
        for (peer, want) in TARGETS {
            let what = format!("clonelab container vs {peer}");
            match starts.iter().find(|c| c.baseline == *peer) {
                Some(c) => {
                    let _ = writeln!(
                        md,
                        "| {what} | {:.3} | {} | {} | {} |",
                        c.est.mid,
                        interval(&c.est),
                        want.text(),
                        want.verdict(&c.est)
                    );
                }
                None => {
                    let _ = writeln!(md, "| {what} | not measured | | {} | |", want.text());
                }
            }
        }
        md.push('\n');
        md.push_str(CONTAINER_TRACE);
    } else {
        md.push_str("\nNot measured in this run (see *Skipped* below).\n");
    }

    // Skips and notes.
    let skipped: Vec<(&str, &String)> = run
        .meta
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("skip ")?, v)))
        .collect();
    let notes: Vec<(&str, &String)> = run
        .meta
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("note ")?, v)))
        .collect();
    md.push_str("\n## Skipped, and how peers were run\n\n");
    if skipped.is_empty() && notes.is_empty() {
        md.push_str("Nothing was skipped: every path ran on this host.\n");
    }
    for (name, reason) in skipped {
        let _ = writeln!(md, "- **{}** was not measured: {}", esc(name), esc(reason));
    }
    for (name, note) in notes {
        let _ = writeln!(md, "- **{}**: {}", esc(name), esc(note));
    }

    passes_section(&mut md, run, keyed);
    if let Some(prev) = previous {
        agreement_section(&mut md, prev, run, &agreement_of(&keyed(prev), &keyed(run)));
    }
    md.push_str(NOTES);
    md.push_str(STUDY);

    // The plot: the ledger, the sustained rates, the container start.
    let mut rows: Vec<(String, Option<Est>)> = vec![("create+reap, flag / baseline".into(), None)];
    for c in ledger.iter().filter(|c| c.set != IN_A_ROW_SET) {
        rows.push((format!("{} / {}", c.name, c.baseline), Some(c.est.clone())));
    }
    rows.push((format!("{batch} in a row, flag / SIGCHLD only"), None));
    for c in ledger.iter().filter(|c| c.set == IN_A_ROW_SET) {
        rows.push((c.name.clone(), Some(c.est.clone())));
    }
    if !starts.is_empty() {
        rows.push(("container start, clonelab / tool".into(), None));
        for c in &starts {
            rows.push((c.baseline.clone(), Some(c.est.clone())));
        }
    }
    let svg = ratio_svg(
        "What each clone flag costs, and a container start (paired ratios, 95 % CI)",
        &rows,
    );
    (md, svg)
}
