# clonelab_clone: the clone(2) trampoline for x86_64 (Intel syntax, as Rust's global_asm! reads it).
#
# C signature (System V):
#   long clonelab_clone(unsigned long flags, void *stack, int *parent_tid, int *child_tid,
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

    .text                           # code section
    .globl  clonelab_clone          # visible to the Rust side
    .hidden clonelab_clone          # but not exported from the final binary
    .type   clonelab_clone, @function # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
clonelab_clone:                     # entry point
    push    rbx                     # save callee-saved rbx: we borrow it to carry `arg`
    mov     rbx, [rsp + 16]         # rbx = arg (7th C argument, above return address and saved rbx)
    mov     r10, rcx                # r10 = child_tid: syscall's 4th register (rcx gets clobbered)
    mov     eax, {SYS_clone}        # rax = __NR_clone
    syscall                         # rdi flags, rsi stack, rdx parent_tid, r10 child_tid, r8 tls
    test    rax, rax                # rax = 0 in the child, tid or -errno in the parent
    jz      clonelab_child_start    # child: leave this frame for good
    pop     rbx                     # parent: restore rbx
    ret                             # parent: return tid or -errno
    .size   clonelab_clone, . - clonelab_clone # symbol size, for debuggers and profilers

# The child's first frame, shared with clone3.s. Expects entry in r9 and arg in rbx.
    .globl  clonelab_child_start    # visible to the Rust side
    .hidden clonelab_child_start    # but not exported from the final binary
    .type   clonelab_child_start, @function # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
clonelab_child_start:               # the child starts here
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
    .size   clonelab_child_start, . - clonelab_child_start # symbol size, for debuggers and profilers
