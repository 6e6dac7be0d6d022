//! `clonelab container [options] -- CMD ARGS...`: a minimal container made of
//! one clone3 call and clonelab's raw syscalls. See `docs/container.md`.
//!
//! ```text
//! clonelab (parent)                       container init (PID 1 of the new namespaces)
//!   cgroup: mkdir, memory.max, pids.max
//!   clone3(NEWPID|NEWNS|NEWNET|NEWUTS|    ──►  waits on the sync pipe
//!          NEWIPC|NEWCGROUP[|NEWUSER]
//!          [|INTO_CGROUP], SIGCHLD)
//!   uid_map / gid_map (if NEWUSER)
//!   sync pipe: "go"                       ──►  sethostname; / made private; new root on tmpfs
//!                                              with read-only binds; /dev; lo up (netlink);
//!                                              pivot_root; old root detached; /proc mounted
//!                                              fork + exec CMD; forward SIGINT/SIGTERM;
//!   forwards SIGINT/SIGTERM; waits      ◄──    reap orphans; exit with CMD's status
//!   rmdir cgroup; exit with that status
//! ```

use clonelab::clone::{clone, clone3, zeroed_args, CloneArgs};
use clonelab::experiments::own_cgroup_dir;
use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord, Syscall};
use clonelab::sys::signal::{self, SigSet};
use clonelab::{sys, CloneCall, Errno, Error, RegisterImage, Signal, WaitStatus};
use linux_raw_sys::general as k;
use std::ffi::{c_char, c_void, CString};
use std::io::Read;
use std::os::fd::FromRawFd;
use std::path::Path;

/// What `clonelab container` was asked to do.
#[derive(Default, Debug)]
pub struct Options {
    hostname: Option<String>,
    rootfs: Option<String>,
    binds: Vec<(String, String)>,
    memory: Option<u64>,
    pids: Option<u64>,
    uid_map: Option<String>,
    verbose: bool,
    command: Vec<String>,
}

impl Options {
    /// Parse `[--hostname N] [--rootfs DIR] [--bind SRC:DST] [--memory BYTES] [--pids N] [--verbose] -- CMD ARGS...`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--hostname" => o.hostname = Some(value()?),
                "--rootfs" => o.rootfs = Some(value()?),
                "--bind" => {
                    let v = value()?;
                    let (src, dst) = v.split_once(':').ok_or("--bind takes SRC:DST")?;
                    o.binds.push((src.to_string(), dst.to_string()));
                }
                "--memory" => {
                    o.memory = Some(
                        value()?
                            .parse()
                            .map_err(|_| "--memory takes a number of bytes")?,
                    )
                }
                "--pids" => o.pids = Some(value()?.parse().map_err(|_| "--pids takes a number")?),
                "--uid-map" => {
                    let v = value()?;
                    let fields: Vec<&str> = v.split(':').collect();
                    if fields.len() != 3 || fields.iter().any(|f| f.parse::<u32>().is_err()) {
                        return Err("--uid-map takes INSIDE:OUTSIDE:COUNT".into());
                    }
                    o.uid_map = Some(fields.join(" "));
                }
                "--verbose" | "-v" => o.verbose = true,
                "--" => {
                    o.command = it.cloned().collect();
                    break;
                }
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if o.command.is_empty() {
            return Err("usage: clonelab container [--hostname N] [--rootfs DIR] [--bind SRC:DST] [--memory BYTES] [--pids N] [--uid-map IN:OUT:COUNT] [--verbose] -- CMD ARGS...".into());
        }
        Ok(o)
    }
}

fn say(o: &Options, what: impl AsRef<str>) {
    if o.verbose {
        eprintln!("container: {}", what.as_ref());
    }
}

fn cstr(s: &str) -> CString {
    CString::new(s).expect("no NUL in paths")
}

/// A child cgroup with the requested limits, next to our own cgroup.
struct Cgroup {
    dir: String,
}

