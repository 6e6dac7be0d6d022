//! The namespaces that show themselves best by identity: UTS, IPC, cgroup, time.
//!
//! Each `/proc/self/ns/<kind>` is a handle whose (device, inode) names one
//! namespace: two processes in the same namespace see the same pair. Every
//! experiment here clones one child with one `CLONE_NEW*` flag and compares
//! that pair between parent and child, plus one effect particular to the kind:
//!
//! | flag | handle | particular effect asserted |
//! |------|--------|----------------------------|
//! | CLONE_NEWUTS (0x4000000) | `uts` | the child's `sethostname` leaves the parent's hostname alone |
//! | CLONE_NEWIPC (0x8000000) | `ipc` | — (identity only) |
//! | CLONE_NEWCGROUP (0x2000000) | `cgroup` | the child's `/proc/self/cgroup` v2 path is `/` |
//! | CLONE_NEWTIME (0x80, clone3 only) | `time` | through clone() the same word, 0x91, is read as exit signal 145: accepted, and no time namespace is made |

use super::record::{Checks, Label};
use super::text::{Text, YesNo};
use super::Calls;
use super::{namespace_flags, run_child, SharedPage};
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::plain::StaticText;
use crate::sys;
use crate::{Error, WaitStatus};
use core::ffi::{c_void, CStr};
use core::fmt;
use linux_raw_sys::general as k;

/// The hostname the UTS child sets.
pub const CHILD_HOSTNAME: &[u8] = b"clonelab-uts";

/// What one namespace experiment saw.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// Which namespace (`"uts"`, `"ipc"`, ...).
    pub kind: StaticText,
    /// (dev, ino) of the parent's handle.
    pub parent_ns: (u64, u64),
    /// (dev, ino) of the child's handle.
    pub child_ns: (u64, u64),
    /// The particular effect, if the kind has one.
    pub effect: Option<Effect>,
    /// Whether CLONE_NEWUSER was added.
    pub in_user_namespace: bool,
    /// How the child ended.
    pub status: WaitStatus,
    /// The child reads the same `/proc/sys/kernel/random/boot_id`: one kernel
    /// serves both namespaces (a VM would have booted its own).
    pub same_kernel: bool,
    /// `namespaces.time` only: the same word through clone() (0x91).
    pub clone_0x91: Option<ByClone>,
    /// Why it could not run here (a kernel without this namespace type).
    pub skipped: Option<super::record::Label>,
}

/// The effect particular to one kind of namespace: the claim, the values
/// observed, and whether they bear it out.
#[derive(Clone, Copy, Debug)]
pub struct Effect {
    /// What is claimed.
    pub claim: StaticText,
    /// The values it rests on, each named.
    pub evidence: Label,
    /// Whether they bear it out.
    pub held: bool,
}

impl Effect {
    fn new(claim: &'static str, held: bool, evidence: fmt::Arguments<'_>) -> Effect {
        let mut text = Label::empty();
        let _ = fmt::Write::write_fmt(&mut text, evidence);
        Effect {
            claim: StaticText::new(claim),
            evidence: text,
            held,
        }
    }
}

/// What `clone(CLONE_NEWTIME | SIGCHLD)` = `clone(0x91)` did.
#[derive(Clone, Copy, Debug)]
pub struct ByClone {
    /// The kernel made a child (no EINVAL).
    pub accepted: bool,
    /// The child's /proc/self/ns/time is ours: no time namespace was made.
    pub child_in_our_time_ns: bool,
    /// How it ended, reaped with __WALL.
    pub status: Option<WaitStatus>,
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let mut c = Checks::new();
        c.check(
            self.child_ns != self.parent_ns && self.child_ns != (0, 0),
            "the child's namespace is another",
            format_args!(
                "/proc/self/ns/{} inode: the child's {}, ours {}",
                self.kind, self.child_ns.1, self.parent_ns.1
            ),
        );
        if let Some(effect) = self.effect {
            c.check(
                effect.held,
                effect.claim.as_str(),
                format_args!("{}", effect.evidence),
            );
        }
        c.check(
            self.same_kernel,
            "one kernel serves both namespaces",
            format_args!("the child reads our boot_id: {}", YesNo(self.same_kernel)),
        );
        c.check(
            self.status == WaitStatus::Exited(0),
            "the child exited 0",
            format_args!("the child {}", self.status),
        );
        c
    }

    fn skipped(&self) -> Option<super::record::Label> {
        self.skipped
    }
}

fn identity(kind: &CStr) -> (u64, u64) {
    crate::probe::file_identity(kind).unwrap_or((0, 0))
}

