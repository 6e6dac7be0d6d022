/* clonelab_clone: the clone(2) trampoline for ppc64le (ELFv2 ABI, little-endian).
 *
 * C signature (ELFv2: arguments in r3..r10):
 *   long clone(unsigned long flags, void *stack, int *parent_tid, int *child_tid,
 *              r3                   r4           r5               r6
 *              unsigned long tls, int (*entry)(void *), void *arg);
 *              r7                 r8                    r9
 *
 * Kernel order on powerpc (CONFIG_CLONE_BACKWARDS): clone(flags, stack, parent_tid, tls,
 * child_tid) in r3..r7, number in r0. tls and child_tid are swapped relative to x86_64, as on
 * aarch64, i386 and armhf, so r6 and r7 are exchanged below. `tls` becomes r13 of the child,
 * the thread pointer. Failure comes back as +errno with CR0.SO set, turned into -errno here
 * (see syscall.S).
 *
 * The child, at its first instruction (the one after `sc`), as the scoped API makes it
 * (Scope::spawn, src/spawn/scope.rs). That API moves two things to the top of the child's
 * Stack and passes as `stack` the first 16-byte boundary below them:
 *
 *     registers                          the child's Stack
 *                                        +----------------------------+ <- Stack::top(), page-aligned
 *     r3  = 0       (the only way it     | Record: the scope's        |    size_of Record bytes,
 *                    knows it is the     | bookkeeping. arg points at |    aligned to its alignment
 *                    child)              | its ChildShared part, the  |
 *     r1  = stack   (the stack pointer,  | tid word (&tid) is in it   |
 *                    as passed)          +----------------------------+
 *     r30 = entry   (kept by sc)         | the closure, moved here by |    size_of F bytes, aligned
 *     r31 = arg     (kept by sc)         | value; entry reads it once |    to align_of F, just below
 *     r4..r7 = the other clone           +----------------------------+    the Record
 *              arguments                 | 0 to 15 bytes of padding   |
 *     lr  = the parent's return address  +----------------------------+ <- stack = r1: the closure's
 *           (cleared next)               |   free: the child's frames |    address rounded down to 16
 *     r13 = 0 (the scoped API sets       |   grow down from here      |
 *           CLONE_SETTLS with tls = 0)   +----------------------------+ <- Stack::bottom()
 *                                          [ guard page, PROT_NONE ]
 *
 * A bare clone(..., Stack::top(), ...) has nothing of clonelab's above r1: the mapping ends
 * there. With stack = 0 (fork-like) r1 is the parent's, in the child's copy of its memory.
 *
 * ELFv2 lets a function store its return address at 16(r1) of its CALLER's frame, that is
 * above its own r1. So child_start makes a 32-byte minimal frame below `stack` before it calls
 * entry: entry's save lands there, never in the closure or the Record.
 *
 * `sc` preserves the non-volatile registers r14..r31, and the child gets a copy of them all,
 * so entry and arg ride in r30 and r31 and never touch the child stack (musl instead stores
 * them on the child stack before the call). The parent keeps its caller's r30 and r31 in
 * the 288-byte protected zone below r1, which the ABI lets a leaf use without a frame and
 * signal delivery skips. Works with stack = 0 (fork-like) too: the kernel then leaves r1.
 *
 * Why the child must never return: nobody called it. lr still holds the parent's return
 * address, into the Rust function that called this one, whose frame lives on the parent's
 * stack. The parent's path (two `ld`, then `blr`) would load r30 and r31 from below the new
 * r1, where the parent saved nothing, and then run the Rust caller's code with r1 on the new
 * stack, reading its frame from whatever lies above `stack` (on the scoped path the closure
 * and the Record; after a bare Stack::top(), the bytes past the mapping's end). So the child
 * branches to child_start below, which clears lr, calls entry and ends the thread with
 * SYS_exit; `trap` stops it if SYS_exit ever came back. (With stack = 0 the parent's path
 * would even "work": the child would return 0 to the Rust caller, which would take it for a
 * tid.) */

#include <asm/unistd.h>             /* __NR_clone, __NR_exit: the kernel's numbers, not typed here */
#include "symbols.h"

    .text                           // code section
FUNCTION(SYM(clone))
    .cfi_startproc                  // unwind info for the parent's path: a leaf, lr = return
    std     r30, -16(r1)            // save callee-saved r30 in the protected zone
    std     r31, -8(r1)             // save callee-saved r31 there too
    .cfi_offset r30, -16            // unwind info: r30 is at CFA - 16
    .cfi_offset r31, -8             // unwind info: r31 is at CFA - 8
    mr      r30, r8                 // r30 = entry: survives sc, copied into the child
    mr      r31, r9                 // r31 = arg
    mr      r0, r6                  // r0 = child_tid, parked
    mr      r6, r7                  // r6 = tls: powerpc clone takes tls 4th
    mr      r7, r0                  // r7 = child_tid: and child_tid 5th
    li      r0, __NR_clone          // r0 = __NR_clone
    sc                              // r3 flags, r4 stack, r5 parent_tid, r6 tls, r7 child_tid
    bns+    1f                      // CR0.SO clear: r3 is 0 (child) or the tid (parent)
    neg     r3, r3                  // CR0.SO set: r3 held +errno; make it -errno
1:  cmpdi   r3, 0                   // 0 only in the child
    beq-    SYM(child_start)        // zero: we are the child
    ld      r30, -16(r1)            // parent: restore r30
    ld      r31, -8(r1)             // parent: restore r31
    .cfi_restore r30                // unwind info: r30 holds the caller's value again
    .cfi_restore r31                // unwind info: r31 holds the caller's value again
    blr                             // parent: return tid or -errno in r3
    .cfi_endproc                    // end of the parent path's unwind info
END(SYM(clone))

/* The child's first frame, shared with clone3.S. Expects entry in r30 and arg in r31. */
FUNCTION(SYM(child_start))
    .cfi_startproc                  // begin unwind info for the child's first frame
    .cfi_personality 0x1b, SYM(child_personality) // a panic unwinding up to here stops here: see child_personality
    .cfi_undefined lr               // DWARF unwinders: no caller above this frame
    li      r0, 0                   // r0 = 0
    mtlr    r0                      // lr = 0: there is nowhere to return to
    clrrdi  r1, r1, 4               // ABI: the stack pointer 16-byte aligned
    stdu    r0, -32(r1)             // ABI: a 32-byte minimal frame, back chain 0 (stack walkers stop)
    .cfi_def_cfa_offset 32          // unwind info: the CFA is r1 + 32
    mr      r3, r31                 // r3 = arg
    mr      r12, r30                // ELFv2: an indirect call passes the callee's address in r12
    mtctr   r12                     // ctr = entry
    bctrl                           // r3 = entry(arg); lr = the next instruction
    li      r0, __NR_exit           // r0 = __NR_exit: ends this thread only, never exit_group
    sc                              // r3 = exit status = entry's return value; the child ends here
    trap                            // unreachable: traps (SIGTRAP) if the kernel ever came back
    .cfi_endproc                    // end unwind info
END(SYM(child_start))

    .section .note.GNU-stack,"",@progbits // the stack need not be executable
