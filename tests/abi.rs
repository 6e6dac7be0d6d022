//! # The register-level differences between the six arches, observed.
//!
//! Chapter: `docs/abi.md`. Observer: `clonelab::trace` (ptrace).
//!
//! One `clone` call with every pointer argument set to a distinct address is
//! traced, and the test asserts *which register* each value arrived in, on
//! the arch it runs on (each VM of `cargo xtask test` checks its own column):
//!
//! | value      | x86_64 | aarch64 | i386 | armhf | ppc64le | s390x |
//! |------------|--------|---------|------|-------|---------|-------|
//! | number     | rax (orig_rax) = 56 | x8 = 220 | eax (orig_eax) = 120 | r7 = 120 | r0 = 120 | r1 = 120 |
//! | flags      | rdi    | x0      | ebx  | r0    | r3      | **r3** |
//! | stack      | rsi    | x1      | ecx  | r1    | r4      | **r2** |
//! | parent_tid | rdx    | x2      | edx  | r2    | r5      | r4    |
//! | child_tid  | **r10**| **x4**  | **edi** | **r4** | **r7** | r5 |
//! | tls        | **r8** | **x3**  | **esi** | **r3** | **r6** | r6 |
//!
//! (In bold: where an arch's order differs from x86_64's. aarch64, i386,
//! armhf and ppc64le swap tls and child_tid (CLONE_BACKWARDS); s390x puts
//! the stack before the flags (CLONE_BACKWARDS2).)
//!
//! Then where the exit signal travels: bits 0-7 of the flags register for
//! clone; `clone_args.exit_signal` (read from the tracee's memory) for clone3,
//! whose registers hold only `&clone_args` and its size.

use crate::common;

use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall};
use clonelab::trace::trace;
use clonelab::{clone, spawn_via, sys, Stack};
use std::ffi::c_void;
use std::sync::atomic::AtomicI32;

/// tls and child_tid land where this arch's kernel reads them: r8 and r10
/// on x86_64, x3 and x4 on aarch64, and so on (the table above).
#[test]
fn tls_and_child_tid_swap_registers_between_arches() {
    if common::under_qemu_user() {
        common::skip("qemu-user cannot ptrace");
        return;
    }
    // In the tracee: one clone with distinct, recognisable pointers.
    let made = trace(|| {
        let stack = Stack::new(common::STACK).unwrap();
        let (ptid, ctid) = (AtomicI32::new(0), AtomicI32::new(0));
        let mut block = common::TlsBlock::new();
        // What CLONE_SETTLS takes here (on i386 a user_desc describing the block).
        let tls = clonelab::arch::TlsArgument::new(block.pointer());
        let flags = F::CLONE_VM
            | F::CLONE_SETTLS
            | F::CLONE_PARENT_SETTID
            | F::CLONE_CHILD_SETTID
            | F::CLONE_CHILD_CLEARTID;
        let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
        // SAFETY: CLONE_VM with our own stack and TLS block, reaped below.
        let pid = unsafe {
            clone(
                word,
                stack.top(),
                ptid.as_ptr(),
                ctid.as_ptr(),
                tls.value(),
                common::exit_zero,
                std::ptr::null_mut(),
            )
        }
        .unwrap();
        sys::wait4(pid, 0).unwrap();
        (
            pid,
            stack.top() as usize,
            ptid.as_ptr() as usize,
            ctid.as_ptr() as usize,
            tls.value(),
        )
    });
    let ((pid, stack, ptid, ctid, tls), trace) = made.unwrap();
    let stop = trace.clones().next().expect("one clone traced");
    let reg = |name: &str| {
        let i = clonelab::arch::ARG_REGISTERS
            .iter()
            .position(|r| *r == name)
            .unwrap();
        stop.registers[i]
    };
    assert_eq!(
        stop.result,
        Some(pid as i64),
        "clone returned the child's pid"
    );
    #[cfg(target_arch = "x86_64")]
    {
        assert_eq!(stop.register_nr, 56);
        assert_eq!(
            (reg("rdi") & 0xff, reg("rsi"), reg("rdx")),
            (17, stack as u64, ptid as u64)
        );
        assert_eq!(reg("r10"), ctid as u64, "x86_64: child_tid in r10");
        assert_eq!(reg("r8"), tls as u64, "x86_64: tls in r8");
    }
    #[cfg(target_arch = "aarch64")]
    {
        assert_eq!(stop.register_nr, 220);
        assert_eq!(
            (reg("x0") & 0xff, reg("x1"), reg("x2")),
            (17, stack as u64, ptid as u64)
        );
        assert_eq!(reg("x3"), tls as u64, "aarch64: tls in x3");
        assert_eq!(reg("x4"), ctid as u64, "aarch64: child_tid in x4");
    }
    #[cfg(target_arch = "x86")]
    {
        assert_eq!(stop.register_nr, 120);
        assert_eq!(
            (reg("ebx") & 0xff, reg("ecx"), reg("edx")),
            (17, stack as u64, ptid as u64)
        );
        assert_eq!(reg("esi"), tls as u64, "i386: tls (&user_desc) in esi");
        assert_eq!(reg("edi"), ctid as u64, "i386: child_tid in edi");
    }
    #[cfg(target_arch = "arm")]
    {
        assert_eq!(stop.register_nr, 120);
        assert_eq!(
            (reg("r0") & 0xff, reg("r1"), reg("r2")),
            (17, stack as u64, ptid as u64)
        );
        assert_eq!(reg("r3"), tls as u64, "armhf: tls in r3");
        assert_eq!(reg("r4"), ctid as u64, "armhf: child_tid in r4");
    }
    #[cfg(target_arch = "powerpc64")]
    {
        assert_eq!(stop.register_nr, 120);
        assert_eq!(
            (reg("r3") & 0xff, reg("r4"), reg("r5")),
            (17, stack as u64, ptid as u64)
        );
        assert_eq!(reg("r6"), tls as u64, "ppc64le: tls in r6");
        assert_eq!(reg("r7"), ctid as u64, "ppc64le: child_tid in r7");
    }
    #[cfg(target_arch = "s390x")]
    {
        assert_eq!(stop.register_nr, 120);
        assert_eq!(
            (reg("r2"), reg("r3") & 0xff, reg("r4")),
            (stack as u64, 17, ptid as u64),
            "s390x: the stack comes first, then flags"
        );
        assert_eq!(reg("r5"), ctid as u64, "s390x: child_tid in r5");
        assert_eq!(reg("r6"), tls as u64, "s390x: tls in r6");
    }
}

