//! The per-flag cost ledger: create+reap of a child made with one clone flag
//! (and the least it needs beside it) that exits at once, against the same
//! child made without it, measured in the same interleaved rounds.
//!
//! Every child here is made by one primitive, so that the flag is the only
//! difference inside a pair: clonelab's raw `clone` (or `clone3` for the
//! flags only it carries), the same 64 KiB [`Stack`] reused by every
//! operation of a path, the same entry function (it returns 0), and
//! `wait4(pid)` to reap. A pair is a path and its *baseline*, written to the
//! records as `M baseline <path> <baseline>` so that `cargo xtask bench
//! --costs` computes exactly the ratios the bench meant:
//!
//! - most flags against `SIGCHLD only` (a fork-like child, clone);
//! - `CLONE_VM|CLONE_SIGHAND` and `CLONE_VM|CLONE_CHILD_CLEARTID` against
//!   `CLONE_VM` (SIGHAND requires VM; CHILD_CLEARTID only writes and wakes
//!   when the child's memory is shared, see `docs/costs.md`);
//! - `CLONE_VM|CLONE_VFORK` against `CLONE_VM` (the wait for the child's
//!   exit is what VFORK adds);
//! - `CLONE_NEWTIME`, `CLONE_CLEAR_SIGHAND` and `CLONE_INTO_CGROUP` against
//!   `SIGCHLD only (clone3)` (clone() cannot carry them).
//!
//! A path whose flag the host refuses (no privilege, no cgroup v2, no clone3)
//! is left out with an `M skip <path> <reason>` record and a printed line.
//! CLONE_NEWNET gets a set of its own (the kernel tears a network namespace
//! down later, in a workqueue, and that work would land on whichever path ran
//! next), and a second set makes 1,000 children in a row, so the backlog of
//! that teardown shows.
//!
//! Part of `benches/clone/`; `main.rs` measures [`ledger`], [`network`] and
//! [`sustained`]. Uses clonelab's raw `clone`/`clone3`, `sys`, `Stack`,
//! the experiments' cgroup v2 lookup, and std.

use super::harness::{meta, path, Growth, Path};
use clonelab::clone::{clone, clone3, zeroed_args, CloneArgs};
use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord};
use clonelab::{sys, Stack};
use linux_raw_sys::general as k;
use std::ffi::c_void;
use std::io::Write;

/// The group of every ledger path in the records.
const GROUP: &str = "flag cost";
/// The fork-like baseline made with clone, and with clone3.
pub const PLAIN: &str = "SIGCHLD only";
pub const PLAIN3: &str = "SIGCHLD only (clone3)";

/// The child of every ledger path: it touches nothing and exits 0.
unsafe extern "C" fn exit_at_once(_: *mut c_void) -> i32 {
    0
}

/// What one ledger path passes to the kernel besides its flags.
#[derive(Clone, Copy, Default)]
struct Extras {
    /// clone3 instead of clone.
    clone3: bool,
    /// The address of a TLS block (CLONE_SETTLS).
    tls: bool,
    /// A cgroup v2 directory to start in (CLONE_INTO_CGROUP).
    cgroup: bool,
}

/// A cgroup v2 directory made for CLONE_INTO_CGROUP, removed when dropped
/// (after the last child in it has been reaped).
struct Cgroup {
    dir: String,
    fd: sys::OwnedFd,
}

impl Cgroup {
    fn create() -> Result<Cgroup, String> {
        let own = clonelab::experiments::own_cgroup_dir()
            .ok_or("no cgroup v2 hierarchy (or this process is not in it)")?;
        let dir = format!(
            "{}/clonelab-costs-{}",
            String::from_utf8_lossy(own.as_bytes()),
            std::process::id()
        );
        std::fs::create_dir(&dir).map_err(|e| format!("mkdir {dir}: {e}"))?;
        let c_dir = std::ffi::CString::new(dir.clone()).expect("no NUL");
        match sys::open(&c_dir, k::O_RDONLY | k::O_DIRECTORY | k::O_CLOEXEC, 0) {
            Ok(fd) => Ok(Cgroup { dir, fd }),
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(format!("open {dir}: {e}"))
            }
        }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            eprintln!("costs: rmdir {}: {e} (a cgroup left behind)", self.dir);
        }
    }
}

