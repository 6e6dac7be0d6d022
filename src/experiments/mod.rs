//! The flag experiments: each one makes children with chosen clone flags and
//! *observes* what the flags changed.
//!
//! Every experiment module has the same shape:
//! - `observe() -> Result<Observed, Error>` runs the experiment and returns
//!   plain values (what the parent read, which inode it saw, ...) and the
//!   [`Calls`] record of every clone/clone3 call it made, each with all its
//!   arguments and its result ([`record`]);
//! - [`Recorded`] gives the record and the checks: each claim with the values
//!   it rests on, every claim with a contrast where the flag is missing;
//! - `Observed` prints the values for the tour.
//!
//! One record serves everything: the tour (`clonelab tour`) renders every
//! call from it (C call, flag bits, the registers ptrace observed, the other
//! arch's derived image) and checks it against the trace; the tests
//! (`tests/<name>.rs`, through `common::observe_traced`) assert the same; the
//! chapters' call tables (`docs/<name>.md`) are rendered from it by
//! `cargo xtask docs`. All of it is `no_std` and uses only clonelab's raw
//! syscalls, so the children can run it without libc or thread-local storage.

use crate::clone::CloneCall;
use crate::error::Error;
use crate::flags::{CloneFlags, FlagsWord};
use crate::spawn::{scope, spawn};
use crate::stack::Stack;
use crate::sys::{self, Pid};
use crate::wait::WaitStatus;
use core::fmt;
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use linux_raw_sys::general as k;
pub use record::{Calls, Made, Recorded};

#[doc = include_str!("../../docs/clone-fs.md")]
pub mod clone_fs;
#[doc = include_str!("../../docs/clone-vm.md")]
pub mod clone_vm;
#[doc = include_str!("../../docs/errors.md")]
pub mod errors;
#[doc = include_str!("../../docs/exit-signal.md")]
pub mod exit_signal;
#[doc = include_str!("../../docs/files.md")]
pub mod files;
#[doc = include_str!("../../docs/fork-vfork-thread.md")]
pub mod fork_vfork_thread;
#[doc = include_str!("../../docs/into-cgroup.md")]
pub mod into_cgroup;
#[doc = include_str!("../../docs/namespaces.md")]
pub mod namespaces;
#[doc = include_str!("../../docs/newnet.md")]
pub mod newnet;
#[doc = include_str!("../../docs/newns.md")]
pub mod newns;
#[doc = include_str!("../../docs/newpid.md")]
pub mod newpid;
#[doc = include_str!("../../docs/newuser.md")]
pub mod newuser;
#[doc = include_str!("../../docs/pidfd.md")]
pub mod pidfd;
pub mod record;
#[doc = include_str!("../../docs/relatives.md")]
pub mod relatives;
#[doc = include_str!("../../docs/settls.md")]
pub mod settls;
#[doc = include_str!("../../docs/signals.md")]
pub mod signals;
#[doc = include_str!("../../docs/sysvsem.md")]
pub mod sysvsem;
#[doc = include_str!("../../docs/tids.md")]
pub mod tids;

/// One page of `MAP_SHARED` memory: a fork-like child's writes land here
/// where the parent can read them, plus a gate the child can wait at.
pub struct SharedPage {
    page: *mut Shared,
}

#[repr(C)]
struct Shared {
    gate: AtomicI32,
    ready: AtomicI32,
    slots: [AtomicU64; 64],
}

// SAFETY: the page holds only atomics.
unsafe impl Sync for SharedPage {}
// SAFETY: as above.
unsafe impl Send for SharedPage {}

impl SharedPage {
    /// Map a fresh zeroed page, shared with every child cloned after this.
    pub fn new() -> Result<SharedPage, Error> {
        let len = core::mem::size_of::<Shared>();
        let page = sys::mmap_anonymous(len, k::PROT_READ | k::PROT_WRITE, k::MAP_SHARED)?;
        Ok(SharedPage {
            page: page as *mut Shared,
        })
    }

