//! # The exit signal byte: SIGCHLD, another signal, or none.
//!
//! Chapter: `docs/exit_signal.md`. Experiment: `clonelab::experiments::exit_signal`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.

use crate::common;

use clonelab::experiments::exit_signal::observe;

/// Only SIGCHLD children are visible to plain waits; the rest need __WCLONE.
#[test]
fn exit_signal_decides_who_can_wait() {
    let o = observed!(
        observe,
        "a fork-like clone whose exit signal is not SIGCHLD"
    );
    let [sigchld, sigurg, none] = &o.cases;
    assert_eq!(
        (sigchld.plain_wait_sees_it, sigchld.wclone_wait_sees_it),
        (true, false)
    );
    assert_eq!(
        (sigurg.plain_wait_sees_it, sigurg.wclone_wait_sees_it),
        (false, true)
    );
    assert_eq!(
        (none.plain_wait_sees_it, none.wclone_wait_sees_it),
        (false, true)
    );
    assert_eq!([sigchld.word, sigurg.word, none.word], [0x11, 0x17, 0]);
    assert_eq!([sigchld.code, sigurg.code, none.code], [1, 2, 3]);
}
