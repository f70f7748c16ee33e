//! Clock benchmarks (placeholder replaced below).
fn main() {}
