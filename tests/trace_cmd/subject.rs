//! The subject: this test binary, turned by a constructor into the program
//! `clonelab trace` runs, when `CLONELAB_TRACE_SUBJECT` names a mode. Each
//! mode makes known clone-family calls and prints what each gave it.
//!
//! Part of `tests/trace_cmd/`; `run.rs` starts it. Uses libc (glibc's fork,
//! raise, unshare), clonelab, and std.

use super::common;
use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

/// The environment variable that turns this binary into the subject, and names its mode.
pub const SUBJECT: &str = "CLONELAB_TRACE_SUBJECT";

// ---------------------------------------------------------------- the subject

/// The C runtime calls everything in `.init_array` before `main`: if the
/// environment says so, this process is the subject and never reaches libtest.
#[used]
#[link_section = ".init_array"]
static SUBJECT_HOOK: extern "C" fn() = subject_hook;

extern "C" fn subject_hook() {
    if let Ok(mode) = std::env::var(SUBJECT) {
        let code = subject(&mode);
        let _ = std::io::stdout().flush();
        std::process::exit(code);
    }
}

/// Refused by the kernel (CLONE_THREAD needs CLONE_SIGHAND), so never run.
unsafe extern "C" fn never_runs(_: *mut std::ffi::c_void) -> std::ffi::c_int {
    0
}

/// Run as the subject in `mode`; its exit code.
pub fn subject(mode: &str) -> i32 {
    use clonelab::flags::{CloneFlags, ExitSignal, FlagsWord, Syscall};
    match mode {
        "exit" => 0,
        "segv" => {
            // SAFETY: raise only sends a signal; SIGSEGV's default action ends us.
            unsafe { libc::raise(libc::SIGSEGV) };
            1
        }
        "all" => {
            println!("subject pid {}", std::process::id());
            // 1. glibc's fork.
            // SAFETY: single-threaded here; the child only calls _exit.
            match unsafe { libc::fork() } {
                // SAFETY: _exit is async-signal-safe.
                0 => unsafe { libc::_exit(0) },
                pid => {
                    println!("fork {pid}");
                    // SAFETY: waiting for our own child.
                    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
                }
            }
            // 2. std::thread::spawn: glibc's pthread_create.
            let (tid, tls, local) = std::thread::spawn(|| {
                let local = 0u8;
                (
                    clonelab::sys::gettid(),
                    clonelab::arch::thread_pointer(),
                    &local as *const u8 as usize,
                )
            })
            .join()
            .unwrap();
            println!("thread {tid} tls {tls} local {local}");
            // 3. std::process::Command: glibc's posix_spawn.
            let mut child = Command::new(std::env::current_exe().unwrap())
                .env(SUBJECT, "exit")
                .spawn()
                .unwrap();
            println!("command {}", child.id());
            child.wait().unwrap();
            // 4. clonelab's own clone3, with a pidfd.
            let word = FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD);
            let mut c = clonelab::spawn_via(Syscall::Clone3, word, || 0).unwrap();
            let call = *c.call();
            println!(
                "clonelab-clone3 {} flags {} exit_signal {} pidfd {} parent_tid {} child_tid {} stack {} stack_size {} tls {} args_address {}",
                c.pid(),
                call.word.flags.bits(),
                call.word.signal.number(),
                call.pidfd,
                call.parent_tid,
                call.child_tid,
                call.stack,
                call.stack_size,
                call.tls,
                call.args_address
            );
            c.wait().unwrap();
            // 5. a clone the kernel refuses: CLONE_THREAD without CLONE_SIGHAND.
            let bad = FlagsWord::new(CloneFlags::CLONE_THREAD, ExitSignal::NONE);
            let stack = clonelab::Stack::new(common::STACK).unwrap();
            // SAFETY: the kernel refuses these flags with EINVAL, so no child
            // exists; had one been made, it would run `never_runs` on `stack`,
            // which outlives this call.
            let refused = unsafe {
                clonelab::clone(
                    bad,
                    stack.top(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    0,
                    never_runs,
                    std::ptr::null_mut(),
                )
            };
            let errno = refused.err().and_then(|e| e.errno()).map(|e| e.raw());
            println!("refused {} errno {}", bad.flags.bits(), errno.unwrap_or(0));
            0
        }
        #[cfg(target_arch = "x86_64")]
        "raw-fork" => {
            // SAFETY: the fork syscall (x86_64 only) in a single-threaded process;
            // the child only calls _exit.
            let pid = unsafe { clonelab::arch::syscall0(linux_raw_sys::general::__NR_fork) };
            if pid == 0 {
                // SAFETY: _exit is async-signal-safe.
                unsafe { libc::_exit(0) };
            }
            println!("raw-fork {pid}");
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(pid as i32, std::ptr::null_mut(), 0) };
            0
        }
        "threads" => {
            let mut tids = Vec::new();
            for _ in 0..20 {
                let batch: Vec<_> = (0..50)
                    .map(|_| {
                        std::thread::Builder::new()
                            .stack_size(64 * 1024)
                            .spawn(clonelab::sys::gettid)
                            .unwrap()
                    })
                    .collect();
                tids.extend(batch.into_iter().map(|t| t.join().unwrap()));
            }
            let list: Vec<String> = tids.iter().map(|t| t.to_string()).collect();
            println!("threads {}", list.join(","));
            0
        }
        "wait" => {
            std::thread::spawn(|| loop {
                std::thread::sleep(Duration::from_millis(50));
            });
            println!("waiting {}", std::process::id());
            let _ = std::io::stdout().flush();
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            7
        }
        "unshare-fork" => {
            // What util-linux's `unshare --fork --pid` does: unshare, then fork.
            // SAFETY: unshare takes no pointers.
            if unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
                println!("unshare refused {}", std::io::Error::last_os_error());
                return 0;
            }
            // SAFETY: single-threaded; the child only calls _exit.
            match unsafe { libc::fork() } {
                // SAFETY: _exit is async-signal-safe.
                0 => unsafe { libc::_exit(0) },
                pid => {
                    println!("unshare-fork {pid}");
                    // SAFETY: waiting for our own child.
                    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
                }
            }
            0
        }
        other => {
            eprintln!("subject: unknown mode {other}");
            2
        }
    }
}
