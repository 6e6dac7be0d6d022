//! The prose of `docs/costs.md`: how the numbers are made, what each row of
//! the ledger measures and what in the kernel does the work (functions read
//! in a 6.18-era tree: `kernel/fork.c`, `kernel/nsproxy.c`,
//! `net/core/net_namespace.c`, `ipc/namespace.c`, `ipc/sem.c`,
//! `fs/namespace.c`, `kernel/pid_namespace.c`, `kernel/time/namespace.c`,
//! `kernel/cgroup/cgroup.c`), and how the container tools are started. Only
//! mechanisms here: every number in the report comes from the run's
//! records (the dated profile of a container's start is in
//! `docs/container.md`, written by hand).
//!
//! Part of `xtask/src/bench/`; `costs_report` uses it. Std only.

/// The opening paragraphs (`{PASSES}` is filled in by `costs_report`).
pub(super) const METHOD: &str = "\
Written by `cargo xtask bench --costs` (`benches/clone/costs.rs` and `startup.rs`, rendered by
`xtask/src/bench/costs_report.rs` from the records of one run). The method is that of
[`benchmarks.md`](benchmarks.md): every ratio comes from two paths measured **alternately, in the same
rounds** (each round runs every path of the set once as a short timed batch, in an order shuffled anew
each round) and is the **median over rounds of the per-round ratio**; this run is {PASSES} bench processes
(passes), one after another; each ratio has a 95 % confidence interval (CI) from the same two-level bootstrap, a 95 %
repeat interval (where another run's estimate should land) and a family repeat interval (the agreement of
two runs uses it). Times are **wall time**, so whatever the kernel does for the child in another thread
before the reap returns (a workqueue, an RCU grace period waited for) counts when it delays the reap, and
counts in the next batch when it does not. A ratio whose CI holds 1.0 is *within noise*: this run cannot
tell the flag's cost from nothing.

**create+reap**: clonelab's raw `clone` (`clone3` for the flags only it carries) makes a child with the
row's flags on a 64 KiB stack mapped once per row, the child runs a function that returns 0 (and so
exits), and the parent reaps it with `wait4` and checks its status. Every row uses that one primitive,
so inside a pair the flag, and the least it needs beside it, is the only difference. The baseline
`SIGCHLD only` is a fork-like child of the bench process: its cost is mostly the copy of this process's
address space (`dup_mm` in `copy_mm`, `kernel/fork.c`) and its teardown at exit, so a ratio is the flag's
cost *relative to a fork of a small process*. The *added per child* column gives the same as a time:
(ratio − 1) × the baseline's median, with its 95 % CI from the same bootstrap as the ratio's (each
resample takes both over the same drawn rounds), and *within noise* where the ratio's CI holds 1.0. It
is not the difference of the *per child* and *baseline* columns: those are medians of each path over
all rounds, unpaired, and the rounds' load moves them apart by more than a small flag costs.
";

