//! Getting the cross toolchains, emulators and kernels, and building the tests with them.
//!
//! rustup here has only the x86_64 target and cannot download others, so the
//! aarch64 build uses Debian's `rustc-web` (compiler plus aarch64 rlibs from
//! `libstd-rust-web-dev:arm64`), driven by cargo with `RUSTC=/usr/bin/rustc`;
//! i386, armhf, ppc64le and s390x use Debian main's 1.85, unpacked into
//! the cache (see `toolchain`). Binaries are static so they run under
//! qemu-user and inside a bare initramfs.

use crate::apt::ensure_packages;
use std::process::Command;

/// Debian packages the cross build and qemu-user runs need, with a file each provides.
const CROSS_PACKAGES: &[(&str, &str)] = &[
    ("rustc-web", "/usr/bin/rustc"),
    (
        "libstd-rust-web-dev:arm64",
        "/usr/lib/rustlib/aarch64-unknown-linux-gnu/lib",
    ),
    ("gcc-aarch64-linux-gnu", "/usr/bin/aarch64-linux-gnu-gcc"),
    ("libc6-dev-arm64-cross", "/usr/aarch64-linux-gnu/lib/crt1.o"),
    ("qemu-user-static", "/usr/bin/qemu-aarch64-static"),
];

/// The aarch64 toolchain and qemu-user.
pub fn cross_toolchain() -> Result<(), String> {
    ensure_packages(CROSS_PACKAGES)
}

pub use crate::arch::Arch;
use crate::arch::Compiler;

/// Run `cargo <args>` for `arch` as static binaries and return the paths of
/// the executables it produced (`only_tests`: just test harness binaries).
///
/// aarch64 builds with Debian's rustc (the only one here with aarch64 rlibs);
/// x86_64 with rustup's; the others with Debian's 1.85. Separate target dirs
/// keep the compilers' caches apart. cargo's own messages go to
/// `target/xtask/build-<arch>.log`; a failure returns its errors.
pub fn build(arch: Arch, args: &[&str], only_tests: bool) -> Result<Vec<String>, String> {
    let target = arch.target();
    let env_target = target.to_uppercase().replace('-', "_");
    let log_path = format!("target/xtask/build-{}.log", arch.name());
    let log = std::fs::create_dir_all("target/xtask")
        .and_then(|()| std::fs::File::create(&log_path))
        .map_err(|e| format!("{log_path}: {e}"))?;
    let mut cmd = Command::new("cargo");
    cmd.args(args)
        .args([
            "--package",
            "clonelab",
            "--message-format=json",
            "--target",
            target,
        ])
        .env(
            format!("CARGO_TARGET_{env_target}_RUSTFLAGS"),
            // Static, so they run in a bare initramfs; no debuginfo, which would
            // make the initramfs four times larger (and slower to unpack under TCG).
            // `clonelab_vm`: built for the VMs (Cargo.toml leaves the host-only
            // trybuild out of such builds).
            "-C target-feature=+crt-static -C relocation-model=static -C strip=debuginfo --cfg clonelab_vm",
        )
        // No debuginfo generated either: stripped anyway, and the builds are
        // quicker without it (these target dirs are the VMs' own).
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env("CARGO_PROFILE_TEST_DEBUG", "false")
        .stderr(log);
    match arch.compiler() {
        Compiler::DebianInstalled => {
            cmd.args(["--target-dir", "target/debian"])
                .env("RUSTC", "/usr/bin/rustc")
                .env("RUSTDOC", "/usr/bin/rustdoc");
        }
        Compiler::Debian185 => {
            let tools = crate::toolchain::debian_185(arch)?;
            cmd.args(["--target-dir", "target/debian-1.85"])
                .env("RUSTC", tools.join("rustc"))
                .env("RUSTDOC", tools.join("rustdoc"));
        }
        Compiler::Rustup => {
            cmd.args(["--target-dir", "target/static"]);
        }
    }
    if let Some(linker) = arch.linker() {
        cmd.env(format!("CARGO_TARGET_{env_target}_LINKER"), linker);
    }
    let output = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        let messages = std::fs::read_to_string(&log_path).unwrap_or_default();
        let errors: Vec<&str> = messages
            .lines()
            .skip_while(|l| !l.starts_with("error"))
            .take(40)
            .collect();
        return Err(format!(
            "cargo {} for {target} failed ({log_path}):\n{}",
            args.join(" "),
            errors.join("\n")
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let executables: Vec<String> = stdout
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
        .filter(|l| !only_tests || is_test_profile(l))
        .filter_map(|l| json_string(l, "executable"))
        .collect();
    if executables.is_empty() {
        return Err(format!(
            "cargo {} built no executables for {target}",
            args.join(" ")
        ));
    }
    Ok(executables)
}

/// Every test binary of the clonelab package, built for `arch`.
pub fn build_tests(arch: Arch) -> Result<Vec<String>, String> {
    // --benches: the benches too, which run once each as a smoke test — on
    // x86_64 and aarch64, the arches their baselines have asm for.
    if matches!(arch, Arch::X86_64 | Arch::Aarch64) {
        build(arch, &["test", "--no-run", "--tests", "--benches"], true)
    } else {
        build(arch, &["test", "--no-run", "--tests"], true)
    }
}

/// Whether a compiler-artifact line was built with the test profile (a test
/// harness binary), as opposed to a bin target built alongside.
fn is_test_profile(line: &str) -> bool {
    line.split_once("\"profile\":{")
        .and_then(|(_, rest)| rest.split_once('}'))
        .is_some_and(|(profile, _)| profile.contains("\"test\":true"))
}

/// The string value of `"key":"..."` in one line of cargo's JSON (paths need no unescaping here).
pub(crate) fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = line[start..].find('"')? + start;
    Some(line[start..end].to_string())
}

/// Packages every VM run needs: cpio for the initramfs, xz for the x86_64 kernel.
const VM_PACKAGES: &[(&str, &str)] = &[("cpio", "/usr/bin/cpio"), ("xz-utils", "/usr/bin/xz")];

/// Everything a VM run of `arch` needs: its cross toolchain, qemu-system, cpio.
pub fn vm_tools(arch: Arch) -> Result<(), String> {
    match arch.compiler() {
        Compiler::DebianInstalled => ensure_packages(CROSS_PACKAGES)?,
        Compiler::Debian185 | Compiler::Rustup => {}
    }
    ensure_packages(arch.cross_packages())?;
    let (qemu, package) = arch.qemu();
    ensure_packages(&[(package, &format!("/usr/bin/{qemu}"))])?;
    ensure_packages(VM_PACKAGES)
}

/// Run `cmd`; its output if it exited 0, else an error with its stderr.
pub(crate) fn run_ok(cmd: &mut Command) -> Result<std::process::Output, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out)
}

