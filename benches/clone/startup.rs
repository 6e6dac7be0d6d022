//! Container start, start to exit: `clonelab container -- /bin/true` against
//! `unshare(1)`, bubblewrap and crun, each told to make as nearly the same
//! isolation as it can (the PID, mount, network, UTS, IPC and cgroup
//! namespaces; a read-only view of the host's system directories; `/proc`,
//! `/dev`, `/tmp`), each run as a command from this process and reaped: the
//! time from `fork` to the reap of the tool's process. Every tool is
//! started the same way, by std's `Command` with a pre-exec hook (so by
//! `fork`, never `posix_spawn`), whether or not its hook has work to do.
//!
//! Each tool is tried once before the rounds, as it will be timed and once
//! more with a probe in place of `/bin/true` (a shell printing the
//! namespaces, the mount table and `lo` it finds); the records
//! `M command <path>`, `M namespaces <path>`, `M mounts <path>` and
//! `M lo <path>` carry what it was told and what its container was, for the
//! report's table. A tool that keeps the host's root (unshare(1)) sees a
//! copy of the host's whole mount tree, private paths of the machine
//! included: its mounts are compared with the bench's own
//! (`/proc/self/mountinfo`, read the same way), and its records hold only a
//! count of the host's mounts it kept (`M host_mounts <path>`) and the
//! mounts it added. One that is absent or fails is left out with an
//! `M skip <path> <reason>` record and a printed line. crun
//! refuses a cgroup v1/v2 hybrid host whose v2 hierarchy has any controller
//! (`cgroups in hybrid mode not supported`, whatever its cgroup manager):
//! there it runs in a mount namespace made once, before the rounds, in which
//! a tmpfs hides `/sys/fs/cgroup/unified`, so crun sees a v1-only host; its
//! pre-exec hook enters that namespace with `setns`, which is all that its
//! start does beyond the others'. An `M note <path>` record says so.
//!
//! Part of `benches/clone/`; `main.rs` measures [`paths`]. Uses libc
//! (fork, setns, mount: a helper child and the commands' pre-exec hook) and
//! std's `Command`.

use super::harness::{meta, path, Growth, Path};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

const GROUP: &str = "container start";
/// The system directories every tool bind-mounts read-only, as `clonelab
/// container` does by default.
const SYSTEM_DIRS: &[&str] = &["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc"];
/// What every tool makes the container run.
const PROGRAM: &str = "/bin/true";

const CLONELAB: &str = "clonelab container";
pub const UNSHARE: &str = "unshare(1)";
pub const BWRAP: &str = "bwrap";
pub const CRUN: &str = "crun run, no cgroup";
pub const CRUN_CGROUPFS: &str = "crun run, cgroupfs manager";

/// What a tool is made to run in its container.
#[derive(Clone, Copy, PartialEq)]
enum Runs {
    /// [`PROGRAM`], in the timed rounds.
    Program,
    /// [`probe`], once, before the rounds.
    Probe,
}

