//! Syscall latency and the cost of making tasks and programs: clonelab against
//! its peers, measured in interleaved rounds so that the ratios hold on a
//! noisy, shared machine.
//!
//! # Design
//!
//! A *set* is a list of paths (operations) measured together. Each round runs
//! every path of the set once, in an order shuffled anew each round (fixed-seed
//! RNG), each path as one timed batch of `n` operations, and records the path's
//! mean time per operation in that round. Any two paths of a set are thus
//! measured alternately, milliseconds apart, in every round: whatever the
//! machine's load does over seconds and minutes hits both alike, and the
//! per-round ratio cancels it. `cargo xtask bench` turns the records into
//! medians of per-round ratios with bootstrap 95 % intervals, growth tables,
//! slopes and `docs/benchmarks.md`.
//!
//! Sets:
//! - `getppid`: one syscall round trip (no libc caches getppid) through a
//!   bare `syscall`/`svc`, clonelab, `libc::syscall`, `libc::getppid`, the
//!   `syscalls` and `sc` crates, and `rustix`.
//! - two sets per parent size: 0, 16, 64, 256 and 1024 MiB of touched,
//!   private, anonymous memory, and 1024 MiB in transparent huge pages where
//!   the host allows them. One set holds the paths whose child copies the
//!   address space (fork-like), the other the rest. At 0 MiB every
//!   create+reap and spawn+exec path runs; at the other sizes the paths of the
//!   growth curve.
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
//! - `--quick`, or no `--bench` argument (`cargo test --benches`, the VM test
//!   runs): a smoke run of three rounds at 0 and 16 MiB, seconds long.

use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall};
use clonelab::{scope, spawn, spawn_via, sys, Stack, WaitStatus, THREAD_FLAGS};
use linux_raw_sys::general as k;
use std::ffi::{c_char, c_void, CString};
use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

const SIGCHLD: ExitSignal = ExitSignal::SIGCHLD;
const MIB: usize = 1 << 20;

/// One getppid through a bare `syscall` / `svc` instruction, no wrapper at all.
#[inline(always)]
fn bare_getppid() -> usize {
    let ret: usize;
    // SAFETY: getppid takes no arguments and touches no memory.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        std::arch::asm!(
            "syscall",                       // getppid
            inlateout("rax") k::__NR_getppid as usize => ret,
            lateout("rcx") _, lateout("r11") _,
            options(nostack, preserves_flags, nomem)
        );
        #[cfg(target_arch = "aarch64")]
        std::arch::asm!(
            "svc #0",                        // getppid
            in("x8") k::__NR_getppid as usize,
            lateout("x0") ret,
            options(nostack, preserves_flags, nomem)
        );
    }
    ret
}

/// vfork as the kernel gives it, with the child's whole life inside one `asm!`
/// block: it calls exit(0) at once and touches no memory, so sharing our stack
/// is harmless. (libc's `vfork` cannot be called soundly from Rust: the
/// compiler does not know it returns twice.) Returns the child's pid or -errno.
fn bare_vfork_exit() -> isize {
    let ret: isize;
    // SAFETY: the child runs only the instructions below and exits; it writes
    // no memory. The parent is suspended until then and continues normally.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        std::arch::asm!(
            "syscall",                   // vfork(): the parent sleeps until the child exits
            "test rax, rax",             // 0 in the child, pid or -errno in the parent
            "jnz 2f",                    // the parent is done
            "mov eax, {exit}",           // child: exit ...
            "xor edi, edi",              // ... with status 0
            "syscall",                   // exit(0): never returns
            "2:",                        // parent: rax holds the pid
            exit = const k::__NR_exit,
            inlateout("rax") k::__NR_vfork as isize => ret,
            lateout("rdi") _, lateout("rcx") _, lateout("r11") _,
            options(nostack)
        );
        // aarch64 has no vfork syscall: glibc's vfork is clone(CLONE_VM |
        // CLONE_VFORK | SIGCHLD) with the caller's stack, and so is this.
        #[cfg(target_arch = "aarch64")]
        std::arch::asm!(
            "svc #0",                    // clone(flags, sp = 0: the child keeps ours, ...)
            "cbnz x0, 2f",               // the parent (pid or -errno) is done
            "mov x0, #0",                // child: status 0
            "mov x8, #{exit}",           // exit
            "svc #0",                    // exit(0): never returns
            "2:",                        // parent: x0 holds the pid
            exit = const k::__NR_exit,
            inlateout("x8") k::__NR_clone as usize => _,
            inlateout("x0") (k::CLONE_VM | k::CLONE_VFORK | k::SIGCHLD) as isize => ret,
            in("x1") 0usize, in("x2") 0usize, in("x3") 0usize, in("x4") 0usize,
            options(nostack)
        );
    }
    ret
}

