//! `cargo xtask bench [--quick] [--report-only] [--compare FIRST SECOND]`
//!
//! Runs `benches/clone.rs`, which measures every set of paths in interleaved
//! rounds (see its header) and writes one record per path per round. The
//! records are kept in `target/bench/rounds.tsv` (the run before in
//! `rounds.prev.tsv`) with the machine's description, and the report is
//! rendered from them alone: `docs/benchmarks.md` and the growth plot
//! `docs/benchmarks.svg` (a `--quick` smoke run writes both under
//! `target/bench/` instead). `--report-only` re-renders from the kept records;
//! `--compare FIRST SECOND` checks two record files against each other.
//!
//! Statistics. A ratio "A vs B" is the median over rounds of A's time per
//! operation divided by B's in the same round; A and B are always two series of
//! one set (two paths, or one path at two parent sizes). Its 95 % interval is
//! a percentile bootstrap: the rounds are resampled with replacement, in
//! blocks of consecutive rounds ([`Rng::draw`]), [`RESAMPLES`] times (fixed
//! seed), and the median taken each time. A slope is
//! a least-squares fit of a path's per-size medians against the size; its
//! interval, and that of a ratio of two slopes, resample the rounds the same
//! way (one draw of round indices for every size and both paths).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Separate bench processes in a full run.
const PASSES: usize = 8;

/// Bootstrap resamples per interval.
const RESAMPLES: usize = 1000;
/// Seed of the bootstrap's generator: the same records give the same intervals.
const SEED: u64 = 0x5eed_c10e_1ab0_0001;

/// One path's records in one set: time per operation in each round, in ns.
struct Series {
    group: String,
    name: String,
    /// The parent size it ran at (growth sets), or None (this process as it is).
    size: Option<Column>,
    batch: u64,
    ns: Vec<f64>,
}

/// The paths measured together in one set of rounds.
struct Set {
    name: String,
    /// Key/value pairs of its `S` records: rounds, seconds.
    info: BTreeMap<String, String>,
    series: Vec<Series>,
    /// The first round of each pass (a separate bench process) that measured this set.
    passes: Vec<usize>,
    /// The pass its last record came from.
    pass: usize,
}

impl Set {
    fn series(&self, name: &str, size: Option<Column>) -> Option<&Series> {
        self.series
            .iter()
            .find(|s| s.name == name && s.size == size)
    }

    fn rounds(&self) -> usize {
        self.series.first().map_or(0, |s| s.ns.len())
    }
}

/// One parent size: a helper process that touched `mib` MiB (in huge pages if `thp`).
#[derive(Clone, Copy, PartialEq)]
struct Column {
    mib: f64,
    thp: bool,
}

impl Column {
    /// "-" is no column; "64 MiB"; "1024 MiB THP".
    fn parse(text: &str) -> Option<Column> {
        let (mib, rest) = text.split_once(" MiB")?;
        Some(Column {
            mib: mib.parse().ok()?,
            thp: rest.contains("THP"),
        })
    }

    fn label(&self) -> String {
        format!("{} MiB{}", self.mib, if self.thp { " THP" } else { "" })
    }
}

/// One run's records.
struct Run {
    meta: BTreeMap<String, String>,
    /// Per parent size, its `H` record's key/value pairs (AnonHugePages_kB, Rss_kB).
    memory: Vec<(String, BTreeMap<String, String>)>,
    sets: Vec<Set>,
    /// The pass being read (`P` records separate the passes' records).
    pass: usize,
}

fn pairs(fields: &[&str]) -> BTreeMap<String, String> {
    fields
        .chunks(2)
        .filter_map(|kv| Some((kv.first()?.to_string(), kv.get(1)?.to_string())))
        .collect()
}

