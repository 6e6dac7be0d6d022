//! Container start, start to exit: `clonelab container -- /bin/true` against
//! `unshare(1)`, bubblewrap and crun, each told to make as nearly the same
//! isolation as it can (the PID, mount, network, UTS, IPC and cgroup
//! namespaces; a read-only view of the host's system directories; `/proc`,
//! `/dev`, `/tmp`), each run as a command from this process and reaped: the
//! time from `fork` to the reap of the tool's process.
//!
//! Each peer is tried once before the rounds; one that is absent or fails is
//! left out with an `M skip <path> <reason>` record and a printed line. crun
//! refuses a cgroup v1/v2 hybrid host whose v2 hierarchy has any controller
//! (`cgroups in hybrid mode not supported`, whatever its cgroup manager):
//! there it runs in a mount namespace made once, before the rounds, in which
//! a tmpfs hides `/sys/fs/cgroup/unified`, so crun sees a v1-only host; it
//! enters that namespace with `setns` between its fork and its exec, so
//! nothing is added to its time but that one call. An `M note <path>`
//! record says so.
//!
//! Part of `benches/clone/`; `main.rs` measures [`paths`]. Uses libc
//! (fork, setns, mount: a helper child and the commands' pre-exec hook) and
//! std's `Command`.

use super::harness::{path, Growth, Path};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

const GROUP: &str = "container start";
/// The system directories every tool bind-mounts read-only, as `clonelab
/// container` does by default.
const SYSTEM_DIRS: &[&str] = &["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc"];
/// What every tool makes the container run.
const PROGRAM: &str = "/bin/true";

pub const CLONELAB: &str = "clonelab container";
pub const UNSHARE: &str = "unshare(1)";
pub const BWRAP: &str = "bwrap";
pub const CRUN: &str = "crun run, no cgroup";
pub const CRUN_CGROUPFS: &str = "crun run, cgroupfs manager";

/// One command line of a tool, and how it must be started.
struct Tool {
    program: String,
    args: Vec<String>,
    /// A mount namespace to enter before the exec (crun on a hybrid host).
    mount_ns: Option<std::sync::Arc<OwnedFd>>,
    /// crun: the runs so far; each run's container id (the last argument) is new.
    runs: Option<u64>,
}

impl Tool {
    /// Run it once; Err holds its exit status and what it wrote to stderr.
    fn run(&mut self, capture: bool) -> Result<(), String> {
        if let Some(runs) = &mut self.runs {
            *runs += 1;
            *self.args.last_mut().expect("an id argument") =
                format!("clonelab-bench-{}-{runs}", std::process::id());
        }
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if capture {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        if let Some(ns) = &self.mount_ns {
            let fd = ns.as_raw_fd();
            // SAFETY: the hook runs in the forked child before exec and calls
            // only setns, which is async-signal-safe.
            unsafe {
                cmd.pre_exec(move || match libc::setns(fd, libc::CLONE_NEWNS) {
                    0 => Ok(()),
                    _ => Err(std::io::Error::last_os_error()),
                });
            }
        }
        let out = cmd.output().map_err(|e| format!("{}: {e}", self.program))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} exited with {}: {}",
                self.program,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

/// A mount namespace like ours in which `/sys/fs/cgroup/unified` is an
/// empty tmpfs: a forked child unshares, mounts, reports, and waits to be
/// killed; its namespace lives on through the descriptor we open.
fn hybrid_hidden_namespace() -> Result<OwnedFd, String> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe2: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: the child makes only async-signal-safe calls and never returns.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: raw syscalls on constant strings, then _exit or pause forever.
        unsafe {
            let none = std::ptr::null();
            let ok = libc::unshare(libc::CLONE_NEWNS) == 0
                && libc::mount(
                    c"none".as_ptr(),
                    c"/".as_ptr(),
                    none,
                    libc::MS_REC | libc::MS_PRIVATE,
                    none as _,
                ) == 0
                && libc::mount(
                    c"none".as_ptr(),
                    c"/sys/fs/cgroup/unified".as_ptr(),
                    c"tmpfs".as_ptr(),
                    0,
                    none as _,
                ) == 0;
            libc::write(fds[1], [ok as u8].as_ptr().cast(), 1);
            loop {
                libc::pause();
            }
        }
    }
    let mut ok = [0u8];
    // SAFETY: our end of the pipe; one byte into `ok`.
    let read = unsafe { libc::read(fds[0], ok.as_mut_ptr().cast(), 1) };
    let opened = std::fs::File::open(format!("/proc/{pid}/ns/mnt"));
    // SAFETY: pid is our child; it is killed and reaped here, and the pipe closed.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    match (read, ok[0], opened) {
        (1, 1, Ok(f)) => Ok(f.into()),
        (_, _, Err(e)) => Err(format!("open /proc/{pid}/ns/mnt: {e}")),
        _ => Err("unshare/mount over /sys/fs/cgroup/unified failed".into()),
    }
}

