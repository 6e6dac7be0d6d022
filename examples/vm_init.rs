//! PID 1 of clonelab's test VMs (`cargo xtask qemu`).
//!
//! The kernel starts this from the initramfs with nothing mounted and no
//! console. It mounts what the tests need, runs every binary in `/tests` —
//! then `/bin/clonelab tour` —
//! each one started with clonelab's own clone (a fork-like [`spawn`] whose
//! child `execve`s) and reaped with clonelab's wait — then prints a sentinel
//! line and ends the VM with a status the host can read:
//!
//! ```text
//! CLONELAB-BINARY spawn-1a2b3c: exited with status 0
//! CLONELAB-RESULT: binaries 6 failed 0
//! ```
//!
//! x86_64 and i386 leave through QEMU's `isa-debug-exit` port, aarch64 and
//! armhf through a semihosting SYS_EXIT; ppc64le and s390x, which have no
//! such device, power off. The host never takes a VM's exit alone as a pass:
//! the sentinel must be there too.

use clonelab::flags::{CloneFlags, ExitSignal, FlagsWord};
use clonelab::{spawn, sys, WaitStatus};
use linux_raw_sys::general as k;
use std::ffi::{c_char, CString};

fn mount(source: &str, target: &str, fstype: &str) {
    let _ = std::fs::create_dir_all(target);
    let c = |s: &str| CString::new(s).unwrap();
    // SAFETY: PID 1 owns the mount table of this fresh VM.
    if let Err(e) = unsafe { sys::mount(&c(source), &c(target), Some(&c(fstype)), 0) } {
        println!("CLONELAB-INIT: mount {fstype} on {target} failed: {e}");
    }
}

/// Make /dev/console fds 0, 1 and 2 (the kernel found no /dev/console in the initramfs).
fn open_console() {
    if let Ok(console) = sys::open(c"/dev/console", k::O_RDWR, 0) {
        // Raw from here: the console may itself have become 0, 1 or 2, and stays open then.
        let fd = console.into_raw();
        // SAFETY: fd stays open until the close below.
        let console = unsafe { sys::BorrowedFd::borrow_raw(fd) };
        for target in 0..3 {
            // SAFETY: PID 1 owns its standard descriptors.
            let _ = unsafe { sys::dup3(console, target, 0) };
        }
        if fd > 2 {
            // SAFETY: fd is ours and duplicated above.
            let _ = unsafe { sys::close(fd) };
        }
    }
}

/// Run one program in a child made by clonelab and wait for it.
///
/// Debian's 6.1 kernels can leave a file unpacked from the initramfs "open
/// for writing" (its last close is deferred), so execve says ETXTBSY; such a
/// program is first copied to /tmp (a copy closed by us is not busy).
fn run(path: &str, arg: Option<&std::ffi::CStr>) -> Result<WaitStatus, String> {
    let status = spawn_exec(path, arg);
    if status != Ok(WaitStatus::Exited(EXEC_BUSY)) {
        return status;
    }
    let copy = format!("/tmp/{}", path.rsplit('/').next().unwrap_or("program"));
    match std::fs::copy(path, &copy) {
        Ok(_) => {
            println!("CLONELAB-INIT: {path} was busy (ETXTBSY); running a copy");
            let status = spawn_exec(&copy, arg);
            let _ = std::fs::remove_file(&copy);
            status
        }
        Err(e) => Err(format!("could not copy {path}: {e}")),
    }
}

/// The environment the host asked for on the kernel command line, for
/// arches whose emulation is slow: `clonelab.soak=N` becomes `CLONELAB_SOAK=N`
/// (soak cycles, tests/soak.rs) and `clonelab.fuzz=N` becomes
/// `CLONELAB_FUZZ=N` (flag-fuzz cases, tests/flag_fuzz.rs).
fn cmdline_settings() -> Vec<CString> {
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    cmdline
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("clonelab."))
        .filter_map(|w| w.split_once('='))
        .filter(|(key, n)| ["soak", "fuzz"].contains(key) && n.parse::<u32>().is_ok())
        .filter_map(|(key, n)| CString::new(format!("CLONELAB_{}={n}", key.to_uppercase())).ok())
        .collect()
}

/// Exit status of a child whose execve said ETXTBSY (127: any other failure).
const EXEC_BUSY: i32 = 126;

fn spawn_exec(path: &str, arg: Option<&std::ffi::CStr>) -> Result<WaitStatus, String> {
    let cpath = CString::new(path).unwrap();
    let args = [
        cpath.as_ptr(),
        arg.map_or(std::ptr::null(), |a| a.as_ptr()),
        std::ptr::null(),
    ];
    let env_strings = [c"CLONELAB_VM=1", c"PATH=/bin", c"RUST_BACKTRACE=1"];
    let mut env: Vec<*const c_char> = env_strings.iter().map(|s| s.as_ptr()).collect();
    let settings = cmdline_settings();
    env.extend(settings.iter().map(|s| s.as_ptr()));
    env.push(std::ptr::null());
    let word = FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD);
    let child = spawn(word, || {
        // SAFETY: argv and envp are NULL-terminated arrays of C strings built above.
        let errno = unsafe { sys::execve(&cpath, args.as_ptr(), env.as_ptr()) };
        let _ = sys::write(
            sys::BorrowedFd::STDERR,
            format!("execve {path}: {errno}\n").as_bytes(),
        );
        if errno == clonelab::Errno::ETXTBSY {
            EXEC_BUSY
        } else {
            127
        }
    });
    child
        .and_then(|mut c| c.wait())
        .map_err(|e| format!("could not run: {e}"))
}

