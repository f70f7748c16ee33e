//! Rolling windows shared by the breakers, the adaptive throttle and the
//! window limiters.
//!
//! A [`TimeWindow`] is a ring of `n` buckets of `bucket_ns` each. Buckets are
//! aligned to the epoch: a timestamp `t` falls in bucket `floor(t / bucket_ns)`,
//! so two handles given the same timestamps bucket them identically. The
//! window at time `t` holds the buckets `floor(t/b) - n + 1 ..= floor(t/b)`.
//! A timestamp earlier than the newest bucket seen is added to the newest
//! bucket: time going back never evicts, never underflows.

use std::ops::{AddAssign, SubAssign};

/// Per-bucket statistics: anything that can be added and taken away.
pub trait Bucket: Copy + Default + AddAssign + SubAssign {}
impl<T: Copy + Default + AddAssign + SubAssign> Bucket for T {}

/// A ring of time buckets with a running total.
#[derive(Clone, Debug)]
pub struct TimeWindow<B: Bucket> {
    buckets: Vec<B>,
    bucket_ns: i64,
    /// Absolute index of the newest bucket, once anything was seen.
    head: Option<i64>,
    total: B,
}

impl<B: Bucket> TimeWindow<B> {
    /// `buckets` buckets of `bucket_ns` each; both must be positive
    /// (validated by the caller's config).
    #[must_use]
    pub fn new(buckets: usize, bucket_ns: i64) -> Self {
        Self {
            buckets: vec![B::default(); buckets.max(1)],
            bucket_ns: bucket_ns.max(1),
            head: None,
            total: B::default(),
        }
    }

    /// Bucket length in nanoseconds.
    #[must_use]
    pub fn bucket_ns(&self) -> i64 {
        self.bucket_ns
    }

    /// Absolute bucket index of `now`.
    #[must_use]
    pub fn index_of(&self, now: i64) -> i64 {
        now.div_euclid(self.bucket_ns)
    }

    fn slot(&self, index: i64) -> usize {
        let n = self.buckets.len() as i64;
        // rem_euclid of a positive modulus is in [0, n).
        usize::try_from(index.rem_euclid(n)).unwrap_or(0)
    }

    /// Moves the window to `now`, evicting buckets that fell out of it.
    pub fn advance(&mut self, now: i64) {
        let index = self.index_of(now);
        let Some(head) = self.head else {
            self.head = Some(index);
            return;
        };
        if index <= head {
            return;
        }
        let n = self.buckets.len() as i64;
        let steps = (index - head).min(n);
        for k in 1..=steps {
            let slot = self.slot(head + k);
            if let Some(b) = self.buckets.get_mut(slot) {
                self.total -= *b;
                *b = B::default();
            }
        }
        self.head = Some(index);
    }

    /// Adds `delta` at `now` (after advancing to it).
    pub fn add(&mut self, now: i64, delta: B) {
        self.advance(now);
        let slot = self.slot(self.head.unwrap_or(0));
        if let Some(b) = self.buckets.get_mut(slot) {
            *b += delta;
        }
        self.total += delta;
    }

    /// Takes `delta` back from the bucket holding `at`, if that bucket is
    /// still in the window (used to undo an admission that turned out ignored).
    pub fn remove(&mut self, now: i64, at: i64, delta: B) {
        self.advance(now);
        let Some(head) = self.head else { return };
        let index = self.index_of(at).min(head);
        if index <= head - self.buckets.len() as i64 {
            return;
        }
        let slot = self.slot(index);
        if let Some(b) = self.buckets.get_mut(slot) {
            *b -= delta;
        }
        self.total -= delta;
    }

    /// Absolute index of the newest bucket seen, if any.
    #[must_use]
    pub fn head(&self) -> Option<i64> {
        self.head
    }

    /// The bucket with absolute index `index` as of the last advance, or an
    /// empty bucket if that index is not inside the window (older than the
    /// window, newer than the head, or nothing seen yet).
    #[must_use]
    pub fn get(&self, index: i64) -> B {
        let Some(head) = self.head else {
            return B::default();
        };
        if index > head || index <= head - self.buckets.len() as i64 {
            return B::default();
        }
        self.buckets
            .get(self.slot(index))
            .copied()
            .unwrap_or_default()
    }

    /// The sum over the window as of the last advance.
    #[must_use]
    pub fn total(&self) -> B {
        self.total
    }

    /// The sum over the window at `now`.
    pub fn total_at(&mut self, now: i64) -> B {
        self.advance(now);
        self.total
    }

    /// Number of buckets in the window.
    #[must_use]
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Always false: a window has at least one bucket.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Empties the window.
    pub fn clear(&mut self) {
        self.buckets.iter_mut().for_each(|b| *b = B::default());
        self.head = None;
        self.total = B::default();
    }
}

/// Call statistics kept by breaker windows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Calls recorded (success or failure; ignored calls are not recorded).
    pub calls: u64,
    /// Of which failed.
    pub failures: u64,
    /// Of which were slow (success or failure).
    pub slow: u64,
}

