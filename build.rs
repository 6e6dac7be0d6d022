//! Build script: refuse targets clonelab cannot support, and rebuild when the
//! hand-written assembly under `arch/` changes (global_asm! pulls it in with
//! include_str!, which cargo does not track on its own for non-Rust files in
//! every version).

use std::env;

fn main() {
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let pointer_width = env::var("CARGO_CFG_TARGET_POINTER_WIDTH").unwrap_or_default();

    if os != "linux" {
        fail(&format!(
            "clonelab issues Linux system calls directly; target OS `{os}` is not Linux"
        ));
    }
    let endian = env::var("CARGO_CFG_TARGET_ENDIAN").unwrap_or_default();
    // (target_arch, pointer width, byte order): the arches with trampolines under arch/<arch>/.
    // Not powerpc64 (yet): Rust 1.85, the only one with ppc64el rlibs here, has no stable
    // inline assembly for PowerPC.
    let supported = [
        ("x86_64", "64", "little"),
        ("aarch64", "64", "little"),
        ("x86", "32", "little"),
        ("arm", "32", "little"),
        ("s390x", "64", "big"),
    ];
    let this = (arch.as_str(), pointer_width.as_str(), endian.as_str());
    if !supported.contains(&this) {
        fail(&format!(
            "clonelab has trampolines for {supported:?} only; target is `{arch}` \
             ({pointer_width}-bit, {endian}-endian). Add arch/{arch}/clone.s, clone3.s, restore.s \
             and src/arch/{arch}.rs to port it."
        ));
    }

    for file in ["clone.s", "clone3.s", "restore.s"] {
        let path = format!("arch/{arch}/{file}");
        if !std::path::Path::new(&path).exists() {
            fail(&format!("missing trampoline {path}"));
        }
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-changed=arch");
    println!("cargo:rerun-if-changed=build.rs");
    // Tell the crate which arch directory it was built from (printed by the tour).
    println!("cargo:rustc-env=CLONELAB_ARCH_DIR=arch/{arch}");
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
