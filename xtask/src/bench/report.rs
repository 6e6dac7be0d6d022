//! `docs/benchmarks.md`, written from one run's records (and the run
//! before, if any): the machine, the targets, the paired comparisons, the
//! growth table and its plot, the helpers' memory, absolute times, the
//! agreement with the run before, and what the timed region holds.
//!
//! Part of `xtask/src/bench/`; `mod.rs` calls [`report`]. Std only.

use super::format::{esc, human, interval, repeat};
use super::growth::{growth, growth_slope};
use super::ratios::Ratio;
use super::ratios::{agreement, agreement_header, agreement_of, keyed, ratios, targets, Agreement};
use super::records::{Run, Series};
use super::stats::PAIRS;
use super::stats::{median, word, Est};
use super::svg::svg;
use super::text::{GROWTH, METHOD, NOTES};
use std::fmt::Write as _;

/// The whole report, from one run's records (and the previous run's, if any).
pub(super) fn report(run: &Run, previous: Option<&Run>, svg_name: &str) -> (String, String) {
    let all = ratios(run);
    let find = |key: &str| all.iter().find(|r| r.key == key);
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str(&METHOD.replace("{PAIRS}", &format_thousands(PAIRS)));
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
        let cell = slope.as_ref().map_or(String::new(), |e| {
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

    passes_section(&mut md, run, keyed);
    if let Some(prev) = previous {
        agreement_section(&mut md, prev, run, &agreement(prev, run));
    }
    md.push_str(NOTES);
    let svg = svg(run, &rows);
    (md, svg)
}

/// The records that must match for two runs to be compared: (what, key).
/// A run of another machine, kernel or build is another experiment, and
/// one of another number of passes another design (its intervals differ).
const SAME_RUN_DESIGN: &[(&str, &str)] = &[
    ("CPU", "cpu"),
    ("cores", "cores"),
    ("kernel", "kernel"),
    ("arch", "arch"),
    ("compiler", "rustc"),
    ("code generation flags", "rustflags"),
    ("passes", "passes"),
];

/// Where the records of `prev` and `run` differ in [`SAME_RUN_DESIGN`]:
/// "kernel: 6.1.0-13-amd64, then 6.18.44" (a record one run lacks is "?").
pub(super) fn differences(prev: &Run, run: &Run) -> Vec<String> {
    SAME_RUN_DESIGN
        .iter()
        .filter(|(_, key)| prev.meta(key) != run.meta(key))
        .map(|(what, key)| format!("{what}: {}, then {}", prev.meta(key), run.meta(key)))
        .collect()
}

/// "Agreement with the run before": whether the two runs were recorded on
/// the same machine and build, how many of this run's ratios agree with
/// `prev`'s (the rule of [`agreement`]), and the table of them.
pub(super) fn agreement_section(md: &mut String, prev: &Run, run: &Run, a: &Agreement) {
    let k = a.total;
    md.push_str("\n## Agreement with the run before\n\n");
    let differ = differences(prev, run);
    if differ.is_empty() {
        let _ = write!(
            md,
            "The run before this one ({}, load average {} at its end) against this one. Their records \
             name the same machine and build (CPU, cores, kernel, arch, compiler, code generation flags \
             and number of passes alike), so the second is a repeat of the first. ",
            prev.meta("date"),
            prev.meta("loadavg"),
        );
    } else {
        let _ = write!(
            md,
            "The run before this one ({}) was **not** made on the same machine and build as this one: \
             their records differ ({}). **The two runs are not comparable**: a ratio may move with the \
             machine or the build, so the table below is kept for the record and checks nothing. ",
            prev.meta("date"),
            esc(&differ.join("; ")),
        );
    }
    let _ = write!(
        md,
        "The requirement is that **every** ratio agree, so each is held to the earlier run's **family repeat interval**: the \
         repeat interval at the Bonferroni level for the {k} ratios the two runs have in common (1 − 0.05/{k} each), inside \
         which all {k} of a repeat run's estimates land at once with probability at least 95 %. Per-ratio 95 % intervals \
         would be the wrong yardstick for \"all of them\": even exact ones are expected to miss about one ratio in twenty, \
         {:.1} of {k} here on average, by chance alone. A ratio also agrees when both runs call it within noise (both confidence intervals \
         contain 1.0). **{} of {k} ratios agree.** For comparison, {} of {k} lie inside the earlier run's per-ratio 95 % \
         repeat interval, and {} inside its *confidence* interval (or both within noise; a 95 % confidence interval catches \
         the estimate of a repeat run only about 83 % of the time, even when it is exact: the two runs' errors add).\n\n",
        k as f64 / 20.0,
        a.agree,
        a.in_repeat,
        a.in_ci
    );
    md.push_str(&agreement_header("first run", "second run"));
    for (row, _) in &a.rows {
        md.push_str(row);
        md.push('\n');
    }
}

/// "The passes against each other": each pass's shuffle seed, and whether
/// the ratios moved between the passes beyond their intervals: the first
/// half of the passes and the second are two runs of half the size, held to
/// each other as two runs are ([`agreement_of`] of their `keyed` estimates).
pub(super) fn passes_section(md: &mut String, run: &Run, keyed: fn(&Run) -> Vec<(String, Est)>) {
    md.push_str("\n## The passes against each other\n\n");
    let passes = run.pass_count();
    if run.seeds.is_empty() {
        md.push_str(
            "These records hold no shuffle seed: they were made when every pass shuffled its rounds with \
             one fixed seed, so every pass (and every run) ran its paths in the same orders, and an effect of \
             the order (a path that pays for the teardown left by the one before it) repeated alike in each, \
             where neither the intervals nor the agreement of two runs can see it.\n",
        );
    } else {
        let _ = writeln!(
            md,
            "Each pass shuffles the order of the paths in its rounds with a seed of its own, drawn when the \
             bench process starts (from std's `RandomState`, which the operating system seeds, mixed with \
             the clock and the process id) and recorded with its rounds: {}. An effect of the order (a path \
             that pays for the teardown left by the one before it) thus differs from pass to pass instead of \
             repeating alike in each, and the intervals, which resample passes, carry it. \
             `cargo bench --bench clone -- --seed 0x…` replays a pass's orders.",
            run.seeds
                .iter()
                .map(|(p, seed)| format!("pass {} `{seed}`", p + 1))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if passes < 2 {
        let _ = writeln!(
            md,
            "\n{passes} pass: no two passes to compare (a full run has several)."
        );
        return;
    }
    let half = passes / 2;
    // "pass 1", "passes 1–3" (counted from 1).
    let name = |first: usize, last: usize| match first == last {
        true => format!("pass {first}"),
        false => format!("passes {first}–{last}"),
    };
    let (first, second) = (name(1, half), name(half + 1, passes));
    let a = agreement_of(
        &keyed(&run.passes(0..half)),
        &keyed(&run.passes(half..passes)),
    );
    let _ = write!(
        md,
        "\nWhether the ratios moved between passes: {first} and {second} are two runs of half the size, \
         each with its own seeds, and each ratio of the second is held to the first's family repeat \
         interval for the {} ratios compared (each half's intervals from its own passes, the same \
         bootstrap), as *Agreement with the run before* holds two runs. **{} of {} agree** ({} inside the \
         first half's per-ratio repeat interval). ",
        a.total, a.agree, a.total, a.in_repeat
    );
    if a.agree == a.total {
        md.push_str("None moved beyond its interval.\n");
    } else {
        md.push_str("Those that moved:\n\n");
        md.push_str(&agreement_header(&first, &second));
        for (row, _) in a.rows.iter().filter(|(_, ok)| !ok) {
            md.push_str(row);
            md.push('\n');
        }
    }
}

/// The "Machine and run" section: what the records say of the machine, the
/// build and the run (the keys a run lacks are left out).
pub(super) fn machine(md: &mut String, run: &Run) {
    let _ = writeln!(md, "## Machine and run\n");
    // The machine and build records (those two runs must share), then the run's own.
    let machine = SAME_RUN_DESIGN
        .iter()
        .copied()
        .filter(|&(_, key)| key != "passes");
    let this_run = [
        ("date", "date"),
        ("load average at the end", "loadavg"),
        ("transparent huge pages", "thp"),
        ("mode", "mode"),
    ];
    for (label, key) in machine.chain(this_run) {
        if run.meta.contains_key(key) {
            let _ = writeln!(md, "- {label}: {}", run.meta(key));
        }
    }
    let _ = writeln!(
        md,
        "- {} pass{} (separate bench processes) in {} s; rounds per set: {}",
        run.meta("passes"),
        if run.meta("passes") == "1" { "" } else { "es" },
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
