//! Running `clonelab trace` on the subject (or a host program) with a time
//! limit, and reading what it wrote: the `--json` records, CMD's stdout and
//! stderr, and the subject's own report of its calls.
//!
//! Part of `tests/trace_cmd/`; every test module uses it. Uses serde_json,
//! libc (to pin the run to one CPU), clonelab, and std.

use super::common::clonelab_binary;
use super::subject::SUBJECT;
use serde_json::Value;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of `clonelab trace` left: exit code, CMD's output, records.
pub struct Traced {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The `--json` objects, one per line of the output file.
    pub records: Vec<Value>,
}

impl Traced {
    pub fn calls(&self) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|r| r["event"] == "clone")
            .collect()
    }

    /// The subject's `KEY v1 v2 ...` line, split.
    pub fn said(&self, key: &str) -> Vec<String> {
        let line = self
            .stdout
            .lines()
            .find(|l| l.split(' ').next() == Some(key))
            .unwrap_or_else(|| panic!("the subject printed no {key:?} line:\n{}", self.stdout));
        line.split(' ').skip(1).map(str::to_string).collect()
    }
}

/// Run `clonelab trace --json --output F -- CMD` with the subject mode in the
/// environment, failing the test if it takes longer than `limit`.
pub fn trace_json(cmd: &[&str], mode: &str, limit: Duration) -> Traced {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!("clonelab-trace-{}-{n}.json", std::process::id()));
    let mut command = Command::new(clonelab_binary());
    command
        .args(["trace", "--json", "--output"])
        .arg(&file)
        .arg("--")
        .args(cmd)
        .env(SUBJECT, mode);
    // One CPU for clonelab and its tracees: every ptrace stop hands control
    // between tracer and tracee, which is far cheaper on one CPU (the
    // 1,000-thread run took 0.9 s pinned against 3.2-3.6 s unpinned on the
    // 2-core build machine, and the gap is wider under TCG). What is traced
    // does not depend on it.
    // SAFETY: sched_getcpu and sched_setaffinity are async-signal-safe and
    // touch only the set, a local of the child.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(libc::sched_getcpu().max(0) as usize, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
            Ok(())
        });
    }
    let (code, stdout, stderr) = run_with_limit(command, limit);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    let records = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect();
    Traced {
        code,
        stdout,
        stderr,
        records,
    }
}

/// Run `command` to its end, panicking if it takes longer than `limit`: (code, stdout, stderr).
pub fn run_with_limit(mut command: Command, limit: Duration) -> (Option<i32>, String, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("clonelab runs");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} still running after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.code(),
        reader.join().unwrap(),
        err_reader.join().unwrap(),
    )
}

/// This test binary, which is also the subject.
pub fn subject_path() -> String {
    std::env::current_exe()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// A JSON number as the u64 of its bits (negative results included).
pub fn u64_of(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_i64().map(|i| i as u64))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The value of the `CLONE_*` flag called `name`.
pub fn flag(name: &str) -> u64 {
    clonelab::flags::ALL_FLAGS
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap()
        .1
        .bits()
}

/// Argument `name` (`stack`, `tls`, `child_tid`, ...) of a traced call: from
/// `clone_args` for clone3, from its register (in this arch's order) for clone.
pub fn clone_arg(call: &Value, name: &str) -> u64 {
    if call["syscall"] == "clone3" {
        return u64_of(&call["clone_args"][name]);
    }
    let i = clonelab::arch::CLONE_ARG_ORDER
        .iter()
        .position(|n| *n == name)
        .unwrap();
    u64_of(&call["registers"][i + 1]["value"])
}

/// How long one traced run may take before the test calls it hung.
pub const LIMIT: Duration = Duration::from_secs(300);
