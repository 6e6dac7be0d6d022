//! # Flag fuzz: clonelab's rules predict the kernel's EINVAL exactly.
//!
//! proptest draws random flags words (each `CLONE_*` bit on or off, an exit
//! signal of 0, SIGCHLD or SIGURG) for clone and for clone3. For each, the
//! prediction — does the word break one of the EINVAL rules in
//! `clonelab::flags::RULES`, the same ones `clonelab explain` prints — must
//! agree with the kernel: EINVAL if and only if predicted, success otherwise.
//! Children that are created exit at once and are reaped (threads: waited out
//! of /proc/self/task; pidfds closed). 5,000 cases, as root (namespaces need it);
//! `CLONELAB_FUZZ=N` sets another count (the VMs, under slow emulation, run 500).
//! After the draw the test checks what it reached, for clone and for clone3:
//! every allowed flag bit both set and clear, every exit signal, a word the
//! kernel accepted and one it refused. Each syscall gets about half the words,
//! each bit drawn at even odds and each signal at one in three: 500 words miss
//! a given one with odds below 2^-140. A count too small to reach them all
//! fails the test instead of passing quietly.
//! proptest keeps the seed of any failure in `proptest-regressions/`.
//!
//! Left out of the draw, with reasons: CLONE_PARENT (its children would be our
//! parent's to reap, leaving zombies behind), CLONE_INTO_CGROUP (it needs a
//! cgroup descriptor; tests/into_cgroup.rs covers it), and for clone() the
//! clone3-only flags (refused before the syscall; tests/flags.rs covers that).

use crate::common;

use common::{exit_zero, TlsBlock};

use clonelab::flags::{broken_rules, CloneFlags as F, ExitSignal, FlagsWord, Syscall, ALL_FLAGS};
use clonelab::{clone, clone3, sys, CloneArgs, Errno, Error, Stack};
use linux_raw_sys::general as k;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestRunner};
use std::sync::atomic::{AtomicI32, Ordering::SeqCst};

fn allowed(syscall: Syscall) -> u64 {
    let mut excluded = F::CLONE_PARENT | F::CLONE_INTO_CGROUP;
    if syscall == Syscall::Clone {
        excluded |= F::CLONE_NEWTIME | F::CLONE_CLEAR_SIGHAND;
    }
    // A kernel without time namespaces (32-bit ARM) refuses CLONE_NEWTIME with
    // EINVAL, which no rule of the flags predicts; namespaces.rs reports the skip.
    if !common::kernel_has_time_namespaces() {
        excluded |= F::CLONE_NEWTIME;
    }
    ALL_FLAGS
        .iter()
        .map(|(_, f, _)| f.bits())
        .fold(0, |a, b| a | b)
        & !excluded.bits()
}

/// Make the call with valid pointers for every flag; clean up what it created.
fn attempt(word: FlagsWord, syscall: Syscall) -> Result<(), Errno> {
    let stack = Stack::new(common::STACK).unwrap();
    let (ptid, ctid, pidfd) = (AtomicI32::new(0), AtomicI32::new(0), AtomicI32::new(-1));
    let mut block = TlsBlock::new();
    // What CLONE_SETTLS takes on this arch (on i386 a user_desc describing the block).
    let tls_arg = clonelab::arch::TlsArgument::new(block.pointer());
    let result = match syscall {
        // SAFETY: the child runs exit_zero on its own stack and touches nothing;
        // every pointer is valid until the child is gone (waited for below).
        Syscall::Clone => unsafe {
            clone(
                word,
                stack.top(),
                ptid.as_ptr(),
                ctid.as_ptr(),
                tls_arg.value(),
                exit_zero,
                std::ptr::null_mut(),
            )
        },
        Syscall::Clone3 => {
            let (flags, exit_signal) = word.encode_clone3().unwrap();
            let mut args = CloneArgs {
                flags,
                exit_signal,
                pidfd: pidfd.as_ptr() as u64,
                parent_tid: ptid.as_ptr() as u64,
                child_tid: ctid.as_ptr() as u64,
                stack: stack.bottom() as u64,
                stack_size: stack.size() as u64,
                tls: tls_arg.value() as u64,
                ..clonelab::clone::zeroed_args()
            };
            // SAFETY: as above.
            unsafe {
                clone3(
                    &mut args,
                    size_of::<CloneArgs>(),
                    exit_zero,
                    std::ptr::null_mut(),
                )
            }
        }
    };
    let pid = match result {
        Ok(pid) => pid,
        Err(Error::Kernel { errno, .. }) => return Err(errno),
        Err(other) => panic!("{word}: refused before the syscall: {other}"),
    };
    if word.flags.contains(F::CLONE_SIGHAND) && word.flags.contains(F::CLONE_NEWPID) {
        // The child is PID 1 of its namespace; when it exits the kernel sets
        // SIGCHLD to SIG_IGN in its handler table (zap_pid_ns_processes), and
        // with CLONE_SIGHAND that table is ours. A child whose exit signal is
        // SIGCHLD is then reaped by the kernel itself (wait says ECHILD), and
        // so would be every later child of ours: check, and restore SIG_DFL.
        let waited = clonelab::wait::wait_pid(pid, k::__WALL);
        let autoreaped = waited == Err(Errno::ECHILD);
        assert_eq!(autoreaped, word.signal.is_sigchld(), "{word}: {waited:?}");
        let was = sys::signal::set_default(clonelab::Signal::SIGCHLD).unwrap();
        assert_eq!(
            was.disposition(),
            sys::signal::Disposition::Ignore,
            "{word}: expected the kernel to have set our SIGCHLD to SIG_IGN"
        );
    } else if word.flags.contains(F::CLONE_THREAD) {
        // A thread cannot be waited for: wait until its /proc entry is gone.
        let task = std::ffi::CString::new(format!("/proc/self/task/{pid}")).unwrap();
        while clonelab::probe::file_identity(&task).is_ok() {
            sys::sched_yield();
        }
    } else {
        if let Err(e) = clonelab::wait::wait_pid(pid, k::__WALL) {
            panic!(
                "{syscall:?} {word} ({:#x}): child {pid} created but not waitable: {e}",
                word.flags.bits()
            );
        }
    }
    if word.flags.contains(F::CLONE_PIDFD) {
        let fd = if syscall == Syscall::Clone {
            ptid.load(SeqCst)
        } else {
            pidfd.load(SeqCst)
        };
        // SAFETY: the kernel created this pidfd for us.
        unsafe { sys::close(fd).unwrap() };
    }
    Ok(())
}