/// The probe: a shell that prints what the container it runs in is made of,
/// in three parts, each after a marker line: the namespace links of its
/// process (`@ns`), its mount table (`@mounts`), and `lo` (`@lo`, by `ip`,
/// found on the host). It exits 0 whatever it could not read.
fn probe() -> Vec<String> {
    let ip = ["/usr/sbin/ip", "/sbin/ip", "/bin/ip"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("ip");
    let script = format!(
        "echo @ns; readlink /proc/self/ns/*; echo @mounts; cat /proc/self/mountinfo; \
         echo @lo; {ip} -o link show lo 2>&1; exit 0"
    );
    ["/bin/sh", "-c", &script].map(String::from).to_vec()
}

/// One tool: how to make its command line, and how it must be started.
struct Tool {
    program: String,
    /// The arguments that make the container run `Runs` (the last one is
    /// replaced by a fresh container id for crun).
    args: Box<dyn Fn(Runs) -> Vec<String>>,
    /// A mount namespace to enter before the exec (crun on a hybrid host).
    mount_ns: Option<std::sync::Arc<OwnedFd>>,
    /// crun: the runs so far; each run's container id (the last argument) is new.
    runs: Option<u64>,
    /// What goes into crun's container ids besides the count (the tools
    /// share crun's state directory, so their ids must differ).
    id_prefix: String,
}

impl Tool {
    /// The command line of a timed run, for the records.
    fn command_line(&self) -> String {
        let mut words = vec![self.program.clone()];
        words.extend((self.args)(Runs::Program));
        if self.runs.is_some() {
            *words.last_mut().expect("an id argument") = "ID".into();
        }
        words.join(" ")
    }

    /// Run it once; Ok holds what the container wrote to stdout (captured
    /// only with `capture`), Err its exit status and what it wrote to stderr.
    fn run(&mut self, runs: Runs, capture: bool) -> Result<String, String> {
        let mut args = (self.args)(runs);
        if let Some(count) = &mut self.runs {
            *count += 1;
            *args.last_mut().expect("an id argument") = format!("{}-{count}", self.id_prefix);
        }
        let piped = || {
            if capture {
                Stdio::piped()
            } else {
                Stdio::null()
            }
        };
        let mut cmd = Command::new(&self.program);
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(piped())
            .stderr(piped());
        // Every tool gets a hook, so every tool is started by fork + exec
        // (std uses posix_spawn only where there is none): the same path.
        let fd = self.mount_ns.as_ref().map(|ns| ns.as_raw_fd());
        // SAFETY: the hook runs in the forked child before exec and calls
        // only setns, which is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || match fd {
                Some(fd) if libc::setns(fd, libc::CLONE_NEWNS) != 0 => {
                    Err(std::io::Error::last_os_error())
                }
                _ => Ok(()),
            });
        }
        let out = cmd.output().map_err(|e| format!("{}: {e}", self.program))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        // SAFETY: the pipe's two descriptors are ours and used nowhere else.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        return Err(format!("fork: {e}"));
    }
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
    // SAFETY: the pipe's descriptors are ours: the write end is closed first,
    // so a child that dies before writing gives EOF; one byte into `ok`.
    let read = unsafe {
        libc::close(fds[1]);
        libc::read(fds[0], ok.as_mut_ptr().cast(), 1)
    };
    let opened = std::fs::File::open(format!("/proc/{pid}/ns/mnt"));
    // SAFETY: pid is our child; it is killed and reaped here, and the pipe closed.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
        libc::close(fds[0]);
    }
    match (read, ok[0], opened) {
        (1, 1, Ok(f)) => Ok(f.into()),
        (_, _, Err(e)) => Err(format!("open /proc/{pid}/ns/mnt: {e}")),
        _ => Err("unshare/mount over /sys/fs/cgroup/unified failed".into()),
    }
}

/// An OCI bundle for crun that runs `args`: `config.json` and an empty
/// `rootfs` in `dir`.
fn write_bundle(dir: &std::path::Path, args: &[String]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("rootfs"))?;
    let mut mounts = vec![
        r#"{"destination": "/proc", "type": "proc", "source": "proc"}"#.to_string(),
        r#"{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}"#
            .to_string(),
        r#"{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}"#
            .to_string(),
    ];
    for d in system_dirs() {
        mounts.push(format!(
            r#"{{"destination": "{d}", "type": "bind", "source": "{d}", "options": ["rbind", "ro"]}}"#
        ));
    }
    let args: Vec<String> = args.iter().map(|a| json_string(a)).collect();
    let config = format!(
        r#"{{
  "ociVersion": "1.0.0",
  "process": {{"terminal": false, "user": {{"uid": 0, "gid": 0}}, "args": [{}],
              "env": ["PATH=/usr/bin:/bin"], "cwd": "/"}},
  "root": {{"path": "rootfs", "readonly": true}},
  "mounts": [
    {}
  ],
  "linux": {{"namespaces": [{{"type": "pid"}}, {{"type": "mount"}}, {{"type": "network"}},
                           {{"type": "uts"}}, {{"type": "ipc"}}, {{"type": "cgroup"}}]}}
}}
"#,
        args.join(", "),
        mounts.join(",\n    ")
    );
    std::fs::write(dir.join("config.json"), config)
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The system directories this host has.
fn system_dirs() -> impl Iterator<Item = &'static str> {
    SYSTEM_DIRS
        .iter()
        .copied()
        .filter(|d| std::path::Path::new(d).exists())
}