impl Run {
    fn parse(text: &str) -> Result<Run, String> {
        let mut run = Run {
            meta: BTreeMap::new(),
            memory: Vec::new(),
            sets: Vec::new(),
            pass: 0,
        };
        for (number, line) in text.lines().enumerate() {
            let f: Vec<&str> = line.split('\t').collect();
            let bad = || format!("record {}: {line:?}", number + 1);
            match f.as_slice() {
                ["M", key, value] => {
                    run.meta.insert(key.to_string(), value.to_string());
                }
                ["P", pass] => run.pass = pass.parse().map_err(|_| bad())?,
                ["H", size, rest @ ..] => {
                    if !run.memory.iter().any(|(s, _)| s == size) {
                        run.memory.push((size.to_string(), pairs(rest)));
                    }
                }
                ["B", _, _, name, size, _]
                    if run.sets.iter().any(|s| {
                        s.name == f[1] && s.series(name, Column::parse(size)).is_some()
                    }) => {}
                ["B", set, group, name, size, batch] => {
                    let batch = batch.parse().map_err(|_| bad())?;
                    run.set_mut(set).series.push(Series {
                        group: group.to_string(),
                        name: name.to_string(),
                        size: Column::parse(size),
                        batch,
                        ns: Vec::new(),
                    });
                }
                ["R", set, _round, _group, name, size, ns] => {
                    let ns = ns.parse().map_err(|_| bad())?;
                    let size = Column::parse(size);
                    let pass = run.pass;
                    let set = run.set_mut(set);
                    if set.pass != pass {
                        set.pass = pass;
                        set.passes.push(set.rounds());
                    }
                    let series = set
                        .series
                        .iter_mut()
                        .find(|s| s.name == *name && s.size == size)
                        .ok_or_else(bad)?;
                    series.ns.push(ns);
                }
                ["S", set, rest @ ..] => run.set_mut(set).info.extend(pairs(rest)),
                [""] => {}
                _ => return Err(bad()),
            }
        }
        if run.sets.is_empty() {
            return Err("no records".into());
        }
        Ok(run)
    }

    fn set_mut(&mut self, name: &str) -> &mut Set {
        if let Some(i) = self.sets.iter().position(|s| s.name == name) {
            return &mut self.sets[i];
        }
        self.sets.push(Set {
            name: name.to_string(),
            info: BTreeMap::new(),
            series: Vec::new(),
            passes: Vec::new(),
            pass: usize::MAX,
        });
        self.sets.last_mut().unwrap()
    }

    fn set(&self, name: &str) -> Option<&Set> {
        self.sets.iter().find(|s| s.name == name)
    }

    fn meta(&self, key: &str) -> &str {
        self.meta.get(key).map_or("?", String::as_str)
    }

    /// The parent sizes measured: 4 KiB pages smallest first, then THP.
    fn columns(&self) -> Vec<Column> {
        let mut v: Vec<Column> = Vec::new();
        for c in self
            .sets
            .iter()
            .flat_map(|s| s.series.iter().filter_map(|x| x.size))
        {
            if !v.contains(&c) {
                v.push(c);
            }
        }
        v.sort_by(|a, b| (a.thp, a.mib).partial_cmp(&(b.thp, b.mib)).unwrap());
        v
    }

    /// The 4 KiB columns.
    fn plain(&self) -> Vec<Column> {
        self.columns().into_iter().filter(|c| !c.thp).collect()
    }

    /// A path's records at one size, with the set they are in.
    fn at(&self, col: Column, name: &str) -> Option<(&Set, &Series)> {
        self.sets
            .iter()
            .find_map(|s| Some((s, s.series(name, Some(col))?)))
    }

    /// The growth paths: every path measured at the largest 4 KiB size, in set order.
    fn growth_paths(&self) -> Vec<String> {
        let Some(&last) = self.plain().last() else {
            return Vec::new();
        };
        self.sets
            .iter()
            .flat_map(|s| s.series.iter())
            .filter(|x| x.size == Some(last))
            .map(|x| x.name.clone())
            .collect()
    }
}

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n as u64) as usize
    }

    /// Round indices for one bootstrap resample of a set measured in
    /// `passes` (first rounds of each pass; `n` rounds in all). A two-level
    /// bootstrap: passes are drawn with replacement (each pass is a separate
    /// process, with its own address-space layout and its own minutes of the
    /// machine's load, which shift every ratio of that pass alike), then
    /// within each drawn pass its rounds, in blocks of about m^(1/3)
    /// consecutive rounds (neighbouring rounds share the machine's state).
    fn draw(&mut self, passes: &[usize], n: usize) -> Vec<usize> {
        let mut idx = Vec::with_capacity(n + 64);
        for _ in 0..passes.len() {
            let p = self.below(passes.len());
            let (start, end) = (passes[p], passes.get(p + 1).copied().unwrap_or(n));
            let m = end - start;
            let block = ((m as f64).cbrt().round() as usize).clamp(1, m);
            let want = idx.len() + m;
            while idx.len() < want {
                let first = start + self.below(m - block + 1);
                idx.extend(first..first + block);
            }
            idx.truncate(want);
        }
        idx
    }
}

