//! What every set of the bench shares: a [`Path`] (one operation, run as a
//! timed batch), the [`Plan`] of a set, [`measure`] (the interleaved rounds
//! and their records), the shuffle's generator, and the checks every child's
//! exit must pass.
//!
//! Part of `benches/clone/`; the family modules build paths with [`path`],
//! `main.rs` measures them. Uses libc's waitpid (the peers' children) and std.

use clonelab::{ExitSignal, WaitStatus};
use std::io::Write;
use std::time::{Duration, Instant};

/// Reap `pid` with libc's waitpid and check that it exited 0.
pub fn waitpid_ok(pid: libc::pid_t) {
    assert!(pid > 0, "no child: {pid}");
    let mut status = 0;
    // SAFETY: pid is our child; status is a valid int.
    let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        reaped == pid && status == 0,
        "child {pid}: waitpid {reaped}, status {status:#x}"
    );
}

/// The exit signal of every process child here.
pub const SIGCHLD: ExitSignal = ExitSignal::SIGCHLD;

/// Check that a clonelab child exited with status 0.
pub fn exited_0(status: WaitStatus) {
    assert_eq!(status, WaitStatus::Exited(0));
}

/// Where a path stands in the growth curve.
#[derive(Clone, Copy, PartialEq)]
pub enum Growth {
    /// Measured in this process only, with no extra memory.
    No,
    /// Measured at every parent size; the child shares the parent's memory
    /// (CLONE_VM, vfork) or replaces it (exec).
    Shares,
    /// Measured at every parent size; the child copies the parent's address
    /// space (fork-like). These paths get a set of their own (see `main`).
    Copies,
}

/// One operation under test.
/// Write one `M <key> <value>` record. Text from elsewhere (a tool's
/// stderr, a probe's output) may hold tabs and newlines, which would break
/// the record: they become spaces.
pub fn meta(out: &mut dyn Write, key: &str, value: &str) -> std::io::Result<()> {
    let one_line = |t: &str| t.replace(['\t', '\r', '\n'], " ");
    writeln!(out, "M\t{}\t{}", one_line(key), one_line(value))
}

pub struct Path<'a> {
    /// "getppid", "create+reap" or "spawn+exec".
    pub group: &'static str,
    pub name: &'static str,
    pub growth: Growth,
    /// The parent's size ("64 MiB", "1024 MiB THP"), or "-" for this process as it is.
    pub size: String,
    /// Run the operation `n` times; the time it took.
    pub run: Box<dyn FnMut(u64) -> Duration + 'a>,
}

/// A path whose batch loop is monomorphised around `op` (no call through a pointer per operation).
pub fn path<'a>(
    group: &'static str,
    name: &'static str,
    growth: Growth,
    mut op: impl FnMut() + 'a,
) -> Path<'a> {
    Path {
        group,
        name,
        growth,
        size: "-".to_string(),
        run: Box::new(move |n| {
            let t = Instant::now();
            for _ in 0..n {
                op()
            }
            t.elapsed()
        }),
    }
}

/// splitmix64: a small generator for the shuffle; `main` seeds it anew in
/// every bench process and records the seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fisher-Yates.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, (self.next() % (i as u64 + 1)) as usize);
        }
    }
}

/// How long and how finely a set is measured.
pub struct Plan {
    /// Operations per timed batch, the same for every path of the set (so
    /// that no path is favoured by a different per-batch overhead).
    pub batch: u64,
    /// Stop after this long, once `min_rounds` are done, or at `max_rounds`.
    pub budget: Duration,
    pub min_rounds: usize,
    pub max_rounds: usize,
}

/// Measure one set in interleaved rounds; write `B` and `R` lines to `out`, print medians.
pub fn measure(
    set: &str,
    paths: &mut [Path],
    plan: &Plan,
    rng: &mut Rng,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for p in paths.iter_mut() {
        (p.run)(1); // first-touch costs (stack pages, lazy binding) stay out of the rounds
        writeln!(
            out,
            "B\t{set}\t{}\t{}\t{}\t{}",
            p.group, p.name, p.size, plan.batch
        )?;
    }
    let mut order: Vec<usize> = (0..paths.len()).collect();
    let mut per_op: Vec<Vec<f64>> = vec![Vec::new(); paths.len()];
    let start = Instant::now();
    let mut rounds = 0;
    while rounds < plan.min_rounds || (rounds < plan.max_rounds && start.elapsed() < plan.budget) {
        rng.shuffle(&mut order);
        for &i in &order {
            let ns = (paths[i].run)(plan.batch).as_nanos() as f64 / plan.batch as f64;
            let p = &paths[i];
            writeln!(
                out,
                "R\t{set}\t{rounds}\t{}\t{}\t{}\t{ns:.1}",
                p.group, p.name, p.size
            )?;
            per_op[i].push(ns);
        }
        rounds += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    writeln!(out, "S\t{set}\trounds\t{rounds}\tseconds\t{seconds:.1}")?;
    println!(
        "{set}: {rounds} rounds in {seconds:.1} s, batches of {}; median per operation:",
        plan.batch
    );
    for (p, v) in paths.iter().zip(&mut per_op) {
        v.sort_by(f64::total_cmp);
        println!(
            "  {:<12} {:<42} {:>12} {:>14.1} ns",
            p.group,
            p.name,
            p.size,
            v[v.len() / 2]
        );
    }
    Ok(())
}
