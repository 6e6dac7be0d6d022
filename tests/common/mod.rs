//! Helpers shared by every test binary: skipping visibly, reading /proc,
//! and the one child stack size the tests use.
//!
//! A skip is written straight to file descriptor 2 with a raw `write`, so
//! libtest's output capture cannot hide it, in the form
//! `skipped: <test name>: <reason>`; `cargo xtask test` counts these lines.
#![allow(dead_code)] // each test binary uses a different subset

use clonelab::{Errno, Error};

/// Stack size for test children: small, so an overflow test overflows quickly.
pub const STACK: usize = 64 * 1024;

/// The running test's name (libtest names each test's thread after it).
pub fn test_name() -> String {
    std::thread::current().name().unwrap_or("?").to_string()
}

/// Report a skip where no capture can swallow it.
pub fn skip(reason: &str) {
    let line = format!("skipped: {}: {reason}\n", test_name());
    let _ = clonelab::sys::write(2, line.as_bytes());
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
        .find_map(|line| {
            let range = line.split_whitespace().next()?;
            let (lo, hi) = range.split_once('-')?;
            let (lo, hi) = (
                usize::from_str_radix(lo, 16).ok()?,
                usize::from_str_radix(hi, 16).ok()?,
            );
            (lo <= addr && addr < hi).then(|| line.to_string())
        })
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

/// Run an experiment under clonelab's ptrace observer and check the ABI: the
/// clone call the experiment reports (`call_of`) must be one the tracer saw,
/// with every register (and, for clone3, every `clone_args` field) holding
/// what [`clonelab::RegisterImage::of`] predicts. Prints both images; on a
/// mismatch fails with a table of expected against observed values.
pub fn observe_traced<T: Copy>(
    observe: fn() -> Result<T, Error>,
    call_of: fn(&T) -> clonelab::CloneCall,
    what: &str,
) -> Option<T> {
    use clonelab::RegisterImage;
    if under_qemu_user() {
        let observed = observed_or_skip(observe(), what)?;
        skip("qemu-user cannot ptrace: the register image was not observed");
        return Some(observed);
    }
    let (result, trace) =
        clonelab::trace::trace(observe).unwrap_or_else(|e| panic!("tracing {what}: {e}"));
    let observed = observed_or_skip(result, what)?;
    let expected = RegisterImage::of(&call_of(&observed));
    println!(
        "expected register image ({}):\n{expected}",
        clonelab::arch::NAME
    );
    let stops: Vec<_> = trace.clones().collect();
    assert!(!stops.is_empty(), "{what}: the tracer saw no clone call");
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
    match stops
        .iter()
        .find(|s| expected.matches(&RegisterImage::observed(s)))
    {
        Some(stop) => {
            println!(
                "observed by ptrace (returned {:?}):\n{}",
                stop.result,
                RegisterImage::observed(stop)
            );
            // In the parent the call returns the child's tid, or -errno; 0 is the child's value only.
            assert!(
                matches!(stop.result, Some(r) if r > 0 || (-4095..0).contains(&r)),
                "{what}: clone returned {:?} in the parent",
                stop.result
            );
        }
        None => {
            let number = expected.registers()[0].value;
            let closest = stops.iter().find(|s| s.nr == number).unwrap_or(&stops[0]);
            panic!(
                "{what}: no traced clone call has the expected registers ({} calls traced). Closest:\n{}",
                stops.len(),
                expected.diff(&RegisterImage::observed(closest))
            );
        }
    }
    Some(observed)
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
