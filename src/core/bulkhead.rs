//! The bulkhead: a semaphore that caps how many calls run at once
//! (Hystrix's `maxConcurrentRequests`, Resilience4j's `maxConcurrentCalls`)
//! with a FIFO wait queue decided here, so that no binding reimplements the
//! order. The rules are stated in `docs/semantics.md` ("Bulkhead") and
//! pinned by `tests/conformance/bulkhead/`.
//!
//! # Design
//!
//! Every admitted call holds a *permit* naming one slot of a fixed table of
//! `max_concurrent` slots. A slot's `state` counts its uses: odd while held,
//! even while free. A permit is one opaque `u64`: the slot, the low 46 bits
//! of the odd use count it was issued with, and a kind bit, through the
//! bulkhead's keyed bijection ([`super::ticket`]). An exit is a single
//! compare-and-swap `id -> id + 1` that succeeds exactly once; a second exit
//! with the same permit, a stale copy, another bulkhead's permit or a forged
//! value is refused, so a permit is never released twice.
//!
//! The fast path takes no lock and one contended atomic each way: the free
//! slots form a lock-free (Treiber) stack whose head word packs the top
//! slot, the number of permits out, a *queued* flag and an ABA tag, so a
//! single compare-and-swap both admits the call (exact: the stack is empty
//! exactly when `max_concurrent` permits are out) and hands it a slot; an
//! exit pushes the slot back the same way. The rest touches only the slot's
//! own cache line.
//!
//! # The queue
//!
//! Waiters — non-blocking tickets ([`Bulkhead::enqueue_at`]) and threads
//! blocked in [`Bulkhead::enter_wait`] — form one FIFO list of waiter cells
//! under a mutex. The queued flag in the head word is set (under the mutex)
//! only while the stack is empty and the list is not: then no
//! compare-and-swap can pop a slot (nobody overtakes a waiter) and none can
//! push one, so an exit that finds the flag takes the mutex and hands its
//! slot straight to the oldest waiter — the slot never becomes free, and the
//! exit's result names the waiter and its new permit. The mutex is taken
//! only when callers queue.
//!
//! A ticket names its cell and the cell's use count, like a permit. A cell
//! handed a slot stays allocated (so that a cancel racing the hand-off can
//! learn the permit, "too late") until that permit is exited or the cancel
//! reports it; the cell pool is therefore `max_waiters + max_concurrent`,
//! allocated on first use.

use super::clock;
use super::error::{check, Error, Result};
use super::ticket::Scramble;
use parking_lot::{Condvar, Mutex, MutexGuard};
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
    /// The queue's order. The queue is always FIFO with hand-off (a freed
    /// slot goes to the oldest waiter; nobody overtakes a waiter), so `false`
    /// is accepted only without a queue (`max_waiters == 0`), where it
    /// changes nothing: it names the Hystrix ticket pool, which has no queue.
    pub fair: bool,
    /// Waiters that may be queued at once (non-blocking tickets from
    /// [`Bulkhead::enqueue_at`] and threads blocked in
    /// [`Bulkhead::enter_wait`], one queue); 0 = no queue (fail fast).
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
        if !self.fair && self.max_waiters > 0 {
            return Err(Error::config(
                "fair",
                format!(
                    "must be 1 when max_waiters > 0 (got 0 with max_waiters {}): the wait \
                     queue is always FIFO, a freed slot going to the oldest waiter",
                    self.max_waiters
                ),
            ));
        }
        Ok(())
    }
}

/// An admitted call's permit: one opaque 64-bit value. Pass it, unchanged,
/// to [`Bulkhead::exit_at`] exactly once. Never 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permit(u64);

impl Permit {
    /// The value (what the C ABI passes).
    #[must_use]
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// A permit from its value (as returned by [`Permit::raw`]). Any value
    /// is accepted here; [`Bulkhead::exit_at`] refuses the ones it did not
    /// issue.
    #[must_use]
    pub const fn from_raw(value: u64) -> Self {
        Self(value)
    }
}

/// A queued waiter's ticket: one opaque 64-bit value, never 0. Cancel it with
/// [`Bulkhead::cancel_wait`] if the waiter gives up; otherwise an exit hands
/// it a slot ([`Handover::Waiter`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Waiter(u64);

impl Waiter {
    /// The value (what the C ABI passes).
    #[must_use]
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// A ticket from its value; [`Bulkhead::cancel_wait`] refuses values it
    /// did not issue.
    #[must_use]
    pub const fn from_raw(value: u64) -> Self {
        Self(value)
    }
}

/// The answer to [`Bulkhead::enqueue_at`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A slot was free and nobody was queued: the call runs now.
    Entered(Permit),
    /// Queued: an exit will hand this waiter a slot, or the caller cancels.
    Queued {
        /// The waiter's ticket.
        waiter: Waiter,
        /// Its place in the queue when it joined, 1 = the next served.
        position: u32,
    },
    /// No slot, and the queue is full (or there is none): run the fallback.
    Full,
}

