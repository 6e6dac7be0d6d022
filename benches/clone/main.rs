//! Syscall latency and the cost of making tasks and programs: clonelab against
//! its peers, measured in interleaved rounds so that the ratios hold on a
//! noisy, shared machine.
//!
//! # Design
//!
//! A *set* is a list of paths (operations) measured together. Each round runs
//! every path of the set once, in an order shuffled anew each round, each path
//! as one timed batch of `n` operations, and records the path's
//! mean time per operation in that round. Any two paths of a set are thus
//! measured alternately, milliseconds apart, in every round: whatever the
//! machine's load does over seconds and minutes hits both alike, and the
//! per-round ratio cancels it. `cargo xtask bench` turns the records into
//! medians of per-round ratios with bootstrap 95 % intervals, growth tables,
//! slopes and `docs/benchmarks.md`.
//!
//! The shuffle's seed is drawn anew by every bench process (a *pass* of
//! `cargo xtask bench`), from std's `RandomState` (seeded by the operating
//! system) mixed with the clock and the process id, printed and recorded
//! (`M seed`): so no two passes, and no two runs, share their round orders,
//! and an effect of the order (a namespace's deferred teardown landing on
//! the path after it) varies from pass to pass, where the intervals and the
//! agreement of two runs can see it, instead of repeating alike in every
//! pass. `--seed 0x…` replays a recorded pass's orders.
//!
//! Sets:
//! - `getppid`: one syscall round trip (no libc caches getppid) through a
//!   bare `syscall`/`svc`, clonelab, `libc::syscall`, `libc::getppid`, the
//!   `syscalls` and `sc` crates, and `rustix`.
//! - `tasks`: threads and CLONE_VM children made by this process (create+reap).
//! - `costs`, `costs, NEWNET` and `costs, 1000 in a row`: the per-flag cost
//!   ledger (`costs`), children made with one clone flag each against the
//!   same child without it; `container start`: `clonelab container` against
//!   unshare(1), bubblewrap and crun. Run by `--costs` (what `cargo xtask
//!   bench --costs` runs) and by the smoke run, not by the plain full run.
//! - the growth curve, in two sets: the paths whose child copies the address
//!   space (fork-like), and the others. Each parent size (0, 16, 64, 256 and
//!   1024 MiB of touched, private, anonymous memory, and 1024 MiB in
//!   transparent huge pages where the host allows them) is a [`Helper`]
//!   process; all of them live at once, so a set's rounds cover every path at
//!   every size and the ratios across sizes are paired too. These sets count
//!   CPU time (the helper's and its reaped children's), the others wall time:
//!   see [`Helper`].
//!
//! create+reap: make a child that exits at once, and reap it. Stacks are
//! mapped once, outside the timed batches, wherever the API lets a stack be
//! reused; fork-like children need none; std's and pthread's threads allocate
//! their stacks inside the timed region (their APIs give no choice).
//! spawn+exec: start a tiny static program (a 3-instruction ELF this bench
//! writes itself) and reap it. Every child's exit status is checked.
//!
//! # Modes
//!
//! - `cargo bench --bench clone -- --out FILE` (what `cargo xtask bench` runs):
//!   the full run, a few minutes; one line per path per round goes to FILE.
//! - `--costs` (with `--out`, `--scale`, `--quick` as above): the ledger and
//!   container-start sets only.
//! - `--seed 0x…` (any mode): shuffle with this seed instead of a fresh one.
//! - `--quick`, or no `--bench` argument (`cargo test --benches`, the VM test
//!   runs): a smoke run of three short rounds per set, at 0 and 16 MiB. With
//!   no `--bench` argument the costs sets run too. A path the host cannot
//!   run prints `skipped: <set>: <path>: <reason>` (the container set: one
//!   line for the set where the `clonelab` binary is absent, as in the VMs).
//!
//! # Layout
//!
//! This file reads the arguments, plans the sets and runs them; `harness`
//! holds what every set shares (a path, a plan, the interleaved rounds, the
//! seeded shuffle); one module per family of operations gives its paths:
//! `getppid` (one syscall), `tasks` (create+reap), `exec` (spawn+exec, with
//! the tiny program it runs), `costs` (the flag ledger), `startup`
//! (container start); `growth` holds the parent sizes (ballast and the
//! helper processes that carry it). The bench uses clonelab's public API,
//! its peers (libc, syscalls, sc, rustix, std) and std.