impl Cgroup {
    fn create(o: &Options) -> Result<Cgroup, String> {
        let own = own_cgroup_dir().ok_or("no cgroup v2 hierarchy is mounted")?;
        let parent = String::from_utf8_lossy(own.as_bytes()).into_owned();
        let mut wanted = Vec::new();
        if o.memory.is_some() {
            wanted.push("+memory");
        }
        if o.pids.is_some() {
            wanted.push("+pids");
        }
        // Controllers must be enabled in the parent's subtree_control for a child to have them.
        let control = format!("{parent}/cgroup.subtree_control");
        if let Err(e) = std::fs::write(&control, wanted.join(" ")) {
            return Err(format!("cannot enable {} in {control}: {e} (is the controller available in cgroup v2 here?)", wanted.join(" ")));
        }
        let dir = format!("{parent}/clonelab-container-{}", std::process::id());
        std::fs::create_dir(&dir).map_err(|e| format!("mkdir {dir}: {e}"))?;
        let cgroup = Cgroup { dir };
        if let Some(bytes) = o.memory {
            std::fs::write(format!("{}/memory.max", cgroup.dir), bytes.to_string())
                .map_err(|e| format!("memory.max: {e}"))?;
            say(o, format!("cgroup {}: memory.max = {bytes}", cgroup.dir));
        }
        if let Some(n) = o.pids {
            std::fs::write(format!("{}/pids.max", cgroup.dir), n.to_string())
                .map_err(|e| format!("pids.max: {e}"))?;
            say(o, format!("cgroup {}: pids.max = {n}", cgroup.dir));
        }
        Ok(cgroup)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Everything the container's init needs, prepared before the clone.
struct Plan<'a> {
    options: &'a Options,
    sync_read: i32,
    root: String,
}

fn mount(source: &str, target: &str, fstype: Option<&str>, flags: u32) -> Result<(), String> {
    let fstype = fstype.map(cstr);
    // SAFETY: the container init owns its mount namespace.
    unsafe { sys::mount(&cstr(source), &cstr(target), fstype.as_deref(), flags) }
        .map_err(|e| format!("mount {source} on {target}: {e}"))
}

/// Read-only bind of `src` at `dst` (created as a file or directory like `src`).
fn bind_read_only(src: &str, dst: &str) -> Result<(), String> {
    if Path::new(src).is_dir() {
        std::fs::create_dir_all(dst).map_err(|e| format!("mkdir {dst}: {e}"))?;
    } else {
        if let Some(parent) = Path::new(dst).parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("mkdir {}: {e}", parent.display()))?;
        }
        std::fs::write(dst, b"").map_err(|e| format!("create {dst}: {e}"))?;
    }
    mount(src, dst, None, k::MS_BIND | k::MS_REC)?;
    mount("none", dst, None, k::MS_REMOUNT | k::MS_BIND | k::MS_RDONLY)
}