/// The OCI bundle for crun: `config.json` and an empty `rootfs` in `dir`.
fn write_bundle(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("rootfs"))?;
    let mut mounts = vec![
        r#"{"destination": "/proc", "type": "proc", "source": "proc"}"#.to_string(),
        r#"{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}"#
            .to_string(),
        r#"{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}"#
            .to_string(),
    ];
    for d in SYSTEM_DIRS
        .iter()
        .filter(|d| std::path::Path::new(d).exists())
    {
        mounts.push(format!(
            r#"{{"destination": "{d}", "type": "bind", "source": "{d}", "options": ["rbind", "ro"]}}"#
        ));
    }
    let config = format!(
        r#"{{
  "ociVersion": "1.0.0",
  "process": {{"terminal": false, "user": {{"uid": 0, "gid": 0}}, "args": ["{PROGRAM}"],
              "env": ["PATH=/usr/bin:/bin"], "cwd": "/"}},
  "root": {{"path": "rootfs", "readonly": true}},
  "mounts": [
    {}
  ],
  "linux": {{"namespaces": [{{"type": "pid"}}, {{"type": "mount"}}, {{"type": "network"}},
                           {{"type": "uts"}}, {{"type": "ipc"}}, {{"type": "cgroup"}}]}}
}}
"#,
        mounts.join(",\n    ")
    );
    std::fs::write(dir.join("config.json"), config)
}

fn found(program: &str) -> Result<(), String> {
    match std::path::Path::new(program).exists() {
        true => Ok(()),
        false => Err(format!("{program} is not installed")),
    }
}

/// Every tool's command line, or why it cannot run here.
fn tools(clonelab: &str, scratch: &std::path::Path) -> Vec<(&'static str, Result<Tool, String>)> {
    let tool = |program: &str, args: Vec<String>| Tool {
        program: program.to_string(),
        args,
        mount_ns: None,
        runs: None,
    };
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let mut bwrap =
        words("--unshare-pid --unshare-net --unshare-uts --unshare-ipc --unshare-cgroup");
    for d in SYSTEM_DIRS
        .iter()
        .filter(|d| std::path::Path::new(d).exists())
    {
        bwrap.extend(["--ro-bind", d, d].map(String::from));
    }
    bwrap.extend(words("--dev /dev --proc /proc --tmpfs /tmp"));
    bwrap.push(PROGRAM.into());
    let mut out = vec![
        (
            CLONELAB,
            found(clonelab).map(|()| tool(clonelab, words(&format!("container -- {PROGRAM}")))),
        ),
        (
            UNSHARE,
            found("/usr/bin/unshare").map(|()| {
                tool(
                    "/usr/bin/unshare",
                    words(&format!(
                        "--fork --pid --mount --uts --ipc --net --cgroup --mount-proc {PROGRAM}"
                    )),
                )
            }),
        ),
        (
            BWRAP,
            found("/usr/bin/bwrap").map(|()| tool("/usr/bin/bwrap", bwrap)),
        ),
    ];
    let bundle = scratch.join("bundle");
    let crun = found("/usr/bin/crun")
        .and_then(|()| write_bundle(&bundle).map_err(|e| format!("OCI bundle: {e}")));
    for (name, manager) in [(CRUN, "disabled"), (CRUN_CGROUPFS, "cgroupfs")] {
        let args = vec![
            format!("--cgroup-manager={manager}"),
            "--root".into(),
            scratch.join("crun-state").display().to_string(),
            "run".into(),
            "--bundle".into(),
            bundle.display().to_string(),
            // The container id: a fresh one at every run.
            String::new(),
        ];
        let with_ids = |()| Tool {
            runs: Some(0),
            ..tool("/usr/bin/crun", args)
        };
        out.push((name, crun.clone().map(with_ids)));
    }
    out
}

/// Where the OCI bundle and crun's state live while the set runs.
fn scratch() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("clonelab-startup-{}", std::process::id()))
}

/// Remove the bundle and crun's state, once the set's paths are dropped.
pub fn remove_scratch() {
    let _ = std::fs::remove_dir_all(scratch());
}

/// The container-start paths that run here (`M skip` records for the
/// others, `M note` where crun needed the v2 hierarchy hidden).
pub fn paths(clonelab: &str, out: &mut dyn Write) -> std::io::Result<Vec<Path<'static>>> {
    let scratch = scratch();
    let mut hidden: Option<Result<std::sync::Arc<OwnedFd>, String>> = None;
    let mut paths = Vec::new();
    for (name, tool) in tools(clonelab, &scratch) {
        let mut note = None;
        let tool = tool.and_then(|mut t| match t.run(true) {
            Ok(()) => Ok(t),
            Err(e) if t.runs.is_some() && e.contains("hybrid mode not supported") => {
                let ns = hidden
                    .get_or_insert_with(|| hybrid_hidden_namespace().map(std::sync::Arc::new))
                    .clone()
                    .map_err(|h| format!("{e}; hiding the v2 hierarchy failed: {h}"))?;
                t.mount_ns = Some(ns);
                t.run(true)
                    .map_err(|again| format!("{e}; with it hidden: {again}"))?;
                note = Some(format!(
                    "crun refuses this host's cgroup v1/v2 hybrid (\"{e}\"): run in a mount namespace where a tmpfs hides /sys/fs/cgroup/unified"
                ));
                Ok(t)
            }
            Err(e) => Err(e),
        });
        match tool {
            Ok(mut t) => {
                if let Some(note) = note {
                    writeln!(out, "M\tnote {name}\t{note}")?;
                }
                paths.push(path(GROUP, name, Growth::No, move || t.run(false).unwrap()));
            }
            Err(reason) => {
                writeln!(out, "M\tskip {name}\t{reason}")?;
                println!("container start: {name} not measured: {reason}");
            }
        }
    }
    Ok(paths)
}
