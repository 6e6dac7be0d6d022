//! The spawn+exec family: start a tiny static program (a 3-instruction ELF
//! for this arch, written here: [`Program`]) and reap it — clonelab's
//! CLONE_VM|CLONE_VFORK child and `execve`, against libc's fork + execve,
//! `posix_spawn` and `std::process::Command`. Every exit status is checked.
//!
//! Part of `benches/clone/`; `main.rs` makes the program once and measures
//! [`paths`] through the growth helpers. Uses clonelab's public API, libc,
//! and std.

use super::harness::{exited_0, path, waitpid_ok, Growth, Path, SIGCHLD};
use clonelab::flags::{CloneFlags as F, FlagsWord};
use clonelab::{scope, sys, Stack};
use std::ffi::{c_char, CString};

/// A minimal static ELF for this arch that calls exit(0), written to a temporary
/// file, with the argv and envp to exec it.
pub struct Program {
    pub path: std::path::PathBuf,
    pub cpath: CString,
    pub argv: [*const c_char; 2],
    pub envp: [*const c_char; 1],
}

impl Program {
    pub fn new() -> Program {
        #[cfg(target_arch = "x86_64")]
        let (machine, code): (u16, &[u8]) = (
            62,
            &[
                0xb8, 0x3c, 0, 0, 0, // mov eax, 60 (exit)
                0x31, 0xff, // xor edi, edi
                0x0f, 0x05, // syscall
            ],
        );
        #[cfg(target_arch = "aarch64")]
        let (machine, code): (u16, &[u8]) = (
            183,
            &[
                0x00, 0x00, 0x80, 0xd2, // mov x0, #0
                0xa8, 0x0b, 0x80, 0xd2, // mov x8, #93 (exit)
                0x01, 0x00, 0x00, 0xd4, // svc #0
            ],
        );
        let base: u64 = 0x400000;
        let entry = base + 64 + 56;
        let size = (64 + 56 + code.len()) as u64;
        let mut elf = Vec::new();
        elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        elf.extend_from_slice(&machine.to_le_bytes());
        elf.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
        elf.extend_from_slice(&entry.to_le_bytes());
        elf.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
        elf.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        for v in [64u16, 56, 1, 64, 0, 0] {
            elf.extend_from_slice(&v.to_le_bytes()); // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
        }
        elf.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        elf.extend_from_slice(&5u32.to_le_bytes()); // R | X
        for v in [0u64, base, base, size, size, 0x1000] {
            elf.extend_from_slice(&v.to_le_bytes()); // offset, vaddr, paddr, filesz, memsz, align
        }
        elf.extend_from_slice(code);
        let path = std::env::temp_dir().join(format!("clonelab-true-{}", std::process::id()));
        std::fs::write(&path, &elf).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let cpath = CString::new(path.to_str().unwrap()).unwrap();
        let mut program = Program {
            path,
            cpath,
            argv: [std::ptr::null(); 2],
            envp: [std::ptr::null()],
        };
        program.argv[0] = program.cpath.as_ptr(); // the CString's heap buffer does not move
        assert!(
            std::process::Command::new(&program.path)
                .status()
                .unwrap()
                .success(),
            "the tiny program must run"
        );
        program
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Every spawn+exec path, each running `program`.
pub fn paths(program: &Program) -> Vec<Path<'_>> {
    let se = "spawn+exec";
    let mut paths = Vec::new();
    // The vfork-style child borrows these through plain addresses (Send).
    let (cpath, argv, envp) = (&program.cpath, &program.argv, &program.envp);
    let (argv_at, envp_at) = (argv.as_ptr() as usize, envp.as_ptr() as usize);
    let vfork = FlagsWord::new(F::CLONE_VM | F::CLONE_VFORK, SIGCHLD);
    let mut stack = Stack::new(64 * 1024).unwrap();
    paths.push(path(
        se,
        "clonelab CLONE_VM|CLONE_VFORK + execve",
        Growth::Shares,
        move || {
            let exec = || {
                // SAFETY: NULL-terminated argv/envp that outlive the scope.
                unsafe { sys::execve(cpath, argv_at as *const _, envp_at as *const _) };
                127
            };
            exited_0(scope(|s| {
                // SAFETY: the child makes one raw execve: no TLS.
                let child = unsafe { s.spawn(&mut stack, vfork, exec) };
                child.unwrap().join().unwrap()
            }))
        },
    ));
    paths.push(path(se, "libc::fork + execve", Growth::Copies, move || {
        // SAFETY: the child only calls execve and, if that fails, _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: NULL-terminated argv/envp; async-signal-safe calls only.
            unsafe {
                libc::execve(cpath.as_ptr(), argv.as_ptr(), envp.as_ptr());
                libc::_exit(127);
            }
        }
        waitpid_ok(pid);
    }));
    paths.push(path(se, "posix_spawn", Growth::Shares, move || {
        let mut pid = 0;
        // SAFETY: valid path and NULL-terminated argv/envp; pid is reaped below.
        let err = unsafe {
            libc::posix_spawn(
                &mut pid,
                cpath.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                argv.as_ptr() as *const *mut _,
                envp.as_ptr() as *const *mut _,
            )
        };
        assert_eq!(err, 0);
        waitpid_ok(pid);
    }));
    let program_path = &program.path;
    paths.push(path(
        se,
        "std::process::Command",
        Growth::Shares,
        move || {
            assert!(std::process::Command::new(program_path)
                .status()
                .unwrap()
                .success())
        },
    ));
    paths
}
