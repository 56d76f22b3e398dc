//! Admission when full: one policy for every driver.
//!
//! A server at `--max-connections` used to refuse each new connection with a 503. Then a few
//! thousand slowloris clients (each sending a partial head and a byte now and then) hold every
//! slot and real clients get nothing. Instead, as nginx reuses its idle keep-alive connections
//! when `worker_connections` runs out, a full server closes the **oldest connection that has
//! not sent a complete request head** (an idle keep-alive connection or a trickling head) to
//! admit the new one, and logs what it closed. Only when every open connection is busy with a
//! request is the newcomer refused.
//!
//! The std and smol drivers hold a [`Ticket`] per connection, tell it after each loop step
//! whether the connection may be evicted ([`Ticket::set_evictable`]: the session waits for a
//! request ([`Session::is_awaiting_request`](crate::Session::is_awaiting_request)) and no
//! output is unwritten), and give [`Admission::admit`] a way to close the connection from
//! another thread (shut the socket down).
//!
//! The mio driver applies the same rule inside each event loop without a table: each of its N
//! loops takes `max / N` of the limit (at least 1) and evicts among its own connections, whose
//! slab generations already give the age order; so an idle connection costs no extra memory
//! there, and connections cannot drift into one loop while another refuses. The price: one
//! loop may evict while another still has room (SO_REUSEPORT spreads connections by a hash of
//! the addresses, not by load).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Closes one connection from any thread: its reads and writes fail, and its driver ends it.
pub type Closer = Box<dyn FnOnce() + Send>;

/// The open connections of one server, oldest first, against its limit.
pub struct Admission {
    max: usize,
    table: Mutex<Table>,
}

struct Table {
    next_id: u64,
    /// By id, which grows with each admission: iteration order is age order.
    open: BTreeMap<u64, Slot>,
}

struct Slot {
    peer: SocketAddr,
    evictable: Arc<AtomicBool>,
    close: Closer,
}

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

    /// Connections counted now.
    pub fn len(&self) -> usize {
        self.lock().open.len()
    }

    /// Whether no connection is counted.
    pub fn is_empty(&self) -> bool {
        self.lock().open.is_empty()
    }

    /// Admit a connection from `peer`, evicting the oldest evictable one if the table is full.
    /// `close` is how this connection can be closed later, should it be evicted in turn. An
    /// eviction is logged on stderr with the peer it closed.
    pub fn admit(self: &Arc<Self>, peer: SocketAddr, close: Closer) -> Admitted {
        let mut table = self.lock();
        let mut victim = None;
        if table.open.len() >= self.max {
            let id = table
                .open
                .iter()
                .find(|(_, slot)| slot.evictable.load(Ordering::Relaxed))
                .map(|(id, _)| *id);
            match id.and_then(|id| table.open.remove(&id)) {
                Some(slot) => victim = Some(slot),
                None => return Admitted::Full,
            }
        }
        table.next_id += 1;
        let id = table.next_id;
        // A new connection has sent nothing yet: it waits for a request until its driver says
        // otherwise.
        let evictable = Arc::new(AtomicBool::new(true));
        table.open.insert(
            id,
            Slot {
                peer,
                evictable: evictable.clone(),
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
            evictable,
        })
    }
}

/// The log line of an eviction, the same for every driver.
pub fn log_eviction(max: usize, closed: SocketAddr, admitted: SocketAddr) {
    crate::cli::message::warning(
        format_args!("full ({max} connections)"),
        format_args!("closed {closed} (the oldest without a request) to admit {admitted}"),
    );
}

/// One admitted connection. Dropping it counts the connection out.
pub struct Ticket {
    admission: Arc<Admission>,
    id: u64,
    evictable: Arc<AtomicBool>,
}

impl Ticket {
    /// Whether the connection may be closed to admit another: true while it waits for a
    /// request head and has no unwritten output. New connections start evictable (they have
    /// sent nothing); drivers clear it as soon as input arrives, before handling it.
    pub fn set_evictable(&self, yes: bool) {
        self.evictable.store(yes, Ordering::Relaxed);
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

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

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

    #[test]
    fn full_evicts_the_oldest_waiting_connection_and_refuses_when_all_are_busy() {
        let closed = Arc::new(AtomicUsize::new(0));
        let a = Admission::new(2);
        let first = yes(a.admit(peer(1), counting(&closed, 1)));
        let second = yes(a.admit(peer(2), counting(&closed, 2)));
        first.set_evictable(false);
        second.set_evictable(false);
        // Both busy: refused, nothing closed.
        assert!(matches!(
            a.admit(peer(3), counting(&closed, 3)),
            Admitted::Full
        ));
        assert_eq!(closed.load(Ordering::SeqCst), 0);
        // Both waiting: the oldest goes.
        first.set_evictable(true);
        second.set_evictable(true);
        let third = yes(a.admit(peer(3), counting(&closed, 3)));
        assert_eq!(closed.load(Ordering::SeqCst), 1);
        assert_eq!(a.len(), 2);
        // The evicted connection's ticket drops later without touching the newcomer's slot.
        drop(first);
        assert_eq!(a.len(), 2);
        // Next in age order is `second`, not the newer `third`.
        let _fourth = yes(a.admit(peer(4), counting(&closed, 4)));
        assert_eq!(closed.load(Ordering::SeqCst), 2);
        drop(second);
        drop(third);
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn below_the_limit_nothing_is_evicted() {
        let closed = Arc::new(AtomicUsize::new(0));
        let a = Admission::new(3);
        let t: Vec<Ticket> = (1..=3)
            .map(|i| yes(a.admit(peer(i), counting(&closed, usize::from(i)))))
            .collect();
        assert_eq!(closed.load(Ordering::SeqCst), 0);
        drop(t);
        assert!(a.is_empty());
    }
}
