//! The observations of an experiment: each claim with the values it rests on
//! ([`Checks`]), and [`Recorded`], what every experiment's result offers the
//! tour and the tests (its calls, its checks, a reason to skip).
//!
//! Where it sits: in [`super`] (the record), beside the calls; the tour prints
//! checks, the tests assert them. What it may use: `core` only.

use super::{Calls, Label};
use core::fmt;

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
    /// Checks made past [`MAX_CHECKS`]: not kept, so the checks do not hold.
    dropped: usize,
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
            dropped: 0,
        }
    }

    /// Add an observation: `claim`, bearing it out if `holds`, on `evidence`.
    ///
    /// A claim or evidence longer than a [`Label`] holds is kept cut and
    /// marked so: then [`all_hold`](Checks::all_hold) is false.
    pub fn check(&mut self, holds: bool, claim: &str, evidence: fmt::Arguments<'_>) -> &mut Checks {
        let mut text = Label::empty();
        let _ = fmt::Write::write_fmt(&mut text, evidence);
        if self.len < MAX_CHECKS {
            self.list[self.len] = Some(Check {
                claim: Label::new(claim),
                evidence: text,
                holds,
            });
            self.len += 1;
        } else {
            self.dropped += 1;
        }
        self
    }

    /// The observations, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Check> {
        self.list[..self.len].iter().flatten()
    }

    /// Whether there is at least one, every one holds, none was cut to fit
    /// its [`Label`] (a claim that cannot be read whole is not made) and none
    /// was dropped past [`MAX_CHECKS`].
    pub fn all_hold(&self) -> bool {
        self.len > 0
            && self.dropped == 0
            && self.iter().all(|c| c.holds)
            && self.cut_label().is_none()
    }

    /// How many checks were made past [`MAX_CHECKS`] and not kept.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// The first claim or evidence that did not fit its [`Label`], if any.
    pub fn cut_label(&self) -> Option<&Label> {
        self.iter()
            .flat_map(|c| [&c.claim, &c.evidence])
            .find(|l| l.is_cut())
    }
}

impl fmt::Display for Checks {
    /// One line per observation: `ok  claim: evidence` (or `NO`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.iter() {
            let mark = if c.holds { "ok" } else { "NO" };
            writeln!(f, "{mark}  {}: {}", c.claim, c.evidence)?;
        }
        if self.dropped > 0 {
            writeln!(
                f,
                "NO  {} more check(s) made, past the {MAX_CHECKS} a record keeps",
                self.dropped
            )?;
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

// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Check {}
// SAFETY: every field is Plain (integers, bools, Calls, CloneCall,
// WaitStatus, Errno, CPath, StaticText and arrays, tuples or Options of them).
unsafe impl crate::plain::Plain for Checks {}
