//! `CLONE_NEWNET | SIGCHLD`: the child gets a new network namespace.
//!
//! `socket()` succeeding inside proves nothing (it succeeds in any namespace).
//! What shows the new namespace: `/proc/self/ns/net` names a different
//! namespace (another inode); its loopback `lo` is there, as interface 1, and
//! down until someone brings it up; and none of our interfaces that are up
//! came along. Unprivileged callers get CLONE_NEWUSER added.
//!
//! `lo` need not be the only interface. Where tunnel modules are loaded
//! (ipip, sit, ip6_tunnel, gre, ...), each new namespace also gets their
//! fallback devices (`tunl0`, `sit0`, ...), made anew and down, unless
//! `net.core.fb_tunnels_only_for_init_net=1`. So the experiment records the
//! names the child lists and compares them with ours that are up.

use super::record::Checks;
use super::text::YesNo;
use super::Calls;
use super::{contains, namespace_flags, run_child, SharedPage, Text};
use crate::errno::Errno;
use crate::flags::{CloneFlags, ExitSignal, FlagsWord};
use crate::{Error, WaitStatus};
use core::fmt;

/// Bytes of an interface name, its NUL included (`IFNAMSIZ`).
const NAME_BYTES: usize = 16;

/// Interface names a [`Names`] keeps.
pub const MAX_NAMES: usize = 24;

/// Names shown in a check's evidence before "and N more".
const SHOWN: usize = 12;

/// The loopback's interface index in every network namespace
/// (`LOOPBACK_IFINDEX`, include/net/net_namespace.h).
pub const LOOPBACK_INDEX: u32 = 1;

/// Network interface names, in the order `/proc/self/net/dev` lists them.
/// The first [`MAX_NAMES`] are kept; `total` counts every one, so a list
/// that was cut says so.
#[derive(Clone, Copy)]
pub struct Names {
    names: [[u8; NAME_BYTES]; MAX_NAMES],
    kept: usize,
    total: u64,
}

impl Names {
    /// No names.
    pub const fn new() -> Names {
        Names {
            names: [[0; NAME_BYTES]; MAX_NAMES],
            kept: 0,
            total: 0,
        }
    }

    /// Add `name` (up to 15 bytes; kept if there is room, counted always).
    pub fn push(&mut self, name: &[u8]) {
        if self.kept < MAX_NAMES {
            let slot = &mut self.names[self.kept];
            let len = name.len().min(NAME_BYTES - 1);
            slot[..len].copy_from_slice(&name[..len]);
            self.kept += 1;
        }
        self.total += 1;
    }

    /// The names kept, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.names[..self.kept].iter().map(|n| {
            let len = n.iter().position(|&b| b == 0).unwrap_or(NAME_BYTES);
            &n[..len]
        })
    }

    /// Whether `name` is one of the names kept.
    pub fn contains(&self, name: &[u8]) -> bool {
        self.iter().any(|n| n == name)
    }

    /// Each name kept as two words (16 bytes, NUL-padded), the way a child
    /// hands it over through a [`SharedPage`].
    fn as_words(&self) -> impl Iterator<Item = [u64; 2]> + '_ {
        self.names[..self.kept].iter().map(|n| {
            let (first, second) = n.split_at(8);
            let word = |half: &[u8]| u64::from_ne_bytes(half.try_into().unwrap_or([0; 8]));
            [word(first), word(second)]
        })
    }

    /// The list a child handed over: `total` names in all, the first ones
    /// (up to [`MAX_NAMES`]) as [`as_words`](Self::as_words) gives them.
    fn from_words(total: u64, words: impl Fn(usize) -> [u64; 2]) -> Names {
        let mut names = Names::new();
        names.kept = (total as usize).min(MAX_NAMES);
        names.total = total;
        for (i, name) in names.names[..names.kept].iter_mut().enumerate() {
            let [first, second] = words(i);
            name[..8].copy_from_slice(&first.to_ne_bytes());
            name[8..].copy_from_slice(&second.to_ne_bytes());
            name[NAME_BYTES - 1] = 0;
        }
        names
    }

    /// How many names there were, kept or not.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Whether there were none.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Whether every name was kept.
    pub fn is_complete(&self) -> bool {
        self.total == self.kept as u64
    }

    /// The names, comma-separated, at most `shown` of them, then "and N
    /// more" (counting the names not kept too); "none" when there are none.
    pub fn show(&self, shown: usize) -> impl fmt::Display + '_ {
        ShowNames { names: self, shown }
    }
}

