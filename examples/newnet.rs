//! CLONE_NEWNET: what is inside a new network namespace?
//!
//! A child made with CLONE_NEWNET names its network namespace (the inode of
//! /proc/self/ns/net), lists its interfaces, asks whether `lo` is up and
//! connects to 127.0.0.1; then it brings `lo` up as `ip link set lo up` does
//! and connects again. Run as root: `sudo cargo run --example newnet`.
//!
//! Expected output:
//!
//! ```text
//! parent: namespace inode …, interfaces: …
//! child:  namespace inode …, interfaces: lo…
//! child:  lo is up: false; connect to 127.0.0.1: Network is unreachable…
//! child:  after RTM_NEWLINK, lo is up: true; connect to 127.0.0.1: Connection refused…
//! ```

use clonelab::sys::consts::O_CLOEXEC;
use clonelab::{net, probe, spawn, sys, CloneFlags, ExitSignal, FlagsWord, WaitStatus};
use std::net::TcpStream;

/// This network namespace: the inode of its handle, and its interfaces by name.
fn network() -> (u64, Vec<String>) {
    let inode = probe::file_identity(c"/proc/self/ns/net").map_or(0, |id| id.1);
    let dev = std::fs::read_to_string("/proc/self/net/dev").unwrap_or_default();
    let name = |line: &str| line.split(':').next().unwrap_or("").trim().to_string();
    (inode, dev.lines().skip(2).map(name).collect())
}

/// Whether `lo` is up, and the error a TCP connect to 127.0.0.1 (port 9) gets.
fn lo_state() -> String {
    let up = net::interface_is_up(b"lo") == Ok(true);
    let error = TcpStream::connect("127.0.0.1:9").map_or_else(|e| e.to_string(), |_| "ok".into());
    format!("{up}; connect to 127.0.0.1: {error}")
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
        let before = lo_state();
        if inode != our_inode {
            let _ = net::netlink_link_up(1); // lo is interface 1 of every namespace
        }
        let report = format!("{inode}\n{}\n{before}\n{}", names.join(","), lo_state());
        let _ = sys::write(writer.as_fd(), report.as_bytes());
        0
    })?;
    let status = child.wait()?; // its namespace, and its lo, end with it
    drop(writer);
    let mut buf = [0u8; 512];
    let n = sys::read(reader.as_fd(), &mut buf)?;
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    let lines: Vec<&str> = text.split('\n').collect();
    let [inode, names, before, after] = [0, 1, 2, 3].map(|i| *lines.get(i).unwrap_or(&"?"));
    let ours = our_names.join(",");
    println!("parent: namespace inode {our_inode}, interfaces: {ours}");
    println!("child:  namespace inode {inode}, interfaces: {names}");
    println!("child:  lo is up: {before}");
    println!("child:  after RTM_NEWLINK, lo is up: {after}");
    assert_eq!(status, WaitStatus::Exited(0));
    assert_ne!(inode, our_inode.to_string()); // another network namespace,
    let theirs: Vec<&str> = names.split(',').collect();
    assert_eq!(theirs[0], "lo"); // with lo, interface 1,
    assert!(before.starts_with("false")); // down until someone brings it up.
    assert!(after.starts_with("true"));
    // None of our working interfaces came along. (A fallback tunnel such as
    // tunl0 is made anew, down, in each namespace: compare ours that are up.)
    let up = |n: &&String| *n != "lo" && net::interface_is_up(n.as_bytes()) == Ok(true);
    let ours_up: Vec<&String> = our_names.iter().filter(up).collect();
    assert!(ours_up.iter().all(|n| !theirs.contains(&n.as_str())));
    Ok(())
}