extern "C" fn c_child(_: *mut c_void) -> i32 {
    0
}

unsafe extern "C" fn c_child_unsafe(_: *mut c_void) -> i32 {
    0
}

extern "C" fn pthread_body(_: *mut c_void) -> *mut c_void {
    std::ptr::null_mut()
}

/// Reap `pid` with libc's waitpid and check that it exited 0.
fn waitpid_ok(pid: libc::pid_t) {
    assert!(pid > 0, "no child: {pid}");
    let mut status = 0;
    // SAFETY: pid is our child; status is a valid int.
    let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        reaped == pid && status == 0,
        "child {pid}: waitpid {reaped}, status {status:#x}"
    );
}

/// Where a path stands in the growth curve.
#[derive(Clone, Copy, PartialEq)]
enum Growth {
    /// Measured with no extra memory only.
    No,
    /// Measured at every size; the child shares the parent's memory (CLONE_VM, vfork).
    Shares,
    /// Measured at every size; the child copies the parent's address space
    /// (fork-like). These paths get a set of their own at each size (see `main`).
    Copies,
}

/// One operation under test.
struct Path<'a> {
    /// "getppid", "create+reap" or "spawn+exec".
    group: &'static str,
    name: &'static str,
    growth: Growth,
    /// Run the operation `n` times.
    run: Box<dyn FnMut(u64) + 'a>,
}

/// A path whose batch loop is monomorphised around `op` (no call through a pointer per operation).
fn path<'a>(
    group: &'static str,
    name: &'static str,
    growth: Growth,
    mut op: impl FnMut() + 'a,
) -> Path<'a> {
    Path {
        group,
        name,
        growth,
        run: Box::new(move |n| {
            for _ in 0..n {
                op()
            }
        }),
    }
}

fn getppid_paths() -> Vec<Path<'static>> {
    let g = "getppid";
    vec![
        path(g, "bare asm", Growth::No, || {
            black_box(bare_getppid());
        }),
        path(g, "clonelab", Growth::No, || {
            black_box(sys::getppid());
        }),
        // SAFETY (this and the next three): getppid has no arguments.
        path(g, "libc::syscall", Growth::No, || {
            black_box(unsafe { libc::syscall(libc::SYS_getppid) });
        }),
        path(g, "libc::getppid", Growth::No, || {
            black_box(unsafe { libc::getppid() });
        }),
        path(g, "syscalls", Growth::No, || {
            let _ = black_box(unsafe { syscalls::syscall0(syscalls::Sysno::getppid) });
        }),
        path(g, "sc", Growth::No, || {
            black_box(unsafe { sc::syscall!(GETPPID) });
        }),
        path(g, "rustix", Growth::No, || {
            black_box(rustix::process::getppid());
        }),
    ]
}

/// A minimal static ELF for this arch that calls exit(0), written to a temporary
/// file, with the argv and envp to exec it.
struct Program {
    path: std::path::PathBuf,
    cpath: CString,
    argv: [*const c_char; 2],
    envp: [*const c_char; 1],
}