/// Per ledger row (by path name): what the flag makes the kernel do.
pub(super) const FLAGS: &[(&str, &str)] = &[
    (
        "CLONE_VM",
        "`copy_mm` (`kernel/fork.c`) takes a reference on the parent's `mm_struct` (`mmget`) instead of \
         `dup_mm`, which allocates a new one and copies every mapping and page table (`dup_mmap`); the \
         child's exit then drops the reference instead of tearing an address space down. The ratio is what \
         skipping the copy saves at this process's size; it shrinks as the parent grows \
         ([benchmarks.md](benchmarks.md#process-creation-as-the-parent-grows)).",
    ),
    (
        "CLONE_FS",
        "`copy_fs` (`kernel/fork.c`) increments `fs->users` under the `fs_struct` seqlock instead of \
         `copy_fs_struct`, which allocates one and takes references on the root and the working directory.",
    ),
    (
        "CLONE_FILES",
        "`copy_files` (`kernel/fork.c`) increments the `files_struct` count instead of `dup_fd`, which \
         allocates a descriptor table and takes a reference on every open file (the exit then closes each \
         copy); what it saves grows with the number of descriptors the parent holds.",
    ),
    (
        "CLONE_VM|CLONE_SIGHAND",
        "Measured against `CLONE_VM` alone: `copy_process` refuses CLONE_SIGHAND without CLONE_VM \
         (EINVAL), so that is the fair pair. `copy_sighand` (`kernel/fork.c`) increments the parent's \
         `sighand_struct` count instead of allocating one and copying its 64 `sigaction`s under the \
         siglock.",
    ),
    (
        "CLONE_VM|CLONE_VFORK",
        "Measured against `CLONE_VM` alone. `kernel_clone` (`kernel/fork.c`) sets up a `vfork_done` \
         completion and, after waking the child, waits in `wait_for_vfork_done` until the child's \
         `mm_release` signals it (`complete_vfork_done`) at its exit or exec: the parent sleeps while the \
         child runs, where without the flag the two run at once and the parent goes straight on to \
         `wait4`. What the row adds is that hand-off (a sleep and a wake-up before the reap).",
    ),
    (
        "CLONE_CLEAR_SIGHAND",
        "clone3 only (bit 32), measured against `SIGCHLD only (clone3)`. `copy_sighand` (`kernel/fork.c`) \
         copies the parent's handlers as for any fork-like child, then, for this flag, resets every one not \
         set to SIG_IGN to SIG_DFL (`flush_signal_handlers(p, 0)`): a walk over the 64 `sigaction`s of the \
         child's fresh copy.",
    ),
    (
        "CLONE_SYSVSEM",
        "`copy_semundo` (`ipc/sem.c`) shares the parent's SEM_UNDO list (`get_undo_list` allocates one \
         if the parent has none, then a reference is taken) instead of starting the child with none; the \
         exit drops the reference.",
    ),
    (
        "CLONE_PIDFD",
        "`copy_process` calls `pidfd_prepare` (`kernel/fork.c`): a descriptor number reserved in the \
         parent's table and a pidfs file allocated for the child's `struct pid`, the number stored to the \
         parent (`put_user`), the file installed (`fd_install`) once the child is visible. The row also \
         closes the pidfd after the reap, in the timed region.",
    ),
    (
        "CLONE_SETTLS",
        "`copy_process` hands `tls` to the architecture's `copy_thread`, which loads it into the child's \
         thread pointer (a 512-byte block of this process here; the child touches none of it).",
    ),
    (
        "CLONE_PARENT_SETTID",
        "`kernel_clone` (`kernel/fork.c`) stores the child's pid into the parent's memory (`put_user`) \
         after `copy_process`: one store, but into a page the fork has just write-protected for \
         copy-on-write (`copy_present_pte` in `mm/memory.c` does so for the parent too), so in a \
         fork-like child it is a write fault in the parent that copies the page while the child lives.",
    ),
    (
        "CLONE_CHILD_SETTID",
        "`copy_process` records the address (`p->set_child_tid`); the child stores its tid there when it \
         first runs, into *its own copy* of memory, so in a fork-like child that store is a \
         copy-on-write fault of the page that holds the word.",
    ),
    (
        "CLONE_CHILD_CLEARTID",
        "`copy_process` records the address (`p->clear_child_tid`); at exit `mm_release` \
         (`kernel/fork.c`) stores 0 there and wakes one futex waiter **only if the memory has other \
         users** (`atomic_read(&mm->mm_users) > 1`). A fork-like child's memory has none, so this row \
         records a pointer and nothing more.",
    ),
    (
        "CLONE_VM|CLONE_CHILD_CLEARTID",
        "Measured against `CLONE_VM` alone: with shared memory `mm_release` does store 0 and calls \
         `do_futex(FUTEX_WAKE)` (no waiter here): what a thread's exit costs for `pthread_join`.",
    ),
    (
        "CLONE_NEWNS",
        "`copy_namespaces` (`kernel/nsproxy.c`) leaves the fast path (a reference on the parent's \
         `nsproxy`) for `create_new_namespaces`, which allocates an `nsproxy` and calls every `copy_*`; \
         `copy_mnt_ns` (`fs/namespace.c`) allocates the namespace and copies the **whole mount tree** \
         (`copy_tree`) under the namespace lock, then walks both trees to move the child's root and cwd to \
         the copies. The cost grows with the number of mounts the parent sees (recorded above, under *Machine and run*); the exit \
         unmounts every copy.",
    ),
    (
        "CLONE_NEWUTS",
        "`create_new_namespaces` (`kernel/nsproxy.c`) allocates an `nsproxy` and calls `copy_utsname`, \
         which allocates a UTS namespace holding a copy of the host name and domain name.",
    ),
    (
        "CLONE_NEWIPC",
        "`create_ipc_ns` (`ipc/namespace.c`) allocates the namespace, mounts an mqueue file system \
         instance for it (`mq_init_ns`), registers two sysctl tables (`setup_mq_sysctls`, \
         `setup_ipc_sysctls`) and initialises the message, semaphore and shared-memory tables. Freeing is \
         **asynchronous**: `put_ipc_ns` queues `free_ipc_work`, and `free_ipc` waits for an RCU grace \
         period (`synchronize_rcu`) before freeing every namespace queued meanwhile.",
    ),
    (
        "CLONE_NEWPID",
        "`create_pid_namespace` (`kernel/pid_namespace.c`) allocates the namespace and its pid `idr`, \
         finds (or creates) the slab cache of `struct pid`s for its nesting level (`create_pid_cachep`), \
         and registers it; the child is that namespace's init, and its exit tears the namespace down.",
    ),
    (
        "CLONE_NEWNET",
        "`copy_net_ns` (`net/core/net_namespace.c`) allocates a `struct net` and runs `setup_net`: the \
         `init` of **every registered `pernet_operations`** (loopback device, sysctl tables, proc entries, \
         the tables of every protocol) under `pernet_ops_rwsem`. The reap drops the last reference; \
         `__put_net` only queues the namespace on `cleanup_list` and `net_cleanup_work` on `netns_wq`, \
         and `cleanup_net` later runs every exit method (`ops_undo_list`), an `rcu_barrier`, and frees \
         the whole batch: the teardown is **asynchronous**, which is why this flag has a set of its own \
         and a sustained rate below.",
    ),
    (
        "CLONE_NEWUSER",
        "`copy_process` calls `copy_creds`, which for CLONE_NEWUSER prepares new credentials and calls \
         `create_user_ns` (`kernel/user_namespace.c`): a namespace owned by the caller, with empty id \
         maps (nothing written to `uid_map` here).",
    ),
    (
        "CLONE_NEWCGROUP",
        "`copy_cgroup_ns` (`kernel/cgroup/namespace.c`) allocates a cgroup namespace rooted at the \
         parent's current cgroups (`alloc_cgroup_ns`, `ns_common_init`).",
    ),
    (
        "CLONE_NEWTIME",
        "clone3 only (the flag's bit is CSIGNAL's in clone()), so measured against `SIGCHLD only (clone3)`. \
         `clone_time_ns` (`kernel/time/namespace.c`) allocates the namespace and a zeroed **vvar page** \
         (the page the vDSO reads the clock offsets from), and `copy_namespaces` moves the fork-like child \
         into it at once (`timens_on_fork`).",
    ),
    (
        "CLONE_INTO_CGROUP",
        "clone3 only (bit 33), measured against `SIGCHLD only (clone3)`, into a cgroup made for the run \
         beside the bench's own in the v2 hierarchy. `cgroup_css_set_fork` (`kernel/cgroup/cgroup.c`) \
         takes `cgroup_mutex` (every clone3 with the flag serialises with every cgroup operation on the \
         host), resolves the directory descriptor to a cgroup, checks `cgroup_attach_permissions`, and \
         finds or creates the `css_set` for it.",
    ),
];

