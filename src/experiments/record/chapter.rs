//! One recorded call as a chapter's generated call table shows it
//! (Markdown), printed by `clonelab chapter-calls` for `cargo xtask docs`.
//!
//! Where it sits: in [`super`] (the record), above [`crate::abi`], which
//! renders the C call, the flag bits and the registers. What it may use:
//! `core` and [`crate::abi`].

use super::Made;
use crate::abi::RegisterImage;
use core::fmt;

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
