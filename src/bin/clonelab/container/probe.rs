//! `clonelab container-probe [--exists PATH] [--forks N] [--cgroup-file F] [--exit N]`:
//! run inside a container by `tests/container.rs`, it prints what it sees
//! there, one `key=value` fact per line (pid, hostname, processes, network
//! interfaces, whether lo is up, and what each option asks).
//!
//! Part of `container/`; `main.rs` calls [`probe`]. Uses clonelab's `sys`
//! and `spawn`, and std.

use super::rootfs::mount;
use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord};
use clonelab::sys;
use std::path::Path;

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
