//! The growth fit: a path's cost against the parent's size. A least-squares
//! slope of its per-size medians (ns per GiB), with a bootstrap interval,
//! and the ratio of two paths' slopes, resampling the rounds alike at every
//! size and for both paths.
//!
//! Part of `xtask/src/bench/`; used by `ratios` and `report`. Std only.

use super::records::{Run, Set};
use super::stats::{bootstrap, median, median_at, Est};

/// Least-squares slope of y against x.
pub(super) fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    sxy / sxx
}

/// A path's records at every 4 KiB size, all from one set: (GiB, ns per round).
pub(super) type Points<'a> = (&'a Set, Vec<(f64, &'a [f64])>);

pub(super) fn growth<'a>(run: &'a Run, path: &str) -> Option<Points<'a>> {
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
pub(super) fn fit(points: &[(f64, &[f64])], idx: Option<&[usize]>) -> f64 {
    slope(
        &points
            .iter()
            .map(|(x, v)| (*x, idx.map_or_else(|| median(v), |i| median_at(v, i))))
            .collect::<Vec<_>>(),
    )
}

/// Slope of a path's cost against the parent's size, in ns per GiB.
pub(super) fn growth_slope((set, points): &Points) -> Est {
    bootstrap(fit(points, None), set, |idx| fit(points, Some(idx)))
}

/// slope(a) / slope(b) for two paths of one set.
pub(super) fn slope_ratio((set, a): &Points, (_, b): &Points) -> Est {
    bootstrap(fit(a, None) / fit(b, None), set, |idx| {
        fit(a, Some(idx)) / fit(b, Some(idx))
    })
}
