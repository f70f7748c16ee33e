//! libresilience: one resilience engine for every language.
//!
//! The Rust API is the pure core ([`core`]); the C ABI in `ffi` wraps it and
//! is described by `include/resilience.h`. See `README.md` and
//! `docs/semantics.md`.

pub mod core;
pub mod ffi;

pub use crate::core::adaptive_limiter::{AdaptiveLimiter, AdaptiveLimiterConfig, CpuSource};
pub use crate::core::adaptive_throttle::{AdaptiveThrottle, ThrottleConfig};
pub use crate::core::backoff::{Backoff, BackoffConfig, BackoffState};
pub use crate::core::breaker::{Breaker, Config as BreakerConfig};
pub use crate::core::bulkhead::{
    Bulkhead, Cancel as BulkheadCancel, Config as BulkheadConfig, Entry as BulkheadEntry,
    Exit as BulkheadExit, Handover as BulkheadHandover, Permit as BulkheadPermit,
    Waiter as BulkheadWaiter,
};
pub use crate::core::clock::now_ns;
pub use crate::core::criticality::Criticality;
pub use crate::core::deadline::PolicyConfig as DeadlinePolicyConfig;
pub use crate::core::error::{Error, ErrorKind, Result};
pub use crate::core::leaky_bucket::{LeakyBucket, LeakyConfig, LeakyMode};
pub use crate::core::outcome::Outcome;
pub use crate::core::retry::{Retry, RetryConfig, RetryState};
pub use crate::core::retry_budget::{BudgetConfig as RetryBudgetConfig, RetryBudget};
pub use crate::core::token_bucket::{Reservation, TokenBucket, TokenBucketConfig};
pub use crate::core::window_limiter::{
    Mode as WindowMode, Reserve as WindowReserve, WindowLimiter, WindowLimiterConfig,
    WindowReservation,
};