/// Where an exit's slot went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handover {
    /// Nobody was queued: the slot is free again.
    None,
    /// To the oldest waiter, a ticket holder: complete its future with
    /// `permit`.
    Waiter {
        /// The ticket of the waiter that now holds the slot.
        waiter: Waiter,
        /// Its permit (the waiter exits it when its call is done).
        permit: Permit,
    },
    /// To the oldest waiter, a thread blocked in [`Bulkhead::enter_wait`],
    /// which has been woken with its permit: nothing to do.
    Thread,
}

/// The answer to [`Bulkhead::exit_at`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a slot handed to a waiter must be delivered to it"]
pub struct Exit {
    /// How long the permit was held (never negative).
    pub held_ns: i64,
    /// Where the slot went.
    pub handover: Handover,
}

/// The answer to [`Bulkhead::cancel_wait`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a cancel that came too late carries a permit that must be exited"]
pub enum Cancel {
    /// The waiter left the queue; it holds nothing.
    Removed,
    /// Too late: an exit had already handed the waiter this permit. The
    /// caller now owns it and must exit it (or run the call with it).
    TooLate(Permit),
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
    /// Waiters queued now (tickets and blocked threads).
    pub waiting: u32,
    /// Permits issued over the bulkhead's life (slots handed over included).
    pub entered_total: u64,
    /// Permits returned over its life.
    pub exited_total: u64,
    /// Entries refused without waiting: no slot, and no room in the queue
    /// (or no queue).
    pub rejected_total: u64,
    /// The oldest permit still out: when it was issued; 0 when none is out.
    pub oldest_entered_at_ns: i64,
    /// Its age at the snapshot (never negative); 0 when none is out.
    pub oldest_held_ns: i64,
    /// Permits out for `max_hold_ns` or longer (0 when `max_hold_ns` is 0).
    pub overdue_in_use: u32,
    /// Permits returned after being held `max_hold_ns` or longer.
    pub overdue_exits_total: u64,
    /// Waiters ever queued.
    pub queued_total: u64,
    /// Slots handed to a waiter by an exit.
    pub handed_over_total: u64,
    /// Waiters that left the queue without a slot (a cancel, or an
    /// `enter_wait` timeout). `queued_total = handed_over_total +
    /// cancelled_total + waiting`.
    pub cancelled_total: u64,
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
    /// Index + 1 of the ticket holder's cell this holding was handed to,
    /// until the permit is exited or a cancel reports it; 0 = none. Written
    /// under the wait mutex only.
    waiter: AtomicU32,
}

/// A value alone on its cache line (the hot shared word).
#[repr(align(64))]
#[derive(Default)]
struct Line<T>(T);

/// What a waiter cell holds (guarded by the wait mutex).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CellState {
    Free,
    /// In the queue.
    Queued,
    /// Handed a slot: the permit.
    Granted(u64),
}

#[derive(Clone, Copy, Debug)]
struct Cell {
    /// Uses: odd while allocated (a ticket's id), even while free.
    gen: u64,
    state: CellState,
    /// A thread blocked in `enter_wait` (its ticket is never handed out).
    blocking: bool,
    /// Queue links (cell indices), NIL at the ends.
    prev: u32,
    next: u32,
}

const NIL: u32 = u32::MAX;

/// The queue: a doubly linked FIFO list of cells, so that cancelling a
/// waiter in the middle is O(1).
struct Waits {
    cells: Vec<Cell>,
    free: Vec<u32>,
    /// The most cells that may ever be needed (`max_waiters +
    /// max_concurrent`, or 0 without a queue).
    pool: u32,
    first: u32,
    last: u32,
    len: u32,
    queued_total: u64,
    handed_total: u64,
    cancelled_total: u64,
}

impl Waits {
    fn cell(&self, i: u32) -> Option<&Cell> {
        self.cells.get(i as usize)
    }

    fn cell_mut(&mut self, i: u32) -> Option<&mut Cell> {
        self.cells.get_mut(i as usize)
    }

    /// A free cell, queued at the back.
    fn push(&mut self, blocking: bool) -> Option<u32> {
        let i = match self.free.pop() {
            Some(i) => i,
            None if (self.cells.len() as u64) < u64::from(self.pool) => {
                let i = u32::try_from(self.cells.len()).ok()?;
                self.cells.push(Cell {
                    gen: 0,
                    state: CellState::Free,
                    blocking: false,
                    prev: NIL,
                    next: NIL,
                });
                i
            }
            None => return None,
        };
        let last = self.last;
        let c = self.cell_mut(i)?;
        c.gen = c.gen.wrapping_add(1);
        c.state = CellState::Queued;
        c.blocking = blocking;
        c.prev = last;
        c.next = NIL;
        if let Some(l) = self.cell_mut(last) {
            l.next = i;
        } else {
            self.first = i;
        }
        self.last = i;
        self.len += 1;
        self.queued_total += 1;
        Some(i)
    }

    /// Takes a queued cell out of the list (its state is left to the caller).
    fn unlink(&mut self, i: u32) {
        let Some(&Cell { prev, next, .. }) = self.cell(i) else {
            return;
        };
        match self.cell_mut(prev) {
            Some(p) => p.next = next,
            None => self.first = next,
        }
        match self.cell_mut(next) {
            Some(n) => n.prev = prev,
            None => self.last = prev,
        }
        if let Some(c) = self.cell_mut(i) {
            c.prev = NIL;
            c.next = NIL;
        }
        self.len = self.len.saturating_sub(1);
    }

