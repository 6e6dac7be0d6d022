# The signal restorer for x86_64: where a handler installed by clonelab returns to.
#
# When the kernel delivers a signal to a handler it builds a `struct rt_sigframe` on the user
# stack (the interrupted registers, the signal mask, siginfo) and starts the handler with the
# return address set to `sa_restorer`. On x86_64 that field is the only way back: the 64-bit
# kernel has no restorer of its own in the vDSO, and it refuses to deliver to a handler whose
# sigaction lacks SA_RESTORER (it forces a SIGSEGV with si_code SI_KERNEL instead). So every
# handler clonelab installs carries SA_RESTORER and this function.
#
# The handler's `ret` pops the address of {restore}; rsp then points at the rt_sigframe's
# ucontext, which `rt_sigreturn` reads to restore every register and the mask.
#
# The two instructions are byte for byte the ones libgcc's unwinder and gdb look for
# (48 c7 c0 0f 00 00 00 0f 05) to recognise a signal frame, so backtraces cross it.

    .text                           # code section
    .globl  {restore}               # visible to the Rust side
    .hidden {restore}               # but not exported from the final binary
    .type   {restore}, @function    # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{restore}:                          # the handler returns here
    mov     rax, {SYS_rt_sigreturn} # rax = __NR_rt_sigreturn (the 7-byte mov the unwinders expect)
    syscall                         # restore the interrupted context; never returns
    ud2                             # unreachable: trap if it ever did
    .size   {restore}, . - {restore} # symbol size, for debuggers and profilers
