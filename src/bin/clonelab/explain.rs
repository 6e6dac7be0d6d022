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

use clonelab::abi::{self, CCall, Role};
use clonelab::flags::explain::{BitTable, Written};
use clonelab::flags::{FlagsWord, Syscall};
use clonelab::{CloneCall, CloneFlags as F, RegisterImage};
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
        // word, on every arch.
        if let Some(call_word) = word.call_word(syscall) {
            let call = call_for(call_word, reads.flags, syscall);
            println!("{}", CCall(&call));
            for arch in abi::ARCHES {
                let image = RegisterImage::on(arch, &call);
                let cells: Vec<String> = image
                    .registers()
                    .iter()
                    .map(|r| match r.role {
                        // A 32-bit register cannot hold bits above 31: say
                        // what it holds, and what was lost on the way in.
                        Role::Flags(_) if r.value != reads.value => format!(
                            "{}={:#x} (flags: bits {:#x} of the word do not fit a {}-bit \
                             register and are lost)",
                            r.name,
                            r.value,
                            reads.value & !r.value,
                            arch.register_bits
                        ),
                        _ => format!("{}={}", r.name, abi::cell(&call, r)),
                    })
                    .collect();
                println!("  {:<8} {}", arch.name, cells.join("  "));
            }
        }
        print!("{}", reads.describe(kernel));
    }
    ExitCode::SUCCESS
}

/// The call to show for `word` through `syscall`, where `flags` are the flags
/// the kernel acts on: every argument a flag uses is given, so the C call and
/// the registers name it (`&ptid`, `&ctid`, `&pidfd`, `tls`, `stack_top`), and
/// an argument no flag uses is `NULL` or 0. The addresses are placeholders,
/// named and never printed.
fn call_for(word: FlagsWord, flags: F, syscall: Syscall) -> CloneCall {
    let clone3 = syscall == Syscall::Clone3;
    let uses = |f: F| flags.intersects(f);
    let at = |used: bool, address: usize| if used { address } else { 0 };
    // clone() stores the pidfd through parent_tid (kernel_clone's
    // `.pidfd = parent_tidptr`); a NULL there makes copy_process fail with
    // EFAULT. clone3 has a field of its own for it.
    let parent_tid = uses(F::CLONE_PARENT_SETTID) || (!clone3 && uses(F::CLONE_PIDFD));
    let child_tid = uses(F::CLONE_CHILD_SETTID | F::CLONE_CHILD_CLEARTID);
    // A child sharing our memory needs its own stack (clone(); clone3 is
    // shown with the stack it was given: none).
    let stack = !clone3 && uses(F::CLONE_VM | F::CLONE_SIGHAND | F::CLONE_THREAD);
    CloneCall {
        syscall: Some(syscall),
        word,
        stack: at(stack, 0x1000),
        parent_tid: at(parent_tid, 0x2000),
        child_tid: at(child_tid, 0x3000),
        pidfd: at(clone3 && uses(F::CLONE_PIDFD), 0x4000),
        tls: at(uses(F::CLONE_SETTLS), 0x5000),
        cgroup: if clone3 && uses(F::CLONE_INTO_CGROUP) {
            3
        } else {
            0
        },
        ..CloneCall::default()
    }
}