    fn shared(&self) -> &Shared {
        // SAFETY: the mapping lives as long as self, is zero-initialised (a valid
        // value for atomics), and is only accessed through atomics.
        unsafe { &*self.page }
    }

    /// Slot `i` (0..64).
    pub fn slot(&self, i: usize) -> &AtomicU64 {
        &self.shared().slots[i]
    }

    /// Store `value` in slot `i`.
    pub fn put(&self, i: usize, value: u64) {
        self.slot(i).store(value, Ordering::SeqCst);
    }

    /// Read slot `i`.
    pub fn get(&self, i: usize) -> u64 {
        self.slot(i).load(Ordering::SeqCst)
    }

    /// Block until [`open_gate`](Self::open_gate) (a shared futex on this page).
    pub fn wait_gate(&self) {
        let gate = &self.shared().gate;
        while gate.load(Ordering::SeqCst) == 0 {
            let _ = sys::futex_wait(gate, 0);
        }
    }

    /// Child: say "my part is done" (wakes [`wait_ready`](Self::wait_ready)).
    pub fn signal_ready(&self) {
        let ready = &self.shared().ready;
        ready.store(1, Ordering::SeqCst);
        let _ = sys::futex_wake(ready, u32::MAX);
    }

    /// Parent: block until the child called [`signal_ready`](Self::signal_ready)
    /// or `pid` is gone (so a child that died early cannot hang us).
    pub fn wait_ready(&self, pid: Pid) {
        let ready = &self.shared().ready;
        while ready.load(Ordering::SeqCst) == 0 {
            if sys::kill_probe(pid).is_err() {
                return;
            }
            // Wake up now and then to re-check that the child is alive.
            let _ = sys::futex_wait_timeout(ready, 0, 10_000_000);
        }
    }

    /// Let every child waiting at the gate go on.
    pub fn open_gate(&self) {
        let gate = &self.shared().gate;
        gate.store(1, Ordering::SeqCst);
        let _ = sys::futex_wake(gate, u32::MAX);
    }
}

impl Drop for SharedPage {
    fn drop(&mut self) {
        // SAFETY: every child using the page has been waited for by the experiment.
        let _ = unsafe { sys::munmap(self.page as *mut u8, core::mem::size_of::<Shared>()) };
    }
}

/// What one child run produced.
#[derive(Clone, Copy, Debug)]
pub struct ChildRun<R> {
    /// How the child ended.
    pub status: WaitStatus,
    /// The clone call that made it.
    pub call: CloneCall,
    /// Its pid in our namespace.
    pub pid: Pid,
    /// What `while_alive` returned.
    pub parent: R,
}

/// Stack for experiment children.
pub const CHILD_STACK: usize = 64 * 1024;

