//! `clonelab explain VALUE`: a clone flags word decoded.
//!
//! Reads the word as `0x111`, `273` or `CLONE_VM|SIGCHLD`
//! (`clonelab::flags::explain::Written`), lists its flag bits with their
//! meaning and its exit-signal byte, then, for clone and for clone3, the C
//! call and the registers such a call has on every arch (the same renderers
//! as the tour and the chapters, `clonelab::abi`), what the kernel reads from
//! it, what becomes of the exit signal when the child exits, and what the
//! kernel refuses (the rules of clone(2) the flags alone break), all from
//! `clonelab::flags::explain`.
//!
//! It decodes every word the kernel takes, warning where the kernel does
//! something surprising with it (`explain 0x91`: exit signal 145, which
//! clone() takes and never sends). It exits 2 only for text it cannot read as
//! a word.
//!
//! Called from `main.rs`; uses clonelab's public API and std only.

use clonelab::abi::{self, CCall};
use clonelab::flags::explain::{BitTable, Written};
use clonelab::flags::Syscall;
use clonelab::{CloneCall, RegisterImage};
use std::process::ExitCode;

/// Print the decoding of `text`; exit code 2 if it is not a flags word.
pub fn explain(text: &str) -> ExitCode {
    let word: Written = match text.parse() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("clonelab: cannot read {text:?} as a flags word: {e}");
            return ExitCode::from(2);
        }
    };
    println!("{text} = {word}\n");
    print!("{}", BitTable(word));
    let kernel = clonelab::probe::kernel_version();
    for syscall in [Syscall::Clone, Syscall::Clone3] {
        println!();
        let reads = word.read_by(syscall);
        // The same renderers as the tour and the chapters: a call with this
        // word and no pointers, on every arch.
        if let Some(call_word) = word.call_word(syscall) {
            let needs_stack = reads.flags.intersects(
                clonelab::CloneFlags::CLONE_VM
                    | clonelab::CloneFlags::CLONE_SIGHAND
                    | clonelab::CloneFlags::CLONE_THREAD,
            );
            let call = CloneCall {
                syscall: Some(syscall),
                word: call_word,
                // Named, not printed: a child sharing our memory needs its own stack.
                stack: if needs_stack && syscall == Syscall::Clone {
                    16
                } else {
                    0
                },
                ..CloneCall::default()
            };
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
        print!("{}", reads.describe(kernel));
    }
    ExitCode::SUCCESS
}
