//! # clone3's `clone_args`: errors that name what was passed, and a larger struct
//!
//! The checked `clone3` refuses an exit signal out of range before the
//! syscall; the error names the exact 64-bit value and the errno the kernel
//! would have answered (EINVAL), which `clone3_raw` then gets from the kernel
//! itself. `CloneArgsExt` is a `clone_args` with bytes after it, as a program
//! built for a newer kernel passes one: zero bytes there are taken, a
//! non-zero byte is E2BIG (`copy_struct_from_user`), and a struct larger than
//! a page is refused first, as the kernel would refuse it (E2BIG).

use crate::common;

use clonelab::clone::{clone3, clone3_ext, clone3_raw, zeroed_args, CloneArgsExt};
use clonelab::flags::EncodingError;
use clonelab::wait::wait_pid;
use clonelab::{stack, CloneArgs, Errno, Error, ExitSignal, WaitStatus};
use std::ffi::c_void;
use std::ptr::null_mut;

/// A raw child entry whose exit status shows that the child ran.
unsafe extern "C" fn exit_seven(_: *mut c_void) -> i32 {
    7
}

fn sigchld_args() -> CloneArgs {
    CloneArgs {
        exit_signal: ExitSignal::SIGCHLD.number() as u64,
        ..zeroed_args()
    }
}

/// `0xbadc0ded00000000` is refused as itself, not clamped to 4294967295, with
/// EINVAL named; the kernel, asked through `clone3_raw`, answers that EINVAL.
#[test]
fn a_bad_exit_signal_is_named_exactly_with_the_kernels_errno() {
    const BAD: u64 = 0xbadc0ded00000000;
    let mut args = CloneArgs {
        exit_signal: BAD,
        ..zeroed_args()
    };
    let size = size_of::<CloneArgs>();
    // SAFETY: refused before the syscall (and the kernel would refuse it too).
    let err = unsafe { clone3(&mut args, size, exit_seven, null_mut()) }.unwrap_err();
    assert_eq!(err, Error::SignalOutOfRange(BAD));
    assert_eq!(err.errno(), None, "no syscall was made");
    assert_eq!(err.kernel_errno(), Some(Errno::EINVAL));
    let text = err.to_string();
    for said in ["13464652297489350656", "0xbadc0ded00000000", "EINVAL"] {
        assert!(text.contains(said), "{said:?} not in {text:?}");
    }
    assert!(!text.contains("4294967295"), "clamped: {text}");
    // A u32 that is out of range is named exactly too.
    assert_eq!(
        ExitSignal::new(u32::MAX),
        Err(EncodingError::SignalOutOfRange(4294967295))
    );

    // What the kernel says to the same args.
    let args_ptr = &mut args as *mut CloneArgs;
    // SAFETY: args is a valid clone_args; with this exit signal no kernel
    // makes a child (and one made would run exit_seven on its own copy of us).
    let kernel = unsafe { clone3_raw(args_ptr, size, exit_seven, null_mut()) };
    match kernel.map_err(|e| e.errno()) {
        Err(Some(Errno::ENOSYS)) => common::skip("no clone3 here: the kernel's answer is not seen"),
        Err(errno) => assert_eq!(errno, err.kernel_errno(), "the kernel agrees"),
        Ok(pid) => panic!("the kernel made child {pid} with exit signal {BAD:#x}"),
    }
}

/// Eight zero bytes after the struct: the kernel takes the larger struct
/// (they are fields it does not know, all zero) and the child runs. One of
/// them non-zero: E2BIG, with the byte named; the kernel made no child.
#[test]
fn an_oversized_args_is_taken_with_a_zero_tail_and_e2big_without() {
    let mut ext = CloneArgsExt::<8>::new(sigchld_args());
    assert_eq!(CloneArgsExt::<8>::SIZE, 96);
    // SAFETY: fork-like (no CLONE_VM, no stack, no pointers in args).
    let made = unsafe { clone3_ext(&mut ext, exit_seven, null_mut()) };
    if common::under_qemu_user()
        && made.as_ref().err().and_then(Error::errno) == Some(Errno::ENOSYS)
    {
        common::skip("qemu-user has no clone3");
        return;
    }
    let pid = made.expect("a zero tail is taken");
    assert_eq!(wait_pid(pid, 0).unwrap(), WaitStatus::Exited(7));

    ext.tail[5] = 0x01;
    // SAFETY: as above; the kernel refuses before making a child.
    let err = unsafe { clone3_ext(&mut ext, exit_seven, null_mut()) }.unwrap_err();
    assert_eq!(
        err,
        Error::Clone3ArgsTail {
            size: 96,
            offset: 93
        }
    );
    assert_eq!(err.errno(), Some(Errno::E2BIG));
    let text = err.to_string();
    for said in ["E2BIG", "96 bytes", "offset 93", "copy_struct_from_user"] {
        assert!(text.contains(said), "{said:?} not in {text:?}");
    }

    // A page-sized struct (the largest the kernel reads) with its last byte set.
    const UP_TO_4K: usize = 4096 - size_of::<CloneArgs>();
    let mut ext = Box::new(CloneArgsExt::<UP_TO_4K>::new(sigchld_args()));
    ext.tail[UP_TO_4K - 1] = 0x80;
    // SAFETY: as above.
    let err = unsafe { clone3_ext(&mut *ext, exit_seven, null_mut()) }.unwrap_err();
    assert_eq!(
        err,
        Error::Clone3ArgsTail {
            size: 4096,
            offset: 4095
        }
    );
}

/// A struct larger than any page (64 KiB and more) is refused before the
/// syscall, with E2BIG as the kernel's answer; `clone3_raw` shows the kernel
/// giving it.
#[test]
fn a_struct_larger_than_a_page_is_refused_before_the_syscall() {
    const OVER_64K: usize = 65536;
    let mut ext = Box::new(CloneArgsExt::<OVER_64K>::new(sigchld_args()));
    let size = CloneArgsExt::<OVER_64K>::SIZE;
    // SAFETY: refused before the syscall.
    let err = unsafe { clone3_ext(&mut *ext, exit_seven, null_mut()) }.unwrap_err();
    let page_size = stack::page_size();
    assert_eq!(err, Error::Clone3ArgsTooLarge { size, page_size });
    assert_eq!(
        (err.errno(), err.kernel_errno()),
        (None, Some(Errno::E2BIG))
    );
    assert!(err.to_string().contains("E2BIG"), "{err}");

    let pointer = &mut *ext as *mut CloneArgsExt<OVER_64K> as *mut CloneArgs;
    // SAFETY: `pointer` is valid for `size` bytes (the struct and its zero
    // tail); the kernel refuses a size above a page before reading any.
    let kernel = unsafe { clone3_raw(pointer, size, exit_seven, null_mut()) };
    match kernel.map_err(|e| e.errno()) {
        Err(Some(Errno::ENOSYS)) => common::skip("no clone3 here: the kernel's answer is not seen"),
        Err(errno) => assert_eq!(errno, Some(Errno::E2BIG), "the kernel agrees"),
        Ok(pid) => panic!("the kernel took {size} bytes of clone_args (child {pid})"),
    }
}
