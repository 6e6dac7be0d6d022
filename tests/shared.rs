//! # `clonelab::SharedPage`: memory a fork-like child shares with its parent
//!
//! A fork-like child writes to a copy of our memory, so a value it stores in
//! an ordinary variable never reaches us. A `SharedPage` is mapped
//! `MAP_SHARED`: the child's store and futex wake reach the parent, which
//! sleeps on the slot with a timeout. Each test watches that happen — and
//! the page's errors: a wait that times out, a slot out of range — also in a
//! child that has no thread pointer, where a panic would be a crash.

use crate::common;

use clonelab::shared::{SharedError, SharedPage};
use clonelab::{scope, spawn, sys, CloneFlags, ExitSignal, FlagsWord, Stack, WaitStatus};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn fork_like() -> FlagsWord {
    FlagsWord::new(CloneFlags::EMPTY, ExitSignal::SIGCHLD)
}

/// The child stores a 64-bit value and then wakes the parent on a 32-bit
/// slot; the parent, asleep in `wait_timeout`, wakes with the child's value
/// and reads the 64-bit one. The same value in a plain variable does not
/// arrive: the page is what carries it.
#[test]
fn a_fork_like_child_writes_and_wakes_the_parent() {
    let page = SharedPage::new().expect("mmap MAP_SHARED");
    let private = AtomicU64::new(0);
    let mut child = spawn(fork_like(), || {
        // Let the parent fall asleep first, so the wake is what ends its wait.
        let _ = sys::nanosleep(Duration::from_millis(50));
        private.store(0xfeed, Ordering::SeqCst); // our copy only
        let stored = page
            .u64(3)
            .map(|slot| slot.store(0x5eed_0000_0001, Ordering::SeqCst));
        match (stored, page.store_and_wake(0, 7)) {
            (Ok(()), Ok(_)) => 0,
            _ => 1,
        }
    })
    .expect("spawn");
    let started = Instant::now();
    let woke_with = page.wait_timeout(0, 0, Duration::from_secs(10));
    let waited = started.elapsed();
    assert_eq!(
        woke_with,
        Ok(7),
        "the child's value, through the futex slot"
    );
    assert!(
        waited < Duration::from_secs(5),
        "woken by the child, not by the timeout: {waited:?}"
    );
    assert_eq!(
        page.u64(3).unwrap().load(Ordering::SeqCst),
        0x5eed_0000_0001
    );
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
    assert_eq!(
        private.load(Ordering::SeqCst),
        0,
        "a plain variable is the child's own copy: only the page is shared"
    );
}

/// Nobody changes the slot: the wait ends with `TimedOut` once the timeout
/// has passed, not before, even though a child wakes the slot meanwhile
/// without changing it (each wake-up sleeps again for what is left).
#[test]
fn a_wait_that_times_out_returns_the_timeout_error() {
    let page = SharedPage::new().expect("mmap MAP_SHARED");
    let timeout = Duration::from_millis(300);
    let mut child = spawn(fork_like(), || {
        for _ in 0..5 {
            let _ = sys::nanosleep(Duration::from_millis(20));
            let _ = page.wake(5, u32::MAX); // a wake with no new value
        }
        0
    })
    .expect("spawn");
    let started = Instant::now();
    let result = page.wait_timeout(5, 0, timeout);
    let waited = started.elapsed();
    assert_eq!(result, Err(SharedError::TimedOut { timeout }));
    assert!(waited >= timeout, "returned early, after {waited:?}");
    assert!(waited < Duration::from_secs(5), "overslept: {waited:?}");
    assert!(result.unwrap_err().to_string().contains("did not change"));
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
    // Duration::ZERO only looks.
    let zero = Duration::ZERO;
    assert_eq!(
        page.wait_timeout(5, 0, zero),
        Err(SharedError::TimedOut { timeout: zero })
    );
    assert_eq!(
        page.wait_timeout(5, 1, zero),
        Ok(0),
        "not the expected value: at once"
    );
}

/// A slot past the end is an error naming the slot and how many there are,
/// from every call that takes a slot; nothing panics.
#[test]
fn an_out_of_range_slot_is_an_error_not_a_panic() {
    let page = SharedPage::new().expect("mmap MAP_SHARED");
    let u32s = SharedPage::U32_SLOTS;
    let no_u32 = |slot| SharedError::NoSuchSlot { slot, slots: u32s };
    assert!(page.u32(u32s - 1).is_ok());
    assert_eq!(page.u32(u32s).unwrap_err(), no_u32(u32s));
    assert_eq!(page.u32(usize::MAX).unwrap_err(), no_u32(usize::MAX));
    assert_eq!(page.store_and_wake(u32s, 1), Err(no_u32(u32s)));
    assert_eq!(page.wake(u32s, 1), Err(no_u32(u32s)));
    assert_eq!(page.wait(u32s, 0), Err(no_u32(u32s)));
    assert_eq!(
        page.wait_timeout(u32s, 0, Duration::from_secs(1)),
        Err(no_u32(u32s))
    );
    let u64s = SharedPage::U64_SLOTS;
    assert!(page.u64(u64s - 1).is_ok());
    assert_eq!(
        page.u64(u64s).unwrap_err(),
        SharedError::NoSuchSlot {
            slot: u64s,
            slots: u64s
        }
    );
    let text = no_u32(u32s).to_string();
    assert!(
        text.contains("no shared slot 512") && text.contains("0 to 511"),
        "{text}"
    );
}

