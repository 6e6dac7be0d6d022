// clonelab_clone: the clone(2) trampoline for aarch64.
//
// C signature (AAPCS64):
//   long clone(unsigned long flags, void *stack, int *parent_tid, int *child_tid,
//                       unsigned long tls, int (*entry)(void *), void *arg);
//                       x0                 x1           x2               x3
//                       x4                 x5                        x6
//
// Kernel order on aarch64 (CONFIG_CLONE_BACKWARDS): clone(flags, stack, parent_tid, tls, child_tid)
// in x0..x4, number in x8. tls and child_tid are swapped relative to x86_64, so the first three
// instructions below exchange x3 and x4. i386, armhf and ppc64le swap them too; s390x instead
// swaps the first two (see docs/abi.md).
//
// The child, at its first instruction (the one after `svc`), as the scoped API makes it
// (Scope::spawn, src/spawn/scope.rs). That API moves two things to the top of the child's
// Stack and passes as `stack` the first 16-byte boundary below them:
//
//     registers                          the child's Stack
//                                        +----------------------------+ <- Stack::top(), page-aligned
//     x0  = 0       (the only way it     | Record: the scope's        |    size_of Record bytes,
//                    knows it is the     | bookkeeping. arg points at |    aligned to its alignment
//                    child)              | its ChildShared part, the  |
//     sp  = stack   (as passed)          | tid word (&tid) is in it   |
//     x5  = entry   (kept by svc)        +----------------------------+
//     x6  = arg     (kept by svc)        | the closure, moved here by |    size_of F bytes, aligned
//     x1..x4 = the other clone           | value; entry reads it once |    to align_of F, just below
//              arguments (kept)          +----------------------------+    the Record
//     x29 = the parent's frame pointer   | 0 to 15 bytes of padding   |
//     x30 = the parent's return address  +----------------------------+ <- stack = sp: the closure's
//           (both cleared next)          |   free: the child's frames |    address rounded down to 16
//     tpidr_el0 = 0 (the scoped API      |   grow down from here      |
//           sets CLONE_SETTLS, tls = 0)  +----------------------------+ <- Stack::bottom()
//                                          [ guard page, PROT_NONE ]
//
// A bare clone(..., Stack::top(), ...) has nothing of clonelab's above sp: the mapping ends
// there. With stack = 0 (fork-like) sp is the parent's, in the child's copy of its memory.
//
// `svc` preserves every register but x0, and the child gets a copy of them all, so entry and
// arg ride in x5 and x6 and never touch the child stack. Works with stack = 0 (fork-like) too.
//
// Why the child must never return: nobody called it. x30 (lr) still holds the parent's return
// address, into the Rust function that called this one, whose frame lives on the parent's
// stack. A `ret` would run that function's code in the child with sp on the new stack: it
// would read its saved registers and locals from whatever lies above `stack` (on the scoped
// path the closure and the Record; after a bare Stack::top(), the bytes past the mapping's
// end) and return to an address made of those bytes. So the child branches to child_start
// below, which clears x29 and x30, calls entry and ends the thread with SYS_exit; `udf` traps
// if SYS_exit ever came back. (With stack = 0 the `ret` would even "work": the child would
// return 0 to the Rust caller, which would take it for a tid and run the parent's code.)

// Symbol names: `{clone}` and `{child_start}` are substituted by the Rust side with names that
// carry the crate's version (clonelab_<major>_<minor>_<patch>_clone, ...), so two versions of
// clonelab linked into one program do not collide.

    .text                           // code section
    .globl  {clone}                 // visible to the Rust side
    .hidden {clone}                 // but not exported from the final binary
    .type   {clone}, %function      // an ELF function symbol
    .p2align 4                      // align the entry to 16 bytes
{clone}:                            // entry point
    .cfi_startproc                  // unwind info for the parent's path: nothing is pushed, x30 = return
    mov     x9, x3                  // x9 = child_tid, parked
    mov     x3, x4                  // x3 = tls: aarch64 clone takes tls 4th
    mov     x4, x9                  // x4 = child_tid: and child_tid 5th
    mov     x8, #{SYS_clone}        // x8 = __NR_clone
    svc     #0                      // x0 flags, x1 stack, x2 parent_tid, x3 tls, x4 child_tid
    cbz     x0, {child_start}       // x0 = 0: we are the child
    ret                             // parent: return tid or -errno in x0
    .cfi_endproc                    // end of the parent path's unwind info
    .size   {clone}, . - {clone}    // symbol size, for debuggers and profilers

// The child's first frame, shared with clone3.s. Expects entry in x5 and arg in x6.
    .globl  {child_start}           // visible to clone3.s
    .hidden {child_start}           // but not exported from the final binary
    .type   {child_start}, %function // an ELF function symbol
    .p2align 4                      // align the entry to 16 bytes
{child_start}:                      // the child starts here
    .cfi_startproc                  // begin unwind info for the child's first frame
    .cfi_personality 0x1b, {personality} // a panic unwinding up to here stops here: see child_personality
    .cfi_undefined x30              // DWARF unwinders: no caller above this frame
    mov     x29, xzr                // frame pointer 0: frame-record walkers stop here
    mov     x30, xzr                // link register 0: there is nowhere to return to
    mov     x9, sp                  // x9 = sp (AND cannot read sp directly)
    and     sp, x9, #-16            // AAPCS64: sp 16-byte aligned
    mov     x0, x6                  // x0 = arg
    blr     x5                      // w0 = entry(arg)
    mov     x8, #{SYS_exit}         // x8 = __NR_exit: ends this thread only, never exit_group
    svc     #0                      // x0 = exit status = entry's return value; the child ends here
    udf     #0                      // unreachable: trap if it ever returns
    .cfi_endproc                    // end unwind info
    .size   {child_start}, . - {child_start} // symbol size, for debuggers and profilers