/// The init side, up to the exec of CMD. Returns the exit code.
fn init(plan: &Plan) -> Result<i32, String> {
    let o = plan.options;
    let mut go = [0u8; 1];
    // SAFETY: sync_read is the pipe's read end, inherited from the parent.
    let mut pipe = unsafe { std::fs::File::from_raw_fd(plan.sync_read) };
    pipe.read_exact(&mut go)
        .map_err(|e| format!("waiting for the parent: {e}"))?;
    drop(pipe);

    if o.uid_map.is_some() {
        // Our ids outside (root's 0) have no mapping inside: become the
        // namespace's 0, which the map ties to the chosen outside id.
        sys::setresgid(0, 0, 0)
            .and_then(|()| sys::setresuid(0, 0, 0))
            .map_err(|e| format!("setresgid/setresuid 0: {e}"))?;
    }
    if let Some(name) = &o.hostname {
        sys::sethostname(name.as_bytes()).map_err(|e| format!("sethostname: {e}"))?;
    }
    // Mounts must not propagate back to the host: make everything private first.
    mount("none", "/", None, k::MS_REC | k::MS_PRIVATE)?;
    let root = plan.root.as_str();
    mount("clonelab-root", root, Some("tmpfs"), 0)?;
    match &o.rootfs {
        Some(dir) => mount(dir, root, None, k::MS_BIND | k::MS_REC)?,
        None => {
            for dir in ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc"] {
                if Path::new(dir).exists() {
                    bind_read_only(dir, &format!("{root}{dir}"))?;
                }
            }
        }
    }
    for (src, dst) in &o.binds {
        bind_read_only(src, &format!("{root}{dst}"))?;
    }
    for dir in ["proc", "dev", "tmp", ".old_root"] {
        std::fs::create_dir_all(format!("{root}/{dir}"))
            .map_err(|e| format!("mkdir {dir}: {e}"))?;
    }
    mount("tmpfs", &format!("{root}/dev"), Some("tmpfs"), k::MS_NOSUID)?;
    for node in ["null", "zero", "random", "urandom", "full"] {
        let host = format!("/dev/{node}");
        if Path::new(&host).exists() {
            std::fs::write(format!("{root}/dev/{node}"), b"")
                .map_err(|e| format!("create /dev/{node}: {e}"))?;
            mount(&host, &format!("{root}/dev/{node}"), None, k::MS_BIND)?;
        }
    }
    mount("tmpfs", &format!("{root}/tmp"), Some("tmpfs"), k::MS_NOSUID)?;
    // A fresh /proc for the new PID namespace. Mounted before the old root
    // goes: in a user namespace the kernel allows a new procfs only while a
    // full one is still visible in the mount namespace.
    mount("proc", &format!("{root}/proc"), Some("proc"), 0)?;
    // A new network namespace has only lo, down; it is always interface 1.
    clonelab::net::netlink_link_up(1).map_err(|e| format!("RTM_NEWLINK lo up: {e}"))?;
    switch_root(o, root)?;
    say(
        o,
        format!(
            "pid {} in the new namespaces; root pivoted; running {:?}",
            sys::getpid(),
            o.command
        ),
    );

    let status = run_command(&o.command)?;
    Ok(exit_code(status))
}

/// Make `root` the root: `pivot_root` and detach the old one. An initramfs
/// root (rootfs) cannot be pivoted away (EINVAL); then move the new root over
/// `/` and chroot into it, as `runc --no-pivot` does for the same reason.
fn switch_root(o: &Options, root: &str) -> Result<(), String> {
    let put_old = format!("{root}/.old_root");
    // SAFETY: this init owns the mount namespace whose root it replaces.
    match unsafe { sys::pivot_root(&cstr(root), &cstr(&put_old)) } {
        Ok(()) => {
            sys::chdir(c"/").map_err(|e| format!("chdir /: {e}"))?;
            // SAFETY: nothing here uses the old root any more.
            unsafe { sys::umount2(c"/.old_root", k::MNT_DETACH) }
                .map_err(|e| format!("detach old root: {e}"))?;
            let _ = sys::rmdir(c"/.old_root");
            say(o, "pivot_root done, old root detached");
            Ok(())
        }
        Err(Errno::EINVAL) => {
            say(o, "pivot_root: EINVAL (the root is the initramfs); moving the new root over / and chroot-ing");
            let _ = sys::rmdir(&cstr(&put_old));
            sys::chdir(&cstr(root)).map_err(|e| format!("chdir {root}: {e}"))?;
            mount(root, "/", None, k::MS_MOVE)?;
            // SAFETY: as above.
            unsafe { sys::chroot(c".") }.map_err(|e| format!("chroot: {e}"))?;
            sys::chdir(c"/").map_err(|e| format!("chdir /: {e}"))
        }
        Err(e) => Err(format!("pivot_root: {e}")),
    }
}