/// One create+reap through the raw call: make the child, reap it, check it
/// exited 0, close the pidfd if the flag made one. An error (the host
/// refuses the flag) is returned, not asserted, so the first call can probe.
fn create_and_reap(
    flags: F,
    extras: Extras,
    stack: &Stack,
    tls_block: &mut [u64; 64],
    cgroup: Option<&Cgroup>,
    tid_words: &mut [i32; 2],
) -> Result<(), String> {
    let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
    let tls = if extras.tls {
        tls_block.as_mut_ptr() as usize
    } else {
        0
    };
    let [parent_word, child_word] = tid_words;
    let made = if extras.clone3 {
        let (flags3, exit_signal) = word.encode_clone3().map_err(|e| e.to_string())?;
        let mut args = CloneArgs {
            flags: flags3,
            exit_signal,
            stack: stack.bottom() as u64,
            stack_size: stack.size() as u64,
            tls: tls as u64,
            cgroup: cgroup.map_or(0, |c| c.fd.as_raw() as u64),
            pidfd: parent_word as *mut i32 as u64,
            parent_tid: parent_word as *mut i32 as u64,
            child_tid: child_word as *mut i32 as u64,
            ..zeroed_args()
        };
        // SAFETY: the pointers in args are this frame's tid words and TLS
        // block and the path's stack, all alive until the child is reaped
        // below; the child runs exit_at_once, which touches nothing.
        unsafe {
            clone3(
                &mut args,
                size_of::<CloneArgs>(),
                exit_at_once,
                std::ptr::null_mut(),
            )
        }
    } else {
        // SAFETY: as above: the tid words, the TLS block and the stack outlive
        // the child, which runs exit_at_once and is reaped before we return
        // (a CLONE_VM child that cannot be reaped aborts the process).
        unsafe {
            clone(
                word,
                stack.top(),
                parent_word,
                child_word,
                tls,
                exit_at_once,
                std::ptr::null_mut(),
            )
        }
    };
    let pid = made.map_err(|e| e.to_string())?;
    if flags.contains(F::CLONE_PIDFD) {
        // SAFETY: the kernel stored a new pidfd in the parent word; it is ours.
        let _ = unsafe { sys::close(*parent_word) };
    }
    let reaped = loop {
        match sys::wait4(pid, 0) {
            Err(e) if e == clonelab::Errno::EINTR => continue,
            Err(e) if flags.contains(F::CLONE_VM) => {
                // The child may still run on `stack`, which the caller would
                // unmap when the error unwinds: stop here instead.
                eprintln!("costs: wait4({pid}) of a CLONE_VM child failed: {e}");
                std::process::abort();
            }
            other => break other.map_err(|e| format!("wait4: {e}"))?,
        }
    };
    if reaped != (pid, 0) {
        return Err(format!("child {pid}: wait4 gave {reaped:?}"));
    }
    Ok(())
}