/// A hash (FNV-1a) of this kernel's boot id; 0 if unreadable.
fn boot_id() -> u64 {
    let mut buf = [0u8; 64];
    match crate::probe::read_file(c"/proc/sys/kernel/random/boot_id", &mut buf) {
        Ok(text) if !text.is_empty() => text.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        }),
        _ => 0,
    }
}

/// Clone with `flag` (plus CLONE_NEWUSER when unprivileged); in the child run
/// `effect_in_child`, which stores 1 in slot 2 when the effect held.
fn run(
    kind: &'static str,
    handle: &'static CStr,
    flag: CloneFlags,
    effect_in_child: fn(&SharedPage),
) -> Result<(Observed, SharedPage), Error> {
    let flags = namespace_flags(flag);
    let page = SharedPage::new()?;
    let parent_ns = identity(handle);
    let mut calls = Calls::new();
    let child = || {
        let (dev, ino) = identity(handle);
        page.put(0, dev);
        page.put(1, ino);
        page.put(3, boot_id());
        effect_in_child(&page);
        0
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(
            &mut calls,
            match kind {
                "uts" => "CLONE_NEWUTS: the child sets its hostname",
                "ipc" => "CLONE_NEWIPC",
                "cgroup" => "CLONE_NEWCGROUP: the child reads /proc/self/cgroup",
                _ => "CLONE_NEWTIME through clone3 (clone() cannot carry 0x80 as a flag)",
            },
            FlagsWord::new(flags, ExitSignal::SIGCHLD),
            &page,
            child,
            |_| (),
        )
    }?;
    let observed = Observed {
        calls,
        kind: StaticText::new(kind),
        parent_ns,
        child_ns: (page.get(0), page.get(1)),
        effect: None,
        in_user_namespace: flags.contains(CloneFlags::CLONE_NEWUSER),
        status: child.status,
        same_kernel: boot_id() != 0 && page.get(3) == boot_id(),
        clone_0x91: None,
        skipped: None,
    };
    Ok((observed, page))
}

/// CLONE_NEWUTS: the child renames its host; the parent's name stays.
pub fn uts() -> Result<Observed, Error> {
    let mut before = [0u8; 65];
    let before_len = crate::probe::hostname(&mut before)?.len();
    let (mut o, page) = run(
        "uts",
        c"/proc/self/ns/uts",
        CloneFlags::CLONE_NEWUTS,
        |page| {
            let mut name = [0u8; 65];
            let renamed = sys::sethostname(CHILD_HOSTNAME).is_ok()
                && crate::probe::hostname(&mut name)
                    .map(|n| n == CHILD_HOSTNAME)
                    .unwrap_or(false);
            page.put(2, renamed as u64);
        },
    )?;
    let mut after = [0u8; 65];
    let after = crate::probe::hostname(&mut after)?;
    let unchanged = after == &before[..before_len];
    let renamed = page.get(2) == 1;
    o.effect = Some(Effect::new(
        "the child renames its host; the parent's hostname stays",
        renamed && unchanged,
        format_args!(
            "the child's sethostname(\"{}\") took: {}; ours is still \"{}\": {}",
            Text(CHILD_HOSTNAME),
            YesNo(renamed),
            Text(after),
            YesNo(unchanged)
        ),
    ));
    Ok(o)
}

/// CLONE_NEWIPC: identity only.
pub fn ipc() -> Result<Observed, Error> {
    run(
        "ipc",
        c"/proc/self/ns/ipc",
        CloneFlags::CLONE_NEWIPC,
        |_| (),
    )
    .map(|(o, _)| o)
}

/// CLONE_NEWCGROUP: the child's cgroup v2 path is the root of its view.
pub fn cgroup() -> Result<Observed, Error> {
    let (mut o, page) = run(
        "cgroup",
        c"/proc/self/ns/cgroup",
        CloneFlags::CLONE_NEWCGROUP,
        |page| {
            let mut buf = [0u8; 4096];
            let text = crate::probe::read_file(c"/proc/self/cgroup", &mut buf).unwrap_or(b"");
            // The v2 line reads "0::<path>"; at the root of a new cgroup namespace it is "0::/".
            let at_root = text.split(|&b| b == b'\n').any(|line| line == b"0::/");
            page.put(2, at_root as u64);
        },
    )?;
    let at_root = page.get(2) == 1;
    o.effect = Some(Effect::new(
        "the child sees itself at the root of the cgroup tree",
        at_root,
        format_args!(
            "the child's /proc/self/cgroup has the line 0::/ : {}",
            YesNo(at_root)
        ),
    ));
    Ok(o)
}

