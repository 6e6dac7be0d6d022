//! Syscall latency and spawn costs: clonelab against its peers.
//!
//! Three groups (criterion):
//! 1. `getppid` — one syscall round trip (getppid: no libc caches it): a bare
//!    inline-asm `syscall`/`svc` (the physical baseline), clonelab's `syscall0`,
//!    `libc::syscall`, `libc::getppid`, the `syscalls` crate, the `sc` crate, `rustix`.
//! 2. `create+reap` — make a child that exits at once, and reap it.
//!    Stacks are mapped once, outside the timed loop, wherever the API lets a
//!    stack be reused (clonelab's scoped children, `libc::clone`); fork-like
//!    children need none; std's and pthread's threads allocate their own
//!    stacks inside the timed region (their APIs give no choice).
//! 3. `spawn+exec` — start a tiny static program (a 3-instruction ELF this
//!    bench writes itself) and reap it.
//!
//! `cargo xtask bench` runs these and writes `docs/benchmarks.md`.
//! Under `cargo test` (and in the VMs) each benchmark runs once, as a smoke test.

use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall};
use clonelab::{scope, spawn, spawn_via, sys, Stack, THREAD_FLAGS};
use criterion::{criterion_group, criterion_main, Criterion};
use std::ffi::{c_void, CString};
use std::hint::black_box;
use std::time::Duration;

const SIGCHLD: ExitSignal = ExitSignal::SIGCHLD;

/// One getppid through a bare `syscall` / `svc` instruction, no wrapper at all.
#[inline(always)]
fn bare_getppid() -> usize {
    let ret: usize;
    // SAFETY: getppid takes no arguments and touches no memory.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        std::arch::asm!(
            "syscall",                       // getppid
            inlateout("rax") linux_raw_sys::general::__NR_getppid as usize => ret,
            lateout("rcx") _, lateout("r11") _,
            options(nostack, preserves_flags, nomem)
        );
        #[cfg(target_arch = "aarch64")]
        std::arch::asm!(
            "svc #0",                        // getppid
            in("x8") linux_raw_sys::general::__NR_getppid as usize,
            lateout("x0") ret,
            options(nostack, preserves_flags, nomem)
        );
    }
    ret
}

