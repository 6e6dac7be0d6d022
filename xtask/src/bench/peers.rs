//! The container tools the bench starts beside `clonelab container`: crun
//! and bubblewrap from Debian (util-linux, always installed, has
//! unshare(1)), and iproute2, whose `ip` the bench's probe runs inside each
//! container to see whether `lo` is up.
//!
//! Part of `xtask/src/bench/`; called by `costs` before a full run, by
//! `cargo xtask provision`, and by `cargo xtask test` before the host
//! stage's bench smoke run. Uses `crate::apt`.

/// Install crun, bubblewrap and iproute2 where they are missing (as root;
/// else say what to run). A peer still missing when the bench runs is
/// reported as skipped, with the reason.
pub fn ensure_container_peers() -> Result<(), String> {
    crate::apt::ensure_packages(&[
        ("crun", "/usr/bin/crun"),
        ("bubblewrap", "/usr/bin/bwrap"),
        ("iproute2", "/sbin/ip"),
    ])
}
