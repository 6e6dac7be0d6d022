// clonelab_clone3: the clone3(2) trampoline for aarch64.
//
// C signature (AAPCS64):
//   long clone3(struct clone_args *args, size_t size, int (*entry)(void *), void *arg);
//                        x0                       x1           x2                     x3
//
// Kernel: clone3(args, size) in x0, x1, number in x8. args->stack is the LOWEST byte of the
// child stack and args->stack_size its length; the kernel starts the child at
// sp = stack + stack_size.
//
// The child, at its first instruction (the one after `svc`):
//
//     registers                        child stack
//     x0  = 0                          +------------------------+ <- args->stack + args->stack_size
//     sp  = stack + stack_size         |   (nothing pushed)     |    = sp, 16-byte aligned
//     x5  = entry    (kept by svc)     |            |           |
//     x6  = arg      (kept by svc)     |            v           |
//     x1  = size (stale)               +------------------------+ <- args->stack (lowest byte)
//     x30 = the parent's return address     [ guard page, PROT_NONE ]
//     tpidr_el0 = parent's unless CLONE_SETTLS
//
// Above sp: nothing of clonelab's. The scoped API, which moves its Record and closure to the
// top of a Stack, makes its children with clone (see clone.s); a clone3 made with
// Stack::bottom() and Stack::size() starts at Stack::top(), where the mapping ends.
//
// Why the child must never return: as in clone.s, nobody called it. A `ret` would jump to the
// parent's return address in x30 and run the Rust caller's code on the new stack, reading its
// frame from past the stack's end. So the child continues in the shared child start code
// (clone.s), which clears x29 and x30, calls entry and ends the thread with SYS_exit.
// `{clone3}` and `{child_start}` are version-unique names substituted by the Rust side.

    .text                           // code section
    .globl  {clone3}                // visible to the Rust side
    .hidden {clone3}                // but not exported from the final binary
    .type   {clone3}, %function     // an ELF function symbol
    .p2align 4                      // align the entry to 16 bytes
{clone3}:                           // entry point
    .cfi_startproc                  // unwind info for the parent's path: nothing is pushed, x30 = return
    mov     x5, x2                  // x5 = entry, where the child start code expects it
    mov     x6, x3                  // x6 = arg
    mov     x8, #{SYS_clone3}       // x8 = __NR_clone3
    svc     #0                      // x0 = &clone_args, x1 = sizeof(clone_args)
    cbz     x0, {child_start}       // x0 = 0: we are the child
    ret                             // parent: return tid or -errno in x0
    .cfi_endproc                    // end of the parent path's unwind info
    .size   {clone3}, . - {clone3}  // symbol size, for debuggers and profilers