/// Reap orphans the tests left behind (they are reparented to PID 1).
fn reap_orphans() {
    while let Ok((pid, _)) = sys::wait4(-1, k::__WALL | k::WNOHANG) {
        if pid <= 0 {
            break;
        }
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
fn exit_vm(code: u32) {
    // SAFETY: iopl(3) lets PID 1 (root) use I/O ports; the write to port 0xf4
    // hits QEMU's isa-debug-exit device, which ends QEMU with (code << 1) | 1.
    unsafe {
        clonelab::arch::syscall1(k::__NR_iopl, 3);
        std::arch::asm!(
            "out dx, eax", // isa-debug-exit: QEMU exits with (eax << 1) | 1
            in("dx") 0xf4u16,
            in("eax") code,
        );
    }
}

#[cfg(target_arch = "aarch64")]
fn exit_vm(code: u32) {
    // ADP_Stopped_ApplicationExit (0x20026) and the exit code, per the Arm
    // semihosting spec's SYS_EXIT (0x18) in its 64-bit form.
    let block: [u64; 2] = [0x20026, code as u64];
    // SAFETY: QEMU runs with semihosting enabled for user space, so `hlt #0xf000`
    // traps into QEMU, which exits with `code`; without it the hlt is SIGILL.
    unsafe {
        std::arch::asm!(
            "hlt #0xf000", // semihosting call: operation in w0, parameter block in x1
            inout("x0") 0x18u64 => _,
            in("x1") block.as_ptr(),
        );
    }
}

#[cfg(target_arch = "arm")]
fn exit_vm(code: u32) {
    // The 32-bit semihosting SYS_EXIT (0x18) takes the reason itself, not a
    // block: ADP_Stopped_ApplicationExit (0x20026) makes QEMU exit 0, any
    // other reason (here ADP_Stopped_RunTimeErrorUnknown, 0x20023) exit 1.
    let reason: u32 = if code == 0 { 0x20026 } else { 0x20023 };
    // SAFETY: QEMU runs with semihosting enabled for user space, so this
    // `svc` traps into QEMU, which exits; without it the kernel gets an
    // unknown syscall and returns -ENOSYS.
    unsafe {
        std::arch::asm!(
            "svc #0x123456", // the A32 semihosting call: operation in r0, parameter in r1
            inout("r0") 0x18u32 => _,
            in("r1") reason,
        );
    }
}

/// ppc64le (pseries) and s390x (s390-ccw-virtio) have no exit device that
/// carries a code: the power-off below ends QEMU with status 0 either way,
/// and the host's verdict rests on the sentinel line alone.
#[cfg(any(target_arch = "powerpc64", target_arch = "s390x"))]
fn exit_vm(_code: u32) {}

fn main() {
    mount("devtmpfs", "/dev", "devtmpfs");
    open_console();
    mount("proc", "/proc", "proc");
    mount("sysfs", "/sys", "sysfs");
    mount("tmpfs", "/tmp", "tmpfs");
    mount("tmpfs", "/run", "tmpfs");
    mount("cgroup2", "/sys/fs/cgroup", "cgroup2");
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!(
        "CLONELAB-INIT: pid {} on Linux {} ({})",
        sys::getpid(),
        release.trim(),
        std::env::consts::ARCH
    );

    let mut binaries: Vec<String> = std::fs::read_dir("/tests")
        .map(|d| {
            d.filter_map(|e| Some(e.ok()?.path().to_str()?.to_string()))
                .collect()
        })
        .unwrap_or_default();
    binaries.sort();
    // The test binaries, then the tour (`clonelab tour`).
    let mut runs: Vec<(String, Option<&std::ffi::CStr>)> =
        binaries.into_iter().map(|b| (b, None)).collect();
    runs.push(("/bin/clonelab".to_string(), Some(c"tour")));
    let mut failed = 0;
    for (binary, arg) in &runs {
        let name = binary.rsplit('/').next().unwrap_or(binary);
        println!("CLONELAB-BINARY-START {name}");
        let status = run(binary, *arg);
        reap_orphans();
        if status != Ok(WaitStatus::Exited(0)) {
            failed += 1;
        }
        match status {
            Ok(status) => println!("CLONELAB-BINARY {name}: {status}"),
            Err(e) => println!("CLONELAB-BINARY {name}: {e}"),
        }
    }
    println!("CLONELAB-RESULT: binaries {} failed {failed}", runs.len());
    // tcdrain: wait until the console has sent the sentinel, not merely
    // queued it; an exit device stops QEMU at once, mid-transmission.
    // SAFETY: TCSBRK with argument 1 only waits for fd 1's output to drain.
    let _ = unsafe {
        clonelab::arch::syscall3(k::__NR_ioctl, 1, linux_raw_sys::ioctl::TCSBRK as usize, 1)
    };
    exit_vm(if failed == 0 && runs.len() > 1 { 0 } else { 1 });
    // Only reached if the exit device is missing: power off (QEMU then exits 0,
    // which the host does not count as a pass without the sentinel).
    // SAFETY: PID 1 may power the VM off; nothing is left to flush.
    unsafe {
        clonelab::arch::syscall4(
            k::__NR_reboot,
            k::LINUX_REBOOT_MAGIC1 as usize,
            k::LINUX_REBOOT_MAGIC2 as usize,
            k::LINUX_REBOOT_CMD_POWER_OFF as usize,
            0,
        );
    }
}
