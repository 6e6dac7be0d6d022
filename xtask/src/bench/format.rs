//! The small text helpers every part of the report shares: a time in the
//! unit that suits it, a table cell with its `|` escaped, an interval.
//!
//! Part of `xtask/src/bench/`; `ratios`, `report` and `svg` import it, and it
//! imports only `stats`' [`Est`]. Std only.

use super::stats::Est;

/// "812.3 ns", "41.7 µs", "2.31 ms".
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

/// A Markdown table cell: `|` escaped.
pub(super) fn esc(s: &str) -> String {
    s.replace('|', "\\|")
}

/// An estimate's 95 % confidence interval, "[lo, hi]".
pub(super) fn interval(e: &Est) -> String {
    format!("[{:.3}, {:.3}]", e.lo, e.hi)
}

/// An estimate's 95 % repeat interval (where another run's value should land), "[lo, hi]".
pub(super) fn repeat(e: &Est) -> String {
    format!("[{:.3}, {:.3}]", e.rep_lo, e.rep_hi)
}

/// An estimate's family repeat interval for `k` ratios compared at once
/// (all of another run's at once), "[lo, hi]".
pub(super) fn family(e: &Est, k: usize) -> String {
    let (lo, hi) = e.family(k);
    format!("[{lo:.3}, {hi:.3}]")
}
