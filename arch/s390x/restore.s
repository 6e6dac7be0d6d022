# The signal restorers for s390x: where a handler installed by clonelab returns to.
#
# s390x has two signal frames. A handler installed with SA_SIGINFO gets a `struct rt_sigframe`
# and must return through `rt_sigreturn`; one installed without it gets the older `struct
# sigframe` and must return through `sigreturn`. With SA_RESTORER the kernel starts the handler
# with r14 (the return address) = `sa_restorer` and r15 at the frame, so clonelab installs
# {restore_rt} for SA_SIGINFO handlers and {restore} for the others.
#
# Both numbers are below 256, so they sit in the `svc` instruction itself (`0a ad`, `0a 77`),
# the form the kernel's own restorers use and unwinders recognise.

    .text                           # code section
    .globl  {restore_rt}            # visible to the Rust side
    .hidden {restore_rt}            # but not exported from the final binary
    .type   {restore_rt}, @function # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{restore_rt}:                       # an SA_SIGINFO handler returns here; r15 is at its rt_sigframe
    svc     {SYS_rt_sigreturn}      # rt_sigreturn: restore the interrupted context; never returns
    .word   0                       # unreachable: an invalid opcode traps if it ever did
    .size   {restore_rt}, . - {restore_rt} # symbol size, for debuggers and profilers

    .globl  {restore}               # visible to the Rust side
    .hidden {restore}               # but not exported from the final binary
    .type   {restore}, @function    # an ELF function symbol
    .p2align 4                      # align the entry to 16 bytes
{restore}:                          # a plain handler returns here; r15 is at its sigframe
    svc     {SYS_sigreturn}         # sigreturn: restore the interrupted context; never returns
    .word   0                       # unreachable: an invalid opcode traps if it ever did
    .size   {restore}, . - {restore} # symbol size, for debuggers and profilers
