//! Where downloads that outlive a checkout are kept: Debian's kernels and the
//! unpacked Rust 1.85. `$CLONELAB_CACHE`, else `$XDG_CACHE_HOME/clonelab`,
//! else `~/.cache/clonelab` (with no HOME, `target/cache`). A fresh clone of the repository finds them
//! there, so only a fresh machine downloads them.

use std::path::PathBuf;

/// The cache directory `name` (created).
pub fn dir(name: &str) -> Result<PathBuf, String> {
    let base = std::env::var_os("CLONELAB_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("clonelab")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/clonelab")))
        // No home at all: inside the checkout, as before the cache existed.
        .unwrap_or_else(|| PathBuf::from("target/cache"));
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}