impl Program {
    fn new() -> Program {
        #[cfg(target_arch = "x86_64")]
        let (machine, code): (u16, &[u8]) = (
            62,
            &[
                0xb8, 0x3c, 0, 0, 0, // mov eax, 60 (exit)
                0x31, 0xff, // xor edi, edi
                0x0f, 0x05, // syscall
            ],
        );
        #[cfg(target_arch = "aarch64")]
        let (machine, code): (u16, &[u8]) = (
            183,
            &[
                0x00, 0x00, 0x80, 0xd2, // mov x0, #0
                0xa8, 0x0b, 0x80, 0xd2, // mov x8, #93 (exit)
                0x01, 0x00, 0x00, 0xd4, // svc #0
            ],
        );
        let base: u64 = 0x400000;
        let entry = base + 64 + 56;
        let size = (64 + 56 + code.len()) as u64;
        let mut elf = Vec::new();
        elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        elf.extend_from_slice(&machine.to_le_bytes());
        elf.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
        elf.extend_from_slice(&entry.to_le_bytes());
        elf.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
        elf.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        for v in [64u16, 56, 1, 64, 0, 0] {
            elf.extend_from_slice(&v.to_le_bytes()); // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
        }
        elf.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        elf.extend_from_slice(&5u32.to_le_bytes()); // R | X
        for v in [0u64, base, base, size, size, 0x1000] {
            elf.extend_from_slice(&v.to_le_bytes()); // offset, vaddr, paddr, filesz, memsz, align
        }
        elf.extend_from_slice(code);
        let path = std::env::temp_dir().join(format!("clonelab-true-{}", std::process::id()));
        std::fs::write(&path, &elf).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let cpath = CString::new(path.to_str().unwrap()).unwrap();
        let mut program = Program {
            path,
            cpath,
            argv: [std::ptr::null(); 2],
            envp: [std::ptr::null()],
        };
        program.argv[0] = program.cpath.as_ptr(); // the CString's heap buffer does not move
        assert!(
            std::process::Command::new(&program.path)
                .status()
                .unwrap()
                .success(),
            "the tiny program must run"
        );
        program
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Every create+reap and spawn+exec path. Each owns the stack it reuses.
fn process_paths(program: &Program) -> Vec<Path<'_>> {
    let (cr, se) = ("create+reap", "spawn+exec");
    let fork_like = FlagsWord::new(F::EMPTY, SIGCHLD);
    let exited_0 = |status| assert_eq!(status, WaitStatus::Exited(0));
    let mut paths = vec![path(
        cr,
        "clonelab spawn (clone)",
        Growth::Copies,
        move || exited_0(spawn(fork_like, || 0).unwrap().wait().unwrap()),
    )];
    if clonelab::clone3_available() {
        paths.push(path(
            cr,
            "clonelab spawn (clone3)",
            Growth::Copies,
            move || {
                exited_0(
                    spawn_via(Syscall::Clone3, fork_like, || 0)
                        .unwrap()
                        .wait()
                        .unwrap(),
                )
            },
        ));
    }
    for (name, flags, signal, growth) in [
        (
            "clonelab CLONE_VM|CLONE_VFORK",
            F::CLONE_VM | F::CLONE_VFORK,
            SIGCHLD,
            Growth::Shares,
        ),
        (
            "clonelab CLONE_VM|SIGCHLD",
            F::CLONE_VM,
            SIGCHLD,
            Growth::No,
        ),
        (
            "clonelab thread",
            THREAD_FLAGS,
            ExitSignal::NONE,
            Growth::No,
        ),
    ] {
        let word = FlagsWord::new(flags, signal);
        let mut stack = Stack::new(64 * 1024).unwrap();
        paths.push(path(cr, name, growth, move || {
            exited_0(scope(|s| {
                s.spawn(&mut stack, word, || 0).unwrap().join().unwrap()
            }))
        }));
    }
    // The same call as libc::clone below, through clonelab's raw API: same flags, same reuse.
    let raw = FlagsWord::new(F::CLONE_VM | F::CLONE_VFORK, SIGCHLD);
    let stack = Stack::new(64 * 1024).unwrap();
    paths.push(path(
        cr,
        "clonelab raw clone CLONE_VM|CLONE_VFORK",
        Growth::No,
        move || {
            let none = std::ptr::null_mut();
            // SAFETY: the child runs c_child_unsafe on `stack` and exits; the parent is
            // suspended until then and reaps it; the closure owns the stack.
            let pid = unsafe {
                clonelab::clone(
                    raw,
                    stack.top(),
                    none,
                    none,
                    0,
                    c_child_unsafe,
                    std::ptr::null_mut(),
                )
            }
            .unwrap();
            assert_eq!(sys::wait4(pid, 0).unwrap(), (pid, 0));
        },
    ));
    paths.push(path(cr, "libc::fork", Growth::Copies, || {
        // SAFETY: the child only calls _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: async-signal-safe exit in the child.
            unsafe { libc::_exit(0) };
        }
        waitpid_ok(pid);
    }));
    paths.push(path(cr, "vfork (bare asm)", Growth::Shares, || {
        waitpid_ok(bare_vfork_exit() as libc::pid_t)
    }));
    let mut c_stack = vec![0u8; 64 * 1024];
    paths.push(path(
        cr,
        "libc::clone CLONE_VM|CLONE_VFORK",
        Growth::No,
        move || {
            let top = (c_stack.as_mut_ptr() as usize + c_stack.len()) & !15;
            let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
            // SAFETY: the child runs c_child on c_stack and exits; the parent is
            // suspended until then and reaps it.
            let pid =
                unsafe { libc::clone(c_child, top as *mut c_void, flags, std::ptr::null_mut()) };
            waitpid_ok(pid);
        },
    ));
    paths.push(path(cr, "std::thread", Growth::No, || {
        assert_eq!(std::thread::spawn(|| 7).join().unwrap(), 7)
    }));
    paths.push(path(cr, "pthread_create", Growth::No, || {
        let mut thread: libc::pthread_t = 0;
        // SAFETY: default attributes; the body returns at once; joined below.
        unsafe {
            assert_eq!(
                libc::pthread_create(
                    &mut thread,
                    std::ptr::null(),
                    pthread_body,
                    std::ptr::null_mut()
                ),
                0
            );
            assert_eq!(libc::pthread_join(thread, std::ptr::null_mut()), 0);
        }
    }));

