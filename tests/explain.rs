//! # `clonelab explain` decodes every word the kernel takes.
//!
//! The words are gathered from the experiments' records, not from a hand
//! list: every call the tour's experiments made that the kernel accepted (a
//! child, not an errno). Each is decoded by `explain`'s decoding function
//! (`clonelab::flags::explain`), which must read it as the kernel did (the
//! flags and the exit signal the call loaded) and find no reason the kernel
//! would refuse it; and the `clonelab explain` command exits 0 on each.
//! `clone(0x91)` (CLONE_NEWTIME|SIGCHLD through clone(): exit signal 145) is
//! among them: it is decoded with a warning, not refused.

use crate::common;

use clonelab::abi::Role;
use clonelab::flags::explain::{Fate, Written};
use clonelab::flags::Syscall;
use clonelab::RegisterImage;

/// One accepted call's word: as the tour prints it, and as the kernel read it.
struct Accepted {
    /// Which experiment made it, and its label.
    from: String,
    syscall: Syscall,
    /// What a reader would type: clone()'s register in hex, or clone3's
    /// flags and signal by name (`CLONE_NEWTIME|SIGCHLD`).
    text: String,
    /// The flags and the exit signal the kernel took.
    flags: u64,
    exit_signal: u64,
}

fn accepted_words() -> Vec<Accepted> {
    let mut words = Vec::new();
    for ran in common::run_every_experiment() {
        for made in ran.outcome.calls.iter().filter(|m| m.result >= 0) {
            let call = made.call;
            let from = format!("{}: {}", ran.entry.name, made.label);
            match call.syscall {
                Some(Syscall::Clone) => {
                    let register = RegisterImage::of(&call)
                        .registers()
                        .iter()
                        .find(|r| matches!(r.role, Role::Flags(_)))
                        .map(|r| r.value)
                        .expect("a clone() call loads a flags register");
                    let low = register & 0xffff_ffff;
                    words.push(Accepted {
                        from,
                        syscall: Syscall::Clone,
                        text: format!("{register:#x}"),
                        flags: low & !0xff,
                        exit_signal: low & 0xff,
                    });
                }
                Some(Syscall::Clone3) => {
                    let (flags, signal) = call.word.encode_clone3().expect("clone3 took it");
                    words.push(Accepted {
                        from,
                        syscall: Syscall::Clone3,
                        text: call.word.to_string(),
                        flags,
                        exit_signal: signal,
                    });
                }
                None => {}
            }
        }
    }
    words
}

/// Every word the experiments' records show the kernel accepting is read by
/// `explain` as the kernel read it, with no refusal; the command exits 0.
#[test]
fn explain_decodes_every_word_the_kernel_accepted() {
    let kernel = clonelab::probe::kernel_version();
    let words = accepted_words();
    assert!(
        words.iter().any(|w| w.syscall == Syscall::Clone),
        "no accepted clone() call was recorded"
    );
    let mut texts = Vec::new();
    for w in &words {
        let written: Written = w
            .text
            .parse()
            .unwrap_or_else(|e| panic!("{}: explain cannot read {:?}: {e}", w.from, w.text));
        let reads = written.read_by(w.syscall);
        assert_eq!(
            (reads.flags.bits(), reads.exit_signal),
            (w.flags, w.exit_signal),
            "{}: {:?} is not read as the kernel read it",
            w.from,
            w.text
        );
        let refusals: Vec<String> = reads.refusals(kernel).map(|r| r.to_string()).collect();
        assert!(
            refusals.is_empty(),
            "{}: explain says the kernel refuses {:?}, which it accepted: {refusals:?}",
            w.from,
            w.text
        );
        let described = reads.describe(kernel).to_string();
        assert!(
            described.contains("the kernel takes it"),
            "{}: {described}",
            w.from
        );
        if !texts.contains(&w.text) {
            texts.push(w.text.clone());
        }
    }
    for text in &texts {
        let (code, out, err) = common::clonelab(&["explain", text]);
        assert_eq!(code, 0, "clonelab explain {text}:\n{out}{err}");
    }
}

/// `clone(0x91)`: the kernel takes exit signal 145; `explain 0x91` says so,
/// warns what it means at the child's exit, and exits 0. Only text that is
/// no word at all is refused (exit 2).
#[test]
fn explain_warns_about_0x91_rather_than_refusing_it() {
    let written: Written = "0x91".parse().expect("0x91 is a word");
    let reads = written.read_by(Syscall::Clone);
    assert_eq!((reads.flags.bits(), reads.exit_signal), (0, 145));
    assert_eq!(reads.fate(), Fate::NotASignal(145));
    assert_eq!(
        reads.refusals(None).count(),
        0,
        "clone() takes exit signal 145"
    );
    let clone3 = written.read_by(Syscall::Clone3);
    assert_eq!(
        clone3.refusals(None).map(|r| r.errno()).collect::<Vec<_>>(),
        [clonelab::Errno::EINVAL],
        "clone3 refuses exit_signal 145"
    );
    let (code, out, err) = common::clonelab(&["explain", "0x91"]);
    assert_eq!(code, 0, "{out}{err}");
    for said in [
        "exit signal 145",
        "WARNING",
        "valid_signal(145)",
        "__WCLONE",
    ] {
        assert!(
            out.contains(said),
            "explain 0x91 does not say {said:?}:\n{out}"
        );
    }
    let (code, _, err) = common::clonelab(&["explain", "CLONE_NO_SUCH_FLAG"]);
    assert_eq!(code, 2, "{err}");
}