    fn pop_front(&mut self) -> Option<u32> {
        let i = self.first;
        self.cell(i)?;
        self.unlink(i);
        Some(i)
    }

    /// Returns a cell to the pool; its tickets become stale.
    fn release(&mut self, i: u32) {
        if let Some(c) = self.cell_mut(i) {
            c.gen = c.gen.wrapping_add(1);
            c.state = CellState::Free;
            self.free.push(i);
        }
    }
}

// The free-stack head word: bits 0..17 the top slot's index + 1 (0 =
// empty), bits 17..34 the permits out, bit 34 the queued flag, bits 35..64
// an ABA tag bumped on every change. 17 bits hold 0..=MAX_CONCURRENT.
const INDEX_MASK: u64 = (1 << 17) - 1;
const COUNT_SHIFT: u32 = 17;
const COUNT_MASK: u64 = (1 << 17) - 1;
const QUEUED: u64 = 1 << 34;
const TAG_ONE: u64 = 1 << 35;
const TAG_MASK: u64 = !(TAG_ONE - 1);

/// The next head word: tag bumped, `count` permits out, `top` (index + 1),
/// the queued flag.
fn head_word(old: u64, count: u64, top: u64, queued: bool) -> u64 {
    (old & TAG_MASK).wrapping_add(TAG_ONE)
        | ((count & COUNT_MASK) << COUNT_SHIFT)
        | (top & INDEX_MASK)
        | if queued { QUEUED } else { 0 }
}

fn head_count(head: u64) -> u64 {
    (head >> COUNT_SHIFT) & COUNT_MASK
}

fn head_top(head: u64) -> u64 {
    head & INDEX_MASK
}

// A permit's or ticket's raw value (before the bijection): bit 0 the kind,
// bits 1..18 the slot or cell index, bits 18..64 the low 46 bits of the use
// count (odd for a live one).
const KIND_PERMIT: u64 = 0;
const KIND_WAITER: u64 = 1;
const RAW_INDEX_MASK: u64 = (1 << 17) - 1;
const GEN_SHIFT: u32 = 18;
const GEN_MASK: u64 = (1 << 46) - 1;

fn pack(kind: u64, index: u32, id: u64) -> u64 {
    ((id & GEN_MASK) << GEN_SHIFT) | ((u64::from(index) & RAW_INDEX_MASK) << 1) | kind
}

/// `(kind, index, low 46 bits of the id)`.
fn unpack(raw: u64) -> (u64, u32, u64) {
    let index = u32::try_from((raw >> 1) & RAW_INDEX_MASK).unwrap_or(u32::MAX);
    (raw & 1, index, raw >> GEN_SHIFT)
}

/// The outcome of joining the queue under the mutex.
enum Join {
    Entered(Permit),
    Queued { cell: u32, position: u32 },
    Full,
}

#[cold]
fn not_a_permit() -> Error {
    Error::argument(
        "permit",
        "not a permit this bulkhead has out (already exited, a stale copy, another \
         bulkhead's, a waiter ticket, or never issued); nothing was released",
    )
}

#[cold]
fn not_a_waiter() -> Error {
    Error::argument(
        "waiter",
        "not a ticket waiting in or served by this bulkhead's queue (already cancelled, \
         its permit already exited, another bulkhead's, a permit, or never issued); \
         nothing was changed",
    )
}

/// A bulkhead. Internally synchronised: share it between threads.
pub struct Bulkhead {
    cfg: Config,
    keys: Scramble,
    /// Free stack head: top slot, permits out, queued flag, ABA tag.
    head: Line<AtomicU64>,
    peak: AtomicU32,
    rejected: AtomicU64,
    overdue_exits: AtomicU64,
    slots: Box<[Slot]>,
    waits: Mutex<Waits>,
    /// One per cell, for blocked threads.
    signals: Box<[Condvar]>,
}

