//! The raw calls: `clone` and `clone3`, every argument exposed.
//!
//! Both check what can be checked before the syscall (flag encoding, signal
//! range, stack alignment, a stack for CLONE_VM) and return [`Error`]; what the
//! kernel refuses comes back as [`Error::Kernel`] with the clone(2) rule the
//! request broke, when clonelab knows it. The child side is the assembly
//! trampoline in `arch/<arch>/`: it runs `entry(arg)` on the new stack and
//! passes the result to `SYS_exit`.

mod call;

pub use call::CloneCall;

use crate::arch::{self, ChildEntry};
use crate::errno::{decode, Errno};
use crate::error::Error;
use crate::flags::{broken_rules, CloneFlags, ExitSignal, FlagsWord, Syscall};
use crate::sys::Pid;
use core::ffi::{c_int, c_void};

pub use linux_raw_sys::general::clone_args as CloneArgs;

/// Flags that make the child run in our address space, so it needs its own stack.
const NEEDS_STACK: CloneFlags = CloneFlags::from_bits_retain(
    CloneFlags::CLONE_VM.bits()
        | CloneFlags::CLONE_SIGHAND.bits()
        | CloneFlags::CLONE_THREAD.bits(),
);

/// The alignment clonelab asks of every child's initial stack pointer, on
/// every arch: 16 bytes. That is what the x86_64, aarch64, i386 (as Linux
/// compilers use it) and ppc64le ABIs require at a call; armhf and s390x need
/// only 8, which 16 satisfies. [`clone`] and [`clone3`] refuse a stack top that
/// is not a multiple of it ([`Error::MisalignedStack`]), and each trampoline
/// rounds the stack pointer down again before it calls `entry` (to 16 bytes;
/// s390x's to the 8 its ABI asks).
pub const STACK_ALIGN: usize = 16;

/// Check the child's initial stack pointer. A missing stack is reported only
/// when the flags obey clone(2)'s EINVAL rules: when they do not, the kernel
/// refuses the call before creating anything, and the error names the rule
/// that was broken (`CLONE_SIGHAND` without `CLONE_VM`, say) rather than a
/// stack for a `CLONE_VM` nobody asked for.
fn check_stack(word: FlagsWord, syscall: Syscall, top: usize) -> Result<(), Error> {
    if top == 0 {
        // Only rules every kernel enforces may excuse a missing stack: one
        // that depends on the version (which can be misreported) might not
        // stop the kernel, and the child would run on our live stack.
        let rule_broken = broken_rules(word, syscall, crate::probe::kernel_version())
            .any(|r| r.errno == Errno::EINVAL && r.until.is_none());
        if word.flags.intersects(NEEDS_STACK) && !rule_broken {
            return Err(Error::MissingStack);
        }
    } else if top % STACK_ALIGN != 0 {
        return Err(Error::MisalignedStack { address: top });
    }
    Ok(())
}

/// Turn a raw return into a pid, attaching the broken rule to EINVAL.
fn finish(raw: isize, word: FlagsWord, syscall: Syscall) -> Result<Pid, Error> {
    decode(raw as usize)
        .map(|tid| tid as Pid)
        .map_err(|errno| Error::Kernel {
            errno,
            // The kernel checks the rules in an order (`Check`): the first broken one answered.
            rule: broken_rules(word, syscall, crate::probe::kernel_version())
                .filter(|r| r.errno == errno)
                .min_by_key(|r| r.checked_in),
        })
}

