//! CLONE_NEWPID: who is the child, and what does /proc say?
//!
//! A child made with CLONE_NEWPID is the first process of a new PID namespace.
//! It reads `/proc/self` in the /proc it inherited, then mounts a procfs of its
//! own (CLONE_NEWNS, `/` made private first) and reads it again.
//! Run as root: `sudo cargo run --example newpid`.
//!
//! Expected output:
//!
//! ```text
//! parent: clone returned pid …
//! child:  getpid() = 1, getppid() = 0
//! child:  /proc/self -> … (in the /proc it inherited)
//! child:  /proc/self -> 1 (in a procfs it mounted)
//! ```

use clonelab::sys::consts::{MS_PRIVATE, MS_REC, O_CLOEXEC};
use clonelab::{probe, spawn, sys, CloneFlags, ExitSignal, FlagsWord, WaitStatus};

/// The pid `/proc/self` names in whatever procfs is mounted on /proc.
fn proc_self() -> i64 {
    let mut buf = [0u8; 32];
    let link = sys::readlink(c"/proc/self", &mut buf).unwrap_or(b"0");
    std::str::from_utf8(link)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if sys::geteuid() != 0 {
        println!("skipped: CLONE_NEWPID and mounting a procfs need root");
        return Ok(());
    }
    let our_mount_ns = probe::file_identity(c"/proc/self/ns/mnt")?;
    let (reader, writer) = sys::pipe(O_CLOEXEC)?;
    let flags = CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS;
    let mut child = spawn(FlagsWord::new(flags, ExitSignal::SIGCHLD), || {
        let inherited = proc_self();
        if probe::file_identity(c"/proc/self/ns/mnt") == Ok(our_mount_ns) {
            return 2; // never mount in the parent's mount namespace
        }
        // SAFETY: this child is alone in its new mount namespace; `/` is made
        // private first, so the procfs mounted next stays out of the parent's.
        let mounted = unsafe {
            sys::mount(c"none", c"/", None, MS_REC | MS_PRIVATE)
                .and_then(|()| sys::mount(c"proc", c"/proc", Some(c"proc"), 0))
        };
        let (pid, ppid) = (sys::getpid() as i64, sys::getppid() as i64);
        let seen = [pid, ppid, inherited, proc_self()];
        let bytes: Vec<u8> = seen.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let _ = sys::write(writer.as_fd(), &bytes);
        mounted.is_err() as i32
    })?;
    let status = child.wait()?; // it was pid 1: its PID namespace ends with it
    drop(writer);
    let (mut bytes, mut seen) = ([0u8; 32], [0i64; 4]);
    sys::read(reader.as_fd(), &mut bytes)?;
    for (value, chunk) in seen.iter_mut().zip(bytes.chunks(8)) {
        *value = i64::from_ne_bytes(chunk.try_into()?);
    }
    let [pid, ppid, inherited, mounted] = seen;
    let outer = child.pid() as i64;
    println!("parent: clone returned pid {outer}");
    println!("child:  getpid() = {pid}, getppid() = {ppid}");
    println!("child:  /proc/self -> {inherited} (in the /proc it inherited)");
    println!("child:  /proc/self -> {mounted} (in a procfs it mounted)");
    assert_eq!(status, WaitStatus::Exited(0)); // 2: no mount namespace of its own
    assert_eq!((pid, ppid), (1, 0)); // inside: pid 1, and no parent
    assert_eq!(inherited, outer); // the inherited /proc shows the parent's pids
    assert_eq!(mounted, 1); // a procfs mounted inside shows the new namespace
    Ok(())
}
