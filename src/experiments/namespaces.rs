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
//! | CLONE_NEWCGROUP (0x2000000) | `cgroup` | the child's `/proc/self/cgroup` v2 path is `/`, while from outside its namespace the same cgroup is not the root |
//! | CLONE_NEWTIME (0x80, clone3 only) | `time` | through clone() the same word, 0x91, is read as exit signal 145: accepted, and no time namespace is made |
//!
//! A new cgroup namespace is rooted at the cgroup the child is born in
//! (`cgroup_post_fork`, kernel/cgroup/cgroup.c, makes the child's css_set the
//! namespace's root), which is the caller's cgroup. If that is the root of
//! the tree (`0::/`, as in the VMs), the child reads `0::/` with or without
//! the flag, which proves nothing. So the cgroup experiment makes a
//! sub-cgroup, and a helper child moves into it and makes the
//! CLONE_NEWCGROUP child there: the helper reads the child's cgroup as
//! `0::/clonelab-ns-<pid>`, the child its own as `0::/`.

use super::record::{Checks, Label};
use super::text::{Text, YesNo};
use super::Calls;
use super::{cgroup2_mount, namespace_flags, raw_fork_like, raw_fork_like_call, run_child};
use super::{CPath, SharedPage};
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
    /// `namespaces.cgroup` only: the child's cgroup, from outside its
    /// cgroup namespace and from inside.
    pub cgroup: Option<CgroupViews>,
    /// Why it could not run here (a kernel without this namespace type).
    pub skipped: Option<super::record::Label>,
}

/// One cgroup, the CLONE_NEWCGROUP child's, read from both sides of its new
/// cgroup namespace (the v2 path of the `0::` line, relative to the hierarchy).
#[derive(Clone, Copy, Debug)]
pub struct CgroupViews {
    /// The sub-cgroup made for the helper that made the child (none where
    /// we were not at the root and could not make one).
    pub sub_cgroup: Option<CPath>,
    /// As its parent, the helper, reads it in `/proc/<child>/cgroup`.
    pub from_parent: CPath,
    /// As the child reads it in `/proc/self/cgroup`.
    pub from_child: CPath,
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
        if self.skipped.is_some() {
            return c; // nothing was observed: no claim to check
        }
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
        cgroup: None,
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

// Where the cgroup experiment's helper and child report (SharedPage slots).
const NS_DEV: usize = 0;
const NS_INO: usize = 1;
const BOOT_ID: usize = 3;
const ERRNO: usize = 4;
const CHILD_PID: usize = 5;
const CHILD_STATUS: usize = 6;
const CHILD_VIEW: usize = 10; // length, then 16 slots of text
const PARENT_VIEW: usize = 30; // length, then 16 slots of text
const TEXT_SLOTS: usize = 16;

/// The v2 path in a `/proc/<pid>/cgroup` text: what follows `0::`.
fn v2_path(text: &[u8]) -> &[u8] {
    text.split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"0::"))
        .unwrap_or(b"")
}

/// Store up to 128 bytes of `text` in `page` from slot `first` (its length first).
fn put_text(page: &SharedPage, first: usize, text: &[u8]) {
    let text = &text[..text.len().min(TEXT_SLOTS * 8)];
    page.put(first, text.len() as u64);
    for (i, chunk) in text.chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        page.put(first + 1 + i, u64::from_le_bytes(word));
    }
}

/// The text [`put_text`] stored from slot `first`.
fn get_text(page: &SharedPage, first: usize) -> CPath {
    let len = (page.get(first) as usize).min(TEXT_SLOTS * 8);
    let mut text = CPath::empty();
    for i in 0..len.div_ceil(8) {
        let word = page.get(first + 1 + i).to_le_bytes();
        text.push(&word[..(len - i * 8).min(8)]);
    }
    text
}

/// A wait status as `wait4` writes it (kernel/exit.c's layout), for a slot.
fn wait4_word(status: WaitStatus) -> u64 {
    let raw = match status {
        WaitStatus::Exited(code) => (code as u32 & 0xff) << 8,
        WaitStatus::Signaled {
            signal,
            core_dumped,
        } => signal | (core_dumped as u32) << 7,
        WaitStatus::Stopped(signal) => 0x7f | signal << 8,
        WaitStatus::Continued => 0xffff,
    };
    1 << 32 | raw as u64
}

