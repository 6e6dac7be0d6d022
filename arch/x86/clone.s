# clonelab_clone: the clone(2) trampoline for i386 (Intel syntax, as Rust's global_asm! reads it).
#
# C signature (cdecl: every argument on the stack, above the return address):
#   long clone(unsigned long flags, void *stack, int *parent_tid, int *child_tid,
#              [esp+4]              [esp+8]      [esp+12]         [esp+16]
#              unsigned long tls, int (*entry)(void *), void *arg);
#              [esp+20]           [esp+24]              [esp+28]
#
# Kernel order on i386 (CONFIG_CLONE_BACKWARDS): clone(flags, stack, parent_tid, tls, child_tid)
# in ebx, ecx, edx, esi, edi, number in eax. `tls` is the address of a `struct user_desc`.
# tls and child_tid are swapped relative to x86_64, as on aarch64, armhf and ppc64le: the
# loads below put the 5th C argument in esi and the 4th in edi.
#
# The child, at its first instruction (the one after `int 0x80`), as the scoped API makes it
# (Scope::spawn, src/spawn/scope.rs). That API moves two things to the top of the child's
# Stack and passes as `stack` the first 16-byte boundary below them:
#
#     registers                          the child's Stack
#                                        +----------------------------+ <- Stack::top(), page-aligned
#     eax = 0       (the only way it     | Record: the scope's        |    size_of Record bytes,
#                    knows it is the     | bookkeeping. arg points at |    aligned to its alignment
#                    child)              | its ChildShared part, the  |
#     esp = stack   (as passed)          | tid word (&tid) is in it   |
#     ebp  = entry  (kept by int)        +----------------------------+
#     xmm0 = arg    (FPU/SSE state       | the closure, moved here by |    size_of F bytes, aligned
#                    is copied too)      | value; entry reads it once |    to align_of F, just below
#     ebx, ecx, edx, esi, edi = the      +----------------------------+    the Record
#       five clone arguments (kept)      | 0 to 15 bytes of padding   |
#     gs  = the parent's selector; with  +----------------------------+ <- stack = esp: the closure's
#       CLONE_SETTLS its GDT entry is    |   free: the child's frames |    address rounded down to 16
#       the child's own (the scoped API  |   grow down from here      |
#       passes base 0, limit 1 byte)     +----------------------------+ <- Stack::bottom()
#                                          [ guard page, PROT_NONE ]
#
# A bare clone(..., Stack::top(), ...) has nothing of clonelab's above esp: the mapping ends
# there. With stack = 0 (fork-like) esp is the parent's, in the child's copy of its memory.
#
# The five argument registers all go to the kernel, which leaves only ebp for entry. arg rides
# in xmm0: the child gets a copy of the FPU/SSE registers as of the call, like every general
# register. So nothing is written to the child stack and `stack` reaches the kernel unchanged
# (musl instead stores fn and arg at the top of the new stack, and passes the kernel 16 bytes
# less). Works with stack = 0 (fork-like) too.
#
# Why the child must never return: nobody called it. It wakes up in the middle of this
# function on a stack with no return address. The 4 bytes at [esp] are whatever lies above
# `stack`: on the scoped path the padding or the closure's first bytes; after a bare
# Stack::top(), the bytes past the mapping's end. The parent's path (four `pop`s, then `ret`)
# would load edi, esi, ebx and ebp from those bytes and jump to an address made of the next 4.
# So the child moves entry and arg (label 1) and jumps to child_start below, which calls entry
# and ends the thread with SYS_exit; `ud2` traps if SYS_exit ever came back. (With stack = 0
# the parent's path would even "work": the child would return 0 to the Rust caller, which
# would take it for a tid and run the parent's code.)

