//! `cargo xtask bench [--quick] [--report-only] [--compare FIRST SECOND]`
//! and `cargo xtask bench --costs [--quick] [--report-only]`
//!
//! Runs `benches/clone/`, which measures every set of paths in interleaved
//! rounds (see its header) and writes one record per path per round. The
//! records are kept in `target/bench/rounds.tsv` (the run before in
//! `rounds.prev.tsv`) with the machine's description, and the report is
//! rendered from them alone: `docs/benchmarks.md` and the growth plot
//! `docs/benchmarks.svg` (a `--quick` smoke run writes both under
//! `target/bench/` instead). `--report-only` re-renders from the kept records;
//! `--compare FIRST SECOND` checks two record files against each other (with
//! `--costs`, two records of the cost sets).
//! `--costs` runs the bench's cost sets instead (the per-flag ledger and the
//! container start against its peers) and writes `docs/costs.md` and
//! `docs/costs.svg` from `target/bench/costs.tsv` (see `costs`).
//!
//! Statistics. A ratio "A vs B" is the median over rounds of A's time per
//! operation divided by B's in the same round; A and B are always two series of
//! one set (two paths, or one path at two parent sizes). A full run is
//! [`PASSES`] separate bench processes; the intervals are a two-level
//! bootstrap ([`stats::Rng::draw`]): passes drawn with replacement, then each
//! drawn pass's rounds in blocks of consecutive rounds, [`stats::RESAMPLES`]
//! times (the bootstrap's own fixed seed; the bench shuffles each pass's
//! rounds with a seed drawn per pass, recorded as `M seed`), the estimate
//! taken each time. Each estimate has a 95 %
//! confidence interval (the resampled estimates' percentiles) and a 95 %
//! repeat interval (where another run's estimate lands: the estimate plus the
//! percentiles of the difference of two resampled estimates); `--compare`,
//! the report's agreement section and its comparison of the two halves of a
//! run's passes use the second, at the Bonferroni level for the number of
//! ratios they compare (the family repeat interval). A slope is a least-squares
//! fit of a path's per-size medians against the size; its intervals, and
//! those of a ratio of two slopes, resample the rounds the same way (one draw
//! of round indices for every size and both paths).
//!
//! The modules: this one runs the passes and keeps the records; `records`
//! reads them back into a [`records::Run`]; `stats` holds the bootstrap, the
//! intervals and the verdicts; `growth` fits cost against the parent's size;
//! `ratios` names every ratio and target the report prints, and checks two
//! runs' agreement; `format` holds the small text helpers they all share;
//! `report` writes `benchmarks.md` (its prose in `text`), `svg` the plot;
//! `costs` runs and estimates the cost ledger, `costs_report` writes
//! `costs.md` (its prose in `costs_text`) and `peers` installs the container
//! tools it compares with. Std only (and `crate::apt`, in `peers`).

mod costs;
mod costs_report;
mod costs_text;
mod format;
mod growth;
mod peers;
mod ratios;
mod records;
mod report;
mod stats;
mod svg;
#[cfg(test)]
mod tests;
mod text;

pub use peers::ensure_container_peers;
use ratios::{agreement, agreement_header};
use records::{read_run, Run};
use report::differences;
use report::report;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The code generation flag the bench is built with (see where it is used).
pub(super) const ALIGN_LOOPS: &str = "-C llvm-args=-align-loops=64";

/// Separate bench processes in a full run.
const PASSES: usize = 12;

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
        ("rustflags", ALIGN_LOOPS.to_string()),
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

/// Run the bench in `passes` separate processes (each with `extra`
/// arguments and a share `1 / passes` of a full run's time) and return their
/// records, pass by pass (`P` records between them), with the machine's.
fn record_passes(dir: &Path, passes: usize, quick: bool, extra: &[&str]) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let fresh = dir.join("rounds.new.tsv");
    let out = std::fs::canonicalize(dir)
        .map_err(|e| e.to_string())?
        .join("rounds.new.tsv");
    // The full run measures in `passes` separate processes, each with a share
    // of the time: what differs from one process to the next (its
    // address-space layout, its minutes of the machine) then shows in the
    // intervals instead of shifting a whole run.
    let mut text = String::new();
    for pass in 0..passes {
        let mut cmd = Command::new("cargo");
        // Every loop aligned to 64 bytes: where a loop of one `syscall`
        // lands moves its cost by up to 20 % on this machine, so an
        // unaligned build could make two identical loops differ. Its own
        // target directory, so the other builds keep their flags and cache.
        let rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
        cmd.env("RUSTFLAGS", format!("{rustflags} {ALIGN_LOOPS}").trim())
            .env("CARGO_TARGET_DIR", "target/bench-build")
            .args(["bench", "--package", "clonelab", "--bench", "clone", "--"])
            .arg("--out")
            .arg(&out)
            .args(["--scale", &format!("{}", 1.0 / passes as f64)])
            .args(extra);
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
    let _ = std::fs::remove_file(&fresh);
    text.push_str(&machine_records());
    let _ = writeln!(
        text,
        "M\tpasses\t{passes}\nM\ttotal_seconds\t{:.0}",
        started.elapsed().as_secs_f64()
    );
    Ok(text)
}