/// The median (for an even count, the upper of the two middle values).
fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, f64::total_cmp).1
}

fn median_at(v: &[f64], idx: &[usize]) -> f64 {
    median(&idx.iter().map(|&i| v[i]).collect::<Vec<_>>())
}

/// A point estimate with its 95 % bootstrap interval.
#[derive(Clone, Copy)]
struct Est {
    mid: f64,
    lo: f64,
    hi: f64,
}

impl Est {
    fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// `point`, and the 2.5th and 97.5th percentiles of `resample` over RESAMPLES
/// draws of round indices (with replacement) from 0..rounds.
fn bootstrap(point: f64, set: &Set, mut resample: impl FnMut(&[usize]) -> f64) -> Est {
    let mut rng = Rng(SEED);
    let (passes, n) = (&set.passes, set.rounds());
    let mut v: Vec<f64> = (0..RESAMPLES)
        .map(|_| resample(&rng.draw(passes, n)))
        .collect();
    v.sort_by(f64::total_cmp);
    Est {
        mid: point,
        lo: v[RESAMPLES * 25 / 1000],
        hi: v[RESAMPLES * 975 / 1000 - 1],
    }
}

/// Median over rounds of `a[round] / b[round]` (two series of one set).
fn paired_ratio(set: &Set, a: &Series, b: &Series) -> Est {
    let r: Vec<f64> = a.ns.iter().zip(&b.ns).map(|(x, y)| x / y).collect();
    bootstrap(median(&r), set, |idx| median_at(&r, idx))
}

/// Least-squares slope of y against x.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    sxy / sxx
}

/// A path's records at every 4 KiB size, all from one set: (GiB, ns per round).
type Points<'a> = (&'a Set, Vec<(f64, &'a [f64])>);

fn growth<'a>(run: &'a Run, path: &str) -> Option<Points<'a>> {
    let plain = run.plain();
    let found: Vec<(&Set, f64, &[f64])> = plain
        .iter()
        .filter_map(|&c| {
            let (set, series) = run.at(c, path)?;
            Some((set, c.mib / 1024.0, &series.ns[..]))
        })
        .collect();
    let one_set = found.windows(2).all(|w| w[0].0.name == w[1].0.name);
    (found.len() == plain.len() && found.len() >= 2 && one_set)
        .then(|| (found[0].0, found.iter().map(|(_, x, v)| (*x, *v)).collect()))
}

/// Slope of the medians against the size, rounds resampled alike at every size.
fn fit(points: &[(f64, &[f64])], idx: Option<&[usize]>) -> f64 {
    slope(
        &points
            .iter()
            .map(|(x, v)| (*x, idx.map_or_else(|| median(v), |i| median_at(v, i))))
            .collect::<Vec<_>>(),
    )
}

/// Slope of a path's cost against the parent's size, in ns per GiB.
fn growth_slope((set, points): &Points) -> Est {
    bootstrap(fit(points, None), set, |idx| fit(points, Some(idx)))
}

/// slope(a) / slope(b) for two paths of one set.
fn slope_ratio((set, a): &Points, (_, b): &Points) -> Est {
    bootstrap(fit(a, None) / fit(b, None), set, |idx| {
        fit(a, Some(idx)) / fit(b, Some(idx))
    })
}

/// "faster" / "slower" / "within noise" for a ratio clonelab / peer.
fn word(e: &Est) -> &'static str {
    if e.hi < 1.0 {
        "faster"
    } else if e.lo > 1.0 {
        "slower"
    } else {
        "within noise"
    }
}

