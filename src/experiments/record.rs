//! The record of what an experiment did: every clone/clone3 call it made, with
//! its arguments and result. The tour, the tests and the generated chapter
//! tables all render from this record; nothing about a call is written beside
//! the code.
//!
//! A record is plain data (fixed-size arrays, no references, no heap), so it
//! comes back by value from a traced child.

use crate::abi::{CloneCall, RegisterImage};
use crate::clone::CloneArgs;
use crate::errno::Errno;
use crate::error::Error;
use crate::flags::{CloneFlags, ExitSignal, FlagsWord, Syscall};
use crate::sys::Pid;
use crate::trace::{CloneStop, Trace};
use core::fmt;

/// A short fixed-size text (up to 160 bytes, cut at a character boundary).
#[derive(Clone, Copy)]
pub struct Label {
    bytes: [u8; 160],
    len: u8,
}

impl Label {
    /// `text`, cut to fit.
    pub fn new(text: &str) -> Label {
        let mut label = Label {
            bytes: [0; 160],
            len: 0,
        };
        let _ = fmt::Write::write_str(&mut label, text);
        label
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("?")
    }
}

impl fmt::Write for Label {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.bytes.len() - self.len as usize;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        let at = self.len as usize;
        self.bytes[at..at + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take as u8;
        Ok(())
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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

/// One observation: what is claimed, the values it rests on, and whether
/// they bear it out.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    /// The claim, e.g. "the parent reads the CLONE_VM child's store".
    pub claim: Label,
    /// The observed values, e.g. "read 0x5eed; without CLONE_VM: 0x0".
    pub evidence: Label,
    /// Whether the values bear the claim out.
    pub holds: bool,
}

/// Checks kept per experiment.
pub const MAX_CHECKS: usize = 16;

/// Every observation of an experiment.
#[derive(Clone, Copy, Debug)]
pub struct Checks {
    list: [Option<Check>; MAX_CHECKS],
    len: usize,
}

impl Default for Checks {
    fn default() -> Self {
        Checks::new()
    }
}

impl Checks {
    /// None yet.
    pub const fn new() -> Checks {
        Checks {
            list: [None; MAX_CHECKS],
            len: 0,
        }
    }

    /// Add an observation: `claim`, bearing it out if `holds`, on `evidence`.
    pub fn check(&mut self, holds: bool, claim: &str, evidence: fmt::Arguments<'_>) -> &mut Checks {
        let mut text = Label::new("");
        let _ = fmt::Write::write_fmt(&mut text, evidence);
        if self.len < MAX_CHECKS {
            self.list[self.len] = Some(Check {
                claim: Label::new(claim),
                evidence: text,
                holds,
            });
            self.len += 1;
        }
        self
    }

    /// The observations, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Check> {
        self.list[..self.len].iter().flatten()
    }

    /// Whether there is at least one and every one holds.
    pub fn all_hold(&self) -> bool {
        self.len > 0 && self.iter().all(|c| c.holds)
    }
}

impl fmt::Display for Checks {
    /// One line per observation: `ok  claim: evidence` (or `NO`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.iter() {
            let mark = if c.holds { "ok" } else { "NO" };
            writeln!(f, "{mark}  {}: {}", c.claim, c.evidence)?;
        }
        Ok(())
    }
}

/// What every experiment's observation offers the tour and the tests.
pub trait Recorded {
    /// Every call it made.
    fn calls(&self) -> &Calls;

    /// Every observation, each with the evidence it rests on.
    fn checks(&self) -> Checks;

    /// The claim: every observation holds.
    fn holds(&self) -> bool {
        self.checks().all_hold()
    }

    /// Why it could not run here, if it could not (the tour says SKIPPED).
    fn skipped(&self) -> Option<Label> {
        None
    }
}

