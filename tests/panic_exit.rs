//! # A panicking fork-like child exits with status 101.
//!
//! Alone in its process (the suite runs each module in a process of its own),
//! the module's only test: the child runs the panic
//! machinery, which takes locks (the panic hook's, stderr's). In a child of a
//! multi-threaded parent a lock that another thread held at the clone stays
//! held forever, so no other test may be running while the clone happens.
//! (libtest's main thread only waits for this one.)

use clonelab::flags::{CloneFlags, ExitSignal, FlagsWord};
use clonelab::{spawn, WaitStatus, PANIC_EXIT_STATUS};

/// A panicking child exits with status 101 and never unwinds into the parent.
#[test]
fn panic_in_child_exits_101() {
    let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
    let mut child = spawn(word, || {
        panic!("child panics on purpose (expected in this test)")
    })
    .unwrap();
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(PANIC_EXIT_STATUS));
}
