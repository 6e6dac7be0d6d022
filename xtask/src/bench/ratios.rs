//! Every ratio the report prints, and the targets: the paired comparisons
//! of clonelab's paths with their peers (per set, or at every parent size),
//! one path at two sizes, the slope ratios, the targets with what
//! each asks of its interval, and the agreement of one run with another.
//!
//! Part of `xtask/src/bench/`; `report` and `mod.rs` (`--compare`) use it.
//! Std only.

use super::format::{esc, family, interval, repeat};
use super::growth::{growth, slope_ratio};
use super::records::{Column, Run, Series, Set};
use super::stats::{paired_ratio, Est, Want};
use std::collections::BTreeMap;

/// Every ratio the report prints, keyed by a label unique in a run.
pub(super) struct Ratio {
    pub(super) key: String,
    pub(super) set: String,
    pub(super) ours: String,
    pub(super) peer: String,
    pub(super) est: Est,
    pub(super) rounds: usize,
}

/// (set, or "*" for every parent size; clonelab path; peer)
pub(super) const PAIRS: &[(&str, &str, &str)] = &[
    ("getppid", "clonelab", "bare asm"),
    ("getppid", "clonelab", "libc::syscall"),
    ("getppid", "clonelab", "libc::getppid"),
    ("getppid", "clonelab", "syscalls"),
    ("getppid", "clonelab", "sc"),
    ("getppid", "clonelab", "rustix"),
    (
        "tasks",
        "clonelab CLONE_VM|CLONE_VFORK",
        "libc::clone CLONE_VM|CLONE_VFORK",
    ),
    (
        "tasks",
        "clonelab raw clone CLONE_VM|CLONE_VFORK",
        "libc::clone CLONE_VM|CLONE_VFORK",
    ),
    (
        "tasks",
        "clonelab CLONE_VM|CLONE_VFORK",
        "clonelab raw clone CLONE_VM|CLONE_VFORK, masked, tls 0",
    ),
    (
        "tasks",
        "clonelab raw clone CLONE_VM|CLONE_VFORK, masked, tls 0",
        "clonelab raw clone CLONE_VM|CLONE_VFORK",
    ),
    ("tasks", "clonelab CLONE_VM|CLONE_VFORK", "vfork (bare asm)"),
    ("tasks", "clonelab thread", "pthread_create"),
    ("tasks", "clonelab thread", "std::thread"),
    ("*", "clonelab spawn (clone)", "libc::fork"),
    ("*", "clonelab spawn (clone3)", "libc::fork"),
    ("*", "clonelab CLONE_VM|CLONE_VFORK + execve", "posix_spawn"),
    (
        "*",
        "clonelab CLONE_VM|CLONE_VFORK + execve",
        "std::process::Command",
    ),
    (
        "*",
        "clonelab CLONE_VM|CLONE_VFORK + execve",
        "libc::fork + execve",
    ),
];

/// Paths compared by their slopes (clonelab, peer).
pub(super) const SLOPE_PAIRS: &[(&str, &str)] = &[
    ("clonelab spawn (clone)", "libc::fork"),
    ("clonelab spawn (clone3)", "libc::fork"),
];

pub(super) const VFORK_EXEC: &str = "clonelab CLONE_VM|CLONE_VFORK + execve";

pub(super) fn ratios(run: &Run) -> Vec<Ratio> {
    let mut out = Vec::new();
    let mut push = |key: String, label: String, set: &Set, ours: &Series, peer: &Series| {
        out.push(Ratio {
            key,
            set: label,
            ours: ours.name.clone(),
            peer: peer.name.clone(),
            est: paired_ratio(set, ours, peer),
            rounds: set.rounds(),
        })
    };
    for (which, ours, peer) in PAIRS {
        if *which == "*" {
            for col in run.columns() {
                if let (Some((set, a)), Some((_, b))) = (run.at(col, ours), run.at(col, peer)) {
                    if set.series(peer, Some(col)).is_some() {
                        push(
                            format!("{}: {ours} / {peer}", col.label()),
                            col.label(),
                            set,
                            a,
                            b,
                        );
                    }
                }
            }
        } else if let Some(set) = run.set(which) {
            if let (Some(a), Some(b)) = (set.series(ours, None), set.series(peer, None)) {
                push(
                    format!("{which}: {ours} / {peer}"),
                    which.to_string(),
                    set,
                    a,
                    b,
                );
            }
        }
    }
    // One path at two sizes (measured in the same rounds): the largest 4 KiB
    // size against the smallest, and THP against 4 KiB pages.
    let columns = run.columns();
    let plain = run.plain();
    let thp = columns.iter().find(|c| c.thp);
    for name in run.growth_paths() {
        let mut across = |a: Column, b: Column| {
            if let (Some((set, x)), Some(y)) = (run.at(a, &name), run.at(b, &name)) {
                if std::ptr::eq(set, y.0) {
                    out.push(Ratio {
                        key: format!("{} / {}: {name}", a.label(), b.label()),
                        set: format!("{} / {}", a.label(), b.label()),
                        ours: name.clone(),
                        peer: name.clone(),
                        est: paired_ratio(set, x, y.1),
                        rounds: set.rounds(),
                    });
                }
            }
        };
        if let (Some(&first), Some(&last)) = (plain.first(), plain.last()) {
            across(last, first);
            if let Some(&t) = thp {
                across(t, last);
            }
        }
    }
    for (ours, peer) in SLOPE_PAIRS {
        if let (Some(a), Some(b)) = (growth(run, ours), growth(run, peer)) {
            if std::ptr::eq(a.0, b.0) {
                out.push(Ratio {
                    key: format!("slope: {ours} / {peer}"),
                    set: "slope per GiB".into(),
                    ours: ours.to_string(),
                    peer: peer.to_string(),
                    est: slope_ratio(&a, &b),
                    rounds: a.0.rounds(),
                });
            }
        }
    }
    out
}