/// A ledger path making children with `flags`, or why the host refuses it.
fn ledger_path(name: &'static str, flags: F, extras: Extras) -> Result<Path<'static>, String> {
    let stack = Stack::new(64 * 1024).map_err(|e| e.to_string())?;
    let mut tls_block = Box::new([0u64; 64]);
    let mut tid_words = Box::new([0i32; 2]);
    let cgroup = if extras.cgroup {
        Some(Cgroup::create()?)
    } else {
        None
    };
    let mut once = move || {
        create_and_reap(
            flags,
            extras,
            &stack,
            &mut tls_block,
            cgroup.as_ref(),
            &mut tid_words,
        )
    };
    once()?; // the probe: does this host allow the flag?
    Ok(path(GROUP, name, Growth::No, move || once().unwrap()))
}

/// Add the path and its `baseline` record, or a skip record and line.
fn push(
    paths: &mut Vec<Path<'static>>,
    out: &mut dyn Write,
    made: Result<Path<'static>, String>,
    name: &str,
    baseline: Option<&str>,
) -> std::io::Result<()> {
    match made {
        Ok(p) => {
            if let Some(b) = baseline {
                meta(out, &format!("baseline {name}"), b)?;
            }
            paths.push(p);
        }
        Err(reason) => {
            meta(out, &format!("skip {name}"), &reason)?;
            println!("bench: skipped: costs: {name}: {reason}");
        }
    }
    Ok(())
}

/// Every flag of the tour that makes a child this process can reap, but
/// CLONE_NEWNET (a set of its own), each with its baseline. CLONE_PARENT
/// and CLONE_THREAD are not among them: their child is not ours to
/// `wait4` (see `docs/costs.md`).
pub fn ledger(out: &mut dyn Write) -> std::io::Result<Vec<Path<'static>>> {
    let plain = Extras::default();
    let v3 = Extras {
        clone3: true,
        ..plain
    };
    let vm = F::CLONE_VM;
    let rows: [(&'static str, F, Extras, Option<&str>); 22] = [
        (PLAIN, F::EMPTY, plain, None),
        ("CLONE_VM", vm, plain, Some(PLAIN)),
        ("CLONE_FS", F::CLONE_FS, plain, Some(PLAIN)),
        ("CLONE_FILES", F::CLONE_FILES, plain, Some(PLAIN)),
        (
            "CLONE_VM|CLONE_SIGHAND",
            vm | F::CLONE_SIGHAND,
            plain,
            Some("CLONE_VM"),
        ),
        (
            "CLONE_VM|CLONE_VFORK",
            vm | F::CLONE_VFORK,
            plain,
            Some("CLONE_VM"),
        ),
        (
            "CLONE_CLEAR_SIGHAND",
            F::CLONE_CLEAR_SIGHAND,
            v3,
            Some(PLAIN3),
        ),
        ("CLONE_SYSVSEM", F::CLONE_SYSVSEM, plain, Some(PLAIN)),
        ("CLONE_PIDFD", F::CLONE_PIDFD, plain, Some(PLAIN)),
        (
            "CLONE_SETTLS",
            F::CLONE_SETTLS,
            Extras { tls: true, ..plain },
            Some(PLAIN),
        ),
        (
            "CLONE_PARENT_SETTID",
            F::CLONE_PARENT_SETTID,
            plain,
            Some(PLAIN),
        ),
        (
            "CLONE_CHILD_SETTID",
            F::CLONE_CHILD_SETTID,
            plain,
            Some(PLAIN),
        ),
        (
            "CLONE_CHILD_CLEARTID",
            F::CLONE_CHILD_CLEARTID,
            plain,
            Some(PLAIN),
        ),
        (
            "CLONE_VM|CLONE_CHILD_CLEARTID",
            vm | F::CLONE_CHILD_CLEARTID,
            plain,
            Some("CLONE_VM"),
        ),
        ("CLONE_NEWNS", F::CLONE_NEWNS, plain, Some(PLAIN)),
        ("CLONE_NEWUTS", F::CLONE_NEWUTS, plain, Some(PLAIN)),
        ("CLONE_NEWIPC", F::CLONE_NEWIPC, plain, Some(PLAIN)),
        ("CLONE_NEWPID", F::CLONE_NEWPID, plain, Some(PLAIN)),
        ("CLONE_NEWUSER", F::CLONE_NEWUSER, plain, Some(PLAIN)),
        ("CLONE_NEWCGROUP", F::CLONE_NEWCGROUP, plain, Some(PLAIN)),
        ("CLONE_NEWTIME", F::CLONE_NEWTIME, v3, Some(PLAIN3)),
        (
            "CLONE_INTO_CGROUP",
            F::CLONE_INTO_CGROUP,
            Extras { cgroup: true, ..v3 },
            Some(PLAIN3),
        ),
    ];
    // What CLONE_NEWNS copies: every mount this process sees.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").map_or(0, |m| m.lines().count());
    writeln!(out, "M\tmounts\t{mounts}")?;
    let mut paths = Vec::new();
    push(
        &mut paths,
        out,
        ledger_path(PLAIN3, F::EMPTY, v3),
        PLAIN3,
        None,
    )?;
    for (name, flags, extras, baseline) in rows {
        push(
            &mut paths,
            out,
            ledger_path(name, flags, extras),
            name,
            baseline,
        )?;
    }
    Ok(paths)
}

/// CLONE_NEWNET and its baseline, for a set of their own (see the module docs).
pub fn network(out: &mut dyn Write) -> std::io::Result<Vec<Path<'static>>> {
    let mut paths = Vec::new();
    let plain = Extras::default();
    push(
        &mut paths,
        out,
        ledger_path(PLAIN, F::EMPTY, plain),
        PLAIN,
        None,
    )?;
    push(
        &mut paths,
        out,
        ledger_path("CLONE_NEWNET", F::CLONE_NEWNET, plain),
        "CLONE_NEWNET",
        Some(PLAIN),
    )?;
    Ok(paths)
}

/// The namespaces the kernel frees later than the reap (network, and IPC,
/// whose namespace is freed from a work item too), with the baseline: run
/// in batches of many children in a row, so the teardown backlog shows.
pub fn sustained(out: &mut dyn Write) -> std::io::Result<Vec<Path<'static>>> {
    let mut paths = network(out)?;
    push(
        &mut paths,
        out,
        ledger_path("CLONE_NEWIPC", F::CLONE_NEWIPC, Extras::default()),
        "CLONE_NEWIPC",
        Some(PLAIN),
    )?;
    Ok(paths)
}
