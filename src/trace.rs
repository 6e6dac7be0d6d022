//! Observing clone calls from outside: a tiny ptrace tracer.
//!
//! [`trace`] runs a closure in a traced child (PTRACE_TRACEME, then a SIGSTOP
//! to hand control to us), resumes it from syscall stop to syscall stop
//! (PTRACE_SYSCALL with PTRACE_O_TRACESYSGOOD), and records every `clone` and
//! `clone3` it makes:
//!
//! - from `PTRACE_GET_SYSCALL_INFO`: the arch (`AUDIT_ARCH_*`), the number, the
//!   six arguments, the instruction and stack pointer, and at exit the result;
//! - from `PTRACE_GETREGSET(NT_PRSTATUS)`: the raw registers, so the image
//!   names real registers (`orig_rax, rdi, rsi, rdx, r10, r8` or `x8, x0..x4`);
//! - for clone3, the `struct clone_args` read from the tracee's memory.
//!
//! [`observed_image`] turns a
//! record into an image comparable with the expected one built from the
//! arguments the API received.
//!
//! Where it sits: the observation floor, above the safe API (the traced
//! child is a [`spawn`](crate::spawn()) child) and [`crate::abi`]; only the
//! experiments and the binary are above it.

use crate::abi::RegisterImage;
use crate::arch::{self, TraceeRegs};
use crate::clone::CloneCall;
use crate::clone::{zeroed_args, CloneArgs};
use crate::errno::Errno;
use crate::error::Error;
use crate::flags::Syscall;
use crate::flags::{ExitSignal, FlagsWord};
pub use crate::plain::Plain;
use crate::signum::Signal;
use crate::spawn::spawn;
use crate::sys::{self, Pid};
use crate::wait::WaitStatus;
use core::mem::{size_of, MaybeUninit};
use core::sync::atomic::{AtomicU32, Ordering};
use linux_raw_sys::elf_uapi::NT_PRSTATUS;
use linux_raw_sys::general as k;
use linux_raw_sys::ptrace as p;

/// One clone/clone3 the tracee made.
#[derive(Clone, Copy, Debug)]
pub struct CloneStop {
    /// `AUDIT_ARCH_*` as the kernel reported it.
    pub arch: u32,
    /// The syscall number (`PTRACE_GET_SYSCALL_INFO`).
    pub nr: u64,
    /// Its six arguments (`PTRACE_GET_SYSCALL_INFO`).
    pub args: [u64; 6],
    /// Instruction pointer at entry (just after the `syscall`/`svc`).
    pub instruction_pointer: u64,
    /// Stack pointer at entry.
    pub stack_pointer: u64,
    /// The number register as read from the raw register set.
    pub register_nr: u64,
    /// The six argument registers as read from the raw register set.
    pub registers: [u64; 6],
    /// For clone3: the `clone_args` in the tracee's memory.
    pub clone_args: Option<CloneArgs>,
    /// The result at syscall exit (child tid, or -errno).
    pub result: Option<i64>,
}

/// Everything a traced run recorded (up to [`Trace::CAPACITY`] clone calls).
#[derive(Clone, Copy, Debug)]
pub struct Trace {
    stops: [Option<CloneStop>; Trace::CAPACITY],
    len: usize,
    /// How the tracee ended.
    pub status: Option<WaitStatus>,
}

impl Trace {
    /// Clone calls kept per run.
    pub const CAPACITY: usize = 48;

    /// The recorded clone calls, in order.
    pub fn clones(&self) -> impl Iterator<Item = &CloneStop> {
        self.stops[..self.len].iter().flatten()
    }
}

/// [`sys::ptrace`] for this module's requests, each of which passes an
/// `addr`/`data` valid for it (a local buffer of the request's size, or none).
fn ptrace(request: u32, pid: Pid, addr: usize, data: usize) -> Result<usize, Errno> {
    // SAFETY: every call in this module passes addr/data valid for its request.
    unsafe { sys::ptrace(request, pid, addr, data) }
}

/// `PTRACE_GET_SYSCALL_INFO` for a tracee (any tid) in a ptrace stop: the
/// kind of stop (entry, exit, ...), the arch, and the number and arguments or
/// the result.
pub fn syscall_info(pid: Pid) -> Result<p::ptrace_syscall_info, Errno> {
    let mut info = MaybeUninit::<p::ptrace_syscall_info>::zeroed();
    ptrace(
        p::PTRACE_GET_SYSCALL_INFO,
        pid,
        size_of::<p::ptrace_syscall_info>(),
        info.as_mut_ptr() as usize,
    )?;
    // SAFETY: zero-initialised plain data, filled (in part) by the kernel.
    Ok(unsafe { info.assume_init() })
}

