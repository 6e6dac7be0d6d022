//! The statistics of the report: medians, the two-level block bootstrap
//! (passes, then blocks of rounds) behind every 95 % interval, the paired
//! ratio of two series, and the words and verdicts an interval earns
//! (faster / slower / within noise; a target met / missed / within noise).
//!
//! Each estimate carries two intervals from the same resamples: the 95 %
//! *confidence* interval (percentiles of the resampled estimates: where the
//! true value lies; the words and the targets use it), and the 95 % *repeat*
//! interval (the estimate plus the percentiles of the difference of two
//! independent resampled estimates: where the estimate of another run of the
//! same design lands, since that run's error and this one's are independent
//! draws of the same error), and the *family* repeat interval, the same at
//! the Bonferroni level for the k ratios a check compares ([`Est::family`]:
//! where all k of another run's estimates land at once; the agreement of two
//! runs, and of the two halves of one run's passes, uses it).
//!
//! Part of `xtask/src/bench/`; used by `growth`, `ratios`, `report` and
//! `svg`. Std only.

use super::records::{Series, Set};

/// Bootstrap resamples per interval.
pub(super) const RESAMPLES: usize = 1000;
/// Pairs of resamples whose differences give the repeat interval (enough
/// for the family interval's far tails: 39 differences lie beyond each end).
pub(super) const PAIRS: usize = 100_000;
/// The most ratios one family interval can cover: at the Bonferroni level
/// for k ratios each tail holds PAIRS × 0.025 / k differences, and below
/// about 10 of them the percentile is no longer estimated (a report compares
/// about 57 ratios: 44 differences in each tail).
pub(super) const MAX_FAMILY: usize = PAIRS * 25 / 1000 / 10;
/// The differences kept at each end of the sorted pairs: every tail a
/// family interval for 1 to [`MAX_FAMILY`] ratios reads.
const KEPT: usize = PAIRS * 25 / 1000 + 1;
/// Seed of the bootstrap's generator: the same records give the same intervals.
pub(super) const SEED: u64 = 0x5eed_c10e_1ab0_0001;

/// splitmix64.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn below(&mut self, n: usize) -> usize {
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
    pub(super) fn draw(&mut self, passes: &[usize], n: usize) -> Vec<usize> {
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
pub(super) fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, f64::total_cmp).1
}

pub(super) fn median_at(v: &[f64], idx: &[usize]) -> f64 {
    median(&idx.iter().map(|&i| v[i]).collect::<Vec<_>>())
}

/// A point estimate with its 95 % confidence and repeat intervals.
#[derive(Clone)]
pub(super) struct Est {
    pub(super) mid: f64,
    /// The confidence interval: where the true value lies.
    pub(super) lo: f64,
    pub(super) hi: f64,
    /// The repeat interval: where another run's estimate lands.
    pub(super) rep_lo: f64,
    pub(super) rep_hi: f64,
    /// The two ends of the sorted differences of two resampled estimates
    /// ([`KEPT`] each, smallest first): the family intervals read them.
    tails: std::sync::Arc<(Vec<f64>, Vec<f64>)>,
}

impl Est {
    pub(super) fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    pub(super) fn repeat_contains(&self, x: f64) -> bool {
        self.rep_lo <= x && x <= self.rep_hi
    }

    /// The family repeat interval for `k` ratios compared at once: where
    /// another run's estimate lands, for all k at once (95 % jointly), each
    /// the (0.025 / k)th to (1 − 0.025 / k)th percentile of the differences
    /// of two resampled estimates, added to the estimate.
    pub(super) fn family(&self, k: usize) -> (f64, f64) {
        assert!(
            (1..=MAX_FAMILY).contains(&k),
            "a family of {k} ratios: the bootstrap's {PAIRS} pairs cover 1 to {MAX_FAMILY}"
        );
        let tail = PAIRS * 25 / (1000 * k);
        let (low, high) = &*self.tails;
        (self.mid + low[tail], self.mid + high[high.len() - 1 - tail])
    }

    pub(super) fn family_contains(&self, k: usize, x: f64) -> bool {
        let (lo, hi) = self.family(k);
        lo <= x && x <= hi
    }
}

/// The 2.5th and 97.5th percentiles of sorted values.
fn percentiles(sorted: &[f64]) -> (f64, f64) {
    let n = sorted.len();
    (sorted[n * 25 / 1000], sorted[n * 975 / 1000 - 1])
}

/// `point`, the 2.5th and 97.5th percentiles of `resample` over RESAMPLES
/// two-level draws of round indices ([`Rng::draw`]), and `point` plus those
/// of the difference of two of them, over PAIRS pairs of distinct draws.
pub(super) fn bootstrap(point: f64, set: &Set, mut resample: impl FnMut(&[usize]) -> f64) -> Est {
    let mut rng = Rng(SEED);
    let (passes, n) = (&set.passes, set.rounds());
    let mut v: Vec<f64> = (0..RESAMPLES)
        .map(|_| resample(&rng.draw(passes, n)))
        .collect();
    v.sort_by(f64::total_cmp);
    let (lo, hi) = percentiles(&v);
    let mut d: Vec<f64> = (0..PAIRS)
        .map(|_| {
            let i = rng.below(RESAMPLES);
            let j = (i + 1 + rng.below(RESAMPLES - 1)) % RESAMPLES;
            v[i] - v[j]
        })
        .collect();
    d.sort_by(f64::total_cmp);
    let (dlo, dhi) = percentiles(&d);
    Est {
        mid: point,
        lo,
        hi,
        rep_lo: point + dlo,
        rep_hi: point + dhi,
        tails: std::sync::Arc::new((d[..KEPT].to_vec(), d[PAIRS - KEPT..].to_vec())),
    }
}

/// Median over rounds of `a[round] / b[round]` (two series of one set).
pub(super) fn paired_ratio(set: &Set, a: &Series, b: &Series) -> Est {
    let r: Vec<f64> = a.ns.iter().zip(&b.ns).map(|(x, y)| x / y).collect();
    bootstrap(median(&r), set, |idx| median_at(&r, idx))
}

/// "faster" / "slower" / "within noise" for a ratio clonelab / peer.
pub(super) fn word(e: &Est) -> &'static str {
    if e.hi < 1.0 {
        "faster"
    } else if e.lo > 1.0 {
        "slower"
    } else {
        "within noise"
    }
}

/// What a target asks of an interval.
pub(super) enum Want {
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
    pub(super) fn text(&self) -> String {
        match self {
            Want::Below(x) => format!("upper < {x:.2}"),
            Want::AtMost(x) => format!("upper ≤ {x:.2}"),
            Want::Band(l, h) => format!("within [{l:.2}, {h:.2}]"),
            Want::ContainsOrBelow(x) => format!("contains {x:.1} or below"),
        }
    }

    /// met: the whole interval satisfies the target; missed: none of it does;
    /// within noise: the interval straddles the bound.
    pub(super) fn verdict(&self, e: &Est) -> &'static str {
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