impl std::fmt::Debug for Bulkhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bulkhead")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Bulkhead {
    /// A bulkhead with every slot free and nobody queued.
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
        let pool = if cfg.max_waiters == 0 {
            0
        } else {
            cfg.max_waiters + cfg.max_concurrent
        };
        Ok(Self {
            cfg,
            // The value 0 decodes to an even use count: never live.
            keys: Scramble::new(1 << GEN_SHIFT, 0),
            head: Line(AtomicU64::new(1)),
            peak: AtomicU32::new(0),
            rejected: AtomicU64::new(0),
            overdue_exits: AtomicU64::new(0),
            slots,
            waits: Mutex::new(Waits {
                cells: Vec::new(),
                free: Vec::new(),
                pool,
                first: NIL,
                last: NIL,
                len: 0,
                queued_total: 0,
                handed_total: 0,
                cancelled_total: 0,
            }),
            signals: (0..pool).map(|_| Condvar::new()).collect(),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    #[inline]
    fn permit(&self, index: u32, id: u64) -> Permit {
        Permit(self.keys.encode(pack(KIND_PERMIT, index, id)))
    }

    fn waiter(&self, cell: u32, gen: u64) -> Waiter {
        Waiter(self.keys.encode(pack(KIND_WAITER, cell, gen)))
    }

    /// Admits one call if a slot is free and nobody is queued: one
    /// compare-and-swap pops a free slot and counts the permit.
    #[inline]
    fn acquire(&self, now: i64) -> Option<Permit> {
        let mut head = self.head.0.load(Ordering::SeqCst);
        let (index, count) = loop {
            if head & QUEUED != 0 {
                return None;
            }
            let index = u32::try_from(head_top(head)).ok()?.checked_sub(1)?;
            let next = self.slots.get(index as usize)?.next.load(Ordering::Acquire);
            // A stale `next` is harmless: the tag makes the swap fail.
            let count = head_count(head) + 1;
            let new = head_word(head, count, u64::from(next), false);
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
        Some(self.permit(index, id))
    }

    /// Pushes a freed slot back on the stack, one permit fewer out; `false`
    /// (nothing done) while waiters are queued: the slot is theirs.
    #[inline]
    fn push_free(&self, index: u32) -> bool {
        let Some(slot) = self.slots.get(index as usize) else {
            return true;
        };
        let mut head = self.head.0.load(Ordering::SeqCst);
        loop {
            if head & QUEUED != 0 {
                return false;
            }
            slot.next.store(
                u32::try_from(head_top(head)).unwrap_or(0),
                Ordering::Relaxed,
            );
            let new = head_word(
                head,
                head_count(head).saturating_sub(1),
                u64::from(index) + 1,
                false,
            );
            match self
                .head
                .0
                .compare_exchange_weak(head, new, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(h) => head = h,
            }
        }
    }

    /// Sets or clears the queued flag, the rest unchanged. Called with the
    /// wait mutex held; setting requires an empty stack (`false` if a slot
    /// was pushed meanwhile: try to acquire it instead).
    fn set_queued(&self, queued: bool) -> bool {
        let mut head = self.head.0.load(Ordering::SeqCst);
        loop {
            if queued && head_top(head) != 0 {
                return false;
            }
            let new = head_word(head, head_count(head), head_top(head), queued);
            match self
                .head
                .0
                .compare_exchange_weak(head, new, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(h) => head = h,
            }
        }
    }

    /// Gives a freed slot (state even) to the oldest waiter, or back to the
    /// stack when nobody is queued. With the wait mutex held.
    fn release_locked(&self, w: &mut MutexGuard<'_, Waits>, index: u32, now: i64) -> Handover {
        loop {
            if self.head.0.load(Ordering::SeqCst) & QUEUED == 0 {
                // Nobody queued (a cancel emptied the queue since the exit
                // looked): the flag cannot be set while we hold the mutex.
                if self.push_free(index) {
                    return Handover::None;
                }
                continue;
            }
            if let Some(h) = self.hand_over(w, index, now) {
                return h;
            }
            // Flag set with an empty list cannot happen; repair it.
            self.set_queued(false);
        }
    }

    /// Hands slot `index` to the oldest waiter: a new holding (use count
    /// + 1), the permit recorded in the waiter's cell.
    fn hand_over(&self, w: &mut MutexGuard<'_, Waits>, index: u32, now: i64) -> Option<Handover> {
        let cell = w.pop_front()?;
        if w.len == 0 {
            self.set_queued(false);
        }
        let slot = self.slots.get(index as usize)?;
        let id = slot.state.load(Ordering::Relaxed).wrapping_add(1);
        let permit = self.permit(index, id);
        let c = w.cell_mut(cell)?;
        c.state = CellState::Granted(permit.0);
        let (blocking, gen) = (c.blocking, c.gen);
        w.handed_total += 1;
        slot.entered_at.store(now, Ordering::Relaxed);
        slot.waiter
            .store(if blocking { 0 } else { cell + 1 }, Ordering::Relaxed);
        slot.state.store(id, Ordering::Release);
        if blocking {
            if let Some(cv) = self.signals.get(cell as usize) {
                cv.notify_one();
            }
            Some(Handover::Thread)
        } else {
            Some(Handover::Waiter {
                waiter: self.waiter(cell, gen),
                permit,
            })
        }
    }

    /// Enters now, or queues (`blocking` says for whom), or says full. With
    /// the wait mutex held.
    fn join(&self, w: &mut MutexGuard<'_, Waits>, now: i64, blocking: bool) -> Join {
        loop {
            if let Some(p) = self.acquire(now) {
                return Join::Entered(p);
            }
            if w.len >= self.cfg.max_waiters {
                return Join::Full;
            }
            // No slot (or the flag already set): queue. Setting the flag
            // fails if an exit pushed a slot meanwhile; then take it.
            if !self.set_queued(true) {
                continue;
            }
            return match w.push(blocking) {
                Some(cell) => Join::Queued {
                    cell,
                    position: w.len,
                },
                None => {
                    // The pool is sized so this cannot happen.
                    if w.len == 0 {
                        self.set_queued(false);
                    }
                    Join::Full
                }
            };
        }
    }

    #[cold]
    fn reject(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Enters at `now` if a slot is free and nobody is queued, else returns
    /// `None` at once (fail fast): a queued waiter is never overtaken.
    #[inline]
    pub fn try_enter_at(&self, now: i64) -> Option<Permit> {
        let permit = self.acquire(now);
        if permit.is_none() {
            self.reject();
        }
        permit
    }

    /// Enters at `now`, or joins the FIFO queue without blocking, or says
    /// full. [`Entry::Entered`]: a slot was free and nobody was queued.
    /// [`Entry::Queued`]: the waiter's ticket and its place; an exit will
    /// hand it a slot ([`Handover::Waiter`], with its permit) unless it is
    /// cancelled first ([`Self::cancel_wait`]; the waiter's timeout is the
    /// caller's timer). [`Entry::Full`]: no slot and `max_waiters` already
    /// queued (or `max_waiters == 0`). Lock-free when a slot is free.
    pub fn enqueue_at(&self, now: i64) -> Entry {
        if let Some(p) = self.acquire(now) {
            return Entry::Entered(p);
        }
        if self.cfg.max_waiters > 0 {
            let mut w = self.waits.lock();
            match self.join(&mut w, now, false) {
                Join::Entered(p) => return Entry::Entered(p),
                Join::Queued { cell, position } => {
                    let gen = w.cell(cell).map_or(0, |c| c.gen);
                    return Entry::Queued {
                        waiter: self.waiter(cell, gen),
                        position,
                    };
                }
                Join::Full => {}
            }
        }
        self.reject();
        Entry::Full
    }

    /// Returns `permit` at `now`: the slot goes to the oldest waiter if any
    /// is queued (the result says which, with its new permit, timed from
    /// `now`), else it is free again. A permit is accepted once: a second
    /// exit, a stale copy, a permit of another bulkhead, a waiter ticket or a
    /// made-up value is an error naming `permit`, and nothing is released.
    #[inline]
    pub fn exit_at(&self, now: i64, permit: Permit) -> Result<Exit> {
        let (kind, index, gen) = unpack(self.keys.decode(permit.0));
        let slot = match self.slots.get(index as usize) {
            Some(s) if kind == KIND_PERMIT && gen % 2 == 1 && permit.0 != 0 => s,
            _ => return Err(not_a_permit()),
        };
        // The use count's high bits are 0 until 2^46 uses of the slot: try
        // the permit's id itself first (one atomic), then the slow way.
        if slot
            .state
            .compare_exchange(
                gen,
                gen.wrapping_add(1),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            Self::exit_wrapped(slot, gen)?;
        }
        let entered = slot.entered_at.load(Ordering::Relaxed);
        let held_ns = clock::elapsed(now, entered).max(0);
        if self.cfg.max_hold_ns > 0 && held_ns >= self.cfg.max_hold_ns {
            self.overdue_exits.fetch_add(1, Ordering::Relaxed);
        }
        // Set only for a holding handed to a ticket (under the mutex, before
        // the permit existed); only a cancel clears it meanwhile.
        let handover = if slot.waiter.load(Ordering::Acquire) == 0 && self.push_free(index) {
            Handover::None
        } else {
            self.exit_slow(slot, index, now)
        };
        Ok(Exit { held_ns, handover })
    }

    /// The exit's compare-and-swap when the use count has high bits (after
    /// 2^46 uses of the slot) or the permit is not live.
    #[cold]
    fn exit_wrapped(slot: &Slot, gen: u64) -> Result<()> {
        let mut state = slot.state.load(Ordering::Acquire);
        loop {
            if state % 2 == 0 || state & GEN_MASK != gen {
                return Err(not_a_permit());
            }
            match slot.state.compare_exchange(
                state,
                state.wrapping_add(1),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(s) => state = s,
            }
        }
    }

    /// The exit's queue path: the holding was handed to a ticket (release
    /// its cell), or waiters are queued (hand the slot over).
    #[cold]
    #[inline(never)]
    fn exit_slow(&self, slot: &Slot, index: u32, now: i64) -> Handover {
        let mut w = self.waits.lock();
        let cell = slot.waiter.swap(0, Ordering::Relaxed);
        if let Some(c) = cell.checked_sub(1) {
            w.release(c);
        }
        self.release_locked(&mut w, index, now)
    }

    /// Removes a queued waiter (its timeout fired, or its caller gave up).
    /// [`Cancel::Removed`]: it was still queued and now holds nothing.
    /// [`Cancel::TooLate`]: an exit had already handed it a slot; the result
    /// carries that permit, which the caller now owns and must exit. A ticket
    /// is settled once: cancelling it again (or after its permit was
    /// exited), another bulkhead's ticket, a permit or a made-up value is an
    /// error naming `waiter`, and nothing changes.
    pub fn cancel_wait(&self, waiter: Waiter) -> Result<Cancel> {
        let (kind, cell, gen) = unpack(self.keys.decode(waiter.0));
        if kind != KIND_WAITER || gen % 2 == 0 || waiter.0 == 0 {
            return Err(not_a_waiter());
        }
        let mut w = self.waits.lock();
        let state = match w.cell(cell) {
            Some(c) if !c.blocking && c.gen & GEN_MASK == gen => c.state,
            _ => return Err(not_a_waiter()),
        };
        match state {
            CellState::Queued => {
                w.unlink(cell);
                w.release(cell);
                w.cancelled_total += 1;
                if w.len == 0 {
                    self.set_queued(false);
                }
                Ok(Cancel::Removed)
            }
            CellState::Granted(p) => {
                let (_, index, _) = unpack(self.keys.decode(p));
                if let Some(slot) = self.slots.get(index as usize) {
                    // The permit is live (its exit would have released this
                    // cell), so the slot still links here.
                    let _ = slot.waiter.compare_exchange(
                        cell + 1,
                        0,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
                w.release(cell);
                Ok(Cancel::TooLate(Permit(p)))
            }
            CellState::Free => Err(not_a_waiter()),
        }
    }

    /// Enters, **blocking the calling thread** up to `timeout_ns` of real
    /// time (the library clock) for a slot: `Some(permit)` or `None`. The
    /// only call of the core that blocks. It joins the same FIFO queue as
    /// [`Self::enqueue_at`] (one order for both kinds of waiter) and is
    /// handed a slot the same way. A timeout of 0, `max_waiters == 0` or a
    /// full queue return `None` at once when no slot is free. `timeout_ns`
    /// beyond what the clock can represent waits without a limit. The
    /// permit's entry time is on the library clock (or, when handed over,
    /// the exit's `now`).
    pub fn enter_wait(&self, timeout_ns: i64) -> Result<Option<Permit>> {
        if timeout_ns < 0 {
            return Err(Error::argument(
                "timeout_ns",
                format!("must be >= 0 ns, got {timeout_ns}"),
            ));
        }
        if let Some(p) = self.acquire(clock::now_ns()) {
            return Ok(Some(p));
        }
        if timeout_ns == 0 || self.cfg.max_waiters == 0 {
            self.reject();
            return Ok(None);
        }
        let until = u64::try_from(timeout_ns)
            .ok()
            .and_then(|ns| Instant::now().checked_add(Duration::from_nanos(ns)));
        let mut w = self.waits.lock();
        let cell = match self.join(&mut w, clock::now_ns(), true) {
            Join::Entered(p) => return Ok(Some(p)),
            Join::Full => {
                drop(w);
                self.reject();
                return Ok(None);
            }
            Join::Queued { cell, .. } => cell,
        };
        let mut timed_out = false;
        loop {
            match w.cell(cell).map(|c| c.state) {
                Some(CellState::Granted(p)) => {
                    w.release(cell);
                    return Ok(Some(Permit(p)));
                }
                Some(CellState::Queued) if timed_out => {
                    w.unlink(cell);
                    w.release(cell);
                    w.cancelled_total += 1;
                    if w.len == 0 {
                        self.set_queued(false);
                    }
                    return Ok(None);
                }
                Some(CellState::Queued) => {}
                Some(CellState::Free) | None => return Ok(None),
            }
            let Some(cv) = self.signals.get(cell as usize) else {
                timed_out = true;
                continue;
            };
            timed_out = match until {
                Some(t) => cv.wait_until(&mut w, t).timed_out(),
                None => {
                    cv.wait(&mut w);
                    false
                }
            };
        }
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
        let (waiting, queued_total, handed_over_total, cancelled_total) =
            if self.cfg.max_waiters > 0 {
                let w = self.waits.lock();
                (w.len, w.queued_total, w.handed_total, w.cancelled_total)
            } else {
                (0, 0, 0, 0)
            };
        Metrics {
            max_concurrent: self.cfg.max_concurrent,
            in_use,
            available: self.cfg.max_concurrent.saturating_sub(in_use),
            peak_in_use: self.peak.load(Ordering::Relaxed),
            waiting,
            entered_total: entered,
            exited_total: entered.saturating_sub(out_now),
            rejected_total: self.rejected.load(Ordering::Relaxed),
            oldest_entered_at_ns: oldest.unwrap_or(0),
            oldest_held_ns: oldest.map_or(0, |at| clock::elapsed(now, at).max(0)),
            overdue_in_use: overdue,
            overdue_exits_total: self.overdue_exits.load(Ordering::Relaxed),
            queued_total,
            handed_over_total,
            cancelled_total,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn bulkhead(max: u32) -> Bulkhead {
        Bulkhead::new(Config {
            max_concurrent: max,
            ..Config::default()
        })
        .unwrap()
    }

    fn queue(max: u32, waiters: u32) -> Bulkhead {
        Bulkhead::new(Config {
            max_concurrent: max,
            max_waiters: waiters,
            ..Config::default()
        })
        .unwrap()
    }

    fn entered(e: Entry) -> Permit {
        match e {
            Entry::Entered(p) => p,
            other => panic!("expected entered, got {other:?}"),
        }
    }

    fn queued(e: Entry, at: u32) -> Waiter {
        match e {
            Entry::Queued { waiter, position } if position == at => waiter,
            other => panic!("expected queued at {at}, got {other:?}"),
        }
    }

    fn handed(x: Exit) -> (Waiter, Permit) {
        match x.handover {
            Handover::Waiter { waiter, permit } => (waiter, permit),
            other => panic!("expected a hand-over, got {other:?}"),
        }
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
            assert_eq!(b.exit_at(20, *p).unwrap().handover, Handover::None);
        }
        let m = b.metrics_at(20);
        assert_eq!((m.in_use, m.exited_total, m.peak_in_use), (0, 3, 3));
    }

    #[test]
    fn permits_are_distinct_nonzero_values() {
        let b = bulkhead(4);
        let p: Vec<_> = (0..4).map(|i| b.try_enter_at(i).unwrap()).collect();
        for (i, a) in p.iter().enumerate() {
            assert_ne!(a.raw(), 0);
            for c in p.iter().skip(i + 1) {
                assert_ne!(a, c);
            }
        }
    }

    #[test]
    fn double_exit_is_refused_and_releases_nothing() {
        let b = bulkhead(1);
        let p = b.try_enter_at(0).unwrap();
        assert_eq!(b.exit_at(5, p).unwrap().held_ns, 5);
        let e = b.exit_at(6, p).unwrap_err();
        assert!(e.to_string().starts_with("permit: not a permit"), "{e}");
        // The slot was reused: the stale permit still cannot free it.
        let q = b.try_enter_at(7).unwrap();
        assert_ne!(q, p);
        assert!(b.exit_at(8, p).is_err());
        assert!(b.try_enter_at(8).is_none());
        assert_eq!(b.exit_at(9, q).unwrap().held_ns, 2);
    }

    #[test]
    fn foreign_and_forged_permits_are_refused() {
        let a = bulkhead(2);
        let b = bulkhead(2);
        let pa = a.try_enter_at(0).unwrap();
        let pb = b.try_enter_at(0).unwrap();
        assert_eq!(b.exit_at(1, pa).unwrap_err().field, "permit");
        for forged in [
            0,
            pa.raw() + 1,
            pa.raw() - 1,
            pa.raw() ^ 1,
            pa.raw() ^ (1 << 40),
            pa.raw() ^ (1 << 63),
            u64::MAX,
        ] {
            let e = a.exit_at(1, Permit::from_raw(forged)).unwrap_err();
            assert_eq!(e.field, "permit", "{forged:#x}");
        }
        assert_eq!(a.metrics_at(1).in_use, 1);
        let _ = a.exit_at(1, pa).unwrap();
        let _ = b.exit_at(1, pb).unwrap();
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
        let _ = b.exit_at(100, p).unwrap();
        assert_eq!(b.metrics_at(100).overdue_exits_total, 1);
    }

    #[test]
    fn queue_is_fifo_and_exit_hands_over() {
        let b = queue(1, 3);
        let a = entered(b.enqueue_at(0));
        let w1 = queued(b.enqueue_at(1), 1);
        let w2 = queued(b.enqueue_at(2), 2);
        let w3 = queued(b.enqueue_at(3), 3);
        assert_eq!(b.enqueue_at(4), Entry::Full);
        assert!(b.try_enter_at(4).is_none());
        let (to, p1) = handed(b.exit_at(10, a).unwrap());
        assert_eq!(to, w1);
        // The slot never became free: newcomers still queue behind w2, w3.
        assert!(b.try_enter_at(10).is_none());
        let w4 = queued(b.enqueue_at(10), 3);
        assert_eq!(b.enqueue_at(10), Entry::Full);
        let x = b.exit_at(15, p1).unwrap();
        assert_eq!(x.held_ns, 5, "the handed permit is timed from the exit");
        let (to, p2) = handed(x);
        assert_eq!(to, w2);
        let (to, p3) = handed(b.exit_at(20, p2).unwrap());
        assert_eq!(to, w3);
        let (to, p4) = handed(b.exit_at(25, p3).unwrap());
        assert_eq!(to, w4);
        assert_eq!(b.exit_at(30, p4).unwrap().handover, Handover::None);
        let m = b.metrics_at(30);
        assert_eq!(
            (m.in_use, m.waiting, m.entered_total, m.exited_total),
            (0, 0, 5, 5)
        );
        assert_eq!(
            (m.queued_total, m.handed_over_total, m.cancelled_total),
            (4, 4, 0)
        );
        assert_eq!(m.rejected_total, 4);
        // Free again: a newcomer enters at once.
        let _ = entered(b.enqueue_at(31));
    }

    #[test]
    fn cancel_head_middle_and_too_late() {
        let b = queue(1, 4);
        let a = entered(b.enqueue_at(0));
        let w1 = queued(b.enqueue_at(0), 1);
        let w2 = queued(b.enqueue_at(0), 2);
        let w3 = queued(b.enqueue_at(0), 3);
        assert_eq!(b.cancel_wait(w1).unwrap(), Cancel::Removed);
        assert_eq!(b.cancel_wait(w2).unwrap(), Cancel::Removed);
        assert_eq!(b.cancel_wait(w2).unwrap_err().field, "waiter");
        let w4 = queued(b.enqueue_at(0), 2);
        let (to, p3) = handed(b.exit_at(1, a).unwrap());
        assert_eq!(to, w3);
        // w3's timer fires after the hand-off: too late, it owns p3.
        assert_eq!(b.cancel_wait(w3).unwrap(), Cancel::TooLate(p3));
        assert_eq!(b.cancel_wait(w3).unwrap_err().field, "waiter");
        let (to, p4) = handed(b.exit_at(2, p3).unwrap());
        assert_eq!(to, w4);
        assert!(b.exit_at(2, p3).is_err());
        assert_eq!(b.exit_at(3, p4).unwrap().handover, Handover::None);
        // A ticket whose permit was exited is settled too.
        assert_eq!(b.cancel_wait(w4).unwrap_err().field, "waiter");
        let m = b.metrics_at(3);
        assert_eq!(
            (m.queued_total, m.handed_over_total, m.cancelled_total),
            (4, 2, 2)
        );
        assert_eq!((m.waiting, m.in_use), (0, 0));
    }

    #[test]
    fn cancelling_the_last_waiter_frees_the_queue() {
        let b = queue(1, 1);
        let a = entered(b.enqueue_at(0));
        let w = queued(b.enqueue_at(0), 1);
        assert_eq!(b.cancel_wait(w).unwrap(), Cancel::Removed);
        assert_eq!(b.exit_at(1, a).unwrap().handover, Handover::None);
        assert!(b.try_enter_at(1).is_some());
    }

    #[test]
    fn tickets_and_permits_are_not_interchangeable() {
        let b = queue(1, 1);
        let a = entered(b.enqueue_at(0));
        let w = queued(b.enqueue_at(0), 1);
        assert_eq!(
            b.exit_at(0, Permit::from_raw(w.raw())).unwrap_err().field,
            "permit"
        );
        assert_eq!(
            b.cancel_wait(Waiter::from_raw(a.raw())).unwrap_err().field,
            "waiter"
        );
        let other = queue(1, 1);
        let _ = entered(other.enqueue_at(0));
        let ow = queued(other.enqueue_at(0), 1);
        assert_eq!(b.cancel_wait(ow).unwrap_err().field, "waiter");
        for forged in [0, w.raw() + 1, w.raw() ^ (1 << 50), u64::MAX] {
            let e = b.cancel_wait(Waiter::from_raw(forged)).unwrap_err();
            assert_eq!(e.field, "waiter", "{forged:#x}");
        }
        assert_eq!(b.metrics_at(0).waiting, 1);
        assert_eq!(handed(b.exit_at(1, a).unwrap()).0, w);
    }

    #[test]
    fn no_queue_means_full() {
        let b = bulkhead(1);
        let a = entered(b.enqueue_at(0));
        assert_eq!(b.enqueue_at(0), Entry::Full);
        assert_eq!(b.metrics_at(0).rejected_total, 1);
        let _ = b.exit_at(0, a).unwrap();
    }

    #[test]
    fn blocked_threads_and_tickets_share_one_queue() {
        let b = std::sync::Arc::new(queue(1, 2));
        let a = entered(b.enqueue_at(0));
        let t = {
            let b = b.clone();
            std::thread::spawn(move || b.enter_wait(i64::MAX).unwrap())
        };
        while b.metrics_at(0).waiting == 0 {
            std::thread::yield_now();
        }
        // Behind the blocked thread, at place 2.
        let w = queued(b.enqueue_at(0), 2);
        assert_eq!(b.exit_at(1, a).unwrap().handover, Handover::Thread);
        let got = t.join().unwrap().unwrap();
        let (to, p) = handed(b.exit_at(2, got).unwrap());
        assert_eq!(to, w);
        assert_eq!(b.exit_at(3, p).unwrap().handover, Handover::None);
        assert_eq!(b.metrics_at(3).in_use, 0);
    }

    #[test]
    fn a_blocked_waiter_times_out_and_leaves() {
        let b = queue(1, 1);
        let a = entered(b.enqueue_at(0));
        assert_eq!(b.enter_wait(1_000_000).unwrap(), None);
        let m = b.metrics_at(0);
        assert_eq!((m.waiting, m.cancelled_total, m.rejected_total), (0, 1, 0));
        assert_eq!(b.exit_at(1, a).unwrap().handover, Handover::None);
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
        assert_eq!(
            bad(Config {
                fair: false,
                max_waiters: 1,
                ..d
            }),
            "fair"
        );
        assert!(Bulkhead::new(Config::preset(Preset::Hystrix)).is_ok());
    }

    #[test]
    fn the_largest_bulkhead_encodes_every_slot() {
        let b = Bulkhead::new(Config {
            max_concurrent: MAX_CONCURRENT,
            max_waiters: MAX_WAITERS,
            ..Config::default()
        })
        .unwrap();
        let p: Vec<_> = (0..MAX_CONCURRENT)
            .map(|_| b.try_enter_at(0).unwrap())
            .collect();
        let w = queued(b.enqueue_at(0), 1);
        let last = *p.last().unwrap();
        assert_eq!(handed(b.exit_at(1, last).unwrap()).0, w);
        assert_eq!(b.metrics_at(1).in_use, MAX_CONCURRENT);
    }
}