/// Run `child` in a child made with `word`; once `child` has returned and the
/// child waits at `page`'s gate, run `while_alive(pid)` in the parent (kcmp
/// and /proc comparisons need the child alive), then open the gate and reap it.
///
/// CLONE_VM children get a fresh [`Stack`] through [`scope`]; others are
/// fork-like ([`spawn`]). With CLONE_VFORK the parent cannot run while the
/// child lives, so there is no gate and `while_alive` runs after it exits.
///
/// # Safety
/// With CLONE_VM in `word`, `child` runs without a thread pointer: it must
/// keep to what [`Scope::spawn`](crate::Scope::spawn) allows (no TLS, no
/// allocation, no std I/O, no panics).
pub unsafe fn run_child<C, P, R>(
    calls: &mut Calls,
    label: &str,
    word: FlagsWord,
    page: &SharedPage,
    child: C,
    while_alive: P,
) -> Result<ChildRun<R>, Error>
where
    C: FnOnce() -> i32 + Send,
    P: FnOnce(Pid) -> R,
{
    let gated = !word.flags.contains(CloneFlags::CLONE_VFORK);
    let body = move || {
        let code = child();
        page.signal_ready();
        if gated {
            page.wait_gate();
        }
        code
    };
    if word.flags.contains(CloneFlags::CLONE_VM) {
        let mut stack = Stack::new(CHILD_STACK)?;
        scope(|s| {
            // SAFETY: `body` runs `child`, which the caller vouches for, then
            // only touches the SharedPage's atomics and raw futex syscalls.
            let handle = unsafe { s.spawn(&mut stack, word, body) }?;
            let (pid, call) = (handle.pid(), *handle.call());
            calls.push(label, call, pid as i64);
            page.wait_ready(pid);
            let parent = while_alive(pid);
            page.open_gate();
            Ok(ChildRun {
                status: handle.join()?,
                call,
                pid,
                parent,
            })
        })
    } else {
        let mut handle = spawn(word, body)?;
        let (pid, call) = (handle.pid(), *handle.call());
        calls.push(label, call, pid as i64);
        page.wait_ready(pid);
        let parent = while_alive(pid);
        page.open_gate();
        Ok(ChildRun {
            status: handle.wait()?,
            call,
            pid,
            parent,
        })
    }
}

/// Raw `clone(word, stack = 0, ...)` for a fork-like child running `entry(arg)`
/// (the experiments that need what the safe API refuses, e.g. CLONE_PARENT).
///
/// # Safety
/// `word` must not contain CLONE_VM (the child runs on a copy of our stack);
/// `arg` must stay valid for the child as the experiment requires.
pub unsafe fn raw_fork_like(
    word: FlagsWord,
    entry: crate::arch::ChildEntry,
    arg: *mut core::ffi::c_void,
) -> Result<Pid, Error> {
    let (no_stack, no_tid) = (core::ptr::null_mut(), core::ptr::null_mut());
    // SAFETY: per the contract: no shared memory, so stack 0 is sound.
    unsafe { crate::clone::clone(word, no_stack, no_tid, no_tid, 0, entry, arg) }
}

/// The call [`raw_fork_like`] makes: `clone(word, 0, NULL, NULL, 0)`.
pub fn raw_fork_like_call(word: FlagsWord) -> CloneCall {
    record::clone_call(word, 0, 0, 0, 0)
}

/// Reap `pid`, a child made with raw `clone(CLONE_VM, ..)` that uses memory in
/// the caller's frame (its stack, the words it writes): return only once it
/// is gone. ECHILD means it was reaped elsewhere, so it has exited; any other
/// failure of `wait4` proves nothing, so the wait is retried, never returned.
pub(crate) fn reap_sharing_child(pid: Pid) -> Result<WaitStatus, Error> {
    loop {
        match crate::wait::wait_pid(pid, 0) {
            Ok(status) => return Ok(status),
            Err(crate::Errno::ECHILD) => return Err(crate::Errno::ECHILD.into()),
            Err(_) => sys::sched_yield(),
        }
    }
}

/// Whether this process may create namespaces by itself (effective uid 0).
/// Without it, namespace experiments add CLONE_NEWUSER: the new user namespace
/// is created first and owns the others, so an unprivileged user may make them.
pub fn needs_user_namespace() -> bool {
    sys::geteuid() != 0
}

/// `flags`, plus CLONE_NEWUSER when [`needs_user_namespace`].
pub fn namespace_flags(flags: CloneFlags) -> CloneFlags {
    if needs_user_namespace() {
        flags | CloneFlags::CLONE_NEWUSER
    } else {
        flags
    }
}

/// Whether a fresh `kcmp` between us and `pid` says they share `kind`
/// (None if kcmp is unavailable: a kernel without CONFIG_KCMP).
pub fn shares(pid: Pid, kind: sys::Kcmp) -> Option<bool> {
    sys::kcmp(sys::getpid(), pid, kind)
        .ok()
        .map(|order| order == 0)
}

