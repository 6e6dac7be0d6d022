// The signal restorer for aarch64: where a handler installed by clonelab returns to.
//
// When the kernel delivers a signal to a handler it builds a `struct rt_sigframe` on the user
// stack and starts the handler with x30 (the link register) set to the restorer. Unlike
// x86_64, arm64 does not need one from us: without SA_RESTORER the kernel points x30 at the
// vDSO's `__kernel_rt_sigreturn`, which is these same two instructions. clonelab sets
// SA_RESTORER with this function anyway, so aarch64 takes the path of every arch here but
// ppc64le (whose kernel ignores sa_restorer), and a handler works even in a process started
// without a vDSO (`vdso=0`).
//
// The handler's `ret` jumps here with sp at the rt_sigframe; `rt_sigreturn` restores every
// register and the signal mask from it. `mov x8, #139` assembles to 0xd2801168 and `svc #0` to
// 0xd4000001: the words libgcc's unwinder and gdb look for to recognise a signal frame.

    .text                           // code section
    .globl  {restore}               // visible to the Rust side
    .hidden {restore}               // but not exported from the final binary
    .type   {restore}, %function    // an ELF function symbol
    .p2align 4                      // align the entry to 16 bytes
{restore}:                          // the handler returns here
    mov     x8, #{SYS_rt_sigreturn} // x8 = __NR_rt_sigreturn
    svc     #0                      // restore the interrupted context; never returns
    udf     #0                      // unreachable: trap if it ever did
    .size   {restore}, . - {restore} // symbol size, for debuggers and profilers