/// Fork CMD (signals unblocked for it), then supervise it as PID 1.
fn run_command(command: &[String]) -> Result<WaitStatus, String> {
    let program = resolve(&command[0]);
    let argv_c: Vec<CString> = command.iter().map(|a| cstr(a)).collect();
    let mut argv: Vec<*const c_char> = argv_c.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let env_c = [
        cstr("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        cstr("HOME=/"),
    ];
    let mut envp: Vec<*const c_char> = env_c.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    let child = clonelab::spawn(FlagsWord::new(F::EMPTY, ExitSignal::SIGCHLD), || {
        let _ = signal::sigprocmask(k::SIG_SETMASK, Some(SigSet::EMPTY));
        // SAFETY: NULL-terminated argv and envp built above.
        let errno = unsafe { sys::execve(&program, argv.as_ptr(), envp.as_ptr()) };
        let _ = sys::write(
            clonelab::BorrowedFd::STDERR,
            format!("container: exec {}: {errno}\n", command[0]).as_bytes(),
        );
        127
    })
    .map_err(|e| format!("fork: {e}"))?;
    supervise(child.pid())
}

/// PATH lookup for a bare command name.
fn resolve(name: &str) -> CString {
    if name.contains('/') {
        return cstr(name);
    }
    for dir in [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ] {
        let path = format!("{dir}/{name}");
        if Path::new(&path).exists() {
            return cstr(&path);
        }
    }
    cstr(name)
}

/// Wait for `pid`, reaping every other child on the way (orphans land on PID 1)
/// and forwarding SIGINT and SIGTERM to it. Signals arrive through a signalfd:
/// they were blocked before any child existed, so none is lost.
fn supervise(pid: i32) -> Result<WaitStatus, String> {
    let set = SigSet::of(&[Signal::SIGCHLD, Signal::SIGINT, Signal::SIGTERM]);
    signal::sigprocmask(k::SIG_BLOCK, Some(set)).map_err(|e| format!("sigprocmask: {e}"))?;
    let fd = sys::signalfd(set).map_err(|e| format!("signalfd: {e}"))?;
    // SAFETY: fd is the fresh signalfd.
    let mut signals = unsafe { std::fs::File::from_raw_fd(fd.into_raw()) };
    loop {
        while let Ok((reaped, status)) = sys::wait4(-1, k::__WALL | k::WNOHANG) {
            if reaped <= 0 {
                break;
            }
            if reaped == pid {
                return Ok(WaitStatus::from_wait4(status));
            }
        }
        let mut info = [0u8; 128];
        signals
            .read_exact(&mut info)
            .map_err(|e| format!("signalfd: {e}"))?;
        let signo = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
        if signo == k::SIGINT || signo == k::SIGTERM {
            let _ = sys::kill(pid, Signal::new(signo).expect("a signal number"));
        }
    }
}

fn exit_code(status: WaitStatus) -> i32 {
    match status {
        WaitStatus::Exited(code) => code,
        WaitStatus::Signaled { signal, .. } => 128 + signal as i32,
        _ => 1,
    }
}

unsafe extern "C" fn container_entry(plan: *mut c_void) -> i32 {
    // SAFETY: plan points at the parent's Plan; this fork-like child has its own copy.
    let plan = unsafe { &*(plan as *const Plan) };
    match init(plan) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("container: {e}");
            125
        }
    }
}

/// Map the container's ids: `0 <our id> 1` (its root is us), or as real root
/// the `--uid-map` given (for both uids and gids).
fn write_id_maps(pid: i32, requested: Option<&str>) -> Result<(), String> {
    let uid = sys::geteuid();
    // SAFETY: getegid takes no arguments.
    let gid = unsafe { clonelab::arch::syscall0(k::__NR_getegid) };
    let (uid_line, gid_line) = match requested {
        Some(map) => (format!("{map}\n"), format!("{map}\n")),
        None => (format!("0 {uid} 1\n"), format!("0 {gid} 1\n")),
    };
    std::fs::write(format!("/proc/{pid}/uid_map"), &uid_line)
        .map_err(|e| format!("uid_map: {e}"))?;
    if requested.is_none() {
        std::fs::write(format!("/proc/{pid}/setgroups"), "deny")
            .map_err(|e| format!("setgroups: {e}"))?;
    }
    std::fs::write(format!("/proc/{pid}/gid_map"), &gid_line).map_err(|e| format!("gid_map: {e}"))
}

