//! `docs/benchmarks.md`, written from one run's records (and the run
//! before, if any): the machine, the targets, the paired comparisons, the
//! growth table and its plot, the helpers' memory, absolute times, the
//! agreement with the run before, and what the timed region holds.
//!
//! Part of `xtask/src/bench/`; `mod.rs` calls [`report`]. Std only.

use super::format::{esc, human, interval, repeat};
use super::growth::{growth, growth_slope};
use super::ratios::{agreement, ratios, targets, Agreement, Ratio, AGREEMENT_HEADER};
use super::records::{Run, Series};
use super::stats::{median, word, Est};
use super::stats::{FAMILY, PAIRS};
use super::svg::svg;
use super::text::{GROWTH, METHOD, NOTES};
use std::fmt::Write as _;

/// The whole report, from one run's records (and the previous run's, if any).
pub(super) fn report(run: &Run, previous: Option<&Run>, svg_name: &str) -> (String, String) {
    let all = ratios(run);
    let find = |key: &str| all.iter().find(|r| r.key == key);
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str(
        &METHOD
            .replace("{PAIRS}", &format_thousands(PAIRS))
            .replace("{FAMILY}", &FAMILY.to_string()),
    );
    machine(&mut md, run);

    // Targets.
    md.push_str("\n## Targets\n\n| target | ratio | 95 % CI | repeat interval | wanted | verdict |\n|---|---:|---:|---:|---|---|\n");
    for (what, key, want) in targets(run) {
        if let Some(r) = find(&key) {
            let _ = writeln!(
                md,
                "| {} | {:.3} | {} | {} | {} | {} |",
                esc(&what),
                r.est.mid,
                interval(&r.est),
                repeat(&r.est),
                want.text(),
                want.verdict(&r.est)
            );
        } else {
            let _ = writeln!(
                md,
                "| {} | not measured | | | {} | |",
                esc(&what),
                want.text()
            );
        }
    }

    // Paired table.
    md.push_str("\n## Paired comparisons\n\nclonelab's time per operation / the peer's, round by round (the growth sets: CPU time).\n\n| set | clonelab path | peer | ratio | 95 % CI | repeat interval | | rounds |\n|---|---|---|---:|---:|---:|---|---:|\n");
    for r in all.iter().filter(|r| r.ours != r.peer) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.3} | {} | {} | {} | {} |",
            r.set,
            esc(&r.ours),
            esc(&r.peer),
            r.est.mid,
            interval(&r.est),
            repeat(&r.est),
            word(&r.est),
            r.rounds
        );
    }

    // Growth.
    let cols = run.columns();
    let thp = cols.iter().any(|c| c.thp);
    let rows: Vec<(String, Option<Est>)> = run
        .growth_paths()
        .iter()
        .map(|n| (n.clone(), growth(run, n).map(|g| growth_slope(&g))))
        .collect();
    md.push_str("\n## Process creation as the parent grows\n\n");
    md.push_str(GROWTH);
    let _ = writeln!(md, "![CPU time per operation vs parent size]({svg_name})\n");
    md.push_str("| path |");
    for c in &cols {
        let _ = write!(md, " {} |", c.label());
    }
    md.push_str(" slope per GiB [95 %] |\n|---|");
    md.push_str(&"---:|".repeat(cols.len() + 1));
    md.push('\n');
    for (name, slope) in &rows {
        let bold = if name.starts_with("clonelab") {
            format!("**{}**", esc(name))
        } else {
            esc(name)
        };
        let _ = write!(md, "| {bold} |");
        for c in &cols {
            let cell = run
                .at(*c, name)
                .map_or(String::new(), |x| human(median(&x.1.ns)));
            let _ = write!(md, " {cell} |");
        }
        let cell = slope.map_or(String::new(), |e| {
            format!("{} [{}, {}]", human(e.mid), human(e.lo), human(e.hi))
        });
        let _ = writeln!(md, " {cell} |");
    }
    md.push_str("\nMemory of each helper process (`/proc/self/smaps_rollup` after touching):\n\n| parent size | Rss | AnonHugePages |\n|---|---:|---:|\n");
    for (size, info) in &run.memory {
        let kb = |k: &str| {
            info.get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .map_or("?".into(), |v| format!("{:.0} MiB", v / 1024.0))
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            size,
            kb("Rss_kB"),
            kb("AnonHugePages_kB")
        );
    }
    let across: Vec<&Ratio> = all.iter().filter(|r| r.ours == r.peer).collect();
    if !across.is_empty() {
        md.push_str("\nThe same path at two sizes, measured in the same rounds:\n\n| sets | path | ratio | 95 % CI | repeat interval |\n|---|---|---:|---:|---:|\n");
        for r in across {
            let _ = writeln!(
                md,
                "| {} | {} | {:.3} | {} | {} |",
                r.set,
                esc(&r.ours),
                r.est.mid,
                interval(&r.est),
                repeat(&r.est)
            );
        }
    }
    match thp {
        true => md.push_str(concat!(
            "\nWith transparent huge pages (`madvise(MADV_HUGEPAGE)` on a 2 MiB-aligned range) a PMD entry maps ",
            "2 MiB, and fork copies one entry per 2 MiB (`copy_huge_pmd`) instead of 512 page-table entries: ",
            "the THP rows show what that does to each path. The 4 KiB rows forbid huge pages (`MADV_NOHUGEPAGE`) ",
            "whatever the host's setting.\n"
        )),
        false if run.meta("mode") == "quick" => {}
        false => {
            let _ = writeln!(
                md,
                "\nNo transparent-huge-page row: the host's THP mode is `{}`.",
                run.meta("thp")
            );
        }
    }

    // Absolute times of the sets measured at no extra size.
    md.push_str("\n## Absolute times\n\nMedian time per operation and the interquartile range over rounds, in this process (the growth sets are in the table above). Each round times every path as one batch of the same number of operations.\n");
    for set in run
        .sets
        .iter()
        .filter(|s| s.series.iter().all(|x| x.size.is_none()))
    {
        let _ = write!(
            md,
            "\n**{}** ({} rounds)\n\n| group | path | median | quartiles | batch |\n|---|---|---:|---:|---:|\n",
            set.name,
            set.rounds()
        );
        let mut rows: Vec<&Series> = set.series.iter().collect();
        rows.sort_by(|a, b| {
            (&a.group, median(&a.ns))
                .partial_cmp(&(&b.group, median(&b.ns)))
                .unwrap()
        });
        for x in rows {
            let mut v = x.ns.clone();
            v.sort_by(f64::total_cmp);
            let q = |p: usize| v[(v.len() - 1) * p / 4];
            let name = if x.name.starts_with("clonelab") {
                format!("**{}**", esc(&x.name))
            } else {
                esc(&x.name)
            };
            let _ = writeln!(
                md,
                "| {} | {name} | {} | {} – {} | {} |",
                x.group,
                human(median(&x.ns)),
                human(q(1)),
                human(q(3)),
                x.batch
            );
        }
    }

    if let Some(prev) = previous {
        agreement_section(&mut md, prev, &agreement(prev, run));
    }
    md.push_str(NOTES);
    let svg = svg(run, &rows);
    (md, svg)
}

