//! # The kernel's errors, reproduced.
//!
//! Chapter: `docs/errors.md`. Experiment: `clonelab::experiments::errors`.
//! The calls it makes (flags, both arches' registers) are rendered in the chapter
//! from its record; `common::observe_traced` checks each against ptrace.

use crate::common;

use clonelab::experiments::errors::{self, observe};
use clonelab::flags::{Syscall, RULES};

/// Every refusal comes with the errno clone(2) documents.
#[test]
fn every_documented_refusal_is_reproduced() {
    let o = observed!(observe, "clone3 and CLONE_VM");
    for case in o.cases() {
        assert_eq!(case.got, Err(case.expected), "{}", case.what);
    }
    // Every example of every EINVAL rule that applies on this kernel was
    // reproduced: both halves of a two-flag rule, each through the syscall
    // that can show it.
    let applicable: Vec<_> = RULES
        .iter()
        .filter(|r| r.errno == clonelab::Errno::EINVAL)
        .flat_map(|r| {
            errors::examples(r.text)
                .into_iter()
                .flatten()
                .map(move |e| (r, e))
        })
        .filter(|(_, (w, s))| !errors::needs_privilege(*w, *s))
        .collect();
    for (rule, (word, syscall)) in &applicable {
        assert!(
            o.calls.iter().any(|m| m.label.as_str() == rule.text
                && m.call.word == *word
                && m.call.syscall == Some(*syscall)),
            "no reproduction of {word} via {syscall:?}: {}",
            rule.text
        );
    }
    // CLONE_PIDFD | CLONE_DETACHED goes through clone(): clone3 would refuse
    // CLONE_DETACHED alone, before the rule could show.
    let detached = o
        .calls
        .iter()
        .find(|m| {
            m.label
                .as_str()
                .starts_with("CLONE_PIDFD cannot be combined with CLONE_DETACHED")
        })
        .expect("the PIDFD|DETACHED case ran");
    assert_eq!(detached.call.syscall, Some(Syscall::Clone));
    assert_eq!(detached.errno(), Some(clonelab::Errno::EINVAL));
    if clonelab::sys::geteuid() == 0 {
        assert_eq!(o.cases().count(), applicable.len() + 7);
    } else {
        common::skip("EPERM and EAGAIN need root to drop privileges from");
    }
}
