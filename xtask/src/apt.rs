//! Debian packages: install the ones a step needs and this machine lacks.
//!
//! Used by `provision` (cross linkers, emulators) and `toolchain` (what
//! Debian's 1.85 compiler loads). Imports nothing from the rest of the xtask.

use std::path::Path;
use std::process::Command;

/// Make sure every package in `packages` is installed: as root, install the
/// missing ones with apt; otherwise say exactly what to run.
pub fn ensure_packages(packages: &[(&str, &str)]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(_, file)| !Path::new(file).exists())
        .map(|(p, _)| *p)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !Path::new("/usr/bin/apt-get").exists() {
        return Err(format!(
            "missing: {} (Debian package names). This is not a Debian host: install the \
             equivalents and re-run.",
            missing.join(" ")
        ));
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let line = format!(
        "apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    if !is_root {
        return Err(format!(
            "missing packages. Run:\n  sudo dpkg --add-architecture arm64 && sudo apt-get update && sudo {line}"
        ));
    }
    println!("xtask: installing {}", missing.join(" "));
    let script = format!(
        // `apt-get update` exits 100 when a foreign arch's security lists are
        // missing (i386, armhf, ... added for the 1.85 rlibs), though the main
        // lists are fetched: the install's own status is what counts.
        "dpkg --add-architecture arm64 && {{ apt-get update -qq || true; }} && DEBIAN_FRONTEND=noninteractive {line} -qq"
    );
    let ok = Command::new("sh")
        .args(["-c", &script])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        return Err(format!("installing packages failed: {script}"));
    }
    Ok(())
}
