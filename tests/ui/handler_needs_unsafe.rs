// Installing a handler, typed or read back from the kernel, is unsafe.
use clonelab::sys::signal::{current_action, sigaction, SigAction};

extern "C" fn on_signal(_: core::ffi::c_int) {}

fn main() {
    let _ = sigaction(10, &SigAction::handler(on_signal));
    let old = current_action(10).unwrap();
    let _ = sigaction(10, &old);
}
