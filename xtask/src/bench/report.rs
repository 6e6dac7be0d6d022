//! `docs/benchmarks.md`, written from one run's records (and the run
//! before, if any): the machine, the targets, the paired comparisons, the
//! growth table and its plot, the helpers' memory, absolute times, the
//! agreement with the run before, and what the timed region holds.
//!
//! Part of `xtask/src/bench/`; `mod.rs` calls [`report`]. Std only.

use super::growth::{growth, growth_slope};
use super::ratios::{agreement, ratios, targets, Ratio, AGREEMENT_HEADER};
use super::records::{Run, Series};
use super::stats::{median, word, Est};
use super::svg::svg;
use std::fmt::Write as _;

pub(super) fn human(ns: f64) -> String {
    let a = ns.abs();
    if a >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if a >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

pub(super) fn esc(s: &str) -> String {
    s.replace('|', "\\|")
}

pub(super) fn interval(e: &Est) -> String {
    format!("[{:.3}, {:.3}]", e.lo, e.hi)
}

/// The whole report, from one run's records (and the previous run's, if any).
pub(super) fn report(run: &Run, previous: Option<&Run>, svg_name: &str) -> (String, String) {
    let all = ratios(run);
    let find = |key: &str| all.iter().find(|r| r.key == key);
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str(concat!(
        "Measured with `cargo xtask bench` (`benches/clone/`, rendered by `xtask/src/bench/` from the records ",
        "of one run). Every ratio below comes from the two paths measured **alternately, in the same rounds**: a set of ",
        "paths is run in rounds by one bench process (for the growth curve, through helper processes it drives), each round runs every path of the set once as a short timed batch, in an order ",
        "shuffled anew each round, and a ratio is the **median over rounds of the per-round ratio** of the two ",
        "paths' mean times per operation. Load that drifts over seconds or minutes (other builds on this shared ",
        "machine) hits both sides of a round alike and cancels. The 95 % intervals are percentile bootstraps over ",
        "the rounds (1,000 resamples, fixed seed; rounds drawn in blocks of about n^(1/3) consecutive rounds, since ",
        "neighbouring rounds share the machine's state). A ratio below 1 means clonelab is faster; where the interval ",
        "contains 1.0 the table says *within noise*. A target is *met* when its whole interval satisfies it, ",
        "*missed* when none of it does, and *within noise* when the interval straddles the bound.\n\n",
    ));
    let _ = writeln!(md, "## Machine and run\n");
    for (label, key) in [
        ("CPU", "cpu"),
        ("cores", "cores"),
        ("kernel", "kernel"),
        ("arch", "arch"),
        ("compiler", "rustc"),
        ("date", "date"),
        ("load average at the end", "loadavg"),
        ("transparent huge pages", "thp"),
        ("mode", "mode"),
    ] {
        let _ = writeln!(md, "- {label}: {}", run.meta(key));
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

    // Targets.
    md.push_str("\n## Targets\n\n| target | ratio | 95 % interval | wanted | verdict |\n|---|---:|---:|---|---|\n");
    for (what, key, want) in targets(run) {
        if let Some(r) = find(&key) {
            let _ = writeln!(
                md,
                "| {} | {:.3} | {} | {} | {} |",
                esc(&what),
                r.est.mid,
                interval(&r.est),
                want.text(),
                want.verdict(&r.est)
            );
        } else {
            let _ = writeln!(
                md,
                "| {} | not measured | | {} | |",
                esc(&what),
                want.text()
            );
        }
    }

    // Paired table.
    md.push_str("\n## Paired comparisons\n\nclonelab's time per operation / the peer's, round by round.\n\n| set | clonelab path | peer | ratio | 95 % interval | | rounds |\n|---|---|---|---:|---:|---|---:|\n");
    for r in all.iter().filter(|r| r.ours != r.peer) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.3} | {} | {} | {} |",
            r.set,
            esc(&r.ours),
            esc(&r.peer),
            r.est.mid,
            interval(&r.est),
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
    md.push_str(concat!(
        "Each parent size is a helper process, forked from the bench, that maps and touches that much private ",
        "anonymous memory (one write per page) and then makes children on command; all sizes live at once, so ",
        "every path runs at every size **in the same rounds**, and ratios across sizes are paired like the others. ",
        "The fork-like paths form one set of rounds and the others another: a fork-like child of a big parent ",
        "leaves work behind (its copied page tables torn down) that slows whatever runs next, and mixed with the ",
        "cheap paths it would land on them in random rounds. Median time per operation; the slope is a ",
        "least-squares fit of those medians against the size, with its 95 % interval. fork copies the parent's ",
        "page tables and the exit tears the copy down, so its cost grows with the parent; a CLONE_VM child shares ",
        "them, so vfork, CLONE_VM|CLONE_VFORK and posix_spawn stay flat. (Figure 1 of Baumann et al., ",
        "\"A fork() in the road\", HotOS 2019, on this machine; the chapter `fork_vfork_thread.md` explains the ",
        "curve.)\n\n",
    ));
    let _ = writeln!(md, "![time per operation vs parent size]({svg_name})\n");
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
        md.push_str("\nThe same path at two sizes, measured in the same rounds:\n\n| sets | path | ratio | 95 % interval |\n|---|---|---:|---:|\n");
        for r in across {
            let _ = writeln!(
                md,
                "| {} | {} | {:.3} | {} |",
                r.set,
                esc(&r.ours),
                r.est.mid,
                interval(&r.est)
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
        let (total, agree, rows) = agreement(prev, run);
        let _ = write!(
            md,
            "\n## Agreement with the run before\n\nThe run before this one on the same machine ({}, load average {}) against this one: \
             a ratio agrees when this run's median lies inside the earlier run's interval, or when both intervals contain 1.0. \
             **{agree} of {total} ratios agree.**\n",
            prev.meta("date"),
            prev.meta("loadavg")
        );
        let differ: Vec<&String> = rows.iter().filter(|r| r.contains("differs")).collect();
        if !differ.is_empty() {
            md.push('\n');
            md.push_str(AGREEMENT_HEADER);
            for r in differ {
                md.push_str(r);
                md.push('\n');
            }
        }
    }
    md.push_str(NOTES);
    let svg = svg(run, &rows);
    (md, svg)
}

pub(super) const NOTES: &str = "
## What is in the timed region

- create+reap: clonelab's scoped children and `libc::clone` reuse one stack mapped before timing; fork-like
  children need none; `std::thread` and `pthread_create` allocate (and free) their stacks inside the timed
  region, as their APIs give no choice. `vfork (bare asm)` is the kernel's vfork with the child's whole life
  in one `asm!` block (libc's `vfork` cannot be called soundly from Rust); on aarch64 it is
  `clone(CLONE_VM|CLONE_VFORK|SIGCHLD)` on the caller's stack, which is what glibc's vfork is there.
- spawn+exec: a 3-instruction static ELF the bench writes itself, exec'd and reaped; every exit status is checked.
- growth sets: the time of the batch as the helper process measured it; the pipe round trip that starts it is
  outside the timed region.
- Under `cargo test` and in the VM test runs the bench does a three-round smoke run (`--quick`): TCG timings mean nothing.

## What pairing does not cancel

- Load that hits both sides of a round alike cancels; load that hits them *unequally* does not. A fork of a
  1 GiB parent is bound by memory (hundreds of thousands of page-table entries and page counts), the same
  fork at 0 MiB by system-call and scheduling costs; compilers running beside the bench slow the first
  more than the second, so ratios across sizes of the fork-like paths, and the THP ratios, move with the
  kind of load of the hour, beyond their intervals.
- Some effects are fixed for the life of a process: the same getppid loops, in one binary, rank
  differently from one process to the next (the address-space layout changes which branches and cache
  sets collide). That is why a full run is several passes in separate processes and the intervals
  resample passes first; with a handful of passes they still undercover such effects.
- *Agreement with the run before* (when there is one) measures both: how many of this run's ratios fall inside the previous run's
  intervals.
";