/// A bootable kernel for `arch`: `$CLONELAB_KERNEL_<ARCH>` if set, else Debian's
/// current kernel package, downloaded once into the cache's `kernels/` with only
/// the kernel image extracted. For x86_64 the bzImage is decompressed to an ELF
/// vmlinux, which QEMU boots through PVH in about half the time.
///
/// Unless `refresh` (`cargo xtask provision`), a kernel already in the cache
/// is used without asking apt which one is current (that look-up takes
/// seconds per arch).
///
/// A kernel gets its final name only once it is whole: it is extracted (and
/// for x86_64 decompressed) under a `.partial` name, checked against the
/// md5sum its package lists, then renamed; a download or extraction cut short
/// leaves nothing a later run would take. Two checkouts sharing the cache
/// take turns: the cache's lock file is held throughout.
pub fn kernel(arch: Arch, refresh: bool) -> Result<std::path::PathBuf, String> {
    let arch = arch.kernel_arch();
    if let Ok(path) = std::env::var(arch.kernel_env_var()) {
        return Ok(path.into());
    }
    let dir = &crate::cache::dir("kernels")?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".lock"))
        .map_err(|e| format!("{}/.lock: {e}", dir.display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}/.lock: {e}", dir.display()))?;
    let kernel = kernel_locked(arch, dir, refresh);
    let _ = lock.unlock();
    kernel
}

