/* clonelab_clone3: the clone3(2) trampoline for ppc64le.
 *
 * C signature (ELFv2):
 *   long clone3(struct clone_args *args, size_t size, int (*entry)(void *), void *arg);
 *               r3                       r4           r5                    r6
 *
 * Kernel: clone3(args, size) in r3, r4, number in r0: no BACKWARDS variant here, the stack is
 * a field of `struct clone_args` like everywhere. args->stack is the LOWEST byte of the child
 * stack and args->stack_size its length; the kernel starts the child at
 * r1 = stack + stack_size. Failure comes back as +errno with CR0.SO set, turned into -errno
 * here (see syscall.S).
 *
 * The child, at its first instruction (the one after `sc`):
 *
 *     registers                        child stack
 *     r3  = 0                          +------------------------+ <- args->stack + args->stack_size
 *     r1  = stack + stack_size         |   (nothing pushed)     |    = r1
 *     r30 = entry    (kept by sc)      |            |           |
 *     r31 = arg      (kept by sc)      |            v           |
 *     r4  = size (stale)               +------------------------+ <- args->stack (lowest byte)
 *     lr  = the parent's return address     [ guard page, PROT_NONE ]
 *     r13 = parent's thread pointer unless CLONE_SETTLS
 *
 * Above r1: nothing of clonelab's. The scoped API, which moves its Record and closure to the
 * top of a Stack, makes its children with clone (see clone.S); a clone3 made with
 * Stack::bottom() and Stack::size() starts at Stack::top(), where the mapping ends.
 *
 * Why the child must never return: as in clone.S, nobody called it. A `blr` would jump to
 * the parent's return address in lr and run the Rust caller's code on the new stack, reading
 * its frame from past the stack's end. So the child continues in the shared child start code
 * (clone.S), which clears lr, makes a minimal frame, calls entry and ends the thread with
 * SYS_exit. */

#include <asm/unistd.h>             /* __NR_clone3: the kernel's number, not typed here */
#include "symbols.h"

    .text                           // code section
FUNCTION(SYM(clone3))
    .cfi_startproc                  // unwind info for the parent's path: a leaf, lr = return
    std     r30, -16(r1)            // save callee-saved r30 in the protected zone
    std     r31, -8(r1)             // save callee-saved r31 there too
    .cfi_offset r30, -16            // unwind info: r30 is at CFA - 16
    .cfi_offset r31, -8             // unwind info: r31 is at CFA - 8
    mr      r30, r5                 // r30 = entry, where the child start code expects it
    mr      r31, r6                 // r31 = arg
    li      r0, __NR_clone3         // r0 = __NR_clone3
    sc                              // r3 = &clone_args, r4 = sizeof(clone_args)
    bns+    1f                      // CR0.SO clear: r3 is 0 (child) or the tid (parent)
    neg     r3, r3                  // CR0.SO set: r3 held +errno; make it -errno
1:  cmpdi   r3, 0                   // 0 only in the child
    bne+    2f                      // not zero: we are the parent
    b       SYM(child_start)        // zero: the child calls entry(arg), then exits (clone.S)
2:  ld      r30, -16(r1)            // parent: restore r30
    ld      r31, -8(r1)             // parent: restore r31
    .cfi_restore r30                // unwind info: r30 holds the caller's value again
    .cfi_restore r31                // unwind info: r31 holds the caller's value again
    blr                             // parent: return tid or -errno in r3
    .cfi_endproc                    // end of the parent path's unwind info
END(SYM(clone3))

    .section .note.GNU-stack,"",@progbits // the stack need not be executable