fn found(program: &str) -> Result<(), String> {
    match std::path::Path::new(program).exists() {
        true => Ok(()),
        false => Err(format!(
            "{program} not found (not installed, or not copied here)"
        )),
    }
}

/// The program and its arguments a container runs.
fn runs(what: Runs) -> Vec<String> {
    match what {
        Runs::Program => vec![PROGRAM.to_string()],
        Runs::Probe => probe(),
    }
}

/// Every tool, or why it cannot run here.
fn tools(clonelab: &str, scratch: &std::path::Path) -> Vec<(&'static str, Result<Tool, String>)> {
    let tool = |program: &str, args: Box<dyn Fn(Runs) -> Vec<String>>| Tool {
        program: program.to_string(),
        args,
        mount_ns: None,
        runs: None,
        id_prefix: String::new(),
    };
    // A tool's fixed words, then what the container runs.
    let then_runs = |fixed: Vec<String>| -> Box<dyn Fn(Runs) -> Vec<String>> {
        Box::new(move |what| fixed.iter().cloned().chain(runs(what)).collect())
    };
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let mut bwrap =
        words("--unshare-pid --unshare-net --unshare-uts --unshare-ipc --unshare-cgroup");
    for d in system_dirs() {
        bwrap.extend(["--ro-bind", d, d].map(String::from));
    }
    bwrap.extend(words("--dev /dev --proc /proc --tmpfs /tmp"));
    let mut out = vec![
        (
            CLONELAB,
            found(clonelab).map(|()| tool(clonelab, then_runs(words("container --")))),
        ),
        (
            UNSHARE,
            found("/usr/bin/unshare").map(|()| {
                tool(
                    "/usr/bin/unshare",
                    then_runs(words(
                        "--fork --pid --mount --uts --ipc --net --cgroup --mount-proc",
                    )),
                )
            }),
        ),
        (
            BWRAP,
            found("/usr/bin/bwrap").map(|()| tool("/usr/bin/bwrap", then_runs(bwrap))),
        ),
    ];
    // One bundle per thing the container runs.
    let bundle = |what: Runs| {
        scratch.join(match what {
            Runs::Program => "bundle",
            Runs::Probe => "bundle-probe",
        })
    };
    let crun = found("/usr/bin/crun").and_then(|()| {
        // A directory of our own, made here: one that is already there (or
        // a link planted in its place) is refused, not written through.
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(scratch)
            .map_err(|e| format!("mkdir {}: {e}", scratch.display()))?;
        [Runs::Program, Runs::Probe]
            .into_iter()
            .try_for_each(|what| write_bundle(&bundle(what), &runs(what)))
            .map_err(|e| format!("OCI bundle: {e}"))
    });
    for (name, manager) in [(CRUN, "disabled"), (CRUN_CGROUPFS, "cgroupfs")] {
        let fixed = vec![
            format!("--cgroup-manager={manager}"),
            "--root".into(),
            scratch.join("crun-state").display().to_string(),
            "run".into(),
            "--bundle".into(),
        ];
        let bundles = [bundle(Runs::Program), bundle(Runs::Probe)];
        let args = move |what: Runs| {
            let mut args = fixed.clone();
            args.push(
                bundles[(what == Runs::Probe) as usize]
                    .display()
                    .to_string(),
            );
            // The container id: a fresh one at every run.
            args.push(String::new());
            args
        };
        let with_ids = |()| Tool {
            runs: Some(0),
            id_prefix: format!("clonelab-bench-{}-{manager}", std::process::id()),
            ..tool("/usr/bin/crun", Box::new(args))
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

/// One line of a mountinfo table: how the report shows it ("/usr ext4 ro")
/// and what identifies it in any mount namespace (every field but the
/// mount's id, its parent's id, its propagation tags and its options other
/// than `ro`): its mount point, its device, its root inside the file
/// system (not for cgroup file systems, see below), its type and its
/// source.
#[derive(PartialEq)]
struct Mount {
    shown: String,
    identity: [String; 6],
}

/// The mounts of a mountinfo table ("id parent dev root MOUNTPOINT OPTIONS
/// [tags] - FSTYPE source super").
fn mounts(mountinfo: &str) -> Vec<Mount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (mine, theirs) = line.split_once(" - ")?;
            let fields: Vec<&str> = mine.split(' ').collect();
            let (dev, root, point, options) = (
                fields.get(2)?,
                fields.get(3)?,
                fields.get(4)?,
                fields.get(5)?,
            );
            let mut theirs = theirs.split(' ');
            let (fstype, source) = (theirs.next()?, theirs.next().unwrap_or(""));
            let ro = options.split(',').any(|o| o == "ro");
            // A cgroup file system's root is shown relative to the reader's
            // cgroup namespace: the same mount reads "/" in a new one and
            // the bench's cgroup outside. It identifies nothing there.
            let root = if fstype.starts_with("cgroup") {
                ""
            } else {
                root
            };
            Some(Mount {
                shown: format!("{point} {fstype}{}", if ro { " ro" } else { "" }),
                identity: [
                    *point,
                    *dev,
                    root,
                    fstype,
                    source,
                    if ro { "ro" } else { "rw" },
                ]
                .map(String::from),
            })
        })
        .collect()
}

