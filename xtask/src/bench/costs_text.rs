//! The prose of `docs/costs.md`: how the numbers are made, what each row of
//! the ledger measures and what in the kernel does the work (functions read
//! in a 6.18-era tree: `kernel/fork.c`, `kernel/nsproxy.c`,
//! `net/core/net_namespace.c`, `ipc/namespace.c`, `ipc/sem.c`,
//! `fs/namespace.c`, `kernel/pid_namespace.c`, `kernel/time/namespace.c`,
//! `kernel/cgroup/cgroup.c`), and what each container tool makes. Only
//! mechanisms here: every number in the report comes from the run's records.
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
cost *relative to a fork of a small process*; the *added per child* column gives the same as a time
(the difference of the two medians, not paired).
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
         the copies. The cost grows with the number of mounts the parent sees (recorded below); the exit \
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

/// The sustained-rate section's opening paragraph.
pub(super) const IN_A_ROW: &str = "\
The namespaces whose teardown the kernel defers (network: `cleanup_net` in a workqueue; IPC: `free_ipc`
after an RCU grace period) are also made **1,000 in a row per batch** (a smoke run: 20), against as many
`SIGCHLD only` children, in a set of their own. If the teardown keeps up, the per-child cost is that of
the single-batch ledger; if it falls behind, its backlog lands inside the batch (on this machine's two
cores the workqueue competes with the bench).
";

/// The container section's opening paragraph.
pub(super) const CONTAINER: &str = "\
Each tool is started as a command from the bench (`fork`, `execve` of the tool, reap of the tool's
process; stdout and stderr to `/dev/null`) and runs `/bin/true` in the isolation below, in the same
interleaved rounds: the time is **start to exit**, the same for every tool. The ratio is `clonelab
container`'s time over the tool's, paired by round. Each tool is told to make the same namespaces,
a read-only view of the host's system directories, `/proc`, `/dev` and `/tmp`, as far as its options
go. What it made is not taken from its options: before the rounds each tool runs a probe (`/bin/sh`
printing `readlink /proc/self/ns/*`, `/proc/self/mountinfo` and `ip -o link show lo`) in place of
`/bin/true`, with the same command line otherwise, and the table is what the probe saw (`$SCRATCH` is
the run's scratch directory, which holds crun's bundle and state; `ID` a fresh container id per run).
";

/// Where the time of `clonelab container` goes, against unshare(1): from
/// profiles and traces taken while writing this report (dated: they are
/// not re-measured by each run).
pub(super) const CONTAINER_TRACE: &str = "\
**Why clonelab is slower than unshare(1)** (profiles and traces taken on 2026-12-05 on this machine,
between runs; not re-measured by each run). unshare(1) makes the same namespaces and nothing else: no
new root, `lo` left down (see the table). `perf stat -r 30`, the two alternated twice: `clonelab
container -- /bin/true` 2.94 and 2.95 ms start to exit (2.41 and 2.36 ms of CPU), the unshare(1) line
2.44 and 2.36 ms (1.95 and 1.85 ms of CPU). A `perf record -a -g` of 150 starts in a row of each puts
1,270 samples in clonelab's own processes against 868 in unshare(1)'s (and 441 against 416 in
`/bin/true`). Where clonelab's extra goes, as shares of all samples of its profile:

- the new root: `mount` 1.5 % (a tmpfs, six read-only binds, a tmpfs `/dev` and five device binds, a
  tmpfs `/tmp`, `/proc`) against 0.75 % for unshare(1)'s one `/proc`; `umount2(MNT_DETACH)` of the old
  root after `pivot_root` 0.5 % (its `namespace_unlock` waits in `synchronize_rcu_expedited`); the
  `mkdir` of the mount point 0.8 %;
- `lo` brought up by netlink: `sendto` 0.9 %, of which `do_setlink` (the `addrconf`/`inetdev` notifier
  chain) 0.7 %;
- starting a Rust binary: `libgcc_s`, which std links for unwinding, 2.5 %, its constructor
  `__cpu_indicator_init` 0.9 % (`cpuid`, which traps to the hypervisor on this VM). A statically linked
  build (`-C target-feature=+crt-static`: no `ld.so` relocation, no `libgcc_s`) starts `clonelab --help`
  in 0.92 ms against 1.22 ms (`perf stat -r 100`); its container start, alternated three times with the
  default build, was 2.66, 2.69 and 3.01 ms against 3.22, 2.98 and 2.84 ms: not clearly faster on this
  noisy machine, and a static build is the user's choice (`RUSTFLAGS`), so the bench measures the default;
- a third process: the container's init forks CMD and stays as PID 1 to reap it, where unshare(1)'s
  child execs `/bin/true` as PID 1 (`do_exit` 5.2 % against 4.0 %).

Paid alike by every tool, and so not in the ratio: the network namespace (`setup_net`: 6.7 % of
clonelab's samples, 8.0 % of unshare(1)'s) and, in every program any tool execs, the dynamic loader's
probe of the CPU's features and caches (`init_cpu_features`, `intel_check_word`: about a quarter of all
samples in both profiles, again `cpuid` trapping). One cost was ours and is fixed: the empty directory the
new root is mounted on was made and removed in the host's `/tmp`, an ext4 file system here (`mkdir` and
`rmdir`, with `ext4_evict_inode`: 1.6 % of the samples then, 0.8 % now); it is now made in `/dev/shm` (a
tmpfs) where there is one. Start to exit, `perf stat -r 40` of the two builds alternated twice: 3.29 and
3.35 ms before, 3.05 and 2.98 ms after.
";

/// The closing notes.
pub(super) const NOTES: &str = "
## What is in the timed region

- Ledger rows: the clone/clone3 call, the child's whole life, `wait4`, and (CLONE_PIDFD) a `close`. The
  child's stack is mapped once per row, outside the timed batches; every child of a row reuses it.
- Container rows: `fork` and `execve` of the tool by `std::process::Command`, everything the tool does,
  and the reap. crun's container id is new for every run (crun deletes the container when it exits).
- What pairing does not cancel is as in [`benchmarks.md`](benchmarks.md#what-pairing-does-not-cancel);
  here also the deferred teardowns (network, IPC), which run in kernel threads on the machine's other
  core and may land in whichever batch comes next.
";