/// `PTRACE_GETREGSET(NT_PRSTATUS)` for a tracee (any tid) in a ptrace stop:
/// its general registers as this arch lays them out.
pub fn registers(pid: Pid) -> Result<TraceeRegs, Errno> {
    // Large enough for every arch's regset: x86_64's user_regs_struct (27
    // words), aarch64's (34), ppc64's (ELF_NGREG, 48, of which pt_regs is 44).
    let mut buffer = [0u64; 48];
    const _: () = assert!(size_of::<TraceeRegs>() <= size_of::<[u64; 48]>());
    let mut iov = k::iovec {
        iov_base: buffer.as_mut_ptr().cast(),
        iov_len: size_of::<[u64; 48]>() as _,
    };
    ptrace(
        p::PTRACE_GETREGSET,
        pid,
        NT_PRSTATUS as usize,
        &mut iov as *mut k::iovec as usize,
    )?;
    // SAFETY: TraceeRegs is a prefix of what NT_PRSTATUS returns, and fits the buffer.
    Ok(unsafe { core::ptr::read(buffer.as_ptr() as *const TraceeRegs) })
}

fn read_clone_args(pid: Pid, address: u64) -> Option<CloneArgs> {
    // PTRACE_PEEKDATA reads one machine word: 4 bytes on the 32-bit arches.
    const WORD: usize = size_of::<usize>();
    let mut words = [0usize; size_of::<CloneArgs>() / WORD];
    for (i, word) in words.iter_mut().enumerate() {
        ptrace(
            p::PTRACE_PEEKDATA,
            pid,
            address as usize + i * WORD,
            word as *mut usize as usize,
        )
        .ok()?;
    }
    let mut args = zeroed_args();
    // SAFETY: CloneArgs is plain u64 fields, exactly the size of these words.
    unsafe {
        core::ptr::write(
            &mut args as *mut CloneArgs as *mut [usize; size_of::<CloneArgs>() / WORD],
            words,
        )
    };
    Some(args)
}

/// What the tracee hands back: its result, and a flag it sets only once the
/// result is completely written (a tracee killed halfway through the copy
/// leaves the flag 0, and the half-written bytes are never read).
#[repr(C)]
struct Shared<T> {
    written: AtomicU32,
    value: MaybeUninit<T>,
}

/// A MAP_SHARED page holding a [`Shared`], written by the tracee.
struct ResultSlot<T> {
    shared: *mut Shared<T>,
}

impl<T: Plain> ResultSlot<T> {
    fn new() -> Result<Self, Error> {
        let page = sys::mmap_anonymous(
            size_of::<Shared<T>>(),
            k::PROT_READ | k::PROT_WRITE,
            k::MAP_SHARED,
        )?;
        // A fresh anonymous mapping is zeroed: `written` starts at 0.
        Ok(ResultSlot {
            shared: page as *mut Shared<T>,
        })
    }

    /// In the tracee: store the result, then say it is whole.
    fn put(shared: *mut Shared<T>, value: T) {
        // SAFETY: `shared` is this process's copy of the MAP_SHARED mapping,
        // sized and (page-)aligned for Shared<T>; only the tracee writes it.
        unsafe {
            (*shared).value.write(value);
            (*shared).written.store(1, Ordering::Release);
        }
    }

    /// In the tracer, once the tracee is gone: the result, if it was whole.
    fn take(&self) -> Option<T> {
        // SAFETY: the mapping is ours and valid; `written` is an atomic.
        let written = unsafe { (*self.shared).written.load(Ordering::Acquire) };
        // SAFETY: `written` = 1 is stored only after the value is complete
        // (Release/Acquire), and T is Plain: its bytes are a valid value here.
        (written == 1).then(|| unsafe { (*self.shared).value.assume_init_read() })
    }
}

impl<T> Drop for ResultSlot<T> {
    fn drop(&mut self) {
        // SAFETY: every process has its own mapping of the page: unmapping
        // ours cannot affect a tracee still alive after an early return.
        let _ = unsafe { sys::munmap(self.shared as *mut u8, size_of::<Shared<T>>()) };
    }
}