/// One kind of bench run and its report: `stem` names its records
/// (`target/bench/<stem>.tsv`, the run before in `<stem>.prev.tsv`, a quick
/// run's in `<stem>-quick.tsv`), `extra` the bench's arguments, `name` the
/// report (`docs/<name>.md` and `.svg`; a quick run's under `target/bench/`).
struct Kind {
    stem: &'static str,
    extra: &'static [&'static str],
    passes: usize,
    name: &'static str,
    render: fn(&Run, Option<&Run>, &str) -> (String, String),
}

/// Run the bench as `kind` says (unless `--report-only`: the kept records),
/// keep its records, write its report; returns the run and the report.
fn record_and_report(kind: &Kind, args: &[String]) -> Result<(Run, String), String> {
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let quick = has("--quick");
    let dir = PathBuf::from("target/bench");
    let records = dir.join(match quick {
        true => format!("{}-quick.tsv", kind.stem),
        false => format!("{}.tsv", kind.stem),
    });
    let previous = dir.join(format!("{}.prev.tsv", kind.stem));
    if !has("--report-only") {
        let passes = if quick { 1 } else { kind.passes };
        let text = record_passes(&dir, passes, quick, kind.extra)?;
        if !quick && records.exists() {
            std::fs::rename(&records, &previous).map_err(|e| e.to_string())?;
        }
        std::fs::write(&records, text).map_err(|e| e.to_string())?;
    }
    let run = read_run(&records)?;
    let prev = if quick {
        None
    } else {
        read_run(&previous).ok()
    };
    let (md, svg) = (kind.render)(&run, prev.as_ref(), &format!("{}.svg", kind.name));
    let out_dir = if quick { dir } else { PathBuf::from("docs") };
    std::fs::write(out_dir.join(format!("{}.md", kind.name)), &md).map_err(|e| e.to_string())?;
    std::fs::write(out_dir.join(format!("{}.svg", kind.name)), svg).map_err(|e| e.to_string())?;
    println!(
        "xtask: wrote {}/{name}.md and {name}.svg from {}",
        out_dir.display(),
        records.display(),
        name = kind.name
    );
    Ok((run, md))
}

/// `cargo xtask bench` with its arguments (after `bench`).
pub fn run(args: &[String]) -> Result<(), String> {
    let has = |flag: &str| args.iter().any(|a| a == flag);
    if let Some(i) = args.iter().position(|a| a == "--compare") {
        let (Some(a), Some(b)) = (args.get(i + 1), args.get(i + 2)) else {
            return Err("usage: cargo xtask bench [--costs] --compare FIRST.tsv SECOND.tsv".into());
        };
        let (first, second) = (read_run(Path::new(a))?, read_run(Path::new(b))?);
        let differ = differences(&first, &second);
        if !differ.is_empty() {
            println!(
                "the two runs are not comparable: their records differ ({})",
                differ.join("; ")
            );
        }
        let a = match has("--costs") {
            true => ratios::agreement_of(&costs::keyed(&first), &costs::keyed(&second)),
            false => agreement(&first, &second),
        };
        print!("{}", agreement_header("first run", "second run"));
        for (row, _) in &a.rows {
            println!("{row}");
        }
        println!(
            "{} of {} ratios of the second run agree with the first (inside its family repeat interval for the {} compared, or both within noise); {} inside its per-ratio repeat interval, {} inside its confidence interval (or both within noise)",
            a.agree, a.total, a.total, a.in_repeat, a.in_ci
        );
        return Ok(());
    }
    if has("--costs") {
        return costs::run(args);
    }
    let kind = Kind {
        stem: "rounds",
        extra: &[],
        passes: PASSES,
        name: "benchmarks",
        render: report,
    };
    let (_, md) = record_and_report(&kind, args)?;
    // The targets, on the terminal too.
    if let Some(start) = md.find("## Targets") {
        let end = md[start..]
            .find("\n## Paired")
            .map_or(md.len(), |e| start + e);
        println!("{}", &md[start..end]);
    }
    Ok(())
}
