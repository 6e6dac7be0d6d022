//! The container's cgroup limits (`--memory`, `--pids`): a child cgroup of
//! our own, with `memory.max` and `pids.max` written, removed when dropped.
//!
//! Part of `container/`; `launch.rs` creates it before the clone and hands
//! its directory to clone3 (CLONE_INTO_CGROUP). Uses std's file system calls
//! and the experiments' helper that finds our own cgroup v2 directory.

use super::{say, Options};
use clonelab::experiments::own_cgroup_dir;

/// A child cgroup with the requested limits, next to our own cgroup.
pub(super) struct Cgroup {
    pub(super) dir: String,
}

impl Cgroup {
    /// Enable the controllers the limits need, make the cgroup, write the limits.
    pub(super) fn create(o: &Options) -> Result<Cgroup, String> {
        let own = own_cgroup_dir().ok_or("no cgroup v2 hierarchy is mounted")?;
        let parent = String::from_utf8_lossy(own.as_bytes()).into_owned();
        let mut wanted = Vec::new();
        if o.memory.is_some() {
            wanted.push("+memory");
        }
        if o.pids.is_some() {
            wanted.push("+pids");
        }
        // Controllers must be enabled in the parent's subtree_control for a child to have them.
        let control = format!("{parent}/cgroup.subtree_control");
        if let Err(e) = std::fs::write(&control, wanted.join(" ")) {
            return Err(format!("cannot enable {} in {control}: {e} (is the controller available in cgroup v2 here?)", wanted.join(" ")));
        }
        let dir = format!("{parent}/clonelab-container-{}", std::process::id());
        std::fs::create_dir(&dir).map_err(|e| format!("mkdir {dir}: {e}"))?;
        let cgroup = Cgroup { dir };
        if let Some(bytes) = o.memory {
            std::fs::write(format!("{}/memory.max", cgroup.dir), bytes.to_string())
                .map_err(|e| format!("memory.max: {e}"))?;
            say(o, format!("cgroup {}: memory.max = {bytes}", cgroup.dir));
        }
        if let Some(n) = o.pids {
            std::fs::write(format!("{}/pids.max", cgroup.dir), n.to_string())
                .map_err(|e| format!("pids.max: {e}"))?;
            say(o, format!("cgroup {}: pids.max = {n}", cgroup.dir));
        }
        Ok(cgroup)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}