    // spawn+exec. The vfork-style child borrows these through plain addresses (Send).
    let (cpath, argv, envp) = (&program.cpath, &program.argv, &program.envp);
    let (argv_at, envp_at) = (argv.as_ptr() as usize, envp.as_ptr() as usize);
    let vfork = FlagsWord::new(F::CLONE_VM | F::CLONE_VFORK, SIGCHLD);
    let mut stack = Stack::new(64 * 1024).unwrap();
    paths.push(path(
        se,
        "clonelab CLONE_VM|CLONE_VFORK + execve",
        Growth::Shares,
        move || {
            exited_0(scope(|s| {
                s.spawn(&mut stack, vfork, || {
                    // SAFETY: NULL-terminated argv/envp that outlive the scope.
                    unsafe { sys::execve(cpath, argv_at as *const _, envp_at as *const _) };
                    127
                })
                .unwrap()
                .join()
                .unwrap()
            }))
        },
    ));
    paths.push(path(se, "libc::fork + execve", Growth::Copies, move || {
        // SAFETY: the child only calls execve and, if that fails, _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: NULL-terminated argv/envp; async-signal-safe calls only.
            unsafe {
                libc::execve(cpath.as_ptr(), argv.as_ptr(), envp.as_ptr());
                libc::_exit(127);
            }
        }
        waitpid_ok(pid);
    }));
    paths.push(path(se, "posix_spawn", Growth::Shares, move || {
        let mut pid = 0;
        // SAFETY: valid path and NULL-terminated argv/envp; pid is reaped below.
        let err = unsafe {
            libc::posix_spawn(
                &mut pid,
                cpath.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                argv.as_ptr() as *const *mut _,
                envp.as_ptr() as *const *mut _,
            )
        };
        assert_eq!(err, 0);
        waitpid_ok(pid);
    }));
    let program_path = &program.path;
    paths.push(path(
        se,
        "std::process::Command",
        Growth::Shares,
        move || {
            assert!(std::process::Command::new(program_path)
                .status()
                .unwrap()
                .success())
        },
    ));
    paths
}

