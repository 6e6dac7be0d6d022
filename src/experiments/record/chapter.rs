//! One recorded call as a chapter's generated call table shows it
//! (Markdown), printed by `clonelab chapter-calls` for `cargo xtask docs`.
//!
//! Where it sits: in [`super`] (the record), above [`crate::abi`], which
//! renders the C call, the flag bits and the registers. What it may use:
//! `core` and [`crate::abi`].

use super::Made;
use crate::abi::{cell, CloneCall, RegisterImage, Role, ARCHES};
use crate::flags::{CloneFlags, Syscall};
use core::fmt;

/// One call as a chapter shows it (Markdown): the C call, the flag bits and
/// the exit signal, and a register table for all six arches. Addresses are
/// named, never printed, so the text is the same on every run.
pub struct ChapterCall<'a> {
    /// Its number in the experiment (1-based).
    pub number: usize,
    /// The call.
    pub made: &'a Made,
}

impl fmt::Display for ChapterCall<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::abi::{CCall, FlagBits};
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
        write!(f, "{}", SixArchTable(&made.call))?;
        writeln!(f)
    }
}

/// The registers one call loads on every arch in [`ARCHES`], one row per
/// argument of the call (in x86_64's order) and one column per arch, each
/// cell naming the register and its position: where the orders differ
/// (CLONE_BACKWARDS swaps `tls` and `child_tid`; s390x's CLONE_BACKWARDS2 puts
/// the stack first) the positions differ. Derived from the recorded call
/// through each arch's row of the table; the tour in each VM prints the one
/// it observed, and tests/abi.rs checks each VM's row against its kernel.
struct SixArchTable<'a>(&'a CloneCall);

impl fmt::Display for SixArchTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let call = self.0;
        let images = ARCHES.map(|abi| RegisterImage::on(abi, call));
        write!(f, "| value |")?;
        for abi in ARCHES {
            write!(f, " {} |", abi.name)?;
        }
        writeln!(f)?;
        write!(f, "|---|")?;
        for _ in ARCHES {
            write!(f, "---|")?;
        }
        writeln!(f)?;
        let [first, ..] = &images;
        for (row, register) in first.registers().iter().enumerate() {
            if row == 0 {
                // The number differs per arch: print it in each cell.
                let syscall = match register.role {
                    Role::Number(Syscall::Clone3) => "clone3",
                    _ => "clone",
                };
                write!(f, "| syscall number ({syscall}) |")?;
                for image in &images {
                    let nr = &image.registers()[0];
                    write!(f, " `{}` = {} |", nr.name, nr.value)?;
                }
            } else {
                write!(f, "| {} |", cell(call, register))?;
                for image in &images {
                    let at = image
                        .registers()
                        .iter()
                        .position(|r| r.role == register.role)
                        .expect("every arch loads every argument of the call");
                    write!(f, " `{}` (arg {at}) |", image.registers()[at].name)?;
                }
            }
            writeln!(f)?;
        }
        if call.word.flags.contains(CloneFlags::CLONE_SETTLS) {
            writeln!(f)?;
            write!(f, "With CLONE_SETTLS, `tls` becomes:")?;
            for (i, abi) in ARCHES.iter().enumerate() {
                let end = if i + 1 == ARCHES.len() { "." } else { ";" };
                write!(f, " {} {}{end}", abi.name, abi.tls)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
