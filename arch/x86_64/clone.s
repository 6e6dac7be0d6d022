# clonelab_clone: the clone(2) trampoline for x86_64 (Intel syntax, as Rust's global_asm! reads it).
#
# C signature (System V):
#   long clone(unsigned long flags, void *stack, int *parent_tid, int *child_tid,
#              unsigned long tls, int (*entry)(void *), void *arg);
#   registers: flags=rdi stack=rsi parent_tid=rdx child_tid=rcx tls=r8 entry=r9 arg=[rsp+8]
#
# Kernel order on x86_64: clone(flags, stack, parent_tid, child_tid, tls) in rdi, rsi, rdx, r10, r8:
# the generic order, so only rcx moves (to r10). aarch64, i386, armhf and ppc64le swap the last
# two (CONFIG_CLONE_BACKWARDS); s390x swaps the first two (CONFIG_CLONE_BACKWARDS2). See
# arch/<arch>/clone.s and docs/abi.md.
#
# The child, at its first instruction (the one after `syscall`), as the scoped API makes it
# (Scope::spawn, src/spawn/scope.rs). That API moves two things to the top of the child's
# Stack and passes as `stack` the first 16-byte boundary below them:
#
#     registers                          the child's Stack
#                                        +----------------------------+ <- Stack::top(), page-aligned
#     rax = 0       (the only way it     | Record: the scope's        |    size_of Record bytes,
#                    knows it is the     | bookkeeping. arg points at |    aligned to its alignment
#                    child)              | its ChildShared part, the  |
#     rsp = stack   (as passed)          | tid word (&tid) is in it   |
#     rbx = arg     (kept by syscall)    +----------------------------+
#     r9  = entry   (kept by syscall)    | the closure, moved here by |    size_of F bytes, aligned
#     rcx = the RIP that `syscall`       | value; entry reads it once |    to align_of F, just below
#           saved: the `test` below      +----------------------------+    the Record
#     r11 = the RFLAGS `syscall` saved   | 0 to 15 bytes of padding   |
#     rdi, rsi, rdx, r10, r8 = the       +----------------------------+ <- stack = rsp: the closure's
#           clone arguments (kept)       |   free: the child's frames |    address rounded down to 16
#     rbp = the parent's (cleared next)  |   grow down from here      |
#     fs base = 0 (the scoped API sets   +----------------------------+ <- Stack::bottom()
#           CLONE_SETTLS with tls = 0)     [ guard page, PROT_NONE ]
#
# A bare clone(..., Stack::top(), ...) has nothing of clonelab's above rsp: the mapping ends
# there. With stack = 0 (fork-like) rsp is the parent's, in the child's copy of its memory.
#
# entry and arg never touch the child stack: the kernel gives the child a copy of the parent's
# registers as they are after `syscall`, with rax = 0 and rsp = stack. rcx and r11 hold, in the
# child as in the parent, what the `syscall` instruction put there. rbx and r9 are left alone,
# so they carry arg and entry across. That also works with stack = 0.
#
# Why the child must never return: nobody called it. It wakes up in the middle of this
# function on a stack with no return address. The 8 bytes at [rsp] are whatever lies above
# `stack`: on the scoped path the padding, the closure's first bytes, or (for a closure that
# captures nothing) the Record's; after a bare Stack::top(), the bytes past the mapping's end.
# The parent's path (`pop rbx`, then `ret`) would load rbx from those bytes and jump to an
# address made of the next 8. So the child jumps to child_start below, which calls entry and
# ends the thread with SYS_exit; `ud2` traps if SYS_exit ever came back. (With stack = 0 the
# parent's path would even "work": the child would return 0 to the Rust caller, which would
# take it for a tid and run the parent's code.)

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
    jz      {child_start}           # child: leave this frame for good (it must never return)
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
