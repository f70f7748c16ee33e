//! Window rate limiters: at most `limit` permits per `window_ns`, counted in
//! a fixed window, a sliding window of buckets, or the weighted two-window
//! approximation of a sliding window. Windows are epoch-aligned. Rules in
//! `docs/semantics.md` ("Window limiter"); scenarios in
//! `tests/conformance/window_limiter/`.
//!
//! Timed acquisition (Resilience4j's `acquirePermission` with a
//! `timeoutDuration`): [`WindowLimiter::reserve_at`] grants now, or — when
//! the request could be granted within the caller's `max_wait_ns` — reserves
//! it at that future instant, in FIFO order behind the earlier reservations,
//! and returns the wait and a single-use ticket; otherwise it refuses and
//! reserves nothing. Reserved permits count in the window of their instant.
//! While a reservation is pending, no newcomer is granted ahead of it.

use super::criticality::Criticality;
use super::error::{check, Error, ErrorKind, Result};
use super::ticket::Scramble;
use super::window::TimeWindow;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};

/// How permits are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One epoch-aligned window of `window_ns`: the count resets at every
    /// multiple of `window_ns` (go-zero `PeriodLimit`, Resilience4j cycles).
    Fixed = 1,
    /// `buckets` epoch-aligned buckets of `window_ns / buckets`; the window
    /// is the current bucket and the `buckets − 1` before it (Sentinel's
    /// leap array, .NET `SlidingWindowRateLimiter`).
    SlidingBuckets = 2,
    /// Two epoch-aligned windows of `window_ns`; the estimate is
    /// `previous · (window_ns − elapsed) / window_ns + current`.
    SlidingWeighted = 3,
}

impl Mode {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            1 => Self::Fixed,
            2 => Self::SlidingBuckets,
            3 => Self::SlidingWeighted,
            _ => return None,
        })
    }
}

/// Named presets (`RSL_WINDOW_LIMITER_PRESET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowPreset {
    /// The library's defaults: 100 per second over 10 sliding buckets.
    Default = 0,
    /// Sentinel's QPS flow rule: 2 buckets over 1 s (`limit` is the rule's
    /// `Threshold`, which has no default; ours is kept).
    Sentinel = 1,
    /// Resilience4j `RateLimiterConfig.ofDefaults()`: 50 per 500 ns, fixed.
    Resilience4j = 2,
}

impl WindowPreset {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::Default,
            1 => Self::Sentinel,
            2 => Self::Resilience4j,
            _ => return None,
        })
    }
}

/// Largest bucket count of a sliding-buckets window.
pub(crate) const MAX_WINDOW_BUCKETS: u32 = 1 << 16;
/// Largest `max_reservations`.
///
/// cbindgen:ignore
pub const MAX_RESERVATIONS: u32 = 1 << 16;
/// Shares are in permille of `limit`.
const PERMILLE: u64 = 1000;
const SECOND: i64 = 1_000_000_000;

/// Window limiter configuration (see `rsl_window_limiter_config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowLimiterConfig {
    /// How permits are counted.
    pub mode: Mode,
    /// Permits per window (>= 1).
    pub limit: u32,
    /// Window length (> 0).
    pub window_ns: i64,
    /// SlidingBuckets only: buckets per window, `window_ns` a multiple of it.
    pub buckets: u32,
    /// Share of `limit` SHEDDABLE requests may fill, in permille.
    pub sheddable_share_permille: u32,
    /// Share of `limit` SHEDDABLE_PLUS requests may fill, in permille.
    pub sheddable_plus_share_permille: u32,
    /// Share of `limit` CRITICAL requests may fill, in permille.
    pub critical_share_permille: u32,
    /// Reservations ([`WindowLimiter::reserve_at`]) that may be pending at
    /// once, `0..=MAX_RESERVATIONS`; 0 = none (a timed acquisition that does
    /// not fit now is refused).
    pub max_reservations: u32,
}

impl Default for WindowLimiterConfig {
    fn default() -> Self {
        Self::preset(WindowPreset::Default)
    }
}

