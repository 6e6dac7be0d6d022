//! Debian main's Rust 1.85, unpacked beside the installed compiler.
//!
//! i386, armhf, ppc64el and s390x have standard libraries here only in
//! Debian main (`libstd-rust-web-dev` 1.85); the installed `rustc-web` comes
//! from bookworm-security (a newer release), and a compiler loads only rlibs
//! of its own release. Both `rustc-web` packages cannot be installed at once,
//! so 1.85 is unpacked (`apt-get download` + `dpkg-deb -x`) into the cache
//! (`~/.cache/clonelab/debian-1.85/`, see `cache`), never installed: the compiler, its amd64 rlibs (for
//! build scripts) and the rlibs of each foreign arch, on demand. Its one
//! shared dependency from outside, `libllvm19`, is an ordinary package.
//!
//! Adding a foreign dpkg architecture makes `apt-get update` fail on that
//! arch's security lists (exit 100) while the main lists it needs are
//! fetched; that exit is tolerated here, and the needed package's presence in
//! the lists is what is checked.

use crate::apt::ensure_packages;
use crate::arch::Arch;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory holding `rustc` and `rustdoc` wrappers for Debian's 1.85
/// with `arch`'s rlibs, unpacking whatever is missing first.
pub fn debian_185(arch: Arch) -> Result<PathBuf, String> {
    let root = crate::cache::dir("debian-1.85")?;
    let rustlib = |target: &str| root.join(format!("usr/lib/rustlib/{target}/lib"));
    let mut wanted: Vec<String> = Vec::new();
    let version = || rustc_185_version();
    if !root.join("usr/bin/rustc").exists() || !rustlib("x86_64-unknown-linux-gnu").exists() {
        let v = version()?;
        for p in ["rustc-web", "libstd-rust-web-1.85", "libstd-rust-web-dev"] {
            wanted.push(format!("{p}={v}"));
        }
    }
    if !rustlib(arch.target()).exists() {
        foreign_arch(arch.deb_arch())?;
        wanted.push(format!(
            "libstd-rust-web-dev:{}={}",
            arch.deb_arch(),
            version()?
        ));
    }
    ensure_packages(&[("libllvm19", "/usr/lib/x86_64-linux-gnu/libLLVM.so.19.1")])?;
    if !wanted.is_empty() {
        unpack(&root, &wanted)?;
    }
    for tool in ["rustc", "rustdoc"] {
        let wrapper = root.join(tool);
        let script = format!(
            "#!/bin/sh\n# Debian's {tool} 1.85, unpacked: its librustc_driver is beside it, not installed.\n\
             LD_LIBRARY_PATH='{lib}'${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}} exec '{bin}' \"$@\"\n",
            lib = root.join("usr/lib/x86_64-linux-gnu").display(),
            bin = root.join("usr/bin").join(tool).display(),
        );
        if std::fs::read_to_string(&wrapper).ok().as_deref() != Some(script.as_str()) {
            std::fs::write(&wrapper, script).map_err(|e| e.to_string())?;
            run(Command::new("chmod").arg("+x").arg(&wrapper))?;
        }
    }
    Ok(root)
}

/// The 1.85 version string of `rustc-web` in apt's lists (Debian main).
fn rustc_185_version() -> Result<String, String> {
    let out = run(Command::new("apt-cache").args(["madison", "rustc-web"]))?;
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.split('|').nth(1).map(str::trim))
        .find(|v| v.starts_with("1.85."))
        .map(str::to_string)
        .ok_or_else(|| "apt-cache madison rustc-web lists no 1.85 (run apt-get update?)".into())
}

/// Make dpkg know `deb_arch` and apt list its packages. `apt-get update`
/// exits 100 here once a foreign arch is added (its security lists are
/// missing): tolerated, as long as the package we need is then listed.
fn foreign_arch(deb_arch: &str) -> Result<(), String> {
    let listed = || {
        Command::new("apt-cache")
            .args(["madison", &format!("libstd-rust-web-dev:{deb_arch}")])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("1.85."))
            .unwrap_or(false)
    };
    if listed() {
        return Ok(());
    }
    println!("xtask: adding dpkg architecture {deb_arch} and updating apt's lists");
    run(Command::new("dpkg").args(["--add-architecture", deb_arch]))?;
    let update = Command::new("apt-get").args(["update", "-qq"]).status();
    if !listed() {
        return Err(format!(
            "apt-get update ({update:?}) left libstd-rust-web-dev:{deb_arch} 1.85 unlisted"
        ));
    }
    Ok(())
}

/// `apt-get download` the packages, then `dpkg-deb -x` each into `root`.
fn unpack(root: &Path, packages: &[String]) -> Result<(), String> {
    let debs = root.join("debs");
    std::fs::create_dir_all(&debs).map_err(|e| e.to_string())?;
    println!(
        "xtask: unpacking {} into {}",
        packages.join(" "),
        root.display()
    );
    run(Command::new("apt-get")
        .arg("download")
        .args(packages)
        .current_dir(&debs))?;
    for entry in std::fs::read_dir(&debs).map_err(|e| e.to_string())? {
        let deb = entry.map_err(|e| e.to_string())?.path();
        run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(root))?;
        std::fs::remove_file(&deb).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn run(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}
