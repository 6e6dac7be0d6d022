# The signal restorers for i386: where a handler installed by clonelab returns to.
#
# i386 has two signal frames. A handler installed with SA_SIGINFO gets a `struct rt_sigframe`
# (siginfo and a ucontext) and must return through `rt_sigreturn`; one installed without it
# gets the old `struct sigframe` and must return through `sigreturn`, after popping the
# signal number the frame passed as the handler's argument. The kernel starts the handler
# with the return address `sa_restorer`, so clonelab installs {restore_rt} for SA_SIGINFO
# handlers and {restore} for the others.
#
# The byte sequences are the ones libgcc's unwinder and gdb look for to recognise a signal
# frame: b8 ad 00 00 00 cd 80 (rt) and 58 b8 77 00 00 00 cd 80 (old).

    .text                           # code section
    .globl  {restore_rt}            # visible to the Rust side
    .hidden {restore_rt}            # but not exported from the final binary
    .type   {restore_rt}, @function # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{restore_rt}:                       # an SA_SIGINFO handler returns here; esp is at its rt_sigframe
    mov     eax, {SYS_rt_sigreturn} # eax = __NR_rt_sigreturn
    int     0x80                    # restore the interrupted context; never returns
    ud2                             # unreachable: trap if it ever did
    .size   {restore_rt}, . - {restore_rt} # symbol size, for debuggers and profilers

    .globl  {restore}               # visible to the Rust side
    .hidden {restore}               # but not exported from the final binary
    .type   {restore}, @function    # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{restore}:                          # a plain handler returns here; [esp] = the signal number
    pop     eax                     # drop it: the kernel finds the sigframe 8 bytes below esp
    mov     eax, {SYS_sigreturn}    # eax = __NR_sigreturn
    int     0x80                    # restore the interrupted context; never returns
    ud2                             # unreachable: trap if it ever did
    .size   {restore}, . - {restore} # symbol size, for debuggers and profilers