impl WindowLimiterConfig {
    /// A preset's configuration.
    #[must_use]
    pub fn preset(preset: WindowPreset) -> Self {
        let base = Self {
            mode: Mode::SlidingBuckets,
            limit: 100,
            window_ns: SECOND,
            buckets: 10,
            sheddable_share_permille: 1000,
            sheddable_plus_share_permille: 1000,
            critical_share_permille: 1000,
            max_reservations: 0,
        };
        match preset {
            WindowPreset::Default => base,
            WindowPreset::Sentinel => Self { buckets: 2, ..base },
            // Resilience4j reserves without a bound (its permission count
            // goes negative); the preset allows the most we do.
            WindowPreset::Resilience4j => Self {
                mode: Mode::Fixed,
                limit: 50,
                window_ns: 500,
                buckets: 1,
                max_reservations: MAX_RESERVATIONS,
                ..base
            },
        }
    }

    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<()> {
        if self.limit == 0 {
            return Err(Error::config("limit", "must be >= 1, got 0"));
        }
        check::positive_ns("window_ns", self.window_ns)?;
        if self.mode == Mode::SlidingBuckets {
            check::count_in("buckets", self.buckets, 1, MAX_WINDOW_BUCKETS)?;
            if self.window_ns % i64::from(self.buckets) != 0 {
                return Err(Error::config(
                    "window_ns",
                    format!(
                        "must be a multiple of buckets ({}), got {}",
                        self.buckets, self.window_ns
                    ),
                ));
            }
        }
        let shares = [
            ("sheddable_share_permille", self.sheddable_share_permille),
            (
                "sheddable_plus_share_permille",
                self.sheddable_plus_share_permille,
            ),
            ("critical_share_permille", self.critical_share_permille),
        ];
        for (field, v) in shares {
            check::count_in(field, v, 0, 1000)?;
        }
        if self.sheddable_share_permille > self.sheddable_plus_share_permille {
            return Err(Error::config(
                "sheddable_share_permille",
                format!(
                    "must be <= sheddable_plus_share_permille ({}), got {}",
                    self.sheddable_plus_share_permille, self.sheddable_share_permille
                ),
            ));
        }
        if self.sheddable_plus_share_permille > self.critical_share_permille {
            return Err(Error::config(
                "sheddable_plus_share_permille",
                format!(
                    "must be <= critical_share_permille ({}), got {}",
                    self.critical_share_permille, self.sheddable_plus_share_permille
                ),
            ));
        }
        check::count_in(
            "max_reservations",
            self.max_reservations,
            0,
            MAX_RESERVATIONS,
        )?;
        Ok(())
    }

    /// The permits a level may fill the window up to:
    /// `floor(limit · share / 1000)`, and `limit` for CRITICAL_PLUS.
    #[must_use]
    pub fn ceiling(&self, level: Criticality) -> u64 {
        let share = match level {
            Criticality::Sheddable => self.sheddable_share_permille,
            Criticality::SheddablePlus => self.sheddable_plus_share_permille,
            Criticality::Critical => self.critical_share_permille,
            Criticality::CriticalPlus => return u64::from(self.limit),
        };
        u64::from(self.limit) * u64::from(share) / PERMILLE
    }

    fn bucket_count(&self) -> u32 {
        match self.mode {
            Mode::Fixed => 1,
            Mode::SlidingBuckets => self.buckets,
            Mode::SlidingWeighted => 2,
        }
    }

    fn bucket_ns(&self) -> i64 {
        match self.mode {
            Mode::SlidingBuckets => self.window_ns / i64::from(self.buckets.max(1)),
            Mode::Fixed | Mode::SlidingWeighted => self.window_ns,
        }
    }
}

/// The answer to a try-acquire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowDecision {
    /// The permits were granted (and counted).
    pub allowed: bool,
    /// When denied: nanoseconds from `now` to the earliest instant at which
    /// the same request would be granted if nothing else were admitted
    /// meanwhile — behind the pending reservations — (always >= 1). 0 when
    /// allowed.
    pub retry_after_ns: i64,
    /// Permits counted in the window after the call (Fixed: the current
    /// window; SlidingBuckets: all its buckets; SlidingWeighted: the current
    /// window only). Pending reservations are not in it.
    pub window_count: u64,
    /// SlidingWeighted: permits counted in the previous window; else 0.
    pub previous_count: u64,
    /// Permits this level could still take at this instant (0 while
    /// reservations are pending: nobody overtakes them).
    pub remaining: u64,
    /// The level's ceiling (`limit` scaled by its share).
    pub level_limit: u64,
}

/// A reservation's ticket: one opaque 64-bit value, never 0. Cancel it with
/// [`WindowLimiter::cancel_at`] if the caller gives up before its instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WindowReservation(u64);

impl WindowReservation {
    /// The value (what the C ABI passes).
    #[must_use]
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// A ticket from its value; [`WindowLimiter::cancel_at`] refuses values
    /// it did not issue.
    #[must_use]
    pub const fn from_raw(value: u64) -> Self {
        Self(value)
    }
}

/// The answer to [`WindowLimiter::reserve_at`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reserve {
    /// Granted now (counted at `now`): go.
    Granted,
    /// Reserved: the permits are granted at `ready_at_ns`; wait `wait_ns`
    /// (from the caller's `now`, >= 1), then go.
    Reserved {
        /// The ticket, to cancel the reservation before its instant.
        reservation: WindowReservation,
        /// `ready_at_ns - now`.
        wait_ns: i64,
        /// The instant the permits are counted at.
        ready_at_ns: i64,
    },
    /// Refused, nothing reserved: the wait would exceed `max_wait_ns`.
    TooLong {
        /// The wait it would have needed (> `max_wait_ns`).
        wait_ns: i64,
    },
    /// Refused, nothing reserved: the wait fits, but `max_reservations`
    /// are already pending (or the limiter has no reservations).
    QueueFull {
        /// The wait it would have needed (<= `max_wait_ns`).
        wait_ns: i64,
    },
}