/// Flags of the tour the ledger cannot measure by create+reap, and why
/// (each gets an anchor the chapters link to).
pub(super) const NOT_IN_LEDGER: &[(&str, &str)] = &[
    (
        "CLONE_PARENT",
        "the child is made a child of *our* parent (`copy_process` sets its `real_parent` to the caller's), \
         so this process cannot `wait4` it: a create+reap of it is not ours to time. The tour's experiment \
         shows who reaps it (`docs/relatives.md`).",
    ),
    (
        "CLONE_THREAD",
        "the child joins this thread group and is never a child to `wait4` (it exits without a signal to \
         anyone; a thread library waits on CLONE_CHILD_CLEARTID's futex instead). Its nearest measured \
         neighbours are `CLONE_VM|CLONE_SIGHAND` and `CLONE_VM|CLONE_CHILD_CLEARTID` above, and threads \
         against processes are in [benchmarks.md](benchmarks.md).",
    ),
];

/// The sustained-rate section's opening paragraph.
pub(super) const IN_A_ROW: &str = "\
The namespaces whose teardown the kernel defers (network: `cleanup_net` in a workqueue; IPC: `free_ipc`
after an RCU grace period) are also made **1,000 in a row per batch** (a smoke run: 20), against as many
`SIGCHLD only` children, in a set of their own. If the teardown keeps up, the per-child cost is that of
the single-batch ledger; if it falls behind, its backlog lands inside the batch (on a machine with few
cores the workqueue competes with the bench).
";