/// `clone(flags | exit_signal, stack, parent_tid, child_tid, tls)`; the child
/// runs `entry(arg)` on `stack` and exits with its return value.
///
/// `stack` is the child's initial stack pointer: the *top* (highest address,
/// exclusive) of its stack, 16-byte aligned; 0 lets the child run on a copy of
/// the caller's stack (only without CLONE_VM). Argument order as in x86_64's
/// kernel ABI, the generic one. The trampolines put each argument where the
/// kernel of their arch reads it: those of aarch64, i386, armhf and ppc64le
/// swap `tls` and `child_tid` (CONFIG_CLONE_BACKWARDS), s390x's swaps `flags`
/// and `stack` (CONFIG_CLONE_BACKWARDS2); see [`crate::abi`].
///
/// Returns the child's tid in the caller.
///
/// # Safety
/// Everything the flags imply is the caller's to uphold: with CLONE_VM the
/// stack and everything `entry` touches must outlive the child; pointers in
/// `parent_tid`/`child_tid` must be valid for the flags that use them; `tls`
/// must be a valid thread pointer if CLONE_SETTLS is set; and the child may
/// only do what is sound in a clone of this process (no locks held by others).
///
/// ```
/// use clonelab::{clone, wait::wait_pid, CloneFlags, ExitSignal, FlagsWord, Stack, WaitStatus};
/// use core::sync::atomic::{AtomicI32, Ordering};
/// use std::ffi::c_void;
///
/// static SEEN: AtomicI32 = AtomicI32::new(0);
/// unsafe extern "C" fn child(arg: *mut c_void) -> i32 {
///     SEEN.store(arg as i32, Ordering::SeqCst); // shared memory: the parent sees it
///     0
/// }
/// let mut stack = Stack::new(64 * 1024).unwrap();
/// let word = FlagsWord::new(CloneFlags::CLONE_VM, ExitSignal::SIGCHLD);
/// // SAFETY: the child touches only an atomic; the stack outlives it (reaped below).
/// let pid = unsafe {
///     clone(word, stack.top(), std::ptr::null_mut(), std::ptr::null_mut(), 0, child, 42 as *mut c_void)
/// }
/// .unwrap();
/// assert_eq!(wait_pid(pid, 0).unwrap(), WaitStatus::Exited(0));
/// assert_eq!(SEEN.load(Ordering::SeqCst), 42);
/// ```
pub unsafe fn clone(
    word: FlagsWord,
    stack: *mut u8,
    parent_tid: *mut Pid,
    child_tid: *mut Pid,
    tls: usize,
    entry: ChildEntry,
    arg: *mut c_void,
) -> Result<Pid, Error> {
    let encoded = word.encode_clone()?;
    check_stack(word, Syscall::Clone, stack as usize)?;
    // SAFETY: the caller upholds the contract above; the trampoline only
    // returns in the parent.
    let raw = unsafe {
        arch::clonelab_clone(
            encoded as usize,
            stack,
            parent_tid as *mut c_int,
            child_tid as *mut c_int,
            tls,
            entry,
            arg,
        )
    };
    finish(raw, word, Syscall::Clone)
}

/// `clone3(args, size)`; the child runs `entry(arg)` and exits with its result.
///
/// `args.stack` is the *lowest* byte of the child stack and `args.stack_size`
/// its length (both set, or both 0); the child starts at `stack + stack_size`,
/// which must be 16-byte aligned. `size` is normally `size_of::<CloneArgs>()`;
/// other values exist to show the kernel's E2BIG/EINVAL answers.
///
/// # Safety
/// As for [`clone`]: every pointer in `args` must be valid for what its flag
/// makes the kernel do, and with CLONE_VM the stack and what `entry` touches
/// must outlive the child. `size` must not exceed the memory behind `args`.
///
/// ```
/// use clonelab::clone::{clone3, zeroed_args, CloneArgs};
/// use clonelab::{wait::wait_pid, WaitStatus};
/// unsafe extern "C" fn child(_: *mut core::ffi::c_void) -> i32 { 5 }
/// // A fork-like child: no stack needed (it runs on its copy of ours).
/// let mut args = CloneArgs { exit_signal: 17, ..zeroed_args() }; // SIGCHLD
/// // SAFETY: no pointers in args; the child shares nothing.
/// let made = unsafe { clone3(&mut args, size_of::<CloneArgs>(), child, core::ptr::null_mut()) };
/// match made {
///     Ok(pid) => assert_eq!(wait_pid(pid, 0).unwrap(), WaitStatus::Exited(5)),
///     Err(e) => assert_eq!(e.errno(), Some(clonelab::Errno::ENOSYS)), // no clone3 here
/// }
/// ```
pub unsafe fn clone3(
    args: &mut CloneArgs,
    size: usize,
    entry: ChildEntry,
    arg: *mut c_void,
) -> Result<Pid, Error> {
    let word = check_clone3(args)?;
    // SAFETY: the caller upholds the contract above.
    let raw = unsafe { arch::clonelab_clone3(args, size, entry, arg) };
    finish(raw, word, Syscall::Clone3)
}

/// What [`clone3`] and [`clone3_ext`] check before the syscall: the exit
/// signal (all 64 bits of it), the flags, and the stack.
fn check_clone3(args: &CloneArgs) -> Result<FlagsWord, Error> {
    let word = FlagsWord::new(
        CloneFlags::from_bits_retain(args.flags),
        ExitSignal::from_clone_args(args.exit_signal)?,
    );
    word.encode_clone3()?;
    if (args.stack == 0) != (args.stack_size == 0) {
        return Err(Error::Clone3StackIncomplete);
    }
    let top = args
        .stack
        .checked_add(args.stack_size)
        .and_then(|top| usize::try_from(top).ok())
        .ok_or(Error::StackRangeOverflows {
            stack: args.stack,
            size: args.stack_size,
        })?;
    check_stack(word, Syscall::Clone3, top)?;
    Ok(word)
}