/// A metrics snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowMetrics {
    /// As in [`WindowDecision::window_count`].
    pub window_count: u64,
    /// As in [`WindowDecision::previous_count`].
    pub previous_count: u64,
    /// Permits a CRITICAL_PLUS request could take now.
    pub remaining: u64,
    /// Permits granted over the limiter's life (a reservation's when its
    /// instant comes).
    pub admitted_total: u64,
    /// Requests denied over its life (counted once per call; a refused
    /// `reserve_at` too).
    pub rejected_total: u64,
    /// Permits of the pending reservations.
    pub reserved: u64,
    /// Reservations pending now.
    pub reservations: u32,
    /// Reservations made over its life.
    pub reserved_total: u64,
    /// Reservations cancelled before their instant.
    pub cancelled_total: u64,
}

/// A pending reservation.
#[derive(Clone, Copy, Debug)]
struct Pending {
    seq: u64,
    at: i64,
    n: u64,
}

/// What became of a ticket that is no longer pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Settled {
    /// Its instant came: the permits were granted.
    Matured,
    /// Cancelled before its instant.
    Cancelled,
    /// Matured, and a cancel was told "too late".
    TooLate,
}

/// The reservation queue.
#[derive(Debug, Default)]
struct Queue {
    /// Pending reservations, oldest first; their instants never decrease.
    pending: VecDeque<Pending>,
    /// Permits of the pending reservations per bucket index, ascending.
    future: VecDeque<(i64, u64)>,
    /// Sum of the pending permits.
    reserved: u64,
    /// The last `max_reservations` settled tickets, so that a second cancel
    /// (or a cancel after the instant) is answered exactly.
    settled: HashMap<u64, Settled>,
    settled_order: VecDeque<u64>,
    /// The next ticket's sequence number (from 1).
    next_seq: u64,
    reserved_total: u64,
    cancelled_total: u64,
}

impl Queue {
    fn future_pos(&self, bucket: i64) -> std::result::Result<usize, usize> {
        self.future.binary_search_by_key(&bucket, |&(b, _)| b)
    }

    /// Pending permits in bucket `bucket`.
    fn future_at(&self, bucket: i64) -> u64 {
        self.future_pos(bucket)
            .ok()
            .and_then(|i| self.future.get(i))
            .map_or(0, |&(_, n)| n)
    }

    fn add_future(&mut self, bucket: i64, n: u64) {
        match self.future_pos(bucket) {
            Ok(i) => {
                if let Some(e) = self.future.get_mut(i) {
                    e.1 += n;
                }
            }
            Err(i) => self.future.insert(i, (bucket, n)),
        }
        self.reserved += n;
    }

    fn sub_future(&mut self, bucket: i64, n: u64) {
        if let Ok(i) = self.future_pos(bucket) {
            if let Some(e) = self.future.get_mut(i) {
                e.1 = e.1.saturating_sub(n);
                if e.1 == 0 {
                    self.future.remove(i);
                }
            }
        }
        self.reserved = self.reserved.saturating_sub(n);
    }

    fn settle(&mut self, seq: u64, how: Settled, keep: usize) {
        if self.settled.insert(seq, how).is_none() {
            self.settled_order.push_back(seq);
        }
        while self.settled_order.len() > keep {
            if let Some(old) = self.settled_order.pop_front() {
                self.settled.remove(&old);
            }
        }
    }
}

#[derive(Debug)]
struct State {
    window: TimeWindow<u64>,
    /// The latest `now` seen: earlier timestamps are treated as this one.
    latest: Option<i64>,
    admitted_total: u64,
    rejected_total: u64,
    /// The instant of the oldest pending reservation; `i64::MAX` when none
    /// is pending (the hot paths look only at this).
    first_at: i64,
    /// The reservations, out of line: they cost nothing until used.
    queue: Box<Queue>,
}

impl State {
    fn sync_first(&mut self) {
        self.first_at = self.queue.pending.front().map_or(i64::MAX, |p| p.at);
    }

    fn queued(&self) -> bool {
        self.first_at != i64::MAX
    }
}

/// A thread-safe window rate limiter.
#[derive(Debug)]
pub struct WindowLimiter {
    cfg: WindowLimiterConfig,
    keys: Scramble,
    state: Mutex<State>,
}

