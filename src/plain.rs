//! Plain data: values whose bytes mean the same in another process.
//!
//! A fork-like child has its own copy of memory. When it hands a value back
//! to its parent (through shared memory, as [`crate::trace::trace`] does),
//! only the *bytes* cross: a reference or pointer in them names an address in
//! the child's memory, which in the parent holds something else or nothing at
//! all. `Plain` marks the types for which that cannot happen. It sits at the
//! bottom of the crate and uses nothing from it.

/// A `Copy` type whose values hold no reference, pointer or handle into
/// memory that a fork-like child could have allocated, so that a copy of its
/// bytes is the same value in the parent.
///
/// # Safety
/// Implement only for types whose every field is itself `Plain`, or is a
/// pointer that can only point at static data of this program (which a
/// fork-like child shares at the same address): a `&'static` to a value that
/// safe code outside the implementing crate cannot create at run time.
pub unsafe trait Plain: Copy {}

macro_rules! plain {
    ($($t:ty),* $(,)?) => {
        $(
            // SAFETY: a primitive: bytes only, no pointer.
            unsafe impl Plain for $t {}
        )*
    };
}

plain!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    bool,
    char,
    f32,
    f64,
    ()
);

// SAFETY: an array of Plain values is bytes only.
unsafe impl<T: Plain, const N: usize> Plain for [T; N] {}
// SAFETY: the variant tag is bytes; the payload is Plain.
unsafe impl<T: Plain> Plain for Option<T> {}
// SAFETY: as for Option.
unsafe impl<T: Plain, E: Plain> Plain for Result<T, E> {}

macro_rules! plain_tuple {
    ($($name:ident),+) => {
        // SAFETY: every element is Plain.
        unsafe impl<$($name: Plain),+> Plain for ($($name,)+) {}
    };
}

plain_tuple!(A);
plain_tuple!(A, B);
plain_tuple!(A, B, C);
plain_tuple!(A, B, C, D);
plain_tuple!(A, B, C, D, E);
plain_tuple!(A, B, C, D, E, G);

/// A string that is always one of this crate's own literals, so it is
/// [`Plain`]: a record that carries it can cross from a child to its parent.
/// Only clonelab creates these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StaticText(&'static str);

impl StaticText {
    /// Wrap one of the crate's own string literals.
    pub(crate) const fn new(text: &'static str) -> StaticText {
        StaticText(text)
    }

    /// The text.
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl core::fmt::Display for StaticText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.pad(self.0)
    }
}

impl PartialEq<&str> for StaticText {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

// SAFETY: the pointer is always to a string literal of this crate (the
// constructor is crate-private), which a fork-like child shares at the same
// address.
unsafe impl Plain for StaticText {}
