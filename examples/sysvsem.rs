//! CLONE_SYSVSEM: when is a SEM_UNDO adjustment undone?
//!
//! A child adds 1 to a System V semaphore with SEM_UNDO and exits. Its parent
//! (a child of ours) reads the semaphore, exits with the value it read as its
//! status, and we read the semaphore once more. Once with CLONE_SYSVSEM
//! between child and parent (one undo list), once without.
//! Run: `cargo run --example sysvsem`.
//!
//! Expected output:
//!
//! ```text
//! with CLONE_SYSVSEM:    after the child's exit the parent reads 1; after the parent's exit we read 0
//! without CLONE_SYSVSEM: after the child's exit the parent reads 0; after the parent's exit we read 0
//! ```

use clonelab::arch::{syscall3, syscall4};
use clonelab::errno::decode;
use clonelab::linux_raw_sys::general as k;
use clonelab::{spawn, CloneFlags, Errno, ExitSignal, FlagsWord, WaitStatus::Exited};

// From <linux/ipc.h> and <linux/sem.h>, which linux-raw-sys does not carry.
const IPC_PRIVATE: usize = 0;
const IPC_CREAT: usize = 0o1000;
const IPC_RMID: usize = 0;
const GETVAL: usize = 12;
const SEM_UNDO: i16 = 0x1000;
// semop(id, ops, n) is semtimedop(id, ops, n, NULL): i386 has only the time64 one.
#[cfg(target_arch = "x86")]
const NR_SEMTIMEDOP: u32 = k::__NR_semtimedop_time64;
#[cfg(not(target_arch = "x86"))]
const NR_SEMTIMEDOP: u32 = k::__NR_semtimedop;

/// `semctl(id, 0, cmd)` for GETVAL (the value of semaphore 0) and IPC_RMID.
fn semctl(id: usize, cmd: usize) -> Result<usize, Errno> {
    // SAFETY: neither command takes a pointer.
    decode(unsafe { syscall4(k::__NR_semctl, id, 0, cmd, 0) })
}

/// Add 1 to semaphore 0, with SEM_UNDO: -1 is noted in our undo list.
fn up_with_undo(id: usize) -> Result<usize, Errno> {
    // struct sembuf { sem_num, sem_op, sem_flg }: semaphore 0, +1, SEM_UNDO.
    let op: [i16; 3] = [0, 1, SEM_UNDO];
    // SAFETY: `op` is one struct sembuf; the timeout is NULL.
    decode(unsafe { syscall4(NR_SEMTIMEDOP, id, op.as_ptr() as usize, 1, 0) })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let word = |flags| FlagsWord::new(flags, ExitSignal::SIGCHLD);
    for (name, flags, parent_reads) in [
        ("with CLONE_SYSVSEM:   ", CloneFlags::CLONE_SYSVSEM, 1),
        ("without CLONE_SYSVSEM:", CloneFlags::EMPTY, 0),
    ] {
        // SAFETY: no pointers. A new set of one semaphore, at 0.
        let id = decode(unsafe { syscall3(k::__NR_semget, IPC_PRIVATE, 1, IPC_CREAT | 0o600) })?;
        // The parent: shares nothing with us; its child shares its undo list if `flags` says so.
        let mut parent = spawn(word(CloneFlags::EMPTY), || {
            let child = spawn(word(flags), || up_with_undo(id).is_err() as i32);
            match child.and_then(|mut c| c.wait()) {
                Ok(Exited(0)) => semctl(id, GETVAL).map_or(100, |v| v as i32),
                _ => 101,
            }
        })?;
        let parent_status = parent.wait()?; // Exited(the value it read)
        let we_read = semctl(id, GETVAL)?;
        semctl(id, IPC_RMID)?;
        let Exited(read) = parent_status else {
            panic!("{parent_status:?}")
        };
        println!("{name} after the child's exit the parent reads {read}; after the parent's exit we read {we_read}");
        assert_eq!((read, we_read), (parent_reads, 0));
    }
    Ok(())
}