/// Every ratio the report prints, keyed by a label unique in a run.
struct Ratio {
    key: String,
    set: String,
    ours: String,
    peer: String,
    est: Est,
    rounds: usize,
}

/// (set, or "*" for every parent size; clonelab path; peer)
const PAIRS: &[(&str, &str, &str)] = &[
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
const SLOPE_PAIRS: &[(&str, &str)] = &[
    ("clonelab spawn (clone)", "libc::fork"),
    ("clonelab spawn (clone3)", "libc::fork"),
];

const VFORK_EXEC: &str = "clonelab CLONE_VM|CLONE_VFORK + execve";

fn ratios(run: &Run) -> Vec<Ratio> {
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

/// What a target asks of an interval.
enum Want {
    /// upper bound < x
    Below(f64),
    /// upper bound ≤ x
    AtMost(f64),
    /// interval within [lo, hi]
    Band(f64, f64),
    /// the interval contains x or lies below it (lower bound ≤ x)
    ContainsOrBelow(f64),
}

impl Want {
    fn text(&self) -> String {
        match self {
            Want::Below(x) => format!("upper < {x:.2}"),
            Want::AtMost(x) => format!("upper ≤ {x:.2}"),
            Want::Band(l, h) => format!("within [{l:.2}, {h:.2}]"),
            Want::ContainsOrBelow(x) => format!("contains {x:.1} or below"),
        }
    }

    /// met: the whole interval satisfies the target; missed: none of it does;
    /// within noise: the interval straddles the bound.
    fn verdict(&self, e: &Est) -> &'static str {
        let (met, missed) = match *self {
            Want::Below(x) => (e.hi < x, e.lo >= x),
            Want::AtMost(x) => (e.hi <= x, e.lo > x),
            Want::Band(l, h) => (l <= e.lo && e.hi <= h, e.hi < l || e.lo > h),
            Want::ContainsOrBelow(x) => (e.lo <= x, e.lo > x),
        };
        if met {
            "met"
        } else if missed {
            "**missed**"
        } else {
            "within noise"
        }
    }
}

/// The issue's targets: (what, ratio key, wanted).
fn targets(run: &Run) -> Vec<(String, String, Want)> {
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

fn human(ns: f64) -> String {
    let a = ns.abs();
    if a >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if a >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

fn esc(s: &str) -> String {
    s.replace('|', "\\|")
}

fn interval(e: &Est) -> String {
    format!("[{:.3}, {:.3}]", e.lo, e.hi)
}

/// Agreement of `second` with `first`: every ratio of the second run inside
/// the first run's interval, or both within noise (both intervals contain 1).
fn agreement(first: &Run, second: &Run) -> (usize, usize, Vec<String>) {
    let before: BTreeMap<String, Est> = ratios(first).into_iter().map(|r| (r.key, r.est)).collect();
    let (mut total, mut agree, mut rows) = (0, 0, Vec::new());
    for r in ratios(second) {
        let Some(b) = before.get(&r.key) else {
            continue;
        };
        total += 1;
        let ok = b.contains(r.est.mid) || (b.contains(1.0) && r.est.contains(1.0));
        agree += ok as usize;
        rows.push(format!(
            "| {} | {:.3} {} | {:.3} {} | {} |",
            esc(&r.key),
            b.mid,
            interval(b),
            r.est.mid,
            interval(&r.est),
            if ok { "agrees" } else { "**differs**" }
        ));
    }
    (total, agree, rows)
}

const AGREEMENT_HEADER: &str =
    "| ratio | first run [95 %] | second run [95 %] | |\n|---|---:|---:|:---:|\n";

fn first_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// `M` records describing this machine, appended to the run's records.
fn machine_records() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown")
        .trim()
        .to_string();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    [
        ("cpu", model),
        ("cores", first_line("nproc", &[])),
        ("kernel", first_line("uname", &["-r"])),
        ("arch", first_line("uname", &["-m"])),
        ("rustc", first_line("rustc", &["--version"])),
        ("date", first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])),
        (
            "loadavg",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ]
    .iter()
    .map(|(k, v)| format!("M\t{k}\t{v}\n"))
    .collect()
}

/// Colours of the plot's series, in the order of the growth table.
const COLOURS: &[&str] = &[
    "#1f77b4", "#2ca02c", "#17becf", "#9467bd", "#d62728", "#ff7f0e", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22",
];

/// "100 µs", "1 ms", "10 ms" for a power of ten in ns.
fn decade_label(ns: f64) -> String {
    match ns {
        x if x >= 1e6 => format!("{} ms", x / 1e6),
        x if x >= 1e3 => format!("{} µs", x / 1e3),
        x => format!("{x} ns"),
    }
}

/// The growth plot: median time per operation (log scale) against the parent's size.
fn svg(run: &Run, rows: &[(String, Option<Est>)]) -> String {
    let cols = run.columns();
    let columns = cols.len();
    let (left, top, width, height, legend) = (80.0, 40.0, 520.0, 380.0, 330.0);
    let values: Vec<f64> = run
        .sets
        .iter()
        .flat_map(|s| s.series.iter().filter(|x| x.size.is_some()))
        .map(|x| median(&x.ns))
        .collect();
    let lo = (values.iter().cloned().fold(f64::MAX, f64::min) * 0.8)
        .log10()
        .floor();
    let hi = values.iter().cloned().fold(0.0, f64::max).log10().ceil();
    let x = |i: usize| left + 30.0 + i as f64 * (width - 60.0) / (columns.max(2) - 1) as f64;
    let y = |ns: f64| top + height - (ns.log10() - lo) / (hi - lo) * height;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"22\" font-size=\"15\">create+reap and spawn+exec: median time per operation vs the parent's touched memory</text>\n",
        left + width + legend,
        top + height + 60.0
    );
    let _ = writeln!(
        s,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{width}\" height=\"{height}\" fill=\"none\" stroke=\"#333\"/>"
    );
    for decade in lo as i32..=hi as i32 {
        let ns = 10f64.powi(decade);
        let yy = y(ns);
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left + width,
            left - 6.0,
            yy + 4.0,
            decade_label(ns)
        );
    }
    for (i, col) in cols.iter().enumerate() {
        let label = col.label().replace(" MiB THP", " MiB, THP");
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
            x(i),
            top + height + 18.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">parent's touched private anonymous memory (one column per size; log-scale time)</text>",
        left + width / 2.0,
        top + height + 42.0
    );
    for (n, (name, slope)) in rows.iter().enumerate() {
        let colour = COLOURS[n % COLOURS.len()];
        let ours = name.starts_with("clonelab");
        let dash = if ours {
            ""
        } else {
            " stroke-dasharray=\"6,4\""
        };
        let points: Vec<(f64, f64)> = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.thp)
            .filter_map(|(i, c)| Some((x(i), y(median(&run.at(*c, name)?.1.ns)))))
            .collect();
        let line: Vec<String> = points
            .iter()
            .map(|(a, b)| format!("{a:.1},{b:.1}"))
            .collect();
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>",
            line.join(" ")
        );
        for (a, b) in &points {
            let _ = writeln!(
                s,
                "<circle cx=\"{a:.1}\" cy=\"{b:.1}\" r=\"3.5\" fill=\"{colour}\"/>"
            );
        }
        for (i, c) in cols.iter().enumerate().filter(|(_, c)| c.thp) {
            if let Some(series) = run.at(*c, name) {
                let _ = writeln!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4.5\" fill=\"white\" stroke=\"{colour}\" stroke-width=\"2\"/>",
                    x(i),
                    y(median(&series.1.ns))
                );
            }
        }
        let ly = top + 10.0 + n as f64 * 34.0;
        let lx = left + width + 20.0;
        let _ = writeln!(
            s,
            "<line x1=\"{lx}\" x2=\"{}\" y1=\"{ly}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            lx + 28.0,
            lx + 34.0,
            ly + 4.0,
            name.replace('&', "&amp;")
        );
        if let Some(e) = slope {
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" fill=\"#555\">slope {} per GiB</text>",
                lx + 34.0,
                ly + 18.0,
                human(e.mid)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

/// The whole report, from one run's records (and the previous run's, if any).
fn report(run: &Run, previous: Option<&Run>, svg_name: &str) -> (String, String) {
    let all = ratios(run);
    let find = |key: &str| all.iter().find(|r| r.key == key);
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str(concat!(
        "Measured with `cargo xtask bench` (`benches/clone.rs`, rendered by `xtask/src/bench.rs` from the records ",
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

const NOTES: &str = "
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

fn read_run(path: &Path) -> Result<Run, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Run::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `cargo xtask bench` with its arguments (after `bench`).
pub fn run(args: &[String]) -> Result<(), String> {
    let has = |flag: &str| args.iter().any(|a| a == flag);
    if let Some(i) = args.iter().position(|a| a == "--compare") {
        let (Some(a), Some(b)) = (args.get(i + 1), args.get(i + 2)) else {
            return Err("usage: cargo xtask bench --compare FIRST.tsv SECOND.tsv".into());
        };
        let (first, second) = (read_run(Path::new(a))?, read_run(Path::new(b))?);
        let (total, agree, rows) = agreement(&first, &second);
        print!("{AGREEMENT_HEADER}");
        for r in rows {
            println!("{r}");
        }
        println!("{agree} of {total} ratios of the second run agree with the first");
        return Ok(());
    }
    let quick = has("--quick");
    let dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let records = dir.join(if quick {
        "rounds-quick.tsv"
    } else {
        "rounds.tsv"
    });
    let previous = dir.join("rounds.prev.tsv");
    if !has("--report-only") {
        let started = std::time::Instant::now();
        let fresh = dir.join("rounds.new.tsv");
        let out = std::fs::canonicalize(&dir)
            .map_err(|e| e.to_string())?
            .join("rounds.new.tsv");
        // The full run measures in PASSES separate processes, each with a share
        // of the time: what differs from one process to the next (its
        // address-space layout, its minutes of the machine) then shows in the
        // intervals instead of shifting a whole run.
        let passes = if quick { 1 } else { PASSES };
        let mut text = String::new();
        for pass in 0..passes {
            let mut cmd = Command::new("cargo");
            cmd.args(["bench", "--package", "clonelab", "--bench", "clone", "--"])
                .arg("--out")
                .arg(&out)
                .args(["--scale", &format!("{}", 1.0 / passes as f64)]);
            if quick {
                cmd.arg("--quick");
            }
            let status = cmd.status().map_err(|e| format!("cargo bench: {e}"))?;
            if !status.success() {
                return Err("cargo bench failed".into());
            }
            let _ = writeln!(text, "P\t{pass}");
            text.push_str(&std::fs::read_to_string(&fresh).map_err(|e| e.to_string())?);
        }
        text.push_str(&machine_records());
        let _ = writeln!(
            text,
            "M\tpasses\t{passes}\nM\ttotal_seconds\t{:.0}",
            started.elapsed().as_secs_f64()
        );
        if !quick && records.exists() {
            std::fs::rename(&records, &previous).map_err(|e| e.to_string())?;
        }
        std::fs::write(&records, text).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&fresh);
    }
    let run = read_run(&records)?;
    let prev = if quick {
        None
    } else {
        read_run(&previous).ok()
    };
    let (md, svg) = report(&run, prev.as_ref(), "benchmarks.svg");
    let out_dir = if quick { dir } else { PathBuf::from("docs") };
    std::fs::write(out_dir.join("benchmarks.md"), &md).map_err(|e| e.to_string())?;
    std::fs::write(out_dir.join("benchmarks.svg"), svg).map_err(|e| e.to_string())?;
    println!(
        "xtask: wrote {}/benchmarks.md and benchmarks.svg from {}",
        out_dir.display(),
        records.display()
    );
    // The targets, on the terminal too.
    if let Some(start) = md.find("## Targets") {
        let end = md[start..]
            .find("\n## Paired")
            .map_or(md.len(), |e| start + e);
        println!("{}", &md[start..end]);
    }
    Ok(())
}
