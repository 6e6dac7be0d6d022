@ clonelab_clone3: the clone3(2) trampoline for armhf (A32, unified syntax).
@
@ C signature (AAPCS):
@   long clone3(struct clone_args *args, size_t size, int (*entry)(void *), void *arg);
@               r0                       r1           r2                    r3
@
@ Kernel: clone3(args, size) in r0, r1, number in r7. Everything else is in `struct clone_args`
@ (64-bit fields even here): args->stack is the LOWEST byte of the child stack and
@ args->stack_size its length; the kernel starts the child at sp = stack + stack_size.
@
@ The child, at its first instruction (the one after `svc`):
@
@     registers                        child stack
@     r0  = 0                          +------------------------+ <- args->stack + args->stack_size
@     sp  = stack + stack_size         |   (nothing pushed)     |    = sp
@     r5  = entry    (kept by svc)     |            |           |
@     r6  = arg      (kept by svc)     |            v           |
@     r1  = size (stale)               +------------------------+ <- args->stack (lowest byte)
@     lr  = the parent's return address     [ guard page, PROT_NONE ]
@     TPIDRURO = parent's unless CLONE_SETTLS
@
@ Above sp: nothing of clonelab's. The scoped API, which moves its Record and closure to the
@ top of a Stack, makes its children with clone (see clone.s); a clone3 made with
@ Stack::bottom() and Stack::size() starts at Stack::top(), where the mapping ends.
@
@ Why the child must never return: as in clone.s, nobody called it. The parent's path (`pop`
@ into r5, r6, r7 and pc) would take the registers and the address to return to from past
@ the end of the stack. So the child continues in the shared child start code (clone.s),
@ which clears r11 and lr, calls entry and ends the thread with SYS_exit.
@ `{clone3}` and `{child_start}` are version-unique names substituted by the Rust side.

    .text                           @ code section
    .globl  {clone3}                @ visible to the Rust side
    .hidden {clone3}                @ but not exported from the final binary
    .type   {clone3}, %function     @ an ELF function symbol
    .p2align 4                      @ align the entry to 16 bytes
{clone3}:                           @ entry point
    .fnstart                        @ unwind info for the parent's path
    push    {{r5, r6, r7, lr}}      @ save the callee-saved registers we borrow (lr: keeps 8-byte alignment)
    .save   {{r5, r6, r7, lr}}      @ unwind info: where they are
    mov     r5, r2                  @ r5 = entry, where the child start code expects it
    mov     r6, r3                  @ r6 = arg
    movw    r7, #{SYS_clone3}       @ r7 = __NR_clone3 (movw: 435 is no 8-bit rotated immediate)
    svc     #0                      @ r0 = &clone_args, r1 = sizeof(clone_args)
    cmp     r0, #0                  @ r0 = 0 in the child, tid or -errno in the parent
    beq     {child_start}           @ child: call entry(arg), then exit
    pop     {{r5, r6, r7, pc}}      @ parent: restore and return tid or -errno in r0
    .fnend                          @ end of the parent path's unwind info
    .size   {clone3}, . - {clone3}  @ symbol size, for debuggers and profilers
