//! The architectures the suite runs on, and every per-arch fact the xtask
//! needs about them in one place: Rust target, Debian architecture, cross
//! linker, QEMU binary, kernel package, and which compiler builds them.
//!
//! Used by `provision` (packages, toolchains, kernels) and `vm` (building,
//! booting). Nothing here runs a command.

/// One architecture of a VM run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arch {
    Aarch64,
    X86_64,
    /// 32-bit x86 binaries, run inside the x86_64 VM (IA32 emulation).
    I386,
    /// 32-bit ARM, hard-float EABI.
    Armhf,
    Ppc64le,
    S390x,
}

/// Which rustc builds an arch.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Compiler {
    /// rustup's (it has only the x86_64 target here).
    Rustup,
    /// Debian's installed `rustc-web` (bookworm-security, with arm64 rlibs).
    DebianInstalled,
    /// Debian main's `rustc-web` 1.85, unpacked into `target/` beside the
    /// installed one (the only release with rlibs for these arches here).
    Debian185,
}

impl Arch {
    /// Every arch, in the order `cargo xtask test` runs them.
    pub const ALL: [Arch; 6] = [
        Arch::Aarch64,
        Arch::X86_64,
        Arch::I386,
        Arch::Armhf,
        Arch::Ppc64le,
        Arch::S390x,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Arch::Aarch64 => "aarch64",
            Arch::X86_64 => "x86_64",
            Arch::I386 => "i386",
            Arch::Armhf => "armhf",
            Arch::Ppc64le => "ppc64le",
            Arch::S390x => "s390x",
        }
    }

    pub fn target(self) -> &'static str {
        match self {
            Arch::Aarch64 => "aarch64-unknown-linux-gnu",
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::I386 => "i686-unknown-linux-gnu",
            Arch::Armhf => "armv7-unknown-linux-gnueabihf",
            Arch::Ppc64le => "powerpc64le-unknown-linux-gnu",
            Arch::S390x => "s390x-unknown-linux-gnu",
        }
    }

    pub fn parse(s: &str) -> Option<Arch> {
        match s {
            "aarch64" | "arm64" => Some(Arch::Aarch64),
            "x86_64" | "amd64" => Some(Arch::X86_64),
            "i386" | "i686" | "x86" => Some(Arch::I386),
            "armhf" | "arm" | "armv7" => Some(Arch::Armhf),
            "ppc64le" | "ppc64el" | "powerpc64le" => Some(Arch::Ppc64le),
            "s390x" => Some(Arch::S390x),
            _ => None,
        }
    }

    /// Debian's name for the architecture (`dpkg --print-architecture`).
    pub fn deb_arch(self) -> &'static str {
        match self {
            Arch::Aarch64 => "arm64",
            Arch::X86_64 => "amd64",
            Arch::I386 => "i386",
            Arch::Armhf => "armhf",
            Arch::Ppc64le => "ppc64el",
            Arch::S390x => "s390x",
        }
    }

    pub fn compiler(self) -> Compiler {
        match self {
            Arch::X86_64 => Compiler::Rustup,
            Arch::Aarch64 => Compiler::DebianInstalled,
            _ => Compiler::Debian185,
        }
    }

    /// The cross linker (a gcc driver, so the libc of the matching
    /// `libc6-dev-*-cross` is found), or None for the host's own.
    pub fn linker(self) -> Option<&'static str> {
        match self {
            Arch::X86_64 => None,
            Arch::Aarch64 => Some("aarch64-linux-gnu-gcc"),
            Arch::I386 => Some("i686-linux-gnu-gcc"),
            Arch::Armhf => Some("arm-linux-gnueabihf-gcc"),
            Arch::Ppc64le => Some("powerpc64le-linux-gnu-gcc"),
            Arch::S390x => Some("s390x-linux-gnu-gcc"),
        }
    }

    /// Debian packages of the cross linker and its C library, with a file each provides.
    pub fn cross_packages(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Arch::X86_64 => &[],
            Arch::Aarch64 => &[
                ("gcc-aarch64-linux-gnu", "/usr/bin/aarch64-linux-gnu-gcc"),
                ("libc6-dev-arm64-cross", "/usr/aarch64-linux-gnu/lib/crt1.o"),
            ],
            Arch::I386 => &[
                ("gcc-i686-linux-gnu", "/usr/bin/i686-linux-gnu-gcc"),
                ("libc6-dev-i386-cross", "/usr/i686-linux-gnu/lib/crt1.o"),
            ],
            Arch::Armhf => &[
                (
                    "gcc-arm-linux-gnueabihf",
                    "/usr/bin/arm-linux-gnueabihf-gcc",
                ),
                (
                    "libc6-dev-armhf-cross",
                    "/usr/arm-linux-gnueabihf/lib/crt1.o",
                ),
            ],
            Arch::Ppc64le => &[
                (
                    "gcc-powerpc64le-linux-gnu",
                    "/usr/bin/powerpc64le-linux-gnu-gcc",
                ),
                (
                    "libc6-dev-ppc64el-cross",
                    "/usr/powerpc64le-linux-gnu/lib/crt1.o",
                ),
            ],
            Arch::S390x => &[
                ("gcc-s390x-linux-gnu", "/usr/bin/s390x-linux-gnu-gcc"),
                ("libc6-dev-s390x-cross", "/usr/s390x-linux-gnu/lib/crt1.o"),
            ],
        }
    }

    /// The qemu-system binary and the Debian package that has it.
    pub fn qemu(self) -> (&'static str, &'static str) {
        match self {
            Arch::Aarch64 => ("qemu-system-aarch64", "qemu-system-arm"),
            Arch::X86_64 | Arch::I386 => ("qemu-system-x86_64", "qemu-system-x86"),
            Arch::Armhf => ("qemu-system-arm", "qemu-system-arm"),
            Arch::Ppc64le => ("qemu-system-ppc64", "qemu-system-ppc"),
            Arch::S390x => ("qemu-system-s390x", "qemu-system-misc"),
        }
    }

    /// The arch whose kernel boots this one (i386 runs on the amd64 kernel).
    pub fn kernel_arch(self) -> Arch {
        match self {
            Arch::I386 => Arch::X86_64,
            other => other,
        }
    }

    /// Debian's kernel metapackage and the image inside the versioned
    /// package (`{}` stands for the version).
    pub fn kernel_package(self) -> (&'static str, &'static str) {
        match self.kernel_arch() {
            Arch::Aarch64 => ("linux-image-arm64:arm64", "vmlinuz-{}"),
            Arch::Armhf => ("linux-image-armmp:armhf", "vmlinuz-{}"),
            Arch::Ppc64le => ("linux-image-powerpc64le:ppc64el", "vmlinux-{}"),
            Arch::S390x => ("linux-image-s390x:s390x", "vmlinuz-{}"),
            _ => ("linux-image-amd64", "vmlinuz-{}"),
        }
    }

    /// Environment variable that names a kernel image to use instead of Debian's.
    pub fn kernel_env_var(self) -> &'static str {
        match self.kernel_arch() {
            Arch::Aarch64 => "CLONELAB_KERNEL_AARCH64",
            Arch::Armhf => "CLONELAB_KERNEL_ARMHF",
            Arch::Ppc64le => "CLONELAB_KERNEL_PPC64LE",
            Arch::S390x => "CLONELAB_KERNEL_S390X",
            _ => "CLONELAB_KERNEL_X86_64",
        }
    }
}
