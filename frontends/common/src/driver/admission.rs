//! Admission when full: one policy for every driver.
//!
//! A server at `--max-connections` used to refuse each new connection with a 503. Then a few
//! thousand slowloris clients (each sending a partial head and a byte now and then) hold every
//! slot and real clients get nothing. Instead, as nginx reuses its idle keep-alive connections
//! when `worker_connections` runs out, a full server closes the connection that **has waited
//! longest for a complete request head** (an idle keep-alive connection or a trickling head),
//! counted from when it opened or when its last request ended
//! ([`Session::waiting_since`](crate::Session::waiting_since)), to admit the new one, and logs
//! what it closed. Only when every open connection is busy with a request is the newcomer
//! refused.
//!
//! Why not the oldest connection: a busy keep-alive client is old too, and for an instant
//! between two of its requests it has no head in hand; closing it then loses its next request
//! (a read error at the client). Counted from the end of its last request, it is the youngest
//! candidate instead, while a slowloris head counts from when it opened.
//!
//! The std and smol drivers hold a [`Ticket`] per connection, tell it before each wait since
//! when the connection waits ([`Ticket::set_waiting`]: the session's `waiting_since`, once no
//! output is unwritten; `None` as soon as input arrives), and give [`Admission::admit`] a way
//! to close the connection from another thread (shut the socket down).
//!
//! The mio driver applies the same rule ([`longest_waiting`]) inside each event loop without
//! a table: each of its N loops takes `max / N` of the limit (at least 1) and evicts among its
//! own connections, asking their sessions; so an idle connection costs no extra memory there,
//! and connections cannot drift into one loop while another refuses. The price: one loop may
//! evict while another still has room (SO_REUSEPORT spreads connections by a hash of the
//! addresses, not by load).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Closes one connection from any thread: its reads and writes fail, and its driver ends it.
pub type Closer = Box<dyn FnOnce() + Send>;

/// The policy's choice among the connections that wait for a request, given as (key, since
/// when it waits): the one that has waited longest, the first given among equals (drivers
/// give them oldest first, or put their age in `T`). `None` when there is no candidate.
pub fn longest_waiting<K, T: Ord>(waiting: impl IntoIterator<Item = (K, T)>) -> Option<K> {
    waiting
        .into_iter()
        .min_by(|a, b| a.1.cmp(&b.1))
        .map(|(key, _)| key)
}

/// The open connections of one server, oldest first, against its limit.
pub struct Admission {
    max: usize,
    /// Waiting times are kept as nanoseconds from here (one atomic word per connection).
    epoch: Instant,
    table: Mutex<Table>,
}

struct Table {
    next_id: u64,
    /// By id, which grows with each admission: iteration order is age order.
    open: BTreeMap<u64, Slot>,
}

struct Slot {
    peer: SocketAddr,
    waiting: Arc<AtomicU64>,
    close: Closer,
}

/// [`Slot::waiting`] of a connection with a request in flight.
const BUSY: u64 = 0;

/// What [`Admission::admit`] decided.
pub enum Admitted {
    /// The connection may proceed; dropping the ticket counts it out.
    Yes(Ticket),
    /// Full, and no open connection may be evicted: refuse this one (503 and close).
    Full,
}