/// Touched, private, anonymous memory that makes this process `mib` MiB bigger.
struct Ballast {
    map: *mut c_void,
    map_len: usize,
}

impl Ballast {
    /// `huge`: ask for transparent huge pages (MADV_HUGEPAGE on a 2 MiB-aligned
    /// range); otherwise forbid them (MADV_NOHUGEPAGE), so that the plain rows
    /// use 4 KiB pages whatever the host's THP setting.
    fn new(mib: usize, huge: bool) -> Ballast {
        if mib == 0 {
            return Ballast {
                map: std::ptr::null_mut(),
                map_len: 0,
            };
        }
        let (len, align) = (mib * MIB, 2 * MIB);
        let map_len = len + align;
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(map, libc::MAP_FAILED, "mmap of {mib} MiB");
        let start = (map as usize + align - 1) & !(align - 1);
        let advice = if huge {
            libc::MADV_HUGEPAGE
        } else {
            libc::MADV_NOHUGEPAGE
        };
        // SAFETY: [start, start + len) lies inside our mapping.
        let ok = unsafe { libc::madvise(start as *mut c_void, len, advice) };
        assert_eq!(ok, 0, "madvise");
        for offset in (0..len).step_by(clonelab::stack::page_size()) {
            // SAFETY: inside our writable mapping.
            unsafe { std::ptr::write_volatile((start + offset) as *mut u8, 1) };
        }
        Ballast { map, map_len }
    }
}

impl Drop for Ballast {
    fn drop(&mut self) {
        if self.map_len > 0 {
            // SAFETY: our own mapping, no longer used.
            unsafe { libc::munmap(self.map, self.map_len) };
        }
    }
}

/// A kB field of /proc/self/smaps_rollup (AnonHugePages, Rss).
fn smaps_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The host's THP mode: the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled.
fn thp_mode() -> String {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .ok()
        .and_then(|s| Some(s.split_once('[')?.1.split_once(']')?.0.to_string()))
        .unwrap_or_else(|| "unavailable".to_string())
}

/// splitmix64: a small, fixed-seed generator, so every run shuffles alike.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fisher-Yates.
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, (self.next() % (i as u64 + 1)) as usize);
        }
    }
}

/// How long and how finely a set is measured.
struct Plan {
    /// Aim for batches this long (at least one operation).
    batch: Duration,
    /// Stop after this long, once `min_rounds` are done, or at `max_rounds`.
    budget: Duration,
    min_rounds: usize,
    max_rounds: usize,
}

/// Operations per batch so that one lasts about `target`, after a warm-up.
fn calibrate(p: &mut Path, target: Duration) -> u64 {
    (p.run)(1); // first-touch costs (stack pages, lazy binding) stay out of the rounds
    let mut n = 1u64;
    loop {
        let t = Instant::now();
        (p.run)(n);
        let took = t.elapsed().max(Duration::from_nanos(1));
        if took >= target / 4 || n >= 1 << 24 {
            return ((n as f64 * target.as_secs_f64() / took.as_secs_f64()) as u64).max(1);
        }
        n *= 2;
    }
}

