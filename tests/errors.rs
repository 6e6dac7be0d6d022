//! # The kernel's errors, reproduced.
//!
//! Chapter: `docs/errors.md`. Experiment: `clonelab::experiments::errors`.
//!
//! One call per documented refusal; for example the first,
//! `clone(CLONE_SIGHAND | SIGCHLD)` = `0x811`: rax/x8 = 56/220, rdi/x0 = 0x811,
//! rsi/x1 = stack top. Every EINVAL rule of `clonelab::flags::RULES` is tried on
//! the syscall that enforces it; plus EINVAL (clone3 size 32), E2BIG (clone3
//! size 4096 with a non-zero tail), EEXIST (set_tid = a live pid), and, as
//! root, EPERM (CLONE_NEWNET after dropping to uid 65534) and EAGAIN
//! (RLIMIT_NPROC = 0); ENOSPC for PID and user namespaces nested past 32
//! levels (each level a child of the one before; EUSERS for user namespaces
//! was Linux 3.11-4.8 only). Asserted: each errno is the documented one, and the
//! EINVAL errors carry the rule they broke.

mod common;

use clonelab::experiments::errors::{self, observe};
use clonelab::flags::RULES;

/// Every refusal comes with the errno clone(2) documents.
#[test]
fn every_documented_refusal_is_reproduced() {
    let Some(o) = common::observe_traced(observe, |o| o.call, "clone3 and CLONE_VM") else {
        return;
    };
    println!("{o}");
    for case in o.cases() {
        assert_eq!(case.got, Err(case.expected), "{}", case.what);
    }
    // Every EINVAL rule that applies on this kernel was reproduced.
    let applicable: Vec<_> = RULES
        .iter()
        .filter(|r| r.errno == clonelab::Errno::EINVAL)
        .filter(|r| errors::example(r.text).is_some_and(|(w, s)| !errors::needs_privilege(w, s)))
        .collect();
    for rule in &applicable {
        assert!(
            o.cases().any(|c| c.what == rule.text),
            "no reproduction of: {}",
            rule.text
        );
    }
    if clonelab::sys::geteuid() == 0 {
        assert_eq!(o.cases().count(), applicable.len() + 7);
    } else {
        common::skip("EPERM and EAGAIN need root to drop privileges from");
    }
}