impl Default for Names {
    fn default() -> Self {
        Names::new()
    }
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.show(MAX_NAMES))
    }
}

struct ShowNames<'a> {
    names: &'a Names,
    shown: usize,
}

impl fmt::Display for ShowNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.names.is_empty() {
            return f.write_str("none");
        }
        for (i, name) in self.names.iter().take(self.shown).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", Text(name))?;
        }
        let listed = self.names.kept.min(self.shown) as u64;
        if self.names.total > listed {
            write!(f, " and {} more", self.names.total - listed)?;
        }
        Ok(())
    }
}

/// What was seen.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Every clone/clone3 call the experiment made, in order.
    pub calls: Calls,
    /// (st_dev, st_ino) of /proc/self/ns/net in the parent.
    pub parent_ns: (u64, u64),
    /// The same in the child.
    pub child_ns: (u64, u64),
    /// The interfaces the child's /proc/self/net/dev lists.
    pub child_interfaces: Names,
    /// The index of the child's `lo` (SIOCGIFINDEX), or its errno.
    pub child_lo_index: Result<u32, Errno>,
    /// Whether the child's `lo` is up (SIOCGIFFLAGS).
    pub child_lo_up: bool,
    /// Our interfaces that are up, `lo` left out.
    pub parent_up: Names,
    /// Those of `parent_up` that the child's list names too.
    pub parent_up_in_child: Names,
    /// Whether CLONE_NEWUSER was added.
    pub in_user_namespace: bool,
    /// How the child ended.
    pub status: WaitStatus,
}

impl super::Recorded for Observed {
    fn calls(&self) -> &Calls {
        &self.calls
    }

    fn checks(&self) -> Checks {
        let mut c = Checks::new();
        c.check(
            self.child_ns != self.parent_ns && self.child_ns != (0, 0),
            "the child's network namespace is another",
            format_args!(
                "/proc/self/ns/net inode: the child's {}, ours {}",
                self.child_ns.1, self.parent_ns.1
            ),
        );
        c.check(
            self.child_interfaces.contains(b"lo")
                && self.child_lo_index == Ok(LOOPBACK_INDEX)
                && !self.child_lo_up,
            "its lo is there, interface 1, and down",
            format_args!(
                "the child lists {}; its lo has index {}, up: {}",
                self.child_interfaces.show(SHOWN),
                LoIndex(self.child_lo_index),
                YesNo(self.child_lo_up)
            ),
        );
        c.check(
            self.parent_up_in_child.is_empty() && self.child_interfaces.is_complete(),
            "none of our interfaces that are up (but lo) is in it",
            format_args!(
                "ours up: {}; of them the child lists: {}",
                self.parent_up.show(6),
                self.parent_up_in_child.show(6)
            ),
        );
        c.check(
            self.status == WaitStatus::Exited(0),
            "the child exited 0",
            format_args!("the child {}", self.status),
        );
        c
    }
}

/// `lo`'s index as the evidence shows it: the number, or the errno.
struct LoIndex(Result<u32, Errno>);

impl fmt::Display for LoIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(index) => write!(f, "{index}"),
            Err(e) => write!(f, "? (SIOCGIFINDEX: {e})"),
        }
    }
}

/// Call `each` with every interface name in a /proc/net/dev text (two
/// header lines, then one line per interface, `name:` first).
fn each_interface(text: &[u8], mut each: impl FnMut(&[u8])) {
    for line in text.split(|&b| b == b'\n').skip(2) {
        if !contains(line, b":") {
            continue;
        }
        let name = line.split(|&b| b == b':').next().unwrap_or(b"");
        let start = name.iter().position(|&b| b != b' ').unwrap_or(name.len());
        each(&name[start..]);
    }
}

/// The interfaces of this process's network namespace.
fn read_interfaces() -> Names {
    let mut buf = [0u8; 16384];
    let mut names = Names::new();
    if let Ok(text) = crate::probe::read_file(c"/proc/self/net/dev", &mut buf) {
        each_interface(text, |name| names.push(name));
    }
    names
}