/// The CLONE_NEWCGROUP child: it reports its cgroup namespace and its
/// cgroup as it reads them, then waits until the helper has read its cgroup
/// from outside.
unsafe extern "C" fn report_cgroup(arg: *mut c_void) -> i32 {
    // SAFETY: arg is the helper's (page, gate) pair; this fork-like child
    // reads its own copy of it; both pages are MAP_SHARED and outlive it
    // (the helper reaps it before returning).
    let (page, gate) = unsafe { *(arg as *const (&SharedPage, &SharedPage)) };
    let (dev, ino) = identity(c"/proc/self/ns/cgroup");
    page.put(NS_DEV, dev);
    page.put(NS_INO, ino);
    page.put(BOOT_ID, boot_id());
    let mut buf = [0u8; 4096];
    let text = crate::probe::read_file(c"/proc/self/cgroup", &mut buf).unwrap_or(b"");
    put_text(page, CHILD_VIEW, v2_path(text));
    gate.signal_ready();
    gate.wait_gate();
    0
}

/// CLONE_NEWCGROUP: the child's cgroup, which its parent reads as a cgroup
/// below the root, is the root of the child's own view (`0::/`).
///
/// The namespace is rooted at the cgroup the child is born in, the caller's,
/// so the caller must not sit at the root of the tree: a helper child moves into a new sub-cgroup
/// (`/clonelab-ns-<pid>` in the v2 hierarchy) and makes the child there. Where
/// no sub-cgroup can be made (not root), the helper stays in ours, which
/// shows the effect unless ours is the root: then the experiment is skipped.
pub fn cgroup() -> Result<Observed, Error> {
    let flags = namespace_flags(CloneFlags::CLONE_NEWCGROUP);
    let handle = c"/proc/self/ns/cgroup";
    let mut o = Observed {
        calls: Calls::new(),
        kind: StaticText::new("cgroup"),
        parent_ns: identity(handle),
        child_ns: (0, 0),
        effect: None,
        in_user_namespace: flags.contains(CloneFlags::CLONE_NEWUSER),
        status: WaitStatus::Exited(0),
        same_kernel: true,
        clone_0x91: None,
        cgroup: None,
        skipped: None,
    };
    let Some(hierarchy) = cgroup2_mount() else {
        o.skipped = Some(Label::new(
            "no cgroup v2 hierarchy is mounted: no 0:: line to read a cgroup from",
        ));
        return Ok(o);
    };
    let name = CPath::numbered("clonelab-ns-", sys::getpid() as u64);
    let mut dir = hierarchy;
    dir.push(b"/").push(name.as_bytes());
    // EEXIST: left by an earlier run of ours that was killed; empty, so usable.
    let made = match sys::mkdir(dir.as_cstr(), 0o755) {
        Err(crate::Errno::EEXIST) => Ok(()),
        other => other,
    };
    if let Err(errno) = made {
        let mut buf = [0u8; 4096];
        let text = crate::probe::read_file(c"/proc/self/cgroup", &mut buf).unwrap_or(b"");
        if v2_path(text) == b"/" {
            let mut why = Label::empty();
            let _ = fmt::Write::write_fmt(
                &mut why,
                format_args!(
                    "we are at the root of the cgroup tree (0::/) and cannot make a \
                     sub-cgroup ({errno}): a child here reads 0::/ with or without \
                     CLONE_NEWCGROUP"
                ),
            );
            o.skipped = Some(why);
            return Ok(o);
        }
    }
    let sub = made.ok().map(|()| dir);
    let result = cgroup_in(&mut o, flags, sub);
    if sub.is_some() {
        let _ = sys::rmdir(dir.as_cstr());
    }
    result?;
    let claim =
        "the child's own cgroup is the root of its view, though from outside it is not the root";
    let Some(views) = o.cgroup else {
        // The helper did not finish: it was killed, or its wait failed.
        o.effect = Some(Effect::new(
            claim,
            false,
            format_args!("the helper child {}: neither view was read", o.status),
        ));
        return Ok(o);
    };
    let views = CgroupViews {
        sub_cgroup: sub.map(|_| {
            let mut p = CPath::empty();
            p.push(b"/").push(name.as_bytes());
            p
        }),
        ..views
    };
    o.cgroup = Some(views);
    let (inside, outside) = (views.from_child, views.from_parent);
    let held = inside.as_bytes() == b"/" && !matches!(outside.as_bytes(), b"" | b"/");
    o.effect = Some(Effect::new(
        claim,
        held,
        format_args!(
            "its parent reads the child's cgroup as 0::{}; the child reads it as 0::{}",
            Text(outside.as_bytes()),
            Text(inside.as_bytes())
        ),
    ));
    Ok(o)
}

