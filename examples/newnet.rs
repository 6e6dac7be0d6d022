//! CLONE_NEWNET: what is inside a new network namespace?
//!
//! A child made with CLONE_NEWNET names its network namespace (the inode of
//! /proc/self/ns/net), lists its interfaces, asks whether `lo` is up, then
//! brings `lo` up as `ip link set lo up` does. Run as root:
//! `sudo cargo run --example newnet`.
//!
//! Expected output:
//!
//! ```text
//! parent: namespace inode …, interfaces: …
//! child:  namespace inode …, interfaces: lo
//! child:  lo is up: false
//! child:  lo is up after RTM_NEWLINK: true
//! ```

use clonelab::sys::consts::O_CLOEXEC;
use clonelab::{net, probe, spawn, sys, CloneFlags, ExitSignal, FlagsWord, WaitStatus};

/// This network namespace: the inode of its handle, and its interfaces by name.
fn network() -> (u64, String) {
    let inode = probe::file_identity(c"/proc/self/ns/net").map_or(0, |id| id.1);
    let dev = std::fs::read_to_string("/proc/self/net/dev").unwrap_or_default();
    let name = |line: &str| line.split(':').next().unwrap_or("").trim().to_string();
    let names: Vec<String> = dev.lines().skip(2).map(name).collect();
    (inode, names.join(","))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if sys::geteuid() != 0 {
        println!("skipped: CLONE_NEWNET needs root (CAP_SYS_ADMIN)");
        return Ok(());
    }
    let (our_inode, our_names) = network();
    let (reader, writer) = sys::pipe(O_CLOEXEC)?;
    let word = FlagsWord::new(CloneFlags::CLONE_NEWNET, ExitSignal::SIGCHLD);
    let mut child = spawn(word, || {
        let (inode, names) = network();
        let up = net::interface_is_up(b"lo") == Ok(true);
        if inode != our_inode {
            let _ = net::netlink_link_up(1); // lo is interface 1 of every namespace
        }
        let up_after = net::interface_is_up(b"lo") == Ok(true);
        let report = format!("{inode} {names} {up} {up_after}");
        let _ = sys::write(writer.as_fd(), report.as_bytes());
        0
    })?;
    let status = child.wait()?; // its namespace, and its lo, end with it
    drop(writer);
    let mut buf = [0u8; 256];
    let n = sys::read(reader.as_fd(), &mut buf)?;
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    let words: Vec<&str> = text.split(' ').collect();
    let [inode, names, up, up_after] = [0, 1, 2, 3].map(|i| *words.get(i).unwrap_or(&"?"));
    println!("parent: namespace inode {our_inode}, interfaces: {our_names}");
    println!("child:  namespace inode {inode}, interfaces: {names}");
    println!("child:  lo is up: {up}");
    println!("child:  lo is up after RTM_NEWLINK: {up_after}");
    assert_eq!(status, WaitStatus::Exited(0));
    assert_ne!(inode, our_inode.to_string()); // another network namespace
    assert_eq!((names, up), ("lo", "false")); // holding only lo, and lo down
    assert_eq!(up_after, "true"); // until someone brings it up
    Ok(())
}
