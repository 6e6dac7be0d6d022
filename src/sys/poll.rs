//! Waiting on descriptors: `ppoll` and `epoll`, with typed events.
//!
//! Part of the syscall layer ([`crate::sys`]), on [`crate::arch`] and
//! [`crate::errno`] only. Both calls take descriptors as [`BorrowedFd`]s
//! (a [`PollFd`] borrows its descriptor for as long as it lives) and
//! [`epoll_create1`] hands back an [`OwnedFd`], so no call here can name a
//! descriptor that has been closed and reused.
//!
//! What a pidfd reports: `POLLIN` (`EPOLLIN`) once the process it names has
//! exited, zombie or reaped (`pidfd_poll` in `kernel/pid.c`). So an event
//! loop can watch children next to pipes and sockets, and
//! [`Child::wait_timeout`](crate::Child::wait_timeout) waits with a deadline.
//!
//! ```
//! use clonelab::sys::{self, consts::O_CLOEXEC, poll::{PollFd, PollFlags}};
//! use core::time::Duration;
//! let (reader, writer) = sys::pipe(O_CLOEXEC).unwrap();
//! let mut fds = [PollFd::new(reader.as_fd(), PollFlags::IN)];
//! // Nothing written yet: the wait ends with the timeout, no descriptor ready.
//! assert_eq!(sys::ppoll(&mut fds, Some(Duration::from_millis(1)), None).unwrap(), 0);
//! sys::write(writer.as_fd(), b"x").unwrap();
//! assert_eq!(sys::ppoll(&mut fds, None, None).unwrap(), 1);
//! assert!(fds[0].revents().contains(PollFlags::IN));
//! ```

use super::fd::{BorrowedFd, OwnedFd};
use super::signal::SigSet;
use crate::arch::{syscall1, syscall2, syscall4, syscall5, syscall6};
use crate::errno::{decode, Errno};
use core::ffi::{c_int, c_short};
use core::fmt;
use core::marker::PhantomData;
use core::mem::size_of;
use core::time::Duration;
use linux_raw_sys::general as k;

pub use linux_raw_sys::general::EPOLL_CLOEXEC;

/// The ppoll that reads a 64-bit `__kernel_timespec`: `ppoll` itself on
/// 64-bit arches, `ppoll_time64` (Linux 5.1) on 32-bit ones, whose `ppoll`
/// reads the old 32-bit timespec.
#[cfg(target_pointer_width = "64")]
const NR_PPOLL_TIME64: u32 = k::__NR_ppoll;
#[cfg(target_pointer_width = "32")]
const NR_PPOLL_TIME64: u32 = k::__NR_ppoll_time64;

/// The clock_gettime that writes a 64-bit `__kernel_timespec` (as above).
#[cfg(target_pointer_width = "64")]
const NR_CLOCK_GETTIME64: u32 = k::__NR_clock_gettime;
#[cfg(target_pointer_width = "32")]
const NR_CLOCK_GETTIME64: u32 = k::__NR_clock_gettime64;

/// The size of the kernel's `sigset_t` (`_NSIG / 8`): 8 bytes on all six arches.
const SIGSET_SIZE: usize = size_of::<u64>();

/// The operations both flag sets of this module have: the raw bits, `|`,
/// `contains`, `intersects`, and a `Debug` that shows the bits in hex.
macro_rules! flag_set {
    ($name:ident, $bits:ty) => {
        impl $name {
            /// The raw bits.
            pub const fn bits(self) -> $bits {
                self.0
            }

            /// Flags from raw bits, kept as they are.
            pub const fn from_bits_retain(bits: $bits) -> $name {
                $name(bits)
            }

            /// Whether every flag of `other` is set.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether any flag of `other` is set.
            pub const fn intersects(self, other: $name) -> bool {
                self.0 & other.0 != 0
            }
        }

        impl core::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:#x})", stringify!($name), self.0)
            }
        }
    };
}

