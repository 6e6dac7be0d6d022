//! A container from one clone3 call.
//!
//! One clone3 call makes a child in new PID, mount, UTS, IPC and network
//! namespaces, with a pidfd; inside, it names its host and mounts its own /proc.
//! Run: `sudo cargo run --example container`.
//!
//! Expected output:
//!
//! ```text
//! the call:   clone3, flags CLONE_PIDFD|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET|SIGCHLD
//! inside:     pid 1, /proc/self -> 1, hostname box
//! the child:  exited with status 0
//! the host:   hostname … before, … after; … mounts, then …
//! ```

use clonelab::spawn::{spawn_with, SpawnOptions};
use clonelab::sys::consts::{MS_PRIVATE, MS_REC, O_CLOEXEC, O_NONBLOCK};
use clonelab::{probe, sys, CloneFlags as F, ExitSignal, FlagsWord, Syscall, WaitStatus};
use std::io::Write;

/// Bytes as text, with no allocation (the child uses it too).
fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or("?")
}

/// This UTS namespace's hostname, and the mount table of this mount namespace.
fn host() -> std::io::Result<(String, String)> {
    let mut name = [0u8; 65];
    let name = text(probe::hostname(&mut name).unwrap_or(b"?")).to_string();
    Ok((name, std::fs::read_to_string("/proc/self/mountinfo")?))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if sys::geteuid() != 0 {
        println!("skipped: new PID, mount, UTS, IPC and network namespaces need root");
        return Ok(());
    }
    let (name0, mounts0) = host()?;
    let ours = [c"/proc/self/ns/mnt", c"/proc/self/ns/uts"].map(probe::file_identity);
    let (reader, writer) = sys::pipe(O_CLOEXEC | O_NONBLOCK)?;
    let flags = F::CLONE_NEWPID | F::CLONE_NEWNS | F::CLONE_NEWUTS | F::CLONE_NEWIPC;
    let flags = flags | F::CLONE_NEWNET | F::CLONE_PIDFD;
    let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
    let mut child = spawn_with(word, SpawnOptions::new().via(Syscall::Clone3), |_| {
        let now = [c"/proc/self/ns/mnt", c"/proc/self/ns/uts"].map(probe::file_identity);
        if now[0] == ours[0] || now[1] == ours[1] {
            return 2; // never mount or rename in the host's namespaces
        }
        // SAFETY: our own mount namespace, `/` made private first: nothing reaches the host.
        let mounted = unsafe {
            sys::mount(c"none", c"/", None, MS_REC | MS_PRIVATE)
                .and_then(|()| sys::mount(c"proc", c"/proc", Some(c"proc"), 0))
        };
        let named = sys::sethostname(b"box");
        let (mut link, mut name) = ([0u8; 16], [0u8; 65]);
        let proc_self = text(sys::readlink(c"/proc/self", &mut link).unwrap_or(b"?"));
        let name = text(probe::hostname(&mut name).unwrap_or(b"?"));
        let mut out = std::io::Cursor::new([0u8; 128]); // formats without allocating
        let pid = sys::getpid();
        let _ = write!(out, "pid {pid}, /proc/self -> {proc_self}, hostname {name}");
        let _ = sys::write(writer.as_fd(), &out.get_ref()[..out.position() as usize]);
        (mounted.is_err() || named.is_err()) as i32
    })?;
    let status = child.wait()?; // waitid(P_PIDFD): the pidfd names this child only
    let mut report = [0u8; 128];
    let n = sys::read(reader.as_fd(), &mut report).unwrap_or(0); // EAGAIN: nothing written
    let inside = text(&report[..n]);
    let (name1, mounts1) = host()?;
    let (m0, m1) = (mounts0.lines().count(), mounts1.lines().count());
    println!("the call:   clone3, flags {}", child.call().word);
    println!("inside:     {inside}");
    println!("the child:  {status}");
    println!("the host:   hostname {name0} before, {name1} after; {m0} mounts, then {m1}");
    assert_eq!(child.call().syscall, Some(Syscall::Clone3));
    assert_eq!(status, WaitStatus::Exited(0)); // 2: in the host's mount or UTS namespace
    assert_eq!(inside, "pid 1, /proc/self -> 1, hostname box");
    assert_eq!((name0, mounts0), (name1, mounts1));
    Ok(())
}
