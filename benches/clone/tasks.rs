//! The create+reap family: make a child that exits at once, and reap it —
//! clonelab's fork-like `spawn` (clone and clone3), its scoped CLONE_VM
//! children and threads, its raw `clone`, against libc's fork and clone,
//! the kernel's vfork, `std::thread` and `pthread_create`. Stacks are mapped
//! once, outside the timed batches, wherever the API lets a stack be reused.
//!
//! Part of `benches/clone/`; `main.rs` measures [`paths`] (the `tasks` set,
//! and the growth sets through the helpers). Uses clonelab's public API,
//! libc, and std.

use super::harness::{exited_0, path, waitpid_ok, Growth, Path, SIGCHLD};
use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall};
use clonelab::{scope, spawn, spawn_via, sys, Stack, THREAD_FLAGS};
use linux_raw_sys::general as k;
use std::ffi::c_void;

/// vfork as the kernel gives it, with the child's whole life inside one `asm!`
/// block: it calls exit(0) at once and touches no memory, so sharing our stack
/// is harmless. (libc's `vfork` cannot be called soundly from Rust: the
/// compiler does not know it returns twice.) Returns the child's pid or -errno.
pub fn bare_vfork_exit() -> isize {
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

/// The raw clone with the scoped path's signal mask and tls (see its path).
pub const MASKED_RAW_VFORK: &str = "clonelab raw clone CLONE_VM|CLONE_VFORK, masked, tls 0";

pub extern "C" fn c_child(_: *mut c_void) -> i32 {
    0
}

pub unsafe extern "C" fn c_child_unsafe(_: *mut c_void) -> i32 {
    0
}

pub extern "C" fn pthread_body(_: *mut c_void) -> *mut c_void {
    std::ptr::null_mut()
}

/// Every create+reap path. Each owns the stack it reuses.
pub fn paths() -> Vec<Path<'static>> {
    let cr = "create+reap";
    let fork_like = FlagsWord::new(F::EMPTY, SIGCHLD);
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
    // The raw call with what the scoped path adds around it (CLONE_SETTLS with
    // tls 0, every signal blocked across the clone), without its bookkeeping:
    // against the two rows above it splits the scoped path's cost in two.
    let masked = FlagsWord::new(F::CLONE_VM | F::CLONE_VFORK | F::CLONE_SETTLS, SIGCHLD);
    let masked_stack = Stack::new(64 * 1024).unwrap();
    paths.push(path(cr, MASKED_RAW_VFORK, Growth::No, move || {
        let none = std::ptr::null_mut();
        let mask =
            sys::signal::sigprocmask(k::SIG_SETMASK, Some(sys::signal::SigSet::FULL)).unwrap();
        // SAFETY: as for the raw path above; the child has no thread pointer and
        // touches none.
        let pid = unsafe {
            clonelab::clone(
                masked,
                masked_stack.top(),
                none,
                none,
                0,
                c_child_unsafe,
                std::ptr::null_mut(),
            )
        };
        sys::signal::sigprocmask(k::SIG_SETMASK, Some(mask)).unwrap();
        let pid = pid.unwrap();
        assert_eq!(sys::wait4(pid, 0).unwrap(), (pid, 0));
    }));
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
    paths
}