/// clone carries the exit signal in the flags register; clone3 in clone_args.
#[test]
fn exit_signal_travels_in_flags_or_in_clone_args() {
    if common::under_qemu_user() {
        common::skip("qemu-user cannot ptrace");
        return;
    }
    let word = FlagsWord::new(F::EMPTY, ExitSignal::SIGCHLD);
    let ((), trace) = trace(|| {
        for syscall in [Syscall::Clone, Syscall::Clone3] {
            spawn_via(syscall, word, || 0).unwrap().wait().unwrap();
        }
    })
    .unwrap();
    let stops: Vec<_> = trace.clones().collect();
    assert_eq!(stops.len(), 2);
    let (clone_stop, clone3_stop) = (stops[0], stops[1]);
    assert_eq!(clone_stop.nr, linux_raw_sys::general::__NR_clone as u64);
    // The flags register is arg1 everywhere but s390x (CLONE_BACKWARDS2: arg2).
    let flags_at = clonelab::arch::CLONE_ARG_ORDER
        .iter()
        .position(|a| *a == "flags")
        .unwrap();
    assert_eq!(
        clone_stop.registers[flags_at], 0x11,
        "clone: flags register = SIGCHLD in bits 0-7"
    );
    assert_eq!(clone3_stop.nr, 435);
    assert_eq!(
        clone3_stop.registers[1], 88,
        "clone3: arg2 = sizeof(struct clone_args)"
    );
    let args = clone3_stop
        .clone_args
        .expect("clone_args read from the tracee");
    assert_eq!(
        (args.flags, args.exit_signal),
        (0, 17),
        "clone3: the signal has its own field"
    );
    assert!(clone3_stop.result.unwrap() > 0);
}

/// The per-arch table the tour derives other arches' images from is right
/// for all six: the syscall numbers agree with the `syscalls` crate's tables,
/// and this build's row with `clonelab::arch` and linux-raw-sys (each VM run
/// checks its own row).
#[test]
fn abi_table_matches_every_arch() {
    use clonelab::abi::this_arch;
    // syscalls needs nightly inline assembly when built for s390x and ppc64.
    #[cfg(not(any(target_arch = "s390x", target_arch = "powerpc64")))]
    {
        use clonelab::abi::{AARCH64, ARMHF, I386, PPC64LE, S390X, X86_64};
        assert_eq!(X86_64.nr_clone, syscalls::x86_64::Sysno::clone as u64);
        assert_eq!(X86_64.nr_clone3, syscalls::x86_64::Sysno::clone3 as u64);
        assert_eq!(AARCH64.nr_clone, syscalls::aarch64::Sysno::clone as u64);
        assert_eq!(AARCH64.nr_clone3, syscalls::aarch64::Sysno::clone3 as u64);
        assert_eq!(I386.nr_clone, syscalls::x86::Sysno::clone as u64);
        assert_eq!(I386.nr_clone3, syscalls::x86::Sysno::clone3 as u64);
        assert_eq!(ARMHF.nr_clone, syscalls::arm::Sysno::clone as u64);
        assert_eq!(ARMHF.nr_clone3, syscalls::arm::Sysno::clone3 as u64);
        assert_eq!(PPC64LE.nr_clone, syscalls::powerpc64::Sysno::clone as u64);
        assert_eq!(PPC64LE.nr_clone3, syscalls::powerpc64::Sysno::clone3 as u64);
        assert_eq!(S390X.nr_clone, syscalls::s390x::Sysno::clone as u64);
        assert_eq!(S390X.nr_clone3, syscalls::s390x::Sysno::clone3 as u64);
    }
    let row = this_arch();
    assert_eq!(row.name, clonelab::arch::NAME);
    assert_eq!(row.nr_register, clonelab::arch::NR_REGISTER);
    assert_eq!(row.arg_registers[..], clonelab::arch::ARG_REGISTERS[..5]);
    assert_eq!(row.clone_arg_order, clonelab::arch::CLONE_ARG_ORDER);
    assert_eq!(row.nr_clone, linux_raw_sys::general::__NR_clone as u64);
    assert_eq!(row.nr_clone3, linux_raw_sys::general::__NR_clone3 as u64);
    assert_eq!(
        row.register_bits,
        usize::BITS,
        "a register is as wide as a pointer"
    );
}

