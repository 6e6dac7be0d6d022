//! fork, vfork, a CLONE_VM child and a thread: one clone call, four flags words.
//!
//! Each child asks the kernel with kcmp(2) which of its parent's parts it
//! shares (memory, descriptor table, fs info, signal handlers), and whether
//! it is in its parent's thread group. Run: `cargo run --example fork_vfork_thread`.
//!
//! Expected output:
//!
//! ```text
//! shape   flags word  memory  fds     fs      handlers  thread group
//! fork    0x11        own     own     own     own       new
//! vfork   0x84111     shared  own     own     own       new
//! clone   0x380111    shared  own     own     own       new
//! thread  0x3d0f00    shared  shared  shared  shared    same
//! ```

use clonelab::sys::{self, Kcmp};
use clonelab::{scope, spawn, CloneFlags, ExitSignal, FlagsWord, Pid, Stack, WaitStatus};

const PARTS: [Kcmp; 4] = [Kcmp::Vm, Kcmp::Files, Kcmp::Fs, Kcmp::Sighand];

/// In the child: bit i set if kcmp says PARTS[i] is shared, bit 4 if we are
/// in `parent`'s thread group (0x80: kcmp failed). Raw syscalls only.
fn shares(parent: Pid) -> i32 {
    let mut bits = ((sys::getpid() == parent) as i32) << 4;
    for (i, part) in PARTS.into_iter().enumerate() {
        match sys::kcmp(parent, sys::gettid(), part) {
            Ok(0) => bits |= 1 << i,
            Ok(_) => {}
            Err(_) => return 0x80,
        }
    }
    bits
}

fn main() -> Result<(), clonelab::Error> {
    let parent = sys::getpid();
    if let Err(e) = sys::kcmp(parent, parent, Kcmp::Vm) {
        println!("skipped: kcmp(2) is not available here ({e})");
        return Ok(());
    }
    let (vm, sigchld) = (CloneFlags::CLONE_VM, ExitSignal::SIGCHLD);
    let fork = FlagsWord::new(CloneFlags::EMPTY, sigchld);
    let vfork = FlagsWord::new(vm | CloneFlags::CLONE_VFORK, sigchld);
    let clone = FlagsWord::new(vm, sigchld);
    let thread = FlagsWord::new(clonelab::THREAD_FLAGS, ExitSignal::NONE);

    // fork shares no memory: its child runs on a copy of our stack.
    let mut child = spawn(fork, || shares(parent))?;
    let mut rows = vec![("fork", child.call().word, child.wait()?)];
    // The others share our memory, so each child needs a stack of its own.
    for (name, word) in [("vfork", vfork), ("clone", clone), ("thread", thread)] {
        let mut stack = Stack::new(64 * 1024)?;
        rows.push(scope(|s| {
            // SAFETY: the child makes raw syscalls only: no TLS, no allocation, no panic.
            let child = unsafe { s.spawn(&mut stack, word, move || shares(parent)) }?;
            Ok::<_, clonelab::Error>((name, child.call().word, child.join()?))
        })?);
    }

    let mut seen = Vec::new();
    println!("shape   flags word  memory  fds     fs      handlers  thread group");
    for (name, word, status) in rows {
        let WaitStatus::Exited(bits) = status else {
            panic!("{name}: the child did not exit: {status}");
        };
        let [m, f, s, h] = [0, 1, 2, 3].map(|i| ["own", "shared"][(bits >> i) as usize & 1]);
        let group = ["new", "same"][(bits >> 4) as usize & 1];
        let word = format!("{:#x}", word.encode_clone()?);
        println!("{name:<7} {word:<11} {m:<7} {f:<7} {s:<7} {h:<9} {group}");
        seen.push(bits);
    }
    assert_eq!(seen, [0b00000, 0b00001, 0b00001, 0b11111], "parts shared");
    Ok(())
}
