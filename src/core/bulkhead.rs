//! The bulkhead: a semaphore that caps how many calls run at once
//! (Hystrix's `maxConcurrentRequests`, Resilience4j's `maxConcurrentCalls`).
//! The rules are stated in `docs/semantics.md` ("Bulkhead") and pinned by
//! `tests/conformance/bulkhead/`.
//!
//! # Design
//!
//! Every admitted call holds a *permit* naming one slot of a fixed table of
//! `max_concurrent` slots. A slot's `state` counts its uses: odd while held,
//! even while free; the permit carries the odd value it was issued with, so
//! an exit is a single compare-and-swap `id -> id + 1` that succeeds exactly
//! once. A second exit with the same permit (or any stale copy) finds a
//! larger value and is refused, so a permit is never released twice.
//!
//! The fast path takes no lock and one contended atomic each way: the free
//! slots form a lock-free (Treiber) stack whose head word packs the top
//! slot, the number of permits out and an ABA tag, so a single
//! compare-and-swap both admits the call (exact: the stack is empty exactly
//! when `max_concurrent` permits are out) and hands it a slot; an exit pushes
//! the slot back the same way. The rest touches only the slot's own cache
//! line.
//!
//! Only [`Bulkhead::enter_wait`] blocks, on a mutex and one condition
//! variable per waiter cell (preallocated, `max_waiters` of them). With
//! `fair`, a freed slot is handed to the oldest waiter (FIFO) and
//! [`Bulkhead::try_enter_at`] refuses to overtake queued waiters; without it,
//! an exit wakes the oldest waiter, which competes with non-waiting callers.

use super::clock;
use super::error::{check, Error, Result};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Largest `max_concurrent`: the slot table is preallocated.
///
/// cbindgen:ignore
pub const MAX_CONCURRENT: u32 = 65_536;
/// Largest `max_waiters`: waiter cells are preallocated.
///
/// cbindgen:ignore
pub const MAX_WAITERS: u32 = 65_536;

/// Named presets reproducing the anchors' defaults (`RSL_BULKHEAD_PRESET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// The library's defaults: the seeds' Hystrix semaphore
    /// (`maxConcurrentRequests` 10), fail fast, fair.
    Default = 0,
    /// Resilience4j `BulkheadConfig.ofDefaults()`: 25 calls,
    /// `maxWaitDuration` 0, fair call handling.
    Resilience4j = 1,
    /// afex/hystrix-go: `DefaultMaxConcurrent` 10, fail fast.
    Hystrix = 2,
    /// failsafe-go `bulkhead`: `maxWaitTime` 0 (fail fast), FIFO. It has no
    /// default concurrency (`bulkhead.New(n)`); the preset keeps 10.
    FailsafeGo = 3,
    /// Polly v8 rate-limiter strategy default: `ConcurrencyLimiter {
    /// PermitLimit = 1000, QueueLimit = 0 }`, oldest first.
    PollyV8 = 4,
}

impl Preset {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::Default,
            1 => Self::Resilience4j,
            2 => Self::Hystrix,
            3 => Self::FailsafeGo,
            4 => Self::PollyV8,
            _ => return None,
        })
    }
}

/// A bulkhead configuration. Field meanings and units match
/// `rsl_bulkhead_config` in the C header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Calls admitted at once, `1..=MAX_CONCURRENT`.
    pub max_concurrent: u32,
    /// FIFO hand-off to waiters, and no overtaking of queued waiters.
    pub fair: bool,
    /// Callers that may wait in [`Bulkhead::enter_wait`] at once; 0 = none.
    pub max_waiters: u32,
    /// A permit held this long or longer counts as overdue in the metrics;
    /// 0 = never. Overdue permits are reported, never reclaimed.
    pub max_hold_ns: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self::preset(Preset::Default)
    }
}

impl Config {
    /// The configuration of a named preset.
    #[must_use]
    pub fn preset(preset: Preset) -> Self {
        let base = Self {
            max_concurrent: 10,
            fair: true,
            max_waiters: 0,
            max_hold_ns: 0,
        };
        match preset {
            Preset::Default | Preset::FailsafeGo => base,
            Preset::Resilience4j => Self {
                max_concurrent: 25,
                ..base
            },
            // A buffered channel used with a non-blocking select: no queue,
            // so no order either.
            Preset::Hystrix => Self {
                fair: false,
                ..base
            },
            Preset::PollyV8 => Self {
                max_concurrent: 1000,
                ..base
            },
        }
    }

    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<()> {
        check::count_in("max_concurrent", self.max_concurrent, 1, MAX_CONCURRENT)?;
        check::count_in("max_waiters", self.max_waiters, 0, MAX_WAITERS)?;
        check::non_negative_ns("max_hold_ns", self.max_hold_ns)?;
        Ok(())
    }
}