fn getppid(c: &mut Criterion) {
    let mut g = c.benchmark_group("getppid");
    g.bench_function("bare asm", |b| b.iter(|| black_box(bare_getppid())));
    g.bench_function("clonelab", |b| b.iter(|| black_box(sys::getppid())));
    // SAFETY: getppid has no arguments.
    g.bench_function("libc::syscall", |b| {
        b.iter(|| black_box(unsafe { libc::syscall(libc::SYS_getppid) }))
    });
    // SAFETY: as above.
    g.bench_function("libc::getppid", |b| {
        b.iter(|| black_box(unsafe { libc::getppid() }))
    });
    // SAFETY: as above.
    g.bench_function("syscalls", |b| {
        b.iter(|| black_box(unsafe { syscalls::syscall0(syscalls::Sysno::getppid) }))
    });
    // SAFETY: as above.
    g.bench_function("sc", |b| {
        b.iter(|| black_box(unsafe { sc::syscall!(GETPPID) }))
    });
    g.bench_function("rustix", |b| {
        b.iter(|| black_box(rustix::process::getppid()))
    });
    g.finish();
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

fn create_and_reap(c: &mut Criterion) {
    let mut g = c.benchmark_group("create+reap");
    let fork_like = FlagsWord::new(F::EMPTY, SIGCHLD);
    g.bench_function("clonelab spawn (clone, SIGCHLD)", |b| {
        b.iter(|| spawn(fork_like, || 0).unwrap().wait().unwrap())
    });
    if clonelab::clone3_available() {
        g.bench_function("clonelab spawn (clone3, SIGCHLD)", |b| {
            b.iter(|| {
                spawn_via(Syscall::Clone3, fork_like, || 0)
                    .unwrap()
                    .wait()
                    .unwrap()
            })
        });
    }
    let mut stack = Stack::new(64 * 1024).unwrap();
    for (name, flags, signal) in [
        (
            "clonelab CLONE_VM|CLONE_VFORK (reused stack)",
            F::CLONE_VM | F::CLONE_VFORK,
            SIGCHLD,
        ),
        (
            "clonelab CLONE_VM|SIGCHLD (reused stack)",
            F::CLONE_VM,
            SIGCHLD,
        ),
        (
            "clonelab thread (reused stack)",
            THREAD_FLAGS,
            ExitSignal::NONE,
        ),
    ] {
        let word = FlagsWord::new(flags, signal);
        g.bench_function(name, |b| {
            // SAFETY: the child only returns a constant.
            b.iter(|| {
                scope(|s| {
                    unsafe { s.spawn(&mut stack, word, || 0) }
                        .unwrap()
                        .join()
                        .unwrap()
                })
            })
        });
    }
    // The same call as libc::clone below, through clonelab's raw API: same flags, same reuse.
    let raw = FlagsWord::new(F::CLONE_VM | F::CLONE_VFORK, SIGCHLD);
    g.bench_function(
        "clonelab raw clone CLONE_VM|CLONE_VFORK (reused stack)",
        |b| {
            b.iter(|| {
                let none = std::ptr::null_mut();
                // SAFETY: the child runs c_child_unsafe on `stack` and exits; the parent is
                // suspended until then and reaps it; the stack outlives the loop.
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
                sys::wait4(pid, 0).unwrap();
            })
        },
    );
    g.bench_function("libc::fork + waitpid", |b| {
        b.iter(|| {
            // SAFETY: the child only calls _exit.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: async-signal-safe exit in the child.
                unsafe { libc::_exit(0) };
            }
            // SAFETY: pid is our child.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        })
    });
    let mut c_stack = vec![0u8; 64 * 1024];
    let c_top = (c_stack.as_mut_ptr() as usize + c_stack.len()) & !15;
    g.bench_function("libc::clone CLONE_VM|CLONE_VFORK (reused stack)", |b| {
        b.iter(|| {
            let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
            // SAFETY: the child runs c_child on c_stack and exits; the parent is
            // suspended until then and reaps it.
            let pid =
                unsafe { libc::clone(c_child, c_top as *mut c_void, flags, std::ptr::null_mut()) };
            // SAFETY: pid is our child.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        })
    });
    g.bench_function("std::thread::spawn + join", |b| {
        b.iter(|| std::thread::spawn(|| 0).join().unwrap())
    });
    g.bench_function("pthread_create + join", |b| {
        b.iter(|| {
            let mut thread: libc::pthread_t = 0;
            // SAFETY: default attributes; the body returns at once; joined below.
            unsafe {
                libc::pthread_create(
                    &mut thread,
                    std::ptr::null(),
                    pthread_body,
                    std::ptr::null_mut(),
                );
                libc::pthread_join(thread, std::ptr::null_mut());
            }
        })
    });
    g.finish();
}

/// A minimal static ELF for this arch that calls exit(0): one PT_LOAD, three instructions.
fn tiny_static_program() -> std::path::PathBuf {
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
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

fn spawn_exec(c: &mut Criterion) {
    let program = tiny_static_program();
    let cpath = CString::new(program.to_str().unwrap()).unwrap();
    let argv = [cpath.as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    let (argv_at, envp_at) = (argv.as_ptr() as usize, envp.as_ptr() as usize);
    assert!(
        std::process::Command::new(&program)
            .status()
            .unwrap()
            .success(),
        "the tiny program must run"
    );
    let mut g = c.benchmark_group("spawn+exec");
    let mut stack = Stack::new(64 * 1024).unwrap();
    let vfork = FlagsWord::new(F::CLONE_VM | F::CLONE_VFORK, SIGCHLD);
    g.bench_function("clonelab CLONE_VM|CLONE_VFORK + execve", |b| {
        b.iter(|| {
            scope(|s| {
                let exec = || {
                    // SAFETY: NULL-terminated argv/envp built above.
                    unsafe { sys::execve(&cpath, argv_at as *const _, envp_at as *const _) };
                    127
                };
                // SAFETY: the child makes one raw execve (no TLS).
                unsafe { s.spawn(&mut stack, vfork, exec) }
                    .unwrap()
                    .join()
                    .unwrap()
            })
        })
    });
    g.bench_function("posix_spawn", |b| {
        b.iter(|| {
            let mut pid = 0;
            // SAFETY: valid path and NULL-terminated argv/envp; pid is reaped below.
            unsafe {
                libc::posix_spawn(
                    &mut pid,
                    cpath.as_ptr(),
                    std::ptr::null(),
                    std::ptr::null(),
                    argv.as_ptr() as *const *mut _,
                    envp.as_ptr() as *const *mut _,
                );
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        })
    });
    g.bench_function("std::process::Command", |b| {
        b.iter(|| std::process::Command::new(&program).status().unwrap())
    });
    g.finish();
    let _ = std::fs::remove_file(&program);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = getppid, create_and_reap, spawn_exec
}
criterion_main!(benches);
