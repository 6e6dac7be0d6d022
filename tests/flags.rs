//! The flags word: what goes in which bits, and what is refused before any syscall.
//!
//! clone() packs flags and the exit signal into one register: flags from bit 8
//! up, the signal in bits 0-7 (`CSIGNAL = 0xff`). clone3() keeps them in two
//! fields. These tests pin the encodings a student tutorial on clone() uses, the strace-style
//! display, the parser, and the refusals.

use clonelab::flags::{broken_rules, CloneFlags as F, ExitSignal, FlagsWord, Syscall, CSIGNAL};
use clonelab::EncodingError;
use clonelab::Error;

fn word(s: &str) -> FlagsWord {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The tutorial's flags words encode to the values a C compiler gives them.
#[test]
fn tutorial_words_encode_exactly() {
    let table = [
        ("CLONE_VM|SIGCHLD", 0x111u64),
        ("CLONE_VM|CLONE_FS|SIGCHLD", 0x311),
        ("CLONE_NEWPID|SIGCHLD", 0x2000_0011),
        ("CLONE_VM|CLONE_FS|CLONE_FILES|SIGCHLD", 0x711),
        ("CLONE_NEWNET|SIGCHLD", 0x4000_0011),
        ("CLONE_NEWNS|SIGCHLD", 0x2_0011),
        ("SIGCHLD", 0x11),
        ("CLONE_VM|CLONE_VFORK|SIGCHLD", 0x4111),
    ];
    for (text, value) in table {
        let w = word(text);
        assert_eq!(w.encode_clone(), Ok(value), "{text}");
        assert_eq!(w.to_string(), text, "display of {value:#x}");
        assert_eq!(
            FlagsWord::from_clone_word(value).unwrap(),
            w,
            "split of {value:#x}"
        );
    }
}

/// The parser takes hex, decimal and names, and they agree.
#[test]
fn parse_accepts_hex_decimal_and_names() {
    assert_eq!(word("0x111"), word("273"));
    assert_eq!(word("273"), word("CLONE_VM|SIGCHLD"));
    assert_eq!(word(" CLONE_VM | 0x11 "), word("CLONE_VM|SIGCHLD"));
    assert_eq!(word("0").encode_clone(), Ok(0));
    assert!("CLONE_BOGUS".parse::<FlagsWord>().is_err());
    assert!("SIGCHLD|SIGUSR1".parse::<FlagsWord>().is_err());
}

/// The exit signal sits in the low byte and only there.
#[test]
fn exit_signal_is_the_low_byte() {
    let w = FlagsWord::new(F::CLONE_VM, ExitSignal::new(libc::SIGUSR1 as u32).unwrap());
    let encoded = w.encode_clone().unwrap();
    assert_eq!(encoded & CSIGNAL, libc::SIGUSR1 as u64);
    assert_eq!(encoded & !CSIGNAL, libc::CLONE_VM as u64);
    assert_eq!(w.to_string(), "CLONE_VM|SIGUSR1");
    // No signal: the parent gets no notification at all.
    assert_eq!(
        FlagsWord::new(F::CLONE_VM, ExitSignal::NONE).encode_clone(),
        Ok(0x100)
    );
}

/// clone3 keeps flags and exit_signal in separate fields.
#[test]
fn clone3_keeps_signal_apart() {
    let w = FlagsWord::new(
        F::CLONE_NEWTIME | F::CLONE_CLEAR_SIGHAND,
        ExitSignal::SIGCHLD,
    );
    assert_eq!(w.encode_clone3(), Ok((0x1_0000_0080, 17)));
}

/// Flags that would land in the signal byte (CLONE_NEWTIME = 0x80) are refused for clone().
#[test]
fn newtime_is_refused_for_clone() {
    let w = FlagsWord::new(F::CLONE_NEWTIME, ExitSignal::SIGCHLD);
    assert_eq!(
        w.encode_clone(),
        Err(EncodingError::FlagsInSignalByte { bits: 0x80 })
    );
    assert!(w
        .encode_clone()
        .unwrap_err()
        .to_string()
        .contains("exit signal lives"));
}

/// Flags above bit 31 exist only for clone3.
#[test]
fn high_flags_need_clone3() {
    let w = FlagsWord::new(F::CLONE_INTO_CGROUP, ExitSignal::SIGCHLD);
    assert_eq!(
        w.encode_clone(),
        Err(EncodingError::FlagsNeedClone3 {
            bits: 0x2_0000_0000
        })
    );
}

/// Bits naming no flag are refused, by both encodings.
#[test]
fn unknown_bits_are_refused() {
    let w = FlagsWord::new(F::from_bits_retain(1 << 40), ExitSignal::NONE);
    assert_eq!(
        w.encode_clone(),
        Err(EncodingError::UnknownFlags { bits: 1 << 40 })
    );
    assert_eq!(
        w.encode_clone3(),
        Err(EncodingError::UnknownFlags { bits: 1 << 40 })
    );
}

/// Exit signals outside 0..=64 are refused, with the valid range in the message.
#[test]
fn exit_signal_range_is_checked() {
    assert!(ExitSignal::new(0).is_ok());
    assert!(ExitSignal::new(64).is_ok());
    assert_eq!(
        ExitSignal::new(65),
        Err(EncodingError::SignalOutOfRange(65))
    );
    assert!(Error::SignalOutOfRange(65)
        .to_string()
        .contains("0 (none) to 64"));
    assert!(
        "0xff".parse::<FlagsWord>().is_err(),
        "255 in the signal byte"
    );
}

/// The rule table names what a bad combination breaks, per syscall.
#[test]
fn rules_explain_bad_combinations() {
    let texts = |s: &str, sc| {
        broken_rules(word(s), sc, clonelab::probe::kernel_version())
            .map(|r| r.text)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        texts("CLONE_SIGHAND|SIGCHLD", Syscall::Clone),
        ["CLONE_SIGHAND requires CLONE_VM"]
    );
    assert!(texts("CLONE_FS|CLONE_NEWNS", Syscall::Clone)[0]
        .starts_with("CLONE_FS cannot be combined with CLONE_NEWNS"));
    assert!(texts("CLONE_VM|CLONE_SIGHAND|CLONE_THREAD", Syscall::Clone).is_empty());
    // clone() ignores the signal for threads; clone3 insists it is 0.
    assert!(texts(
        "CLONE_VM|CLONE_SIGHAND|CLONE_THREAD|SIGCHLD",
        Syscall::Clone
    )
    .is_empty());
    assert_eq!(
        texts(
            "CLONE_VM|CLONE_SIGHAND|CLONE_THREAD|SIGCHLD",
            Syscall::Clone3
        )
        .len(),
        1
    );
}