/// Measure one set in interleaved rounds; write `R` lines to `out`, print medians.
fn measure(
    set: &str,
    paths: &mut [Path],
    plan: &Plan,
    rng: &mut Rng,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let batches: Vec<u64> = paths.iter_mut().map(|p| calibrate(p, plan.batch)).collect();
    for (p, n) in paths.iter().zip(&batches) {
        writeln!(out, "B\t{set}\t{}\t{}\t{n}", p.group, p.name)?;
    }
    let mut order: Vec<usize> = (0..paths.len()).collect();
    let mut per_op: Vec<Vec<f64>> = vec![Vec::new(); paths.len()];
    let start = Instant::now();
    let mut rounds = 0;
    while rounds < plan.min_rounds || (rounds < plan.max_rounds && start.elapsed() < plan.budget) {
        rng.shuffle(&mut order);
        for &i in &order {
            let t = Instant::now();
            (paths[i].run)(batches[i]);
            let ns = t.elapsed().as_nanos() as f64 / batches[i] as f64;
            let p = &paths[i];
            writeln!(out, "R\t{set}\t{rounds}\t{}\t{}\t{ns:.1}", p.group, p.name)?;
            per_op[i].push(ns);
        }
        rounds += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    writeln!(out, "S\t{set}\trounds\t{rounds}\tseconds\t{seconds:.1}")?;
    println!("{set}: {rounds} rounds in {seconds:.1} s; median per operation:");
    for ((p, v), n) in paths.iter().zip(&mut per_op).zip(&batches) {
        v.sort_by(f64::total_cmp);
        println!(
            "  {:<12} {:<42} {:>12.1} ns   (batches of {n})",
            p.group,
            p.name,
            v[v.len() / 2]
        );
    }
    Ok(())
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
    let secs = Duration::from_secs;
    let plan = |batch: Duration, budget: u64| Plan {
        batch: if quick { batch / 8 } else { batch },
        budget: if quick { Duration::ZERO } else { secs(budget) },
        min_rounds: if quick { 3 } else { 30 },
        max_rounds: if quick { 3 } else { 5000 },
    };
    let thp = thp_mode();
    writeln!(out, "M\tmode\t{}", if quick { "quick" } else { "full" })?;
    writeln!(out, "M\tthp\t{thp}")?;
    writeln!(out, "M\tclone3\t{}", clonelab::clone3_available())?;
    let started = Instant::now();
    let mut rng = Rng(0x636c_6f6e_656c_6162); // "clonelab"

    measure(
        "getppid",
        &mut getppid_paths(),
        &plan(Duration::from_micros(200), 12),
        &mut rng,
        &mut *out,
    )?;

    let program = Program::new();
    // (MiB, transparent huge pages, seconds of rounds: sharing set, copying set)
    let mut sizes = vec![
        (0, false, 40, 15),
        (16, false, 12, 15),
        (64, false, 12, 20),
        (256, false, 12, 35),
        (1024, false, 12, 75),
    ];
    if quick {
        sizes.truncate(2);
    } else if thp == "always" || thp == "madvise" {
        sizes.push((1024, true, 10, 15));
    } else {
        println!("no transparent huge pages row: the host's THP mode is {thp}");
    }
    for (mib, huge, share_budget, copy_budget) in sizes {
        let ballast = Ballast::new(mib, huge);
        let memory = format!(
            "AnonHugePages_kB\t{}\tRss_kB\t{}",
            smaps_kb("AnonHugePages"),
            smaps_kb("Rss")
        );
        // Two sets per size. A fork-like child of a big parent leaves work
        // behind (its page tables torn down, the parent's entries now
        // write-protected) that slows whatever runs next; in one set with the
        // paths that share memory, those would pay for it in random rounds.
        // So the copying paths are compared among themselves, the others
        // among themselves, at the same size.
        for copying in [false, true] {
            let mut set = format!("{mib} MiB{}", if huge { " THP" } else { "" });
            if copying {
                set.push_str(" fork");
            }
            writeln!(out, "S\t{set}\t{memory}")?;
            let mut paths = process_paths(&program);
            paths.retain(|p| {
                (p.growth == Growth::Copies) == copying && (mib == 0 || p.growth != Growth::No)
            });
            let budget = if copying { copy_budget } else { share_budget };
            measure(
                &set,
                &mut paths,
                &plan(Duration::from_millis(2), budget),
                &mut rng,
                &mut *out,
            )?;
        }
        drop(ballast);
    }
    writeln!(out, "M\tseconds\t{:.0}", started.elapsed().as_secs_f64())?;
    out.flush()?;
    println!("bench: done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
