//! # The kernel's errors, reproduced.
//!
//! Chapter: `docs/errors.md`. Experiment: `clonelab::experiments::errors`.
//! The calls it makes (flags, registers on all six arches) are rendered in the chapter
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
        assert_eq!(o.cases().count(), applicable.len() + 9);
    } else {
        common::skip("EPERM and EAGAIN need root to drop privileges from");
    }
}

/// The nesting limits are stated as observed: the case, the call labels and
/// the explanation are rendered from the levels recorded (the deepest made,
/// the first refused), no fixed "32 levels" claims them, and user namespaces
/// reach one level deeper than PID namespaces (create_user_ns tests the
/// parent's level, create_pid_namespace the new namespace's).
#[test]
fn nesting_limits_are_rendered_from_the_levels_observed() {
    if clonelab::sys::geteuid() != 0 {
        common::skip("nesting namespaces needs root");
        return;
    }
    let o = observed!(observe, "nested PID and user namespaces");
    let pid = o.pid_nesting.expect("PID namespaces were nested");
    let user = o.user_nesting.expect("user namespaces were nested");
    let mut rendered = o.to_string();
    for case in o.cases() {
        rendered += &format!("{}\n", case.what);
    }
    for made in o.calls.iter() {
        rendered += &format!("{}\n", made.label);
    }
    for limit in [pid, user] {
        assert_eq!(limit.errno, Err(clonelab::Errno::ENOSPC), "{limit}");
        assert_eq!(limit.refused, limit.deepest + 1, "{limit}");
        let said = format!(
            "{} namespaces nested: level {} made, level {} refused",
            limit.kind(),
            limit.deepest,
            limit.refused
        );
        assert!(
            rendered.contains(&said),
            "not said: {said:?} in\n{rendered}"
        );
        let refused_call = format!(
            "level {}: past the limit, made by level {}",
            limit.refused, limit.deepest
        );
        assert!(rendered.contains(&refused_call), "no call {refused_call:?}");
    }
    assert!(
        rendered.contains(&format!(
            "so a parent at level {} still made level {}",
            user.deepest - 1,
            user.deepest
        )),
        "the off-by-one of user namespaces is not explained:\n{rendered}"
    );
    for fixed in ["32 levels", "deeper than 32", "past 32"] {
        assert!(
            !rendered.contains(fixed),
            "a fixed {fixed:?} claims the limit:\n{rendered}"
        );
    }
    assert_eq!(
        user.deepest,
        pid.deepest + 1,
        "user namespaces nest one level deeper than PID namespaces"
    );
}
