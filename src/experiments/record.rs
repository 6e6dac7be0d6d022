//! The record of what an experiment did: every clone/clone3 call it made, with
//! its arguments and result. The tour, the tests and the generated chapter
//! tables all render from this record; nothing about a call is written beside
//! the code.
//!
//! A record is plain data (fixed-size arrays, no references, no heap), so it
//! comes back by value from a traced child.
//!
//! Where it sits: under every experiment, which fills a [`Calls`] and states
//! its [`Checks`]; above [`crate::abi`] (a call's register image) and
//! [`crate::trace`] (what ptrace saw). This file holds the calls; beside it:
//! - [`checks`]: the observations and the [`Recorded`] trait every experiment's
//!   result implements;
//! - [`matching`]: the record matched against a ptrace [`Trace`](crate::trace::Trace);
//! - [`chapter`]: one call as a chapter's generated table shows it.
//!
//! What it may use: `core` and clonelab's types; no allocator.

pub mod chapter;
pub mod checks;
pub mod matching;

pub use chapter::ChapterCall;
pub use checks::{Check, Checks, Recorded, MAX_CHECKS};
pub use matching::{match_trace, Matched};

use crate::clone::CloneArgs;
use crate::clone::CloneCall;
use crate::errno::Errno;
use crate::error::Error;
use crate::flags::{CloneFlags, ExitSignal, FlagsWord, Syscall};
use crate::sys::Pid;
use core::fmt;

/// Bytes a [`Label`] holds.
pub const LABEL_BYTES: usize = 240;

/// A short fixed-size text (up to [`LABEL_BYTES`] bytes). Text that does not
/// fit is never cut silently: the label remembers it was cut
/// ([`is_cut`](Label::is_cut)), shows it (`[cut: ...]` after the text that
/// fit), a [`Checks`] holding one does not hold, and the tour fails the
/// experiment. A test (`tests/tour.rs`) runs every experiment and asserts that
/// none was cut.
#[derive(Clone, Copy)]
pub struct Label {
    bytes: [u8; LABEL_BYTES],
    len: u16,
    /// How many bytes were written in all, kept or not.
    wanted: u16,
}

impl Label {
    /// `text` (cut, and marked cut, if it is longer than [`LABEL_BYTES`]).
    pub fn new(text: &str) -> Label {
        let mut label = Label::empty();
        let _ = fmt::Write::write_str(&mut label, text);
        label
    }

    /// An empty label, to `write!` into.
    pub const fn empty() -> Label {
        Label {
            bytes: [0; LABEL_BYTES],
            len: 0,
            wanted: 0,
        }
    }

    /// The text that fit.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("?")
    }

    /// Whether more was written than fits: the text is incomplete.
    pub fn is_cut(&self) -> bool {
        self.wanted > self.len
    }
}

impl fmt::Write for Label {
    /// Appends what fits; if not all of `s` fits, marks the label cut and
    /// returns `Err` (so `write!` into a label reports the overflow).
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let already_cut = self.is_cut();
        self.wanted = self
            .wanted
            .saturating_add(s.len().min(u16::MAX as usize) as u16);
        if already_cut {
            return Err(fmt::Error);
        }
        let room = self.bytes.len() - self.len as usize;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        let at = self.len as usize;
        self.bytes[at..at + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take as u16;
        if take < s.len() {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())?;
        if self.is_cut() {
            write!(f, " (cut at {LABEL_BYTES} bytes)")?;
        }
        Ok(())
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if self.is_cut() {
            write!(
                f,
                " [cut: longer than the {LABEL_BYTES} bytes a label holds]"
            )?;
        }
        Ok(())
    }
}

/// One call an experiment made.
#[derive(Clone, Copy, Debug)]
pub struct Made {
    /// Its part in the experiment: "with CLONE_VM", "contrast: without", ...
    pub label: Label,
    /// Every argument, as passed.
    pub call: CloneCall,
    /// What it returned in the caller: the child's tid, or `-errno` (0: an
    /// entry standing for several calls that each made a child).
    pub result: i64,
    /// Made by a child process of the experiment, not by the experiment's own
    /// process: the ptrace observer (which follows one process) cannot see it.
    pub in_child: bool,
}

