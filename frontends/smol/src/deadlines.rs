//! The deadlines of a server's connections in one heap, rung by one reactor timer.
//!
//! async-io keeps every armed `Timer` in one `BTreeMap`, and each turn of its reactor (every
//! time a thread runs out of tasks) splits that map at "now" (`BTreeMap::split_off`, which
//! allocates a new spine): with 3,000 slow clients holding a deadline each, its timer step
//! cost 1,866 instructions a turn instead of 684-720 with ten connections, and the good
//! clients' answers pay for those turns (callgrind, benches/RESULTS.md, "Slowloris"); every
//! timer armed also wakes the reactor (a write to its eventfd). Here each connection's alarm is
//! an entry of this heap instead, and one task keeps a single reactor timer at the earliest
//! deadline: the reactor's map holds one timer however many connections wait. An alarm is
//! armed only when its deadline comes earlier (see `conn::Alarm`), so the heap's mutex is taken
//! about once per connection and per idle timeout, not per request.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use smol::{Timer, future};

/// How late the driver's timer rings after the earliest deadline, so that deadlines close
/// together (3,000 slow clients' head timeouts fall within a second) ring in one wake-up of the
/// driver rather than one each. The timeouts it serves are seconds long.
const SLACK: Duration = Duration::from_millis(5);

/// The connections' deadlines; [`Deadlines::drive`] rings them.
#[derive(Default)]
pub(crate) struct Deadlines {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Every arming: (when, its id, its slot). An entry whose slot was armed again, or freed,
    /// since is stale and skipped when it comes up, or dropped when stale entries outnumber
    /// the live ones (see [`Deadlines::arm`]).
    heap: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    /// How many slots are armed (not yet rung): the heap's live entries.
    armed: usize,
    slots: Vec<Slot>,
    free: Vec<usize>,
    next_id: u64,
    /// The driver's waker, woken when a deadline comes earlier than its timer.
    driver: Option<Waker>,
    /// When the driver's timer rings (None: not armed).
    driver_at: Option<Instant>,
}

#[derive(Default)]
struct Slot {
    /// The arming in force: its id and when.
    armed: Option<(u64, Instant)>,
    rang: bool,
    waker: Option<Waker>,
}

impl Deadlines {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for one alarm, until [`Deadlines::free`].
    pub(crate) fn slot(&self) -> usize {
        let mut inner = self.lock();
        match inner.free.pop() {
            Some(slot) => slot,
            None => {
                inner.slots.push(Slot::default());
                inner.slots.len() - 1
            }
        }
    }

    /// Give `slot` back (its alarm is dropped).
    pub(crate) fn free(&self, slot: usize) {
        let mut inner = self.lock();
        if inner.slots[slot].armed.is_some() {
            inner.armed -= 1;
        }
        inner.slots[slot] = Slot::default();
        inner.free.push(slot);
    }

    /// Ring `slot` at `at` (replacing an earlier arming of it).
    pub(crate) fn arm(&self, slot: usize, at: Instant) {
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        if inner.slots[slot].armed.is_none() {
            inner.armed += 1;
        }
        inner.slots[slot] = Slot {
            armed: Some((id, at)),
            rang: false,
            waker: inner.slots[slot].waker.take(),
        };
        inner.heap.push(Reverse((at, id, slot)));
        // A freed or re-armed slot leaves its entry behind until that deadline comes: with
        // many short connections (a request each) and timeouts of seconds, that would be
        // connections a second times the timeout. So once stale entries outnumber the live
        // ones (and a few), they are dropped in one pass: amortised, a constant per arming,
        // and the heap stays within twice the armed alarms.
        if inner.heap.len() > 2 * inner.armed + 64 {
            let Inner { heap, slots, .. } = &mut *inner;
            heap.retain(|&Reverse((_, id, slot))| {
                slots[slot].armed.is_some_and(|(armed, _)| armed == id)
            });
        }
        if inner.driver_at.is_none_or(|d| at < d) {
            // The driver's timer is later: it sets it again when polled.
            inner.driver_at = Some(at);
            if let Some(driver) = inner.driver.take() {
                drop(inner);
                driver.wake();
            }
        }
    }