// Where the child reports (SharedPage slots): its namespace, lo's state, then
// its interface names, two slots (16 bytes) each.
const NS_DEV: usize = 0;
const NS_INO: usize = 1;
const TOTAL: usize = 2;
const LO_INDEX: usize = 3;
const LO_INDEX_ERRNO: usize = 4;
const LO_UP: usize = 5;
const FIRST_NAME: usize = 8;

/// Run the child.
pub fn observe() -> Result<Observed, Error> {
    let flags = namespace_flags(CloneFlags::CLONE_NEWNET);
    let parent_ns = crate::probe::file_identity(c"/proc/self/ns/net")?;
    let page = SharedPage::new()?;
    let mut calls = Calls::new();
    let child = || {
        let Ok((dev, ino)) = crate::probe::file_identity(c"/proc/self/ns/net") else {
            return 1;
        };
        page.put(NS_DEV, dev);
        page.put(NS_INO, ino);
        let names = read_interfaces();
        page.put(TOTAL, names.total());
        for (i, [first, second]) in names.as_words().enumerate() {
            page.put(FIRST_NAME + 2 * i, first);
            page.put(FIRST_NAME + 2 * i + 1, second);
        }
        match crate::net::interface_index(b"lo") {
            Ok(index) => page.put(LO_INDEX, index as u64),
            Err(e) => page.put(LO_INDEX_ERRNO, e.raw() as u64),
        }
        page.put(
            LO_UP,
            matches!(crate::net::interface_is_up(b"lo"), Ok(true)) as u64,
        );
        0
    };
    // SAFETY: `child` makes raw syscalls and touches a SharedPage and
    // atomics only: no TLS, no allocation, no panics.
    let child = unsafe {
        run_child(
            &mut calls,
            "CLONE_NEWNET",
            FlagsWord::new(flags, ExitSignal::SIGCHLD),
            &page,
            child,
            |_| (),
        )
    }?;
    let words = |i: usize| {
        [
            page.get(FIRST_NAME + 2 * i),
            page.get(FIRST_NAME + 2 * i + 1),
        ]
    };
    let child_interfaces = Names::from_words(page.get(TOTAL), words);
    let child_lo_index = match page.get(LO_INDEX_ERRNO) {
        0 => Ok(page.get(LO_INDEX) as u32),
        errno => Err(Errno::from_raw(errno as u16)),
    };
    // Ours that are up, but lo; and which of them the child lists too.
    let (mut parent_up, mut parent_up_in_child) = (Names::new(), Names::new());
    let mut buf = [0u8; 16384];
    if let Ok(text) = crate::probe::read_file(c"/proc/self/net/dev", &mut buf) {
        each_interface(text, |name| {
            if name != b"lo" && crate::net::interface_is_up(name) == Ok(true) {
                parent_up.push(name);
                if child_interfaces.contains(name) {
                    parent_up_in_child.push(name);
                }
            }
        });
    }
    Ok(Observed {
        calls,
        parent_ns,
        child_ns: (page.get(NS_DEV), page.get(NS_INO)),
        child_interfaces,
        child_lo_index,
        child_lo_up: page.get(LO_UP) == 1,
        parent_up,
        parent_up_in_child,
        in_user_namespace: flags.contains(CloneFlags::CLONE_NEWUSER),
        status: child.status,
    })
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "/proc/self/ns/net inode: parent {}, child {}",
            self.parent_ns.1, self.child_ns.1
        )?;
        writeln!(
            f,
            "child's interfaces: {}",
            self.child_interfaces.show(MAX_NAMES)
        )?;
        writeln!(
            f,
            "child's lo: index {}, {}",
            LoIndex(self.child_lo_index),
            if self.child_lo_up { "UP" } else { "DOWN" }
        )?;
        writeln!(
            f,
            "parent's interfaces that are up (but lo): {}",
            self.parent_up.show(MAX_NAMES)
        )?;
        writeln!(
            f,
            "of them in the child's list: {}",
            self.parent_up_in_child.show(MAX_NAMES)
        )?;
        if self.in_user_namespace {
            writeln!(f, "(unprivileged: CLONE_NEWUSER was added)")?;
        }
        Ok(())
    }
}

// SAFETY: byte arrays and integers.
unsafe impl crate::plain::Plain for Names {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Observed {}