/// A `CLONE_VM` child of `Scope::spawn` runs with no thread pointer: a panic
/// or a thread-local there would crash it. It waits on the page with a
/// timeout, gets the out-of-range error as a value, and answers through a
/// slot; its exit status says each step went as expected.
#[test]
fn a_child_without_a_thread_pointer_uses_the_page() {
    let page = SharedPage::new().expect("mmap MAP_SHARED");
    let mut stack = Stack::new(common::STACK).expect("stack");
    let word = FlagsWord::new(CloneFlags::CLONE_VM, ExitSignal::SIGCHLD);
    let status = scope(|s| {
        // SAFETY: the closure uses only the page's atomics, futex and clock
        // syscalls, and matches on Results: no TLS, no allocation, no panic.
        let made = unsafe {
            s.spawn(&mut stack, word, || {
                // The parent writes slot 2 only after slot 3 says we are ready,
                // so this wait must time out, however late the child starts.
                if page.wait_timeout(2, 0, Duration::from_millis(1)).is_ok() {
                    return 2;
                }
                if page.u64(SharedPage::U64_SLOTS).is_ok() {
                    return 3;
                }
                if page.store_and_wake(3, 1).is_err() {
                    return 5;
                }
                match page.wait_timeout(2, 0, Duration::from_secs(10)) {
                    Ok(go) if page.store_and_wake(4, go + 1).is_ok() => 0,
                    _ => 4,
                }
            })
        };
        if common::qemu_user_cannot(&made, "CLONE_VM without CLONE_THREAD") {
            return None;
        }
        let child = made.expect("scoped CLONE_VM child");
        // Wait for the child's first two steps before giving it the go.
        assert_eq!(page.wait_timeout(3, 0, Duration::from_secs(10)), Ok(1));
        page.store_and_wake(2, 41).unwrap();
        let answer = page.wait_timeout(4, 0, Duration::from_secs(10));
        Some((answer, child.join().unwrap()))
    });
    let Some((answer, status)) = status else {
        return;
    };
    assert_eq!(
        status,
        WaitStatus::Exited(0),
        "the child's steps (see its codes)"
    );
    assert_eq!(answer, Ok(42));
}

/// `store_and_wake` wakes every sleeper, not one: two fork-like children
/// wait on the same slot (10 s at most); one store wakes both at once. (The
/// kernel reads FUTEX_WAKE's count as an `int`: a count of `u32::MAX` would be
/// -1, which wakes a single waiter.)
#[test]
fn store_and_wake_wakes_every_waiter() {
    let page = SharedPage::new().expect("mmap MAP_SHARED");
    let waiter = || {
        spawn(fork_like(), || {
            let ready = page.u32(2).map(|slot| slot.fetch_add(1, Ordering::SeqCst));
            match (ready, page.wait_timeout(1, 0, Duration::from_secs(10))) {
                (Ok(_), Ok(1)) => 0,
                (Ok(_), Err(SharedError::TimedOut { .. })) => 2,
                _ => 1,
            }
        })
        .expect("spawn")
    };
    let (mut first, mut second) = (waiter(), waiter());
    let started = Instant::now();
    while page.u32(2).unwrap().load(Ordering::SeqCst) < 2 && started.elapsed().as_secs() < 10 {
        let _ = sys::nanosleep(Duration::from_millis(1));
    }
    // Let both fall asleep (a child not yet asleep sees the new value at once).
    let _ = sys::nanosleep(Duration::from_millis(50));
    let woke_at = Instant::now();
    page.store_and_wake(1, 1).unwrap();
    let statuses = (first.wait().unwrap(), second.wait().unwrap());
    assert_eq!(
        statuses,
        (WaitStatus::Exited(0), WaitStatus::Exited(0)),
        "2: a child slept until its timeout: the store woke only one"
    );
    assert!(
        woke_at.elapsed() < Duration::from_secs(5),
        "both woke at the store, not at a timeout: {:?}",
        woke_at.elapsed()
    );
}