impl WindowLimiter {
    /// An empty limiter.
    pub fn new(cfg: WindowLimiterConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            // 0 decodes to a sequence number above any ever issued.
            keys: Scramble::new(0, 1 << 63),
            state: Mutex::new(State {
                window: TimeWindow::new(cfg.bucket_count() as usize, cfg.bucket_ns()),
                latest: None,
                admitted_total: 0,
                rejected_total: 0,
                first_at: i64::MAX,
                queue: Box::new(Queue {
                    next_seq: 1,
                    ..Queue::default()
                }),
            }),
        })
    }

    /// The configuration it was built with.
    #[must_use]
    pub fn config(&self) -> WindowLimiterConfig {
        self.cfg
    }

    /// Checks `n` against the limit and the level's ceiling; the ceiling.
    fn check_n(&self, n: u32, level: Criticality) -> Result<u64> {
        if n == 0 {
            return Err(Error::argument("n", "must be >= 1, got 0"));
        }
        let ceiling = self.cfg.ceiling(level);
        if u64::from(n) > u64::from(self.cfg.limit) {
            return Err(exceeds(format!(
                "{n} permits exceed the limit of {} per window",
                self.cfg.limit
            )));
        }
        if u64::from(n) > ceiling {
            return Err(exceeds(format!(
                "{n} permits exceed the {ceiling} a {} request may use per window",
                level.name()
            )));
        }
        Ok(ceiling)
    }

    /// Asks for `n` permits at `now` for a request of criticality `level`.
    /// While reservations are pending it is denied (nobody overtakes them),
    /// with the retry measured behind them.
    ///
    /// Errors: `n == 0` (`InvalidArgument`); `n` above `limit`, or above the
    /// level's ceiling (`ExceedsCapacity`: it could never be granted).
    pub fn try_acquire_at(&self, now: i64, n: u32, level: Criticality) -> Result<WindowDecision> {
        let ceiling = self.check_n(n, level)?;
        let mut s = self.state.lock();
        let eff = self.move_to(&mut s, now);
        let n = u64::from(n);
        let view = self.view(&s, eff);
        let queued = s.queued();
        let allowed = !queued && view.fits(n, ceiling);
        let mut retry_after_ns = 0;
        if allowed {
            s.window.add(eff, n);
            s.admitted_total = s.admitted_total.saturating_add(n);
        } else {
            s.rejected_total = s.rejected_total.saturating_add(1);
            let from = if s.queued() {
                s.queue.pending.back().map_or(eff, |p| p.at)
            } else {
                eff
            };
            retry_after_ns = self
                .earliest_fit(&s, eff, from, n, ceiling)
                .saturating_sub(now)
                .max(1);
        }
        let after = self.view(&s, eff);
        Ok(WindowDecision {
            allowed,
            retry_after_ns,
            window_count: after.current,
            previous_count: after.previous,
            remaining: if queued { 0 } else { after.remaining(ceiling) },
            level_limit: ceiling,
        })
    }

    /// Timed acquisition at `now` of `n` permits for a request of
    /// criticality `level`, waiting at most `max_wait_ns`:
    /// [`Reserve::Granted`] if they fit now and nobody is queued;
    /// [`Reserve::Reserved`] if they would fit at an instant within
    /// `max_wait_ns` (inclusive) behind the pending reservations — they are
    /// then counted at that instant, and the caller waits and goes (or
    /// cancels); otherwise a refusal that reserves nothing
    /// ([`Reserve::TooLong`], [`Reserve::QueueFull`]), counted in
    /// `rejected_total`. `max_wait_ns == 0` is a plain try-acquire.
    ///
    /// Errors: as [`Self::try_acquire_at`], and `max_wait_ns < 0`
    /// (`InvalidArgument` naming `max_wait_ns`).
    pub fn reserve_at(
        &self,
        now: i64,
        n: u32,
        level: Criticality,
        max_wait_ns: i64,
    ) -> Result<Reserve> {
        let ceiling = self.check_n(n, level)?;
        if max_wait_ns < 0 {
            return Err(Error::argument(
                "max_wait_ns",
                format!("must be >= 0 ns, got {max_wait_ns}"),
            ));
        }
        let mut s = self.state.lock();
        let eff = self.move_to(&mut s, now);
        let n = u64::from(n);
        let from = if s.queued() {
            s.queue.pending.back().map_or(eff, |p| p.at)
        } else {
            if self.view(&s, eff).fits(n, ceiling) {
                s.window.add(eff, n);
                s.admitted_total = s.admitted_total.saturating_add(n);
                return Ok(Reserve::Granted);
            }
            eff
        };
        let at = self.earliest_fit(&s, eff, from, n, ceiling);
        let wait_ns = at.saturating_sub(now).max(1);
        if wait_ns > max_wait_ns {
            s.rejected_total = s.rejected_total.saturating_add(1);
            return Ok(Reserve::TooLong { wait_ns });
        }
        if s.queue.pending.len() >= self.cfg.max_reservations as usize {
            s.rejected_total = s.rejected_total.saturating_add(1);
            return Ok(Reserve::QueueFull { wait_ns });
        }
        let bucket = s.window.index_of(at);
        let q = &mut s.queue;
        let seq = q.next_seq;
        q.next_seq += 1;
        q.pending.push_back(Pending { seq, at, n });
        q.add_future(bucket, n);
        q.reserved_total += 1;
        s.sync_first();
        Ok(Reserve::Reserved {
            reservation: WindowReservation(self.keys.encode(seq)),
            wait_ns,
            ready_at_ns: at,
        })
    }

    /// Cancels a reservation at `now`. `Ok(true)`: it was pending (its
    /// instant is after `now`), its permits are no longer counted, and the
    /// later reservations keep their instants. `Ok(false)`: too late — its
    /// instant has come, the permits were granted and stay counted. A ticket
    /// is answered once: a second cancel, another limiter's ticket or a
    /// made-up value is an error naming `reservation`, and nothing changes;
    /// so is a ticket older than the last `max_reservations` settled ones.
    pub fn cancel_at(&self, now: i64, reservation: WindowReservation) -> Result<bool> {
        let mut s = self.state.lock();
        self.move_to(&mut s, now);
        let seq = self.keys.decode(reservation.0);
        let keep = self.cfg.max_reservations as usize;
        let State {
            window, queue: q, ..
        } = &mut *s;
        if let Ok(i) = q.pending.binary_search_by_key(&seq, |p| p.seq) {
            if let Some(p) = q.pending.remove(i) {
                q.sub_future(window.index_of(p.at), p.n);
                q.cancelled_total += 1;
                q.settle(seq, Settled::Cancelled, keep);
                s.sync_first();
                return Ok(true);
            }
        }
        match q.settled.get(&seq).copied() {
            Some(Settled::Matured) => {
                q.settle(seq, Settled::TooLate, keep);
                Ok(false)
            }
            Some(Settled::Cancelled) => Err(Error::argument(
                "reservation",
                "already cancelled; nothing was changed",
            )),
            Some(Settled::TooLate) => Err(Error::argument(
                "reservation",
                "already answered too late (its permits were granted); nothing was changed",
            )),
            None => Err(Error::argument(
                "reservation",
                "not a reservation of this limiter (another limiter's, never issued, or \
                 settled longer ago than the last max_reservations); nothing was changed",
            )),
        }
    }

    /// A metrics snapshot at `now` (it moves the limiter's clock like any call).
    pub fn metrics_at(&self, now: i64) -> WindowMetrics {
        let mut s = self.state.lock();
        let eff = self.move_to(&mut s, now);
        let view = self.view(&s, eff);
        let queued = s.queued();
        WindowMetrics {
            window_count: view.current,
            previous_count: view.previous,
            remaining: if queued {
                0
            } else {
                view.remaining(u64::from(self.cfg.limit))
            },
            admitted_total: s.admitted_total,
            rejected_total: s.rejected_total,
            reserved: s.queue.reserved,
            reservations: u32::try_from(s.queue.pending.len()).unwrap_or(u32::MAX),
            reserved_total: s.queue.reserved_total,
            cancelled_total: s.queue.cancelled_total,
        }
    }

    /// Moves to `max(now, latest)` and returns it; reservations whose
    /// instant has come are counted at their instant on the way.
    #[inline]
    fn move_to(&self, s: &mut State, now: i64) -> i64 {
        let eff = s.latest.map_or(now, |l| l.max(now));
        if s.first_at <= eff {
            self.mature(s, eff);
        }
        s.latest = Some(eff);
        s.window.advance(eff);
        eff
    }

    /// Counts the reservations whose instant has come, at their instants.
    #[cold]
    #[inline(never)]
    fn mature(&self, s: &mut State, eff: i64) {
        let keep = self.cfg.max_reservations as usize;
        while let Some(&p) = s.queue.pending.front() {
            if p.at > eff {
                break;
            }
            s.queue.pending.pop_front();
            // Pending instants are later than every time seen before, so
            // this moves the window forward.
            s.window.add(p.at, p.n);
            s.admitted_total = s.admitted_total.saturating_add(p.n);
            s.queue.sub_future(s.window.index_of(p.at), p.n);
            s.queue.settle(p.seq, Settled::Matured, keep);
        }
        s.sync_first();
    }

    fn view(&self, s: &State, eff: i64) -> View {
        match self.cfg.mode {
            Mode::Fixed | Mode::SlidingBuckets => View {
                current: s.window.total(),
                previous: 0,
                weight_num: 0,
                window_ns: self.cfg.window_ns,
            },
            Mode::SlidingWeighted => {
                let head = s.window.head().unwrap_or(0);
                let elapsed = eff.rem_euclid(self.cfg.window_ns);
                View {
                    current: s.window.get(head),
                    previous: s.window.get(head.saturating_sub(1)),
                    weight_num: self.cfg.window_ns - elapsed,
                    window_ns: self.cfg.window_ns,
                }
            }
        }
    }

    /// Permits counted in bucket (or, weighted, window) `j`: granted ones
    /// still in the window and pending reservations.
    fn count(s: &State, head: i64, j: i64) -> u64 {
        let past = if j <= head { s.window.get(j) } else { 0 };
        past.saturating_add(s.queue.future_at(j))
    }

    /// The earliest instant `t >= from` at which `n` permits fit under
    /// `ceiling` if nothing else were granted meanwhile, counting the
    /// pending reservations (all at or before `from`).
    fn earliest_fit(&self, s: &State, eff: i64, from: i64, n: u64, ceiling: u64) -> i64 {
        let b = self.cfg.bucket_ns();
        let head = s.window.head().unwrap_or_else(|| eff.div_euclid(b));
        match self.cfg.mode {
            Mode::Fixed | Mode::SlidingBuckets => {
                // The count changes only at bucket starts, as the oldest
                // buckets leave the window one by one.
                let len = i64::from(self.cfg.bucket_count());
                if !s.queued() {
                    // Nothing reserved: the oldest buckets of the window
                    // leave one by one.
                    let start = eff - eff.rem_euclid(b);
                    let current = s.window.total();
                    let mut freed = 0u64;
                    for k in 1..=len {
                        freed = freed.saturating_add(s.window.get(head - len + k));
                        if current.saturating_sub(freed).saturating_add(n) <= ceiling {
                            return start.saturating_add(k.saturating_mul(b));
                        }
                    }
                    return start.saturating_add(len.saturating_mul(b));
                }
                let k0 = from.div_euclid(b);
                let mut sum = {
                    ((k0 - len + 1)..=k0)
                        .map(|j| Self::count(s, head, j))
                        .fold(0u64, u64::saturating_add)
                };
                if sum.saturating_add(n) <= ceiling {
                    return from;
                }
                for k in (k0 + 1)..=(k0 + len) {
                    sum = sum
                        .saturating_add(Self::count(s, head, k))
                        .saturating_sub(Self::count(s, head, k - len));
                    if sum.saturating_add(n) <= ceiling {
                        return k.saturating_mul(b);
                    }
                }
                (k0 + len + 1).saturating_mul(b)
            }
            Mode::SlidingWeighted => {
                let w = i128::from(self.cfg.window_ns);
                let w0 = from.div_euclid(self.cfg.window_ns);
                let e0 = i128::from(from.rem_euclid(self.cfg.window_ns));
                let start = i128::from(w0) * w;
                let c = u128::from(Self::count(s, head, w0));
                let p = u128::from(Self::count(s, head, w0 - 1));
                let (n, cap) = (u128::from(n), u128::from(ceiling));
                // Solve prev · (W − e) <= room · W for the elapsed time e in a
                // window: e >= W − floor(room · W / prev).
                let first_e = |prev: u128, room: u128| -> i128 {
                    if prev == 0 {
                        return 0;
                    }
                    let fit = i128::try_from(room * w.unsigned_abs() / prev).unwrap_or(i128::MAX);
                    (w - fit.min(w)).max(0)
                };
                let at = if c + n <= cap {
                    start + first_e(p, cap - c - n).max(e0)
                } else {
                    // Not in this window: in the next one the current count
                    // becomes the previous and the current starts at zero.
                    start + w + first_e(c, cap - n)
                };
                i64::try_from(at).unwrap_or(i64::MAX)
            }
        }
    }
}