impl CallStats {
    /// One call.
    #[must_use]
    pub fn one(failed: bool, slow: bool) -> Self {
        Self {
            calls: 1,
            failures: u64::from(failed),
            slow: u64::from(slow),
        }
    }

    /// Failures / calls, 0 when empty.
    #[must_use]
    pub fn failure_rate(&self) -> f64 {
        ratio(self.failures, self.calls)
    }

    /// Slow calls / calls, 0 when empty.
    #[must_use]
    pub fn slow_rate(&self) -> f64 {
        ratio(self.slow, self.calls)
    }
}

#[allow(clippy::cast_precision_loss)]
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl AddAssign for CallStats {
    fn add_assign(&mut self, o: Self) {
        self.calls += o.calls;
        self.failures += o.failures;
        self.slow += o.slow;
    }
}

impl SubAssign for CallStats {
    fn sub_assign(&mut self, o: Self) {
        self.calls = self.calls.saturating_sub(o.calls);
        self.failures = self.failures.saturating_sub(o.failures);
        self.slow = self.slow.saturating_sub(o.slow);
    }
}

/// The last `n` calls, as a ring with running totals.
#[derive(Clone, Debug)]
pub struct CountWindow {
    ring: Vec<CallStats>,
    next: usize,
    filled: usize,
    total: CallStats,
}

impl CountWindow {
    /// A window over the last `n` calls (`n >= 1`, validated by the config).
    #[must_use]
    pub fn new(n: usize) -> Self {
        Self {
            ring: vec![CallStats::default(); n.max(1)],
            next: 0,
            filled: 0,
            total: CallStats::default(),
        }
    }

    /// Records one call, evicting the oldest once full.
    pub fn add(&mut self, call: CallStats) {
        let len = self.ring.len();
        if let Some(slot) = self.ring.get_mut(self.next) {
            if self.filled == len {
                self.total -= *slot;
            } else {
                self.filled += 1;
            }
            *slot = call;
            self.total += call;
        }
        self.next = (self.next + 1) % len;
    }

    /// The sum over the window.
    #[must_use]
    pub fn total(&self) -> CallStats {
        self.total
    }

    /// Empties the window.
    pub fn clear(&mut self) {
        self.ring.iter_mut().for_each(|s| *s = CallStats::default());
        self.next = 0;
        self.filled = 0;
        self.total = CallStats::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_window_evicts_old_buckets() {
        let mut w: TimeWindow<u64> = TimeWindow::new(3, 10);
        w.add(0, 1);
        w.add(10, 1);
        w.add(25, 1);
        assert_eq!(w.total(), 3);
        assert_eq!(w.total_at(30), 2); // bucket 0 evicted
        assert_eq!(w.total_at(49), 1);
        assert_eq!(w.total_at(1000), 0);
    }

    #[test]
    fn time_going_back_adds_to_head() {
        let mut w: TimeWindow<u64> = TimeWindow::new(2, 10);
        w.add(100, 1);
        w.add(5, 1);
        assert_eq!(w.total(), 2);
        assert_eq!(w.total_at(110), 2);
        assert_eq!(w.total_at(120), 0);
    }

    #[test]
    fn negative_time_buckets_floor() {
        let w: TimeWindow<u64> = TimeWindow::new(2, 10);
        assert_eq!(w.index_of(-1), -1);
        assert_eq!(w.index_of(-10), -1);
        assert_eq!(w.index_of(-11), -2);
    }

    #[test]
    fn remove_only_inside_window() {
        let mut w: TimeWindow<u64> = TimeWindow::new(2, 10);
        w.add(0, 1);
        w.add(15, 1);
        w.remove(15, 0, 1);
        assert_eq!(w.total(), 1);
        w.remove(30, 15, 1);
        assert_eq!(w.total(), 0);
        w.add(30, 1);
        w.remove(50, 30, 1); // bucket 3 evicted at 50 (window = 4,5)
        assert_eq!(w.total(), 0);
    }

    #[test]
    fn get_reads_buckets_inside_the_window_only() {
        let mut w: TimeWindow<u64> = TimeWindow::new(3, 10);
        assert_eq!(w.get(0), 0);
        w.add(5, 1);
        w.add(12, 2);
        w.add(27, 4);
        assert_eq!(w.head(), Some(2));
        assert_eq!((w.get(0), w.get(1), w.get(2)), (1, 2, 4));
        assert_eq!((w.get(-1), w.get(3)), (0, 0));
        w.advance(31);
        assert_eq!((w.get(0), w.get(1), w.get(3)), (0, 2, 0));
    }

    #[test]
    fn count_window_keeps_last_n() {
        let mut w = CountWindow::new(3);
        for failed in [true, true, false, false] {
            w.add(CallStats::one(failed, false));
        }
        assert_eq!(w.total().calls, 3);
        assert_eq!(w.total().failures, 1);
    }
}
