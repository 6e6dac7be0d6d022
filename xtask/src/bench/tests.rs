//! Checks of the report's arithmetic on records made up here: the seeds
//! and the passes of a run, the family interval's level, the added time per
//! child against its ratio, the comparison of two runs' machines, and the
//! container table's summary of a host's mount tree.
//!
//! Part of `xtask/src/bench/`. Std only.

use super::costs::{added, keyed, ledger};
use super::costs_report::mounts_cell;
use super::ratios::agreement_of;
use super::records::Run;
use super::report::{agreement_section, differences, passes_section};
use super::stats::{paired_ratio, Est};

/// Records of `passes` passes of one set, two paths: `base` at about 100 ns
/// and `flag` at `factor` times it, with a little made-up noise per round;
/// `meta` adds `M` records after the passes.
fn records(passes: usize, rounds: usize, factor: f64, meta: &str) -> String {
    let mut text = String::new();
    let mut x: u64 = 7;
    let mut noise = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as f64 / (1u64 << 31) as f64 - 0.5
    };
    for p in 0..passes {
        text.push_str(&format!("P\t{p}\nM\tseed\t{:#018x}\n", 0x1000 + p));
        text.push_str("B\tcosts\tcreate+reap\tbase\t-\t10\nB\tcosts\tcreate+reap\tflag\t-\t10\n");
        for r in 0..rounds {
            let load = 100.0 + 20.0 * noise();
            let base = load * (1.0 + 0.01 * noise());
            let flag = load * factor * (1.0 + 0.01 * noise());
            text.push_str(&format!(
                "R\tcosts\t{r}\tcreate+reap\tbase\t-\t{base:.3}\nR\tcosts\t{r}\tcreate+reap\tflag\t-\t{flag:.3}\n"
            ));
        }
    }
    text.push_str("M\tbaseline flag\tbase\n");
    text.push_str(meta);
    text
}

#[test]
fn every_pass_keeps_its_seed_and_a_run_splits_into_passes() {
    let run = Run::parse(&records(4, 30, 1.1, "")).unwrap();
    assert_eq!(run.pass_count(), 4);
    let seeds: Vec<&str> = run.seeds.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        seeds,
        [
            "0x0000000000001000",
            "0x0000000000001001",
            "0x0000000000001002",
            "0x0000000000001003"
        ]
    );
    let half = run.passes(2..4);
    assert_eq!(half.pass_count(), 2);
    assert_eq!(half.sets[0].passes, [0, 30]);
    assert_eq!(half.sets[0].rounds(), 60);
    // The second half's rounds are the run's last 60, in order.
    let flag = |r: &Run| r.sets[0].series("flag", None).unwrap().ns.clone();
    assert_eq!(flag(&half)[..], flag(&run)[60..]);
    assert_eq!(half.seeds.len(), 2);
    assert_eq!(half.seeds[0].1, "0x0000000000001002");
}

#[test]
fn the_family_interval_for_one_ratio_is_the_repeat_interval_and_widens_with_k() {
    let run = Run::parse(&records(3, 40, 1.1, "")).unwrap();
    let set = &run.sets[0];
    let e: Est = paired_ratio(set, &set.series[1], &set.series[0]);
    assert_eq!(e.family(1), (e.rep_lo, e.rep_hi));
    let (lo28, hi28) = e.family(28);
    let (lo64, hi64) = e.family(64);
    assert!(lo64 <= lo28 && lo28 <= e.rep_lo && e.rep_hi <= hi28 && hi28 <= hi64);
}

#[test]
fn the_added_time_follows_the_paired_ratio() {
    for factor in [1.0, 1.002, 1.1, 0.9] {
        let run = Run::parse(&records(3, 40, factor, "")).unwrap();
        let cost = &ledger(&run)[0];
        let set = &run.sets[0];
        let again = added(set, &set.series[1], &set.series[0]);
        assert_eq!(
            (again.mid, again.lo, again.hi),
            (cost.added.mid, cost.added.lo, cost.added.hi)
        );
        // (ratio − 1) × the baseline's median, not the difference of the medians.
        let want = (cost.est.mid - 1.0) * cost.baseline_ns;
        assert!((cost.added.mid - want).abs() < 1e-9, "{factor}");
        // Its CI holds 0 exactly when the ratio's holds 1, and has its sign.
        assert_eq!(cost.added.contains(0.0), cost.est.contains(1.0), "{factor}");
        assert_eq!(cost.added.lo > 0.0, cost.est.lo > 1.0, "{factor}");
        assert_eq!(cost.added.hi < 0.0, cost.est.hi < 1.0, "{factor}");
    }
}

