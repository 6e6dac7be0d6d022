//! `cargo xtask test`: the host stage, the builds and the VM runs, overlapped.
//!
//! First, in order, whatever the machine lacks is provided (apt serves one
//! caller at a time): packages, Debian's 1.85, the kernels, the container
//! tools the bench compares with. Then three kinds of work run at once:
//!
//! - the **host stage** on a thread of its own: `cargo test --workspace`, the
//!   bench's smoke run (`cargo test --bench clone`), the chapters' `docs
//!   --check`, every example run and checked (`examples`), the book built and
//!   checked (`book`), then the gates (fmt, clippy, rustdoc);
//! - one **builder** thread, building one arch per cargo call — rustup's
//!   x86_64, then Debian's aarch64, then Debian 1.85's i386, armhf, s390x and
//!   ppc64le — and packing each arch's initramfs;
//! - **VM workers**, each booting the next packed image: as many at once as
//!   the machine has pairs of CPUs (every VM has two vCPUs) and 2 GiB of
//!   memory to spare for each (every VM has 1 GiB), at least one; `--vms N` sets it.
//!
//! Output goes to logs (`target/xtask/host.log`, `target/qemu/<arch>.log`);
//! the terminal shows one progress line per run (see `progress`), then the
//! summary, with the end of the log of every run that failed.

use crate::arch::{Arch, Compiler};
use crate::progress::{Board, Line};
use crate::tally::{self, Tally};
use crate::vm::{self, Image};
use crate::{book, docs, examples, gates};
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// What `cargo xtask test` runs.
pub struct Options {
    /// The host stage.
    pub host: bool,
    /// The arches whose VMs run, in summary order.
    pub arches: Vec<Arch>,
    /// VMs at once (None: from the machine's CPUs and memory).
    pub vms: Option<usize>,
}

/// The VMs one machine runs at once: a pair of CPUs and 2 GiB free each.
fn default_vm_slots() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let available_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemAvailable:"))?;
            line.split_whitespace().nth(1)?.parse::<usize>().ok()
        })
        .map_or(2, |kib| kib / (1024 * 1024));
    (cpus / 2).min(available_gib / 2).max(1)
}

/// Run what `options` selects; one tally per run, host first.
pub fn run(options: &Options) -> Result<Vec<(String, Tally)>, String> {
    let labels: Vec<String> = options
        .host
        .then(|| "host".to_string())
        .into_iter()
        .chain(options.arches.iter().map(|a| a.name().to_string()))
        .collect();
    let board = Board::new(&labels);
    let slots = options.vms.unwrap_or_else(default_vm_slots);
    if !options.arches.is_empty() {
        board.say(&format!(
            "xtask: {} VM(s) at a time; logs in target/xtask/ and target/qemu/",
            slots
        ));
    }

    // Provide, in order: apt and dpkg take one caller at a time.
    let mut kernels: Vec<(Arch, PathBuf)> = Vec::new();
    let mut results: Vec<(Arch, Tally)> = Vec::new();
    for &arch in &options.arches {
        let line = board.line(arch.name());
        line.phase("provide");
        match vm::provide(arch) {
            Ok(kernel) => {
                line.phase("to build");
                kernels.push((arch, kernel));
            }
            Err(e) => {
                line.finish("could not be provided");
                results.push((arch, Tally::broken(&format!("{} VM: {e}", arch.name()))));
            }
        }
    }

    let host = options.host.then(|| {
        let line = board.line("host");
        // The container tools the bench's smoke run starts beside `clonelab
        // container`; missing ones are then reported as skipped by it.
        line.phase("provide");
        let peers = crate::bench::ensure_container_peers();
        // The browser the book's check loads pages in (apt, so here, in order).
        let chromium = book::provide_chromium();
        std::thread::spawn(move || host_stage(&line, peers, chromium))
    });

    let (images_tx, images_rx) = mpsc::channel::<Image>();
    let results = Arc::new(Mutex::new(results));
    let builder = {
        let board = board.clone();
        let results = Arc::clone(&results);
        std::thread::spawn(move || {
            for (arch, kernel) in build_order(kernels) {
                let line = board.line(arch.name());
                line.phase("build");
                match vm::build(arch, kernel) {
                    Ok(image) => {
                        line.phase("queued");
                        let _ = images_tx.send(image);
                    }
                    Err(e) => {
                        line.finish("build failed");
                        let broken = Tally::broken(&format!("{} VM: {e}", arch.name()));
                        results.lock().unwrap().push((arch, broken));
                    }
                }
            }
        })
    };
    let images_rx = Arc::new(Mutex::new(images_rx));
    let workers: Vec<_> = (0..slots)
        .map(|_| {
            let (board, results, images_rx) =
                (board.clone(), Arc::clone(&results), Arc::clone(&images_rx));
            std::thread::spawn(move || loop {
                let next = images_rx.lock().unwrap().recv();
                let Ok(image) = next else { break };
                let line = board.line(image.arch.name());
                let tally = vm::boot(&image, Some(&line));
                line.finish(&tally.to_string());
                results.lock().unwrap().push((image.arch, tally));
            })
        })
        .collect();

    let _ = builder.join();
    for worker in workers {
        let _ = worker.join();
    }
    let mut runs = Vec::new();
    if let Some(host) = host {
        let tally = host
            .join()
            .unwrap_or_else(|_| Tally::broken("host stage: the thread panicked"));
        runs.push(("host".to_string(), tally));
    }
    let mut results = std::mem::take(&mut *results.lock().unwrap());
    for &arch in &options.arches {
        let tally = match results.iter().position(|(a, _)| *a == arch) {
            Some(i) => results.swap_remove(i).1,
            None => Tally::broken(&format!("{} VM: never ran", arch.name())),
        };
        runs.push((format!("{} (VM)", arch.name()), tally));
    }
    board.close();
    Ok(runs)
}

