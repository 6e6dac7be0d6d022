//! CLONE_FS: does the child's chdir and umask move the parent?
//!
//! Two fork-like children each run `chdir("/proc")` and `umask(027)`: one made
//! with CLONE_FS, one without. Then the parent reads its own current
//! directory and umask. Run: `cargo run --example clone_fs`.
//!
//! Expected output:
//!
//! ```text
//! with CLONE_FS (0x211): the parent's cwd is now /proc, its umask 027
//! without CLONE_FS (0x11): the parent's cwd is now /, its umask 022
//! ```

use clonelab::{spawn, sys, CloneFlags, ExitSignal, FlagsWord, WaitStatus};

/// The parent's own (cwd, umask), read back without changing them.
fn parent_fs() -> Result<(String, u32), clonelab::Error> {
    let mut buf = [0u8; 4096];
    let cwd = String::from_utf8_lossy(sys::getcwd(&mut buf)?).into_owned();
    let umask = sys::umask(0o022); // umask(2) can only be read by setting it...
    sys::umask(umask); // ...so put it back
    Ok((cwd, umask))
}

fn main() -> Result<(), clonelab::Error> {
    let mut seen = Vec::new();
    for (name, flags) in [
        ("with CLONE_FS", CloneFlags::CLONE_FS),
        ("without CLONE_FS", CloneFlags::EMPTY),
    ] {
        // Start each run from the same place: cwd "/", umask 022.
        sys::chdir(c"/")?; // c"...": a NUL-terminated C string
        sys::umask(0o022);
        let word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
        let mut child = spawn(word, || {
            sys::umask(0o027);
            sys::chdir(c"/proc").is_err() as i32
        })?;
        assert_eq!(child.wait()?, WaitStatus::Exited(0), "the child's chdir");
        let (cwd, umask) = parent_fs()?;
        let word = child.call().word.encode_clone()?;
        println!("{name} ({word:#x}): the parent's cwd is now {cwd}, its umask {umask:03o}");
        seen.push(format!("cwd {cwd}, umask {umask:03o}")); // octal, as printed
    }
    let (moved, stayed) = ("cwd /proc, umask 027", "cwd /, umask 022");
    assert_eq!(
        seen,
        [moved, stayed],
        "cwd and umask follow the child only with CLONE_FS"
    );
    Ok(())
}
