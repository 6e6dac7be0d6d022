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
//! - `tasks`: threads and CLONE_VM children made by this process (create+reap).
//! - the growth curve, in two sets: the paths whose child copies the address
//!   space (fork-like), and the others. Each parent size (0, 16, 64, 256 and
//!   1024 MiB of touched, private, anonymous memory, and 1024 MiB in
//!   transparent huge pages where the host allows them) is a [`Helper`]
//!   process; all of them live at once, so a set's rounds cover every path at
//!   every size and the ratios across sizes are paired too.
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
//!   runs): a smoke run of three short rounds per set, at 0 and 16 MiB.

use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall};
use clonelab::{scope, spawn, spawn_via, sys, Stack, WaitStatus, THREAD_FLAGS};
use linux_raw_sys::general as k;
use std::cell::RefCell;
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
struct Path<'a> {
    /// "getppid", "create+reap" or "spawn+exec".
    group: &'static str,
    name: &'static str,
    growth: Growth,
    /// The parent's size ("64 MiB", "1024 MiB THP"), or "-" for this process as it is.
    size: String,
    /// Run the operation `n` times; the time it took.
    run: Box<dyn FnMut(u64) -> Duration + 'a>,
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

fn getppid_paths() -> Vec<Path<'static>> {
    let g = "getppid";
    vec![
        path(g, "bare asm", Growth::No, || {
            black_box(bare_getppid());
        }),
        path(g, "clonelab", Growth::No, || {
            black_box(sys::getppid());
        }),
        path(g, "libc::syscall", Growth::No, || {
            // SAFETY: getppid has no arguments.
            black_box(unsafe { libc::syscall(libc::SYS_getppid) });
        }),
        path(g, "libc::getppid", Growth::No, || {
            // SAFETY: getppid has no arguments.
            black_box(unsafe { libc::getppid() });
        }),
        path(g, "syscalls", Growth::No, || {
            // SAFETY: getppid has no arguments.
            let _ = black_box(unsafe { syscalls::syscall0(syscalls::Sysno::getppid) });
        }),
        path(g, "sc", Growth::No, || {
            // SAFETY: getppid has no arguments.
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
                // SAFETY: the child only returns a constant: no TLS.
                let child = unsafe { s.spawn(&mut stack, word, || 0) };
                child.unwrap().join().unwrap()
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
            let exec = || {
                // SAFETY: NULL-terminated argv/envp that outlive the scope.
                unsafe { sys::execve(cpath, argv_at as *const _, envp_at as *const _) };
                127
            };
            exited_0(scope(|s| {
                // SAFETY: the child makes one raw execve: no TLS.
                let child = unsafe { s.spawn(&mut stack, vfork, exec) };
                child.unwrap().join().unwrap()
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

/// A forked copy of this process that holds the ballast of one parent size
/// and runs the growth paths on command: the "parent" of those children.
/// Commands go down one pipe (path index, operations), the batch's time in
/// nanoseconds comes back up another. Several helpers live at once, so every
/// size is measured in the same rounds.
struct Helper {
    pid: libc::pid_t,
    commands: std::fs::File,
    replies: std::fs::File,
}

/// Two pipes' ends as Files: (read, write).
fn pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: two fresh descriptors that nothing else owns.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

impl Helper {
    /// Fork a helper with `mib` MiB of touched ballast (in huge pages if
    /// `huge`); returns it and its `/proc/self/smaps_rollup` AnonHugePages and
    /// Rss in kB after touching. Call before this process starts any thread.
    fn start(mib: usize, huge: bool, program: &Program) -> (Helper, u64, u64) {
        use std::io::Read;
        let (mut command_in, command_out) = pipe();
        let (reply_in, mut reply_out) = pipe();
        // SAFETY: this process is single-threaded here (see above); the child
        // goes on as an ordinary copy of it and leaves only through _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            drop((command_out, reply_in));
            let ballast = Ballast::new(mib, huge);
            let mut paths = process_paths(program);
            paths.retain(|p| p.growth != Growth::No);
            let memory = [smaps_kb("AnonHugePages"), smaps_kb("Rss")];
            reply_out.write_all(&memory[0].to_le_bytes()).unwrap();
            reply_out.write_all(&memory[1].to_le_bytes()).unwrap();
            let mut command = [0u8; 16];
            while command_in.read_exact(&mut command).is_ok() {
                let index = u64::from_le_bytes(command[..8].try_into().unwrap()) as usize;
                let n = u64::from_le_bytes(command[8..].try_into().unwrap());
                let took = (paths[index].run)(n).as_nanos() as u64;
                reply_out.write_all(&took.to_le_bytes()).unwrap();
            }
            drop(ballast);
            // SAFETY: leave without running the parent's exit handlers twice.
            unsafe { libc::_exit(0) };
        }
        drop((command_in, reply_out));
        let mut helper = Helper {
            pid,
            commands: command_out,
            replies: reply_in,
        };
        let (huge_kb, rss_kb) = (helper.reply(), helper.reply());
        (helper, huge_kb, rss_kb)
    }

    fn reply(&mut self) -> u64 {
        use std::io::Read;
        let mut buf = [0u8; 8];
        self.replies
            .read_exact(&mut buf)
            .expect("a helper died: see its panic above");
        u64::from_le_bytes(buf)
    }

    /// Run the helper's path `index` `n` times; the time it took there.
    fn run(&mut self, index: usize, n: u64) -> Duration {
        let mut command = [0u8; 16];
        command[..8].copy_from_slice(&(index as u64).to_le_bytes());
        command[8..].copy_from_slice(&n.to_le_bytes());
        self.commands.write_all(&command).unwrap();
        Duration::from_nanos(self.reply())
    }
}

/// End every helper: close all command pipes (each helper also holds copies
/// of the pipes of those forked before it), then reap them.
fn finish(helpers: Vec<(String, RefCell<Helper>)>) {
    let pids: Vec<libc::pid_t> = helpers.iter().map(|(_, h)| h.borrow().pid).collect();
    drop(helpers);
    for pid in pids {
        waitpid_ok(pid);
    }
}

/// How long and how finely a set is measured.
struct Plan {
    /// Operations per timed batch, the same for every path of the set (so
    /// that no path is favoured by a different per-batch overhead).
    batch: u64,
    /// Stop after this long, once `min_rounds` are done, or at `max_rounds`.
    budget: Duration,
    min_rounds: usize,
    max_rounds: usize,
}

/// Measure one set in interleaved rounds; write `B` and `R` lines to `out`, print medians.
fn measure(
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
        min_rounds: if quick { 3 } else { 10 },
        max_rounds: if quick { 3 } else { (5000.0 * scale) as usize },
    };
    let thp = thp_mode();
    writeln!(out, "M\tmode\t{}", if quick { "quick" } else { "full" })?;
    writeln!(out, "M\tthp\t{thp}")?;
    writeln!(out, "M\tclone3\t{}", clonelab::clone3_available())?;
    let started = Instant::now();
    let mut rng = Rng(0x636c_6f6e_656c_6162); // "clonelab"
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
        &mut getppid_paths(),
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
