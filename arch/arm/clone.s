@ clonelab_clone: the clone(2) trampoline for armhf (A32, unified syntax; `@` starts a comment).
@
@ C signature (AAPCS: four arguments in r0..r3, the rest on the stack):
@   long clone(unsigned long flags, void *stack, int *parent_tid, int *child_tid,
@              r0                   r1           r2               r3
@              unsigned long tls, int (*entry)(void *), void *arg);
@              [sp]               [sp+4]                [sp+8]
@
@ Kernel order on arm (CONFIG_CLONE_BACKWARDS): clone(flags, stack, parent_tid, tls, child_tid)
@ in r0..r4, number in r7 (EABI). `tls` becomes the child's TPIDRURO. tls and child_tid are
@ swapped relative to x86_64, as on aarch64, i386 and ppc64le: see the `mov r4, r3` and
@ `ldr r3` below.
@
@ The child, at its first instruction (the one after `svc`), as the scoped API makes it
@ (Scope::spawn, src/spawn/scope.rs). That API moves two things to the top of the child's
@ Stack and passes as `stack` the first 16-byte boundary below them:
@
@     registers                          the child's Stack
@                                        +----------------------------+ <- Stack::top(), page-aligned
@     r0  = 0       (the only way it     | Record: the scope's        |    size_of Record bytes,
@                    knows it is the     | bookkeeping. arg points at |    aligned to its alignment
@                    child)              | its ChildShared part, the  |
@     sp  = stack   (as passed)          | tid word (&tid) is in it   |
@     r5  = entry   (kept by svc)        +----------------------------+
@     r6  = arg     (kept by svc)        | the closure, moved here by |    size_of F bytes, aligned
@     r1..r4 = the other clone           | value; entry reads it once |    to align_of F, just below
@              arguments (kept)          +----------------------------+    the Record
@     r11 (fp) = the parent's            | 0 to 15 bytes of padding   |
@     lr  = the parent's return address  +----------------------------+ <- stack = sp: the closure's
@           (both cleared next)          |   free: the child's frames |    address rounded down to 16
@     TPIDRURO = 0 (the scoped API sets  |   grow down from here      |
@           CLONE_SETTLS with tls = 0)   +----------------------------+ <- Stack::bottom()
@                                          [ guard page, PROT_NONE ]
@
@ A bare clone(..., Stack::top(), ...) has nothing of clonelab's above sp: the mapping ends
@ there. With stack = 0 (fork-like) sp is the parent's, in the child's copy of its memory.
@
@ `svc` preserves every register but r0, and the child gets a copy of them all, so entry and
@ arg ride in r5 and r6 (callee-saved: the parent path restores them) and never touch the
@ child stack. Works with stack = 0 (fork-like) too.
@
@ Why the child must never return: nobody called it. lr still holds the parent's return
@ address, into the Rust function that called this one, whose frame lives on the parent's
@ stack. The parent's path (`pop` four registers, then `bx lr`) would load r4..r7 from the 16
@ bytes above `stack` (on the scoped path the padding, the closure and the Record; after a
@ bare Stack::top(), the bytes past the mapping's end) and then run the Rust caller's code
@ with sp on the new stack, reading its frame from there too. So the child branches to
@ child_start below, which clears r11 and lr, calls entry and ends the thread with SYS_exit;
@ `udf` traps if SYS_exit ever came back. (With stack = 0 the parent's path would even "work":
@ the child would return 0 to the Rust caller, which would take it for a tid.)
@
@ Unwind info is ARM EHABI (.fnstart/.save/.fnend, in .ARM.exidx), not DWARF CFI.
@ `{clone}` and `{child_start}` are version-unique names substituted by the Rust side.

    .text                           @ code section
    .globl  {clone}                 @ visible to the Rust side
    .hidden {clone}                 @ but not exported from the final binary
    .type   {clone}, %function      @ an ELF function symbol (so calls interwork)
    .p2align 4                      @ align the entry to 16 bytes
{clone}:                            @ entry point
    .fnstart                        @ unwind info for the parent's path
    push    {{r4, r5, r6, r7}}      @ save the callee-saved registers we borrow
    .save   {{r4, r5, r6, r7}}      @ unwind info: where they are
    ldr     r5, [sp, #20]           @ r5 = entry (6th argument, above the 16 pushed bytes)
    ldr     r6, [sp, #24]           @ r6 = arg (7th)
    mov     r4, r3                  @ r4 = child_tid: arm clone takes child_tid 5th
    ldr     r3, [sp, #16]           @ r3 = tls (5th argument): and tls 4th
    mov     r7, #{SYS_clone}        @ r7 = __NR_clone
    svc     #0                      @ r0 flags, r1 stack, r2 parent_tid, r3 tls, r4 child_tid
    cmp     r0, #0                  @ r0 = 0 in the child, tid or -errno in the parent
    beq     {child_start}           @ child: leave this frame for good
    pop     {{r4, r5, r6, r7}}      @ parent: restore the borrowed registers
    bx      lr                      @ parent: return tid or -errno in r0
    .fnend                          @ end of the parent path's unwind info
    .size   {clone}, . - {clone}    @ symbol size, for debuggers and profilers

@ The child's first frame, shared with clone3.s. Expects entry in r5 and arg in r6.
    .globl  {child_start}           @ visible to clone3.s
    .hidden {child_start}           @ but not exported from the final binary
    .type   {child_start}, %function @ an ELF function symbol
    .p2align 4                      @ align the entry to 16 bytes
{child_start}:                      @ the child starts here
    .fnstart                        @ begin unwind info for the child's first frame
    .personality {personality}      @ a panic unwinding up to here stops here: see child_personality_ehabi
    mov     r11, #0                 @ frame pointer 0: frame-pointer walkers stop here
    mov     lr, #0                  @ link register 0: there is nowhere to return to
    mov     r12, sp                 @ r12 = sp, to align it
    bic     r12, r12, #15           @ round down to 16 bytes (AAPCS wants 8 at calls)
    mov     sp, r12                 @ sp aligned
    mov     r0, r6                  @ r0 = arg
    blx     r5                      @ r0 = entry(arg)
    mov     r7, #{SYS_exit}         @ r7 = __NR_exit: ends this thread only, never exit_group
    svc     #0                      @ r0 = exit status = entry's return value; the child ends here
    udf     #0                      @ unreachable: trap if it ever returns
    .fnend                          @ end unwind info
    .size   {child_start}, . - {child_start} @ symbol size, for debuggers and profilers
