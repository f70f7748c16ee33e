//! Token bucket with the semantics of `golang.org/x/time/rate`, bit for bit.
//!
//! A bucket of `burst` float tokens, full at the start, refilled continuously
//! at `limit` tokens per second. `allow` takes tokens now or not at all;
//! `reserve` takes them now and says when the caller may act (tokens may go
//! negative); `cancel` gives back what a reservation took, minus what later
//! reservations already counted on. Time may go backwards: a successful call
//! stores the earlier time, and the time after it earns tokens again.
//!
//! The float formulas are x/time/rate's (`Duration.Seconds()` split into
//! whole seconds and nanoseconds, `durationFromTokens` dividing first and
//! truncating, `Inf` = `f64::MAX`), so a decision and a token count here equal
//! upstream's to the last bit. Rules, and where we deliberately differ, in
//! `docs/semantics.md` ("Token bucket"); scenarios in
//! `tests/conformance/token_bucket/`.

use super::error::{Error, ErrorKind, Result};
use std::sync::atomic::{fence, AtomicI64, AtomicU64, Ordering};

/// The infinite rate (x/time/rate's `Inf`): every request is allowed, the
/// burst is ignored. It is `f64::MAX`, not IEEE infinity.
pub const INF: f64 = f64::MAX;

/// The largest duration (x/time/rate's `InfDuration`): the delay of a
/// reservation that is not OK, the wait a zero limit needs, "no maximum".
pub const INF_DURATION: i64 = i64::MAX;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Go's `Duration.Seconds()`: whole seconds plus the nanosecond remainder,
/// converted separately (not `d as f64 / 1e9`, which can differ in the last bit).
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn seconds(d: i64) -> f64 {
    let sec = d / NANOS_PER_SEC;
    let nsec = d % NANOS_PER_SEC;
    sec as f64 + nsec as f64 / 1e9
}

/// x/time/rate's `Every`: the limit of one event per `interval_ns`;
/// `interval_ns <= 0` is [`INF`].
#[must_use]
pub fn every(interval_ns: i64) -> f64 {
    if interval_ns <= 0 {
        INF
    } else {
        1.0 / seconds(interval_ns)
    }
}

/// x/time/rate's `durationFromTokens`: nanoseconds to earn `tokens` at
/// `limit`, `(tokens / limit) * 1e9` truncated toward zero; [`INF_DURATION`]
/// when `limit <= 0` or the result does not fit.
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
pub fn duration_from_tokens(limit: f64, tokens: f64) -> i64 {
    if limit <= 0.0 {
        return INF_DURATION;
    }
    let duration = (tokens / limit) * 1e9;
    if duration > i64::MAX as f64 {
        return INF_DURATION;
    }
    // `as` truncates toward zero (Go's float-to-int conversion) and
    // saturates below i64::MIN.
    duration as i64
}

/// x/time/rate's `tokensFromDuration`: tokens earned in `d` ns at `limit`,
/// `d.Seconds() * limit`; 0 when `limit <= 0`.
#[must_use]
pub fn tokens_from_duration(limit: f64, d: i64) -> f64 {
    if limit <= 0.0 {
        return 0.0;
    }
    seconds(d) * limit
}

/// Token bucket configuration (see `rsl_token_bucket_config`). The default is
/// x/time/rate's zero `Limiter`: limit 0, burst 0, which rejects everything.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct TokenBucketConfig {
    /// Tokens added per second: finite and `>= 0`, or [`INF`].
    pub rate_per_sec: f64,
    /// Bucket size, `>= 0`: the most tokens one call may take, and the
    /// tokens at the start.
    pub burst: i64,
}

/// Checks a limit: a number `>= 0` (`f64::MAX` being [`INF`]), not NaN,
/// not IEEE infinity.
pub fn check_limit(field: &'static str, limit: f64) -> Result<()> {
    if limit.is_nan() || limit.is_infinite() {
        return Err(Error::config(
            field,
            format!("must be a finite number >= 0, or RSL_TOKEN_BUCKET_INF (DBL_MAX) for no limit; got {limit}"),
        ));
    }
    if limit < 0.0 {
        return Err(Error::config(
            field,
            format!("must be >= 0 (0 earns no tokens), got {limit}"),
        ));
    }
    Ok(())
}

fn check_burst(field: &'static str, burst: i64) -> Result<()> {
    if burst < 0 {
        return Err(Error::config(field, format!("must be >= 0, got {burst}")));
    }
    Ok(())
}