fn exceeds(message: String) -> Error {
    Error {
        kind: ErrorKind::ExceedsCapacity,
        field: "n".into(),
        message,
    }
}

/// The counts a decision looks at.
struct View {
    current: u64,
    previous: u64,
    /// SlidingWeighted: `window_ns − elapsed` (the previous window's weight
    /// is `weight_num / window_ns`); 0 otherwise.
    weight_num: i64,
    window_ns: i64,
}

impl View {
    /// `previous · weight_num + (current + n) · W <= ceiling · W`, exactly.
    fn fits(&self, n: u64, ceiling: u64) -> bool {
        let w = u128::from(self.window_ns.unsigned_abs());
        let prev = u128::from(self.previous) * u128::from(self.weight_num.unsigned_abs());
        prev + (u128::from(self.current) + u128::from(n)) * w <= u128::from(ceiling) * w
    }

    /// The largest `n` that [`View::fits`] at this instant.
    fn remaining(&self, ceiling: u64) -> u64 {
        let w = u128::from(self.window_ns.unsigned_abs());
        let prev = u128::from(self.previous) * u128::from(self.weight_num.unsigned_abs());
        let room = (u128::from(ceiling) * w).saturating_sub(prev) / w;
        u64::try_from(room.saturating_sub(u128::from(self.current))).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(mode: Mode, limit: u32, window_ns: i64, buckets: u32) -> WindowLimiter {
        WindowLimiter::new(WindowLimiterConfig {
            mode,
            limit,
            window_ns,
            buckets,
            ..WindowLimiterConfig::default()
        })
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn take(l: &WindowLimiter, now: i64, n: u32) -> WindowDecision {
        l.try_acquire_at(now, n, Criticality::Critical)
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn queued(mode: Mode, limit: u32, window_ns: i64, buckets: u32, max: u32) -> WindowLimiter {
        WindowLimiter::new(WindowLimiterConfig {
            mode,
            limit,
            window_ns,
            buckets,
            max_reservations: max,
            ..WindowLimiterConfig::default()
        })
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn reserve(l: &WindowLimiter, now: i64, n: u32, max_wait: i64) -> Reserve {
        l.reserve_at(now, n, Criticality::Critical, max_wait)
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// The ticket of a reservation with the expected wait and instant.
    fn reserved(r: Reserve, wait: i64, at: i64) -> WindowReservation {
        match r {
            Reserve::Reserved {
                reservation,
                wait_ns,
                ready_at_ns,
            } if wait_ns == wait && ready_at_ns == at => reservation,
            other => unreachable!("expected a reservation at {at} (wait {wait}), got {other:?}"),
        }
    }

    #[test]
    fn fixed_reserves_in_fifo_order_within_the_timeout() {
        let l = queued(Mode::Fixed, 2, 1000, 1, 8);
        assert_eq!(reserve(&l, 0, 1, 0), Reserve::Granted);
        assert_eq!(reserve(&l, 0, 1, 5000), Reserve::Granted);
        let _a = reserved(reserve(&l, 100, 1, 1000), 900, 1000);
        let _b = reserved(reserve(&l, 100, 1, 900), 900, 1000);
        // The next window is taken by the two reservations: 1900 > 1000.
        assert_eq!(
            reserve(&l, 100, 1, 1000),
            Reserve::TooLong { wait_ns: 1900 }
        );
        // No overtaking: a plain acquire is denied behind them.
        let d = take(&l, 500, 1);
        assert!(!d.allowed);
        assert_eq!(
            (d.retry_after_ns, d.remaining, d.window_count),
            (1500, 0, 2)
        );
        let m = l.metrics_at(500);
        assert_eq!((m.reserved, m.reservations, m.reserved_total), (2, 2, 2));
        assert_eq!((m.admitted_total, m.rejected_total), (2, 2));
        // At their instant the reservations are the window's count.
        let m = l.metrics_at(1000);
        assert_eq!((m.window_count, m.reserved, m.admitted_total), (2, 0, 4));
        assert!(!take(&l, 1000, 1).allowed);
        assert!(take(&l, 2000, 1).allowed);
    }

    #[test]
    fn cancel_before_and_after_the_instant() {
        let l = queued(Mode::Fixed, 1, 1000, 1, 8);
        assert_eq!(reserve(&l, 0, 1, 0), Reserve::Granted);
        let a = reserved(reserve(&l, 10, 1, 5000), 990, 1000);
        let b = reserved(reserve(&l, 10, 1, 5000), 1990, 2000);
        let c = reserved(reserve(&l, 10, 1, 5000), 2990, 3000);
        // Cancelling the middle one frees its window; the others keep theirs.
        assert_eq!(l.cancel_at(20, b), Ok(true));
        assert_eq!(
            l.cancel_at(20, b).map_err(|e| e.field.into_owned()),
            Err("reservation".to_owned())
        );
        // A newcomer queues behind the last (c at 3000) even so.
        let _d = reserved(reserve(&l, 20, 1, 5000), 3980, 4000);
        assert_eq!(l.cancel_at(1000, a), Ok(false), "too late at its instant");
        assert_eq!(
            l.cancel_at(1001, a).map_err(|e| e.field.into_owned()),
            Err("reservation".to_owned())
        );
        assert!(!take(&l, 1500, 1).allowed);
        assert_eq!(l.cancel_at(2999, c), Ok(true));
        let m = l.metrics_at(2999);
        assert_eq!(
            (m.reservations, m.cancelled_total, m.reserved_total),
            (1, 2, 4)
        );
        assert_eq!(m.admitted_total, 2);
    }

    #[test]
    fn forged_and_foreign_reservations_are_refused() {
        let l = queued(Mode::Fixed, 1, 1000, 1, 8);
        let other = queued(Mode::Fixed, 1, 1000, 1, 8);
        assert_eq!(reserve(&l, 0, 1, 0), Reserve::Granted);
        assert_eq!(reserve(&other, 0, 1, 0), Reserve::Granted);
        let a = reserved(reserve(&l, 0, 1, 5000), 1000, 1000);
        let o = reserved(reserve(&other, 0, 1, 5000), 1000, 1000);
        for forged in [0, a.raw() + 1, a.raw() ^ (1 << 62), o.raw(), u64::MAX] {
            let r = l.cancel_at(1, WindowReservation::from_raw(forged));
            assert_eq!(
                r.map_err(|e| e.field.into_owned()),
                Err("reservation".to_owned()),
                "{forged:#x}"
            );
        }
        assert_eq!(l.metrics_at(1).reservations, 1);
        assert_eq!(l.cancel_at(1, a), Ok(true));
    }

    #[test]
    fn sliding_buckets_reserve_when_buckets_leave() {
        let l = queued(Mode::SlidingBuckets, 4, 1000, 4, 8);
        assert_eq!(reserve(&l, 0, 4, 0), Reserve::Granted);
        let _a = reserved(reserve(&l, 100, 2, 5000), 900, 1000);
        // Bucket [1000, 1250) holds 2 reserved: 2 more fit at 1000 too.
        let _b = reserved(reserve(&l, 100, 2, 5000), 900, 1000);
        // Full until that bucket leaves, at 2000.
        let _c = reserved(reserve(&l, 100, 1, 5000), 1900, 2000);
        assert_eq!(l.metrics_at(1999).window_count, 4);
        assert_eq!(l.metrics_at(2000).window_count, 1);
    }

    #[test]
    fn weighted_reserves_where_the_estimate_fits() {
        let l = queued(Mode::SlidingWeighted, 10, 1000, 1, 8);
        assert_eq!(reserve(&l, 500, 10, 0), Reserve::Granted);
        // As in weighted_retry_solves_the_estimate: 1300.
        let _a = reserved(reserve(&l, 1250, 3, 100), 50, 1300);
        // Behind it: 10 · (1000 − e) / 1000 + 3 + 3 <= 10 → e >= 600.
        let _b = reserved(reserve(&l, 1250, 3, 1000), 350, 1600);
        assert!(!take(&l, 1599, 1).allowed);
        let m = l.metrics_at(1600);
        assert_eq!(
            (m.window_count, m.previous_count, m.reservations),
            (6, 10, 0)
        );
    }

    #[test]
    fn no_queue_refuses_what_does_not_fit_now() {
        let l = limiter(Mode::Fixed, 1, 1000, 1);
        assert_eq!(reserve(&l, 0, 1, 10), Reserve::Granted);
        assert_eq!(
            reserve(&l, 0, 1, 1000),
            Reserve::QueueFull { wait_ns: 1000 }
        );
        assert_eq!(reserve(&l, 0, 1, 999), Reserve::TooLong { wait_ns: 1000 });
        assert_eq!(l.metrics_at(0).rejected_total, 2);
        let e = l.reserve_at(0, 1, Criticality::Critical, -1).err();
        assert!(e.is_some_and(|e| e.field == "max_wait_ns"));
    }

    #[test]
    fn wait_is_measured_from_the_callers_now() {
        let l = queued(Mode::Fixed, 1, 1000, 1, 8);
        assert_eq!(reserve(&l, 500, 1, 0), Reserve::Granted);
        // Time going back: the instant is the limiter's, the wait the caller's.
        let _a = reserved(reserve(&l, 100, 1, 1000), 900, 1000);
    }

    #[test]
    fn presets_validate() {
        for raw in 0..3 {
            let p = WindowPreset::from_raw(raw).unwrap_or(WindowPreset::Default);
            assert_eq!(WindowLimiterConfig::preset(p).validate(), Ok(()));
        }
    }

    #[test]
    fn fixed_window_boundary_burst() {
        let l = limiter(Mode::Fixed, 3, 1000, 1);
        for _ in 0..3 {
            assert!(take(&l, 999, 1).allowed);
        }
        let d = take(&l, 999, 1);
        assert!(!d.allowed);
        assert_eq!(d.retry_after_ns, 1);
        for _ in 0..3 {
            assert!(take(&l, 1000, 1).allowed);
        }
    }

    #[test]
    fn sliding_buckets_retry_is_when_enough_leaves() {
        let l = limiter(Mode::SlidingBuckets, 4, 1000, 4);
        assert!(take(&l, 0, 1).allowed); // bucket 0
        assert!(take(&l, 250, 2).allowed); // bucket 1
        assert!(take(&l, 600, 1).allowed); // bucket 2
        let d = take(&l, 700, 3);
        assert!(!d.allowed);
        // Bucket 0 leaves at 1000 (3 left, room 1), bucket 1 at 1250 (room 3).
        assert_eq!(d.retry_after_ns, 550);
        assert!(!take(&l, 1249, 3).allowed);
        assert!(take(&l, 1250, 3).allowed);
    }

    #[test]
    fn weighted_retry_solves_the_estimate() {
        let l = limiter(Mode::SlidingWeighted, 10, 1000, 1);
        assert!(take(&l, 500, 10).allowed);
        // At 1250: 10 · 750/1000 = 7.5, room 2.
        let d = take(&l, 1250, 3);
        assert!(!d.allowed);
        // Need 10 · (1000 − e) <= 7 · 1000 → e >= 300: instant 1300.
        assert_eq!(d.retry_after_ns, 50);
        assert!(!take(&l, 1299, 3).allowed);
        assert!(take(&l, 1300, 3).allowed);
    }

    #[test]
    fn weighted_next_window_when_current_is_full() {
        let l = limiter(Mode::SlidingWeighted, 10, 1000, 1);
        assert!(take(&l, 0, 10).allowed);
        assert!(take(&l, 1999, 1).allowed); // prev weight 1/1000: 0.01 + 1
        assert!(take(&l, 1999, 8).allowed); // 0.01 + 9 <= 10
        let d = take(&l, 1999, 2);
        assert!(!d.allowed);
        // Current 9 + 2 > 10: next window, prev 9 · (1000 − e) <= 8000 → e >= 112.
        assert_eq!(d.retry_after_ns, 1 + 112);
    }

    #[test]
    fn errors_name_n() {
        let l = limiter(Mode::Fixed, 3, 1000, 1);
        let e = l.try_acquire_at(0, 4, Criticality::CriticalPlus).err();
        assert!(e.is_some_and(|e| e.kind == ErrorKind::ExceedsCapacity && e.field == "n"));
        let e = l.try_acquire_at(0, 0, Criticality::CriticalPlus).err();
        assert!(e.is_some_and(|e| e.kind == ErrorKind::InvalidArgument));
    }
}