/// [`kernel`], with the cache's lock held.
fn kernel_locked(
    arch: Arch,
    dir: &std::path::Path,
    refresh: bool,
) -> Result<std::path::PathBuf, String> {
    let (meta, image_name) = arch.kernel_package();
    if !refresh {
        if let Some(cached) = cached_kernel(arch, dir) {
            return Ok(cached);
        }
    }
    let deb_arch = arch.deb_arch();
    let depends = run_ok(Command::new("apt-cache").args(["depends", meta]))?;
    let package = String::from_utf8_lossy(&depends.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Depends: ").map(str::to_string))
        .filter(|p| p.starts_with("linux-image-"))
        .ok_or_else(|| {
            format!("apt-cache names no kernel package for {meta} (run apt-get update?)")
        })?;
    let version = package
        .trim_start_matches("linux-image-")
        .split(':')
        .next()
        .unwrap()
        .to_string();
    let image_name = image_name.replace("{}", &version);
    let image = dir.join(&image_name);
    let booted = match arch {
        Arch::X86_64 => dir.join(format!("vmlinux-{version}")),
        _ => image.clone(),
    };
    if booted.exists() {
        return Ok(booted);
    }
    println!(
        "xtask: downloading {package} ({deb_arch}) into {}",
        dir.display()
    );
    run_ok(
        Command::new("apt-get")
            .args(["download", &package])
            .current_dir(dir),
    )?;
    let deb = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            name.starts_with(&format!("linux-image-{version}_")) && name.ends_with(".deb")
        })
        .ok_or("apt-get download left no .deb")?;
    let partial = dir.join(format!("{image_name}.partial"));
    let script = format!(
        "set -euo pipefail; dpkg-deb --fsys-tarfile '{}' | tar -xO ./boot/{image_name} > '{}'",
        deb.display(),
        partial.display()
    );
    let extracted = run_ok(Command::new("bash").args(["-c", &script]))
        .and_then(|_| check_against_package(&deb, &format!("boot/{image_name}"), &partial));
    let _ = std::fs::remove_file(&deb);
    if let Err(e) = extracted {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &image).map_err(|e| format!("{}: {e}", image.display()))?;
    if arch == Arch::X86_64 {
        let partial = dir.join(format!("vmlinux-{version}.partial"));
        if let Err(e) = decompress_bzimage(&image, &partial) {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, &booted).map_err(|e| format!("{}: {e}", booted.display()))?;
    }
    Ok(booted)
}

/// Whether `file` is the package's `member` exactly: its md5 against the one
/// the package's `md5sums` lists.
fn check_against_package(
    deb: &std::path::Path,
    member: &str,
    file: &std::path::Path,
) -> Result<(), String> {
    let script = format!(
        "set -euo pipefail; dpkg-deb --ctrl-tarfile '{}' | tar -xO ./md5sums",
        deb.display()
    );
    let listed = run_ok(Command::new("bash").args(["-c", &script]))?;
    let listed = String::from_utf8_lossy(&listed.stdout);
    let want = listed
        .lines()
        .find_map(|l| {
            let (sum, name) = l.split_once("  ")?;
            (name.trim() == member).then(|| sum.trim().to_string())
        })
        .ok_or(format!("{}: md5sums lists no {member}", deb.display()))?;
    let got = run_ok(Command::new("md5sum").arg(file))?;
    let got = String::from_utf8_lossy(&got.stdout);
    let got = got.split_whitespace().next().unwrap_or_default();
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{}: md5 {got}, but {} lists {want} for {member}: extraction cut short?",
            file.display(),
            deb.display()
        ))
    }
}

/// Order two names by their runs of digits as numbers and the rest as text,
/// so that `6.1.0-10` sorts above `6.1.0-9`.
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for (x, y) in ra.iter().zip(rb.iter()) {
        let order = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if order != std::cmp::Ordering::Equal {
            return order;
        }
    }
    ra.len().cmp(&rb.len())
}

/// The kernel of `arch` already in the cache (the last by name), as booted: the name is
/// `vmlinu?-VERSION-FLAVOUR` (x86_64's decompressed `vmlinux-…-amd64`).
fn cached_kernel(arch: Arch, dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let (meta, image_name) = arch.kernel_package();
    let flavour = meta.strip_prefix("linux-image-")?.split(':').next()?;
    let prefix = match arch {
        Arch::X86_64 => "vmlinux-",
        _ => image_name.strip_suffix("{}")?,
    };
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(&format!("-{flavour}")))
        })
        .collect();
    found.sort_by(|a, b| {
        version_order(
            &a.file_name().unwrap_or_default().to_string_lossy(),
            &b.file_name().unwrap_or_default().to_string_lossy(),
        )
    });
    found.pop()
}

