# clonelab_clone3: the clone3(2) trampoline for x86_64 (Intel syntax).
#
# C signature (System V):
#   long clonelab_clone3(struct clone_args *args, size_t size, int (*entry)(void *), void *arg);
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
#     fs  = parent's unless CLONE_SETTLS    [ guard page, PROT_NONE ]
#
# The child then continues in clonelab_child_start (clone.s), like a clone child.

    .text                           # code section
    .globl  clonelab_clone3         # visible to the Rust side
    .hidden clonelab_clone3         # but not exported from the final binary
    .type   clonelab_clone3, @function # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
clonelab_clone3:                    # entry point
    push    rbx                     # save callee-saved rbx: we borrow it to carry `arg`
    mov     rbx, rcx                # rbx = arg (rcx itself is clobbered by `syscall`)
    mov     r9, rdx                 # r9 = entry, where clonelab_child_start expects it
    mov     eax, {SYS_clone3}       # rax = __NR_clone3
    syscall                         # rdi = &clone_args, rsi = sizeof(clone_args)
    test    rax, rax                # rax = 0 in the child, tid or -errno in the parent
    jz      clonelab_child_start    # child: call entry(arg), then exit
    pop     rbx                     # parent: restore rbx
    ret                             # parent: return tid or -errno
    .size   clonelab_clone3, . - clonelab_clone3 # symbol size, for debuggers and profilers
