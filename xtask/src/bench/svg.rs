//! The growth plot, `docs/benchmarks.svg`: median CPU time per operation (log
//! scale) of every growth path against the parent's size, clonelab's paths
//! solid and the peers' dashed, the THP column as open circles, each path's
//! slope in the legend.
//!
//! Part of `xtask/src/bench/`; `report` calls [`svg`]. Std only.

use super::format::human;
use super::records::Run;
use super::stats::{median, Est};
use std::fmt::Write as _;

/// Colours of the plot's series, in the order of the growth table.
pub(super) const COLOURS: &[&str] = &[
    "#1f77b4", "#2ca02c", "#17becf", "#9467bd", "#d62728", "#ff7f0e", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22",
];

/// "100 µs", "1 ms", "10 ms" for a power of ten in ns.
pub(super) fn decade_label(ns: f64) -> String {
    match ns {
        x if x >= 1e6 => format!("{} ms", x / 1e6),
        x if x >= 1e3 => format!("{} µs", x / 1e3),
        x => format!("{x} ns"),
    }
}

/// The growth plot: median CPU time per operation (log scale) against the parent's size.
pub(super) fn svg(run: &Run, rows: &[(String, Option<Est>)]) -> String {
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
         <text x=\"{left}\" y=\"22\" font-size=\"15\">create+reap and spawn+exec: median CPU time per operation (parent and child) vs the parent's touched memory</text>\n",
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

/// A plot of paired ratios (`docs/costs.svg`): one row per ratio, its
/// estimate as a dot and its 95 % CI as a bar, on a log scale with 1.0
/// marked; a row without an estimate is a heading.
pub(super) fn ratio_svg(title: &str, rows: &[(String, Option<Est>)]) -> String {
    let (left, top, width, row_height) = (300.0, 50.0, 480.0, 20.0);
    let height = row_height * rows.len().max(1) as f64;
    let ests = || rows.iter().filter_map(|(_, e)| e.as_ref());
    let lo = ests().map(|e| e.lo).fold(1.0, f64::min).log10();
    let hi = ests().map(|e| e.hi).fold(1.0, f64::max).log10();
    // Whole steps of log10(2) on either side, so 1.0 and its doublings are ticks.
    let step = 2f64.log10();
    let (lo, hi) = ((lo / step).floor() * step, (hi / step).ceil() * step);
    let x = |ratio: f64| left + (ratio.log10() - lo) / (hi - lo).max(step) * width;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"22\" font-size=\"15\">{}</text>\n",
        left + width + 40.0,
        top + height + 50.0,
        title.replace('&', "&amp;")
    );
    let mut tick = lo;
    while tick <= hi + 1e-9 {
        let ratio = 10f64.powf(tick);
        let xx = x(ratio);
        let colour = if (ratio - 1.0).abs() < 1e-6 {
            "#333"
        } else {
            "#ddd"
        };
        let _ = writeln!(
            s,
            "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{top}\" y2=\"{}\" stroke=\"{colour}\"/>\
             <text x=\"{xx:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            top + height,
            top + height + 16.0,
            if ratio >= 10.0 {
                format!("{ratio:.0}")
            } else {
                format!("{ratio:.2}")
            }
        );
        tick += step;
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">time / the baseline's, paired by round (log scale; bar: 95 % CI)</text>",
        left + width / 2.0,
        top + height + 38.0
    );
    for (i, (label, est)) in rows.iter().enumerate() {
        let y = top + (i as f64 + 0.5) * row_height;
        let label = label.replace('&', "&amp;");
        match est {
            None => {
                let _ = writeln!(
                    s,
                    "<text x=\"10\" y=\"{:.1}\" font-weight=\"bold\">{label}</text>",
                    y + 4.0
                );
            }
            Some(e) => {
                // Grey within noise, red above 1, green below (colours of COLOURS).
                let colour = match (e.lo > 1.0, e.hi < 1.0) {
                    (true, _) => COLOURS[4],
                    (_, true) => COLOURS[1],
                    _ => COLOURS[8],
                };
                let _ = writeln!(
                    s,
                    "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>\
                     <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"3\"/>\
                     <circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{colour}\"/>\
                     <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555\" font-size=\"10\">{:.3}</text>",
                    left - 8.0,
                    y + 4.0,
                    x(e.lo),
                    x(e.hi),
                    x(e.mid),
                    x(e.hi) + 6.0,
                    y + 4.0,
                    e.mid
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}