# Symbol names: `{clone}` and `{child_start}` are substituted by the Rust side with names that
# carry the crate's version (clonelab_<major>_<minor>_<patch>_clone, ...).

    .text                           # code section
    .globl  {clone}                 # visible to the Rust side
    .hidden {clone}                 # but not exported from the final binary
    .type   {clone}, @function      # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{clone}:                            # entry point
    .cfi_startproc                  # unwind info for the parent's path
    push    ebp                     # save callee-saved ebp: it carries entry
    .cfi_adjust_cfa_offset 4        # unwind info: the CFA is 4 bytes further from esp
    .cfi_rel_offset ebp, 0          # unwind info: the caller's ebp is at [esp]
    push    ebx                     # save callee-saved ebx: it carries flags
    .cfi_adjust_cfa_offset 4        # unwind info: 8 bytes pushed
    .cfi_rel_offset ebx, 0          # unwind info: the caller's ebx is at [esp]
    push    esi                     # save callee-saved esi: it carries tls
    .cfi_adjust_cfa_offset 4        # unwind info: 12 bytes pushed
    .cfi_rel_offset esi, 0          # unwind info: the caller's esi is at [esp]
    push    edi                     # save callee-saved edi: it carries child_tid
    .cfi_adjust_cfa_offset 4        # unwind info: 16 bytes pushed
    .cfi_rel_offset edi, 0          # unwind info: the caller's edi is at [esp]
    mov     ebp, [esp + 40]         # ebp = entry (6th argument: 16 pushed + return address + 5 words)
    movd    xmm0, dword ptr [esp + 44] # xmm0 = arg (7th; caller-saved, so nothing to restore)
    mov     ebx, [esp + 20]         # ebx = flags (1st argument)
    mov     ecx, [esp + 24]         # ecx = stack (2nd), unchanged
    mov     edx, [esp + 28]         # edx = parent_tid (3rd)
    mov     esi, [esp + 36]         # esi = tls (5th): i386 takes tls 4th
    mov     edi, [esp + 32]         # edi = child_tid (4th): and child_tid 5th
    mov     eax, {SYS_clone}        # eax = __NR_clone
    int     0x80                    # ebx flags, ecx stack, edx parent_tid, esi tls, edi child_tid
    test    eax, eax                # eax = 0 in the child, tid or -errno in the parent
    jz      1f                      # child: move entry and arg where the start code wants them
    pop     edi                     # parent: restore edi
    .cfi_adjust_cfa_offset -4       # unwind info: 12 bytes pushed
    .cfi_restore edi                # unwind info: edi holds the caller's value again
    pop     esi                     # restore esi
    .cfi_adjust_cfa_offset -4       # unwind info: 8 bytes pushed
    .cfi_restore esi                # unwind info: esi holds the caller's value again
    pop     ebx                     # restore ebx
    .cfi_adjust_cfa_offset -4       # unwind info: 4 bytes pushed
    .cfi_restore ebx                # unwind info: ebx holds the caller's value again
    pop     ebp                     # restore ebp
    .cfi_adjust_cfa_offset -4       # unwind info: back to the entry's CFA
    .cfi_restore ebp                # unwind info: ebp holds the caller's value again
    ret                             # parent: return tid or -errno in eax
1:  mov     edi, ebp                # child: edi = entry
    movd    esi, xmm0               # child: esi = arg
    jmp     {child_start}           # leave this frame for good
    .cfi_endproc                    # end of the parent path's unwind info
    .size   {clone}, . - {clone}    # symbol size, for debuggers and profilers

# The child's first frame, shared with clone3.s. Expects entry in edi and arg in esi.
    .globl  {child_start}           # visible to clone3.s
    .hidden {child_start}           # but not exported from the final binary
    .type   {child_start}, @function # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{child_start}:                      # the child starts here
    .cfi_startproc                  # begin unwind info for the child's first frame
    .cfi_personality 0x1b, {personality} # a panic unwinding up to here stops here: see child_personality
    .cfi_undefined eip              # DWARF unwinders: no caller above this frame
    xor     ebp, ebp                # frame pointer 0: frame-pointer walkers stop here too
    and     esp, -16                # round esp down to 16 bytes
    sub     esp, 12                 # so that after one push it is 16-byte aligned at the call
    push    esi                     # the one cdecl argument: arg
    call    edi                     # eax = entry(arg)
    mov     ebx, eax                # ebx = exit status = entry's return value
    mov     eax, {SYS_exit}         # eax = __NR_exit: ends this thread only, never exit_group
    int     0x80                    # the child ends here
    ud2                             # unreachable: trap if it ever returns
    .cfi_endproc                    # end unwind info
    .size   {child_start}, . - {child_start} # symbol size, for debuggers and profilers
