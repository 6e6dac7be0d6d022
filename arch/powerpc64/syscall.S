/* The system-call entry for ppc64le: the `sc` instruction, out of line.
 *
 * Rust 1.85 (the only Rust with ppc64el standard libraries here) has no stable inline
 * assembly for PowerPC, so the syscall instruction lives in these functions, assembled by
 * gcc and called through the C ABI, the way musl and glibc keep theirs.
 *
 * C signature (ELFv2 ABI: arguments in r3..r10, result in r3):
 *   long syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
 *                r3       r4       r5       r6       r7       r8       r9
 *
 * Kernel: number in r0, arguments 1..6 in r3..r8, result in r3. So every argument moves
 * down one register. One entry serves every arity: the Rust side passes 0 for the arguments
 * a call does not have, and the kernel never reads them.
 *
 *     at `sc`:   r0 = nr   r3 = a1   r4 = a2   r5 = a3   r6 = a4   r7 = a5   r8 = a6
 *     after:     r3 = result (see below), CR0.SO = the error bit
 *                r0, r4..r12, ctr, xer, cr0, cr1, cr5..cr7 clobbered (all volatile in
 *                the C ABI anyway); r1, r2, r13, r14..r31, lr survive
 *
 * THE ERROR CONVENTION -- the lesson of this arch.
 * Every other arch clonelab runs on returns -errno in the result register (-4095..-1).
 * PowerPC does not: on failure the kernel returns the POSITIVE errno in r3 and sets the
 * summary-overflow bit of condition register field 0 (CR0.SO); on success CR0.SO is clear
 * and r3 is the result. A raw `sc` followed by "is r3 negative?" would read every failure
 * as success (EPERM comes back as 1, which looks like a valid fd or pid). So right after
 * `sc` each entry point here does what musl's syscall path does:
 *
 *     bns+  1f          if CR0.SO is clear: success, keep r3
 *     neg   r3, r3      else: r3 = -errno
 *   1:
 *
 * and the rest of the crate sees -errno exactly as on every other arch. */

#include "symbols.h"

    .text                           // code section
FUNCTION(SYM(syscall))
    .cfi_startproc                  // unwind info: a leaf, nothing pushed, lr = return address
    mr      r0, r3                  // r0 = syscall number
    mr      r3, r4                  // r3 = argument 1
    mr      r4, r5                  // r4 = argument 2
    mr      r5, r6                  // r5 = argument 3
    mr      r6, r7                  // r6 = argument 4
    mr      r7, r8                  // r7 = argument 5
    mr      r8, r9                  // r8 = argument 6
    sc                              // enter the kernel; r3 = result, CR0.SO = failed
    bnslr+                          // CR0.SO clear: success, return r3 as it is
    neg     r3, r3                  // CR0.SO set: r3 held +errno; return -errno
    blr                             // return to the caller
    .cfi_endproc                    // end unwind info
END(SYM(syscall))

/* A syscall that does not return (exit, exit_group): nr in r3, its one argument in r4. */
FUNCTION(SYM(syscall_noreturn))
    .cfi_startproc                  // unwind info: a leaf
    mr      r0, r3                  // r0 = syscall number
    mr      r3, r4                  // r3 = argument 1 (the exit status)
    sc                              // the thread or process ends here
    trap                            // unreachable: traps (SIGTRAP) if the kernel ever came back
    .cfi_endproc                    // end unwind info
END(SYM(syscall_noreturn))

/* The thread pointer: r13, which the ABI reserves for it and CLONE_SETTLS sets. */
FUNCTION(SYM(thread_pointer))
    .cfi_startproc                  // unwind info: a leaf
    mr      r3, r13                 // r3 = r13, the thread pointer
    blr                             // return it
    .cfi_endproc                    // end unwind info
END(SYM(thread_pointer))

    .section .note.GNU-stack,"",@progbits // the stack need not be executable
