//! Running a program with a time limit, its output captured.
//!
//! Used for the examples (`examples`) and for the browser (`book`): the
//! program runs in a process group of its own, so that when it runs past its
//! limit the whole group — the program and whatever it started — is killed,
//! and a hang fails instead of blocking `cargo xtask test`.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a timed run did.
pub struct Ran {
    /// None: it ran past its limit and was killed.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    /// Something of the program's (a child it left behind) still held its
    /// output open after it exited; the group was killed.
    pub lingered: bool,
}

/// Run `cmd` (stdin empty, stdout and stderr captured) for at most `limit`.
pub fn run(cmd: &mut Command, limit: Duration) -> Result<Ran, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let group = child.id();
    let (tx, rx) = mpsc::channel::<(bool, String)>();
    let pipes: [(bool, Box<dyn Read + Send>); 2] = [
        (true, Box::new(child.stdout.take().expect("piped"))),
        (false, Box::new(child.stderr.take().expect("piped"))),
    ];
    for (is_stdout, mut pipe) in pipes {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send((is_stdout, String::from_utf8_lossy(&bytes).into_owned()));
        });
    }
    drop(tx);
    let start = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break Some(status),
            None if start.elapsed() >= limit => {
                kill_group(group);
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    // The pipes close when the last process holding them ends: at once,
    // unless the program left a child behind.
    let mut ran = Ran {
        status,
        stdout: String::new(),
        stderr: String::new(),
        lingered: false,
    };
    let mut pending = 2;
    let grace = Duration::from_secs(2);
    let mut deadline = Instant::now() + grace;
    while pending > 0 {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((true, text)) => (ran.stdout, pending) = (text, pending - 1),
            Ok((false, text)) => (ran.stderr, pending) = (text, pending - 1),
            Err(mpsc::RecvTimeoutError::Timeout) if !ran.lingered => {
                ran.lingered = true;
                kill_group(group);
                deadline = Instant::now() + grace;
            }
            Err(_) => break,
        }
    }
    Ok(ran)
}

/// SIGKILL to every process of the group `group` (xtask has no libc: kill(1)).
fn kill_group(group: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
}
