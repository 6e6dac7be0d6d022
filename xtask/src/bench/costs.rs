//! `cargo xtask bench --costs [--quick] [--report-only]`: the per-flag cost
//! ledger and the container start against its peers.
//!
//! The bench (`benches/clone/costs.rs`, `startup.rs`, run with `--costs`)
//! measures its cost sets in interleaved rounds, like every other set, and
//! names in its records which path each path is measured against
//! (`M baseline <path> <baseline>`), which paths the host refused (`M skip`)
//! and how a peer had to be run (`M note`). This module runs it in
//! [`PASSES`] processes (a `--quick` smoke run: one, short), keeps the
//! records in `target/bench/costs.tsv` (the run before in
//! `costs.prev.tsv`), and turns them into paired ratios with the same
//! two-level bootstrap as `docs/benchmarks.md` ([`paired_ratio`]):
//! every path against its baseline, and `clonelab container` against every
//! other tool. `costs_report` writes them to `docs/costs.md` and
//! `docs/costs.svg` (a `--quick` run: under `target/bench/`).
//!
//! Part of `xtask/src/bench/`; `mod.rs` calls [`run`]. Std only.

use super::costs_report::report;
use super::records::{Run, Series, Set};
use super::stats::{bootstrap, median, median_at, paired_ratio, Est, Want};
use super::{ensure_container_peers, record_and_report, Kind};

/// Separate bench processes in a full run of the cost sets.
const PASSES: usize = 6;

/// The set of the container-start comparison, and clonelab's path in it.
pub(super) const CONTAINER_SET: &str = "container start";
pub(super) const CLONELAB: &str = "clonelab container";

/// One paired ratio of the cost report: `name` against `baseline`, both
/// measured in the rounds of `set`.
pub(super) struct Cost {
    pub(super) set: String,
    pub(super) name: String,
    pub(super) baseline: String,
    pub(super) est: Est,
    pub(super) rounds: usize,
    /// Median time per operation of `name` and of `baseline`, in ns.
    pub(super) ns: f64,
    pub(super) baseline_ns: f64,
    /// What the flag adds per child, in ns: (ratio − 1) × the baseline's
    /// median, from the paired ratio (see [`added`]).
    pub(super) added: Est,
}

impl Cost {
    /// A key unique in a run (agreement between runs matches on it).
    pub(super) fn key(&self) -> String {
        format!("{}: {} / {}", self.set, self.name, self.baseline)
    }
}

/// What `a` adds per operation to `b`, from their paired ratio: (the
/// median of the per-round ratios − 1) × the median of `b`, in ns. Not the
/// difference of the two medians: those are medians of different rounds,
/// unpaired, and the load of the rounds each lands in can move it by more
/// than a small flag costs (a ratio of 1.001 beside a difference of −595 ns
/// was seen). Its intervals come from the same bootstrap as the ratio's (the
/// same seed, so the same draws of rounds), each draw taking both medians
/// over the drawn rounds; its confidence interval holds 0 exactly when the
/// ratio's holds 1 (the baseline is positive, so a draw's value is below 0
/// exactly when its ratio is below 1).
pub(super) fn added(set: &Set, a: &Series, b: &Series) -> Est {
    let r: Vec<f64> = a.ns.iter().zip(&b.ns).map(|(x, y)| x / y).collect();
    bootstrap((median(&r) - 1.0) * median(&b.ns), set, |idx| {
        (median_at(&r, idx) - 1.0) * median_at(&b.ns, idx)
    })
}

fn cost(run: &Run, set_name: &str, name: &str, baseline: &str) -> Option<Cost> {
    let set = run.set(set_name)?;
    let (a, b) = (set.series(name, None)?, set.series(baseline, None)?);
    Some(Cost {
        set: set_name.to_string(),
        name: name.to_string(),
        baseline: baseline.to_string(),
        est: paired_ratio(set, a, b),
        rounds: set.rounds(),
        ns: median(&a.ns),
        baseline_ns: median(&b.ns),
        added: added(set, a, b),
    })
}

/// Every ledger ratio: each path of the cost sets against the baseline its
/// `M baseline` record names, in the set's order.
pub(super) fn ledger(run: &Run) -> Vec<Cost> {
    let mut out = Vec::new();
    for set in run.sets.iter().filter(|s| s.name != CONTAINER_SET) {
        for s in &set.series {
            if let Some(baseline) = run.meta.get(&format!("baseline {}", s.name)) {
                out.extend(cost(run, &set.name, &s.name, baseline));
            }
        }
    }
    out
}

/// `clonelab container` against every other tool measured with it.
pub(super) fn starts(run: &Run) -> Vec<Cost> {
    let Some(set) = run.set(CONTAINER_SET) else {
        return Vec::new();
    };
    set.series
        .iter()
        .filter(|s| s.name != CLONELAB)
        .filter_map(|s| cost(run, CONTAINER_SET, CLONELAB, &s.name))
        .collect()
}

/// The targets for the container start: (the peer, what is wanted).
/// crun is held to its run without a cgroup, the isolation clonelab makes.
pub(super) const TARGETS: &[(&str, Want)] = &[
    ("crun run, no cgroup", Want::Below(1.0)),
    ("bwrap", Want::Below(1.0)),
    ("unshare(1)", Want::AtMost(1.5)),
];

/// Every estimate of a run, keyed, for the agreement of two runs.
pub(super) fn keyed(run: &Run) -> Vec<(String, Est)> {
    ledger(run)
        .into_iter()
        .chain(starts(run))
        .map(|c| (c.key(), c.est))
        .collect()
}

/// `cargo xtask bench --costs` with its arguments (after `bench`).
pub(super) fn run(args: &[String]) -> Result<(), String> {
    let has = |flag: &str| args.iter().any(|a| a == flag);
    if !has("--quick") && !has("--report-only") {
        // A peer still missing is reported as skipped, with the reason.
        if let Err(e) = ensure_container_peers() {
            println!("xtask: container peers not installed: {e}");
        }
    }
    let kind = Kind {
        stem: "costs",
        extra: &["--costs"],
        passes: PASSES,
        name: "costs",
        render: report,
    };
    let (run, _) = record_and_report(&kind, args)?;
    for c in ledger(&run).iter().chain(&starts(&run)) {
        println!(
            "  {:<34} / {:<28} {:.3} [{:.3}, {:.3}]",
            c.name, c.baseline, c.est.mid, c.est.lo, c.est.hi
        );
    }
    Ok(())
}
