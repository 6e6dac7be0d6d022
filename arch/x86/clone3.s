# clonelab_clone3: the clone3(2) trampoline for i386 (Intel syntax).
#
# C signature (cdecl):
#   long clone3(struct clone_args *args, size_t size, int (*entry)(void *), void *arg);
#               [esp+4]                  [esp+8]      [esp+12]              [esp+16]
#
# Kernel: clone3(args, size) in ebx, ecx, number in eax. Everything else is in
# `struct clone_args` (64-bit fields even here): args->stack is the LOWEST byte of the child
# stack and args->stack_size its length; the kernel starts the child at esp = stack + stack_size.
#
# The child, at its first instruction (the one after `int 0x80`):
#
#     registers                        child stack
#     eax = 0                          +------------------------+ <- args->stack + args->stack_size
#     esp = stack + stack_size         |   (nothing pushed)     |    = esp
#     edi = entry    (kept by int)     |            |           |
#     esi = arg      (kept by int)     |            v           |
#     ebx = args, ecx = size (stale)   +------------------------+ <- args->stack (lowest byte)
#     gs  = parent's selector unless CLONE_SETTLS   [ guard page, PROT_NONE ]
#
# Above esp: nothing of clonelab's. The scoped API, which moves its Record and closure to the
# top of a Stack, makes its children with clone (see clone.s); a clone3 made with
# Stack::bottom() and Stack::size() starts at Stack::top(), where the mapping ends.
#
# Why the child must never return: as in clone.s, nobody called it. [esp] holds no return
# address, and the parent's path (three `pop`s, then `ret`) would read the registers and the
# address to jump to from past the end of the stack.
#
# clone3 reads only ebx and ecx, so entry and arg ride in edi and esi, and the child continues
# in the shared child start code (clone.s). `{clone3}` and `{child_start}` are version-unique.

    .text                           # code section
    .globl  {clone3}                # visible to the Rust side
    .hidden {clone3}                # but not exported from the final binary
    .type   {clone3}, @function     # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{clone3}:                           # entry point
    .cfi_startproc                  # unwind info for the parent's path
    push    ebx                     # save callee-saved ebx: it carries &clone_args
    .cfi_adjust_cfa_offset 4        # unwind info: the CFA is 4 bytes further from esp
    .cfi_rel_offset ebx, 0          # unwind info: the caller's ebx is at [esp]
    push    esi                     # save callee-saved esi: it carries arg
    .cfi_adjust_cfa_offset 4        # unwind info: 8 bytes pushed
    .cfi_rel_offset esi, 0          # unwind info: the caller's esi is at [esp]
    push    edi                     # save callee-saved edi: it carries entry
    .cfi_adjust_cfa_offset 4        # unwind info: 12 bytes pushed
    .cfi_rel_offset edi, 0          # unwind info: the caller's edi is at [esp]
    mov     ebx, [esp + 16]         # ebx = args (1st argument, 12 bytes pushed above it)
    mov     ecx, [esp + 20]         # ecx = size (2nd)
    mov     edi, [esp + 24]         # edi = entry (3rd), where the child start code expects it
    mov     esi, [esp + 28]         # esi = arg (4th)
    mov     eax, {SYS_clone3}       # eax = __NR_clone3
    int     0x80                    # ebx = &clone_args, ecx = sizeof(clone_args)
    test    eax, eax                # eax = 0 in the child, tid or -errno in the parent
    jz      {child_start}           # child: call entry(arg), then exit
    pop     edi                     # parent: restore edi
    .cfi_adjust_cfa_offset -4       # unwind info: 8 bytes pushed
    .cfi_restore edi                # unwind info: edi holds the caller's value again
    pop     esi                     # restore esi
    .cfi_adjust_cfa_offset -4       # unwind info: 4 bytes pushed
    .cfi_restore esi                # unwind info: esi holds the caller's value again
    pop     ebx                     # restore ebx
    .cfi_adjust_cfa_offset -4       # unwind info: back to the entry's CFA
    .cfi_restore ebx                # unwind info: ebx holds the caller's value again
    ret                             # parent: return tid or -errno in eax
    .cfi_endproc                    # end of the parent path's unwind info
    .size   {clone3}, . - {clone3}  # symbol size, for debuggers and profilers