/// Print an `Option<bool>` kcmp result.
pub struct Kcmp(pub Option<bool>);

impl fmt::Display for Kcmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(true) => f.write_str("same"),
            Some(false) => f.write_str("different"),
            None => f.write_str("kcmp unavailable"),
        }
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A NUL-terminated path built without an allocator (up to 127 bytes).
#[derive(Clone, Copy)]
pub struct CPath {
    bytes: [u8; 128],
    len: usize,
}

impl CPath {
    /// An empty path.
    pub fn empty() -> CPath {
        CPath {
            bytes: [0; 128],
            len: 0,
        }
    }

    /// `prefix` followed by `number` in decimal, e.g. `/tmp/clonelab-newns-` + pid.
    pub fn numbered(prefix: &str, number: u64) -> CPath {
        let mut p = CPath {
            bytes: [0; 128],
            len: 0,
        };
        p.push(prefix.as_bytes());
        let mut digits = [0u8; 20];
        let mut n = number;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        p.push(&digits[i..]);
        p
    }

    /// Append bytes (silently truncated at 127).
    pub fn push(&mut self, more: &[u8]) -> &mut CPath {
        for &b in more {
            if self.len < self.bytes.len() - 1 {
                self.bytes[self.len] = b;
                self.len += 1;
            }
        }
        self.bytes[self.len] = 0;
        self
    }

    /// The path without its NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The path as a C string.
    pub fn as_cstr(&self) -> &core::ffi::CStr {
        core::ffi::CStr::from_bytes_until_nul(&self.bytes).unwrap_or(c"")
    }
}

impl fmt::Debug for CPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", Text(self.as_bytes()).to_string_lossy())
    }
}

/// Parse a decimal number at the start of `text`.
pub fn parse_decimal(text: &[u8]) -> Option<u64> {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    core::str::from_utf8(&text[..digits]).ok()?.parse().ok()
}

/// Bytes as text for display (lossy: non-UTF-8 shows as `?`).
pub struct Text<'a>(pub &'a [u8]);

impl<'a> Text<'a> {
    /// The text, or "?" if it is not UTF-8.
    pub fn to_string_lossy(&self) -> &'a str {
        core::str::from_utf8(self.0).unwrap_or("?")
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(self.0) {
            Ok(s) => f.write_str(s),
            Err(_) => f.write_str("?"),
        }
    }
}

/// A fixed-size text buffer (no allocator): what an experiment prints, carried
/// back from a traced child by value.
#[derive(Clone, Copy)]
pub struct TextBuffer {
    bytes: [u8; 4096],
    len: usize,
}

impl TextBuffer {
    /// An empty buffer.
    pub const fn new() -> TextBuffer {
        TextBuffer {
            bytes: [0; 4096],
            len: 0,
        }
    }

    /// The text written so far (cut at 4096 bytes).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("?")
    }
}

impl Default for TextBuffer {
    fn default() -> Self {
        TextBuffer::new()
    }
}

impl fmt::Write for TextBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.bytes.len() - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

/// A tour entry: everything the tour needs to run and present one experiment.
/// What it prints about calls is rendered from the [`Calls`] the run returns.
pub struct Entry {
    /// Short name, used by `clonelab run NAME` and as the test/chapter file name.
    pub name: &'static str,
    /// The question the experiment answers.
    pub question: &'static str,
    /// The docs chapter.
    pub chapter: &'static str,
    /// Run it: write the observation to `out`, return what happened.
    pub run: fn(out: &mut dyn fmt::Write) -> Result<Outcome, Error>,
}

/// What one run of an experiment produced (plain data).
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// The claim held.
    pub holds: bool,
    /// Every call made.
    pub calls: Calls,
    /// Why it could not run here, if so.
    pub skipped: Option<record::Label>,
    /// Every observation, with the evidence it rests on.
    pub checks: record::Checks,
}

