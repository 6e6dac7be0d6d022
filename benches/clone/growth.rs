//! The parent sizes of the growth curve: [`Ballast`] (touched private
//! anonymous memory, in 4 KiB or huge pages), and [`Helper`], a forked copy
//! of the bench that holds one size of ballast and runs the growth paths on
//! command, so that every size is measured in the same rounds.
//!
//! Part of `benches/clone/`; `main.rs` starts the helpers before any thread
//! exists. Uses libc (mmap, madvise, fork, pipe2) and std.

use super::exec::Program;
use super::harness::{waitpid_ok, Growth};
use super::process_paths;
use std::cell::RefCell;
use std::ffi::c_void;
use std::io::Write;
use std::time::Duration;

const MIB: usize = 1 << 20;

/// Touched, private, anonymous memory that makes this process `mib` MiB bigger.
pub struct Ballast {
    pub map: *mut c_void,
    pub map_len: usize,
}

impl Ballast {
    /// `huge`: ask for transparent huge pages (MADV_HUGEPAGE on a 2 MiB-aligned
    /// range); otherwise forbid them (MADV_NOHUGEPAGE), so that the plain rows
    /// use 4 KiB pages whatever the host's THP setting.
    pub fn new(mib: usize, huge: bool) -> Ballast {
        if mib == 0 {
            return Ballast {
                map: std::ptr::null_mut(),
                map_len: 0,
            };
        }
        let (len, align) = (mib * MIB, 2 * MIB);
        let map_len = len + align;
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(map, libc::MAP_FAILED, "mmap of {mib} MiB");
        let start = (map as usize + align - 1) & !(align - 1);
        let advice = if huge {
            libc::MADV_HUGEPAGE
        } else {
            libc::MADV_NOHUGEPAGE
        };
        // SAFETY: [start, start + len) lies inside our mapping.
        let ok = unsafe { libc::madvise(start as *mut c_void, len, advice) };
        assert_eq!(ok, 0, "madvise");
        for offset in (0..len).step_by(clonelab::stack::page_size()) {
            // SAFETY: inside our writable mapping.
            unsafe { std::ptr::write_volatile((start + offset) as *mut u8, 1) };
        }
        Ballast { map, map_len }
    }
}

impl Drop for Ballast {
    fn drop(&mut self) {
        if self.map_len > 0 {
            // SAFETY: our own mapping, no longer used.
            unsafe { libc::munmap(self.map, self.map_len) };
        }
    }
}

/// A kB field of /proc/self/smaps_rollup (AnonHugePages, Rss).
pub fn smaps_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The host's THP mode: the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled.
pub fn thp_mode() -> String {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .ok()
        .and_then(|s| Some(s.split_once('[')?.1.split_once(']')?.0.to_string()))
        .unwrap_or_else(|| "unavailable".to_string())
}

/// CPU time used so far by this process (all its threads) and by the
/// children it has reaped: `CLOCK_PROCESS_CPUTIME_ID` (ns) plus
/// `getrusage(RUSAGE_CHILDREN)` (user + system, µs). A child's time joins the
/// second when its parent reaps it.
pub fn cpu_with_children() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(ok, 0, "clock_gettime");
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid rusage to write.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(ok, 0, "getrusage");
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
        + Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// A forked copy of this process that holds the ballast of one parent size
/// and runs the growth paths on command: the "parent" of those children.
/// Commands go down one pipe (path index, operations), the batch's cost in
/// nanoseconds comes back up another. Several helpers live at once, so every
/// size is measured in the same rounds.
///
/// The cost is CPU time, the helper's and its reaped children's
/// ([`cpu_with_children`]), not wall time: a fork of a 1 GiB parent takes
/// tens of milliseconds, longer than a time slice, so on a machine shared with
/// other work its wall time also counts the slices the others ran in, which
/// grow with their number. CPU time is the work fork, exit and exec do.
pub struct Helper {
    pub pid: libc::pid_t,
    pub commands: std::fs::File,
    pub replies: std::fs::File,
}

/// Two pipes' ends as Files: (read, write).
pub fn pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: two fresh descriptors that nothing else owns.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

impl Helper {
    /// Fork a helper with `mib` MiB of touched ballast (in huge pages if
    /// `huge`); returns it and its `/proc/self/smaps_rollup` AnonHugePages and
    /// Rss in kB after touching. Call before this process starts any thread.
    pub fn start(mib: usize, huge: bool, program: &Program) -> (Helper, u64, u64) {
        use std::io::Read;
        let (mut command_in, command_out) = pipe();
        let (reply_in, mut reply_out) = pipe();
        // SAFETY: this process is single-threaded here (see above); the child
        // goes on as an ordinary copy of it and leaves only through _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            drop((command_out, reply_in));
            let ballast = Ballast::new(mib, huge);
            let mut paths = process_paths(program);
            paths.retain(|p| p.growth != Growth::No);
            let memory = [smaps_kb("AnonHugePages"), smaps_kb("Rss")];
            reply_out.write_all(&memory[0].to_le_bytes()).unwrap();
            reply_out.write_all(&memory[1].to_le_bytes()).unwrap();
            let mut command = [0u8; 16];
            while command_in.read_exact(&mut command).is_ok() {
                let index = u64::from_le_bytes(command[..8].try_into().unwrap()) as usize;
                let n = u64::from_le_bytes(command[8..].try_into().unwrap());
                let before = cpu_with_children();
                (paths[index].run)(n);
                let took = (cpu_with_children() - before).as_nanos() as u64;
                reply_out.write_all(&took.to_le_bytes()).unwrap();
            }
            drop(ballast);
            // SAFETY: leave without running the parent's exit handlers twice.
            unsafe { libc::_exit(0) };
        }
        drop((command_in, reply_out));
        let mut helper = Helper {
            pid,
            commands: command_out,
            replies: reply_in,
        };
        let (huge_kb, rss_kb) = (helper.reply(), helper.reply());
        (helper, huge_kb, rss_kb)
    }

    pub fn reply(&mut self) -> u64 {
        use std::io::Read;
        let mut buf = [0u8; 8];
        self.replies
            .read_exact(&mut buf)
            .expect("a helper died: see its panic above");
        u64::from_le_bytes(buf)
    }

    /// Run the helper's path `index` `n` times; the CPU time it took there.
    pub fn run(&mut self, index: usize, n: u64) -> Duration {
        let mut command = [0u8; 16];
        command[..8].copy_from_slice(&(index as u64).to_le_bytes());
        command[8..].copy_from_slice(&n.to_le_bytes());
        self.commands.write_all(&command).unwrap();
        Duration::from_nanos(self.reply())
    }
}

/// End every helper: close all command pipes (each helper also holds copies
/// of the pipes of those forked before it), then reap them.
pub fn finish(helpers: Vec<(String, RefCell<Helper>)>) {
    let pids: Vec<libc::pid_t> = helpers.iter().map(|(_, h)| h.borrow().pid).collect();
    drop(helpers);
    for pid in pids {
        waitpid_ok(pid);
    }
}
