//! Signal numbers: a typed [`Signal`] (1 to 64) and the names of the classic ones.
//!
//! Where it sits: on the floor of pure values, beside [`crate::errno`]; it uses
//! only `linux-raw-sys` (every number comes from there). [`crate::flags`] builds
//! the exit signal on it, and [`crate::sys::signal`] takes it in every call that
//! sends or names a signal.

use core::fmt;
use linux_raw_sys::general as k;

/// A signal number, `1..=64` (`_NSIG`): never 0, never out of range.
///
/// ```
/// use clonelab::Signal;
/// assert_eq!(Signal::SIGCHLD.number(), 17);
/// assert_eq!(Signal::new(0), None);
/// assert_eq!(Signal::from_name("SIGUSR1"), Some(Signal::SIGUSR1));
/// assert_eq!(Signal::rt(2).unwrap().to_string(), "SIGRTMIN+2");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(u8);

macro_rules! signals {
    ($($name:ident)*) => {
        impl Signal {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                pub const $name: Signal = Signal(k::$name as u8);
            )*
        }

        /// The name of a classic signal (1..=31), e.g. `SIGCHLD` for 17.
        pub fn signal_name(signal: u32) -> Option<&'static str> {
            match signal {
                $(k::$name => Some(stringify!($name)),)*
                _ => None,
            }
        }

        fn signal_by_name(name: &str) -> Option<u32> {
            match name {
                $(stringify!($name) => Some(k::$name),)*
                _ => None,
            }
        }
    };
}

signals! {
    SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGKILL SIGUSR1 SIGSEGV
    SIGUSR2 SIGPIPE SIGALRM SIGTERM SIGSTKFLT SIGCHLD SIGCONT SIGSTOP SIGTSTP SIGTTIN
    SIGTTOU SIGURG SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGWINCH SIGIO SIGPWR SIGSYS
}

impl Signal {
    /// The highest signal number (`_NSIG`).
    pub const MAX: u32 = k::_NSIG;

    /// A signal by number; `None` for 0 and above 64.
    pub const fn new(number: u32) -> Option<Signal> {
        if number == 0 || number > Signal::MAX {
            None
        } else {
            Some(Signal(number as u8))
        }
    }

    /// The real-time signal `SIGRTMIN + n` (the kernel's SIGRTMIN, 32; libc
    /// reserves the first few for itself, clonelab does not).
    pub const fn rt(n: u32) -> Option<Signal> {
        match k::SIGRTMIN.checked_add(n) {
            Some(number) => Signal::new(number),
            None => None,
        }
    }

    /// A classic signal by its name (`"SIGCHLD"`).
    pub fn from_name(name: &str) -> Option<Signal> {
        signal_by_name(name).and_then(Signal::new)
    }

    /// The number, as the kernel takes it.
    pub const fn number(self) -> u32 {
        self.0 as u32
    }

    /// The name of a classic signal; `None` for real-time ones.
    pub fn name(self) -> Option<&'static str> {
        signal_name(self.number())
    }
}

impl fmt::Display for Signal {
    /// `SIGCHLD`, or `SIGRTMIN+n` for a real-time signal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.pad(name),
            None => write!(f, "SIGRTMIN+{}", self.number() - k::SIGRTMIN),
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}({})", self.0)
    }
}

// SAFETY: a u8.
unsafe impl crate::plain::Plain for Signal {}
