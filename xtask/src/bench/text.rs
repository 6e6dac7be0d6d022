//! The prose of `docs/benchmarks.md`: how the numbers are made (the method
//! paragraph), what the growth sets measure, what is in the timed region and
//! what pairing does not cancel. Kept apart from the code that renders the
//! tables, which inserts these as they are.
//!
//! Part of `xtask/src/bench/`; `report` uses it. Std only.

/// The opening paragraphs: pairing, passes, the intervals (`{PAIRS}` stands
/// for the constant of `stats`, filled in by `report`).
pub(super) const METHOD: &str = "\
Measured with `cargo xtask bench` (`benches/clone/`, rendered by `xtask/src/bench/` from the records of one
run). Every ratio below comes from the two paths measured **alternately, in the same rounds**: a set of
paths is run in rounds by one bench process (for the growth curve, through helper processes it drives),
each round runs every path of the set once as a short timed batch, in an order shuffled anew each round
(each pass with a seed of its own: see *The passes against each other*), and a ratio is the **median
over rounds of the per-round ratio** of the two paths' mean times per operation. Load that drifts over seconds or minutes (other builds on this shared machine) hits both sides
of a round alike and cancels.

A full run is several **passes**: separate bench processes, one after another, each measuring every set
with an equal share of the time. Some things are fixed for the life of a process (its address-space
layout, which decides which branches and cache sets collide) or for its minute of the machine (how many
compilers run beside it); they shift every round of a pass alike, so a run's rounds are not independent,
and an interval computed as if they were covers only the noise within a process. The intervals here are a
**two-level bootstrap** that follows how the data were made: draw as many passes as the run has, with
replacement; within each drawn pass draw its rounds, with replacement, in blocks of about m^(1/3)
consecutive rounds (m rounds in the pass; neighbouring rounds share the machine's state); take the
estimate (the median of the per-round ratios, or a fitted slope) over the drawn rounds. 1,000 resamples,
with the bootstrap's own fixed seed (the same records give the same intervals). Each estimate carries two 95 % intervals from the same resamples:

- the **confidence interval** (CI, the 2.5th to 97.5th percentile of the resampled estimates) says where
  the true ratio lies. The words (*faster*, *slower*, *within noise* where it contains 1.0) and the
  targets use it: a target is *met* when its whole CI satisfies it, *missed* when none of it does, and
  *within noise* when the CI straddles the bound.
- the **repeat interval** says where the estimate of another run of the same design lands. That run's
  estimate is the truth plus its own error, this run's the truth plus this run's error; the two errors
  are independent draws of one distribution, which the resamples give: the repeat interval is this
  run's estimate plus the 2.5th to 97.5th percentile of the difference of two independently resampled
  estimates ({PAIRS} pairs). Nothing is scaled by hand: where the resampled estimates are symmetric it
  comes out about √2 wider than the CI. A CI is the wrong yardstick for a second run: even an exact
  95 % CI holds the next run's estimate only about 83 % of the time (Cumming and Maillardet,
  \"Confidence intervals and replication: where will the next mean fall?\", Psychological Methods,
  2006).
- the **family repeat interval** is the repeat interval at the Bonferroni level for the k ratios a check
  compares (each 1 − 0.05/k, from the same pairs of resamples): all k of a repeat run's estimates, not
  each one, land in theirs at once with probability at least 95 %. *Agreement with the run before* and
  *The passes against each other* ask that every ratio agree, so they use this one, with k the number of
  ratios they compare (and also count the per-ratio repeat intervals).

A ratio below 1 means clonelab is faster.

";

/// The growth section's opening paragraph.
pub(super) const GROWTH: &str = "\
Each parent size is a helper process, forked from the bench, that maps and touches that much private
anonymous memory (one write per page) and then makes children on command; all sizes live at once, so
every path runs at every size **in the same rounds**, and ratios across sizes are paired like the
others. The fork-like paths form one set of rounds and the others another: a fork-like child of a big
parent leaves work behind (its copied page tables torn down) that slows whatever runs next, and mixed
with the cheap paths it would land on them in random rounds.

