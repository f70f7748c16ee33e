//! The pure decision core: safe Rust state machines driven by `(state, now_ns)`.
//!
//! Nothing here sleeps, blocks or spawns a thread to make a decision. Every
//! primitive takes the time as an argument; [`clock::now_ns`] reads the
//! library's monotonic clock for callers who do not supply one.
#![forbid(unsafe_code)]

pub mod adaptive_limiter;
pub mod adaptive_throttle;
pub mod backoff;
pub mod breaker;
pub mod bulkhead;
pub mod clock;
pub mod cpu_sampler;
pub mod criticality;
pub mod deadline;
pub mod error;
pub mod json;
pub mod leaky_bucket;
pub mod outcome;
pub mod retry;
pub mod retry_budget;
pub mod rng;
pub mod ticket;
pub mod token_bucket;
pub mod window;
pub mod window_limiter;
