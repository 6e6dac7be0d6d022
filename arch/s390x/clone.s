# clonelab_clone: the clone(2) trampoline for s390x (z/Architecture, `#` starts a comment).
#
# C signature (s390x ELF ABI: five arguments in r2..r6, the rest in the caller's frame):
#   long clone(unsigned long flags, void *stack, int *parent_tid, int *child_tid,
#              r2                   r3           r4               r5
#              unsigned long tls, int (*entry)(void *), void *arg);
#              r6                 160(r15)              168(r15)
#
# Kernel order on s390x (CONFIG_CLONE_BACKWARDS2): clone(STACK, FLAGS, parent_tid, child_tid,
# tls) in r2..r6, number in r1. The first two are swapped relative to every other arch here.
# `tls` becomes access registers a0:a1 of the child.
#
# The child, at its first instruction (the one after `svc`):
#
#     registers                        child stack (the `stack` argument)
#     r2  = 0        (the only way     +------------------------+ <- stack top
#                     it knows it is   |   (nothing pushed)     |    r15 = stack
#                     the child)       |            |           |
#     r15 = stack    (the stack        |            v grows     |
#                     pointer)         |         down           |
#     r8  = entry    (kept by svc)     +------------------------+ <- lowest usable byte
#     r9  = arg      (kept by svc)          [ guard page, PROT_NONE ]
#     r14 = parent's return address (cleared next)
#     a0:a1 = parent's thread pointer unless CLONE_SETTLS
#
# `svc` preserves every register but r2, and the child gets a copy of them all, so entry and
# arg ride in r8 and r9 (callee-saved: the parent path restores them) and never touch the
# child stack. Works with stack = 0 (fork-like) too.
#
# `{clone}` and `{child_start}` are version-unique names substituted by the Rust side.

    .text                           # code section
    .globl  {clone}                 # visible to the Rust side
    .hidden {clone}                 # but not exported from the final binary
    .type   {clone}, @function      # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{clone}:                            # entry point
    .cfi_startproc                  # unwind info for the parent's path (CFA = r15 + 160)
    stmg    %r8, %r9, 64(%r15)      # save callee-saved r8, r9 in the caller's register save area
    .cfi_offset %r8, -96            # unwind info: r8 is at CFA - 96
    .cfi_offset %r9, -88            # unwind info: r9 is at CFA - 88
    lg      %r8, 160(%r15)          # r8 = entry (6th argument, in the caller's parameter area)
    lg      %r9, 168(%r15)          # r9 = arg (7th)
    lgr     %r0, %r2                # r0 = flags, parked
    lgr     %r2, %r3                # r2 = stack: s390x clone takes the stack first
    lgr     %r3, %r0                # r3 = flags: and the flags second
    lghi    %r1, {SYS_clone}        # r1 = __NR_clone
    svc     0                       # r2 stack, r3 flags, r4 parent_tid, r5 child_tid, r6 tls
    ltgr    %r2, %r2                # condition code from r2: 0 in the child, tid or -errno in the parent
    jge     {child_start}           # zero: we are the child (a long branch, any distance)
    lmg     %r8, %r9, 64(%r15)      # parent: restore r8, r9
    .cfi_restore %r8                # unwind info: r8 holds the caller's value again
    .cfi_restore %r9                # unwind info: r9 holds the caller's value again
    br      %r14                    # parent: return tid or -errno in r2
    .cfi_endproc                    # end of the parent path's unwind info
    .size   {clone}, . - {clone}    # symbol size, for debuggers and profilers

# The child's first frame, shared with clone3.s. Expects entry in r8 and arg in r9.
    .globl  {child_start}           # visible to clone3.s
    .hidden {child_start}           # but not exported from the final binary
    .type   {child_start}, @function # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{child_start}:                      # the child starts here
    .cfi_startproc                  # begin unwind info for the child's first frame
    .cfi_personality 0x1b, {personality} # a panic unwinding up to here stops here: see child_personality
    .cfi_undefined %r14             # DWARF unwinders: no caller above this frame
    lghi    %r14, 0                 # return address 0: there is nowhere to return to
    nill    %r15, 0xfff8            # ABI: the stack pointer 8-byte aligned
    aghi    %r15, -160              # ABI: a 160-byte frame whose save area the callee may use
    xc      0(8,%r15), 0(%r15)      # back chain 0: stack walkers stop here
    lgr     %r2, %r9                # r2 = arg
    basr    %r14, %r8               # r2 = entry(arg)
    lghi    %r1, {SYS_exit}         # r1 = __NR_exit: ends this thread only, never exit_group
    svc     0                       # r2 = exit status = entry's return value; the child ends here
    .word   0                       # unreachable: an invalid opcode traps if it ever returns
    .cfi_endproc                    # end unwind info
    .size   {child_start}, . - {child_start} # symbol size, for debuggers and profilers
