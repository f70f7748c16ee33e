//! Breaker benchmarks.
fn main() {}
