# clonelab_clone: the clone(2) trampoline for x86_64 (Intel syntax, as Rust's global_asm! reads it).
#
# C signature (System V):
#   long clone(unsigned long flags, void *stack, int *parent_tid, int *child_tid,
#                       unsigned long tls, int (*entry)(void *), void *arg);
#                       rdi                rsi          rdx              rcx
#                       r8                 r9                        [rsp+8]
#
# Kernel order on x86_64: clone(flags, stack, parent_tid, child_tid, tls) in rdi, rsi, rdx, r10, r8.
# (aarch64 swaps the last two; see arch/aarch64/clone.s.)
#
# The child, at its first instruction (the one after `syscall`):
#
#     registers                        child stack (the `stack` argument)
#     rax = 0        (the only way     +------------------------+ <- stack top, 16-byte aligned
#                     it knows it is   |   (nothing pushed:     |    rsp = stack
#                     the child)       |    the parent wrote    |
#     rsp = stack                      |    nothing here)       |
#     rbx = arg      (kept by syscall) |            |           |
#     r9  = entry    (kept by syscall) |            v grows     |
#     rcx, r11 = garbage (clobbered)   |         down           |
#     rbp = parent's (cleared next)    +------------------------+ <- lowest usable byte
#     fs  = parent's unless CLONE_SETTLS    [ guard page, PROT_NONE ]
#
# fn and arg never touch the child stack: the kernel hands the child a copy of every
# register but rax, rcx and r11, so rbx and r9 carry them across. That also works with
# stack = 0 (fork-like: the child runs on its copy of the parent's stack).

# Symbol names: `{clone}` and `{child_start}` are substituted by the Rust side with names that
# carry the crate's version (clonelab_<major>_<minor>_<patch>_clone, ...), so two versions of
# clonelab linked into one program do not collide.

    .text                           # code section
    .globl  {clone}                 # visible to the Rust side
    .hidden {clone}                 # but not exported from the final binary
    .type   {clone}, @function      # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{clone}:                            # entry point
    .cfi_startproc                  # unwind info for the parent's path (debuggers, perf, backtraces)
    push    rbx                     # save callee-saved rbx: we borrow it to carry `arg`
    .cfi_adjust_cfa_offset 8        # unwind info: the CFA is now 8 bytes further from rsp
    .cfi_rel_offset rbx, 0          # unwind info: the caller's rbx is saved at [rsp]
    mov     rbx, [rsp + 16]         # rbx = arg (7th C argument, above return address and saved rbx)
    mov     r10, rcx                # r10 = child_tid: syscall's 4th register (rcx gets clobbered)
    mov     eax, {SYS_clone}        # rax = __NR_clone
    syscall                         # rdi flags, rsi stack, rdx parent_tid, r10 child_tid, r8 tls
    test    rax, rax                # rax = 0 in the child, tid or -errno in the parent
    jz      {child_start}           # child: leave this frame for good
    pop     rbx                     # parent: restore rbx
    .cfi_adjust_cfa_offset -8       # unwind info: back to the entry's CFA
    .cfi_restore rbx                # unwind info: rbx holds the caller's value again
    ret                             # parent: return tid or -errno
    .cfi_endproc                    # end of the parent path's unwind info
    .size   {clone}, . - {clone}    # symbol size, for debuggers and profilers

# The child's first frame, shared with clone3.s. Expects entry in r9 and arg in rbx.
    .globl  {child_start}           # visible to clone3.s
    .hidden {child_start}           # but not exported from the final binary
    .type   {child_start}, @function # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{child_start}:                      # the child starts here
    .cfi_startproc                  # begin unwind info for the child's first frame
    .cfi_personality 0x1b, {personality} # a panic unwinding up to here stops here: see child_personality
    .cfi_undefined rip              # DWARF unwinders: no caller above this frame
    xor     ebp, ebp                # frame pointer 0: frame-pointer walkers stop here too
    and     rsp, -16                # System V: rsp 16-byte aligned at the call below
    mov     rdi, rbx                # rdi = arg
    call    r9                      # eax = entry(arg)
    mov     edi, eax                # rdi = exit status = entry's return value
    mov     eax, {SYS_exit}         # rax = __NR_exit: ends this thread only, never exit_group
    syscall                         # the child ends here
    ud2                             # unreachable: trap if it ever returns
    .cfi_endproc                    # end unwind info
    .size   {child_start}, . - {child_start} # symbol size, for debuggers and profilers