/// An admitted call's permit: pass it, unchanged, to [`Bulkhead::exit_at`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Permit {
    /// The bulkhead that issued it (unique in the process).
    pub owner: u64,
    /// The slot's use count when issued (odd).
    pub id: u64,
    /// The slot it holds.
    pub slot: u32,
    /// When it was issued.
    pub entered_at_ns: i64,
}

/// A metrics snapshot (see `rsl_bulkhead_metrics`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// The configured cap.
    pub max_concurrent: u32,
    /// Permits out now.
    pub in_use: u32,
    /// `max_concurrent - in_use`.
    pub available: u32,
    /// Most permits ever out at once.
    pub peak_in_use: u32,
    /// Callers blocked in `enter_wait` now.
    pub waiting: u32,
    /// Permits issued over the bulkhead's life.
    pub entered_total: u64,
    /// Permits returned over its life.
    pub exited_total: u64,
    /// Entries refused (full, or the wait queue full, or the wait timed out).
    pub rejected_total: u64,
    /// The oldest permit still out: when it was issued; 0 when none is out.
    pub oldest_entered_at_ns: i64,
    /// Its age at the snapshot (never negative); 0 when none is out.
    pub oldest_held_ns: i64,
    /// Permits out for `max_hold_ns` or longer (0 when `max_hold_ns` is 0).
    pub overdue_in_use: u32,
    /// Permits returned after being held `max_hold_ns` or longer.
    pub overdue_exits_total: u64,
}

/// One slot of the table, on its own cache line.
#[repr(align(64))]
#[derive(Default)]
struct Slot {
    /// Uses: odd while held (the holder's permit id), even while free.
    state: AtomicU64,
    /// When the current holder entered.
    entered_at: AtomicI64,
    /// Free-stack link: index + 1 of the next free slot, 0 = end.
    next: AtomicU32,
}

/// A value alone on its cache line (the hot shared counters).
#[repr(align(64))]
#[derive(Default)]
struct Line<T>(T);

/// A waiter cell's state, guarded by the wait mutex.
#[derive(Clone, Copy, Debug)]
enum Cell {
    Idle,
    /// Queued, asleep.
    Waiting,
    /// Not fair: woken by an exit, to compete for a slot.
    Notified,
    /// Fair: a slot was handed over.
    Granted(Permit),
}

struct Waits {
    /// Queued cells, oldest first.
    queue: VecDeque<u32>,
    /// Unused cells.
    free: Vec<u32>,
    cells: Vec<Cell>,
}

impl Waits {
    fn set(&mut self, cell: u32, state: Cell) {
        if let Some(c) = self.cells.get_mut(cell as usize) {
            *c = state;
        }
    }

    fn get(&self, cell: u32) -> Cell {
        self.cells.get(cell as usize).copied().unwrap_or(Cell::Idle)
    }

    fn dequeue(&mut self, cell: u32) {
        self.queue.retain(|c| *c != cell);
    }
}

static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

// The free-stack head word: bits 0..17 the top slot's index + 1 (0 =
// empty), bits 17..34 the permits out, bits 34..64 an ABA tag bumped on
// every change. 17 bits hold 0..=MAX_CONCURRENT.
const INDEX_MASK: u64 = (1 << 17) - 1;
const COUNT_SHIFT: u32 = 17;
const COUNT_MASK: u64 = (1 << 17) - 1;
const TAG_ONE: u64 = 1 << 34;
const TAG_MASK: u64 = !(TAG_ONE - 1);

/// The next head word: tag bumped, `count` permits out, `top` (index + 1).
fn head_word(old: u64, count: u64, top: u64) -> u64 {
    (old & TAG_MASK).wrapping_add(TAG_ONE)
        | ((count & COUNT_MASK) << COUNT_SHIFT)
        | (top & INDEX_MASK)
}

fn head_count(head: u64) -> u64 {
    (head >> COUNT_SHIFT) & COUNT_MASK
}

