//! # What the safe API must refuse to compile (tests/ui/, one file a case).
//!
//! | case | why it must not compile |
//! |------|-------------------------|
//! | `trace_returns_a_reference` | a reference into the traced child's memory would dangle in the parent (`T: Plain`) |
//! | `exit_needs_unsafe` | ending a thread abandons its frames and what they lent out |
//! | `handler_needs_unsafe` | a handler interrupts arbitrary code: it must be async-signal-safe |
//! | `scoped_spawn_needs_unsafe` | a CLONE_VM child has no TLS: the caller must promise it needs none |
//! | `scoped_borrow_must_outlive_scope` | a scoped child outlives nothing it borrows |
//! | `thread_child_needs_send` | a memory-sharing child is another thread: its captures must be Send |
//!
//! trybuild compiles each case with cargo and compares the errors with the
//! `.stderr` file beside it. It needs cargo and rustc, so inside the test VMs
//! (which have neither, and whose builds leave trybuild out: `clonelab_vm`) it
//! reports a skip.

use crate::common;

/// Every case in tests/ui fails to compile with the recorded error.
#[cfg(not(clonelab_vm))]
#[test]
fn unsound_uses_do_not_compile() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let has_cargo = std::process::Command::new(&cargo)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !has_cargo {
        common::skip("no cargo here to compile the compile-fail cases (host only)");
        return;
    }
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}

/// Every case in tests/ui fails to compile with the recorded error (skipped:
/// a VM build has no compiler to try them with).
#[cfg(clonelab_vm)]
#[test]
fn unsound_uses_do_not_compile() {
    common::skip("no cargo here to compile the compile-fail cases (host only)");
}