These sets count **CPU time**: the helper's own (`CLOCK_PROCESS_CPUTIME_ID`) plus that of the children
it reaped in the batch (`getrusage(RUSAGE_CHILDREN)`, which a child joins when it is reaped), so the
copy in `fork`, the teardown in the child's `exit`, and the `execve` all count, wherever they ran. Wall
time would also count the time slices other processes ran in: a fork of a 1 GiB parent outlasts a
slice, a fork of an empty one does not, so in wall time the ratio of the two grows with the number of
compilers beside the bench (measured in wall time, libc's fork at 1024 MiB against 0 MiB came out
at 273 in one run and at 401 in the next, started right after it). Median CPU time per operation;
the slope is a least-squares fit of those medians
against the size, with its 95 % CI. fork copies the parent's page tables and the exit tears the copy
down, so its cost grows with the parent; a CLONE_VM child shares them, so vfork, CLONE_VM|CLONE_VFORK
and posix_spawn stay flat. (Figure 1 of Baumann et al., \"A fork() in the road\", HotOS 2019, on this
machine; [CLONE_VM](clone_vm.md#why-fork-slows-down-as-the-parent-grows) explains the curve.)

";

/// The closing sections.
pub(super) const NOTES: &str = "
## What is in the timed region

- create+reap: clonelab's scoped children and `libc::clone` reuse one stack mapped before timing; fork-like
  children need none; `std::thread` and `pthread_create` allocate (and free) their stacks inside the timed
  region, as their APIs give no choice. `vfork (bare asm)` is the kernel's vfork with the child's whole life
  in one `asm!` block (libc's `vfork` cannot be called soundly from Rust); on aarch64 it is
  `clone(CLONE_VM|CLONE_VFORK|SIGCHLD)` on the caller's stack, which is what glibc's vfork is there.
- `clonelab CLONE_VM|CLONE_VFORK` is the safe scoped path (`Scope::spawn`); `clonelab raw clone` is the
  unsafe `clonelab::clone` with exactly libc's flags word. What the scoped path adds is what the gap between
  their two rows against `libc::clone` measures: `CLONE_SETTLS` (tls 0: the child gets no thread pointer),
  its bookkeeping on the child's stack, and two `rt_sigprocmask` calls, so that the child is born with every
  signal blocked and no handler can run on a thread without TLS. The child's SIGCHLD then reaches a parent
  that blocks it, so the kernel queues it and discards it only when the mask is restored, where an unblocked
  parent with SIGCHLD at its default would have dropped it at once. A vfork child needs no tid word
  (CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID and the futex wake they cost): it has left our memory when
  clone returns.
- spawn+exec: a 3-instruction static ELF the bench writes itself, exec'd and reaped; every exit status is checked.
- growth sets: the CPU time of the batch (helper and reaped children) as the helper process measured it;
  the pipe round trip that starts it is outside. `RUSAGE_CHILDREN` counts in microseconds, a small
  rounding against batches of hundreds of microseconds and more.
- Under `cargo test` and in the VM test runs the bench does a three-round smoke run (`--quick`): TCG timings mean nothing.

## What pairing does not cancel

- Load that hits both sides of a round alike cancels; load that hits them *unequally* does not. A fork of a
  1 GiB parent is bound by memory (hundreds of thousands of page-table entries and page counts), the same
  fork at 0 MiB by system-call costs; compilers and emulators running beside the bench compete for the
  caches and the memory bus, which slows the first more than the second even in CPU time. So the ratios
  across sizes of the fork-like paths, and their THP ratios, move with the load of the hour. The passes
  sample the load of the run's own minutes, and the repeat interval carries that; a repeat run that
  meets a heavier or lighter load than its predecessor's passes saw lands outside. Seen here on
  2026-11-29, in two runs started at 13:20 and 13:31 UTC (load average 5 to 9 on 2 cores): libc's fork
  at 1024 MiB took 68 ms of CPU time in the first passes of the first run and 84 to 96 ms in its last
  ones, then 79 to 105 ms in the second run, while at 0 MiB it stayed between 0.24 and 0.43 ms; the
  1024 MiB / 0 MiB ratios of the four fork-like paths came out 16 to 23 % higher in the second run, just
  beyond the first run's repeat intervals, and their THP / 1024 MiB ratios 10 to 12 % lower (48 of 55
  ratios agreed). The next two runs, started at 13:40 and 13:46 UTC, agreed with their predecessors on
  55 and 53 of 55.
- Code placement: a loop of one `syscall` costs some 20 % more or less depending on where the loop lands,
  so the passes of one build agree while builds do not: on 2026-11-29 clonelab's getppid against the bare
  `syscall` loop, the same instruction in both, came out at 1.21 and 1.19 in two runs of one build, at
  0.997 and 0.998 in runs of the next, and at 1.19 again after a bench path was added elsewhere in the
  file. So the bench is built with every loop aligned to 64 bytes (LLVM's `-align-loops=64`, in its own
  target directory, `target/bench-build`): that build of the same source measured 1.00 and 1.01 in two
  short runs where the unaligned one measured 1.08 and 1.19.
- *Agreement with the run before* (when there is one) shows how far both go. On 2026-11-29, after the
  family intervals, five back-to-back pairs of full runs (recorded at 16:00/16:05, 16:14/16:19,
  16:26/16:32, 16:39/16:44 and 17:27/17:32 UTC, load average 1 to 2) agreed on 55 of 55, 57 of 57, 56 of
  57, 56 of 57 and 57 of 57 ratios (the report of that day was the last of them).
  What differed, once each, lay just beyond its family interval: the 1024 MiB THP / 1024 MiB ratio of
  the fork-like clone3 path (0.040 then 0.037; the cross-size ratios move with the load, above), and
  clonelab's getppid against rustix's (1.024 then 1.004, where the per-pass layouts decide). Those
  runs shuffled every pass with one fixed seed, and held each ratio to a family interval for 64 ratios
  whatever the number compared; runs since draw a seed per pass and size the family to the ratios
  compared.
";