unsafe extern "C" fn report_time_ns(arg: *mut c_void) -> i32 {
    // SAFETY: arg is the parent's SharedPage (MAP_SHARED); this fork-like child
    // uses its own copy of the handle, and the parent reaps it before dropping the page.
    let page = unsafe { &*(arg as *const SharedPage) };
    let (dev, ino) = identity(c"/proc/self/ns/time");
    page.put(0, dev);
    page.put(1, ino);
    0
}

/// CLONE_NEWTIME through clone3 (fork-like spawn picks clone3 for it); then
/// the same word through clone(): `CLONE_NEWTIME | SIGCHLD` is 0x91, all of
/// it inside the byte clone() reads as the exit signal. The kernel accepts it
/// (signal 145, which is never sent) and makes no time namespace.
pub fn time() -> Result<Observed, Error> {
    // A kernel built without CONFIG_TIME_NS (every 32-bit ARM one: no vDSO
    // support for it) has no /proc/self/ns/time and refuses CLONE_NEWTIME.
    if identity(c"/proc/self/ns/time") == (0, 0) {
        return Ok(Observed {
            calls: Calls::new(),
            kind: StaticText::new("time"),
            parent_ns: (0, 0),
            child_ns: (0, 0),
            effect: None,
            in_user_namespace: false,
            status: WaitStatus::Exited(0),
            same_kernel: true,
            clone_0x91: None,
            skipped: Some(super::record::Label::new(
                "this kernel has no time namespaces (no /proc/self/ns/time: CONFIG_TIME_NS)",
            )),
        });
    }
    let (mut o, _) = run(
        "time",
        c"/proc/self/ns/time",
        CloneFlags::CLONE_NEWTIME,
        |_| (),
    )?;
    let word = FlagsWord::new(CloneFlags::CLONE_NEWTIME, ExitSignal::SIGCHLD);
    let raw_word = (k::CLONE_NEWTIME | k::SIGCHLD) as usize;
    let page = SharedPage::new()?;
    // SAFETY: fork-like (the word has no CLONE_VM: stack 0 gives the child a
    // copy of ours); no tid pointers; the child only writes the shared page,
    // which lives until the child is reaped below.
    let raw = unsafe {
        crate::arch::clonelab_clone(
            raw_word,
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            0,
            report_time_ns,
            &page as *const SharedPage as *mut c_void,
        )
    };
    let result = crate::errno::decode(raw as usize).map(|tid| tid as sys::Pid);
    o.calls.push(
        "the same word through clone(): 0x91",
        super::raw_fork_like_call(word),
        match result {
            Ok(pid) => pid as i64,
            Err(e) => -(e.raw() as i64),
        },
    );
    // Exit signal 145 is not SIGCHLD: only __WALL (or __WCLONE) waits for it.
    let reaped = match result {
        Ok(pid) => crate::wait::wait_pid(pid, k::__WALL).ok(),
        Err(_) => None,
    };
    let same_ns = (page.get(0), page.get(1)) == o.parent_ns;
    o.clone_0x91 = Some(ByClone {
        accepted: result.is_ok(),
        child_in_our_time_ns: same_ns && page.get(1) != 0,
        status: reaped,
    });
    o.effect = Some(Effect::new(
        "clone(0x91) is accepted, and its child stays in our time namespace",
        result.is_ok() && same_ns && reaped == Some(WaitStatus::Exited(0)),
        format_args!(
            "clone(0x91) made a child: {}; its time namespace is ours: {}; reaped with __WALL: {}",
            YesNo(result.is_ok()),
            YesNo(same_ns),
            Reaped(reaped)
        ),
    ));
    Ok(o)
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "/proc/self/ns/{} inode: parent {}, child {}",
            self.kind, self.parent_ns.1, self.child_ns.1
        )?;
        writeln!(
            f,
            "the child's kernel is ours (same boot_id): {}",
            YesNo(self.same_kernel)
        )?;
        if let Some(c) = self.clone_0x91 {
            writeln!(
                f,
                "clone(0x91): {}; the child's time namespace is {}; reaped with __WALL: {}",
                if c.accepted { "accepted" } else { "refused" },
                if c.child_in_our_time_ns {
                    "ours (none was made)"
                } else {
                    "not ours"
                },
                Reaped(c.status)
            )?;
        }
        if let Some(effect) = self.effect {
            writeln!(f, "{}: {}", effect.claim, effect.evidence)?;
        }
        if self.in_user_namespace {
            writeln!(f, "(unprivileged: CLONE_NEWUSER was added)")?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
/// How a child was reaped: its status in words, or "not reaped".
struct Reaped(Option<WaitStatus>);

impl fmt::Display for Reaped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(status) => write!(f, "{status}"),
            None => f.write_str("not reaped (wait refused)"),
        }
    }
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for ByClone {}
// SAFETY: StaticText, Label and a bool, all Plain.
unsafe impl crate::plain::Plain for Effect {}