unsafe extern "C" fn note_sp(arg: *mut c_void) -> i32 {
    let local = 0u8;
    // SAFETY: arg is the parent's AtomicUsize, shared through CLONE_VM and
    // alive until the parent has reaped this child.
    let seen = unsafe { &*(arg as *const std::sync::atomic::AtomicUsize) };
    seen.store(
        std::ptr::addr_of!(local) as usize,
        std::sync::atomic::Ordering::SeqCst,
    );
    0
}

/// Both calls take a stack: clone its top (one register), clone3 its lowest
/// byte and its size (two `clone_args` fields); either way the child runs inside it.
#[test]
fn clone_takes_the_stack_top_and_clone3_the_base_and_size() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    if common::under_qemu_user() {
        common::skip("qemu-user cannot ptrace");
        return;
    }
    let stack = Stack::new(common::STACK).unwrap();
    let (range, top) = (stack.bottom() as usize..stack.top() as usize, stack.top());
    let word = FlagsWord::new(F::CLONE_VM, ExitSignal::SIGCHLD);
    let (seen, trace) = trace(|| {
        let seen = [AtomicUsize::new(0), AtomicUsize::new(0)];
        let arg = |i: usize| &seen[i] as *const AtomicUsize as *mut c_void;
        let no_tid = std::ptr::null_mut();
        // SAFETY: CLONE_VM with our own Stack and `seen`, alive until the child is reaped.
        let pid = unsafe { clone(word, top, no_tid, no_tid, 0, note_sp, arg(0)) }.unwrap();
        sys::wait4(pid, 0).unwrap();
        let (flags, exit_signal) = word.encode_clone3().unwrap();
        let mut args = clonelab::CloneArgs {
            flags,
            exit_signal,
            stack: stack.bottom() as u64,
            stack_size: stack.size() as u64,
            ..clonelab::clone::zeroed_args()
        };
        // SAFETY: as above.
        let pid = unsafe {
            clonelab::clone3(&mut args, size_of::<clonelab::CloneArgs>(), note_sp, arg(1))
        }
        .unwrap();
        sys::wait4(pid, 0).unwrap();
        [
            seen[0].load(Ordering::SeqCst),
            seen[1].load(Ordering::SeqCst),
        ]
    })
    .unwrap();
    let stops: Vec<_> = trace.clones().collect();
    assert_eq!(stops.len(), 2);
    // The stack is arg2 everywhere but s390x (CLONE_BACKWARDS2: arg1).
    let stack_at = clonelab::arch::CLONE_ARG_ORDER
        .iter()
        .position(|a| *a == "stack")
        .unwrap();
    assert_eq!(
        stops[0].registers[stack_at], top as u64,
        "clone: the stack register holds the stack's top"
    );
    let args = stops[1]
        .clone_args
        .expect("clone_args read from the tracee");
    assert_eq!(
        (args.stack, args.stack_size),
        (stack.bottom() as u64, stack.size() as u64),
        "clone3: the lowest byte and the size"
    );
    for (i, sp) in seen.iter().enumerate() {
        assert!(
            range.contains(sp),
            "child {i} ran at {sp:#x}, outside {range:x?}"
        );
    }
}

/// docs/abi.md's six-arch block is exactly the rows of `clonelab::abi::ARCHES`,
/// rendered one line each (so the docs cannot drift from the table the tour uses).
#[test]
fn docs_table_is_the_abi_rows() {
    let doc = include_str!("../docs/abi.md");
    for row in clonelab::abi::ARCHES {
        let args: Vec<String> = row
            .clone_arg_order
            .iter()
            .zip(row.arg_registers)
            .map(|(arg, register)| format!("{arg}={register}"))
            .collect();
        let line = format!(
            "{:<8} nr {:<3} clone={:<3} clone3={}  {}",
            row.name,
            row.nr_register,
            row.nr_clone,
            row.nr_clone3,
            args.join(" ")
        );
        assert!(
            doc.lines().any(|l| l == line),
            "docs/abi.md lacks the row: {line}"
        );
        // The instruction table's last column: what clone's tls becomes.
        let tls_cell = format!("| {} |", row.tls);
        assert!(
            doc.lines()
                .any(|l| l.starts_with(&format!("| {:<7} |", row.name)) && l.ends_with(&tls_cell)),
            "docs/abi.md: the {} row does not end with {tls_cell}",
            row.name
        );
    }
}