/// A `clone_args` followed by `N` more bytes, in one typed value: the struct
/// as a program built against a newer kernel's header passes it, without
/// casting a larger buffer to `&mut CloneArgs`. [`clone3_ext`] passes it
/// with `size` = [`CloneArgsExt::SIZE`] (88 + `N`).
///
/// What the kernel does with a `size` other than its own `sizeof(struct
/// clone_args)` (`copy_clone_args_from_user` in kernel/fork.c, then
/// `copy_struct_from_user` in include/linux/uaccess.h), in the order it checks:
///
/// ```text
///  size > PAGE_SIZE                    E2BIG   clone3_ext refuses it first: Error::Clone3ArgsTooLarge
///  size < CLONE_ARGS_SIZE_VER0 (64)    EINVAL  (not possible here: SIZE is at least 88)
///  size > the kernel's struct          every byte past its struct must be 0, else E2BIG
///  size < the kernel's struct          the missing fields read as 0 (an older program)
/// ```
///
/// The kernel's struct may be longer than clonelab's (a newer kernel knows
/// more fields), so only the kernel can judge a non-zero tail: when it answers
/// E2BIG, [`clone3_ext`] says which byte ([`Error::Clone3ArgsTail`]).
///
/// ```
/// use clonelab::clone::{zeroed_args, CloneArgsExt};
/// let ext = CloneArgsExt::<8>::new(zeroed_args());
/// assert_eq!(CloneArgsExt::<8>::SIZE, 96); // 88 bytes of clone_args, then 8 of tail
/// assert_eq!(ext.tail, [0; 8]);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CloneArgsExt<const N: usize> {
    /// The fields clonelab (linux-raw-sys) knows.
    pub args: CloneArgs,
    /// The bytes after them, passed to the kernel as they are.
    pub tail: [u8; N],
}

impl<const N: usize> CloneArgsExt<N> {
    /// The `size` [`clone3_ext`] passes: `sizeof(struct clone_args)` + `N`
    /// (the struct's own size may be larger, rounded up to its alignment).
    pub const SIZE: usize = size_of::<CloneArgs>() + N;

    /// `args`, followed by `N` zero bytes.
    pub const fn new(args: CloneArgs) -> CloneArgsExt<N> {
        CloneArgsExt { args, tail: [0; N] }
    }
}

/// `clone3(&args, CloneArgsExt::<N>::SIZE)`: [`clone3`] with a `clone_args`
/// larger than clonelab's, so that the kernel's rules for the bytes past its
/// own struct can be seen ([`CloneArgsExt`]). Checked before the syscall as
/// [`clone3`] checks `args.args`, and refused if larger than a page
/// ([`Error::Clone3ArgsTooLarge`], the kernel's E2BIG). An E2BIG from the
/// kernel, with a non-zero byte in the tail, comes back as
/// [`Error::Clone3ArgsTail`] naming the last such byte.
///
/// # Safety
/// As for [`clone3`], for `args.args`. The tail is not read as any field by a
/// kernel that does not know one there; a kernel that does know one (newer
/// than linux-raw-sys's header) acts on it, so a non-zero tail must be what
/// that field means, or refused.
///
/// ```
/// use clonelab::clone::{clone3_ext, zeroed_args, CloneArgsExt};
/// use clonelab::{wait::wait_pid, Errno, Error, WaitStatus};
/// unsafe extern "C" fn child(_: *mut core::ffi::c_void) -> i32 { 7 }
/// // 8 zero bytes past the struct: the kernel takes it as if they were not there.
/// let mut ext = CloneArgsExt::<8>::new(clonelab::CloneArgs { exit_signal: 17, ..zeroed_args() });
/// // SAFETY: a fork-like child (no pointers, no stack); it shares nothing.
/// match unsafe { clone3_ext(&mut ext, child, core::ptr::null_mut()) } {
///     Ok(pid) => assert_eq!(wait_pid(pid, 0).unwrap(), WaitStatus::Exited(7)),
///     Err(e) => assert_eq!(e.errno(), Some(Errno::ENOSYS)), // no clone3 here
/// }
/// // A non-zero byte there: E2BIG, and which byte.
/// ext.tail[3] = 1;
/// // SAFETY: as above; the kernel refuses before making a child.
/// let err = unsafe { clone3_ext(&mut ext, child, core::ptr::null_mut()) }.unwrap_err();
/// if err.errno() != Some(Errno::ENOSYS) {
///     assert_eq!(err, Error::Clone3ArgsTail { size: 96, offset: 88 + 3 });
///     assert_eq!(err.errno(), Some(Errno::E2BIG));
/// }
/// ```
pub unsafe fn clone3_ext<const N: usize>(
    args: &mut CloneArgsExt<N>,
    entry: ChildEntry,
    arg: *mut c_void,
) -> Result<Pid, Error> {
    let word = check_clone3(&args.args)?;
    let size = CloneArgsExt::<N>::SIZE;
    let page_size = crate::stack::page_size();
    if size > page_size {
        return Err(Error::Clone3ArgsTooLarge { size, page_size });
    }
    let pointer = args as *mut CloneArgsExt<N> as *mut CloneArgs;
    // SAFETY: the caller upholds clone3's contract for args.args; `pointer`
    // is valid for SIZE bytes (the repr(C) struct: args, then the tail).
    let raw = unsafe { arch::clonelab_clone3(pointer, size, entry, arg) };
    finish(raw, word, Syscall::Clone3).map_err(|e| match e {
        Error::Kernel {
            errno: Errno::E2BIG,
            ..
        } => match args.tail.iter().rposition(|&byte| byte != 0) {
            Some(i) => Error::Clone3ArgsTail {
                size,
                offset: size_of::<CloneArgs>() + i,
            },
            None => e,
        },
        e => e,
    })
}