mod costs;
mod exec;
mod getppid;
mod growth;
mod harness;
mod startup;
mod tasks;

use exec::Program;
use growth::{finish, thp_mode, Helper};
use harness::{measure, Growth, Path, Plan, Rng};
use std::cell::RefCell;
use std::io::Write;
use std::time::{Duration, Instant};

/// Every create+reap and spawn+exec path, in one order wherever it is built
/// (the helpers find a path by its index). Each owns the stack it reuses.
fn process_paths(program: &Program) -> Vec<Path<'_>> {
    let mut paths = tasks::paths();
    paths.extend(exec::paths(program));
    paths
}

fn main() -> std::io::Result<()> {
    if std::env::var_os("CLONELAB_QEMU_USER").is_some() {
        // Written where no capture hides it; `cargo xtask` counts these lines.
        eprintln!("skipped: bench: qemu-user cannot emulate CLONE_VM children");
        return Ok(());
    }
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let quick = has("--quick") || !has("--bench");
    let mut out: Box<dyn Write> = match args.iter().position(|a| a == "--out") {
        Some(i) => Box::new(std::io::BufWriter::new(std::fs::File::create(
            args.get(i + 1).expect("--out FILE"),
        )?)),
        None => Box::new(std::io::sink()),
    };
    // --scale F: this process does a share F of a full run (`cargo xtask
    // bench` runs several such passes).
    let scale: f64 = match args.iter().position(|a| a == "--scale") {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .expect("--scale F"),
        None => 1.0,
    };
    let plan = |batch: u64, budget: u64| Plan {
        batch: if quick { batch.div_ceil(10) } else { batch },
        budget: Duration::from_secs_f64(if quick { 0.0 } else { budget as f64 * scale }),
        min_rounds: if quick { 3 } else { 5 },
        max_rounds: if quick { 3 } else { (5000.0 * scale) as usize },
    };
    writeln!(out, "M\tmode\t{}", if quick { "quick" } else { "full" })?;
    let started = Instant::now();
    let seed = match args.iter().position(|a| a == "--seed") {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok())
            .expect("--seed 0xHEX"),
        None => fresh_seed(),
    };
    writeln!(out, "M\tseed\t{seed:#018x}")?;
    println!("bench: shuffle seed {seed:#018x} (replay with --seed {seed:#018x})");
    let mut rng = Rng(seed);
    if has("--costs") || !has("--bench") {
        measure_costs(&plan, quick, &mut rng, &mut *out)?;
        if has("--costs") {
            writeln!(out, "M\tseconds\t{:.0}", started.elapsed().as_secs_f64())?;
            out.flush()?;
            println!("bench: done in {:.0} s", started.elapsed().as_secs_f64());
            return Ok(());
        }
    }
    let thp = thp_mode();
    writeln!(out, "M\tthp\t{thp}")?;
    writeln!(out, "M\tgrowth_clock\tcpu")?;
    writeln!(out, "M\tclone3\t{}", clonelab::clone3_available())?;
    let program = Program::new();

    // The helpers first, while this process has no other thread.
    let mut sizes: Vec<(usize, bool)> = vec![
        (0, false),
        (16, false),
        (64, false),
        (256, false),
        (1024, false),
    ];
    if quick {
        sizes.truncate(2);
    } else if thp == "always" || thp == "madvise" {
        sizes.push((1024, true));
    } else {
        println!("no transparent huge pages column: the host's THP mode is {thp}");
    }
    let helpers: Vec<(String, RefCell<Helper>)> = sizes
        .iter()
        .map(|&(mib, huge)| {
            let (helper, huge_kb, rss_kb) = Helper::start(mib, huge, &program);
            let size = format!("{mib} MiB{}", if huge { " THP" } else { "" });
            writeln!(
                out,
                "H\t{size}\tAnonHugePages_kB\t{huge_kb}\tRss_kB\t{rss_kb}"
            )
            .unwrap();
            (size, RefCell::new(helper))
        })
        .collect();

    measure(
        "getppid",
        &mut getppid::paths(),
        &plan(1000, 12),
        &mut rng,
        &mut *out,
    )?;

    // Tasks that do not copy memory, made by this process: threads and CLONE_VM children.
    let mut tasks = process_paths(&program);
    tasks.retain(|p| p.growth != Growth::Copies && p.group == "create+reap");
    measure("tasks", &mut tasks, &plan(20, 30), &mut rng, &mut *out)?;
    drop(tasks);

    // The growth curve: every path at every size in the same rounds. A
    // fork-like child of a big parent leaves work behind (its page tables torn
    // down, the parent's entries write-protected) that slows whatever runs
    // next; mixed with the cheap paths, those would pay for it in random
    // rounds. So the fork-like paths form one set and the others another.
    let names = process_paths(&program);
    for (set, copies, batch, budget) in [
        ("growth, shared memory", false, 8, 60),
        ("growth, copied memory", true, 1, 180),
    ] {
        let mut paths = Vec::new();
        for (size, helper) in &helpers {
            let growth_paths = names.iter().filter(|p| p.growth != Growth::No);
            for (index, p) in growth_paths.enumerate() {
                if (p.growth == Growth::Copies) != copies {
                    continue;
                }
                paths.push(Path {
                    group: p.group,
                    name: p.name,
                    growth: p.growth,
                    size: size.clone(),
                    run: Box::new(move |n| helper.borrow_mut().run(index, n)),
                });
            }
        }
        measure(set, &mut paths, &plan(batch, budget), &mut rng, &mut *out)?;
    }
    finish(helpers);
    writeln!(out, "M\tseconds\t{:.0}", started.elapsed().as_secs_f64())?;
    out.flush()?;
    println!("bench: done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// A seed no other pass or run shares: std's `RandomState` (keys the
/// operating system gives each process, by getrandom) hashing the clock and
/// the process id.
fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    h.write_u128(now.as_nanos());
    h.write_u32(std::process::id());
    h.finish()
}

