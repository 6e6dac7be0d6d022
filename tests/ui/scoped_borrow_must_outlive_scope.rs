// A scoped child may borrow only what outlives the scope.
use clonelab::flags::{CloneFlags, ExitSignal, FlagsWord};
use clonelab::{scope, Stack};
use std::sync::atomic::{AtomicU32, Ordering};

fn main() {
    let mut stack = Stack::new(64 * 1024).unwrap();
    let word = FlagsWord::new(CloneFlags::CLONE_VM, ExitSignal::SIGCHLD);
    scope(|s| {
        let local = AtomicU32::new(0);
        let store = || {
            local.store(1, Ordering::SeqCst);
            0
        };
        // SAFETY: the child does one atomic store.
        let _ = unsafe { s.spawn(&mut stack, word, store) };
    });
}
