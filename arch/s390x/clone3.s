# clonelab_clone3: the clone3(2) trampoline for s390x.
#
# C signature (s390x ELF ABI):
#   long clone3(struct clone_args *args, size_t size, int (*entry)(void *), void *arg);
#               r2                       r3           r4                    r5
#
# Kernel: clone3(args, size) in r2, r3, number in r1: no BACKWARDS variant here, the stack is a
# field of `struct clone_args` like everywhere. args->stack is the LOWEST byte of the child
# stack and args->stack_size its length; the kernel starts the child at r15 = stack + stack_size.
#
# The child, at its first instruction (the one after `svc`):
#
#     registers                        child stack
#     r2  = 0                          +------------------------+ <- args->stack + args->stack_size
#     r15 = stack + stack_size         |   (nothing pushed)     |    = r15
#     r8  = entry    (kept by svc)     |            |           |
#     r9  = arg      (kept by svc)     |            v           |
#     r3  = size (stale)               +------------------------+ <- args->stack (lowest byte)
#     r14 = the parent's return address     [ guard page, PROT_NONE ]
#     a0:a1 = parent's thread pointer unless CLONE_SETTLS
#
# Above r15: nothing of clonelab's. The scoped API, which moves its Record and closure to the
# top of a Stack, makes its children with clone (see clone.s); a clone3 made with
# Stack::bottom() and Stack::size() starts at Stack::top(), where the mapping ends.
#
# Why the child must never return: as in clone.s, nobody called it. The parent's path (`lmg`,
# then `br %r14`) would load r8 and r9 from past the end of the stack and run the Rust caller
# on the new stack. So the child continues in the shared child start code (clone.s), which
# clears r14, makes a 160-byte frame, calls entry and ends the thread with SYS_exit.
# `{clone3}` and `{child_start}` are version-unique names substituted by the Rust side.

    .text                           # code section
    .globl  {clone3}                # visible to the Rust side
    .hidden {clone3}                # but not exported from the final binary
    .type   {clone3}, @function     # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{clone3}:                           # entry point
    .cfi_startproc                  # unwind info for the parent's path (CFA = r15 + 160)
    stmg    %r8, %r9, 64(%r15)      # save callee-saved r8, r9 in the caller's register save area
    .cfi_offset %r8, -96            # unwind info: r8 is at CFA - 96
    .cfi_offset %r9, -88            # unwind info: r9 is at CFA - 88
    lgr     %r8, %r4                # r8 = entry, where the child start code expects it
    lgr     %r9, %r5                # r9 = arg
    lghi    %r1, {SYS_clone3}       # r1 = __NR_clone3 (above 255: it cannot sit in the svc)
    svc     0                       # r2 = &clone_args, r3 = sizeof(clone_args)
    ltgr    %r2, %r2                # condition code from r2: 0 in the child
    jge     {child_start}           # zero: the child calls entry(arg), then exits
    lmg     %r8, %r9, 64(%r15)      # parent: restore r8, r9
    .cfi_restore %r8                # unwind info: r8 holds the caller's value again
    .cfi_restore %r9                # unwind info: r9 holds the caller's value again
    br      %r14                    # parent: return tid or -errno in r2
    .cfi_endproc                    # end of the parent path's unwind info
    .size   {clone3}, . - {clone3}  # symbol size, for debuggers and profilers
