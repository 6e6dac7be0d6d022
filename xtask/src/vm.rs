//! Running the suite inside a real kernel under qemu-system (TCG).
//!
//! Build every test binary and the `vm_init` example statically for the arch,
//! pack them into an initramfs (`/init`, `/tests/*`), boot Debian's kernel,
//! and read the serial console. The run passes only if all of these hold:
//! the init's sentinel `CLONELAB-RESULT: binaries N failed 0` is there with N
//! the number of binaries packed, every binary exited 0, the suite's last
//! `suite: done` line counts as many tests as its first line announced, no
//! test failed, no kernel panic was printed, QEMU's exit status is the init's
//! "pass" code, and all of it happened before the timeout.

use crate::progress::Line;
use crate::provision::{self, Arch};
use crate::tally::Tally;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A whole VM run may take this long before it is killed.
const TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The arches `cargo xtask test` runs a VM for (every arch whose suite passes in its VM).
pub const SUITE: [Arch; 6] = [
    Arch::Aarch64,
    Arch::X86_64,
    Arch::I386,
    Arch::Armhf,
    Arch::S390x,
    Arch::Ppc64le,
];

/// The soak and flag-fuzz sizes every VM runs (kernel command line, read by
/// `vm_init`): what each must show, not the host's large counts
/// (docs/testing.md, "What the soak and the fuzz show"). 1,000 soak cycles
/// per API path: a task, descriptor or mapping leaked per cycle shows at once
/// (they are compared exactly), and so does a page of memory a cycle (3.9 MiB,
/// twice the 2 MiB tolerance). 500 fuzz words: the per-rule and per-flag
/// targets are met at any count (the test searches for what the draw
/// misses); 500 gives the random breadth, and the host's 5,000 covers the
/// pairs of flags. The host keeps 10,000 and 5,000 (`cargo xtask soak`: 100,000).
const SIZES: &str = "clonelab.soak=1000 clonelab.fuzz=500";