/// The container section's opening paragraph.
pub(super) const CONTAINER: &str = "\
Each tool is started as a command from the bench, every one the same way (std's `Command` with a
pre-exec hook, so `fork` and `execve` of the tool, then the reap of the tool's process; stdout and stderr
to `/dev/null`) and runs `/bin/true` in the isolation below, in the same
interleaved rounds: the time is **start to exit**, the same for every tool. The ratio is `clonelab
container`'s time over the tool's, paired by round. Each tool is told to make the same namespaces,
a read-only view of the host's system directories, `/proc`, `/dev` and `/tmp`, as far as its options
go. What it made is not taken from its options: before the rounds each tool runs a probe (`/bin/sh`
printing `readlink /proc/self/ns/*`, `/proc/self/mountinfo` and `ip -o link show lo`) in place of
`/bin/true`, with the same command line otherwise, and the table is what the probe saw (`$SCRATCH` is
the run's scratch directory, which holds crun's bundle and state; `ID` a fresh container id per run). A
tool that keeps the host's root (its container's `/` is the host's root mount) sees a copy of the host's
whole mount tree: that tree is counted, not listed (its paths are the machine's, not the tool's), by
matching each of the container's mounts with one of the bench's own (mount point, device, root, type,
source and `ro` alike), and only the mounts the tool added are listed.
";

/// After the container table: where the explanation of clonelab's time
/// against unshare(1) lives (a profile, dated, not re-measured by a run).
pub(super) const CONTAINER_TRACE: &str = "\
Where `clonelab container`'s time goes, against unshare(1), the tool here that makes the least (no new
root, `lo` left down): a profile and traces of both, dated, in
[container.md](container.md#appendix-where-the-start-time-goes-a-profile-of-2026-12-05). It is not re-measured by this run.
";

/// The closing notes.
pub(super) const NOTES: &str = "
## What is in the timed region

- Ledger rows: the clone/clone3 call, the child's whole life, `wait4`, and (CLONE_PIDFD) a `close`. The
  child's stack is mapped once per row, outside the timed batches; every child of a row reuses it.
- Container rows: `fork` and `execve` of the tool by `std::process::Command` (with a pre-exec hook for
  every tool, so none is started by `posix_spawn`), everything the tool does, and the reap. crun's container id is new for every run (crun deletes the container when it exits).
- What pairing does not cancel is as in [`benchmarks.md`](benchmarks.md#what-pairing-does-not-cancel);
  here also the deferred teardowns (network, IPC), which run in kernel threads on another core and may
  land in whichever batch comes next.
";

/// After the closing notes, as every chapter ends: what a reader can run,
/// and exercises whose answers follow from the text above (none names a
/// number of one run: the ledger changes from run to run, this text does not).
pub(super) const STUDY: &str = "
## Try this

- `cargo xtask bench --costs --quick` runs the same bench as one short pass, 3 rounds per set. It
  writes `target/bench/costs.md`, `costs.svg` and its records, `costs-quick.tsv`; `docs/` is left
  alone. The first time, it builds the bench (into `target/bench-build/`), which can take a minute;
  after that, seconds. Its *Machine and run* says `mode: quick`, and its intervals are far wider than
  the ones above. It is noise, not a result.
- Keep those records (`cp target/bench/costs-quick.tsv /tmp/first.tsv`), run the quick bench again,
  and hold the two runs against each other:
  `cargo xtask bench --costs --compare /tmp/first.tsv target/bench/costs-quick.tsv`. Each row says
  `agrees`, `both within noise` or **differs**. Count the rows that differ: two full runs must have
  none.
- Think it through: `CLONE_CHILD_CLEARTID` is measured twice, against `SIGCHLD only` and, with
  `CLONE_VM`, against `CLONE_VM`. Read what each row makes the kernel do. Why may the first cost
  nothing, when the second does work at every exit?

## Exercises

1. The ratio of `CLONE_VM` is below 1. How can a flag make a child cheaper?

   <details><summary>Answer</summary>

   The baseline is a fork-like child. Its cost is mostly the copy of this process's address space
   (`dup_mm`) and its teardown at exit. With `CLONE_VM`, `copy_mm` only takes a reference on the
   parent's `mm_struct`, and the exit drops it. The ratio is what skipping the copy saves. It shrinks
   as the parent grows.

   </details>

2. A row says *within noise*. What does that mean? Does it say the flag costs nothing?

   <details><summary>Answer</summary>

   The ratio's 95 % confidence interval holds 1.0: this run cannot tell the flag's cost from
   nothing. It does not say the cost is zero, only that this run cannot see it.

   </details>

3. Why is `CLONE_NEWNET` measured in a set of its own?

   <details><summary>Answer</summary>

   Its teardown is asynchronous. The reap drops the last reference, but `__put_net` only queues the
   namespace, and `cleanup_net` runs later, in a workqueue. Deferred work like that may land in
   whichever batch comes next. In a set shared with the other flags, it would land in their batches.
   (IPC's teardown is deferred too: the notes above list both among what pairing does not cancel.)

   </details>
";
