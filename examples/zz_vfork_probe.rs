// temporary probe, not committed
use clonelab::flags::{CloneFlags as F, ExitSignal, FlagsWord};
use clonelab::{scope, sys, Stack};
use core::ffi::c_void;
use std::time::Instant;

unsafe extern "C" fn child(_: *mut c_void) -> i32 {
    0
}

fn main() {
    let sig = ExitSignal::SIGCHLD;
    let mut stack = Stack::new(64 * 1024).unwrap();
    let stack2 = Stack::new(64 * 1024).unwrap();
    let mut tid: i32 = 0;
    let variants: Vec<(&str, F)> = vec![
        ("raw VM|VFORK", F::CLONE_VM | F::CLONE_VFORK),
        (
            "raw +SETTLS",
            F::CLONE_VM | F::CLONE_VFORK | F::CLONE_SETTLS,
        ),
        (
            "raw +PARENT_SETTID",
            F::CLONE_VM | F::CLONE_VFORK | F::CLONE_PARENT_SETTID,
        ),
        (
            "raw +CHILD_CLEARTID",
            F::CLONE_VM | F::CLONE_VFORK | F::CLONE_CHILD_CLEARTID,
        ),
        (
            "raw all three",
            F::CLONE_VM
                | F::CLONE_VFORK
                | F::CLONE_SETTLS
                | F::CLONE_PARENT_SETTID
                | F::CLONE_CHILD_CLEARTID,
        ),
    ];
    let n = variants.len() + 2;
    let mut sums = vec![Vec::new(); n];
    let tidp = &mut tid as *mut i32;
    for round in 0..400 {
        for k in 0..n {
            let k = (k + round) % n;
            let t = Instant::now();
            for _ in 0..20 {
                if k < variants.len() {
                    let w = FlagsWord::new(variants[k].1, sig);
                    let pid = unsafe {
                        clonelab::clone(w, stack2.top(), tidp, tidp, 0, child, std::ptr::null_mut())
                    }
                    .unwrap();
                    sys::wait4(pid, 0).unwrap();
                } else if k == variants.len() {
                    let mask = sys::signal::sigprocmask(
                        linux_raw_sys::general::SIG_SETMASK,
                        Some(sys::signal::SigSet::FULL),
                    )
                    .unwrap();
                    let w = FlagsWord::new(variants[4].1, sig);
                    let pid = unsafe {
                        clonelab::clone(w, stack2.top(), tidp, tidp, 0, child, std::ptr::null_mut())
                    }
                    .unwrap();
                    let _ =
                        sys::signal::sigprocmask(linux_raw_sys::general::SIG_SETMASK, Some(mask));
                    sys::wait4(pid, 0).unwrap();
                } else {
                    let w = FlagsWord::new(F::CLONE_VM | F::CLONE_VFORK, sig);
                    scope(|s| {
                        let c = unsafe { s.spawn(&mut stack, w, || 0) }.unwrap();
                        c.join().unwrap()
                    });
                }
            }
            sums[k].push(t.elapsed().as_nanos() as f64 / 20.0);
        }
    }
    let names: Vec<String> = variants
        .iter()
        .map(|v| v.0.to_string())
        .chain(["raw all three + 2 sigprocmask".into(), "scope spawn".into()])
        .collect();
    let base = sums[0].clone();
    for (i, s) in sums.iter().enumerate() {
        let mut r: Vec<f64> = s.iter().zip(&base).map(|(a, b)| a / b).collect();
        r.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let mut v = s.clone();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{:34} median {:8.0} ns  ratio vs raw {:.3}",
            names[i],
            v[v.len() / 2],
            r[r.len() / 2]
        );
    }
}