/// The arches in build order, one cargo call each: by compiler (rustup's
/// x86_64 builds quickest), then in the suite's order. One arch a call, not
/// all of a compiler's together, so that each VM can start as soon as its own
/// build is done (measured: the four 1.85 arches built together kept every
/// one of their VMs waiting for the slowest).
fn build_order(mut kernels: Vec<(Arch, PathBuf)>) -> Vec<(Arch, PathBuf)> {
    kernels.sort_by_key(|(arch, _)| match arch.compiler() {
        Compiler::Rustup => 0,
        Compiler::DebianInstalled => 1,
        Compiler::Debian185 => 2,
    });
    kernels
}

/// `cargo test --workspace`, the bench's smoke run, `docs --check`, the
/// examples, the book, the gates; output to target/xtask/host.log. `peers`
/// is whether the container tools could be installed, `chromium` whether the
/// browser could.
fn host_stage(line: &Line, peers: Result<(), String>, chromium: Result<(), String>) -> Tally {
    let path = PathBuf::from("target/xtask/host.log");
    let log = std::fs::create_dir_all("target/xtask").and_then(|()| std::fs::File::create(&path));
    let mut log = match log {
        Ok(log) => log,
        Err(e) => return Tally::broken(&format!("host: {}: {e}", path.display())),
    };
    line.phase("cargo test");
    let mut host = match tally::run_cargo_test(
        Command::new("cargo").args(["test", "--workspace"]),
        "host",
        Some(&mut log),
    ) {
        Ok(tally) => tally,
        Err(e) => Tally::broken(&e),
    };
    line.tests(host.passed + host.failed + host.skipped, 0);
    // The bench, once, short (`cargo test --bench` runs it with no `--bench`
    // argument): every set, the cost ledger and the container start beside
    // its peers; its `skipped:` lines say what this host could not run.
    line.phase("bench smoke");
    if let Err(e) = peers {
        host.skipped += 1;
        host.skips
            .push(format!("container peers not installed: {e}"));
    }
    match tally::run_cargo_test(
        Command::new("cargo").args(["test", "--package", "clonelab", "--bench", "clone"]),
        "bench smoke",
        Some(&mut log),
    ) {
        Ok(mut bench) => {
            // It prints no libtest result line: a clean exit is its one pass.
            if bench.failed == 0 {
                bench.passed = 1;
            }
            host.add(&bench);
        }
        Err(e) => host.add(&Tally::broken(&e)),
    }
    // The chapters' generated call tables must match what the experiments do.
    line.phase("docs --check");
    match docs::run(true) {
        Ok(()) => host.passed += 1,
        Err(e) if e.starts_with("needs root") => {
            host.skipped += 1;
            host.skips.push(format!("docs --check: {e}"));
        }
        Err(e) => {
            host.failed += 1;
            host.failures.push(format!("docs --check: {e}"));
        }
    }
    // Every chapter's program, run, its output checked: one check each.
    line.phase("examples");
    host.add(&examples::run(&mut log));
    // The book: built (mdBook installed into the cache if need be), then its
    // checks a-e, one host check each. Nothing here skips: a missing mdBook or
    // chromium fails its checks, with the reason.
    line.phase("mdbook");
    let mdbook = book::mdbook(&mut log);
    line.phase("book");
    host.add(&book::tally(&book::checks(&mut log, mdbook, chromium)));
    // Formatting, clippy and rustdoc, warnings denied.
    line.phase("gates");
    gates::run(&mut host, Some(&log));
    line.finish(&host.to_string());
    host.log = Some(path);
    host
}
