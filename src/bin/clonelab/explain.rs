//! `clonelab explain VALUE`: a clone flags word decoded.
//!
//! Reads the word as `0x111`, `273` or `CLONE_VM|SIGCHLD` (`FlagsWord`'s
//! parser), lists its flag bits with their meaning and its exit-signal byte,
//! then, for clone and for clone3, the C call and the registers such a call
//! has on every arch (the same renderers as the tour and the chapters,
//! `clonelab::abi`), the values the kernel would read, and the rules of
//! clone(2) the flags alone break (`clonelab::flags::broken_rules`).
//!
//! Called from `main.rs`; uses clonelab's public API and std only.

use clonelab::abi::{self, CCall};
use clonelab::flags::{broken_rules, CloneFlags, FlagsWord, Syscall, ALL_FLAGS};
use clonelab::{CloneCall, Errno, RegisterImage};
use std::process::ExitCode;

/// Print the decoding of `text`; exit code 2 if it is not a flags word.
pub fn explain(text: &str) -> ExitCode {
    let word: FlagsWord = match text.parse() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("clonelab: cannot read {text:?}: {e}");
            return ExitCode::from(2);
        }
    };
    println!("{text} = {word}\n");
    println!("  bit  value                name                   meaning");
    for (name, flag, what) in ALL_FLAGS.iter().filter(|(_, f, _)| word.flags.contains(*f)) {
        let bit = flag.bits().trailing_zeros();
        println!("  {bit:>3}  {:#020x}   {name:<22} {what}", flag.bits());
    }
    let unknown = word.flags.bits() & !CloneFlags::known_bits();
    if unknown != 0 {
        println!("  ???  {unknown:#020x}   (no CLONE_* flag)");
    }
    println!(
        "  0-7  {:#020x}   exit signal: {:<9}  sent to the parent when the child exits{}",
        word.signal.number(),
        word.signal.to_string(),
        if word.signal.number() == 0 {
            " (0: none)"
        } else {
            ""
        }
    );
    for syscall in [Syscall::Clone, Syscall::Clone3] {
        println!();
        // The same renderers as the tour and the chapters: a call with this
        // word and no pointers, on both arches.
        let needs_stack = word.flags.intersects(
            CloneFlags::CLONE_VM | CloneFlags::CLONE_SIGHAND | CloneFlags::CLONE_THREAD,
        );
        let call = CloneCall {
            syscall: Some(syscall),
            word,
            // Named, not printed: a child sharing our memory needs its own stack.
            stack: if needs_stack && syscall == Syscall::Clone {
                16
            } else {
                0
            },
            ..CloneCall::default()
        };
        let encodable = match syscall {
            Syscall::Clone => word.encode_clone().is_ok(),
            Syscall::Clone3 => word.encode_clone3().is_ok(),
        };
        if encodable {
            println!("{}", CCall(&call));
            for arch in abi::ARCHES {
                let image = RegisterImage::on(arch, &call);
                let cells: Vec<String> = image
                    .registers()
                    .iter()
                    .map(|r| format!("{}={}", r.name, abi::cell(&call, r)))
                    .collect();
                println!("  {:<8} {}", arch.name, cells.join("  "));
            }
        }
        match syscall {
            Syscall::Clone => match word.encode_clone() {
                Ok(v) => println!("clone():  flags register = {v:#x}"),
                Err(e) => println!("clone():  refused before the syscall: {e}"),
            },
            Syscall::Clone3 => match word.encode_clone3() {
                Ok((f, s)) => {
                    println!("clone3(): clone_args.flags = {f:#x}, clone_args.exit_signal = {s}")
                }
                Err(e) => println!("clone3(): refused before the syscall: {e}"),
            },
        }
        let rules: Vec<_> =
            broken_rules(word, syscall, clonelab::probe::kernel_version()).collect();
        if rules.is_empty() {
            println!("          no clone(2) rule is broken by the flags alone");
        }
        for rule in rules {
            let when = if rule.errno == Errno::EPERM {
                "unless privileged, "
            } else {
                ""
            };
            println!(
                "          {when}the kernel answers {}: {}",
                rule.errno, rule.text
            );
        }
    }
    ExitCode::SUCCESS
}
