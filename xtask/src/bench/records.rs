//! The records of a bench run, read back: `benches/clone/` writes one
//! tab-separated line per path per round (`R`), with each path's batch size
//! (`B`), each set's rounds and seconds (`S`), each helper's memory (`H`),
//! the machine (`M`), the pass boundaries (`P`) and each pass's shuffle
//! seed (`M seed`, one per pass); [`Run::parse`] makes sets of series from
//! them, and [`Run::passes`] a run of some of its passes.
//!
//! Part of `xtask/src/bench/`; everything else there reads a [`Run`]. Std only.

use std::collections::BTreeMap;
use std::path::Path;

/// One path's records in one set: time per operation in each round, in ns.
pub(super) struct Series {
    pub(super) group: String,
    pub(super) name: String,
    /// The parent size it ran at (growth sets), or None (this process as it is).
    pub(super) size: Option<Column>,
    pub(super) batch: u64,
    pub(super) ns: Vec<f64>,
}

/// The paths measured together in one set of rounds.
pub(super) struct Set {
    pub(super) name: String,
    /// Key/value pairs of its `S` records: rounds, seconds.
    pub(super) info: BTreeMap<String, String>,
    pub(super) series: Vec<Series>,
    /// The first round of each pass (a separate bench process) that measured this set.
    pub(super) passes: Vec<usize>,
    /// The pass its last record came from.
    pub(super) pass: usize,
}

impl Set {
    pub(super) fn series(&self, name: &str, size: Option<Column>) -> Option<&Series> {
        self.series
            .iter()
            .find(|s| s.name == name && s.size == size)
    }

    pub(super) fn rounds(&self) -> usize {
        self.series.first().map_or(0, |s| s.ns.len())
    }
}

/// One parent size: a helper process that touched `mib` MiB (in huge pages if `thp`).
#[derive(Clone, Copy, PartialEq)]
pub(super) struct Column {
    pub(super) mib: f64,
    pub(super) thp: bool,
}

impl Column {
    /// "-" is no column; "64 MiB"; "1024 MiB THP".
    pub(super) fn parse(text: &str) -> Option<Column> {
        let (mib, rest) = text.split_once(" MiB")?;
        Some(Column {
            mib: mib.parse().ok()?,
            thp: rest.contains("THP"),
        })
    }

    pub(super) fn label(&self) -> String {
        format!("{} MiB{}", self.mib, if self.thp { " THP" } else { "" })
    }
}

/// One run's records.
pub(super) struct Run {
    pub(super) meta: BTreeMap<String, String>,
    /// Per parent size, its `H` record's key/value pairs (AnonHugePages_kB, Rss_kB).
    pub(super) memory: Vec<(String, BTreeMap<String, String>)>,
    pub(super) sets: Vec<Set>,
    /// The pass being read (`P` records separate the passes' records).
    pub(super) pass: usize,
    /// Each pass's shuffle seed, as its `M seed` record gave it: (pass, seed).
    /// Empty in records made before the seed was drawn per pass (they all
    /// used one fixed seed).
    pub(super) seeds: Vec<(usize, String)>,
}

pub(super) fn pairs(fields: &[&str]) -> BTreeMap<String, String> {
    fields
        .chunks(2)
        .filter_map(|kv| Some((kv.first()?.to_string(), kv.get(1)?.to_string())))
        .collect()
}

impl Run {
    pub(super) fn parse(text: &str) -> Result<Run, String> {
        let mut run = Run {
            meta: BTreeMap::new(),
            memory: Vec::new(),
            sets: Vec::new(),
            pass: 0,
            seeds: Vec::new(),
        };
        for (number, line) in text.lines().enumerate() {
            let f: Vec<&str> = line.split('\t').collect();
            let bad = || format!("record {}: {line:?}", number + 1);
            match f.as_slice() {
                ["M", "seed", seed] => run.seeds.push((run.pass, seed.to_string())),
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

    /// The passes this run's sets were measured in (the most of any set).
    pub(super) fn pass_count(&self) -> usize {
        self.sets.iter().map(|s| s.passes.len()).max().unwrap_or(0)
    }

    /// A run of the passes `which` of this one (counted per set: the first
    /// pass that measured a set is its pass 0), with this run's records of
    /// the machine: what the two halves of a run are compared as.
    pub(super) fn passes(&self, which: std::ops::Range<usize>) -> Run {
        let sets = self
            .sets
            .iter()
            .filter_map(|set| {
                let n = set.rounds();
                let bounds = |j: usize| set.passes.get(j).copied().unwrap_or(n);
                let kept: Vec<std::ops::Range<usize>> = which
                    .clone()
                    .filter(|&j| j < set.passes.len())
                    .map(|j| bounds(j)..bounds(j + 1))
                    .collect();
                if kept.is_empty() {
                    return None;
                }
                let mut passes = Vec::new();
                let mut first = 0;
                for r in &kept {
                    passes.push(first);
                    first += r.len();
                }
                let series = set
                    .series
                    .iter()
                    .map(|s| Series {
                        group: s.group.clone(),
                        name: s.name.clone(),
                        size: s.size,
                        batch: s.batch,
                        ns: kept.iter().flat_map(|r| s.ns[r.clone()].to_vec()).collect(),
                    })
                    .collect();
                Some(Set {
                    name: set.name.clone(),
                    info: set.info.clone(),
                    series,
                    passes,
                    pass: set.pass,
                })
            })
            .collect();
        Run {
            meta: self.meta.clone(),
            memory: self.memory.clone(),
            sets,
            pass: self.pass,
            seeds: self
                .seeds
                .iter()
                .filter(|(p, _)| which.contains(p))
                .cloned()
                .collect(),
        }
    }

    pub(super) fn set_mut(&mut self, name: &str) -> &mut Set {
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

    pub(super) fn set(&self, name: &str) -> Option<&Set> {
        self.sets.iter().find(|s| s.name == name)
    }

    pub(super) fn meta(&self, key: &str) -> &str {
        self.meta.get(key).map_or("?", String::as_str)
    }

    /// The parent sizes measured: 4 KiB pages smallest first, then THP.
    pub(super) fn columns(&self) -> Vec<Column> {
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
    pub(super) fn plain(&self) -> Vec<Column> {
        self.columns().into_iter().filter(|c| !c.thp).collect()
    }

    /// A path's records at one size, with the set they are in.
    pub(super) fn at(&self, col: Column, name: &str) -> Option<(&Set, &Series)> {
        self.sets
            .iter()
            .find_map(|s| Some((s, s.series(name, Some(col))?)))
    }

    /// The growth paths: every path measured at the largest 4 KiB size, in set order.
    pub(super) fn growth_paths(&self) -> Vec<String> {
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

pub(super) fn read_run(path: &Path) -> Result<Run, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Run::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}