/// What a container's mount table is, against the host's (the bench's
/// own): `(kept, absent, added)` where the container's root is the host's
/// root mount: `kept` of the host's mounts are there, `absent` are not, and
/// `added` are the container's own; None where it has a root of its own.
fn against_host(container: Vec<Mount>, host: Vec<Mount>) -> Option<(usize, usize, Vec<Mount>)> {
    // The root a process sees is the last mount on "/" (each one after
    // another hides those before it).
    let root = |m: &[Mount]| m.iter().rposition(|m| m.identity[0] == "/");
    if container[root(&container)?].identity != host[root(&host)?].identity {
        return None;
    }
    let mut host = host;
    let mut added = Vec::new();
    let mut kept = 0;
    for m in container {
        match host.iter().position(|h| h.identity == m.identity) {
            Some(i) => {
                host.swap_remove(i);
                kept += 1;
            }
            None => added.push(m),
        }
    }
    Some((kept, host.len(), added))
}

/// What the probe printed, as the records of a tool's isolation: the
/// namespaces its container has that the bench has not, the container's
/// mounts (mount point, file system type, `ro`; where it keeps the host's
/// root, only those the host has not, and a count of the host's it kept),
/// and `lo`.
fn isolation(probe: &str) -> Vec<(&'static str, String)> {
    let part = |marker: &str| -> String {
        probe
            .lines()
            .skip_while(|l| *l != marker)
            .skip(1)
            .take_while(|l| !l.starts_with('@'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (links, mountinfo, lo) = (part("@ns"), part("@mounts"), part("@lo"));
    // "net:[4026531840]": a namespace the bench is not in is a new one.
    let own: Vec<String> = std::fs::read_dir("/proc/self/ns")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|l| l.display().to_string())
        .collect();
    let mut new: Vec<&str> = links
        .lines()
        .filter(|l| !own.iter().any(|o| o == l))
        .filter_map(|l| l.split(':').next())
        .collect();
    new.sort_unstable();
    new.dedup();
    let host = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut records = Vec::new();
    let listed = |m: &[Mount]| {
        let shown: Vec<&str> = m.iter().map(|m| m.shown.as_str()).collect();
        format!("{}: {}", m.len(), shown.join(", "))
    };
    let container = mounts(&mountinfo);
    let shown = listed(&container);
    match against_host(container, mounts(&host)) {
        Some((kept, absent, added)) => {
            records.push(("host_mounts", format!("{kept} {absent}")));
            records.push(("mounts", listed(&added)));
        }
        None => records.push(("mounts", shown)),
    }
    // "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 ...".
    let lo = match lo.split_once('<').and_then(|(_, l)| l.split_once('>')) {
        Some((flags, _)) if flags.split(',').any(|f| f == "UP") => "up".to_string(),
        Some(_) => "down".to_string(),
        None => format!("unknown ({})", lo.trim()),
    };
    records.push(("namespaces", new.join(", ")));
    records.push(("lo", lo));
    records
}

/// Run a tool once as it will be timed, and once with the probe; on a
/// hybrid cgroup host, crun again inside a namespace that hides the v2
/// hierarchy. Ok holds the probe's output and how the tool had to be run.
fn try_tool(
    t: &mut Tool,
    hidden: &mut Option<Result<std::sync::Arc<OwnedFd>, String>>,
) -> Result<(String, Option<String>), String> {
    let mut note = None;
    if let Err(e) = t.run(Runs::Program, true) {
        if !(t.runs.is_some() && e.contains("hybrid mode not supported")) {
            return Err(e);
        }
        let ns = hidden
            .get_or_insert_with(|| hybrid_hidden_namespace().map(std::sync::Arc::new))
            .clone()
            .map_err(|h| format!("{e}; hiding the v2 hierarchy failed: {h}"))?;
        t.mount_ns = Some(ns);
        t.run(Runs::Program, true)
            .map_err(|again| format!("{e}; with it hidden: {again}"))?;
        note = Some(format!(
            "crun refuses this host's cgroup v1/v2 hybrid (\"{e}\"): run in a mount namespace where a tmpfs hides /sys/fs/cgroup/unified"
        ));
    }
    let probe = t
        .run(Runs::Probe, true)
        .map_err(|e| format!("the probe: {e}"))?;
    Ok((probe, note))
}

/// The container-start paths that run here, with records of each tool's
/// command line and of what its container was made of (`M skip` records
/// for the others, `M note` where crun needed the v2 hierarchy hidden);
/// none at all where `clonelab container` itself cannot run.
pub fn paths(clonelab: &str, out: &mut dyn Write) -> std::io::Result<Vec<Path<'static>>> {
    let scratch = scratch();
    let mut hidden = None;
    let mut paths = Vec::new();
    for (name, tool) in tools(clonelab, &scratch) {
        match tool.and_then(|mut t| try_tool(&mut t, &mut hidden).map(|found| (t, found))) {
            Ok((mut t, (probe, note))) => {
                // Names, not this machine's paths: the binary and the scratch directory.
                let command = t
                    .command_line()
                    .replace(clonelab, "clonelab")
                    .replace(&scratch.display().to_string(), "$SCRATCH");
                meta(out, &format!("command {name}"), &command)?;
                for (what, text) in isolation(&probe) {
                    meta(out, &format!("{what} {name}"), &text)?;
                }
                if let Some(note) = note {
                    meta(out, &format!("note {name}"), &note)?;
                }
                paths.push(path(GROUP, name, Growth::No, move || {
                    t.run(Runs::Program, false).map(drop).unwrap()
                }));
            }
            Err(reason) => {
                meta(out, &format!("skip {name}"), &reason)?;
                println!("bench: skipped: container start: {name}: {reason}");
                if name == CLONELAB {
                    // Nothing to compare the others with: one line for the set.
                    return Ok(Vec::new());
                }
            }
        }
    }
    Ok(paths)
}
