//! The record matched against what ptrace saw: each recorded call paired
//! with the traced call that has exactly its register image. A call the
//! kernel saw but the record lacks, or the reverse, is what the tour reports
//! as a FAIL.
//!
//! Where it sits: in [`super`] (the record), between [`crate::abi`] (the
//! register image of a call) and [`crate::trace`] (the observed stops). What
//! it may use: `core` and those two modules.

use super::{Calls, Made, MAX_CALLS};
use crate::abi::RegisterImage;
use crate::trace::{CloneStop, Trace};

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

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Matched {}
