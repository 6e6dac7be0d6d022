@ The signal restorers for armhf: where a handler installed by clonelab returns to.
@
@ 32-bit ARM has two signal frames. A handler installed with SA_SIGINFO gets a `struct
@ rt_sigframe` and must return through `rt_sigreturn`; one installed without it gets the
@ older `struct sigframe` and must return through `sigreturn`. The kernel starts the handler
@ with lr = `sa_restorer` and sp at the frame, so clonelab installs {restore_rt} for SA_SIGINFO
@ handlers and {restore} for the others.
@
@ `mov r7, #119` / `mov r7, #173` then `svc #0` are the words libgcc's unwinder and gdb look for
@ (e3a07077 / e3a070ad, ef000000) to recognise a signal frame.

    .text                           @ code section
    .globl  {restore_rt}            @ visible to the Rust side
    .hidden {restore_rt}            @ but not exported from the final binary
    .type   {restore_rt}, %function @ an ELF function symbol
    .p2align 4                      @ align the entry to 16 bytes
{restore_rt}:                       @ an SA_SIGINFO handler returns here; sp is at its rt_sigframe
    mov     r7, #{SYS_rt_sigreturn} @ r7 = __NR_rt_sigreturn
    svc     #0                      @ restore the interrupted context; never returns
    udf     #0                      @ unreachable: trap if it ever did
    .size   {restore_rt}, . - {restore_rt} @ symbol size, for debuggers and profilers

    .globl  {restore}               @ visible to the Rust side
    .hidden {restore}               @ but not exported from the final binary
    .type   {restore}, %function    @ an ELF function symbol
    .p2align 4                      @ align the entry to 16 bytes
{restore}:                          @ a plain handler returns here; sp is at its sigframe
    mov     r7, #{SYS_sigreturn}    @ r7 = __NR_sigreturn
    svc     #0                      @ restore the interrupted context; never returns
    udf     #0                      @ unreachable: trap if it ever did
    .size   {restore}, . - {restore} @ symbol size, for debuggers and profilers
