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

/// `clonelab explain TEXT`'s output with every run of spaces and line breaks
/// made one space (explain folds long lines), and the exit code.
fn explained(text: &str) -> String {
    let (code, out, err) = common::clonelab(&["explain", text]);
    assert_eq!(code, 0, "clonelab explain {text}:\n{out}{err}");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The lines of one syscall's register rows in `clonelab explain TEXT`
/// (`  x86_64   rax=56 (clone)  rdi=...`), from the section whose C call
/// starts with `call` (`clone(` or `clone3(`).
fn arch_rows(text: &str, call: &str) -> Vec<String> {
    let (code, out, err) = common::clonelab(&["explain", text]);
    assert_eq!(code, 0, "clonelab explain {text}:\n{out}{err}");
    out.lines()
        .skip_while(|l| !l.starts_with(call))
        .skip(1)
        .take_while(|l| l.starts_with("  ") && l.contains('='))
        .map(str::to_string)
        .collect()
}

/// What `explain` says a caller without CAP_SYS_ADMIN gets from the kernel
/// for `reads`: EPERM where it names the privilege rule, else the errno of
/// the refusal it lists first in the kernel's order, else success.
fn unprivileged_errno(reads: &clonelab::flags::explain::KernelReads) -> Option<clonelab::Errno> {
    use clonelab::flags::explain::Note;
    let kernel = clonelab::probe::kernel_version();
    let eperm = reads
        .notes(kernel)
        .any(|n| matches!(n, Note::NeedsPrivilege(_) | Note::NeedsPrivilegeFirst(_)));
    if eperm {
        return Some(clonelab::Errno::EPERM);
    }
    reads
        .refusals(kernel)
        .min_by_key(|r| r.checked_in())
        .map(|r| r.errno())
}

/// CLONE_FS|CLONE_NEWNS: copy_process refuses the pair (EINVAL) before
/// copy_namespaces asks for CAP_SYS_ADMIN, so `explain` names no EPERM for
/// it; CLONE_NEWIPC|CLONE_SYSVSEM is refused in copy_namespaces after that
/// check, so there EPERM comes first for an unprivileged caller.
#[test]
fn explain_says_eperm_only_where_no_earlier_check_refuses() {
    use clonelab::flags::explain::Note;
    let notes = |text: &str, syscall| {
        let written: Written = text.parse().expect("a word");
        written.read_by(syscall).notes(None).collect::<Vec<_>>()
    };
    for syscall in [Syscall::Clone, Syscall::Clone3] {
        let fs_newns = notes("CLONE_FS|CLONE_NEWNS|SIGCHLD", syscall);
        assert_eq!(
            fs_newns,
            [Note::RefusedBeforePrivilege("copy_process")],
            "{syscall:?}"
        );
        let newns = notes("CLONE_NEWNS|SIGCHLD", syscall);
        assert!(
            matches!(newns[..], [Note::NeedsPrivilege(_)]),
            "{syscall:?}: {newns:?}"
        );
        let ipc = notes("CLONE_NEWIPC|CLONE_SYSVSEM|SIGCHLD", syscall);
        assert!(
            matches!(ipc[..], [Note::NeedsPrivilegeFirst(_)]),
            "{syscall:?}: {ipc:?}"
        );
        let with_user = notes("CLONE_NEWIPC|CLONE_SYSVSEM|CLONE_NEWUSER|SIGCHLD", syscall);
        assert!(with_user.is_empty(), "{syscall:?}: {with_user:?}");
    }
    let out = explained("0x20211");
    assert!(
        out.contains("EINVAL (Invalid argument) in copy_process"),
        "{out}"
    );
    assert!(
        !out.contains("EPERM"),
        "explain 0x20211 names EPERM:\n{out}"
    );
    let out = explained("0x8040011");
    assert!(out.contains("to a privileged caller"), "{out}");
    assert!(out.contains("the kernel answers EPERM instead"), "{out}");
}

/// What `explain` says an unprivileged caller gets is what the kernel gave
/// one: the errors experiment's child that dropped to uid 65534 tried
/// namespace words (CLONE_NEWNET, CLONE_FS|CLONE_NEWNS,
/// CLONE_NEWIPC|CLONE_SYSVSEM), and each errno it recorded must be the one
/// `explain` predicts for the word.
#[test]
fn explain_agrees_with_the_kernel_for_an_unprivileged_caller() {
    if clonelab::sys::geteuid() != 0 {
        common::skip("only root can drop privileges to try a word without them");
        return;
    }
    let Some(o) = common::observed_or_skip(
        clonelab::experiments::errors::observe(),
        "the errors experiment",
    ) else {
        return;
    };
    let mut compared = 0;
    for made in o
        .calls
        .iter()
        .filter(|m| m.label.as_str().contains("uid 65534"))
    {
        let reads = Written::of(made.call.word).read_by(Syscall::Clone);
        let flags = reads.flags;
        if !flags.intersects(clonelab::CloneFlags::NAMESPACES) {
            continue; // the RLIMIT_NPROC fork: no flag of the word decides it
        }
        assert_eq!(
            unprivileged_errno(&reads),
            made.errno(),
            "{}: explain {} predicts otherwise",
            made.label.as_str(),
            made.call.word
        );
        compared += 1;
    }
    assert!(
        compared >= 3,
        "only {compared} unprivileged namespace words were tried"
    );
}

/// A flag that uses a pointer gets one: `explain` names it (`&ptid`,
/// `&ctid`, `&pidfd`, `tls`) in the C call and in every arch's registers;
/// NULL only where no flag uses the argument. With clone(), CLONE_PIDFD
/// stores the pidfd through parent_tid (a NULL there is EFAULT).
#[test]
fn explain_names_every_pointer_a_flag_uses() {
    // CLONE_VM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
    let out = explained("0x380111");
    assert!(
        out.contains("arg, &ptid, tls, &ctid)"),
        "the C call of 0x380111 does not name its pointers:\n{out}"
    );
    assert!(
        out.contains(".child_tid = &ctid, .parent_tid = &ptid"),
        "{out}"
    );
    let rows = arch_rows("0x380111", "clone(");
    assert_eq!(rows.len(), 6, "{rows:?}");
    for row in &rows {
        for cell in ["=&ptid (parent_tid)", "=&ctid (child_tid)", "=tls (tls)"] {
            assert!(row.contains(cell), "{row}: no {cell}");
        }
    }
    // CLONE_PIDFD|SIGCHLD: clone() takes the pidfd's address in parent_tid.
    let out = explained("0x1011");
    assert!(out.contains("arg, &pidfd, 0, NULL)"), "{out}");
    assert!(out.contains(".pidfd = &pidfd"), "{out}");
    for row in arch_rows("0x1011", "clone(") {
        assert!(row.contains("=&pidfd (parent_tid)"), "{row}");
        assert!(row.contains("=NULL (child_tid)"), "{row}");
    }
    // No flag uses a pointer: NULL.
    for row in arch_rows("0x11", "clone(") {
        assert!(row.contains("=NULL (parent_tid)"), "{row}");
        assert!(row.contains("=NULL (child_tid)"), "{row}");
    }
}

/// A 32-bit register cannot hold bit 33: for `explain 0x200000000`
/// (CLONE_INTO_CGROUP) i386's ebx and armhf's r0 hold 0, and explain says
/// the high bits are lost; the 64-bit arches hold the whole word.
#[test]
fn explain_shows_what_a_32_bit_register_holds() {
    let rows = arch_rows("0x200000000", "clone(");
    assert_eq!(rows.len(), 6, "{rows:?}");
    for row in &rows {
        let arch = row.split_whitespace().next().unwrap_or("");
        let abi = clonelab::abi::ARCHES
            .into_iter()
            .find(|a| a.name == arch)
            .unwrap_or_else(|| panic!("no arch {arch:?}"));
        let register = abi.arg_registers[abi
            .clone_arg_order
            .iter()
            .position(|&a| a == "flags")
            .expect("clone takes flags")];
        if abi.register_bits == 32 {
            let said = format!("{register}=0x0 (flags: bits 0x200000000 of the word do not fit");
            assert!(row.contains(&said), "{row}: no {said:?}");
            assert!(row.contains("are lost"), "{row}");
        } else {
            let said = format!("{register}=0x200000000 (flags)");
            assert!(row.contains(&said), "{row}: no {said:?}");
        }
    }
}

/// The CLONE_NEWTIME warning points to a call that carries the flag, and
/// never to the command just run: where the word named CLONE_NEWTIME, its
/// own clone3 reading does; where it was a number (0x80 in the signal
/// byte), it names the word to run instead, which differs from it.
#[test]
fn explain_newtime_hint_is_never_the_command_just_run() {
    for text in [
        "0x91",
        "0x80",
        "0x181",
        "CLONE_NEWTIME|SIGCHLD",
        "CLONE_NEWTIME",
    ] {
        let out = explained(text);
        assert!(
            out.contains("WARNING: 0x80 is CLONE_NEWTIME's bit"),
            "{text}: {out}"
        );
        let hint = out
            .split("`clonelab explain '")
            .nth(1)
            .and_then(|rest| rest.split("'`").next());
        match hint {
            None => {
                assert!(
                    text.contains("CLONE_NEWTIME"),
                    "{text}: no word to run:\n{out}"
                );
                assert!(
                    out.contains("see this word's clone3 reading"),
                    "{text}: {out}"
                );
            }
            Some(hint) => {
                assert_ne!(
                    hint, text,
                    "explain {text} tells the reader to run it again"
                );
                let named: Written = hint.parse().expect("the hint is a word");
                let written: Written = text.parse().expect("a word");
                let clone3 = named.read_by(Syscall::Clone3);
                assert!(
                    clone3.flags.contains(clonelab::CloneFlags::CLONE_NEWTIME),
                    "{text}: {hint} carries no CLONE_NEWTIME through clone3"
                );
                // The same register for clone(): the hint is this word, named.
                assert_eq!(
                    named.read_by(Syscall::Clone).value,
                    written.read_by(Syscall::Clone).value,
                    "{text}: {hint}"
                );
                assert!(
                    !explained(hint).contains("`clonelab explain '"),
                    "{hint} points on again"
                );
            }
        }
    }
}
