//! CLONE_INTO_CGROUP: is the child born in the cgroup we chose?
//!
//! The parent makes an empty cgroup in the cgroup v2 hierarchy and hands its
//! directory to clone3 (`SpawnOptions::into_cgroup`). The child reads its own
//! `/proc/self/cgroup` and sends it back through a pipe; the parent compares.
//! Run: `sudo cargo run --example into_cgroup`.
//!
//! Expected output:
//!
//! ```text
//! clone3's flags:   CLONE_INTO_CGROUP|SIGCHLD, clone_args.cgroup = fd …
//! the parent is in: 0::…
//! the new cgroup:   /clonelab-example-…
//! the child reads:  0::/clonelab-example-…
//! the child:        exited with status 0
//! ```

use clonelab::spawn::{spawn_with, SpawnOptions};
use clonelab::sys::consts::{O_CLOEXEC, O_DIRECTORY, O_RDONLY};
use clonelab::{probe, sys, CloneCall, CloneFlags, ExitSignal, FlagsWord, Syscall, WaitStatus};
use std::ffi::{CStr, CString};

type Failure = Box<dyn std::error::Error>;

/// The cgroup v2 line (`0::/path`) of a `/proc/<pid>/cgroup` text.
fn v2_line(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    let line = text.lines().find(|l| l.starts_with("0::"));
    line.unwrap_or("").into()
}

/// Make a child in the cgroup `dir`; return the call, what the child read, how it ended.
fn born_in(dir: &CStr) -> Result<(CloneCall, String, WaitStatus), Failure> {
    let cgroup = sys::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)?;
    let (from_child, to_parent) = sys::pipe(O_CLOEXEC)?;
    let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
    let options = SpawnOptions::new().into_cgroup(cgroup.as_fd());
    let mut child = spawn_with(word, options, |_| {
        let mut buf = [0u8; 4096]; // the child: raw syscalls, no allocation
        let text = probe::read_file(c"/proc/self/cgroup", &mut buf).unwrap_or(b"");
        sys::write(to_parent.as_fd(), text).map_or(1, |_| 0)
    })?;
    let status = child.wait()?; // then all it wrote is in the pipe
    let mut buf = [0u8; 4096];
    let n = sys::read(from_child.as_fd(), &mut buf)?;
    Ok((*child.call(), v2_line(&buf[..n]), status))
}

fn main() -> Result<(), Failure> {
    if sys::geteuid() != 0 {
        println!("skipped: making a cgroup needs root");
        return Ok(());
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")?;
    let v2 = mounts.lines().find(|l| l.contains(" - cgroup2 "));
    let Some(hierarchy) = v2.and_then(|l| l.split(' ').nth(4)) else {
        println!("skipped: no cgroup v2 hierarchy is mounted here");
        return Ok(());
    };
    let name = format!("/clonelab-example-{}", sys::getpid());
    let dir = CString::new(format!("{hierarchy}{name}"))?;
    if let Err(e) = sys::mkdir(&dir, 0o755) {
        println!("skipped: cannot make a cgroup in {hierarchy}: {e}");
        return Ok(());
    }
    let result = born_in(&dir);
    sys::rmdir(&dir)?; // empty again: the child has been reaped
    let (call, reported, status) = result?;
    let ours = v2_line(&std::fs::read("/proc/self/cgroup")?);
    let (flags, fd) = (call.word, call.cgroup);
    println!("clone3's flags:   {flags}, clone_args.cgroup = fd {fd}");
    println!("the parent is in: {ours}\nthe new cgroup:   {name}");
    println!("the child reads:  {reported}\nthe child:        {status}");
    assert_eq!(status, WaitStatus::Exited(0));
    assert_eq!(reported, format!("0::{name}"), "born elsewhere");
    assert_ne!(reported, ours);
    assert_eq!(call.syscall, Some(Syscall::Clone3));
    Ok(())
}
