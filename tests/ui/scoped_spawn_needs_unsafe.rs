// A CLONE_VM child runs without TLS: only the caller can promise it copes.
use clonelab::flags::{CloneFlags, ExitSignal, FlagsWord};
use clonelab::{scope, Stack};

fn main() {
    let mut stack = Stack::new(64 * 1024).unwrap();
    let word = FlagsWord::new(CloneFlags::CLONE_VM, ExitSignal::SIGCHLD);
    scope(|s| {
        let _ = s.spawn(&mut stack, word, || 0);
    });
}