/// `clone3(args, size)` with `args` passed to the kernel as it is: no
/// check before the syscall (clonelab cannot read what `args` points at), so
/// a null or unmapped pointer comes back as the kernel's EFAULT. For showing
/// what the kernel does with a bad pointer; [`clone3`] for everything else.
///
/// # Safety
/// If the kernel can read `size` bytes at `args`, they are a `clone_args`
/// for which [`clone3`]'s contract holds (a kernel that creates a child runs
/// `entry(arg)` in it). A pointer the kernel cannot read creates nothing.
///
/// ```
/// use clonelab::clone::clone3_raw;
/// use clonelab::{CloneArgs, Errno};
/// unsafe extern "C" fn never(_: *mut core::ffi::c_void) -> i32 { 0 }
/// // SAFETY: a null pointer: the kernel reads nothing and creates nothing.
/// let err = unsafe { clone3_raw(core::ptr::null_mut(), size_of::<CloneArgs>(), never, core::ptr::null_mut()) };
/// let errno = err.unwrap_err().errno();
/// assert!(errno == Some(Errno::EFAULT) || errno == Some(Errno::ENOSYS)); // ENOSYS: no clone3
/// ```
pub unsafe fn clone3_raw(
    args: *mut CloneArgs,
    size: usize,
    entry: ChildEntry,
    arg: *mut c_void,
) -> Result<Pid, Error> {
    // SAFETY: the caller upholds the contract above.
    let raw = unsafe { arch::clonelab_clone3(args, size, entry, arg) };
    decode(raw as usize)
        .map(|tid| tid as Pid)
        .map_err(Error::from)
}

/// Whether this kernel (or emulator) implements clone3: ENOSYS means no — as
/// on kernels before 5.3, under qemu-user, or behind a seccomp filter that
/// container runtimes install.
pub fn clone3_available() -> bool {
    let mut args = CloneArgs {
        exit_signal: u64::MAX,
        ..zeroed_args()
    };
    // An invalid exit_signal makes a kernel that has clone3 fail with EINVAL
    // before creating anything; one without it says ENOSYS.
    // SAFETY: args is valid; no child can be created with this exit signal.
    let raw = unsafe {
        crate::arch::syscall2(
            linux_raw_sys::general::__NR_clone3,
            &mut args as *mut CloneArgs as usize,
            core::mem::size_of::<CloneArgs>(),
        )
    };
    decode(raw) != Err(Errno::ENOSYS)
}

/// A `clone_args` with every field 0.
pub const fn zeroed_args() -> CloneArgs {
    CloneArgs {
        flags: 0,
        pidfd: 0,
        child_tid: 0,
        parent_tid: 0,
        exit_signal: 0,
        stack: 0,
        stack_size: 0,
        tls: 0,
        set_tid: 0,
        set_tid_size: 0,
        cgroup: 0,
    }
}
