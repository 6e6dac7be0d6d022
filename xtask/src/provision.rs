//! Getting the aarch64 toolchain and emulator, and building the tests with them.
//!
//! rustup here has only the x86_64 target and cannot download others, so the
//! aarch64 build uses Debian's `rustc-web` (compiler plus aarch64 rlibs from
//! `libstd-rust-web-dev:arm64`), driven by cargo with `RUSTC=/usr/bin/rustc`.
//! Binaries are static so they run under qemu-user and inside a bare initramfs.

use std::path::Path;
use std::process::Command;

/// Debian packages the cross build and qemu-user runs need, with a file each provides.
const CROSS_PACKAGES: &[(&str, &str)] = &[
    ("rustc-web", "/usr/bin/rustc"),
    ("libstd-rust-web-dev:arm64", "/usr/lib/rustlib/aarch64-unknown-linux-gnu/lib"),
    ("gcc-aarch64-linux-gnu", "/usr/bin/aarch64-linux-gnu-gcc"),
    ("libc6-dev-arm64-cross", "/usr/aarch64-linux-gnu/lib/crt1.o"),
    ("qemu-user-static", "/usr/bin/qemu-aarch64-static"),
];

/// Make sure every package in `packages` is installed: as root, install the
/// missing ones with apt; otherwise say exactly what to run.
pub fn ensure_packages(packages: &[(&str, &str)]) -> Result<(), String> {
    let missing: Vec<&str> =
        packages.iter().filter(|(_, file)| !Path::new(file).exists()).map(|(p, _)| *p).collect();
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
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let line = format!("apt-get install -y --no-install-recommends {}", missing.join(" "));
    if !is_root {
        return Err(format!(
            "missing packages. Run:\n  sudo dpkg --add-architecture arm64 && sudo apt-get update && sudo {line}"
        ));
    }
    println!("xtask: installing {}", missing.join(" "));
    let script = format!(
        "dpkg --add-architecture arm64 && apt-get update -qq && DEBIAN_FRONTEND=noninteractive {line} -qq"
    );
    let ok = Command::new("sh").args(["-c", &script]).status().map(|s| s.success()).unwrap_or(false);
    if !ok {
        return Err(format!("installing packages failed: {script}"));
    }
    Ok(())
}

/// The aarch64 toolchain and qemu-user.
pub fn cross_toolchain() -> Result<(), String> {
    ensure_packages(CROSS_PACKAGES)
}

/// Build every test binary of the workspace's clonelab package for `target`
/// with Debian's rustc; return their paths.
pub fn build_tests(target: &str) -> Result<Vec<String>, String> {
    let env_target = target.to_uppercase().replace('-', "_");
    let output = Command::new("cargo")
        .args(["test", "--package", "clonelab", "--no-run", "--message-format=json"])
        .args(["--target", target, "--target-dir", "target/debian"])
        .env("RUSTC", "/usr/bin/rustc")
        .env("RUSTDOC", "/usr/bin/rustdoc")
        .env(format!("CARGO_TARGET_{env_target}_LINKER"), format!("{}-gcc", gcc_prefix(target)))
        .env(
            format!("CARGO_TARGET_{env_target}_RUSTFLAGS"),
            "-C target-feature=+crt-static -C relocation-model=static",
        )
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("building the tests for {target} failed"));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let binaries: Vec<String> = stdout
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\"") && l.contains("\"test\":true"))
        .filter_map(|l| json_string(l, "executable"))
        .collect();
    if binaries.is_empty() {
        return Err(format!("cargo built no test binaries for {target}"));
    }
    Ok(binaries)
}

fn gcc_prefix(target: &str) -> &'static str {
    match target {
        t if t.starts_with("aarch64") => "aarch64-linux-gnu",
        _ => "x86_64-linux-gnu",
    }
}

/// The string value of `"key":"..."` in one line of cargo's JSON (paths need no unescaping here).
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = line[start..].find('"')? + start;
    Some(line[start..end].to_string())
}