/// Events of one [`PollFd`]: what to watch for, or what happened
/// (the kernel's 16-bit `events` and `revents`; `POLL*` from `linux/poll.h`).
///
/// ```
/// use clonelab::sys::poll::PollFlags;
/// let both = PollFlags::IN | PollFlags::HUP;
/// assert!(both.contains(PollFlags::IN) && !both.contains(PollFlags::IN | PollFlags::OUT));
/// assert!(both.intersects(PollFlags::HUP | PollFlags::ERR));
/// assert_eq!(PollFlags::from_bits_retain(both.bits()), both);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PollFlags(u16);

impl PollFlags {
    /// No event.
    pub const EMPTY: PollFlags = PollFlags(0);
    /// `POLLIN`: there is data to read; on a pidfd, the process has exited.
    pub const IN: PollFlags = PollFlags(k::POLLIN as u16);
    /// `POLLPRI`: urgent data.
    pub const PRI: PollFlags = PollFlags(k::POLLPRI as u16);
    /// `POLLOUT`: writing will not block.
    pub const OUT: PollFlags = PollFlags(k::POLLOUT as u16);
    /// `POLLRDHUP`: the peer of a stream socket shut down its writing half.
    pub const RDHUP: PollFlags = PollFlags(k::POLLRDHUP as u16);
    /// `POLLERR` (reported only): an error condition.
    pub const ERR: PollFlags = PollFlags(k::POLLERR as u16);
    /// `POLLHUP` (reported only): hang up; on a pidfd (Linux 6.9 and
    /// later), the process has been reaped.
    pub const HUP: PollFlags = PollFlags(k::POLLHUP as u16);
    /// `POLLNVAL` (reported only): the descriptor is not open.
    pub const NVAL: PollFlags = PollFlags(k::POLLNVAL as u16);
}

flag_set!(PollFlags, u16);

/// One entry of [`ppoll`]'s array: the kernel's `struct pollfd`, holding a
/// descriptor borrowed for `'fd`.
///
/// ```
/// use clonelab::sys::{self, consts::O_CLOEXEC, poll::{PollFd, PollFlags}};
/// let (reader, writer) = sys::pipe(O_CLOEXEC).unwrap();
/// let mut fds = [PollFd::new(writer.as_fd(), PollFlags::OUT)];
/// assert_eq!(fds[0].revents(), PollFlags::EMPTY); // nothing reported yet
/// drop(reader); // no reader left: the write end reports an error
/// assert_eq!(sys::ppoll(&mut fds, None, None).unwrap(), 1);
/// assert!(fds[0].revents().contains(PollFlags::OUT | PollFlags::ERR));
/// assert_eq!((fds[0].fd(), fds[0].events()), (writer.as_fd(), PollFlags::OUT));
/// ```
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct PollFd<'fd> {
    raw: k::pollfd,
    fd: PhantomData<BorrowedFd<'fd>>,
}

impl<'fd> PollFd<'fd> {
    /// Watch `fd` for `events`; nothing reported yet.
    pub const fn new(fd: BorrowedFd<'fd>, events: PollFlags) -> PollFd<'fd> {
        PollFd {
            raw: k::pollfd {
                fd: fd.as_raw(),
                events: events.0 as c_short,
                revents: 0,
            },
            fd: PhantomData,
        }
    }

    /// The descriptor watched.
    pub const fn fd(&self) -> BorrowedFd<'fd> {
        // SAFETY: the descriptor was borrowed for 'fd when this PollFd was made.
        unsafe { BorrowedFd::borrow_raw(self.raw.fd) }
    }

    /// The events asked for.
    pub const fn events(&self) -> PollFlags {
        PollFlags(self.raw.events as u16)
    }

    /// What the last [`ppoll`] reported for this descriptor.
    pub const fn revents(&self) -> PollFlags {
        PollFlags(self.raw.revents as u16)
    }
}

impl fmt::Debug for PollFd<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollFd")
            .field("fd", &self.raw.fd)
            .field("events", &self.events())
            .field("revents", &self.revents())
            .finish()
    }
}

