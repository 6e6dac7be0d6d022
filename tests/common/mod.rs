//! Helpers shared by every module of the test suite: skipping visibly, reading /proc,
//! the one child stack size the tests use, running an experiment under the
//! ptrace observer, the child entries and TLS block raw clones need, and how a
//! child's death by a signal is recognised.
//!
//! A skip is written straight to file descriptor 2 with a raw `write`, so
//! libtest's output capture cannot hide it, in the form
//! `skipped: <test name>: <reason>`; `cargo xtask test` counts these lines.
#![allow(dead_code)] // not every helper is used on every arch

use clonelab::experiments::record::match_trace;
pub use clonelab::experiments::Recorded;
use clonelab::{Errno, Error};

/// Stack size for test children: small, so an overflow test overflows quickly.
pub const STACK: usize = 64 * 1024;

/// The running test's name (libtest names each test's thread after it).
pub fn test_name() -> String {
    std::thread::current().name().unwrap_or("?").to_string()
}

/// Report a skip where no capture can swallow it.
///
/// The line starts with a newline of its own: running one test at a time,
/// libtest has printed `test NAME ... ` without one when the test runs, and
/// a counter reads only lines that begin with `skipped: `.
pub fn skip(reason: &str) {
    let line = format!("\nskipped: {}: {reason}\n", test_name());
    let _ = clonelab::sys::write(clonelab::BorrowedFd::STDERR, line.as_bytes());
}

/// Whether the running kernel has time namespaces (CONFIG_TIME_NS): it then
/// shows `/proc/self/ns/time`. 32-bit ARM kernels cannot have them (no
/// vDSO support for time namespaces), and there clone3(CLONE_NEWTIME) is EINVAL.
pub fn kernel_has_time_namespaces() -> bool {
    std::path::Path::new("/proc/self/ns/time").exists()
}

/// True when the tests run under qemu-user (set by `cargo xtask test`),
/// which rejects CLONE_VM without CLONE_THREAD, every CLONE_NEW*, and clone3.
pub fn under_qemu_user() -> bool {
    std::env::var_os("CLONELAB_QEMU_USER").is_some()
}

/// If `result` is the error qemu-user gives for what it cannot emulate, and we
/// are under qemu-user, report the skip and return true. Natively never skips.
pub fn qemu_user_cannot<T>(result: &Result<T, Error>, what: &str) -> bool {
    let refused = matches!(
        result.as_ref().err().and_then(Error::errno),
        Some(Errno::EINVAL) | Some(Errno::ENOSYS)
    );
    if refused && under_qemu_user() {
        skip(&format!("qemu-user cannot emulate {what}"));
        return true;
    }
    false
}

/// A raw clone's child entry that returns 0 at once, touching nothing.
///
/// # Safety
/// None beyond the trampoline's: it reads no argument.
pub unsafe extern "C" fn exit_zero(_: *mut std::ffi::c_void) -> i32 {
    0
}

/// A TLS block as x86_64 and i386 expect one (its first word points to
/// itself, as `fs:0` and `gs:0` reads do) and the other arches accept, for
/// CLONE_SETTLS (on i386 passed through a `user_desc`: `arch::TlsArgument`).
#[repr(C, align(64))]
pub struct TlsBlock {
    self_pointer: usize,
    _rest: [usize; 7],
}

impl TlsBlock {
    /// An empty block; [`TlsBlock::pointer`] makes it point to itself.
    pub fn new() -> TlsBlock {
        TlsBlock {
            self_pointer: 0,
            _rest: [0; 7],
        }
    }

    /// Point the first word at the block where it now lies and return that
    /// address: the `tls` argument (the block must not move after this).
    pub fn pointer(&mut self) -> usize {
        self.self_pointer = self as *const TlsBlock as usize;
        self.self_pointer
    }
}

/// Whether the child died of `signal` (with or without a core dump).
pub fn killed_by(status: clonelab::WaitStatus, signal: u32) -> bool {
    matches!(status, clonelab::WaitStatus::Signaled { signal: s, .. } if s == signal)
}

/// Lines of /proc/self/maps: one per mapping.
pub fn mapping_count() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

/// The /proc/self/maps line of the mapping that contains `addr`, if any.
pub fn mapping_containing(addr: usize) -> Option<String> {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .find(|line| map_range(line).is_some_and(|(lo, hi)| lo <= addr && addr < hi))
        .map(str::to_string)
}

