//! Text without an allocator: byte search, NUL-terminated paths, decimal
//! parsing, lossy display and a fixed-size buffer for what an experiment prints.
//!
//! Where it sits: under every experiment and the harness; the tour binary
//! takes [`TextBuffer`] from here (through `experiments`).
//!
//! What it may use: `core` only: children run this code without libc or
//! thread-local storage, and its types are [`Plain`](crate::plain::Plain), so
//! they come back by value from a traced child.

use core::fmt;

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A NUL-terminated path built without an allocator (up to 127 bytes).
#[derive(Clone, Copy)]
pub struct CPath {
    bytes: [u8; 128],
    len: usize,
}

impl CPath {
    /// An empty path.
    pub fn empty() -> CPath {
        CPath {
            bytes: [0; 128],
            len: 0,
        }
    }

    /// `prefix` followed by `number` in decimal, e.g. `/tmp/clonelab-newns-` + pid.
    pub fn numbered(prefix: &str, number: u64) -> CPath {
        let mut p = CPath {
            bytes: [0; 128],
            len: 0,
        };
        p.push(prefix.as_bytes());
        let mut digits = [0u8; 20];
        let mut n = number;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        p.push(&digits[i..]);
        p
    }

    /// Append bytes (silently truncated at 127).
    pub fn push(&mut self, more: &[u8]) -> &mut CPath {
        for &b in more {
            if self.len < self.bytes.len() - 1 {
                self.bytes[self.len] = b;
                self.len += 1;
            }
        }
        self.bytes[self.len] = 0;
        self
    }

    /// The path without its NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The path as a C string.
    pub fn as_cstr(&self) -> &core::ffi::CStr {
        core::ffi::CStr::from_bytes_until_nul(&self.bytes).unwrap_or(c"")
    }
}

impl fmt::Debug for CPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", Text(self.as_bytes()).to_string_lossy())
    }
}

/// A yes-or-no observation as a word a reader says aloud: `yes` or `no`
/// (padding like a `str`).
#[derive(Clone, Copy)]
pub struct YesNo(pub bool);

impl fmt::Display for YesNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(if self.0 { "yes" } else { "no" })
    }
}

/// Parse a decimal number at the start of `text`.
pub fn parse_decimal(text: &[u8]) -> Option<u64> {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    core::str::from_utf8(&text[..digits]).ok()?.parse().ok()
}

/// Bytes as text for display (lossy: non-UTF-8 shows as `?`).
pub struct Text<'a>(pub &'a [u8]);

impl<'a> Text<'a> {
    /// The text, or "?" if it is not UTF-8.
    pub fn to_string_lossy(&self) -> &'a str {
        core::str::from_utf8(self.0).unwrap_or("?")
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(self.0) {
            Ok(s) => f.write_str(s),
            Err(_) => f.write_str("?"),
        }
    }
}

/// A fixed-size text buffer (no allocator): what an experiment prints, carried
/// back from a traced child by value. Text past its 4096 bytes is not kept,
/// and the buffer says so ([`is_cut`](TextBuffer::is_cut)): the tour fails an
/// experiment whose observation did not fit.
#[derive(Clone, Copy)]
pub struct TextBuffer {
    bytes: [u8; 4096],
    len: usize,
    cut: bool,
}

impl TextBuffer {
    /// An empty buffer.
    pub const fn new() -> TextBuffer {
        TextBuffer {
            bytes: [0; 4096],
            len: 0,
            cut: false,
        }
    }

    /// The text written so far (what fit).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("?")
    }

    /// Whether more was written than fits.
    pub fn is_cut(&self) -> bool {
        self.cut
    }
}

impl Default for TextBuffer {
    fn default() -> Self {
        TextBuffer::new()
    }
}

impl fmt::Write for TextBuffer {
    /// Appends `s`; if it does not fit, keeps nothing more and returns `Err`.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.cut || s.len() > self.bytes.len() - self.len {
            self.cut = true;
            return Err(fmt::Error);
        }
        self.bytes[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
        self.len += s.len();
        Ok(())
    }
}

// SAFETY: a byte array, a length and a bool.
unsafe impl crate::plain::Plain for TextBuffer {}
// SAFETY: a byte array and a length.
unsafe impl crate::plain::Plain for CPath {}
