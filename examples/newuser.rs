//! CLONE_NEWUSER: who is a child in a user namespace of its own?
//!
//! The child is born in a new user namespace and the parent writes its uid
//! map. Then the child, root inside, sets the hostname twice: in our UTS
//! namespace, and in one it makes. Run: `cargo run --example newuser`.
//!
//! Expected output:
//!
//! ```text
//! the parent's /proc/self/ns/user: user:[…]
//! the child's /proc/…/ns/user: user:[…]
//! the child's uid before the map: …
//! the parent wrote "0 … 1" to /proc/…/uid_map
//! the child's uid after the map: 0
//! sethostname in the parent's UTS namespace: EPERM (Operation not permitted)
//! sethostname after unshare(CLONE_NEWUTS): ok
//! ```

use clonelab::sys::{self, consts::O_CLOEXEC, BorrowedFd};
use clonelab::{probe, spawn, CloneFlags as F, Errno, Error, ExitSignal, FlagsWord, WaitStatus};

fn errno_or_0<E: Into<Error>>(result: Result<(), E>) -> i32 {
    result.map_or_else(|e| e.into().errno().map_or(-1, Errno::raw), |()| 0)
}

fn send(fd: BorrowedFd, value: i32) {
    let _ = sys::write(fd, &value.to_ne_bytes());
}

fn recv(fd: BorrowedFd) -> i32 {
    let mut bytes = [0; 4];
    assert_eq!(sys::read(fd, &mut bytes), Ok(4), "the child did not answer");
    i32::from_ne_bytes(bytes)
}

fn main() {
    let ((go_rd, go_wr), (rd, wr)) = (sys::pipe(O_CLOEXEC).unwrap(), sys::pipe(O_CLOEXEC).unwrap());
    let name = probe::hostname(&mut [0; 65]).unwrap().to_vec();
    let word = FlagsWord::new(F::CLONE_NEWUSER, ExitSignal::SIGCHLD);
    let spawned = spawn(word, || {
        send(wr.as_fd(), sys::getuid() as i32);
        recv(go_rd.as_fd()); // wait until the parent has written the map
        send(wr.as_fd(), sys::getuid() as i32);
        send(wr.as_fd(), errno_or_0(sys::sethostname(&name))); // same name: harmless
        let made = sys::unshare(F::CLONE_NEWUTS).and_then(|()| Ok(sys::sethostname(b"x")?));
        send(wr.as_fd(), errno_or_0(made));
        0
    });
    let mut child = match spawned {
        Err(e) if e.errno() == Some(Errno::EPERM) => return println!("skipped: {e}"),
        other => other.unwrap(),
    };
    let dir = format!("/proc/{}", child.pid());
    let ns = |dir: &str| std::fs::read_link(format!("{dir}/ns/user"));
    let (ours, theirs) = (ns("/proc/self"), ns(&dir));
    let before = recv(rd.as_fd());
    let map = format!("0 {} 1", sys::geteuid()); // inside uid 0 = our euid, a range of 1
    let wrote = std::fs::write(format!("{dir}/uid_map"), &map);
    send(go_wr.as_fd(), 1); // whatever happened: the child must not wait for ever
    let [after, born_in, made] = [0; 3].map(|_| recv(rd.as_fd()));
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
    let (ours, theirs, ()) = (ours.unwrap(), theirs.unwrap(), wrote.unwrap());
    if sys::geteuid() != 0 && made != 0 {
        return println!("skipped: no capabilities in an unprivileged user's namespace here");
    }
    let said = |c: i32| match c {
        0 => "ok".to_string(),
        e => Errno::from_raw(e as u16).to_string(),
    };
    println!("the parent's /proc/self/ns/user: {}", ours.display());
    println!("the child's {dir}/ns/user: {}", theirs.display());
    println!("the child's uid before the map: {before}");
    println!("the parent wrote \"{map}\" to {dir}/uid_map");
    println!("the child's uid after the map: {after}");
    let (born_in_text, made_text) = (said(born_in), said(made));
    println!("sethostname in the parent's UTS namespace: {born_in_text}");
    println!("sethostname after unshare(CLONE_NEWUTS): {made_text}");
    assert_ne!(ours, theirs);
    assert_eq!((after, born_in, made), (0, Errno::EPERM.raw(), 0));
}