/// Run the container; returns the exit code for the `clonelab` process.
pub fn run(o: &Options) -> Result<i32, String> {
    let mut flags = F::CLONE_NEWPID
        | F::CLONE_NEWNS
        | F::CLONE_NEWNET
        | F::CLONE_NEWUTS
        | F::CLONE_NEWIPC
        | F::CLONE_NEWCGROUP;
    if sys::geteuid() != 0 {
        flags |= F::CLONE_NEWUSER;
        say(
            o,
            "not root: adding CLONE_NEWUSER (the container's root maps to you)",
        );
        if o.uid_map.is_some() {
            return Err(
                "--uid-map needs real root: unprivileged, only your own id can be mapped".into(),
            );
        }
    } else if let Some(map) = &o.uid_map {
        flags |= F::CLONE_NEWUSER;
        say(
            o,
            format!("--uid-map: CLONE_NEWUSER with uid and gid map \"{map}\""),
        );
    }
    let cgroup = if o.memory.is_some() || o.pids.is_some() {
        Some(Cgroup::create(o)?)
    } else {
        None
    };
    let root = format!("/tmp/clonelab-root-{}", std::process::id());
    std::fs::create_dir_all(&root).map_err(|e| format!("mkdir {root}: {e}"))?;
    let (sync_read, sync_write) = sys::pipe(0).map_err(|e| format!("pipe: {e}"))?;
    let plan = Plan {
        options: o,
        sync_read: sync_read.as_raw(),
        root: root.clone(),
    };
    // Block the signals PID 1 and we forward before any child exists.
    let set = SigSet::of(&[Signal::SIGCHLD, Signal::SIGINT, Signal::SIGTERM]);
    signal::sigprocmask(k::SIG_BLOCK, Some(set)).map_err(|e| format!("sigprocmask: {e}"))?;

    let arg = &plan as *const Plan as *mut c_void;
    let cgroup_fd = match &cgroup {
        Some(c) => Some(
            sys::open(
                &cstr(&c.dir),
                k::O_RDONLY | k::O_DIRECTORY | k::O_CLOEXEC,
                0,
            )
            .map_err(|e| format!("open {}: {e}", c.dir))?,
        ),
        None => None,
    };
    let mut word = FlagsWord::new(flags, ExitSignal::SIGCHLD);
    if cgroup_fd.is_some() {
        word.flags |= F::CLONE_INTO_CGROUP;
    }
    let (flags3, exit_signal) = word.encode_clone3().map_err(|e| e.to_string())?;
    let mut args = CloneArgs {
        flags: flags3,
        exit_signal,
        cgroup: cgroup_fd.as_ref().map_or(0, |fd| fd.as_raw() as u64),
        ..zeroed_args()
    };
    let mut call = CloneCall {
        syscall: Some(Syscall::Clone3),
        word,
        args_address: &args as *const CloneArgs as usize,
        ..CloneCall::default()
    };
    // SAFETY: fork-like (no CLONE_VM): the child runs container_entry on its own copy of `plan`.
    let mut result = unsafe { clone3(&mut args, size_of::<CloneArgs>(), container_entry, arg) };
    if let Err(Error::Kernel {
        errno: Errno::ENOSYS,
        ..
    }) = result
    {
        say(
            o,
            "clone3 is unavailable (ENOSYS): falling back to clone, then writing cgroup.procs",
        );
        word.flags = word.flags.without(F::CLONE_INTO_CGROUP);
        call = CloneCall {
            syscall: Some(Syscall::Clone),
            word,
            ..CloneCall::default()
        };
        let (no_stack, no_tid) = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: as above.
        result = unsafe { clone(word, no_stack, no_tid, no_tid, 0, container_entry, arg) };
        if let (Ok(pid), Some(c)) = (&result, &cgroup) {
            std::fs::write(format!("{}/cgroup.procs", c.dir), pid.to_string())
                .map_err(|e| format!("cgroup.procs: {e}"))?;
        }
    }
    if let Some(fd) = cgroup_fd {
        drop(fd);
    }
    let pid = result.map_err(|e| format!("clone: {e}"))?;
    if o.verbose {
        eprintln!(
            "container: one call made every namespace: {word} (flags {:#x})",
            word.flags.bits()
        );
        eprintln!(
            "container: registers ({}):\n{}",
            clonelab::arch::NAME,
            RegisterImage::of(&call)
        );
        eprintln!("container: init is pid {pid} here, pid 1 inside");
    }
    if flags.contains(F::CLONE_NEWUSER) {
        write_id_maps(pid, o.uid_map.as_deref())?;
    }
    // SAFETY: our copy of the read end is not needed; the write end says "go".
    unsafe {
        let _ = sys::close(sync_read.into_raw());
        let _ = sys::write(sync_write.as_fd(), b"g");
        let _ = sys::close(sync_write.into_raw());
    }
    let status = supervise(pid)?;
    say(o, format!("container init {status}"));
    drop(cgroup);
    let _ = std::fs::remove_dir(&root);
    Ok(exit_code(status))
}

