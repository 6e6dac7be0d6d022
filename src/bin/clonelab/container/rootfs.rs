//! The container's file system: `/` made private, a new root on tmpfs with
//! read-only binds of the host's system directories (or `--rootfs`), `/dev`,
//! `/tmp` and a fresh `/proc`, then `pivot_root` into it.
//!
//! Part of `container/`; run by the container's init (`init.rs`) in its own
//! mount namespace. Uses clonelab's `sys::mount`, `pivot_root`, `umount2`,
//! `chroot`, `chdir`, `rmdir`, constants from `linux-raw-sys`, and std.

use super::{cstr, say, Options};
use clonelab::{sys, Errno};
use linux_raw_sys::general as k;
use std::path::Path;

/// `mount(source, target, fstype, flags)`, with the paths in the error.
pub(super) fn mount(
    source: &str,
    target: &str,
    fstype: Option<&str>,
    flags: u32,
) -> Result<(), String> {
    let fstype = fstype.map(cstr);
    // SAFETY: the container init owns its mount namespace.
    unsafe { sys::mount(&cstr(source), &cstr(target), fstype.as_deref(), flags) }
        .map_err(|e| format!("mount {source} on {target}: {e}"))
}

/// Read-only bind of `src` at `dst` (created as a file or directory like `src`).
fn bind_read_only(src: &str, dst: &str) -> Result<(), String> {
    if Path::new(src).is_dir() {
        std::fs::create_dir_all(dst).map_err(|e| format!("mkdir {dst}: {e}"))?;
    } else {
        if let Some(parent) = Path::new(dst).parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("mkdir {}: {e}", parent.display()))?;
        }
        std::fs::write(dst, b"").map_err(|e| format!("create {dst}: {e}"))?;
    }
    mount(src, dst, None, k::MS_BIND | k::MS_REC)?;
    mount("none", dst, None, k::MS_REMOUNT | k::MS_BIND | k::MS_RDONLY)
}

/// Build the new root at `root` (an empty directory): everything the
/// container will see, with the host's root still in place.
pub(super) fn build(o: &Options, root: &str) -> Result<(), String> {
    // Mounts must not propagate back to the host: make everything private first.
    mount("none", "/", None, k::MS_REC | k::MS_PRIVATE)?;
    mount("clonelab-root", root, Some("tmpfs"), 0)?;
    match &o.rootfs {
        Some(dir) => mount(dir, root, None, k::MS_BIND | k::MS_REC)?,
        None => {
            for dir in ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc"] {
                if Path::new(dir).exists() {
                    bind_read_only(dir, &format!("{root}{dir}"))?;
                }
            }
        }
    }
    for (src, dst) in &o.binds {
        bind_read_only(src, &format!("{root}{dst}"))?;
    }
    for dir in ["proc", "dev", "tmp", ".old_root"] {
        std::fs::create_dir_all(format!("{root}/{dir}"))
            .map_err(|e| format!("mkdir {dir}: {e}"))?;
    }
    mount("tmpfs", &format!("{root}/dev"), Some("tmpfs"), k::MS_NOSUID)?;
    for node in ["null", "zero", "random", "urandom", "full"] {
        let host = format!("/dev/{node}");
        if Path::new(&host).exists() {
            std::fs::write(format!("{root}/dev/{node}"), b"")
                .map_err(|e| format!("create /dev/{node}: {e}"))?;
            mount(&host, &format!("{root}/dev/{node}"), None, k::MS_BIND)?;
        }
    }
    mount("tmpfs", &format!("{root}/tmp"), Some("tmpfs"), k::MS_NOSUID)?;
    // A fresh /proc for the new PID namespace. Mounted before the old root
    // goes: in a user namespace the kernel allows a new procfs only while a
    // full one is still visible in the mount namespace.
    mount("proc", &format!("{root}/proc"), Some("proc"), 0)
}

/// Make `root` the root: `pivot_root` and detach the old one. An initramfs
/// root (rootfs) cannot be pivoted away (EINVAL); then move the new root over
/// `/` and chroot into it, as `runc --no-pivot` does for the same reason.
pub(super) fn switch_root(o: &Options, root: &str) -> Result<(), String> {
    let put_old = format!("{root}/.old_root");
    // SAFETY: this init owns the mount namespace whose root it replaces.
    match unsafe { sys::pivot_root(&cstr(root), &cstr(&put_old)) } {
        Ok(()) => {
            sys::chdir(c"/").map_err(|e| format!("chdir /: {e}"))?;
            // SAFETY: nothing here uses the old root any more.
            unsafe { sys::umount2(c"/.old_root", k::MNT_DETACH) }
                .map_err(|e| format!("detach old root: {e}"))?;
            let _ = sys::rmdir(c"/.old_root");
            say(o, "pivot_root done, old root detached");
            Ok(())
        }
        Err(Errno::EINVAL) => {
            say(o, "pivot_root: EINVAL (the root is the initramfs); moving the new root over / and chroot-ing");
            let _ = sys::rmdir(&cstr(&put_old));
            sys::chdir(&cstr(root)).map_err(|e| format!("chdir {root}: {e}"))?;
            mount(root, "/", None, k::MS_MOVE)?;
            // SAFETY: as above.
            unsafe { sys::chroot(c".") }.map_err(|e| format!("chroot: {e}"))?;
            sys::chdir(c"/").map_err(|e| format!("chdir /: {e}"))
        }
        Err(e) => Err(format!("pivot_root: {e}")),
    }
}
