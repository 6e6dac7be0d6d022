//! CLONE_NEWNS: does a mount made by the child appear in the parent?
//!
//! A child made with CLONE_NEWNS makes `/` private in its new mount namespace,
//! mounts a tmpfs and looks for it in its mount table; the parent then looks
//! in its own. Run as root: `sudo cargo run --example newns`.
//!
//! Expected output:
//!
//! ```text
//! parent: our / is …
//! child:  its / is private (after its first mount call)
//! child:  mounted a tmpfs on /tmp/clonelab-example-newns-…; its table lists it: true
//! parent: our table lists it: false
//! parent: the child's / is ours (same device and inode): true
//! ```

use clonelab::sys::consts::{MS_PRIVATE, MS_REC, O_CLOEXEC};
use clonelab::{probe, spawn, sys, CloneFlags, ExitSignal, FlagsWord, WaitStatus};

/// The mount table of the caller's mount namespace, one mount a line.
fn mountinfo() -> String {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default()
}

/// How the mount on `/` propagates: its tags ("shared:1"), or "private".
fn root_propagation() -> String {
    let table = mountinfo();
    let is_root = |line: &&str| line.split(' ').nth(4) == Some("/");
    let root = table.lines().rfind(is_root).unwrap_or("");
    let tags: Vec<&str> = root.split(' ').skip(6).take_while(|f| *f != "-").collect();
    tags.first().map_or("private".into(), |_| tags.join(","))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if sys::geteuid() != 0 {
        println!("skipped: CLONE_NEWNS and mount need root");
        return Ok(());
    }
    let point = format!("/tmp/clonelab-example-newns-{}", sys::getpid());
    let c_point = std::ffi::CString::new(point.clone())?;
    sys::mkdir(&c_point, 0o700)?;
    let our_ns = probe::file_identity(c"/proc/self/ns/mnt")?;
    let our_root = probe::file_identity(c"/")?;
    let (reader, writer) = sys::pipe(O_CLOEXEC)?;
    let word = FlagsWord::new(CloneFlags::CLONE_NEWNS, ExitSignal::SIGCHLD);
    let mut child = spawn(word, || {
        if probe::file_identity(c"/proc/self/ns/mnt") == Ok(our_ns) {
            return 2; // never mount in the parent's mount namespace
        }
        // SAFETY: this child is alone in its new mount namespace; `/` is made
        // private first, so the tmpfs mounted next stays out of the parent's.
        let mounted = unsafe {
            sys::mount(c"none", c"/", None, MS_REC | MS_PRIVATE)
                .and_then(|()| sys::mount(c"clonelab", &c_point, Some(c"tmpfs"), 0))
        };
        let listed = mountinfo().contains(&format!(" {point} "));
        let same_root = probe::file_identity(c"/") == Ok(our_root);
        let report = format!("{} {listed} {same_root}", root_propagation());
        let _ = sys::write(writer.as_fd(), report.as_bytes());
        mounted.is_err() as i32
    })?;
    let status = child.wait()?; // its mount namespace, and the tmpfs, end with it
    drop(writer);
    let parent_lists = mountinfo().contains(&format!(" {point} "));
    sys::rmdir(&c_point)?;
    let mut buf = [0u8; 256];
    let n = sys::read(reader.as_fd(), &mut buf)?;
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    let words: Vec<&str> = text.split(' ').collect();
    let [its_root, listed, same_root] = [0, 1, 2].map(|i| *words.get(i).unwrap_or(&"?"));
    println!("parent: our / is {}", root_propagation());
    println!("child:  its / is {its_root} (after its first mount call)");
    println!("child:  mounted a tmpfs on {point}; its table lists it: {listed}");
    println!("parent: our table lists it: {parent_lists}");
    println!("parent: the child's / is ours (same device and inode): {same_root}");
    assert_eq!(status, WaitStatus::Exited(0)); // 2: no mount namespace of its own
    assert_eq!((listed, parent_lists), ("true", false)); // the mount stayed in the child
    assert_eq!(same_root, "true"); // a new mount namespace keeps the same root
    Ok(())
}
