# clonelab_clone3: the clone3(2) trampoline for x86_64 (Intel syntax).
#
# C signature (System V):
#   long clone3(struct clone_args *args, size_t size, int (*entry)(void *), void *arg);
#                        rdi                      rsi          rdx                    rcx
#
# Kernel: clone3(args, size) in rdi, rsi. Everything else is in `struct clone_args`:
# args->stack is the LOWEST byte of the child stack and args->stack_size its length;
# the kernel starts the child at rsp = stack + stack_size.
#
# The child, at its first instruction (the one after `syscall`):
#
#     registers                        child stack
#     rax = 0                          +------------------------+ <- args->stack + args->stack_size
#     rsp = stack + stack_size         |   (nothing pushed)     |    = rsp, 16-byte aligned
#     rbx = arg      (kept by syscall) |            |           |
#     r9  = entry    (kept by syscall) |            v           |
#     rdi = args, rsi = size (stale)   +------------------------+ <- args->stack (lowest byte)
#     rcx, r11 = the RIP and RFLAGS         [ guard page, PROT_NONE ]
#                that `syscall` saved
#     fs  = parent's unless CLONE_SETTLS
#
# Above rsp: nothing of clonelab's. The scoped API, which moves its Record and closure to the
# top of a Stack, makes its children with clone (see clone.s); a clone3 made with
# Stack::bottom() and Stack::size() starts at Stack::top(), where the mapping ends.
#
# Why the child must never return: as in clone.s, nobody called it. [rsp] holds no return
# address, and the parent's path (`pop rbx`, `ret`) would read rbx and the address to jump to
# from past the end of the stack. So the child jumps to the shared child start code (clone.s),
# which calls entry and ends the thread with SYS_exit.

# `{clone3}` and `{child_start}` are version-unique names substituted by the Rust side (see clone.s).

    .text                           # code section
    .globl  {clone3}                # visible to the Rust side
    .hidden {clone3}                # but not exported from the final binary
    .type   {clone3}, @function     # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{clone3}:                           # entry point
    .cfi_startproc                  # unwind info for the parent's path
    push    rbx                     # save callee-saved rbx: we borrow it to carry `arg`
    .cfi_adjust_cfa_offset 8        # unwind info: the CFA is now 8 bytes further from rsp
    .cfi_rel_offset rbx, 0          # unwind info: the caller's rbx is saved at [rsp]
    mov     rbx, rcx                # rbx = arg (rcx itself is clobbered by `syscall`)
    mov     r9, rdx                 # r9 = entry, where the child start code expects it
    mov     eax, {SYS_clone3}       # rax = __NR_clone3
    syscall                         # rdi = &clone_args, rsi = sizeof(clone_args)
    test    rax, rax                # rax = 0 in the child, tid or -errno in the parent
    jz      {child_start}           # child: call entry(arg), then exit
    pop     rbx                     # parent: restore rbx
    .cfi_adjust_cfa_offset -8       # unwind info: back to the entry's CFA
    .cfi_restore rbx                # unwind info: rbx holds the caller's value again
    ret                             # parent: return tid or -errno
    .cfi_endproc                    # end of the parent path's unwind info
    .size   {clone3}, . - {clone3}  # symbol size, for debuggers and profilers
