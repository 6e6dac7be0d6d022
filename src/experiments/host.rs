//! What the experiments ask about this process and its place on the host:
//! may it make namespaces by itself, does a child share a kernel object with
//! it (kcmp), where is its cgroup.
//!
//! Where it sits: beside [`super::harness`], used by the experiments and by
//! the `clonelab container` command (its cgroup directory), so the binary
//! never reaches into one experiment for a helper.
//!
//! What it may use: raw syscalls and /proc only (`no_std`, no allocator), so
//! the helpers work inside experiment children too.

use super::text::{contains, CPath};
use crate::flags::CloneFlags;
use crate::sys::{self, Pid};
use core::fmt;
use linux_raw_sys::general as k;

/// Whether this process may create namespaces by itself (effective uid 0).
/// Without it, namespace experiments add CLONE_NEWUSER: the new user namespace
/// is created first and owns the others, so an unprivileged user may make them.
pub fn needs_user_namespace() -> bool {
    sys::geteuid() != 0
}

/// `flags`, plus CLONE_NEWUSER when [`needs_user_namespace`].
pub fn namespace_flags(flags: CloneFlags) -> CloneFlags {
    if needs_user_namespace() {
        flags | CloneFlags::CLONE_NEWUSER
    } else {
        flags
    }
}

/// Write `0 0 1` to a child's uid_map and gid_map (we are uid 0 with every
/// capability in our own user namespace, so we may map our 0 to its 0).
pub fn map_root(pid: Pid) -> bool {
    [b"/uid_map".as_slice(), b"/gid_map".as_slice()]
        .iter()
        .all(|file| {
            let mut path = CPath::numbered("/proc/", pid as u64);
            path.push(file);
            match sys::open(path.as_cstr(), k::O_WRONLY | k::O_CLOEXEC, 0) {
                Ok(fd) => {
                    let ok = sys::write(fd.as_fd(), b"0 0 1\n").is_ok();
                    drop(fd);
                    ok
                }
                Err(_) => false,
            }
        })
}

/// Whether a fresh `kcmp` between us and `pid` says they share `kind`
/// (None if kcmp is unavailable: a kernel without CONFIG_KCMP).
pub fn shares(pid: Pid, kind: sys::Kcmp) -> Option<bool> {
    sys::kcmp(sys::getpid(), pid, kind)
        .ok()
        .map(|order| order == 0)
}

/// Print an `Option<bool>` kcmp result.
pub struct Kcmp(pub Option<bool>);

impl fmt::Display for Kcmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(true) => f.write_str("same"),
            Some(false) => f.write_str("different"),
            None => f.write_str("kcmp unavailable"),
        }
    }
}

/// The mount point of the first cgroup2 filesystem in our mountinfo.
pub fn cgroup2_mount() -> Option<CPath> {
    let mut buf = [0u8; 65536];
    let text = crate::probe::read_file(c"/proc/self/mountinfo", &mut buf).ok()?;
    let line = text
        .split(|&b| b == b'\n')
        .find(|l| contains(l, b" - cgroup2 "))?;
    let point = line.split(|&b| b == b' ').nth(4)?;
    let mut out = CPath::empty();
    out.push(point);
    Some(out)
}

/// The directory of our own cgroup in the cgroup v2 hierarchy: the mount
/// point plus the path of the `0::` line of /proc/self/cgroup.
pub fn own_cgroup_dir() -> Option<CPath> {
    let mut dir = cgroup2_mount()?;
    let mut buf = [0u8; 4096];
    let text = crate::probe::read_file(c"/proc/self/cgroup", &mut buf).ok()?;
    let path = text
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"0::"))?;
    let path = path.strip_suffix(b"/").unwrap_or(path);
    dir.push(path);
    Some(dir)
}
