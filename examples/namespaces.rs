//! UTS, IPC, cgroup and time namespaces: is the child in another one?
//!
//! One child per flag reports the inode of its /proc/self/ns/<kind> handle and what
//! else changed; CLONE_NEWTIME (0x80) needs clone3. Run: `sudo cargo run --example namespaces`.
//!
//! Expected output:
//!
//! ```text
//! uts     inode: ours …, the child's … (made with clone)
//! uts     hostname: ours …, the child's clonelab-uts
//! ipc     inode: ours …, the child's … (made with clone)
//! cgroup  inode: ours …, the child's … (made with clone)
//! cgroup  cgroup: ours …, the child's 0::/
//! time    inode: ours …, the child's … (made with clone3)
//! clone() of CLONE_NEWTIME|SIGCHLD: flag bits 0x80 fall in clone()'s low byte, …
//! ```

use clonelab::{probe, spawn, sys, sys::consts::O_CLOEXEC, CloneFlags, ExitSignal, FlagsWord};

/// Each kind: its flag, what else it changes, and what the child should see there.
const KINDS: [(&str, CloneFlags, &str, &str); 4] = [
    ("uts", CloneFlags::CLONE_NEWUTS, "hostname", "clonelab-uts"),
    ("ipc", CloneFlags::CLONE_NEWIPC, "", ""),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP, "cgroup", "0::/"),
    ("time", CloneFlags::CLONE_NEWTIME, "", ""),
];

/// The inode of this process's `/proc/self/ns/<kind>`: it names the namespace.
fn inode(kind: &str) -> u64 {
    let path = std::ffi::CString::new(format!("/proc/self/ns/{kind}")).unwrap();
    probe::file_identity(&path).map_or(0, |id| id.1)
}

/// What else the namespace changes: the hostname, or the cgroup v2 path we see.
fn effect(kind: &str) -> String {
    let mut buf = [0u8; 65];
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let v2 = cgroups.lines().find(|l| l.starts_with("0::"));
    match kind {
        "uts" => String::from_utf8_lossy(probe::hostname(&mut buf).unwrap_or(b"?")).into(),
        "cgroup" => v2.unwrap_or("?").into(),
        _ => String::new(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if sys::geteuid() != 0 || inode("time") == 0 {
        println!("skipped: needs root, and a kernel with time namespaces (CONFIG_TIME_NS)");
        return Ok(());
    }
    for (kind, flag, what, expected) in KINDS {
        let (ours, our_effect) = (inode(kind), effect(kind));
        let (reader, writer) = sys::pipe(O_CLOEXEC)?;
        let mut child = spawn(FlagsWord::new(flag, ExitSignal::SIGCHLD), || {
            if kind == "uts" && inode(kind) != ours {
                let _ = sys::sethostname(expected.as_bytes()); // only a UTS namespace of its own
            }
            let report = format!("{} {}", inode(kind), effect(kind));
            sys::write(writer.as_fd(), report.as_bytes()).map_or(1, |_| 0)
        })?;
        assert_eq!(child.wait()?, clonelab::WaitStatus::Exited(0)); // 0: its report is written
        let mut buf = [0u8; 256];
        let n = sys::read(reader.as_fd(), &mut buf)?;
        let text = String::from_utf8_lossy(&buf[..n]);
        let (theirs, their_effect) = text.split_once(' ').unwrap_or(("?", ""));
        let via = child.call().syscall.ok_or("no call recorded")?; // clone or clone3
        println!("{kind:<7} inode: ours {ours}, the child's {theirs} (made with {via})");
        if !what.is_empty() {
            println!("{kind:<7} {what}: ours {our_effect}, the child's {their_effect}");
        }
        if our_effect == "0::/" {
            println!("cgroup  ours is the root too, so they match: try from a sub-cgroup");
        }
        assert_ne!(theirs, ours.to_string()); // another namespace of this kind
        assert_eq!((their_effect, effect(kind)), (expected, our_effect)); // ours unchanged
    }
    let time = FlagsWord::new(CloneFlags::CLONE_NEWTIME, ExitSignal::SIGCHLD);
    println!("clone() of {time}: {}", time.encode_clone().unwrap_err());
    Ok(())
}