#[test]
fn runs_of_another_machine_or_build_are_named_not_comparable() {
    let machine = |kernel: &str, cores: &str| {
        format!("M\tcpu\tSome CPU\nM\tcores\t{cores}\nM\tkernel\t{kernel}\nM\tarch\tx86_64\nM\trustc\trustc 1.95\nM\trustflags\t-C x\nM\tpasses\t3\n")
    };
    let a = Run::parse(&records(3, 10, 1.1, &machine("6.18.44", "2"))).unwrap();
    let b = Run::parse(&records(3, 10, 1.1, &machine("6.18.44", "2"))).unwrap();
    let c = Run::parse(&records(3, 10, 1.1, &machine("6.1.0-13", "4"))).unwrap();
    assert!(differences(&a, &b).is_empty());
    assert_eq!(
        differences(&a, &c),
        ["cores: 2, then 4", "kernel: 6.18.44, then 6.1.0-13"]
    );
    // A record only one run has is a difference too.
    let d = Run::parse(&records(3, 10, 1.1, "")).unwrap();
    assert_eq!(differences(&d, &a).len(), 7);
}

#[test]
fn a_host_mount_tree_is_counted_and_only_what_the_tool_added_is_listed() {
    assert_eq!(
        mounts_cell("1: /proc proc", Some(&"20 0".to_string())),
        "the host's mount tree, 20 mounts; added 1: /proc proc"
    );
    assert_eq!(
        mounts_cell("0: ", Some(&"18 2".to_string())),
        "the host's mount tree, 18 of its 20 mounts; none added"
    );
    // A tool with a root of its own: its mounts, as recorded.
    assert_eq!(
        mounts_cell("2: / tmpfs, /proc proc", None),
        "2: / tmpfs, /proc proc"
    );
}

#[test]
fn the_agreement_section_says_when_runs_are_not_comparable() {
    let machine = |kernel: &str| {
        format!("M\tcpu\tSome CPU\nM\tcores\t2\nM\tkernel\t{kernel}\nM\tarch\tx86_64\nM\trustc\tr\nM\trustflags\tf\nM\tpasses\t3\n")
    };
    let a = Run::parse(&records(3, 20, 1.1, &machine("6.18.44"))).unwrap();
    let b = Run::parse(&records(3, 20, 1.1, &machine("6.18.44"))).unwrap();
    let c = Run::parse(&records(3, 20, 1.1, &machine("6.1.0"))).unwrap();
    let section = |prev: &Run, run: &Run| {
        let mut md = String::new();
        agreement_section(&mut md, prev, run, &agreement_of(&keyed(prev), &keyed(run)));
        md
    };
    let same = section(&a, &b);
    assert!(same.contains("name the same machine and build"), "{same}");
    assert!(same.contains("Bonferroni level for the 1 ratios"), "{same}");
    assert!(same.contains("**1 of 1 ratios agree.**"), "{same}");
    let other = section(&a, &c);
    assert!(
        other.contains("**The two runs are not comparable**"),
        "{other}"
    );
    assert!(other.contains("kernel: 6.18.44, then 6.1.0"), "{other}");
}

#[test]
fn the_passes_section_prints_the_seeds_and_compares_the_halves() {
    let run = Run::parse(&records(4, 30, 1.1, "")).unwrap();
    let mut md = String::new();
    passes_section(&mut md, &run, keyed);
    assert!(md.contains("pass 1 `0x0000000000001000`"), "{md}");
    assert!(md.contains("pass 4 `0x0000000000001003`"), "{md}");
    assert!(md.contains("passes 1–2 and passes 3–4"), "{md}");
    assert!(md.contains("for the 1 ratios compared"), "{md}");
    // Records without seeds say that their passes shared one.
    let old = records(2, 30, 1.1, "").replace("M\tseed\t", "M\told seed\t");
    let mut md = String::new();
    passes_section(&mut md, &Run::parse(&old).unwrap(), keyed);
    assert!(md.contains("These records hold no shuffle seed"), "{md}");
}