/// Extract the ELF vmlinux from an xz-compressed bzImage: the xz stream starts
/// at the magic bytes FD 37 7A 58 5A 00.
fn decompress_bzimage(bzimage: &std::path::Path, out: &std::path::Path) -> Result<(), String> {
    let bytes = std::fs::read(bzimage).map_err(|e| e.to_string())?;
    let magic = [0xfd, b'7', b'z', b'X', b'Z', 0];
    let start = bytes
        .windows(6)
        .position(|w| w == magic)
        .ok_or("no xz stream in the bzImage")?;
    let mut xz = Command::new("xz")
        .args(["-dcq", "--single-stream"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("xz: {e}"))?;
    let mut stdin = xz.stdin.take().unwrap();
    let payload = bytes[start..].to_vec();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&payload);
    });
    let output = xz.wait_with_output().map_err(|e| e.to_string())?;
    let _ = feeder.join();
    if !output.stdout.starts_with(b"\x7fELF") {
        return Err("decompressed kernel is not an ELF vmlinux".into());
    }
    std::fs::write(out, output.stdout).map_err(|e| e.to_string())
}

#[cfg(test)]
mod kernel_cache_tests {
    use super::{check_against_package, version_order};
    use std::cmp::Ordering::*;

    /// A kernel image cut short (or changed) is told from the one its package
    /// lists: a package is built here with dpkg-deb, its md5sums included.
    #[test]
    fn an_image_is_checked_against_its_package() {
        let dir = std::env::temp_dir().join(format!("xtask-deb-{}", std::process::id()));
        let root = dir.join("pkg");
        std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
        std::fs::create_dir_all(root.join("boot")).unwrap();
        let image: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(root.join("boot/vmlinuz-test"), &image).unwrap();
        std::fs::write(
            root.join("DEBIAN/control"),
            "Package: xtask-test\nVersion: 1\nArchitecture: all\nMaintainer: x <x@x>\nDescription: t\n",
        )
        .unwrap();
        let sums = std::process::Command::new("md5sum")
            .arg("boot/vmlinuz-test")
            .current_dir(&root)
            .output()
            .unwrap();
        std::fs::write(root.join("DEBIAN/md5sums"), &sums.stdout).unwrap();
        let deb = dir.join("test.deb");
        let built = std::process::Command::new("dpkg-deb")
            .args(["--build", "--root-owner-group"])
            .arg(&root)
            .arg(&deb)
            .output()
            .unwrap();
        assert!(built.status.success(), "{built:?}");
        let whole = dir.join("whole");
        std::fs::write(&whole, &image).unwrap();
        assert_eq!(
            check_against_package(&deb, "boot/vmlinuz-test", &whole),
            Ok(())
        );
        let cut = dir.join("cut");
        std::fs::write(&cut, &image[..image.len() / 2]).unwrap();
        let refused = check_against_package(&deb, "boot/vmlinuz-test", &cut);
        assert!(
            refused.is_err_and(|e| e.contains("cut short")),
            "a cut image passed"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn versions_sort_as_numbers() {
        assert_eq!(
            version_order("vmlinuz-6.1.0-10-arm64", "vmlinuz-6.1.0-9-arm64"),
            Greater
        );
        assert_eq!(
            version_order("vmlinuz-6.1.0-9-arm64", "vmlinuz-6.1.0-57-arm64"),
            Less
        );
        assert_eq!(
            version_order("vmlinux-6.1.0-57-amd64", "vmlinux-6.1.0-57-amd64"),
            Equal
        );
        let mut names = vec![
            "k-6.1.0-9-x",
            "k-6.1.0-100-x",
            "k-6.1.0-10-x",
            "k-6.10.0-1-x",
        ];
        names.sort_by(|a, b| version_order(a, b));
        assert_eq!(
            names,
            [
                "k-6.1.0-9-x",
                "k-6.1.0-10-x",
                "k-6.1.0-100-x",
                "k-6.10.0-1-x"
            ]
        );
    }

    /// The cache's lock is exclusive: a second holder must wait.
    #[test]
    fn the_cache_lock_is_exclusive() {
        let path = std::env::temp_dir().join(format!("xtask-lock-{}", std::process::id()));
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .unwrap()
        };
        let (first, second) = (open(), open());
        first.lock().unwrap();
        assert!(second.try_lock().is_err(), "a second holder got the lock");
        first.unlock().unwrap();
        assert!(second.try_lock().is_ok(), "the lock was not released");
        let _ = std::fs::remove_file(&path);
    }
}