/// The two children of [`cgroup`]: a helper that moves into `sub` (if any)
/// and there makes the CLONE_NEWCGROUP child; fills `o`'s calls, the
/// child's namespace, status and the two views of its cgroup.
fn cgroup_in(o: &mut Observed, flags: CloneFlags, sub: Option<CPath>) -> Result<(), Error> {
    let page = SharedPage::new()?;
    let gate = SharedPage::new()?;
    let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
    let helper = || {
        if let Some(dir) = sub {
            // Into the sub-cgroup: write our pid to its cgroup.procs.
            let mut procs = dir;
            procs.push(b"/cgroup.procs");
            let pid = CPath::numbered("", sys::getpid() as u64);
            let moved = sys::open(procs.as_cstr(), k::O_WRONLY | k::O_CLOEXEC, 0)
                .and_then(|fd| sys::write(fd.as_fd(), pid.as_bytes()));
            if let Err(errno) = moved {
                page.put(ERRNO, errno.raw() as u64);
                return 3;
            }
        }
        let pages = (&page, &gate);
        // SAFETY: fork-like (the word has no CLONE_VM); the child reads its
        // copy of `pages` and is reaped below, before they go away.
        let made = unsafe { raw_fork_like(word, report_cgroup, &pages as *const _ as *mut c_void) };
        let pid = match made {
            Ok(pid) => pid,
            Err(e) => {
                page.put(ERRNO, e.errno().map_or(0, |e| e.raw() as u64));
                return 4;
            }
        };
        page.put(CHILD_PID, pid as u64);
        gate.wait_ready(pid);
        // While the child waits: its cgroup as we, outside its namespace, read it.
        let mut path = CPath::numbered("/proc/", pid as u64);
        path.push(b"/cgroup");
        let mut buf = [0u8; 4096];
        let text = crate::probe::read_file(path.as_cstr(), &mut buf).unwrap_or(b"");
        put_text(&page, PARENT_VIEW, v2_path(text));
        gate.open_gate();
        match crate::wait::wait_pid(pid, 0) {
            Ok(status) => page.put(CHILD_STATUS, wait4_word(status)),
            Err(errno) => page.put(ERRNO, errno.raw() as u64),
        }
        0
    };
    // SAFETY: `helper` makes raw syscalls and touches SharedPages and
    // atomics only: no TLS, no allocation, no panics.
    let run = unsafe {
        run_child(
            &mut o.calls,
            "a helper child: it moves into a new sub-cgroup and makes the next child there",
            FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD),
            &page,
            helper,
            |_| (),
        )
    }?;
    let errno = crate::Errno::from_raw(page.get(ERRNO) as u16);
    match run.status {
        WaitStatus::Exited(0) => {}
        WaitStatus::Exited(3 | 4) => return Err(errno.into()),
        other => {
            o.status = other;
            return Ok(());
        }
    }
    let pid = page.get(CHILD_PID) as i64;
    o.calls.push_in_child(
        "CLONE_NEWCGROUP: the child reads /proc/self/cgroup",
        raw_fork_like_call(word),
        pid,
    );
    let status = page.get(CHILD_STATUS);
    if status >> 32 == 0 {
        return Err(errno.into());
    }
    o.status = WaitStatus::from_wait4(status as u32 as i32);
    o.child_ns = (page.get(NS_DEV), page.get(NS_INO));
    o.same_kernel = boot_id() != 0 && page.get(BOOT_ID) == boot_id();
    o.cgroup = Some(CgroupViews {
        sub_cgroup: None,
        from_parent: get_text(&page, PARENT_VIEW),
        from_child: get_text(&page, CHILD_VIEW),
    });
    Ok(())
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
            cgroup: None,
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
        if let Some(why) = self.skipped {
            return writeln!(f, "not run: {why}");
        }
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
        if let Some(views) = self.cgroup {
            match views.sub_cgroup {
                Some(sub) => writeln!(
                    f,
                    "a helper moved into the new sub-cgroup {} and made the child there",
                    Text(sub.as_bytes())
                )?,
                None => writeln!(
                    f,
                    "no sub-cgroup could be made: the helper made the child in our cgroup"
                )?,
            }
            writeln!(
                f,
                "the child's cgroup from outside its namespace: 0::{}; from inside: 0::{}",
                Text(views.from_parent.as_bytes()),
                Text(views.from_child.as_bytes())
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
// SAFETY: CPaths and an Option of one, all Plain.
unsafe impl crate::plain::Plain for CgroupViews {}
