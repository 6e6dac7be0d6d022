//! The tour registry: one [`Entry`] per experiment, in tour order ([`ALL`]).
//!
//! One name per experiment, true by construction: the `entry!` macro derives
//! an entry's name, its chapter and its module from the module path it is
//! given. A module's main entry is named as the module (`clone_vm`), further
//! cases `<module>.<case>` (`newns.propagation`); the module's test is
//! `tests/<module>.rs` and its chapter `docs/<module>.md`.
//!
//! Where it sits: above the experiment modules; the `clonelab` binary (`tour`,
//! `run NAME`, `list`, `chapter-calls`) reads [`ALL`].
//!
//! What it may use: the experiment modules and the record types; `no_std`.

use super::record::{self, Calls, Recorded};
use super::*;
use crate::error::Error;
use core::fmt;

/// A tour entry: everything the tour needs to run and present one experiment.
/// What it prints about calls is rendered from the [`Calls`] the run returns.
/// Its names all come from one module path (see the `entry!` macro).
pub struct Entry {
    /// The name `clonelab run NAME` takes: the module's (`clone_vm`), or
    /// `<module>.<case>` for a further case (`newns.propagation`).
    pub name: &'static str,
    /// The experiment module under `src/experiments/`; its test is
    /// `tests/<module>.rs` and its chapter `docs/<module>.md`.
    pub module: &'static str,
    /// The question the experiment answers.
    pub question: &'static str,
    /// The docs chapter: `docs/<module>.md`.
    pub chapter: &'static str,
    /// Run it: write the observation to `out`, return what happened.
    pub run: fn(out: &mut dyn fmt::Write) -> Result<Outcome, Error>,
}

/// What one run of an experiment produced (plain data).
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// The claim held.
    pub holds: bool,
    /// Every call made.
    pub calls: Calls,
    /// Why it could not run here, if so.
    pub skipped: Option<record::Label>,
    /// Every observation, with the evidence it rests on.
    pub checks: record::Checks,
}

/// `entry!(module, question)`: the module's main experiment, `module::observe`,
/// named `module`. `entry!(module.case, question)`: a further case,
/// `module::case`, named `module.case`. Name, module and chapter are derived
/// from the path given; none is typed separately.
macro_rules! entry {
    ($module:ident, $question:literal) => {
        entry!(@make $module, stringify!($module), $module::observe, $question)
    };
    ($module:ident . $case:ident, $question:literal) => {
        entry!(
            @make $module,
            concat!(stringify!($module), ".", stringify!($case)),
            $module::$case,
            $question
        )
    };
    (@make $module:ident, $name:expr, $observe:path, $question:literal) => {
        Entry {
            name: $name,
            module: stringify!($module),
            question: $question,
            chapter: concat!("docs/", stringify!($module), ".md"),
            run: |out| {
                let observed = $observe()?;
                let _ = write!(out, "{observed}");
                Ok(Outcome {
                    holds: observed.holds(),
                    calls: *observed.calls(),
                    skipped: observed.skipped(),
                    checks: observed.checks(),
                })
            },
        }
    };
}

/// Every experiment, in tour order.
pub static ALL: &[Entry] = &[
    entry!(clone_vm, "Does the parent see what a CLONE_VM child writes?"),
    entry!(clone_fs, "What does CLONE_FS share? (cwd, root and umask - not mounts)"),
    entry!(newpid, "Who is the child in a new PID namespace, and what does /proc say?"),
    entry!(files, "Which file state does a child share: paths through CLONE_FS, descriptors through CLONE_FILES?"),
    entry!(newnet, "What is in a new network namespace?"),
    entry!(newns, "Does a mount made in a new mount namespace show in the parent?"),
    entry!(newns.propagation, "When does a mount made in a child's new mount namespace reach the parent's?"),
    entry!(namespaces.uts, "Can a child rename its host without renaming the parent's?"),
    entry!(namespaces.ipc, "Does CLONE_NEWIPC give the child another IPC namespace?"),
    entry!(namespaces.cgroup, "Where in the cgroup tree does a child in a new cgroup namespace think it is?"),
    entry!(namespaces.time, "How is CLONE_NEWTIME (0x80) passed, when 0x80 is inside clone()'s signal byte?"),
    entry!(newuser, "What is a child in a new user namespace before and after its uid map is written?"),
    entry!(signals, "Who shares signal handlers (CLONE_SIGHAND), and what does CLONE_CLEAR_SIGHAND reset?"),
    entry!(relatives, "Whose child is a CLONE_PARENT child?"),
    entry!(tids, "When and where do PARENT_SETTID, CHILD_SETTID and CHILD_CLEARTID write?"),
    entry!(exit_signal, "What does the exit signal byte decide: SIGCHLD, another signal, or none?"),
    entry!(pidfd, "What does CLONE_PIDFD hand back?"),
    entry!(settls, "What does CLONE_SETTLS set, and where does the tls argument go?"),
    entry!(sysvsem, "What does CLONE_SYSVSEM share, and when are SEM_UNDO adjustments undone?"),
    entry!(into_cgroup, "Can a child be born inside a chosen cgroup?"),
    entry!(into_cgroup.ebusy, "When does the kernel refuse CLONE_INTO_CGROUP with EBUSY?"),
    entry!(errors, "Does the kernel refuse what clone(2) says it refuses, with the errno it says?"),
    entry!(fork_vfork_thread, "What do fork, vfork, clone(CLONE_VM) and a thread share, per the kernel?"),
];

// SAFETY: a bool, Calls, an Option<Label> and Checks, all Plain.
unsafe impl crate::plain::Plain for Outcome {}
