//! One loop's deadlines: a min-heap of `(deadline, slab key, generation)`.
//!
//! An entry is never removed when a connection's deadline moves or the connection closes; it is
//! checked when it comes due (the generation and the armed deadline must still match) and
//! ignored when stale. Only deadlines earlier than the one already armed are pushed (a later one
//! is re-armed when the earlier entry comes due), and the heap is rebuilt when stale entries
//! outnumber live ones, so it stays within a small multiple of the connection count.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// A timer entry: when, which slab slot, and which connection in that slot.
pub(crate) type Entry = (Instant, usize, u64);

/// The deadlines of one loop.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<Entry>>,
}

impl Timers {
    /// Arm `(deadline, key, generation)`.
    pub(crate) fn push(&mut self, deadline: Instant, key: usize, generation: u64) {
        self.heap.push(Reverse((deadline, key, generation)));
    }

    /// The nearest deadline, possibly of a stale entry (a stale wake-up is harmless).
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((d, _, _))| *d)
    }

    /// Take the nearest entry if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Entry> {
        match self.heap.peek() {
            Some(Reverse((d, _, _))) if *d <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// Whether stale entries outnumber the `live` armed ones enough to rebuild.
    pub(crate) fn needs_compaction(&self, live: usize) -> bool {
        self.heap.len() > 2 * live + 64
    }

    /// Replace every entry by `live` (keeps the allocation).
    pub(crate) fn rebuild(&mut self, live: impl Iterator<Item = Entry>) {
        let mut entries = std::mem::take(&mut self.heap).into_vec();
        entries.clear();
        entries.extend(live.map(Reverse));
        self.heap = BinaryHeap::from(entries);
    }

    /// How many entries (live or stale) are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn entries_come_due_in_order_and_only_when_due() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut timers = Timers::default();
        timers.push(t0 + ms(30), 3, 0);
        timers.push(t0 + ms(10), 1, 0);
        timers.push(t0 + ms(20), 2, 7);
        assert_eq!(timers.next(), Some(t0 + ms(10)));
        assert_eq!(timers.pop_due(t0 + ms(5)), None);
        assert_eq!(timers.pop_due(t0 + ms(25)), Some((t0 + ms(10), 1, 0)));
        assert_eq!(timers.pop_due(t0 + ms(25)), Some((t0 + ms(20), 2, 7)));
        assert_eq!(timers.pop_due(t0 + ms(25)), None);
        assert_eq!(timers.len(), 1);
    }

    #[test]
    fn rebuild_keeps_only_live_entries() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        for i in 0..200 {
            timers.push(t0 + Duration::from_millis(i), 0, i);
        }
        assert!(timers.needs_compaction(10));
        timers.rebuild([(t0, 5, 1)].into_iter());
        assert_eq!(timers.len(), 1);
        assert!(!timers.needs_compaction(1));
        assert_eq!(timers.pop_due(t0), Some((t0, 5, 1)));
    }
}