impl Made {
    /// The errno, if the call failed.
    pub fn errno(&self) -> Option<Errno> {
        (self.result < 0).then(|| Errno::from_raw((-self.result) as u16))
    }
}

/// Calls kept per experiment.
pub const MAX_CALLS: usize = 40;

/// Every call an experiment made, in order.
#[derive(Clone, Copy, Debug)]
pub struct Calls {
    made: [Option<Made>; MAX_CALLS],
    len: usize,
}

impl Default for Calls {
    fn default() -> Self {
        Calls::new()
    }
}

/// The raw result of a call: tid, or -errno (0 if the error is not the kernel's).
pub fn raw_result<T: Copy + Into<i64>>(result: &Result<T, Error>) -> i64 {
    match result {
        Ok(pid) => (*pid).into(),
        Err(e) => -(e.errno().map_or(0, |e| e.raw() as i64)),
    }
}

impl Calls {
    /// No calls yet.
    pub const fn new() -> Calls {
        Calls {
            made: [None; MAX_CALLS],
            len: 0,
        }
    }

    /// Record a call this process made (`result`: tid or `-errno`).
    /// Calls past [`MAX_CALLS`] are dropped, which the tour reports as
    /// traced calls nobody recorded.
    pub fn push(&mut self, label: &str, call: CloneCall, result: i64) {
        self.push_made(Made {
            label: Label::new(label),
            call,
            result,
            in_child: false,
        });
    }

    /// Record a call made by a child of the experiment (not traced).
    pub fn push_in_child(&mut self, label: &str, call: CloneCall, result: i64) {
        self.push_made(Made {
            label: Label::new(label),
            call,
            result,
            in_child: true,
        });
    }

    fn push_made(&mut self, made: Made) {
        if self.len < MAX_CALLS {
            self.made[self.len] = Some(made);
            self.len += 1;
        }
    }

    /// Append every call of `other`, prefixing nothing.
    pub fn extend(&mut self, other: &Calls) {
        for made in other.iter() {
            self.push_made(*made);
        }
    }

    /// The first call whose label did not fit (see [`Label`]), if any.
    pub fn cut_label(&self) -> Option<&Label> {
        self.iter().map(|m| &m.label).find(|l| l.is_cut())
    }

    /// The calls, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Made> {
        self.made[..self.len].iter().flatten()
    }

    /// Call `i` (0-based).
    pub fn get(&self, i: usize) -> Option<&Made> {
        self.made.get(i).and_then(Option::as_ref)
    }

    /// How many calls.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no call was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The [`CloneCall`] of `clone(word, stack, parent_tid, child_tid, tls)`.
pub fn clone_call(
    word: FlagsWord,
    stack: usize,
    parent_tid: usize,
    child_tid: usize,
    tls: usize,
) -> CloneCall {
    CloneCall {
        syscall: Some(Syscall::Clone),
        word,
        stack,
        parent_tid,
        child_tid,
        tls,
        ..CloneCall::default()
    }
}

/// The [`CloneCall`] of `clone3(args, size)`: every field of `args` as passed.
pub fn clone3_call(args: &CloneArgs, size: usize) -> CloneCall {
    let signal = ExitSignal::new(args.exit_signal.min(u32::MAX as u64) as u32).unwrap_or_default();
    CloneCall {
        syscall: Some(Syscall::Clone3),
        word: FlagsWord::new(CloneFlags::from_bits_retain(args.flags), signal),
        stack: args.stack as usize,
        stack_size: args.stack_size as usize,
        parent_tid: args.parent_tid as usize,
        child_tid: args.child_tid as usize,
        tls: args.tls as usize,
        pidfd: args.pidfd as usize,
        args_address: args as *const CloneArgs as usize,
        args_size: size,
        cgroup: args.cgroup,
        set_tid: args.set_tid as usize,
        set_tid_size: args.set_tid_size as usize,
    }
}

/// A pid as a raw result.
pub fn pid_result(result: &Result<Pid, Error>) -> i64 {
    raw_result(result)
}

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Label {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Made {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Calls {}
