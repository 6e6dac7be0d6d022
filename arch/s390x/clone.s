# clonelab_clone: the clone(2) trampoline for s390x (z/Architecture, `#` starts a comment).
#
# C signature (s390x ELF ABI: five arguments in r2..r6, the rest in the caller's frame):
#   long clone(unsigned long flags, void *stack, int *parent_tid, int *child_tid,
#              r2                   r3           r4               r5
#              unsigned long tls, int (*entry)(void *), void *arg);
#              r6                 160(r15)              168(r15)
#
# Kernel order on s390x (CONFIG_CLONE_BACKWARDS2): clone(STACK, FLAGS, parent_tid, child_tid,
# tls) in r2..r6, number in r1. The first two are swapped relative to every other arch here;
# child_tid and tls keep x86_64's order (aarch64, i386, armhf and ppc64le swap those two).
# `tls` becomes access registers a0:a1 of the child.
#
# The child, at its first instruction (the one after `svc`), as the scoped API makes it
# (Scope::spawn, src/spawn/scope.rs). That API moves two things to the top of the child's
# Stack and passes as `stack` the first 16-byte boundary below them:
#
#     registers                          the child's Stack
#                                        +----------------------------+ <- Stack::top(), page-aligned
#     r2  = 0       (the only way it     | Record: the scope's        |    size_of Record bytes,
#                    knows it is the     | bookkeeping. arg points at |    aligned to its alignment
#                    child)              | its ChildShared part, the  |
#     r15 = stack   (the stack pointer,  | tid word (&tid) is in it   |
#                    as passed)          +----------------------------+
#     r8  = entry   (kept by svc)        | the closure, moved here by |    size_of F bytes, aligned
#     r9  = arg     (kept by svc)        | value; entry reads it once |    to align_of F, just below
#     r3..r6 = the other clone           +----------------------------+    the Record
#              arguments (kept)          | 0 to 15 bytes of padding   |
#     r14 = the parent's return address  +----------------------------+ <- stack = r15: the closure's
#           (cleared next)               |   free: the child's frames |    address rounded down to 16
#     a0:a1 = 0 (the scoped API sets     |   grow down from here      |
#           CLONE_SETTLS with tls = 0)   +----------------------------+ <- Stack::bottom()
#                                          [ guard page, PROT_NONE ]
#
# A bare clone(..., Stack::top(), ...) has nothing of clonelab's above r15: the mapping ends
# there. With stack = 0 (fork-like) r15 is the parent's, in the child's copy of its memory.
#
# The s390x ABI lets a function store into the 160 bytes ABOVE its r15 (the register save
# area, which belongs to its caller's frame). So child_start moves r15 down 160 bytes before it
# calls entry: entry's saves land below `stack`, never in the closure or the Record.
#
# `svc` preserves every register but r2, and the child gets a copy of them all, so entry and
# arg ride in r8 and r9 (callee-saved: the parent path restores them) and never touch the
# child stack. Works with stack = 0 (fork-like) too.
#
# Why the child must never return: nobody called it. r14 still holds the parent's return
# address, into the Rust function that called this one, whose frame lives on the parent's
# stack. The parent's path (`lmg`, then `br %r14`) would load r8 and r9 from 64 bytes above
# `stack` (whatever lies there: the closure, the Record, or the bytes past the mapping's end)
# and then run the Rust caller's code with r15 on the new stack, reading its frame and saved
# registers from there too. So the child branches to child_start below, which clears r14,
# calls entry and ends the thread with SYS_exit; the invalid opcode after it traps if SYS_exit
# ever came back. (With stack = 0 the parent's path would even "work": the child would return
# 0 to the Rust caller, which would take it for a tid.)
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
