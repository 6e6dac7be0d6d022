//! The container tools `cargo xtask bench --costs` compares `clonelab
//! container` with: crun and bubblewrap from Debian, and strace for the
//! traces that explain where the time goes (util-linux, always installed,
//! has unshare(1)). `cargo xtask provision` installs them too.
//!
//! Part of `xtask/src/bench/`; `costs` calls [`ensure_container_peers`]
//! before a full run. Uses `crate::apt`.

/// Install crun, bubblewrap and strace where they are missing (as root; else
/// say what to run). A peer still missing when the bench runs is reported
/// as skipped, with the reason, in `docs/costs.md`.
pub fn ensure_container_peers() -> Result<(), String> {
    crate::apt::ensure_packages(&[
        ("crun", "/usr/bin/crun"),
        ("bubblewrap", "/usr/bin/bwrap"),
        ("strace", "/usr/bin/strace"),
    ])
}
