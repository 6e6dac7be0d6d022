//! Build script: refuse targets clonelab cannot support, rebuild when the
//! hand-written assembly under `arch/` changes (global_asm! pulls it in with
//! include_str!, which cargo does not track on its own for non-Rust files in
//! every version), and on ppc64le assemble that arch's `.S` files with the
//! cross gcc: Rust 1.85, the only Rust with ppc64el standard libraries here,
//! has no stable inline assembly for PowerPC (`asm!`/`global_asm!` give
//! error[E0658]), so ppc64le keeps its syscall entry and trampolines out of
//! line, the way musl does, and links them as a static library.

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
    // powerpc64 only little-endian (ELFv2): the trampolines call `entry` through r12/ctr.
    let supported = [
        ("x86_64", "64", "little"),
        ("aarch64", "64", "little"),
        ("x86", "32", "little"),
        ("arm", "32", "little"),
        ("s390x", "64", "big"),
        ("powerpc64", "64", "little"),
    ];
    let this = (arch.as_str(), pointer_width.as_str(), endian.as_str());
    if !supported.contains(&this) {
        fail(&format!(
            "clonelab has trampolines for {supported:?} only; target is `{arch}` \
             ({pointer_width}-bit, {endian}-endian). Add arch/{arch}/clone.s, clone3.s, restore.s \
             and src/arch/{arch}.rs to port it."
        ));
    }

    if arch == "powerpc64" {
        assemble_powerpc64();
    } else {
        for file in ["clone.s", "clone3.s", "restore.s"] {
            let path = format!("arch/{arch}/{file}");
            if !std::path::Path::new(&path).exists() {
                fail(&format!("missing trampoline {path}"));
            }
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=arch");
    println!("cargo:rerun-if-changed=build.rs");
    // Tell the crate which arch directory it was built from (printed by the tour).
    println!("cargo:rustc-env=CLONELAB_ARCH_DIR=arch/{arch}");
}

/// The `.S` files of arch/powerpc64/ (preprocessed, so `<asm/unistd.h>` gives
/// the syscall numbers), assembled with the cross gcc into
/// `libclonelab_powerpc64.a` in OUT_DIR and linked into the crate. No
/// restorer: the ppc64 kernel ignores `sa_restorer` (see src/arch/powerpc64.rs).
fn assemble_powerpc64() {
    let out = std::path::PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    // The same compiler the `cc` crate would pick: $CC_<target>, $TARGET_CC, then the
    // Debian cross gcc (whose headers, linux-libc-dev-ppc64el-cross, hold asm/unistd.h).
    let target = env::var("TARGET").unwrap_or_default();
    let gcc = [
        format!("CC_{}", target.replace('-', "_")),
        "TARGET_CC".into(),
    ]
    .iter()
    .find_map(|var| env::var(var).ok())
    .unwrap_or_else(|| "powerpc64le-linux-gnu-gcc".into());
    // The symbol prefix `versioned_symbol!` uses on the Rust side.
    let prefix = format!(
        "-DCLONELAB_SYMBOL_PREFIX=clonelab_{}_{}_{}_",
        env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default(),
        env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default(),
        env::var("CARGO_PKG_VERSION_PATCH").unwrap_or_default(),
    );
    let mut objects = Vec::new();
    for file in ["syscall.S", "clone.S", "clone3.S"] {
        let path = format!("arch/powerpc64/{file}");
        println!("cargo:rerun-if-changed={path}");
        let object = out.join(file.replace(".S", ".o"));
        run(std::process::Command::new(&gcc)
            .args(["-c", "-mlittle-endian", "-Wa,-mregnames", &prefix])
            .arg(&path)
            .arg("-o")
            .arg(&object));
        objects.push(object);
    }
    println!("cargo:rerun-if-changed=arch/powerpc64/symbols.h");
    check_numbers(&gcc, &out);
    let library = out.join("libclonelab_powerpc64.a");
    let _ = std::fs::remove_file(&library);
    // The binutils beside that gcc: the host's `ar` may not read ppc64 objects' symbols.
    let ar = gcc
        .strip_suffix("gcc")
        .map_or("ar".to_string(), |stem| format!("{stem}ar"));
    run(std::process::Command::new(ar)
        .arg("crs")
        .arg(&library)
        .args(&objects));
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=clonelab_powerpc64");
}

/// The numbers the `.S` files take from the cross headers' `<asm/unistd.h>`,
/// written as compile-time assertions against linux-raw-sys's (the numbers the
/// Rust side uses): `src/arch/powerpc64.rs` includes them, so a mismatch does
/// not compile.
fn check_numbers(gcc: &str, out: &std::path::Path) {
    use std::io::Write;
    let names = ["clone", "clone3", "exit"];
    let mut child = std::process::Command::new(gcc)
        .args(["-E", "-P", "-x", "assembler-with-cpp", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("{gcc}: {e}")));
    let mut input = String::from("#include <asm/unistd.h>\n");
    for name in names {
        input.push_str(&format!("{name} __NR_{name}\n"));
    }
    let _ = child
        .stdin
        .take()
        .map(|mut s| s.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| fail(&format!("{gcc} -E: {e}")));
    let text = String::from_utf8_lossy(&output.stdout);
    let mut rust = String::from(
        "// Generated by build.rs: the numbers arch/powerpc64/*.S take from <asm/unistd.h>.\n",
    );
    for line in text.lines() {
        if let Some((name, number)) = line.split_once(' ') {
            if !names.contains(&name) || number.parse::<u32>().is_err() {
                fail(&format!("<asm/unistd.h> gave `{line}`"));
            }
            rust.push_str(&format!(
                "const _: () = assert!(linux_raw_sys::general::__NR_{name} == {number}, \
                 \"<asm/unistd.h> and linux-raw-sys disagree on __NR_{name}\");\n"
            ));
        }
    }
    if rust.lines().count() != names.len() + 1 {
        fail(&format!("<asm/unistd.h> did not give {names:?}: {text}"));
    }
    std::fs::write(out.join("unistd_check.rs"), rust)
        .unwrap_or_else(|e| fail(&format!("unistd_check.rs: {e}")));
}

fn run(command: &mut std::process::Command) {
    match command.status() {
        Ok(status) if status.success() => {}
        other => fail(&format!("{command:?}: {other:?}")),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
