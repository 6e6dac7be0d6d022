//! Watching a pidfd: readable once the child has exited
//!
//! A parent makes a child with CLONE_PIDFD that waits for a byte on a pipe.
//! It polls the pidfd while the child lives, lets the child go, and polls
//! again; then waits for a second child with a deadline it cannot meet.
//! Run: `cargo run --example pidfd_poll`.
//!
//! Expected output:
//!
//! ```text
//! child … is alive: ppoll(pidfd, POLLIN, 0 ms) returned 0
//! child … has exited: ppoll(pidfd, POLLIN, 5 s) returned 1, revents has POLLIN: true
//! reaped through the pidfd: exited with status 3
//! a child asleep for 30 s: wait_timeout(100 ms) returned None
//! after SIGKILL: wait_timeout(5 s) returned Some(killed by SIGKILL (9))
//! ```

use clonelab::sys::poll::{PollFd, PollFlags};
use clonelab::sys::{self, consts::O_CLOEXEC};
use clonelab::{spawn, CloneFlags, ExitSignal, FlagsWord, Signal};
use std::time::Duration;

fn main() {
    let word = FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD);
    let (reader, writer) = sys::pipe(O_CLOEXEC).unwrap();
    let release = reader.as_fd();
    // The child blocks in read() until the parent writes a byte, then exits 3.
    let mut child = spawn(word, move || {
        let _ = sys::read(release, &mut [0u8; 1]);
        3
    })
    .unwrap();
    let Some(pidfd) = child.pidfd() else {
        println!("skipped: no pidfd (a kernel before 5.2)");
        return;
    };
    let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
    let n = sys::ppoll(&mut fds, Some(Duration::ZERO), None).unwrap();
    println!(
        "child {} is alive: ppoll(pidfd, POLLIN, 0 ms) returned {n}",
        child.pid()
    );

    sys::write(writer.as_fd(), b"go").unwrap();
    let n = sys::ppoll(&mut fds, Some(Duration::from_secs(5)), None).unwrap();
    let readable = fds[0].revents().contains(PollFlags::IN);
    println!(
        "child {} has exited: ppoll(pidfd, POLLIN, 5 s) returned {n}, revents has POLLIN: {readable}",
        child.pid()
    );
    println!("reaped through the pidfd: {}", child.wait().unwrap());

    // Child::wait_timeout polls the pidfd the same way.
    let mut sleeper = spawn(word, || {
        let _ = sys::nanosleep(Duration::from_secs(30));
        0
    })
    .unwrap();
    let early = sleeper.wait_timeout(Duration::from_millis(100)).unwrap();
    println!("a child asleep for 30 s: wait_timeout(100 ms) returned {early:?}");
    sleeper.kill(Signal::SIGKILL).unwrap();
    let late = sleeper.wait_timeout(Duration::from_secs(5)).unwrap();
    println!(
        "after SIGKILL: wait_timeout(5 s) returned {}",
        late.map_or("None".to_string(), |s| format!("Some({s})"))
    );
}
