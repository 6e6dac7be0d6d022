// What a thread-like child captures must be Send: an Rc's count is not atomic.
use clonelab::flags::{ExitSignal, FlagsWord};
use clonelab::{scope, Stack, THREAD_FLAGS};
use std::rc::Rc;

fn main() {
    let shared = Rc::new(5);
    let mut stack = Stack::new(64 * 1024).unwrap();
    let word = FlagsWord::new(THREAD_FLAGS, ExitSignal::NONE);
    scope(|s| {
        let read = move || *shared;
        // SAFETY: the child reads one integer.
        let _ = unsafe { s.spawn(&mut stack, word, read) };
    });
}
