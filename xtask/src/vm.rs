//! Running the suite inside a real kernel under qemu-system (TCG).
//!
//! Build every test binary and the `vm_init` example statically for the arch,
//! pack them into an initramfs (`/init`, `/tests/*`), boot Debian's kernel,
//! and read the serial console. The run passes only if all of these hold:
//! the init's sentinel `CLONELAB-RESULT: binaries N failed 0` is there, every
//! binary exited 0, no test failed, no kernel panic was printed, QEMU's exit
//! status is the init's "pass" code, and all of it happened before the timeout.

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

fn qemu_command(arch: Arch, kernel: &Path, initrd: &Path) -> Command {
    let mut cmd = Command::new(arch.qemu().0);
    match arch {
        Arch::Aarch64 => {
            cmd.args(["-M", "virt", "-cpu", "cortex-a72"])
                .args([
                    "-semihosting-config",
                    "enable=on,target=native,userspace=on",
                ])
                // Under TCG every VM runs 2,000 flag-fuzz cases (the host 5,000)
                // and a 4,000-cycle soak (the host 10,000): a leak of 512 bytes a
                // cycle still exceeds the soak's 2 MiB tolerance.
                .args([
                    "-append",
                    "console=ttyAMA0 panic=-1 quiet clonelab.fuzz=2000 clonelab.soak=4000",
                ]);
        }
        Arch::X86_64 | Arch::I386 => {
            cmd.args(["-M", "pc", "-cpu", "max", "-nic", "none"])
                .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
                .args([
                    "-append",
                    "console=ttyS0 panic=-1 quiet clonelab.fuzz=2000 clonelab.soak=4000",
                ]);
        }
        Arch::Armhf => {
            // The same semihosting exit as aarch64, through `svc 0x123456` in A32.
            // TCG runs this 32-bit guest several times slower: a 2,000-cycle soak
            // (still 130 MiB if a stack leaked) keeps the run in budget.
            cmd.args(["-M", "virt", "-cpu", "cortex-a15", "-nic", "none"])
                .args([
                    "-semihosting-config",
                    "enable=on,target=native,userspace=on",
                ])
                .args([
                    "-append",
                    "console=ttyAMA0 panic=-1 quiet clonelab.fuzz=2000 clonelab.soak=2000",
                ]);
        }
        Arch::Ppc64le => {
            // No exit device: the verdict is the sentinel, then a power-off.
            // TCG runs the 10,000-cycle soak in about 180 s here (measured):
            // 2,000 cycles, as on armhf and s390x, keep the run in budget.
            cmd.args(["-M", "pseries", "-cpu", "power9", "-nic", "none"])
                .args([
                    "-append",
                    "console=hvc0 panic=-1 quiet clonelab.fuzz=2000 clonelab.soak=2000",
                ]);
        }
        Arch::S390x => {
            // No exit device: the verdict is the sentinel, then a power-off.
            cmd.args(["-M", "s390-ccw-virtio", "-cpu", "max", "-nic", "none"])
                .args([
                    "-append",
                    "console=ttysclp0 panic=-1 quiet clonelab.fuzz=2000 clonelab.soak=2000",
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
/// `find . | cpio -o -H newc | gzip`.
fn initramfs(arch: Arch, init: &str, tour: &str, tests: &[String]) -> Result<PathBuf, String> {
    let base = PathBuf::from(format!("target/qemu/{}", arch.name()));
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
    let image = std::fs::canonicalize(&base)
        .map_err(|e| e.to_string())?
        .join("initramfs.cpio.gz");
    let script = format!(
        "find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1 > '{}'",
        image.display()
    );
    let ok = Command::new("sh")
        .args(["-c", &script])
        .current_dir(&root)
        .status()
        .map(|s| s.success());
    if !matches!(ok, Ok(true)) {
        return Err(format!("packing the initramfs failed: {script}"));
    }
    Ok(image)
}

/// Build, boot, run and judge one arch.
pub fn run(arch: Arch) -> Result<Tally, String> {
    let started = Instant::now();
    provision::vm_tools(arch)?;
    if arch.compiler() == crate::arch::Compiler::Debian185 {
        // First: it adds the foreign dpkg arch whose lists name the kernel package.
        crate::toolchain::debian_185(arch)?;
    }
    let kernel = provision::kernel(arch)?;
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
            .ok_or(format!("no {name} built"))
    };
    let initrd = initramfs(arch, &find("/vm_init")?, &find("/clonelab")?, &tests)?;
    let built = started.elapsed();

    let log_path = PathBuf::from(format!("target/qemu/{}.log", arch.name()));
    let mut log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let mut cmd = qemu_command(arch, &kernel, &initrd);
    println!(
        "xtask: booting {} ({} test binaries): {cmd:?}",
        kernel.display(),
        tests.len()
    );
    let mut qemu = cmd.spawn().map_err(|e| format!("cannot start QEMU: {e}"))?;

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

    let label = arch.name();
    let mut tally = Tally::default();
    let mut sentinel: Option<String> = None;
    let mut panicked = false;
    let mut timed_out = false;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let _ = writeln!(log, "{line}");
                println!("[{label}] {line}");
                tally.line(&line);
                if let Some(rest) = line.strip_prefix("CLONELAB-BINARY ") {
                    if !rest.ends_with(": exited with status 0") {
                        tally.failures.push(format!("binary {rest}"));
                    }
                }
                if line.contains("CLONELAB-RESULT:") {
                    sentinel = Some(line.clone());
                }
                panicked |= line.contains("Kernel panic");
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                let _ = qemu.kill();
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = qemu.wait().map_err(|e| e.to_string())?;
    tally.settle();

    let mut problems = Vec::new();
    if timed_out {
        problems.push(format!("timed out after {}s", TIMEOUT.as_secs()));
    }
    if panicked {
        problems.push("the kernel panicked".to_string());
    }
    match &sentinel {
        None => problems.push("no CLONELAB-RESULT sentinel: the init never finished".to_string()),
        Some(line) if !line.trim_end().ends_with("failed 0") => problems.push(line.clone()),
        Some(_) => {}
    }
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
    println!(
        "xtask: {label}: build+pack {:.0}s, VM (boot + suite) {:.0}s, total {:.0}s, serial log {}",
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64(),
        started.elapsed().as_secs_f64(),
        log_path.display()
    );
    Ok(tally)
}
