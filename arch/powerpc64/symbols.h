/* Symbol names shared by the ppc64le assembly files (included by each .S).
 *
 * build.rs passes -DCLONELAB_SYMBOL_PREFIX=clonelab_<major>_<minor>_<patch>_ so that every
 * name carries the crate's version, as `versioned_symbol!` does for the Rust side; two
 * versions of clonelab linked into one program then keep their own entry points. */

#ifndef CLONELAB_SYMBOL_PREFIX
#error "build.rs passes -DCLONELAB_SYMBOL_PREFIX=clonelab_<version>_"
#endif

#define CLONELAB_PASTE2(a, b) a##b
#define CLONELAB_PASTE(a, b) CLONELAB_PASTE2(a, b)
/* SYM(clone) -> clonelab_0_1_0_clone */
#define SYM(name) CLONELAB_PASTE(CLONELAB_SYMBOL_PREFIX, name)

/* The ELF function boilerplate every entry point opens with. */
#define FUNCTION(name)                                                                         \
    .globl  name;                   /* visible to the Rust side */                             \
    .hidden name;                   /* but not exported from the final binary */               \
    .type   name, @function;        /* an ELF function symbol */                               \
    .p2align 4;                     /* align the entry to 16 bytes */                          \
name:                               /* entry point */

#define END(name) .size name, . - name /* symbol size, for debuggers and profilers */