    /// Ready once `slot`'s arming has rung (then it is disarmed).
    pub(crate) fn poll_ring(&self, slot: usize, cx: &mut Context<'_>) -> Poll<()> {
        let mut inner = self.lock();
        let s = &mut inner.slots[slot];
        if s.rang {
            s.rang = false;
            return Poll::Ready(());
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Ring every deadline as it comes, with one reactor timer at the earliest; runs until
    /// its task is dropped.
    pub(crate) fn drive(self: Arc<Self>) -> impl Future<Output = ()> + Send + 'static {
        let mut timer = Timer::never();
        let mut timer_at: Option<Instant> = None;
        future::poll_fn(move |cx| {
            loop {
                let now = Instant::now();
                let next = {
                    let mut inner = self.lock();
                    while let Some(&Reverse((when, id, slot))) = inner.heap.peek() {
                        if when > now {
                            break;
                        }
                        inner.heap.pop();
                        let s = &mut inner.slots[slot];
                        if s.armed.is_some_and(|(armed, _)| armed == id) {
                            s.armed = None;
                            s.rang = true;
                            if let Some(w) = s.waker.take() {
                                w.wake();
                            }
                            inner.armed -= 1;
                        }
                    }
                    let next = inner.heap.peek().map(|&Reverse((when, _, _))| when);
                    inner.driver_at = next;
                    match &inner.driver {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => inner.driver = Some(cx.waker().clone()),
                    }
                    next
                };
                let Some(next) = next else {
                    return Poll::Pending;
                };
                if timer_at != Some(next) {
                    timer.set_at(next + SLACK);
                    timer_at = Some(next);
                }
                if Pin::new(&mut timer).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                timer_at = None;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::Alarm;
    use smol::Executor;

    #[test]
    fn alarms_ring_at_their_deadlines_through_one_driver() {
        let deadlines = Arc::new(Deadlines::default());
        let ex = Executor::new();
        ex.spawn(deadlines.clone().drive()).detach();
        smol::block_on(ex.run(async {
            let start = Instant::now();
            let ms = |n| start + Duration::from_millis(n);
            let mut first = Alarm::new(Some(&deadlines));
            first.arm(Some(ms(5_000)));
            let mut second = Alarm::new(Some(&deadlines));
            second.arm(Some(ms(40)));
            // Moved earlier: it rings at 20 ms, and its arming for 5 s is stale.
            first.arm(Some(ms(20)));
            // Dropped before its deadline: its slot is reused and never rings for it.
            let mut dropped = Alarm::new(Some(&deadlines));
            dropped.arm(Some(ms(10)));
            drop(dropped);
            let mut third = Alarm::new(Some(&deadlines));
            third.arm(Some(ms(30)));

            future::poll_fn(|cx| first.poll_ring(cx)).await;
            let rang = start.elapsed();
            assert!(rang >= Duration::from_millis(20), "{rang:?}");
            assert!(
                rang < Duration::from_secs(5),
                "the stale arming held it: {rang:?}"
            );
            future::poll_fn(|cx| third.poll_ring(cx)).await;
            assert!(start.elapsed() >= Duration::from_millis(30));
            future::poll_fn(|cx| second.poll_ring(cx)).await;
            assert!(start.elapsed() >= Duration::from_millis(40));
            // Rung, it is disarmed; armed again, it rings again.
            first.arm(Some(ms(70)));
            future::poll_fn(|cx| first.poll_ring(cx)).await;
            assert!(start.elapsed() >= Duration::from_millis(70));
        }));
        let inner = deadlines.lock();
        assert_eq!(inner.slots.len(), 3, "the dropped alarm's slot was reused");
    }

    #[test]
    fn stale_entries_of_dropped_alarms_do_not_pile_up() {
        // Many short connections: each arms a far deadline and is gone long before it.
        let deadlines = Arc::new(Deadlines::default());
        let far = Instant::now() + Duration::from_secs(60);
        let mut live = Alarm::new(Some(&deadlines));
        live.arm(Some(far));
        for i in 0..10_000u64 {
            let mut alarm = Alarm::new(Some(&deadlines));
            alarm.arm(Some(far + Duration::from_millis(i)));
        }
        let inner = deadlines.lock();
        assert_eq!(inner.armed, 1);
        assert!(inner.heap.len() <= 2 + 64, "{} entries", inner.heap.len());
        assert_eq!(inner.slots.len(), 2);
    }
}
