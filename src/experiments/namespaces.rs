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
//! | CLONE_NEWTIME (0x80, clone3 only) | `time` | clone() refuses the flag: it lies in the signal byte |

use super::{namespace_flags, run_child, SharedPage};
use crate::abi::CloneCall;
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::plain::StaticText;
use crate::sys;
use crate::{Error, WaitStatus};
use core::ffi::CStr;
use core::fmt;

/// The hostname the UTS child sets.
pub const CHILD_HOSTNAME: &[u8] = b"clonelab-uts";

/// What one namespace experiment saw.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// The call.
    pub call: CloneCall,
    /// Which namespace (`"uts"`, `"ipc"`, ...).
    pub kind: StaticText,
    /// (dev, ino) of the parent's handle.
    pub parent_ns: (u64, u64),
    /// (dev, ino) of the child's handle.
    pub child_ns: (u64, u64),
    /// The particular effect, if the kind has one, and whether it held.
    pub effect: Option<(StaticText, bool)>,
    /// Whether CLONE_NEWUSER was added.
    pub in_user_namespace: bool,
    /// How the child ended.
    pub status: WaitStatus,
}

fn identity(kind: &CStr) -> (u64, u64) {
    sys::file_identity(kind).unwrap_or((0, 0))
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
    let child = || {
        let (dev, ino) = identity(handle);
        page.put(0, dev);
        page.put(1, ino);
        effect_in_child(&page);
        0
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(
            FlagsWord::new(flags, ExitSignal::SIGCHLD),
            &page,
            child,
            |_| (),
        )
    }?;
    let observed = Observed {
        call: child.call,
        kind: StaticText::new(kind),
        parent_ns,
        child_ns: (page.get(0), page.get(1)),
        effect: None,
        in_user_namespace: flags.contains(CloneFlags::CLONE_NEWUSER),
        status: child.status,
    };
    Ok((observed, page))
}

/// CLONE_NEWUTS: the child renames its host; the parent's name stays.
pub fn uts() -> Result<Observed, Error> {
    let mut before = [0u8; 65];
    let before_len = sys::hostname(&mut before)?.len();
    let (mut o, page) = run(
        "uts",
        c"/proc/self/ns/uts",
        CloneFlags::CLONE_NEWUTS,
        |page| {
            let mut name = [0u8; 65];
            let renamed = sys::sethostname(CHILD_HOSTNAME).is_ok()
                && sys::hostname(&mut name)
                    .map(|n| n == CHILD_HOSTNAME)
                    .unwrap_or(false);
            page.put(2, renamed as u64);
        },
    )?;
    let mut after = [0u8; 65];
    let unchanged = sys::hostname(&mut after)? == &before[..before_len];
    o.effect = Some((
        StaticText::new("child renamed its host; parent's hostname unchanged"),
        page.get(2) == 1 && unchanged,
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
            let text = sys::read_file(c"/proc/self/cgroup", &mut buf).unwrap_or(b"");
            // The v2 line reads "0::<path>"; at the root of a new cgroup namespace it is "0::/".
            let at_root = text.split(|&b| b == b'\n').any(|line| line == b"0::/");
            page.put(2, at_root as u64);
        },
    )?;
    o.effect = Some((
        StaticText::new("child's /proc/self/cgroup reads 0::/"),
        page.get(2) == 1,
    ));
    Ok(o)
}

/// CLONE_NEWTIME through clone3 (fork-like spawn picks clone3 for it).
pub fn time() -> Result<Observed, Error> {
    let refused = FlagsWord::new(CloneFlags::CLONE_NEWTIME, ExitSignal::SIGCHLD)
        .encode_clone()
        .is_err();
    let (mut o, _) = run(
        "time",
        c"/proc/self/ns/time",
        CloneFlags::CLONE_NEWTIME,
        |_| (),
    )?;
    o.effect = Some((
        StaticText::new("clone() refuses CLONE_NEWTIME (0x80 is in the signal byte)"),
        refused,
    ));
    Ok(o)
}

impl Observed {
    /// The claim: another namespace, and the particular effect held.
    pub fn holds(&self) -> bool {
        self.child_ns != self.parent_ns
            && self.child_ns != (0, 0)
            && self.effect.is_none_or(|(_, held)| held)
            && self.status == WaitStatus::Exited(0)
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "/proc/self/ns/{} inode: parent {}, child {}",
            self.kind, self.parent_ns.1, self.child_ns.1
        )?;
        if let Some((what, held)) = self.effect {
            writeln!(f, "{what}: {held}")?;
        }
        if self.in_user_namespace {
            writeln!(f, "(unprivileged: CLONE_NEWUSER was added)")?;
        }
        Ok(())
    }
}

// SAFETY: every field is Plain (integers, bools, CloneCall, WaitStatus,
// Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