/// Every mapping of /proc/self/maps, from one reading: start, end, permissions.
pub fn mappings() -> Vec<(usize, usize, String)> {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter_map(|line| {
            let (start, end) = map_range(line)?;
            Some((start, end, line.split_whitespace().nth(1)?.to_string()))
        })
        .collect()
}

/// The address range `start-end` at the head of a /proc/self/maps line.
fn map_range(line: &str) -> Option<(usize, usize)> {
    let (lo, hi) = line.split_whitespace().next()?.split_once('-')?;
    Some((
        usize::from_str_radix(lo, 16).ok()?,
        usize::from_str_radix(hi, 16).ok()?,
    ))
}

/// Open file descriptors of this process.
pub fn open_fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The result of an experiment, or a visible skip when the environment lacks
/// the capability: qemu-user refusing a flag, or no privilege when not root.
/// As root on a real kernel nothing is skipped: the error fails the test.
pub fn observed_or_skip<T>(result: Result<T, Error>, what: &str) -> Option<T> {
    if qemu_user_cannot(&result, what) {
        return None;
    }
    match result {
        Ok(value) => Some(value),
        Err(e)
            if matches!(e.errno(), Some(Errno::EPERM) | Some(Errno::EACCES))
                && clonelab::sys::geteuid() != 0 =>
        {
            skip(&format!(
                "{what} needs privilege (not root, user namespaces refused): {e}"
            ));
            None
        }
        Err(e) => panic!("{what}: {e}"),
    }
}

/// `let o = observed!(experiment, "what");`: [`observe_traced`], returning
/// from the test when the environment made it skip (reported on fd 2).
#[macro_export]
macro_rules! observed {
    ($observe:expr, $what:expr) => {
        match common::observe_traced($observe, $what) {
            Some(o) => o,
            None => return,
        }
    };
}

/// Run an experiment under clonelab's ptrace observer and check its record
/// against what the kernel saw: every call the experiment made (in its own
/// process) must be a traced call with every register (and, for clone3,
/// every `clone_args` field) holding what [`clonelab::RegisterImage::of`]
/// predicts and the same result; and every traced call must be in the record.
/// Prints the record; on a mismatch fails with a table of expected against
/// observed values. Also checks the observation's claim (`holds`).
pub fn observe_traced<T: clonelab::Plain + Recorded + std::fmt::Display>(
    observe: fn() -> Result<T, Error>,
    what: &str,
) -> Option<T> {
    use clonelab::abi::CCall;
    use clonelab::RegisterImage;
    if under_qemu_user() {
        let observed = observed_or_skip(observe(), what)?;
        skip("qemu-user cannot ptrace: the register image was not observed");
        return Some(observed);
    }
    let (result, trace) =
        clonelab::trace::trace(observe).unwrap_or_else(|e| panic!("tracing {what}: {e}"));
    let observed = observed_or_skip(result, what)?;
    println!("{observed}");
    let stops: Vec<_> = trace.clones().collect();
    for stop in &stops {
        assert_eq!(
            stop.arch,
            clonelab::arch::AUDIT_ARCH,
            "PTRACE_GET_SYSCALL_INFO reports another arch"
        );
        assert_eq!(
            stop.nr, stop.register_nr,
            "syscall info and register set disagree on the number"
        );
        assert_eq!(
            stop.args, stop.registers,
            "syscall info and register set disagree on the arguments"
        );
    }
    if let Some(why) = observed.skipped() {
        skip(why.as_str());
        assert_eq!(
            trace.clones().count(),
            observed.calls().len(),
            "{what}: skipped, yet made calls it did not record"
        );
        return Some(observed);
    }
    let calls = observed.calls();
    assert!(!calls.is_empty(), "{what}: the experiment recorded no call");
    let matched = match_trace(calls, &trace);
    for (i, made) in calls.iter().enumerate() {
        println!("call {}: {}  {}", i + 1, made.label, CCall(&made.call));
        let Some(j) = matched.stop_of[i] else {
            if made.in_child {
                continue;
            }
            let expected = RegisterImage::of(&made.call);
            let number = expected.registers()[0].value;
            let closest = stops.iter().find(|s| s.nr == number).unwrap_or(&stops[0]);
            panic!(
                "{what}: no traced call has the registers of call {} ({} calls traced). Closest:\n{}",
                i + 1,
                stops.len(),
                expected.diff(&clonelab::trace::observed_image(closest))
            );
        };
        let stop = stops[j];
        assert_eq!(
            stop.result,
            Some(made.result),
            "{what}: call {} returned {:?} to the tracer, {} to the experiment",
            i + 1,
            stop.result,
            made.result
        );
        // In the parent the call returns the child's tid, or -errno; 0 is the child's value only.
        assert!(
            made.result > 0 || (-4095..0).contains(&made.result),
            "{what}: clone returned {} in the parent",
            made.result
        );
    }
    assert_eq!(
        matched.unrecorded_count(),
        0,
        "{what}: the tracer saw calls the experiment did not record"
    );
    let checks = observed.checks();
    println!("{checks}");
    for check in checks.iter() {
        assert!(
            check.holds,
            "{what}: not so: {}: {}",
            check.claim, check.evidence
        );
    }
    assert!(checks.all_hold(), "{what}: no observation");
    Some(observed)
}