/// How the recorded calls line up with what the ptrace observer saw.
#[derive(Clone, Copy, Debug)]
pub struct Matched {
    /// For each recorded call, the index of the traced call with exactly its
    /// registers (and clone_args); None for calls made in a child, or when
    /// nothing matched.
    pub stop_of: [Option<usize>; MAX_CALLS],
    /// Traced calls no recorded call accounts for.
    pub unrecorded: [bool; Trace::CAPACITY],
}

impl Matched {
    /// Recorded calls of this process that no traced call matched.
    pub fn unmatched<'a>(&'a self, calls: &'a Calls) -> impl Iterator<Item = (usize, &'a Made)> {
        calls
            .iter()
            .enumerate()
            .filter(|(i, m)| !m.in_child && self.stop_of[*i].is_none())
    }

    /// Traced calls that were not recorded.
    pub fn unrecorded_count(&self) -> usize {
        self.unrecorded.iter().filter(|u| **u).count()
    }
}

/// Pair every recorded call (made by the traced process) with the first
/// unused traced call that has exactly its register image; what is left on
/// either side is a call the record and the kernel disagree on.
pub fn match_trace(calls: &Calls, trace: &Trace) -> Matched {
    let stops: [Option<&CloneStop>; Trace::CAPACITY] = {
        let mut all = [None; Trace::CAPACITY];
        for (slot, stop) in all.iter_mut().zip(trace.clones()) {
            *slot = Some(stop);
        }
        all
    };
    let mut used = [false; Trace::CAPACITY];
    let mut stop_of = [None; MAX_CALLS];
    for (i, made) in calls.iter().enumerate() {
        if made.in_child {
            continue;
        }
        let expected = RegisterImage::of(&made.call);
        let found = stops.iter().enumerate().find(|(j, s)| {
            !used[*j] && s.is_some_and(|s| expected.matches(&crate::trace::observed_image(s)))
        });
        if let Some((j, _)) = found {
            used[j] = true;
            stop_of[i] = Some(j);
        }
    }
    let mut unrecorded = [false; Trace::CAPACITY];
    for (j, stop) in stops.iter().enumerate() {
        unrecorded[j] = stop.is_some() && !used[j];
    }
    Matched {
        stop_of,
        unrecorded,
    }
}

/// One call as a chapter shows it (Markdown): the C call, the flag bits and
/// the exit signal, and a register table for both arches. Addresses are
/// named, never printed, so the text is the same on every run.
pub struct ChapterCall<'a> {
    /// Its number in the experiment (1-based).
    pub number: usize,
    /// The call.
    pub made: &'a Made,
}

impl fmt::Display for ChapterCall<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::abi::{cell, CCall, FlagBits, AARCH64, X86_64};
        let made = self.made;
        let outcome = match made.errno() {
            Some(e) => e.name().unwrap_or("an error"),
            None if made.result == 0 => "a child each",
            None => "a child",
        };
        writeln!(
            f,
            "**Call {}: {}** → {outcome}{}",
            self.number,
            made.label,
            if made.in_child {
                " (made by a child of the experiment)"
            } else {
                ""
            }
        )?;
        writeln!(f)?;
        writeln!(f, "```text")?;
        writeln!(f, "{}", CCall(&made.call))?;
        writeln!(f)?;
        write!(f, "{}", FlagBits(&made.call))?;
        writeln!(f, "```")?;
        writeln!(f)?;
        writeln!(f, "| arg | x86_64 | value | aarch64 | value |")?;
        writeln!(f, "|-----|--------|-------|---------|-------|")?;
        let x = RegisterImage::on(&X86_64, &made.call);
        let a = RegisterImage::on(&AARCH64, &made.call);
        for (i, (rx, ra)) in x.registers().iter().zip(a.registers()).enumerate() {
            let arg = if i == 0 {
                "nr"
            } else {
                ["", "1", "2", "3", "4", "5"][i]
            };
            writeln!(
                f,
                "| {arg} | {} | {} | {} | {} |",
                rx.name,
                cell(&made.call, rx),
                ra.name,
                cell(&made.call, ra)
            )?;
        }
        writeln!(f)
    }
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
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Check {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Checks {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Matched {}