/// Run `f` in a traced child and record its clone/clone3 calls. The closure's
/// result comes back as bytes through shared memory, so `T` must be
/// [`Plain`]: a reference into memory the child allocated would dangle here.
///
/// ```compile_fail
/// // A reference into the traced child's heap cannot come back:
/// let _ = clonelab::trace::trace(|| Vec::leak(vec![1u8; 4]) as &'static [u8]);
/// ```
pub fn trace<T: Plain, F: FnOnce() -> T>(f: F) -> Result<(T, Trace), Error> {
    let slot = ResultSlot::<T>::new()?;
    let shared_at = slot.shared as usize;
    let mut child = spawn(
        FlagsWord::new(Default::default(), ExitSignal::SIGCHLD),
        move || {
            if ptrace(p::PTRACE_TRACEME, 0, 0, 0).is_err() {
                return 126;
            }
            // Stop until the tracer has set its options.
            let _ = sys::kill(sys::getpid(), Signal::SIGSTOP);
            ResultSlot::put(shared_at as *mut Shared<T>, f());
            0
        },
    )?;
    let pid = child.pid();
    let mut trace = Trace {
        stops: [None; Trace::CAPACITY],
        len: 0,
        status: None,
    };
    let mut pending: Option<usize> = None;
    let mut options_set = false;
    loop {
        let (_, raw) = sys::wait4(pid, k::__WALL)?;
        let status = WaitStatus::from_wait4(raw);
        let signal = match status {
            WaitStatus::Stopped(signal) => signal,
            other => {
                trace.status = Some(other);
                break;
            }
        };
        let mut deliver = 0;
        if !options_set && signal == k::SIGSTOP {
            ptrace(
                p::PTRACE_SETOPTIONS,
                pid,
                0,
                (p::PTRACE_O_TRACESYSGOOD | p::PTRACE_O_EXITKILL) as usize,
            )?;
            options_set = true;
        } else if signal == (k::SIGTRAP | 0x80) {
            // A syscall stop (TRACESYSGOOD sets bit 7 of the signal).
            let info = syscall_info(pid)?;
            if info.op == p::PTRACE_SYSCALL_INFO_ENTRY as u8 {
                // SAFETY: op = ENTRY selects the `entry` member.
                let entry = unsafe { info.__bindgen_anon_1.entry };
                let is_clone =
                    entry.nr == k::__NR_clone as u64 || entry.nr == k::__NR_clone3 as u64;
                if is_clone && trace.len < Trace::CAPACITY {
                    let regs = registers(pid)?;
                    let (register_nr, registers) = arch::syscall_registers(&regs);
                    let clone_args = (entry.nr == k::__NR_clone3 as u64)
                        .then(|| read_clone_args(pid, entry.args[0]))
                        .flatten();
                    trace.stops[trace.len] = Some(CloneStop {
                        arch: info.arch,
                        nr: entry.nr,
                        args: entry.args,
                        instruction_pointer: info.instruction_pointer,
                        stack_pointer: info.stack_pointer,
                        register_nr,
                        registers,
                        clone_args,
                        result: None,
                    });
                    pending = Some(trace.len);
                    trace.len += 1;
                }
            } else if info.op == p::PTRACE_SYSCALL_INFO_EXIT as u8 {
                if let Some(i) = pending.take() {
                    // SAFETY: op = EXIT selects the `exit` member.
                    let exit = unsafe { info.__bindgen_anon_1.exit };
                    if let Some(stop) = trace.stops[i].as_mut() {
                        stop.result = Some(exit.rval);
                    }
                }
            }
        } else {
            deliver = signal as usize; // a real signal: pass it on
        }
        ptrace(p::PTRACE_SYSCALL, pid, 0, deliver)?;
    }
    let _ = child.wait();
    match slot.take() {
        Some(value) => Ok((value, trace)),
        None => Err(Error::Kernel {
            errno: Errno::ECHILD,
            rule: None,
        }),
    }
}

/// The image a traced tracee actually had at the syscall, laid out like
/// [`RegisterImage::of`] lays out the expected one, so the two compare
/// register by register.
pub fn observed_image(stop: &CloneStop) -> RegisterImage {
    let syscall = if stop.nr == k::__NR_clone3 as u64 {
        Syscall::Clone3
    } else {
        Syscall::Clone
    };
    let mut call = CloneCall {
        syscall: Some(syscall),
        ..CloneCall::default()
    };
    let split = |flags: u64, signal: u64| {
        let signal = crate::flags::ExitSignal::new(signal as u32).unwrap_or_default();
        FlagsWord::new(crate::flags::CloneFlags::from_bits_retain(flags), signal)
    };
    match syscall {
        Syscall::Clone => {
            for (name, value) in crate::abi::this_arch()
                .clone_arg_order
                .iter()
                .zip(stop.registers)
            {
                match *name {
                    "flags" => call.word = split(value & !0xff, value & 0xff),
                    "stack" => call.stack = value as usize,
                    "parent_tid" => call.parent_tid = value as usize,
                    "child_tid" => call.child_tid = value as usize,
                    _ => call.tls = value as usize,
                }
            }
        }
        Syscall::Clone3 => {
            call.args_address = stop.registers[0] as usize;
            if let Some(a) = stop.clone_args {
                call.word = split(a.flags, a.exit_signal);
                call.stack = a.stack as usize;
                call.stack_size = a.stack_size as usize;
                call.tls = a.tls as usize;
                call.pidfd = a.pidfd as usize;
                call.parent_tid = a.parent_tid as usize;
                call.child_tid = a.child_tid as usize;
                call.cgroup = a.cgroup;
                call.set_tid = a.set_tid as usize;
                call.set_tid_size = a.set_tid_size as usize;
            }
            call.args_size = stop.registers[1] as usize;
        }
    }
    RegisterImage::of(&call).with_values(stop.register_nr, stop.registers)
}