// ---------------------------------------------------------------- seccomp

use clonelab::arch;
use linux_raw_sys::general as k;
use linux_raw_sys::prctl::PR_SET_NO_NEW_PRIVS;
use linux_raw_sys::ptrace::{
    seccomp_data, sock_filter, sock_fprog, BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET,
    BPF_W, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_SET_MODE_FILTER,
};

fn statement(code: u32, k: u32) -> sock_filter {
    sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// Make syscall `nr` fail with `errno` for this process and its future
/// children (a seccomp filter, after PR_SET_NO_NEW_PRIVS). Call it in a child.
pub fn seccomp_deny(nr: u32, errno: u32) -> Result<(), Errno> {
    let arch_at = std::mem::offset_of!(seccomp_data, arch) as u32;
    let nr_at = std::mem::offset_of!(seccomp_data, nr) as u32;
    let mut program = [
        statement(BPF_LD | BPF_W | BPF_ABS, arch_at),
        jump(BPF_JMP | BPF_JEQ | BPF_K, arch::AUDIT_ARCH, 1, 0),
        statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        statement(BPF_LD | BPF_W | BPF_ABS, nr_at),
        jump(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
        statement(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | errno),
        statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    ];
    let fprog = sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: PR_SET_NO_NEW_PRIVS takes integers; seccomp reads `fprog` and the
    // program it points at, both alive for the call.
    unsafe {
        clonelab::errno::decode(arch::syscall5(
            k::__NR_prctl,
            PR_SET_NO_NEW_PRIVS as usize,
            1,
            0,
            0,
            0,
        ))?;
        clonelab::errno::decode(arch::syscall3(
            k::__NR_seccomp,
            SECCOMP_SET_MODE_FILTER as usize,
            0,
            &fprog as *const sock_fprog as usize,
        ))?;
    }
    Ok(())
}
/// The clonelab binary: cargo's, or /bin/clonelab inside the test VMs.
pub fn clonelab_binary() -> String {
    let built = env!("CARGO_BIN_EXE_clonelab");
    if std::path::Path::new(built).exists() {
        built.to_string()
    } else {
        "/bin/clonelab".to_string()
    }
}

// ---------------------------------------------------------------- the tour

/// One tour entry run as the tour runs it (`clonelab::experiments::ALL`,
/// through [`Entry::run`](clonelab::experiments::Entry)), untraced: what it
/// returned and what it printed.
pub struct Ran {
    /// The entry.
    pub entry: &'static clonelab::experiments::Entry,
    /// Its outcome: the record of calls, the checks, a reason to skip.
    pub outcome: clonelab::experiments::Outcome,
    /// What it printed (the tour's `observed` block).
    pub text: clonelab::experiments::TextBuffer,
}

/// Run every tour entry, in tour order. An entry the environment cannot run
/// (qemu-user, no privilege when not root) is reported as a skip and left
/// out; any other error fails the test, as it fails the tour.
pub fn run_every_experiment() -> Vec<Ran> {
    let mut ran = Vec::new();
    for entry in clonelab::experiments::ALL {
        let mut text = clonelab::experiments::TextBuffer::new();
        let result = (entry.run)(&mut text);
        if let Some(outcome) = observed_or_skip(result, entry.name) {
            ran.push(Ran {
                entry,
                outcome,
                text,
            });
        }
    }
    ran
}

/// Run the clonelab binary with `args`: (exit code, stdout, stderr).
pub fn clonelab(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(clonelab_binary())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running clonelab {args:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