/// A duration as the kernel's 64-bit timespec; `EINVAL` beyond `i64::MAX`
/// seconds, which no timespec can hold.
fn timespec(duration: Duration) -> Result<k::__kernel_timespec, Errno> {
    Ok(k::__kernel_timespec {
        tv_sec: i64::try_from(duration.as_secs()).map_err(|_| Errno::EINVAL)? as _,
        tv_nsec: duration.subsec_nanos() as _,
    })
}

/// `ppoll(fds, timeout, sigmask)`: wait until one of `fds` is ready, the
/// timeout passes, or a signal handler runs (`EINTR`). Returns how many
/// entries have events; each entry's [`PollFd::revents`] says which.
///
/// `timeout`: `None` waits for ever; `Some(Duration::ZERO)` only looks.
/// A timeout of more than `i64::MAX` seconds is `EINVAL`, before the call.
/// `sigmask`: the signal mask to have while waiting (`None` keeps ours); the
/// kernel restores ours before returning. On 32-bit arches this is
/// `ppoll_time64` (Linux 5.1), which takes a 64-bit timespec.
///
/// ```
/// use clonelab::sys::{self, poll::{PollFd, PollFlags}};
/// use clonelab::{spawn, CloneFlags, ExitSignal, FlagsWord};
/// let word = FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD);
/// let mut child = spawn(word, || 3).unwrap();
/// if let Some(pidfd) = child.pidfd() {
///     // A pidfd turns readable when its process has exited.
///     let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
///     assert_eq!(sys::ppoll(&mut fds, None, None).unwrap(), 1);
///     assert!(fds[0].revents().contains(PollFlags::IN));
/// }
/// child.wait().unwrap();
/// ```
pub fn ppoll(
    fds: &mut [PollFd<'_>],
    timeout: Option<Duration>,
    sigmask: Option<&SigSet>,
) -> Result<usize, Errno> {
    // Writable: the kernel stores the time left back into it.
    let mut timeout = timeout.map(timespec).transpose()?;
    let timeout_ptr = timeout
        .as_mut()
        .map_or(0, |t| t as *mut k::__kernel_timespec as usize);
    let mask = sigmask.map(|set| set.bits());
    let mask_ptr = mask.as_ref().map_or(0, |bits| bits as *const u64 as usize);
    // SAFETY: `fds` is an array of `struct pollfd` (PollFd is transparent
    // over it) the kernel may write `revents` into; the timespec and the
    // 8-byte sigset are null or valid for reading; the timespec, a local of
    // ours, is valid for the kernel to write the time left into.
    decode(unsafe {
        syscall5(
            NR_PPOLL_TIME64,
            fds.as_mut_ptr() as usize,
            fds.len(),
            timeout_ptr,
            mask_ptr,
            SIGSET_SIZE,
        )
    })
}

/// `clock_gettime(CLOCK_MONOTONIC)`: the clock `ppoll` and `epoll_wait`
/// time out on, as a duration since an unspecified start (boot, in practice).
pub(crate) fn monotonic_now() -> Result<Duration, Errno> {
    let mut now = k::__kernel_timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the kernel to write.
    decode(unsafe {
        syscall2(
            NR_CLOCK_GETTIME64,
            k::CLOCK_MONOTONIC as usize,
            &mut now as *mut k::__kernel_timespec as usize,
        )
    })?;
    Ok(Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

/// Events of an epoll registration or report (`EPOLL*` from `linux/eventpoll.h`).
///
/// ```
/// use clonelab::sys::poll::EpollFlags;
/// let edge = EpollFlags::IN | EpollFlags::ET;
/// assert!(edge.contains(EpollFlags::ET) && !edge.intersects(EpollFlags::OUT));
/// assert_eq!(edge.bits(), clonelab::linux_raw_sys::general::EPOLLIN | clonelab::linux_raw_sys::general::EPOLLET);
/// assert_eq!(EpollFlags::from_bits_retain(edge.bits()), edge);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EpollFlags(u32);

impl EpollFlags {
    /// No event.
    pub const EMPTY: EpollFlags = EpollFlags(0);
    /// `EPOLLIN`: there is data to read; on a pidfd, the process has exited.
    pub const IN: EpollFlags = EpollFlags(k::EPOLLIN);
    /// `EPOLLPRI`: urgent data.
    pub const PRI: EpollFlags = EpollFlags(k::EPOLLPRI);
    /// `EPOLLOUT`: writing will not block.
    pub const OUT: EpollFlags = EpollFlags(k::EPOLLOUT);
    /// `EPOLLRDHUP`: the peer of a stream socket shut down its writing half.
    pub const RDHUP: EpollFlags = EpollFlags(k::EPOLLRDHUP);
    /// `EPOLLERR` (always reported): an error condition.
    pub const ERR: EpollFlags = EpollFlags(k::EPOLLERR);
    /// `EPOLLHUP` (always reported): hang up.
    pub const HUP: EpollFlags = EpollFlags(k::EPOLLHUP);
    /// `EPOLLET`: edge-triggered, report a change once.
    pub const ET: EpollFlags = EpollFlags(k::EPOLLET);
    /// `EPOLLONESHOT`: report once, then disable until modified.
    pub const ONESHOT: EpollFlags = EpollFlags(k::EPOLLONESHOT);
}

flag_set!(EpollFlags, u32);

/// One epoll event: the kernel's `struct epoll_event` (packed on x86_64,
/// as the kernel lays it out there): the events, and 64 bits of data the
/// caller chose at registration and gets back with each report.
///
/// ```
/// use clonelab::sys::poll::{EpollEvent, EpollFlags};
/// let event = EpollEvent::new(EpollFlags::IN, 0xfeed);
/// assert_eq!((event.events(), event.data()), (EpollFlags::IN, 0xfeed));
/// assert_eq!(EpollEvent::default().events(), EpollFlags::EMPTY);
/// ```
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct EpollEvent(k::epoll_event);

impl EpollEvent {
    /// An event to register: watch for `events`, report with `data`.
    pub const fn new(events: EpollFlags, data: u64) -> EpollEvent {
        EpollEvent(k::epoll_event {
            events: events.0,
            data,
        })
    }

    /// The events asked for, or reported.
    pub const fn events(&self) -> EpollFlags {
        // A copy, not a reference: the field may be unaligned (x86_64 packs the struct).
        EpollFlags(self.0.events)
    }

    /// The data given at registration.
    pub const fn data(&self) -> u64 {
        self.0.data
    }
}

impl Default for EpollEvent {
    fn default() -> EpollEvent {
        EpollEvent::new(EpollFlags::EMPTY, 0)
    }
}

impl fmt::Debug for EpollEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpollEvent")
            .field("events", &self.events())
            .field("data", &self.data())
            .finish()
    }
}

/// What [`epoll_ctl`] does with a descriptor.
///
/// ```
/// use clonelab::sys::{self, consts::O_CLOEXEC};
/// use clonelab::sys::poll::{EpollCtl, EpollEvent, EpollFlags, EPOLL_CLOEXEC};
/// use core::time::Duration;
/// let epoll = sys::epoll_create1(EPOLL_CLOEXEC).unwrap();
/// let (reader, writer) = sys::pipe(O_CLOEXEC).unwrap();
/// sys::write(writer.as_fd(), b"x").unwrap();
/// let once = EpollEvent::new(EpollFlags::IN | EpollFlags::ONESHOT, 1);
/// let (ep, fd, now) = (epoll.as_fd(), reader.as_fd(), Some(Duration::ZERO));
/// let mut events = [EpollEvent::default()];
/// sys::epoll_ctl(ep, EpollCtl::Add(once), fd).unwrap();
/// assert_eq!(sys::epoll_wait(ep, &mut events, now).unwrap(), 1);
/// // ONESHOT: reported once, then disabled until modified, though still readable.
/// assert_eq!(sys::epoll_wait(ep, &mut events, now).unwrap(), 0);
/// sys::epoll_ctl(ep, EpollCtl::Modify(once), fd).unwrap();
/// assert_eq!(sys::epoll_wait(ep, &mut events, now).unwrap(), 1);
/// sys::epoll_ctl(ep, EpollCtl::Delete, fd).unwrap();
/// sys::epoll_ctl(ep, EpollCtl::Modify(once), fd).unwrap_err(); // ENOENT: not watched
/// ```
#[derive(Clone, Copy, Debug)]
pub enum EpollCtl {
    /// `EPOLL_CTL_ADD`: start watching it, with this event.
    Add(EpollEvent),
    /// `EPOLL_CTL_MOD`: change what it is watched for.
    Modify(EpollEvent),
    /// `EPOLL_CTL_DEL`: stop watching it.
    Delete,
}

/// `epoll_create1(flags)`: a new epoll instance. `flags` is 0 or
/// [`EPOLL_CLOEXEC`]; anything else is the kernel's `EINVAL`.
///
/// ```
/// use clonelab::sys::{self, poll::{EpollCtl, EpollEvent, EpollFlags, EPOLL_CLOEXEC}};
/// use clonelab::sys::consts::O_CLOEXEC;
/// let epoll = sys::epoll_create1(EPOLL_CLOEXEC).unwrap();
/// let (reader, writer) = sys::pipe(O_CLOEXEC).unwrap();
/// let watch = EpollEvent::new(EpollFlags::IN, 42);
/// sys::epoll_ctl(epoll.as_fd(), EpollCtl::Add(watch), reader.as_fd()).unwrap();
/// sys::write(writer.as_fd(), b"x").unwrap();
/// let mut events = [EpollEvent::default(); 4];
/// assert_eq!(sys::epoll_wait(epoll.as_fd(), &mut events, None).unwrap(), 1);
/// assert_eq!(events[0].data(), 42);
/// assert!(events[0].events().contains(EpollFlags::IN));
/// ```
pub fn epoll_create1(flags: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: no pointers.
    let fd = decode(unsafe { syscall1(k::__NR_epoll_create1, flags as usize) })?;
    // SAFETY: the kernel just made this descriptor, and nobody else knows it.
    Ok(unsafe { OwnedFd::from_raw(fd as c_int) })
}

/// `epoll_ctl(epfd, op, fd, &event)`: add, change or remove `fd` in the
/// epoll instance `epfd`.
///
/// The instance holds the open file, not the number: once every descriptor
/// of that file is closed it drops the registration itself, so a watched
/// descriptor may be closed at any time. (A file with a second descriptor,
/// from `dup` or a fork, stays registered until that one closes too.)
///
/// ```
/// use clonelab::sys::{self, poll::{EpollCtl, EpollEvent, EpollFlags, EPOLL_CLOEXEC}};
/// use clonelab::sys::consts::O_CLOEXEC;
/// use clonelab::Errno;
/// let epoll = sys::epoll_create1(EPOLL_CLOEXEC).unwrap();
/// let (reader, _writer) = sys::pipe(O_CLOEXEC).unwrap();
/// let add = EpollCtl::Add(EpollEvent::new(EpollFlags::IN, 1));
/// sys::epoll_ctl(epoll.as_fd(), add, reader.as_fd()).unwrap();
/// // Twice is EEXIST; after a delete, a second delete is ENOENT.
/// assert_eq!(sys::epoll_ctl(epoll.as_fd(), add, reader.as_fd()), Err(Errno::EEXIST));
/// sys::epoll_ctl(epoll.as_fd(), EpollCtl::Delete, reader.as_fd()).unwrap();
/// assert_eq!(sys::epoll_ctl(epoll.as_fd(), EpollCtl::Delete, reader.as_fd()), Err(Errno::ENOENT));
/// ```
pub fn epoll_ctl(epfd: BorrowedFd<'_>, op: EpollCtl, fd: BorrowedFd<'_>) -> Result<(), Errno> {
    let (op, event) = match op {
        EpollCtl::Add(event) => (k::EPOLL_CTL_ADD, event),
        EpollCtl::Modify(event) => (k::EPOLL_CTL_MOD, event),
        // Kernels before 2.6.9 wanted a non-null event even here.
        EpollCtl::Delete => (k::EPOLL_CTL_DEL, EpollEvent::default()),
    };
    // SAFETY: `event` is a valid epoll_event the kernel only reads.
    decode(unsafe {
        syscall4(
            k::__NR_epoll_ctl,
            epfd.as_raw() as usize,
            op as usize,
            fd.as_raw() as usize,
            &event as *const EpollEvent as usize,
        )
    })
    .map(drop)
}

/// `epoll_wait(epfd, events, timeout)` (as `epoll_pwait` with no signal
/// mask: aarch64 has no `epoll_wait`): wait until a watched descriptor is
/// ready, the timeout passes, or a signal handler runs (`EINTR`). Returns
/// how many entries of `events` the kernel filled, from the start.
///
/// `timeout`: `None` waits for ever; otherwise milliseconds, rounded up (so
/// a short timeout never becomes a busy loop) and capped at `i32::MAX` ms
/// (about 24 days). An empty `events` is `EINVAL`, as the kernel says.
///
/// ```
/// use clonelab::sys::{self, poll::{EpollCtl, EpollEvent, EpollFlags, EPOLL_CLOEXEC}};
/// use clonelab::{spawn, CloneFlags, ExitSignal, FlagsWord, WaitStatus};
/// let word = FlagsWord::new(CloneFlags::CLONE_PIDFD, ExitSignal::SIGCHLD);
/// let mut child = spawn(word, || 4).unwrap();
/// if let Some(pidfd) = child.pidfd() {
///     let epoll = sys::epoll_create1(EPOLL_CLOEXEC).unwrap();
///     let watch = EpollEvent::new(EpollFlags::IN, child.pid() as u64);
///     sys::epoll_ctl(epoll.as_fd(), EpollCtl::Add(watch), pidfd).unwrap();
///     let mut events = [EpollEvent::default(); 1];
///     // The child's exit makes its pidfd readable.
///     assert_eq!(sys::epoll_wait(epoll.as_fd(), &mut events, None).unwrap(), 1);
///     assert_eq!(events[0].data(), child.pid() as u64);
/// }
/// assert_eq!(child.wait().unwrap(), WaitStatus::Exited(4));
/// ```
pub fn epoll_wait(
    epfd: BorrowedFd<'_>,
    events: &mut [EpollEvent],
    timeout: Option<Duration>,
) -> Result<usize, Errno> {
    if events.is_empty() {
        return Err(Errno::EINVAL);
    }
    let timeout_ms: c_int = match timeout {
        None => -1,
        Some(t) => {
            let ms = t.as_millis() + u128::from(t.subsec_nanos() % 1_000_000 != 0);
            ms.min(c_int::MAX as u128) as c_int
        }
    };
    // The kernel takes at most INT_MAX / sizeof(struct epoll_event) entries.
    let max = events
        .len()
        .min(c_int::MAX as usize / size_of::<EpollEvent>());
    // SAFETY: `events` is valid for writing `max` epoll_events (EpollEvent is
    // transparent over one); no signal mask is passed (NULL), so the size
    // argument is not read.
    decode(unsafe {
        syscall6(
            k::__NR_epoll_pwait,
            epfd.as_raw() as usize,
            events.as_mut_ptr() as usize,
            max,
            timeout_ms as usize,
            0,
            SIGSET_SIZE,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed wrappers lay out exactly the kernel's structs.
    #[test]
    fn layouts_are_the_kernels() {
        assert_eq!(size_of::<PollFd<'_>>(), size_of::<k::pollfd>());
        assert_eq!(size_of::<EpollEvent>(), size_of::<k::epoll_event>());
        assert_eq!(
            core::mem::align_of::<EpollEvent>(),
            core::mem::align_of::<k::epoll_event>()
        );
    }

    /// Timeouts: an unrepresentable one is refused before the call; the
    /// clock moves forward across a ppoll that times out.
    #[test]
    fn timeouts() {
        assert_eq!(
            ppoll(&mut [], Some(Duration::MAX), None),
            Err(Errno::EINVAL)
        );
        let before = monotonic_now().unwrap();
        assert_eq!(ppoll(&mut [], Some(Duration::from_millis(5)), None), Ok(0));
        assert!(monotonic_now().unwrap() - before >= Duration::from_millis(5));
    }
}