/// The exit signals drawn: none, SIGCHLD, and one that is neither.
const SIGNALS: [u32; 3] = [0, k::SIGCHLD, k::SIGURG];

fn word_for(syscall: Syscall) -> impl Strategy<Value = (FlagsWord, Syscall)> {
    (any::<u64>(), 0..SIGNALS.len()).prop_map(move |(bits, s)| {
        let word = FlagsWord::new(
            F::from_bits_retain(bits & allowed(syscall)),
            ExitSignal::new(SIGNALS[s]).unwrap(),
        );
        (word, syscall)
    })
}

/// How many words to draw: `CLONELAB_FUZZ`, else 5,000.
fn fuzz_cases() -> u32 {
    std::env::var("CLONELAB_FUZZ")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5000)
}

/// What the drawn words reached, per syscall: each allowed flag bit set and
/// clear, each exit signal, a word the kernel accepted and one it refused.
#[derive(Default)]
struct Coverage {
    set: u64,
    clear: u64,
    signals: Vec<u32>,
    accepted: bool,
    refused: bool,
}

impl Coverage {
    fn record(&mut self, word: FlagsWord, accepted: bool) {
        self.set |= word.flags.bits();
        self.clear |= !word.flags.bits();
        if !self.signals.contains(&word.signal.number()) {
            self.signals.push(word.signal.number());
        }
        self.accepted |= accepted;
        self.refused |= !accepted;
    }

    /// What a run of the fuzz must have reached, or what it missed.
    fn missed(&self, syscall: Syscall) -> Vec<String> {
        let mut missed = Vec::new();
        for (name, flag, _) in ALL_FLAGS {
            let bit = flag.bits();
            if allowed(syscall) & bit != 0 {
                if self.set & bit == 0 {
                    missed.push(format!("{syscall:?}: {name} never set"));
                }
                if self.clear & bit == 0 {
                    missed.push(format!("{syscall:?}: {name} never clear"));
                }
            }
        }
        for signal in SIGNALS {
            if !self.signals.contains(&signal) {
                missed.push(format!("{syscall:?}: exit signal {signal} never drawn"));
            }
        }
        if !self.accepted {
            missed.push(format!("{syscall:?}: no word the kernel accepted"));
        }
        if !self.refused {
            missed.push(format!("{syscall:?}: no word the kernel refused"));
        }
        missed
    }
}

/// The kernel answers EINVAL exactly when clonelab's rules predict it; and the
/// words drawn reached every allowed flag bit, set and clear, and every exit
/// signal, each for clone and clone3 (a check that fails if the count is too
/// small to show it).
#[test]
fn rules_predict_the_kernel() {
    if sys::geteuid() != 0 || common::under_qemu_user() {
        return common::skip(if common::under_qemu_user() {
            "qemu-user rejects most clone flags: the fuzz would only measure qemu"
        } else {
            "the flag fuzz needs root: namespaces are part of the draw"
        });
    }
    let mut syscalls = vec![Syscall::Clone];
    if clonelab::clone3_available() {
        syscalls.push(Syscall::Clone3);
    } else {
        common::skip("clone3 is not available here (ENOSYS): clone only");
    }
    let coverage: Vec<std::sync::Mutex<Coverage>> =
        syscalls.iter().map(|_| Default::default()).collect();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: fuzz_cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/flag_fuzz.txt",
        ))),
        ..ProptestConfig::default()
    });
    let words = prop_oneof![word_for(Syscall::Clone), word_for(Syscall::Clone3)];
    let result = runner.run(&words, |(word, syscall)| {
        let Some(index) = syscalls.iter().position(|&s| s == syscall) else {
            return Ok(()); // clone3 where it is not available
        };
        let predicted: Vec<_> = broken_rules(word, syscall, clonelab::probe::kernel_version())
            .filter(|r| r.errno == Errno::EINVAL)
            .map(|r| r.text)
            .collect();
        let got = attempt(word, syscall);
        coverage[index].lock().unwrap().record(word, got.is_ok());
        if predicted.is_empty() {
            prop_assert_eq!(
                got,
                Ok(()),
                "{:?} {} ({:#x}): no rule predicts a refusal",
                syscall,
                word,
                word.flags.bits()
            );
        } else {
            prop_assert_eq!(
                got,
                Err(Errno::EINVAL),
                "{:?} {}: predicted EINVAL because {:?}",
                syscall,
                word,
                predicted
            );
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let missed: Vec<String> = syscalls
        .iter()
        .zip(&coverage)
        .flat_map(|(&syscall, c)| c.lock().unwrap().missed(syscall))
        .collect();
    assert!(
        missed.is_empty(),
        "{} words did not reach: {missed:#?}",
        fuzz_cases()
    );
}