/// "Agreement with the run before": how many of this run's ratios agree
/// with `prev`'s (the rule of [`agreement`]), and the table of them.
pub(super) fn agreement_section(md: &mut String, prev: &Run, a: &Agreement) {
    let _ = write!(
        md,
        "\n## Agreement with the run before\n\nThe run before this one on the same machine ({}, load average {} at its end) against this one. \
         The requirement is that **every** ratio agree, so each is held to the earlier run's **family repeat interval**: the \
         repeat interval at the Bonferroni level for {} ratios (1 − 0.05/{} each), inside which all of a repeat run's estimates \
         land at once with probability at least 95 %. Per-ratio 95 % intervals would be the wrong yardstick for \"all of them\": \
         even exact ones are expected to miss about one ratio in twenty, some two or three of {} here, by chance alone. \
         A ratio also agrees when both runs call it within noise (both confidence intervals contain 1.0). \
         **{} of {} ratios agree.** For comparison, {} of {} lie inside the earlier run's per-ratio 95 % repeat interval, and {} \
         inside its *confidence* interval (or both within noise; a 95 % confidence interval catches the estimate of a repeat \
         run only about 83 % of the time, even when it is exact: the two runs' errors add).\n\n",
        prev.meta("date"),
        prev.meta("loadavg"),
        FAMILY,
        FAMILY,
        a.total,
        a.agree,
        a.total,
        a.in_repeat,
        a.total,
        a.in_ci
    );
    md.push_str(AGREEMENT_HEADER);
    for (row, _) in &a.rows {
        md.push_str(row);
        md.push('\n');
    }
}

/// The "Machine and run" section: what the records say of the machine, the
/// build and the run (the keys a run lacks are left out).
pub(super) fn machine(md: &mut String, run: &Run) {
    let _ = writeln!(md, "## Machine and run\n");
    for (label, key) in [
        ("CPU", "cpu"),
        ("cores", "cores"),
        ("kernel", "kernel"),
        ("arch", "arch"),
        ("compiler", "rustc"),
        ("code generation flags", "rustflags"),
        ("date", "date"),
        ("load average at the end", "loadavg"),
        ("transparent huge pages", "thp"),
        ("mode", "mode"),
    ] {
        if run.meta.contains_key(key) {
            let _ = writeln!(md, "- {label}: {}", run.meta(key));
        }
    }
    let _ = writeln!(
        md,
        "- {} passes (separate bench processes) in {} s; rounds per set: {}",
        run.meta("passes"),
        run.meta("total_seconds"),
        run.sets
            .iter()
            .map(|s| format!("{} {}", s.name, s.rounds()))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// 100000 as "100,000".
fn format_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