/// A bulkhead. Internally synchronised: share it between threads.
pub struct Bulkhead {
    cfg: Config,
    owner: u64,
    /// Free stack head: top slot, permits out, ABA tag (see `head_word`).
    head: Line<AtomicU64>,
    waiters: Line<AtomicU32>,
    peak: AtomicU32,
    rejected: AtomicU64,
    overdue_exits: AtomicU64,
    slots: Box<[Slot]>,
    waits: Mutex<Waits>,
    signals: Box<[Condvar]>,
}

impl std::fmt::Debug for Bulkhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bulkhead")
            .field("cfg", &self.cfg)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl Bulkhead {
    /// A bulkhead with every slot free.
    pub fn new(cfg: Config) -> Result<Self> {
        cfg.validate()?;
        let n = cfg.max_concurrent;
        let slots: Box<[Slot]> = (0..n)
            .map(|i| {
                let s = Slot::default();
                // Slot i links to i + 1; the last ends the stack.
                s.next
                    .store(if i + 1 < n { i + 2 } else { 0 }, Ordering::Relaxed);
                s
            })
            .collect();
        let waiters = cfg.max_waiters;
        Ok(Self {
            cfg,
            owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
            head: Line(AtomicU64::new(1)),
            waiters: Line(AtomicU32::new(0)),
            peak: AtomicU32::new(0),
            rejected: AtomicU64::new(0),
            overdue_exits: AtomicU64::new(0),
            slots,
            waits: Mutex::new(Waits {
                queue: VecDeque::with_capacity(waiters as usize),
                free: (0..waiters).rev().collect(),
                cells: vec![Cell::Idle; waiters as usize],
            }),
            signals: (0..waiters).map(|_| Condvar::new()).collect(),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Admits one call if fewer than `max_concurrent` are in, ignoring the
    /// waiters (the callers decide about fairness): one compare-and-swap pops
    /// a free slot and counts the permit.
    fn acquire(&self, now: i64) -> Option<Permit> {
        let mut head = self.head.0.load(Ordering::SeqCst);
        let (index, count) = loop {
            let index = u32::try_from(head & INDEX_MASK).ok()?.checked_sub(1)?;
            let next = self.slots.get(index as usize)?.next.load(Ordering::Acquire);
            // A stale `next` is harmless: the tag makes the swap fail.
            let count = head_count(head) + 1;
            let new = head_word(head, count, u64::from(next));
            match self
                .head
                .0
                .compare_exchange_weak(head, new, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => break (index, count),
                Err(h) => head = h,
            }
        };
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        if count > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(count, Ordering::Relaxed);
        }
        let slot = self.slots.get(index as usize)?;
        // The slot is ours: the only other writers are exits with a stale
        // or forged permit, whose swap expects an odd value and so fails on
        // this even one. A plain store suffices; Release publishes
        // `entered_at` to the metrics.
        let id = slot.state.load(Ordering::Relaxed).wrapping_add(1);
        slot.entered_at.store(now, Ordering::Relaxed);
        slot.state.store(id, Ordering::Release);
        Some(Permit {
            owner: self.owner,
            id,
            slot: index,
            entered_at_ns: now,
        })
    }

    /// Pushes a slot back on the free stack, one permit fewer out.
    fn push_free(&self, index: u32) {
        let Some(slot) = self.slots.get(index as usize) else {
            return;
        };
        let mut head = self.head.0.load(Ordering::SeqCst);
        loop {
            slot.next.store(
                u32::try_from(head & INDEX_MASK).unwrap_or(0),
                Ordering::Relaxed,
            );
            let new = head_word(
                head,
                head_count(head).saturating_sub(1),
                u64::from(index) + 1,
            );
            match self
                .head
                .0
                .compare_exchange_weak(head, new, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return,
                Err(h) => head = h,
            }
        }
    }

    /// Gives a slot back and lets the waiters know.
    fn release(&self, index: u32) {
        self.push_free(index);
        // SeqCst pairs with the waiter's increment then acquire: either it
        // sees the freed slot or this load sees it waiting.
        if self.waiters.0.load(Ordering::SeqCst) > 0 {
            let mut waits = self.waits.lock();
            self.dispatch(&mut waits);
        }
    }

    /// Fair: hands free slots to the oldest waiters. Not fair: wakes the
    /// oldest waiter to compete for one.
    fn dispatch(&self, waits: &mut MutexGuard<'_, Waits>) {
        while let Some(&cell) = waits.queue.front() {
            if self.cfg.fair {
                let Some(permit) = self.acquire(clock::now_ns()) else {
                    break;
                };
                waits.queue.pop_front();
                waits.set(cell, Cell::Granted(permit));
                self.signal(cell);
            } else {
                waits.queue.pop_front();
                waits.set(cell, Cell::Notified);
                self.signal(cell);
                break;
            }
        }
    }

    fn signal(&self, cell: u32) {
        if let Some(cv) = self.signals.get(cell as usize) {
            cv.notify_one();
        }
    }

    fn reject(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Enters at `now` if a slot is free, else returns `None` at once (fail
    /// fast). With `fair`, also `None` while callers are queued in
    /// [`Self::enter_wait`], so they are not overtaken.
    pub fn try_enter_at(&self, now: i64) -> Option<Permit> {
        if self.cfg.fair && self.waiters.0.load(Ordering::SeqCst) > 0 {
            self.reject();
            return None;
        }
        let permit = self.acquire(now);
        if permit.is_none() {
            self.reject();
        }
        permit
    }

    /// Returns `permit` at `now`; the result is how long it was held (never
    /// negative). A permit is accepted once: a second exit, a stale copy, a
    /// permit of another bulkhead or a made-up one is an error naming
    /// `permit`, and nothing is released.
    pub fn exit_at(&self, now: i64, permit: &Permit) -> Result<i64> {
        if permit.owner != self.owner {
            return Err(Error::argument(
                "permit",
                "was not issued by this bulkhead (a foreign, zeroed or corrupted permit)",
            ));
        }
        let slot = self.slots.get(permit.slot as usize).ok_or_else(|| {
            Error::argument(
                "permit",
                format!(
                    "slot {} is out of range 0..{} (a corrupted permit)",
                    permit.slot, self.cfg.max_concurrent
                ),
            )
        })?;
        if permit.id % 2 == 0 {
            return Err(Error::argument(
                "permit",
                format!(
                    "id {} was never issued (issued ids are odd); a corrupted permit",
                    permit.id
                ),
            ));
        }
        if let Err(current) = slot.state.compare_exchange(
            permit.id,
            permit.id.wrapping_add(1),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            return Err(if current > permit.id {
                Error::argument(
                    "permit",
                    "already exited (a double exit or a stale copy); nothing was released",
                )
            } else {
                Error::argument(
                    "permit",
                    format!(
                        "id {} was never issued by slot {} (a corrupted permit)",
                        permit.id, permit.slot
                    ),
                )
            });
        }
        let entered = slot.entered_at.load(Ordering::Relaxed);
        let held = clock::elapsed(now, entered).max(0);
        if self.cfg.max_hold_ns > 0 && held >= self.cfg.max_hold_ns {
            self.overdue_exits.fetch_add(1, Ordering::Relaxed);
        }
        self.release(permit.slot);
        Ok(held)
    }

    /// Enters, waiting up to `timeout_ns` of real time (the library clock)
    /// for a slot: `Some(permit)` or `None` (full). The only call of the core
    /// that blocks. A timeout of 0, `max_waiters == 0` or a full wait queue
    /// return `None` at once when no slot is free. `timeout_ns` beyond what
    /// the clock can represent waits without a limit. The permit's
    /// `entered_at_ns` is on the library clock.
    pub fn enter_wait(&self, timeout_ns: i64) -> Result<Option<Permit>> {
        if timeout_ns < 0 {
            return Err(Error::argument(
                "timeout_ns",
                format!("must be >= 0 ns, got {timeout_ns}"),
            ));
        }
        let fast = !(self.cfg.fair && self.waiters.0.load(Ordering::SeqCst) > 0);
        if fast {
            if let Some(p) = self.acquire(clock::now_ns()) {
                return Ok(Some(p));
            }
        }
        if timeout_ns == 0 || self.cfg.max_waiters == 0 {
            self.reject();
            return Ok(None);
        }
        let until = u64::try_from(timeout_ns)
            .ok()
            .and_then(|ns| Instant::now().checked_add(Duration::from_nanos(ns)));
        let mut waits = self.waits.lock();
        let Some(cell) = waits.free.pop() else {
            drop(waits);
            self.reject();
            return Ok(None);
        };
        waits.set(cell, Cell::Waiting);
        waits.queue.push_back(cell);
        self.waiters.0.fetch_add(1, Ordering::SeqCst);
        if self.cfg.fair {
            // Slots freed before we queued go to the oldest waiters first.
            self.dispatch(&mut waits);
        } else if let Some(p) = self.acquire(clock::now_ns()) {
            waits.dequeue(cell);
            self.leave(&mut waits, cell);
            return Ok(Some(p));
        }
        loop {
            match waits.get(cell) {
                Cell::Granted(p) => {
                    self.leave(&mut waits, cell);
                    return Ok(Some(p));
                }
                Cell::Notified => {
                    if let Some(p) = self.acquire(clock::now_ns()) {
                        self.leave(&mut waits, cell);
                        return Ok(Some(p));
                    }
                    // Overtaken: queue again, at the front.
                    waits.set(cell, Cell::Waiting);
                    waits.queue.push_front(cell);
                }
                Cell::Waiting | Cell::Idle => {}
            }
            let Some(cv) = self.signals.get(cell as usize) else {
                waits.dequeue(cell);
                self.leave(&mut waits, cell);
                self.reject();
                return Ok(None);
            };
            let timed_out = match until {
                Some(t) => cv.wait_until(&mut waits, t).timed_out(),
                None => {
                    cv.wait(&mut waits);
                    false
                }
            };
            if timed_out {
                let got = match waits.get(cell) {
                    Cell::Granted(p) => Some(p),
                    Cell::Notified => self.acquire(clock::now_ns()),
                    Cell::Waiting | Cell::Idle => {
                        waits.dequeue(cell);
                        None
                    }
                };
                self.leave(&mut waits, cell);
                if got.is_none() {
                    self.reject();
                }
                return Ok(got);
            }
        }
    }

    /// Frees a waiter cell (not queued any more).
    fn leave(&self, waits: &mut MutexGuard<'_, Waits>, cell: u32) {
        waits.set(cell, Cell::Idle);
        waits.free.push(cell);
        self.waiters.0.fetch_sub(1, Ordering::SeqCst);
    }

    /// A metrics snapshot at `now`. It scans the slot table
    /// (`max_concurrent` entries); under concurrent use it is a consistent
    /// view of each slot, not of all slots at one instant.
    #[must_use]
    pub fn metrics_at(&self, now: i64) -> Metrics {
        let mut entered: u64 = 0;
        let mut out_now: u64 = 0;
        let mut oldest: Option<i64> = None;
        let mut overdue: u32 = 0;
        for slot in self.slots.iter() {
            let state = slot.state.load(Ordering::Acquire);
            entered = entered.saturating_add(state.div_ceil(2));
            if state % 2 == 1 {
                out_now += 1;
                let at = slot.entered_at.load(Ordering::Relaxed);
                oldest = Some(oldest.map_or(at, |o| o.min(at)));
                if self.cfg.max_hold_ns > 0
                    && clock::elapsed(now, at).max(0) >= self.cfg.max_hold_ns
                {
                    overdue += 1;
                }
            }
        }
        let in_use = u32::try_from(head_count(self.head.0.load(Ordering::SeqCst))).unwrap_or(0);
        Metrics {
            max_concurrent: self.cfg.max_concurrent,
            in_use,
            available: self.cfg.max_concurrent.saturating_sub(in_use),
            peak_in_use: self.peak.load(Ordering::Relaxed),
            waiting: self.waiters.0.load(Ordering::SeqCst),
            entered_total: entered,
            exited_total: entered.saturating_sub(out_now),
            rejected_total: self.rejected.load(Ordering::Relaxed),
            oldest_entered_at_ns: oldest.unwrap_or(0),
            oldest_held_ns: oldest.map_or(0, |at| clock::elapsed(now, at).max(0)),
            overdue_in_use: overdue,
            overdue_exits_total: self.overdue_exits.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn bulkhead(max: u32) -> Bulkhead {
        Bulkhead::new(Config {
            max_concurrent: max,
            ..Config::default()
        })
        .unwrap()
    }

    #[test]
    fn admits_up_to_the_cap_then_fails_fast() {
        let b = bulkhead(3);
        let permits: Vec<_> = (0..3).map(|i| b.try_enter_at(i).unwrap()).collect();
        assert!(b.try_enter_at(10).is_none());
        let m = b.metrics_at(10);
        assert_eq!((m.in_use, m.available, m.peak_in_use), (3, 0, 3));
        assert_eq!((m.entered_total, m.rejected_total), (3, 1));
        assert_eq!((m.oldest_entered_at_ns, m.oldest_held_ns), (0, 10));
        for p in &permits {
            b.exit_at(20, p).unwrap();
        }
        let m = b.metrics_at(20);
        assert_eq!((m.in_use, m.exited_total, m.peak_in_use), (0, 3, 3));
    }

    #[test]
    fn double_exit_is_refused_and_releases_nothing() {
        let b = bulkhead(1);
        let p = b.try_enter_at(0).unwrap();
        assert_eq!(b.exit_at(5, &p).unwrap(), 5);
        let e = b.exit_at(6, &p).unwrap_err();
        assert!(e.to_string().starts_with("permit: already exited"), "{e}");
        // The slot was reused: the stale permit still cannot free it.
        let q = b.try_enter_at(7).unwrap();
        assert_eq!(q.slot, p.slot);
        assert!(b.exit_at(8, &p).is_err());
        assert!(b.try_enter_at(8).is_none());
        b.exit_at(9, &q).unwrap();
    }

    #[test]
    fn foreign_and_forged_permits_are_refused() {
        let a = bulkhead(2);
        let b = bulkhead(2);
        let pa = a.try_enter_at(0).unwrap();
        assert!(b
            .exit_at(1, &pa)
            .unwrap_err()
            .to_string()
            .contains("not issued by this bulkhead"));
        let forged = Permit { slot: 7, ..pa };
        assert!(a
            .exit_at(1, &forged)
            .unwrap_err()
            .to_string()
            .contains("out of range"));
        let even = Permit { id: 2, ..pa };
        assert!(a
            .exit_at(1, &even)
            .unwrap_err()
            .to_string()
            .contains("never issued"));
        let future = Permit { id: 99, ..pa };
        assert!(a
            .exit_at(1, &future)
            .unwrap_err()
            .to_string()
            .contains("never issued by slot"));
        a.exit_at(1, &pa).unwrap();
    }

    #[test]
    fn overdue_permits_are_counted_not_reclaimed() {
        let b = Bulkhead::new(Config {
            max_concurrent: 2,
            max_hold_ns: 100,
            ..Config::default()
        })
        .unwrap();
        let p = b.try_enter_at(0).unwrap();
        assert_eq!(b.metrics_at(99).overdue_in_use, 0);
        assert_eq!(b.metrics_at(100).overdue_in_use, 1);
        assert_eq!(b.metrics_at(1_000).in_use, 1);
        b.exit_at(100, &p).unwrap();
        assert_eq!(b.metrics_at(100).overdue_exits_total, 1);
    }

    #[test]
    fn fair_try_enter_does_not_overtake_waiters() {
        let b = std::sync::Arc::new(
            Bulkhead::new(Config {
                max_concurrent: 1,
                fair: true,
                max_waiters: 1,
                max_hold_ns: 0,
            })
            .unwrap(),
        );
        let p = b.try_enter_at(0).unwrap();
        let w = {
            let b = b.clone();
            std::thread::spawn(move || b.enter_wait(i64::MAX).unwrap())
        };
        while b.metrics_at(0).waiting == 0 {
            std::thread::yield_now();
        }
        b.exit_at(1, &p).unwrap();
        let got = w.join().unwrap().unwrap();
        assert!(b.try_enter_at(2).is_none());
        b.exit_at(3, &got).unwrap();
        assert_eq!(b.metrics_at(3).in_use, 0);
    }

    #[test]
    fn bad_configs_name_the_field() {
        let bad = |c: Config| Bulkhead::new(c).unwrap_err().field;
        let d = Config::default();
        assert_eq!(
            bad(Config {
                max_concurrent: 0,
                ..d
            }),
            "max_concurrent"
        );
        assert_eq!(
            bad(Config {
                max_concurrent: MAX_CONCURRENT + 1,
                ..d
            }),
            "max_concurrent"
        );
        assert_eq!(
            bad(Config {
                max_waiters: MAX_WAITERS + 1,
                ..d
            }),
            "max_waiters"
        );
        assert_eq!(
            bad(Config {
                max_hold_ns: -1,
                ..d
            }),
            "max_hold_ns"
        );
    }
}