impl Admission {
    /// A table for at most `max` connections (at least 1).
    pub fn new(max: usize) -> Arc<Admission> {
        Arc::new(Admission {
            max: max.max(1),
            epoch: Instant::now(),
            table: Mutex::new(Table {
                next_id: 0,
                open: BTreeMap::new(),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // Only inserts and removes happen under the lock; a panic cannot leave it inconsistent.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `since` as stored in a slot: never [`BUSY`] (an instant before the epoch is 1).
    fn encode(&self, since: Option<Instant>) -> u64 {
        since.map_or(BUSY, |t| {
            let nanos = t.saturating_duration_since(self.epoch).as_nanos();
            u64::try_from(nanos).unwrap_or(u64::MAX - 1) + 1
        })
    }

    /// Connections counted now.
    pub fn len(&self) -> usize {
        self.lock().open.len()
    }

    /// Whether no connection is counted.
    pub fn is_empty(&self) -> bool {
        self.lock().open.is_empty()
    }

    /// Admit a connection from `peer` at `now`; if the table is full, first evict the one that
    /// has waited longest for a request ([`longest_waiting`]). `close` is how this connection
    /// can be closed later, should it be evicted in turn. An eviction is logged on stderr with
    /// the peer it closed.
    pub fn admit(self: &Arc<Self>, now: Instant, peer: SocketAddr, close: Closer) -> Admitted {
        let mut table = self.lock();
        let mut victim = None;
        if table.open.len() >= self.max {
            let waiting = table.open.iter().filter_map(|(id, slot)| {
                let since = slot.waiting.load(Ordering::Relaxed);
                (since != BUSY).then_some((*id, since))
            });
            match longest_waiting(waiting).and_then(|id| table.open.remove(&id)) {
                Some(slot) => victim = Some(slot),
                None => return Admitted::Full,
            }
        }
        table.next_id += 1;
        let id = table.next_id;
        // A new connection has sent nothing yet: it waits for a request, since now, until its
        // driver says otherwise.
        let waiting = Arc::new(AtomicU64::new(self.encode(Some(now))));
        table.open.insert(
            id,
            Slot {
                peer,
                waiting: waiting.clone(),
                close,
            },
        );
        drop(table);
        if let Some(slot) = victim {
            log_eviction(self.max, slot.peer, peer);
            (slot.close)();
        }
        Admitted::Yes(Ticket {
            admission: self.clone(),
            id,
            waiting,
        })
    }
}

/// The log line of an eviction, the same for every driver.
pub fn log_eviction(max: usize, closed: SocketAddr, admitted: SocketAddr) {
    crate::cli::message::warning(
        format_args!("full ({max} connections)"),
        format_args!("closed {closed} (waiting longest for a request) to admit {admitted}"),
    );
}

/// One admitted connection. Dropping it counts the connection out.
pub struct Ticket {
    admission: Arc<Admission>,
    id: u64,
    waiting: Arc<AtomicU64>,
}

impl Ticket {
    /// Since when the connection has waited for a request (the session's
    /// [`waiting_since`](crate::Session::waiting_since)), or `None` while it may not be closed
    /// to admit another (a request in flight, or output unwritten). New connections start
    /// waiting since their admission; drivers set `None` as soon as input arrives, before
    /// handling it, and the session's time again before the next wait.
    pub fn set_waiting(&self, since: Option<Instant>) {
        let encoded = self.admission.encode(since);
        self.waiting.store(encoded, Ordering::Relaxed);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        // Evicted connections were removed already; the lookup then finds nothing.
        self.admission.lock().open.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// A closer that records `tag` as the last connection closed.
    fn counting(closed: &Arc<AtomicUsize>, tag: usize) -> Closer {
        let closed = closed.clone();
        Box::new(move || {
            closed.store(tag, Ordering::SeqCst);
        })
    }

    fn yes(a: Admitted) -> Ticket {
        match a {
            Admitted::Yes(t) => t,
            Admitted::Full => panic!("refused"),
        }
    }

    /// Simulated time: `secs` after `t0`.
    fn at(t0: Instant, secs: u64) -> Instant {
        t0 + Duration::from_secs(secs)
    }

    #[test]
    fn full_evicts_the_longest_waiting_connection_and_refuses_when_all_are_busy() {
        let closed = Arc::new(AtomicUsize::new(0));
        let a = Admission::new(2);
        let t0 = Instant::now();
        let first = yes(a.admit(at(t0, 0), peer(1), counting(&closed, 1)));
        let second = yes(a.admit(at(t0, 1), peer(2), counting(&closed, 2)));
        first.set_waiting(None);
        second.set_waiting(None);
        // Both busy: refused, nothing closed.
        assert!(matches!(
            a.admit(at(t0, 2), peer(3), counting(&closed, 3)),
            Admitted::Full
        ));
        assert_eq!(closed.load(Ordering::SeqCst), 0);
        // Both waiting again, each since it opened: the one waiting longest goes.
        first.set_waiting(Some(at(t0, 0)));
        second.set_waiting(Some(at(t0, 1)));
        let third = yes(a.admit(at(t0, 3), peer(3), counting(&closed, 3)));
        assert_eq!(closed.load(Ordering::SeqCst), 1);
        assert_eq!(a.len(), 2);
        // The evicted connection's ticket drops later without touching the newcomer's slot.
        drop(first);
        assert_eq!(a.len(), 2);
        // Next is `second` (waiting since 1 s), not the newcomer (since its admission, 3 s).
        let _fourth = yes(a.admit(at(t0, 4), peer(4), counting(&closed, 4)));
        assert_eq!(closed.load(Ordering::SeqCst), 2);
        drop(second);
        drop(third);
        assert_eq!(a.len(), 1);
    }

    /// The fault this order fixes: a busy keep-alive client is the oldest connection, and
    /// between two of its requests it waits for a head too. Counted from the end of its last
    /// request it is the youngest candidate: the slow heads opened after it go first.
    #[test]
    fn a_kept_alive_client_just_answered_goes_after_the_slow_heads() {
        let closed = Arc::new(AtomicUsize::new(0));
        let a = Admission::new(3);
        let t0 = Instant::now();
        let client = yes(a.admit(at(t0, 0), peer(1), counting(&closed, 1)));
        let slow = yes(a.admit(at(t0, 1), peer(2), counting(&closed, 2)));
        let slower = yes(a.admit(at(t0, 2), peer(3), counting(&closed, 3)));
        // The client has had many requests answered, the last at 5 s, and waits for the next;
        // the slow heads trickle (a byte in hand for an instant, then waiting again, still since
        // they opened).
        client.set_waiting(Some(at(t0, 5)));
        slow.set_waiting(None);
        slow.set_waiting(Some(at(t0, 1)));
        slower.set_waiting(Some(at(t0, 2)));
        let _n1 = yes(a.admit(at(t0, 6), peer(4), counting(&closed, 4)));
        assert_eq!(
            closed.load(Ordering::SeqCst),
            2,
            "the slow head opened at 1 s"
        );
        let _n2 = yes(a.admit(at(t0, 6), peer(5), counting(&closed, 5)));
        assert_eq!(
            closed.load(Ordering::SeqCst),
            3,
            "then the one opened at 2 s"
        );
        // Only now, waiting since 5 s against newcomers since 6 s, is the client's turn.
        let _n3 = yes(a.admit(at(t0, 7), peer(6), counting(&closed, 6)));
        assert_eq!(closed.load(Ordering::SeqCst), 1);
        drop((client, slow, slower));
    }

    #[test]
    fn longest_waiting_takes_the_earliest_time_and_the_first_among_equals() {
        let t0 = Instant::now();
        assert_eq!(longest_waiting::<u8, Instant>([]), None);
        let given = [
            ('a', at(t0, 3)),
            ('b', at(t0, 1)),
            ('c', at(t0, 1)),
            ('d', at(t0, 2)),
        ];
        assert_eq!(longest_waiting(given), Some('b'));
        // With the age in the key, as the mio driver gives it (its generation).
        let aged = [
            (7usize, (at(t0, 1), 9u64)),
            (3, (at(t0, 1), 4)),
            (5, (at(t0, 2), 1)),
        ];
        assert_eq!(longest_waiting(aged), Some(3));
    }

    #[test]
    fn below_the_limit_nothing_is_evicted() {
        let closed = Arc::new(AtomicUsize::new(0));
        let a = Admission::new(3);
        let now = Instant::now();
        let t: Vec<Ticket> = (1..=3)
            .map(|i| yes(a.admit(now, peer(i), counting(&closed, usize::from(i)))))
            .collect();
        assert_eq!(closed.load(Ordering::SeqCst), 0);
        drop(t);
        assert!(a.is_empty());
    }
}
