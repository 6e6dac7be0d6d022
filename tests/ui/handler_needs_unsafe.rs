// Installing a handler, typed or read back from the kernel, is unsafe.
use clonelab::sys::signal::{current_action, sigaction, SigAction};
use clonelab::Signal;

extern "C" fn on_signal(_: core::ffi::c_int) {}

fn main() {
    let _ = sigaction(Signal::SIGUSR1, &SigAction::handler(on_signal));
    let old = current_action(Signal::SIGUSR1).unwrap();
    let _ = sigaction(Signal::SIGUSR1, &old);
}
