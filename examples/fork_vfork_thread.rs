//! fork, vfork, a CLONE_VM child and a thread: one clone call, four flags words.
//!
//! Each child asks kcmp(2) which parts of its parent it shares (memory, fds,
//! fs info, signal handlers) and whether it is in its parent's thread group;
//! the parent asks waitid(2) if it may wait for it. Run: `cargo run --example fork_vfork_thread`.
//!
//! Expected output:
//!
//! ```text
//! shape   flags word  memory  fds     fs      handlers  thread group  waitid
//! fork    0x11        own     own     own     own       new           ok
//! vfork   0x84111     shared  own     own     own       new           ok
//! clone   0x380111    shared  own     own     own       new           ok
//! thread  0x3d0f00    shared  shared  shared  shared    same          ECHILD
//! ```

use clonelab::sys::consts::{__WALL, P_PID, WEXITED, WNOHANG, WNOWAIT};
use clonelab::sys::{self, Kcmp};
use clonelab::{scope, spawn, CloneFlags, ExitSignal, FlagsWord, Pid, Stack, WaitStatus};

/// In the child, raw syscalls only: bits 0-3 set if memory, fds, fs, handlers are
/// shared (kcmp), bit 4 if in `parent`'s thread group, 0x80 if kcmp failed.
fn shares(parent: Pid) -> i32 {
    let mut bits = ((sys::getpid() == parent) as i32) << 4;
    for (i, part) in (0..).zip([Kcmp::Vm, Kcmp::Files, Kcmp::Fs, Kcmp::Sighand]) {
        match sys::kcmp(parent, sys::gettid(), part) {
            Ok(0) => bits |= 1 << i,
            Ok(_) => {}
            Err(_) => return 0x80,
        }
    }
    bits
}

/// In the parent: may we wait for `pid`? (WNOHANG: do not block; WNOWAIT: do not reap.)
fn waitid(pid: Pid) -> &'static str {
    let options = WEXITED | WNOHANG | WNOWAIT | __WALL;
    sys::waitid(P_PID, pid as u32, options).map_or_else(|e| e.name().unwrap_or("?"), |_| "ok")
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
    let can = waitid(child.pid());
    let mut rows = vec![("fork", child.call().word, can, child.wait()?)];
    // The others share our memory, so each child needs a stack of its own.
    for (name, word) in [("vfork", vfork), ("clone", clone), ("thread", thread)] {
        let mut stack = Stack::new(64 * 1024)?;
        rows.push(scope(|s| {
            // SAFETY: the child makes raw syscalls only: no TLS, no allocation, no panic.
            let child = unsafe { s.spawn(&mut stack, word, move || shares(parent)) }?;
            let can = waitid(child.pid()); // a thread is no child of ours
            Ok::<_, clonelab::Error>((name, child.call().word, can, child.join()?))
        })?);
    }
    let mut seen = Vec::new();
    println!("shape   flags word  memory  fds     fs      handlers  thread group  waitid");
    for (name, word, can, status) in rows {
        let WaitStatus::Exited(bits) = status else {
            panic!("{name}: the child did not exit: {status}");
        };
        let [m, f, s, h] = [0, 1, 2, 3].map(|i| ["own", "shared"][(bits >> i) as usize & 1]);
        let group = ["new", "same"][(bits >> 4) as usize & 1];
        let word = format!("{:#x}", word.encode_clone()?);
        println!("{name:<7} {word:<11} {m:<7} {f:<7} {s:<7} {h:<9} {group:<13} {can}");
        seen.push((bits, can));
    }
    assert_eq!(seen, [(0, "ok"), (1, "ok"), (1, "ok"), (0b11111, "ECHILD")]);
    Ok(())
}