/// The targets: (what, ratio key, wanted).
pub(super) fn targets(run: &Run) -> Vec<(String, String, Want)> {
    let mut t = vec![(
        "raw getppid, clonelab vs the bare asm loop".to_string(),
        "getppid: clonelab / bare asm".to_string(),
        Want::Band(0.98, 1.02),
    )];
    for peer in ["syscalls", "sc", "rustix", "libc::syscall"] {
        t.push((
            format!("raw getppid, clonelab vs {peer}"),
            format!("getppid: clonelab / {peer}"),
            Want::AtMost(1.02),
        ));
    }
    for col in run.columns() {
        t.push((
            format!("clonelab vfork+execve vs posix_spawn at {}", col.label()),
            format!("{}: {VFORK_EXEC} / posix_spawn", col.label()),
            Want::Below(1.0),
        ));
    }
    let plain = run.plain();
    if let (Some(first), Some(last)) = (plain.first(), plain.last()) {
        let (first, last) = (first.label(), last.label());
        t.push((
            format!("clonelab vfork+execve: cost at {last} vs at {first}"),
            format!("{last} / {first}: {VFORK_EXEC}"),
            Want::AtMost(1.2),
        ));
    }
    for (ours, peer) in SLOPE_PAIRS {
        t.push((
            format!("slope per GiB, {ours} vs {peer}"),
            format!("slope: {ours} / {peer}"),
            Want::Band(0.9, 1.1),
        ));
    }
    for peer in ["pthread_create", "std::thread"] {
        t.push((
            format!("thread spawn+join, clonelab vs {peer}"),
            format!("tasks: clonelab thread / {peer}"),
            Want::Below(1.0),
        ));
    }
    t.push((
        "CLONE_VM|CLONE_VFORK create+reap, clonelab vs libc::clone".into(),
        "tasks: clonelab CLONE_VM|CLONE_VFORK / libc::clone CLONE_VM|CLONE_VFORK".into(),
        Want::ContainsOrBelow(1.0),
    ));
    t.push((
        "the same through clonelab's raw `clone` vs libc::clone".into(),
        "tasks: clonelab raw clone CLONE_VM|CLONE_VFORK / libc::clone CLONE_VM|CLONE_VFORK".into(),
        Want::ContainsOrBelow(1.0),
    ));
    t
}

/// Agreement of `second` with `first`: a ratio agrees when the second run's
/// estimate lies inside the first run's family repeat interval for the
/// number of ratios the two runs have in common (all of them at once, 95 %
/// jointly), or both runs call it within noise (both confidence intervals
/// contain 1). Also counted: how many lie inside the first run's per-ratio
/// 95 % repeat interval, and inside its confidence interval (each or both
/// within noise).
pub(super) struct Agreement {
    /// The ratios compared: those both runs have (the family's size).
    pub(super) total: usize,
    pub(super) agree: usize,
    pub(super) in_repeat: usize,
    pub(super) in_ci: usize,
    /// Table rows, and whether each agrees.
    pub(super) rows: Vec<(String, bool)>,
}

pub(super) fn agreement(first: &Run, second: &Run) -> Agreement {
    agreement_of(&keyed(first), &keyed(second))
}

/// Every ratio of [`ratios`], keyed.
pub(super) fn keyed(run: &Run) -> Vec<(String, Est)> {
    ratios(run).into_iter().map(|r| (r.key, r.est)).collect()
}

/// [`agreement`] of any two lists of estimates keyed alike (the cost
/// ledger's too): `second` against `first`.
pub(super) fn agreement_of(first: &[(String, Est)], second: &[(String, Est)]) -> Agreement {
    let before: BTreeMap<&str, &Est> = first.iter().map(|(k, e)| (k.as_str(), e)).collect();
    let both: Vec<(&str, &Est, &Est)> = second
        .iter()
        .filter_map(|(key, est)| Some((key.as_str(), *before.get(key.as_str())?, est)))
        .collect();
    let k = both.len();
    let mut a = Agreement {
        total: k,
        agree: 0,
        in_repeat: 0,
        in_ci: 0,
        rows: Vec::new(),
    };
    for (key, b, est) in both {
        let noise = b.contains(1.0) && est.contains(1.0);
        let ok = b.family_contains(k, est.mid) || noise;
        a.agree += ok as usize;
        a.in_repeat += (b.repeat_contains(est.mid) || noise) as usize;
        a.in_ci += (b.contains(est.mid) || noise) as usize;
        a.rows.push((
            format!(
                "| {} | {:.3} {} {} {} | {:.3} {} | {} |",
                esc(key),
                b.mid,
                interval(b),
                repeat(b),
                family(b, k),
                est.mid,
                interval(est),
                match (ok, noise) {
                    (_, true) => "both within noise",
                    (true, false) if b.repeat_contains(est.mid) => "agrees",
                    (true, false) => "agrees (family interval only)",
                    (false, false) => "**differs**",
                }
            ),
            ok,
        ));
    }
    a
}

/// The head of an agreement table: `first` and `second` name what is
/// compared ("first run", "passes 1-3").
pub(super) fn agreement_header(first: &str, second: &str) -> String {
    format!(
        "| ratio | {first}: estimate, 95 % CI, repeat interval, family repeat interval | {second}: estimate, 95 % CI | |\n|---|---:|---:|:---:|\n"
    )
}