macro_rules! entry {
    ($module:ident, $name:literal, $question:literal) => {
        entry!($module::observe, $name, $name, $question)
    };
    ($observe:path, $name:literal, $chapter:literal, $question:literal) => {
        Entry {
            name: $name,
            question: $question,
            chapter: concat!("docs/", $chapter, ".md"),
            run: |out| {
                let observed = $observe()?;
                let _ = write!(out, "{observed}");
                Ok(Outcome {
                    holds: observed.holds(),
                    calls: *observed.calls(),
                    skipped: observed.skipped(),
                    checks: observed.checks(),
                })
            },
        }
    };
}

/// Every experiment, in tour order.
pub static ALL: &[Entry] = &[
    entry!(clone_vm, "clone-vm", "Does the parent see what a CLONE_VM child writes?"),
    entry!(clone_fs, "clone-fs", "What does CLONE_FS share? (cwd, root and umask - not mounts)"),
    entry!(newpid, "newpid", "Who is the child in a new PID namespace, and what does /proc say?"),
    entry!(files, "files", "Which file state does a child share: paths through CLONE_FS, descriptors through CLONE_FILES?"),
    entry!(newnet, "newnet", "What is in a new network namespace?"),
    entry!(newns, "newns", "Does a mount made in a new mount namespace show in the parent?"),
    entry!(newns::propagation, "newns-propagation", "newns", "When does a mount made in a child's new mount namespace reach the parent's?"),
    entry!(namespaces::uts, "newuts", "namespaces", "Can a child rename its host without renaming the parent's?"),
    entry!(namespaces::ipc, "newipc", "namespaces", "Does CLONE_NEWIPC give the child another IPC namespace?"),
    entry!(namespaces::cgroup, "newcgroup", "namespaces", "Where in the cgroup tree does a child in a new cgroup namespace think it is?"),
    entry!(namespaces::time, "newtime", "namespaces", "How is CLONE_NEWTIME (0x80) passed, when 0x80 is inside clone()'s signal byte?"),
    entry!(newuser, "newuser", "What is a child in a new user namespace before and after its uid map is written?"),
    entry!(signals, "signals", "Who shares signal handlers (CLONE_SIGHAND), and what does CLONE_CLEAR_SIGHAND reset?"),
    entry!(relatives, "relatives", "Whose child is a CLONE_PARENT child?"),
    entry!(tids, "tids", "When and where do PARENT_SETTID, CHILD_SETTID and CHILD_CLEARTID write?"),
    entry!(exit_signal, "exit-signal", "What does the exit signal byte decide: SIGCHLD, another signal, or none?"),
    entry!(pidfd, "pidfd", "What does CLONE_PIDFD hand back?"),
    entry!(settls, "settls", "What does CLONE_SETTLS set, and where does the tls argument go?"),
    entry!(sysvsem, "sysvsem", "What does CLONE_SYSVSEM share, and when are SEM_UNDO adjustments undone?"),
    entry!(into_cgroup, "into-cgroup", "Can a child be born inside a chosen cgroup?"),
    entry!(into_cgroup::ebusy, "into-cgroup-ebusy", "into-cgroup", "When does the kernel refuse CLONE_INTO_CGROUP with EBUSY?"),
    entry!(errors, "errors", "Does the kernel refuse what clone(2) says it refuses, with the errno it says?"),
    entry!(fork_vfork_thread, "fork-vfork-thread", "What do fork, vfork, clone(CLONE_VM) and a thread share, per the kernel?"),
];

// SAFETY: a byte array and a length.
unsafe impl crate::plain::Plain for TextBuffer {}
// SAFETY: a byte array and a length.
unsafe impl crate::plain::Plain for CPath {}
// SAFETY: a bool, Calls, an Option<Label> and Checks, all Plain.
unsafe impl crate::plain::Plain for Outcome {}