/// `clonelab container-probe`: run inside a container by the tests; prints facts, one per line.
pub fn probe(args: &[String]) -> i32 {
    println!("pid={}", sys::getpid());
    let mut name = [0u8; 65];
    println!(
        "hostname={}",
        String::from_utf8_lossy(clonelab::probe::hostname(&mut name).unwrap_or(b"?"))
    );
    let procs = std::fs::read_dir("/proc").map(|d| {
        d.flatten()
            .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
            .count()
    });
    println!("processes={}", procs.unwrap_or(0));
    let interfaces = std::fs::read_to_string("/proc/self/net/dev").unwrap_or_default();
    let names: Vec<&str> = interfaces
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    println!("interfaces={}", names.join(","));
    println!(
        "lo_up={}",
        matches!(clonelab::net::interface_is_up(b"lo"), Ok(true))
    );
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--exists" => {
                let path = it.next().cloned().unwrap_or_default();
                println!("exists {path}={}", Path::new(&path).exists());
            }
            "--forks" => {
                let n: usize = it.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                let mut children = Vec::new();
                let mut failed = None;
                for i in 0..n {
                    match clonelab::spawn(FlagsWord::new(F::EMPTY, ExitSignal::SIGCHLD), || {
                        std::thread::sleep(std::time::Duration::from_millis(300));
                        0
                    }) {
                        Ok(child) => children.push(child),
                        Err(e) => {
                            failed = Some((i + 1, e.errno()));
                            break;
                        }
                    }
                }
                match failed {
                    Some((nth, errno)) => println!(
                        "fork {nth} failed={}",
                        errno.map_or("?".into(), |e| format!("{e:?}"))
                    ),
                    None => println!("forks ok={n}"),
                }
                for mut child in children {
                    let _ = child.wait();
                }
            }
            "--cgroup-file" => {
                let file = it.next().cloned().unwrap_or_default();
                let _ = std::fs::create_dir_all("/sys/fs/cgroup");
                let _ = mount("cgroup2", "/sys/fs/cgroup", Some("cgroup2"), 0);
                let value = std::fs::read_to_string(format!("/sys/fs/cgroup/{file}"))
                    .unwrap_or_else(|e| format!("error {e}"));
                println!("{file}={}", value.trim());
            }
            "--exit" => return it.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            _ => {}
        }
    }
    0
}