/// The per-flag ledger and the container-start comparison (see `costs` and
/// `startup`): every set made here is measured and dropped before the next.
fn measure_costs(
    plan: &dyn Fn(u64, u64) -> Plan,
    quick: bool,
    rng: &mut Rng,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    measure("costs", &mut costs::ledger(out)?, &plan(10, 100), rng, out)?;
    measure(
        "costs, NEWNET",
        &mut costs::network(out)?,
        &plan(10, 25),
        rng,
        out,
    )?;
    // 1,000 children in a row per batch (20 in a smoke run); a round takes
    // seconds, so three rounds per pass at least.
    let in_a_row = Plan {
        batch: if quick { 20 } else { 1000 },
        min_rounds: 3,
        ..plan(1000, 45)
    };
    measure(
        "costs, 1000 in a row",
        &mut costs::sustained(out)?,
        &in_a_row,
        rng,
        out,
    )?;
    // The clonelab binary cargo built beside this bench (absent where the
    // bench was copied elsewhere, as in the VMs).
    let clonelab = env!("CARGO_BIN_EXE_clonelab");
    let mut starts = startup::paths(clonelab, out)?;
    if !starts.is_empty() {
        measure("container start", &mut starts, &plan(1, 90), rng, out)?;
    }
    drop(starts);
    startup::remove_scratch();
    Ok(())
}