fn check_n(n: i64) -> Result<()> {
    if n < 0 {
        return Err(negative_n(n));
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn negative_n(n: i64) -> Error {
    Error::argument("n", format!("must be >= 0, got {n}"))
}

fn as_argument(mut e: Error) -> Error {
    e.kind = ErrorKind::InvalidArgument;
    e
}

impl TokenBucketConfig {
    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<()> {
        check_limit("rate_per_sec", self.rate_per_sec)?;
        check_burst("burst", self.burst)
    }
}

/// What `reserve` hands back: a value the caller keeps, and passes to
/// `cancel` if it will not act after all.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reservation {
    /// The tokens were granted within the maximum wait.
    pub ok: bool,
    /// Tokens reserved (0 when not OK).
    pub tokens: i64,
    /// When the caller may act (`i64::MIN` when not OK).
    pub time_to_act_ns: i64,
    /// The limit in force at the reservation (0 under [`INF`], as upstream).
    pub limit: f64,
    /// The bucket that granted it; `cancel` on another bucket is an error.
    pub bucket_id: u64,
    /// Set by `cancel`, which then does nothing more for it.
    pub cancelled: bool,
}

impl Reservation {
    /// x/time/rate's `DelayFrom`: how long after `now` the caller must wait
    /// (0 = act now); [`INF_DURATION`] when not OK.
    #[must_use]
    pub fn delay_from(&self, now: i64) -> i64 {
        if !self.ok {
            return INF_DURATION;
        }
        self.time_to_act_ns.saturating_sub(now).max(0)
    }
}

#[derive(Clone, Copy, Debug)]
struct State {
    limit: f64,
    burst: i64,
    tokens: f64,
    /// The last time `tokens` was updated; `i64::MIN` before the first update
    /// (x/time/rate's zero `time.Time`, earlier than any timestamp).
    last: i64,
    /// The latest time-to-act of a reservation, past or future.
    last_event: i64,
    /// [`deny_above`] of `limit`.
    deny_above: f64,
}

/// A deficit of tokens above this needs a wait of at least 1 ns at `limit`:
/// `D > 2e-9·limit` gives `(D / limit) · 1e9 > 2·(1 − 2⁻⁵³)³ > 1` even
/// after the three roundings. Infinite (never used) for limits so small that
/// `2e-9·limit` could lose precision to subnormals.
fn deny_above(limit: f64) -> f64 {
    if limit >= 1e-250 {
        limit * 2e-9
    } else {
        f64::INFINITY
    }
}

impl State {
    /// x/time/rate's `advance`: the tokens at `t`, without changing state.
    /// A `t` before `last` adds nothing.
    #[inline]
    fn advance(&self, t: i64) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let burst = self.burst as f64;
        // Shortcuts that give the same bits: a full bucket stays full (the
        // added tokens are never negative), and no elapsed time adds +0.
        if self.tokens >= burst {
            return burst;
        }
        let last = if t < self.last { t } else { self.last };
        let elapsed = t.saturating_sub(last);
        if elapsed == 0 {
            return self.tokens;
        }
        let tokens = self.tokens + tokens_from_duration(self.limit, elapsed);
        if tokens > burst {
            burst
        } else {
            tokens
        }
    }

    /// x/time/rate's `reserveN`; the flag says whether the state changed.
    #[inline]
    fn reserve(&mut self, id: u64, t: i64, n: i64, max_wait: i64) -> (Reservation, bool) {
        if self.limit == INF {
            // Upstream leaves the reservation's limit at zero here.
            let r = Reservation {
                ok: true,
                tokens: n,
                time_to_act_ns: t,
                limit: 0.0,
                bucket_id: id,
                cancelled: false,
            };
            return (r, false);
        }
        #[allow(clippy::cast_precision_loss)]
        let tokens = self.advance(t) - n as f64;
        let wait = if tokens >= 0.0 {
            0
        } else if max_wait < 1 && -tokens > self.deny_above {
            // The wait is at least 1 ns, so the answer is no; its exact
            // value (a division) is not needed.
            1
        } else {
            duration_from_tokens(self.limit, -tokens)
        };
        let ok = n <= self.burst && wait <= max_wait;
        if !ok {
            let r = Reservation {
                ok: false,
                tokens: 0,
                time_to_act_ns: i64::MIN,
                limit: self.limit,
                bucket_id: id,
                cancelled: false,
            };
            return (r, false);
        }
        let time_to_act = t.saturating_add(wait);
        self.last = t;
        self.tokens = tokens;
        self.last_event = time_to_act;
        let r = Reservation {
            ok: true,
            tokens: n,
            time_to_act_ns: time_to_act,
            limit: self.limit,
            bucket_id: id,
            cancelled: false,
        };
        (r, true)
    }

    /// x/time/rate's `CancelAt`; true if the state changed.
    fn cancel(&mut self, t: i64, r: &Reservation) -> bool {
        if self.limit == INF || r.tokens == 0 || r.time_to_act_ns < t {
            return false;
        }
        // Tokens reserved after `r` (between its time to act and the last
        // event) stay reserved.
        #[allow(clippy::cast_precision_loss)]
        let restore = r.tokens as f64
            - tokens_from_duration(r.limit, self.last_event.saturating_sub(r.time_to_act_ns));
        if restore <= 0.0 {
            return false;
        }
        let mut tokens = self.advance(t) + restore;
        #[allow(clippy::cast_precision_loss)]
        let burst = self.burst as f64;
        if tokens > burst {
            tokens = burst;
        }
        self.last = t;
        self.tokens = tokens;
        if r.time_to_act_ns == self.last_event {
            #[allow(clippy::cast_precision_loss)]
            let back = duration_from_tokens(r.limit, (-r.tokens) as f64);
            let prev = r.time_to_act_ns.saturating_add(back);
            if prev >= t {
                self.last_event = prev;
            }
        }
        true
    }

    /// x/time/rate's `SetLimitAt` / `SetBurstAt`; always a change.
    fn set(&mut self, t: i64, limit: Option<f64>, burst: Option<i64>) -> bool {
        self.tokens = self.advance(t);
        self.last = t;
        if let Some(l) = limit {
            self.limit = l;
            self.deny_above = deny_above(l);
        }
        if let Some(b) = burst {
            self.burst = b;
        }
        true
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The state in atomics, guarded by a sequence number (a seqlock used
/// optimistically): a call reads a consistent snapshot (the sequence is even
/// and unchanged around the reads), decides on it, and if it must change the
/// state, claims the sequence from that very value (odd) with one
/// compare-and-swap, so that nothing was written since its snapshot, stores
/// and releases it (even again). A call that changes nothing (a refusal,
/// `tokens`) takes no lock at all. Every field is an atomic, so readers never
/// see torn values; the sequence tells them when a snapshot mixes two states.
#[derive(Debug)]
#[repr(align(64))]
struct Shared {
    seq: AtomicU64,
    limit: AtomicU64,
    burst: AtomicI64,
    tokens: AtomicU64,
    last: AtomicI64,
    last_event: AtomicI64,
    deny_above: AtomicU64,
}

impl Shared {
    fn new(s: State) -> Self {
        Self {
            seq: AtomicU64::new(0),
            limit: AtomicU64::new(s.limit.to_bits()),
            burst: AtomicI64::new(s.burst),
            tokens: AtomicU64::new(s.tokens.to_bits()),
            last: AtomicI64::new(s.last),
            last_event: AtomicI64::new(s.last_event),
            deny_above: AtomicU64::new(s.deny_above.to_bits()),
        }
    }

    /// A consistent snapshot and its (even) sequence, or `None` if a writer
    /// is active or wrote meanwhile.
    #[inline]
    fn snapshot(&self) -> Option<(u64, State)> {
        let seq = self.seq.load(Ordering::Acquire);
        if seq & 1 == 1 {
            return None;
        }
        let s = State {
            limit: f64::from_bits(self.limit.load(Ordering::Relaxed)),
            burst: self.burst.load(Ordering::Relaxed),
            tokens: f64::from_bits(self.tokens.load(Ordering::Relaxed)),
            last: self.last.load(Ordering::Relaxed),
            last_event: self.last_event.load(Ordering::Relaxed),
            deny_above: f64::from_bits(self.deny_above.load(Ordering::Relaxed)),
        };
        fence(Ordering::Acquire);
        (self.seq.load(Ordering::Relaxed) == seq).then_some((seq, s))
    }

    /// Runs `f` on a snapshot at the time `now()` (read after the snapshot)
    /// until it decides on a current one; stores the state if `f` says it
    /// changed. `f` may run more than once, so it must only compute.
    #[inline]
    fn update<R>(
        &self,
        mut now: impl FnMut() -> i64,
        mut f: impl FnMut(&mut State, i64) -> (R, bool),
    ) -> R {
        let mut spins = 0u32;
        loop {
            let Some((seq, mut s)) = self.snapshot() else {
                backoff(&mut spins);
                continue;
            };
            let (result, changed) = f(&mut s, now());
            if !changed {
                return result;
            }
            if self
                .seq
                .compare_exchange(seq, seq + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                backoff(&mut spins);
                continue;
            }
            fence(Ordering::Release);
            self.limit.store(s.limit.to_bits(), Ordering::Relaxed);
            self.burst.store(s.burst, Ordering::Relaxed);
            self.tokens.store(s.tokens.to_bits(), Ordering::Relaxed);
            self.last.store(s.last, Ordering::Relaxed);
            self.last_event.store(s.last_event, Ordering::Relaxed);
            self.deny_above
                .store(s.deny_above.to_bits(), Ordering::Relaxed);
            self.seq.store(seq + 2, Ordering::Release);
            return result;
        }
    }

    fn read(&self) -> State {
        self.update(|| 0, |s, _| (*s, false))
    }
}

/// Spins briefly, then yields the CPU (a writer may have been preempted
/// between its claim and its release).
fn backoff(spins: &mut u32) {
    if *spins < 64 {
        *spins += 1;
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// A thread-safe token bucket (x/time/rate's `Limiter`). Lock-free for
/// readers and refusals; a call that changes the state claims it with one
/// compare-and-swap (see `Shared`).
///
/// Every operation has an `_at(now)` form. The `_now` forms take a clock
/// function and read it after taking their snapshot, re-reading it on a
/// retry, so that the times of state changes reach the bucket in order and
/// none is credited twice (x/time/rate reads the clock before locking, where
/// a late caller's earlier time counts as time going back and earns tokens
/// again).
#[derive(Debug)]
pub struct TokenBucket {
    shared: Shared,
    id: u64,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(cfg: TokenBucketConfig) -> Result<Self> {
        cfg.validate()?;
        #[allow(clippy::cast_precision_loss)]
        let tokens = cfg.burst as f64;
        Ok(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shared: Shared::new(State {
                limit: cfg.rate_per_sec,
                burst: cfg.burst,
                tokens,
                last: i64::MIN,
                last_event: i64::MIN,
                deny_above: deny_above(cfg.rate_per_sec),
            }),
        })
    }

    /// The identity stamped on this bucket's reservations.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The current limit (tokens per second; [`INF`] = no limit).
    #[must_use]
    pub fn limit(&self) -> f64 {
        self.shared.read().limit
    }

    /// The current burst.
    #[must_use]
    pub fn burst(&self) -> i64 {
        self.shared.read().burst
    }

    /// The tokens available at `now` (negative while reservations are
    /// outstanding). Changes nothing.
    #[must_use]
    #[inline]
    pub fn tokens_at(&self, now: i64) -> f64 {
        self.tokens_now(|| now)
    }

    /// [`Self::tokens_at`] with the time read after the snapshot.
    #[inline]
    pub fn tokens_now(&self, now: impl FnMut() -> i64) -> f64 {
        self.shared.update(now, |s, t| (s.advance(t), false))
    }

    /// Whether `n` tokens may be taken at `now` (x/time/rate's `AllowN`:
    /// a reservation with no wait). `n` above the burst is simply `false`.
    /// Errors: `n` negative.
    #[inline]
    pub fn allow_at(&self, now: i64, n: i64) -> Result<bool> {
        self.allow_now(|| now, n)
    }

    /// [`Self::allow_at`] with the time read after the snapshot.
    #[inline]
    pub fn allow_now(&self, now: impl FnMut() -> i64, n: i64) -> Result<bool> {
        check_n(n)?;
        let id = self.id;
        Ok(self.shared.update(now, |s, t| {
            let (r, changed) = s.reserve(id, t, n, 0);
            (r.ok, changed)
        }))
    }

    /// Reserves `n` tokens at `now`, granted if the wait is at most
    /// `max_wait_ns` ([`INF_DURATION`] = any wait; negative = none, not even
    /// zero). A reservation that is not OK changes nothing.
    /// Errors: `n` negative; `ExceedsCapacity` when `n > burst` (unless the
    /// limit is [`INF`]), which no wait can grant.
    #[inline]
    pub fn reserve_at(&self, now: i64, n: i64, max_wait_ns: i64) -> Result<Reservation> {
        self.reserve_now(|| now, n, max_wait_ns)
    }

    /// [`Self::reserve_at`] with the time read after the snapshot.
    #[inline]
    pub fn reserve_now(
        &self,
        now: impl FnMut() -> i64,
        n: i64,
        max_wait_ns: i64,
    ) -> Result<Reservation> {
        check_n(n)?;
        let id = self.id;
        self.shared
            .update(now, |s, t| {
                if n > s.burst && s.limit != INF {
                    let e = Error {
                        kind: ErrorKind::ExceedsCapacity,
                        field: "n".into(),
                        message: String::new(),
                    };
                    return (Err((e, s.burst)), false);
                }
                let (r, changed) = s.reserve(id, t, n, max_wait_ns);
                (Ok(r), changed)
            })
            .map_err(|(mut e, burst)| {
                e.message = format!("{n} tokens exceed the burst {burst}; no wait can grant them");
                e
            })
    }

    /// Gives back what `r` reserved, at `now` (x/time/rate's `CancelAt`):
    /// nothing if `r` is not OK, the limit is [`INF`], it reserved 0 tokens
    /// or its time to act is before `now`; otherwise its tokens minus those
    /// that reservations made after it already counted on. Marks `r`
    /// cancelled: cancelling it again does nothing (upstream would give back
    /// again).
    /// Errors: `r` from another bucket, or with a corrupt limit or tokens.
    pub fn cancel_at(&self, now: i64, r: &mut Reservation) -> Result<()> {
        self.cancel_now(|| now, r)
    }

    /// [`Self::cancel_at`] with the time read after the snapshot.
    pub fn cancel_now(&self, now: impl FnMut() -> i64, r: &mut Reservation) -> Result<()> {
        if !r.ok || r.cancelled {
            return Ok(());
        }
        if r.bucket_id != self.id {
            return Err(Error::argument(
                "reservation",
                "was made by another token bucket",
            ));
        }
        check_limit("reservation.limit", r.limit).map_err(as_argument)?;
        if r.tokens < 0 {
            return Err(Error::argument(
                "reservation.tokens",
                format!("must be >= 0, got {}", r.tokens),
            ));
        }
        let held = *r;
        self.shared.update(now, |s, t| ((), s.cancel(t, &held)));
        r.cancelled = true;
        Ok(())
    }

    /// Sets the limit at `now`: the tokens are brought to `now` under the
    /// old limit first (x/time/rate's `SetLimitAt`).
    /// Errors: a limit that is NaN, IEEE infinite or negative.
    pub fn set_limit_at(&self, now: i64, limit: f64) -> Result<()> {
        self.set_limit_now(|| now, limit)
    }

    /// [`Self::set_limit_at`] with the time read after the snapshot.
    pub fn set_limit_now(&self, now: impl FnMut() -> i64, limit: f64) -> Result<()> {
        check_limit("limit", limit).map_err(as_argument)?;
        self.shared
            .update(now, |s, t| ((), s.set(t, Some(limit), None)));
        Ok(())
    }

    /// Sets the burst at `now`: the tokens are brought to `now` under the old
    /// burst first; a lower burst caps them from the next computation on.
    /// Errors: a negative burst.
    pub fn set_burst_at(&self, now: i64, burst: i64) -> Result<()> {
        self.set_burst_now(|| now, burst)
    }

    /// [`Self::set_burst_at`] with the time read after the snapshot.
    pub fn set_burst_now(&self, now: impl FnMut() -> i64, burst: i64) -> Result<()> {
        check_burst("burst", burst).map_err(as_argument)?;
        self.shared
            .update(now, |s, t| ((), s.set(t, None, Some(burst))));
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    const D: i64 = 100_000_000;

    fn bucket(limit: f64, burst: i64) -> TokenBucket {
        TokenBucket::new(TokenBucketConfig {
            rate_per_sec: limit,
            burst,
        })
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn seconds_is_gos_split_formula() {
        assert_eq!(seconds(1_500_000_000), 1.5);
        assert_eq!(seconds(-1_500_000_000), -1.5);
        assert_eq!(seconds(i64::MAX), 9_223_372_036.854_776);
        // A value where the split formula and a plain division differ.
        let d = 50_624_842_503_i64;
        #[allow(clippy::cast_precision_loss)]
        let plain = d as f64 / 1e9;
        assert_eq!(plain, 50.624_842_503);
        assert_eq!(seconds(d), 50.624_842_502_999_996);
    }

    #[test]
    fn duration_from_tokens_truncates_and_saturates() {
        assert_eq!(duration_from_tokens(3.0, 1.0), 333_333_333);
        assert_eq!(duration_from_tokens(0.0, 1.0), INF_DURATION);
        assert_eq!(duration_from_tokens(1e-10, 1.0), INF_DURATION);
        assert_eq!(duration_from_tokens(3.0, -1.0), -333_333_333);
    }

    #[test]
    fn every_matches_upstream_table() {
        assert_eq!(every(0), INF);
        assert_eq!(every(-1), INF);
        // Upstream only checks this one as "close enough" to 1e9.
        assert_eq!(every(1), 999_999_999.999_999_9);
        assert_eq!(every(D), 10.0);
        assert_eq!(every(2_500_000_000), 0.4);
    }

    #[test]
    fn burst1_sequence() {
        let b = bucket(10.0, 1);
        let steps = [
            (0, 1.0, 1, true),
            (0, 0.0, 1, false),
            (D, 1.0, 1, true),
            (2 * D, 1.0, 2, false),
            (2 * D, 1.0, 1, true),
            (2 * D, 0.0, 1, false),
        ];
        for (t, toks, n, ok) in steps {
            assert_eq!(b.tokens_at(t), toks, "tokens at {t}");
            assert_eq!(b.allow_at(t, n), Ok(ok), "allow at {t}");
        }
    }

    #[test]
    fn jump_backwards_earns_again() {
        let b = bucket(10.0, 3);
        assert_eq!(b.allow_at(D, 1), Ok(true));
        assert_eq!(b.allow_at(0, 1), Ok(true));
        assert_eq!(b.allow_at(0, 1), Ok(true));
        assert_eq!(b.allow_at(0, 1), Ok(false));
        assert_eq!(b.tokens_at(D), 1.0);
        assert_eq!(b.allow_at(D, 1), Ok(true));
    }

    #[test]
    fn cancel_multi() {
        let b = bucket(10.0, 4);
        let r = |t, n| {
            b.reserve_at(t, n, INF_DURATION)
                .unwrap_or_else(|e| unreachable!("{e}"))
        };
        assert_eq!(r(0, 4).time_to_act_ns, 0);
        let a = r(0, 3);
        assert_eq!(a.time_to_act_ns, 3 * D);
        assert_eq!(r(0, 1).time_to_act_ns, 4 * D);
        let mut c = r(0, 1);
        let mut a = a;
        assert_eq!(c.time_to_act_ns, 5 * D);
        assert_eq!(b.cancel_at(D, &mut c), Ok(()));
        assert_eq!(b.cancel_at(D, &mut a), Ok(()));
        assert_eq!(r(D, 3).time_to_act_ns, 5 * D);
    }

    #[test]
    fn exceeding_the_burst_is_an_error_for_reserve_only() {
        let b = bucket(10.0, 2);
        assert_eq!(b.allow_at(0, 3), Ok(false));
        let e = b.reserve_at(0, 3, INF_DURATION);
        assert_eq!(e.map_err(|e| e.kind), Err(ErrorKind::ExceedsCapacity));
        let inf = bucket(INF, 0);
        assert_eq!(inf.reserve_at(0, 3, 0).map(|r| r.ok), Ok(true));
    }

    #[test]
    fn deny_shortcut_agrees_with_the_exact_wait() {
        // xorshift64*, deterministic.
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        for _ in 0..2_000_000 {
            let limit = f64::from_bits(next() % 0x7FE0_0000_0000_0000);
            let deficit = f64::from_bits(next() % 0x7FE0_0000_0000_0000);
            // Also deficits right at the threshold.
            let near = deny_above(limit) * (1.0 + (next() % 8) as f64 * 1e-16);
            for d in [deficit, near] {
                if d > deny_above(limit) {
                    assert!(duration_from_tokens(limit, d) >= 1, "{limit:e} {d:e}");
                }
            }
        }
    }

    #[test]
    fn foreign_reservation_is_rejected() {
        let a = bucket(10.0, 2);
        let b = bucket(10.0, 2);
        let mut r = a
            .reserve_at(0, 1, INF_DURATION)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            b.cancel_at(0, &mut r).map_err(|e| e.field),
            Err("reservation".into())
        );
    }
}
