//! Reading a flags word as people write it: `0x111`, `273`, `CLONE_VM|SIGCHLD`.
//!
//! Two readings: [`Written`] keeps the word as written, any exit-signal byte
//! included (what `clonelab explain` decodes: the kernel's clone() takes every
//! byte); [`FlagsWord`] also demands a real exit signal (0 to 64).
//!
//! Where it sits: part of [`crate::flags`] (pure text to value, no syscalls).

use super::explain::Written;
use super::{CloneFlags, EncodingError, ExitSignal, FlagsWord, ALL_FLAGS, CSIGNAL};
use crate::signum::Signal;
use core::fmt;
use core::str::FromStr;

/// Why a flags word could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A `|`-separated part that is no flag, signal or number.
    UnknownName,
    /// Two signals in one word (`SIGCHLD|SIGUSR1`).
    TwoSignals,
    /// The signal part is not 0..=64.
    BadSignal(EncodingError),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::UnknownName => f.write_str(
                "expected CLONE_* names, a signal name, or a number (0x111, 273), joined by |",
            ),
            ParseError::TwoSignals => f.write_str("more than one exit signal"),
            ParseError::BadSignal(e) => write!(f, "{e}"),
        }
    }
}

fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

impl FromStr for Written {
    type Err = ParseError;

    /// Accepts `0x111`, `273`, `CLONE_VM|SIGCHLD` and mixtures; a number is
    /// read as a clone() word (its low byte is the exit signal, any byte).
    /// Refused: a part that is no flag name, signal name or number, and two
    /// different signals.
    fn from_str(s: &str) -> Result<Written, ParseError> {
        let mut flags = 0u64;
        let mut signal: Option<u32> = None;
        let mut set_signal = |n: u32| match signal {
            Some(old) if old != n && n != 0 && old != 0 => Err(ParseError::TwoSignals),
            Some(old) if n == 0 => {
                signal = Some(old);
                Ok(())
            }
            _ => {
                signal = Some(n);
                Ok(())
            }
        };
        for part in s.split('|').map(str::trim) {
            if let Some(n) = parse_number(part) {
                flags |= n & !CSIGNAL;
                set_signal((n & CSIGNAL) as u32)?;
            } else if let Some((_, flag, _)) = ALL_FLAGS.iter().find(|(name, _, _)| *name == part) {
                flags |= flag.bits();
            } else if let Some(n) = Signal::from_name(part) {
                set_signal(n.number())?;
            } else {
                return Err(ParseError::UnknownName);
            }
        }
        Ok(Written {
            flags,
            signal: signal.unwrap_or(0),
        })
    }
}

/// ```
/// use clonelab::{CloneFlags, ExitSignal, FlagsWord};
/// let word: FlagsWord = "CLONE_VM|SIGCHLD".parse().unwrap();
/// assert_eq!(word, FlagsWord::new(CloneFlags::CLONE_VM, ExitSignal::SIGCHLD));
/// assert_eq!("0x111".parse::<FlagsWord>().unwrap(), word); // 0x100 | 17
/// assert_eq!(word.encode_clone().unwrap(), 0x111);
/// ```
impl FromStr for FlagsWord {
    type Err = ParseError;

    /// As [`Written`] reads it, and the exit signal must be 0 to 64.
    fn from_str(s: &str) -> Result<FlagsWord, ParseError> {
        let written: Written = s.parse()?;
        let signal = ExitSignal::new(written.signal).map_err(ParseError::BadSignal)?;
        Ok(FlagsWord::new(
            CloneFlags::from_bits_retain(written.flags),
            signal,
        ))
    }
}
