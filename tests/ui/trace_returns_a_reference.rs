// A reference into the traced child's heap must not come back to the parent.
fn main() {
    let _ = clonelab::trace::trace(|| Vec::leak(vec![1u8; 4]) as &'static [u8]);
}