fn qemu_command(arch: Arch, kernel: &Path, initrd: &Path) -> Command {
    let mut cmd = Command::new(arch.qemu().0);
    match arch {
        Arch::Aarch64 => {
            cmd.args(["-M", "virt", "-cpu", "cortex-a72"])
                .args([
                    "-semihosting-config",
                    "enable=on,target=native,userspace=on",
                ])
                .args([
                    "-append",
                    &format!("console=ttyAMA0 panic=-1 quiet {SIZES}"),
                ]);
        }
        Arch::X86_64 | Arch::I386 => {
            cmd.args(["-M", "pc", "-cpu", "max", "-nic", "none"])
                .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
                .args(["-append", &format!("console=ttyS0 panic=-1 quiet {SIZES}")]);
        }
        Arch::Armhf => {
            // The same semihosting exit as aarch64, through `svc 0x123456` in A32.
            cmd.args(["-M", "virt", "-cpu", "cortex-a15", "-nic", "none"])
                .args([
                    "-semihosting-config",
                    "enable=on,target=native,userspace=on",
                ])
                .args([
                    "-append",
                    &format!("console=ttyAMA0 panic=-1 quiet {SIZES}"),
                ]);
        }
        Arch::Ppc64le => {
            // No exit device: the verdict is the sentinel, then a power-off.
            cmd.args(["-M", "pseries", "-cpu", "power9", "-nic", "none"])
                .args(["-append", &format!("console=hvc0 panic=-1 quiet {SIZES}")]);
        }
        Arch::S390x => {
            // No exit device: the verdict is the sentinel, then a power-off.
            cmd.args(["-M", "s390-ccw-virtio", "-cpu", "max", "-nic", "none"])
                .args([
                    "-append",
                    &format!("console=ttysclp0 panic=-1 quiet {SIZES}"),
                ]);
        }
    }
    cmd.args(["-accel", "tcg", "-smp", "2", "-m", "1024", "-no-reboot"])
        .args(["-display", "none", "-monitor", "none", "-serial", "stdio"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// QEMU's exit status when the init reported a pass.
fn pass_status(arch: Arch) -> i32 {
    match arch {
        // semihosting SYS_EXIT: the code itself (aarch64), ApplicationExit = 0 (armhf)
        Arch::Aarch64 | Arch::Armhf => 0,
        Arch::X86_64 | Arch::I386 => 1, // isa-debug-exit: (0 << 1) | 1
        // A power-off: QEMU exits 0 whatever the result, so only the sentinel tells.
        Arch::Ppc64le | Arch::S390x => 0,
    }
}

/// Lay out `/init`, `/bin/clonelab` (the tour) and `/tests/*`, then
/// `find . | cpio -o -H newc | gzip`. When the same files (by path, size and
/// modification time) were packed last time, that image is used again.
fn initramfs(arch: Arch, init: &str, tour: &str, tests: &[String]) -> Result<PathBuf, String> {
    let base = PathBuf::from(format!("target/qemu/{}", arch.name()));
    std::fs::create_dir_all(&base).map_err(|e| e.to_string())?;
    let image = std::fs::canonicalize(&base)
        .map_err(|e| e.to_string())?
        .join("initramfs.cpio.gz");
    let manifest_path = base.join("initramfs.manifest");
    let mut manifest = String::new();
    for file in std::iter::once(init)
        .chain([tour])
        .chain(tests.iter().map(String::as_str))
    {
        let meta = std::fs::metadata(file).map_err(|e| format!("{file}: {e}"))?;
        let modified = meta.modified().map_err(|e| e.to_string())?;
        manifest += &format!("{file} {} {modified:?}\n", meta.len());
    }
    if image.exists() && std::fs::read_to_string(&manifest_path).ok() == Some(manifest.clone()) {
        return Ok(image);
    }
    let root = base.join("root");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("tests")).map_err(|e| e.to_string())?;
    for dir in ["dev", "proc", "sys", "tmp", "run", "bin"] {
        std::fs::create_dir_all(root.join(dir)).map_err(|e| e.to_string())?;
    }
    std::fs::copy(init, root.join("init")).map_err(|e| format!("{init}: {e}"))?;
    std::fs::copy(tour, root.join("bin/clonelab")).map_err(|e| format!("{tour}: {e}"))?;
    for test in tests {
        let name = Path::new(test).file_name().unwrap();
        std::fs::copy(test, root.join("tests").join(name)).map_err(|e| format!("{test}: {e}"))?;
    }
    // No manifest while the image is being made: a failure leaves none to reuse.
    let _ = std::fs::remove_file(&manifest_path);
    pack(&root, &image)?;
    std::fs::write(&manifest_path, manifest).map_err(|e| e.to_string())?;
    Ok(image)
}

/// `find . | sort | cpio | gzip` of `root` into `image`, every stage's status
/// checked (bash's pipefail): written to a temporary name and renamed only
/// when the whole pipeline succeeded, so a failed stage never leaves a
/// truncated image under the final name.
fn pack(root: &Path, image: &Path) -> Result<(), String> {
    pack_with_path(root, image, None)
}

/// [`pack`], with `PATH` set to `path` for the pipeline's commands when given.
fn pack_with_path(root: &Path, image: &Path, path: Option<&str>) -> Result<(), String> {
    let partial = image.with_extension("gz.partial");
    let script = format!(
        "set -euo pipefail; find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1 > '{}'",
        partial.display()
    );
    let mut bash = Command::new("bash");
    bash.args(["-c", &script]).current_dir(root);
    if let Some(path) = path {
        bash.env("PATH", path);
    }
    let ok = bash.status().map(|s| s.success());
    if !matches!(ok, Ok(true)) {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("packing the initramfs failed ({ok:?}): {script}"));
    }
    std::fs::rename(&partial, image).map_err(|e| format!("{}: {e}", image.display()))
}

/// What the console said of the run's completeness: the init's sentinel, and
/// the suite's announced and last-done test counts.
#[derive(Default)]
struct Completeness {
    sentinel: Option<String>,
    suite_announced: Option<usize>,
    suite_done: Option<usize>,
}

impl Completeness {
    fn line(&mut self, text: &str) {
        if text.contains("CLONELAB-RESULT:") {
            self.sentinel = Some(text.to_string());
        }
        if let Some(rest) = text.strip_prefix("suite: ") {
            let numbers: Vec<usize> = rest
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect();
            if rest.starts_with("done ") && numbers.len() >= 4 {
                self.suite_done = Some(numbers[2]);
            } else if rest.contains(" tests in ") && !numbers.is_empty() {
                self.suite_announced = Some(numbers[0]);
            }
        }
    }

    /// Every way the run fell short of `binaries` packed binaries and the
    /// suite's announced tests.
    fn problems(&self, binaries: usize) -> Vec<String> {
        let mut problems = Vec::new();
        match &self.sentinel {
            None => {
                problems.push("no CLONELAB-RESULT sentinel: the init never finished".to_string())
            }
            Some(line) => {
                let words: Vec<&str> = line.split_whitespace().collect();
                let after = |key: &str| {
                    words
                        .iter()
                        .position(|w| *w == key)
                        .and_then(|i| words.get(i + 1))
                        .and_then(|n| n.parse::<usize>().ok())
                };
                if after("failed") != Some(0) {
                    problems.push(line.clone());
                }
                if after("binaries") != Some(binaries) {
                    problems.push(format!(
                        "the init ran {} binaries, {binaries} were packed: {line}",
                        after("binaries").map_or("?".to_string(), |n| n.to_string())
                    ));
                }
            }
        }
        match (self.suite_announced, self.suite_done) {
            (Some(announced), Some(done)) if announced == done && announced > 0 => {}
            (announced, done) => problems.push(format!(
                "the suite announced {} tests and finished {}",
                announced.map_or("no".to_string(), |n| n.to_string()),
                done.map_or("none".to_string(), |n| n.to_string())
            )),
        }
        problems
    }
}

/// A packed VM run: the kernel to boot and the initramfs with the tests.
pub struct Image {
    pub arch: Arch,
    kernel: PathBuf,
    initrd: PathBuf,
    binaries: usize,
}

/// Everything the VM run of `arch` needs on this machine: packages, its
/// compiler, the kernel (downloaded once into the cache). Returns the kernel.
pub fn provide(arch: Arch) -> Result<PathBuf, String> {
    provision::vm_tools(arch)?;
    if arch.compiler() == crate::arch::Compiler::Debian185 {
        // First: it adds the foreign dpkg arch whose lists name the kernel package.
        crate::toolchain::debian_185(arch)?;
    }
    provision::kernel(arch, false)
}

/// Build the tests, the tour and `vm_init` for `arch` and pack its image.
pub fn build(arch: Arch, kernel: PathBuf) -> Result<Image, String> {
    let tests = provision::build_tests(arch)?;
    let programs = provision::build(
        arch,
        &["build", "--bin", "clonelab", "--example", "vm_init"],
        false,
    )?;
    let find = |name: &str| {
        programs
            .iter()
            .find(|p| p.ends_with(name))
            .cloned()
            .ok_or(format!("no {name} built for {}", arch.name()))
    };
    let initrd = initramfs(arch, &find("/vm_init")?, &find("/clonelab")?, &tests)?;
    Ok(Image {
        arch,
        kernel,
        initrd,
        binaries: tests.len() + 1,
    })
}

/// `cargo xtask qemu --arch A`: provide, build, boot, with the console echoed.
pub fn run(arch: Arch) -> Result<Tally, String> {
    let started = Instant::now();
    let kernel = provide(arch)?;
    let image = build(arch, kernel)?;
    let built = started.elapsed();
    let tally = boot(&image, None);
    println!(
        "xtask: {}: build+pack {:.0}s, VM (boot + suite) {:.0}s, total {:.0}s",
        arch.name(),
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    Ok(tally)
}

/// Boot one image, read its console and judge the run. With a progress
/// `line`, the console goes to the log only and the line shows the phase and
/// the suite's tests done; without one, every console line is echoed.
pub fn boot(image: &Image, line: Option<&Line>) -> Tally {
    let arch = image.arch;
    let label = arch.name();
    let started = Instant::now();
    let log_path = PathBuf::from(format!("target/qemu/{label}.log"));
    let mut log = match std::fs::File::create(&log_path) {
        Ok(log) => log,
        Err(e) => return Tally::broken(&format!("{label} VM: {}: {e}", log_path.display())),
    };
    let mut cmd = qemu_command(arch, &image.kernel, &image.initrd);
    let _ = writeln!(
        log,
        "xtask: booting {} ({} binaries): {cmd:?}",
        image.kernel.display(),
        image.binaries
    );
    if line.is_none() {
        println!(
            "xtask: booting {} ({} binaries): {cmd:?}",
            image.kernel.display(),
            image.binaries
        );
    }
    if let Some(line) = line {
        line.phase("boot");
    }
    let mut qemu = match cmd.spawn() {
        Ok(qemu) => qemu,
        Err(e) => return Tally::broken(&format!("{label} VM: cannot start QEMU: {e}")),
    };

    let (tx, rx) = mpsc::channel::<String>();
    for pipe in [
        Box::new(qemu.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(qemu.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).split(b'\n').map_while(Result::ok) {
                let _ = tx.send(
                    String::from_utf8_lossy(&line)
                        .trim_end_matches('\r')
                        .to_string(),
                );
            }
        });
    }
    drop(tx);

    let mut tally = Tally::default();
    let mut completeness = Completeness::default();
    let mut panicked = false;
    let mut timed_out = false;
    let mut binaries_done = 0;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(text) => {
                let _ = writeln!(log, "{text}");
                match line {
                    Some(line) => follow(line, &text, &mut binaries_done, image.binaries),
                    None => println!("[{label}] {text}"),
                }
                tally.line(&text);
                if let Some(rest) = text.strip_prefix("CLONELAB-BINARY ") {
                    if !rest.ends_with(": exited with status 0") {
                        tally.failures.push(format!("binary {rest}"));
                    }
                }
                completeness.line(&text);
                panicked |= text.contains("Kernel panic");
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                let _ = qemu.kill();
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = match qemu.wait() {
        Ok(status) => status,
        Err(e) => return Tally::broken(&format!("{label} VM: waiting for QEMU: {e}")),
    };
    tally.settle();

    let mut problems = Vec::new();
    if timed_out {
        problems.push(format!("timed out after {}s", TIMEOUT.as_secs()));
    }
    if panicked {
        problems.push("the kernel panicked".to_string());
    }
    problems.extend(completeness.problems(image.binaries));
    if status.code() != Some(pass_status(arch)) {
        problems.push(format!(
            "QEMU exited with {status}, not the pass status {}",
            pass_status(arch)
        ));
    }
    // A run that went wrong without any failed test (a crashed binary, a
    // panic, a timeout) still counts as one failure.
    if !problems.is_empty() && tally.failed == 0 {
        tally.failed = 1;
    }
    tally
        .failures
        .extend(problems.into_iter().map(|p| format!("{label} VM: {p}")));
    let _ = writeln!(
        log,
        "xtask: {label}: VM (boot + suite) {:.0}s",
        started.elapsed().as_secs_f64()
    );
    tally.log = Some(log_path);
    tally
}

/// Move a VM's progress line on from one console line: the phase (boot, then
/// the binary running) and the suite's tests done of its total.
fn follow(line: &Line, text: &str, binaries_done: &mut usize, binaries: usize) {
    if let Some(name) = text.strip_prefix("CLONELAB-BINARY-START ") {
        let name = name.rsplit_once('-').map_or(name, |(stem, _)| stem);
        line.phase(&format!("{name} {}/{binaries}", *binaries_done + 1));
    } else if text.starts_with("CLONELAB-BINARY ") {
        *binaries_done += 1;
    } else if let Some(rest) = text.strip_prefix("suite: ") {
        // "suite: 131 tests in 37 modules, ..." and
        // "suite: done 3/37 modules, 20/131 tests, 4.1 s"
        let numbers: Vec<usize> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        if rest.starts_with("done ") && numbers.len() >= 4 {
            line.tests(numbers[2], numbers[3]);
        } else if rest.contains(" tests in ") && !numbers.is_empty() {
            line.tests(0, numbers[0]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console(lines: &[&str]) -> Completeness {
        let mut c = Completeness::default();
        for l in lines {
            c.line(l);
        }
        c
    }

    #[test]
    fn a_complete_run_has_no_problem() {
        let c = console(&[
            "suite: 12 tests in 3 modules, 2 module process(es) at a time",
            "suite: done 3/3 modules, 12/12 tests, 4.0 s",
            "CLONELAB-RESULT: binaries 4 failed 0",
        ]);
        assert_eq!(c.problems(4), Vec::<String>::new());
    }

    #[test]
    fn fewer_binaries_than_packed_fail() {
        let c = console(&[
            "suite: 12 tests in 3 modules, 2 module process(es) at a time",
            "suite: done 3/3 modules, 12/12 tests, 4.0 s",
            "CLONELAB-RESULT: binaries 3 failed 0",
        ]);
        assert_eq!(c.problems(4).len(), 1, "{:?}", c.problems(4));
    }

    #[test]
    fn a_suite_that_stops_short_fails() {
        let c = console(&[
            "suite: 12 tests in 3 modules, 2 module process(es) at a time",
            "suite: done 2/3 modules, 9/12 tests, 4.0 s",
            "CLONELAB-RESULT: binaries 4 failed 0",
        ]);
        assert_eq!(c.problems(4).len(), 1, "{:?}", c.problems(4));
        let silent = console(&["CLONELAB-RESULT: binaries 4 failed 0"]);
        assert_eq!(silent.problems(4).len(), 1, "{:?}", silent.problems(4));
    }

    #[test]
    fn no_sentinel_or_a_failure_fails() {
        assert!(!console(&[]).problems(1).is_empty());
        let c = console(&[
            "suite: 1 tests in 1 modules",
            "suite: done 1/1 modules, 1/1 tests, 1.0 s",
            "CLONELAB-RESULT: binaries 1 failed 1",
        ]);
        assert_eq!(c.problems(1).len(), 1, "{:?}", c.problems(1));
    }

    /// A stage that fails (here cpio, replaced by `false` through PATH)
    /// fails the pack and leaves no image under the final name.
    #[test]
    fn a_failed_stage_leaves_no_image() {
        let dir = std::env::temp_dir().join(format!("xtask-pack-{}", std::process::id()));
        let bin = dir.join("bin");
        let root = dir.join("root");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("file"), "x").unwrap();
        let fake = bin.join("cpio");
        std::fs::write(&fake, "#!/bin/sh\nexit 1\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let image = dir.join("image.cpio.gz");
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let result = pack_with_path(&root, &image, Some(&path));
        assert!(result.is_err(), "a failed cpio was not noticed");
        assert!(!image.exists(), "a failed pack left an image");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
