//! What CLONE_SETTLS takes on every arch but i386: the new thread pointer
//! itself (x86_64 `fs` base, aarch64 `tpidr_el0`, arm TPIDRURO, ppc64le `r13`,
//! s390x `a0:a1`). i386 takes a GDT descriptor instead (`x86.rs`).

/// What CLONE_SETTLS takes here: the thread pointer itself.
#[derive(Clone, Copy, Debug)]
pub struct TlsArgument {
    block: usize,
}

impl TlsArgument {
    /// The argument that makes `block` the child's thread pointer.
    pub fn new(block: usize) -> TlsArgument {
        TlsArgument { block }
    }

    /// The argument that leaves the child no thread pointer (0): every
    /// thread-local access faults.
    pub fn none() -> TlsArgument {
        TlsArgument { block: 0 }
    }

    /// The value clone's `tls` register carries: `block` itself.
    pub fn value(&self) -> usize {
        self.block
    }
}
