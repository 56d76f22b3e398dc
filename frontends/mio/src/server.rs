//! The TCP server: one event loop per thread, each with its own `SO_REUSEPORT` listener on the
//! same address, a slab of connections, a timer heap and a buffer pool.
//!
//! Each loop turn: poll (timeout = nearest deadline), accept until `WouldBlock`, drive every
//! connection that had an event or yielded, fire due timers, tell the sessions idle since the
//! turn before to give back their buffers (all of them before a wait), and on shutdown stop
//! accepting and keep only connections that still have output to write, until the grace
//! period ends.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use portline_common::apps::log;
use portline_common::driver::admission::{log_eviction, longest_waiting};
use portline_common::driver::listen::{listen_tcp_group, local_address};
use portline_common::driver::policy::{
    ACCEPT_BACKOFF, AcceptError, AcceptFailures, reset_on_close, session_panicked,
};
use portline_common::driver::shutdown::{Registration, Shutdown};
use portline_common::{ServerOptions, Session, SessionFactory, TRANSMIT_BUDGET};
use slab::Slab;

use crate::conn::{Conn, Drive};
use crate::pool::BufPool;
use crate::timers::Timers;

/// The listener's token; connections use their slab keys, which stay far below.
const LISTENER: Token = Token(usize::MAX - 1);
/// The shutdown waker's token.
const WAKER: Token = Token(usize::MAX - 2);

/// Bind `threads` listeners on `addr` with `SO_REUSEPORT` (the first resolves port 0), run one
/// loop per listener (the calling thread runs the first), and return when all have stopped.
pub(crate) fn serve(
    opts: &ServerOptions,
    factory: Arc<dyn SessionFactory>,
    shutdown: &Shutdown,
    ready: &mut dyn FnMut(SocketAddr),
) -> io::Result<()> {
    let threads = opts.threads.max(1);
    let listeners = listen_tcp_group(opts.listen, threads, true)?;
    let addr = listeners[0].local_addr()?;
    // One record for all loops: descriptors run out for the process, said once, not per loop.
    let accept_failures = Arc::new(AcceptFailures::new());
    let loops = listeners
        .into_iter()
        .map(|listener| {
            EventLoop::new(
                TcpListener::from_std(listener),
                addr,
                factory.clone(),
                accept_failures.clone(),
                shutdown,
                opts,
            )
        })
        .collect::<io::Result<Vec<_>>>()?;
    ready(addr);

    std::thread::scope(|scope| {
        let mut loops = loops.into_iter();
        let first = loops.next().expect("threads.max(1) made at least one loop");
        let others = loops
            .enumerate()
            .map(|(i, event_loop)| {
                std::thread::Builder::new()
                    .name(format!("portline-mio-{}", i + 1))
                    .spawn_scoped(scope, move || event_loop.run())
            })
            .collect::<Vec<_>>();
        let mut result = first.run();
        for handle in others {
            let r = match handle {
                Ok(h) => h
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("an event loop thread panicked"))),
                Err(e) => Err(e),
            };
            if result.is_ok() {
                result = r;
            }
        }
        result
    })
}

/// A connection in the slab.
struct Entry {
    conn: Conn,
    session: Box<dyn Session>,
    /// Tells this connection from an earlier one in the same slot (for timer entries).
    generation: u64,
    /// The deadline of this connection's live timer entry.
    armed: Option<Instant>,
    /// Whether WRITABLE is registered (only while a tail exists).
    writable: bool,
    /// The loop turn in which the connection last went idle (waiting for input with
    /// everything written) and has been since, while its session is not yet told to sleep;
    /// see [`EventLoop::drowsy`]. Four bytes, beside `writable` (an `Option<u64>` made every
    /// connection 16 bytes larger, idle ones included).
    idle_turn: Option<NonZeroU32>,
}

/// `poll.poll`, with `Ok(false)` when a signal interrupted it: the loop then starts its turn
/// again, which is where it notices a shutdown request.
fn poll_events(
    poll: &mut Poll,
    events: &mut Events,
    timeout: Option<Duration>,
) -> io::Result<bool> {
    match poll.poll(events, timeout) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
        Err(e) => Err(e),
    }
}

/// One thread's loop.
struct EventLoop {
    poll: Poll,
    listener: Option<TcpListener>,
    local: SocketAddr,
    conns: Slab<Entry>,
    timers: Timers,
    pool: BufPool,
    /// One read buffer for every connection of the loop.
    scratch: Vec<u8>,
    /// Connections that yielded: driven again next turn without waiting.
    again: Vec<(usize, u64)>,
    /// The spare vector `again` is swapped with (keeps both allocations).
    again_spare: Vec<(usize, u64)>,
    /// Connections that went idle, whose sessions have not yet been told to give back their
    /// buffers ([`Session::release_idle`]): that is done at the end of the next turn if they
    /// are still idle then, or before the loop blocks, whichever comes first. A connection
    /// whose next request comes within a turn (under load, most of them) so keeps its
    /// session awake, instead of parking it after each answer and unparking it (an
    /// allocation, a whole session built and dropped: a tenth of the instructions of a
    /// small file's answer) for the next request; an idle one still holds no buffers once
    /// the loop waits.
    drowsy: Vec<(usize, u64)>,
    /// The loop turn (for `idle_turn`), counting from 1 and wrapping: only equality with
    /// the current turn is ever asked, and every turn sweeps.
    turn: NonZeroU32,
    next_generation: u64,
    factory: Arc<dyn SessionFactory>,
    /// The overload reply, asked of the factory once.
    overload_reply: Option<Option<Vec<u8>>>,
    /// This loop's share of `--max-connections`: each loop admits and evicts on its own, so
    /// connections cannot drift into one loop while another refuses (see `admit`).
    max_connections: usize,
    /// Accepting paused (out of descriptors) until then.
    accept_paused_until: Option<Instant>,
    /// Accept failures, said once per run (shared with the server's other loops).
    accept_failures: Arc<AcceptFailures>,
    shutdown: Shutdown,
    _wake_on_shutdown: Registration,
    grace: Duration,
    /// Set once shutdown began: the loop ends then, or when no connection is left.
    grace_deadline: Option<Instant>,
}

impl EventLoop {
    fn new(
        mut listener: TcpListener,
        local: SocketAddr,
        factory: Arc<dyn SessionFactory>,
        accept_failures: Arc<AcceptFailures>,
        shutdown: &Shutdown,
        opts: &ServerOptions,
    ) -> io::Result<Self> {
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let wake_on_shutdown = shutdown.on_request(move || {
            // A failed wake leaves the loop to notice the flag at its next deadline.
            let _ = waker.wake();
        });
        Ok(EventLoop {
            poll,
            listener: Some(listener),
            local,
            conns: Slab::new(),
            timers: Timers::default(),
            pool: BufPool::default(),
            scratch: vec![0; TRANSMIT_BUDGET],
            again: Vec::new(),
            again_spare: Vec::new(),
            drowsy: Vec::new(),
            turn: NonZeroU32::MIN,
            next_generation: 0,
            factory,
            overload_reply: None,
            max_connections: (opts.max_connections / opts.threads.max(1)).max(1),
            accept_paused_until: None,
            accept_failures,
            shutdown: shutdown.clone(),
            _wake_on_shutdown: wake_on_shutdown,
            grace: opts.grace,
            grace_deadline: None,
        })
    }

    fn run(mut self) -> io::Result<()> {
        // Access-log lines are written once per loop turn, together (`turns`), instead of one
        // `write(2)` per answer; what is held is written when the loop ends, or unwinds.
        let _batch = log::batch();
        let result = self.turns();
        if self.grace_deadline.is_some() {
            // Still open when the grace period ended (or the loop failed): closed unfinished.
            self.shutdown.unfinished(self.conns.len());
        }
        self.close_all();
        if result.is_err() {
            // Stop the other loops too, so that the server returns the error.
            self.shutdown.request();
        }
        result
    }

    fn turns(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            // The last turn's log lines, before this turn may wait.
            log::flush();
            self.turn = self.turn.checked_add(1).unwrap_or(NonZeroU32::MIN);
            let now = Instant::now();
            if self.shutdown.is_requested() && self.grace_deadline.is_none() {
                self.begin_shutdown(now)?;
            }
            if let Some(end) = self.grace_deadline
                && (self.conns.is_empty() || now >= end)
            {
                return Ok(());
            }
            let timeout = if self.again.is_empty() {
                self.next_deadline()
                    .map(|d| d.saturating_duration_since(now))
            } else {
                Some(Duration::ZERO)
            };
            let mut polled = false;
            if !self.drowsy.is_empty() && timeout != Some(Duration::ZERO) {
                // About to block: first see whether anything is ready (under load it is, and
                // this is the turn's one poll); if not, idle sessions sleep before the wait.
                if !poll_events(&mut self.poll, &mut events, Some(Duration::ZERO))? {
                    continue;
                }
                polled = !events.is_empty();
                if !polled {
                    self.put_to_sleep(true);
                }
            }
            if !polled && !poll_events(&mut self.poll, &mut events, timeout)? {
                continue;
            }
            let now = Instant::now();
            for event in events.iter() {
                match event.token() {
                    WAKER => {} // the shutdown flag is looked at every turn
                    LISTENER => self.accept(now),
                    Token(key) => {
                        if let Some(entry) = self.conns.get_mut(key) {
                            let closed = event.is_read_closed() || event.is_error();
                            if event.is_readable() || closed {
                                entry.conn.set_readable(closed);
                            }
                            self.drive(key, now);
                        }
                    }
                }
            }
            self.drive_yielded(now);
            self.fire_timers(now);
            self.put_to_sleep(false);
            if self.accept_paused_until.is_some_and(|t| t <= now) {
                self.accept_paused_until = None;
                self.accept(now);
            }
        }
    }

    /// The nearest of: a connection's deadline, the end of an accept pause, the grace period.
    fn next_deadline(&self) -> Option<Instant> {
        [
            self.timers.next(),
            self.accept_paused_until,
            self.grace_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Accept until `WouldBlock`, pausing on descriptor exhaustion.
    fn accept(&mut self, now: Instant) {
        if self.accept_paused_until.is_some() {
            return;
        }
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            let attempt = self.accept_failures.attempt();
            match listener.accept() {
                Ok((stream, peer)) => {
                    self.accept_failures.succeeded(attempt);
                    self.admit(stream, peer, now);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                // EMFILE/ENFILE and anything unexpected (said once per run): the backlog stays
                // full, so retrying now would spin. Connections closing meanwhile free
                // descriptors.
                Err(e) => {
                    if self.accept_failures.failed(&e) != AcceptError::Skip {
                        self.accept_paused_until = Some(now + ACCEPT_BACKOFF);
                        return;
                    }
                }
            }
        }
    }

    /// Take an accepted connection into the slab. At `max_connections`, first close this loop's
    /// connection that has waited longest for a request (the policy of
    /// `portline_common::driver::admission`); if every one of them is busy, refuse the newcomer
    /// with the overload reply.
    fn admit(&mut self, mut stream: TcpStream, peer: SocketAddr, now: Instant) {
        if self.conns.len() >= self.max_connections {
            match self.longest_waiting() {
                Some(victim) => {
                    // Asked of the socket only now: the slab keeps no address per connection.
                    let closed = self.conns[victim].conn.stream().peer_addr();
                    let closed = closed.unwrap_or(self.local);
                    self.close(victim);
                    log_eviction(self.max_connections, closed, peer);
                }
                None => {
                    let factory = &self.factory;
                    let reply = self
                        .overload_reply
                        .get_or_insert_with(|| factory.overload_reply());
                    if let Some(reply) = reply {
                        // Best effort: a fresh socket's send buffer takes a short reply whole.
                        let sent = stream.write(reply).unwrap_or(0);
                        factory.refused(now, peer, sent);
                    }
                    let _ = stream.shutdown(std::net::Shutdown::Write);
                    return;
                }
            }
        }
        // Latency over batching: every write is a whole response already.
        let _ = stream.set_nodelay(true);
        let local = local_address(self.local, || stream.local_addr());
        let slot = self.conns.vacant_entry();
        let key = slot.key();
        if self
            .poll
            .registry()
            .register(&mut stream, Token(key), Interest::READABLE)
            .is_err()
        {
            return;
        }
        let made = catch_unwind(AssertUnwindSafe(|| {
            let mut session = self.factory.session(now, peer, local);
            // A plain socket: file bodies may go out with sendfile(2).
            #[cfg(any(target_os = "linux", target_os = "android"))]
            session.enable_sendfile();
            session
        }));
        let session = match made {
            Ok(session) => session,
            Err(panic) => {
                session_panicked(Some(peer), panic.as_ref());
                let _ = self.poll.registry().deregister(&mut stream);
                reset_on_close(&stream);
                return;
            }
        };
        self.next_generation += 1;
        slot.insert(Entry {
            conn: Conn::new(stream, now),
            session,
            generation: self.next_generation,
            armed: None,
            writable: false,
            idle_turn: None,
        });
        self.drive(key, now);
    }

    /// [`EventLoop::step`] with the session's panics caught: a panic (a bug in the app) resets
    /// its own connection and the loop serves the others on, as a thread or task of its own
    /// would. On the hot path: one `catch_unwind` per drive, which costs nothing unless a
    /// panic unwinds (Rust's unwinding is zero-cost until it happens).
    fn drive(&mut self, key: usize, now: Instant) {
        // Unwind safety: after a panic the entry is closed (its session, buffers and timers
        // never used again); the loop's own state (slab, pool, timers) changes only between
        // the calls into the session, and stale timer or `again` entries are skipped by
        // generation.
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.step(key, now))) {
            let peer = self
                .conns
                .get_mut(key)
                .and_then(|e| e.conn.stream().peer_addr().ok());
            session_panicked(peer, panic.as_ref());
            if let Some(entry) = self.conns.get_mut(key) {
                reset_on_close(&*entry.conn.stream());
            }
            self.close(key);
        }
    }

    /// Run the connection's loop step, then close it, or fix its interest and timer.
    fn step(&mut self, key: usize, now: Instant) {
        let Some(entry) = self.conns.get_mut(key) else {
            return;
        };
        // After every step the armed timer is at or before the session's deadline (it is
        // re-armed whenever the deadline moves earlier, and cleared only as it fires): while
        // it is later than `now`, so is the deadline, and the session need not be asked.
        let may_be_due = entry.armed.is_none_or(|armed| armed <= now);
        let outcome = entry.conn.drive_checked(
            entry.session.as_mut(),
            now,
            &mut self.scratch,
            &mut self.pool,
            may_be_due,
        );
        match outcome {
            Drive::Closed | Drive::Failed(..) => return self.close(key),
            Drive::Done if entry.conn.saw_eof() || self.grace_deadline.is_some() => {
                return self.close(key);
            }
            Drive::Done => {
                entry.conn.start_linger(now);
                // Its input may already be waiting.
                entry.conn.set_readable(false);
                self.again.push((key, entry.generation));
            }
            Drive::Yield => self.again.push((key, entry.generation)),
            Drive::Open if self.grace_deadline.is_some() && !entry.conn.wants_write() => {
                // Shutting down, and the session has nothing to write: no response in flight.
                return self.close(key);
            }
            Drive::Open => {}
        }
        if matches!(outcome, Drive::Open) && entry.conn.may_sleep() {
            if entry.idle_turn.is_none() {
                self.drowsy.push((key, entry.generation));
            }
            entry.idle_turn = Some(self.turn);
        } else {
            entry.idle_turn = None;
        }
        let writable = entry.conn.wants_write();
        if writable != entry.writable {
            let interest = if writable {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if self
                .poll
                .registry()
                .reregister(entry.conn.stream(), Token(key), interest)
                .is_err()
            {
                return self.close(key);
            }
            entry.writable = writable;
        }
        if let Some(deadline) = entry.conn.deadline(entry.session.as_ref())
            && entry.armed.is_none_or(|armed| deadline < armed)
        {
            entry.armed = Some(deadline);
            self.timers.push(deadline, key, entry.generation);
        }
    }

    /// The key of this loop's connection that has waited longest for a request (since it
    /// opened or its last request ended) with nothing unwritten, the oldest (lowest generation)
    /// among equals; if any.
    fn longest_waiting(&self) -> Option<usize> {
        let waiting = self.conns.iter().filter_map(|(key, e)| {
            let since = e
                .session
                .waiting_since()
                .filter(|_| !e.conn.wants_write())?;
            Some((key, (since, e.generation)))
        });
        longest_waiting(waiting)
    }

    /// Tell the sessions of idle connections to give back their buffers: those idle since an
    /// earlier turn, or with `all`, every one (the loop is about to block). See
    /// [`EventLoop::drowsy`].
    fn put_to_sleep(&mut self, all: bool) {
        let mut drowsy = std::mem::take(&mut self.drowsy);
        let mut panicked = None;
        drowsy.retain(|&(key, generation)| {
            let Some(entry) = self.conns.get_mut(key) else {
                return false;
            };
            match entry.idle_turn {
                Some(turn) if entry.generation == generation => {
                    // Idle since this turn only, or after a panic in this sweep: kept for
                    // the next sweep.
                    if panicked.is_some() || (!all && turn == self.turn) {
                        return true;
                    }
                    entry.idle_turn = None;
                    if let Err(panic) =
                        catch_unwind(AssertUnwindSafe(|| entry.session.release_idle()))
                    {
                        panicked = Some((key, panic));
                    }
                    false
                }
                _ => false,
            }
        });
        self.drowsy = drowsy;
        if let Some((key, panic)) = panicked {
            // As in `drive`: only this connection is lost.
            let peer = self.conns[key].conn.stream().peer_addr().ok();
            session_panicked(peer, panic.as_ref());
            reset_on_close(&*self.conns[key].conn.stream());
            self.close(key);
        }
    }

    /// Drive again the connections that yielded last turn.
    fn drive_yielded(&mut self, now: Instant) {
        std::mem::swap(&mut self.again, &mut self.again_spare);
        let mut yielded = std::mem::take(&mut self.again_spare);
        for &(key, generation) in &yielded {
            if self
                .conns
                .get(key)
                .is_some_and(|e| e.generation == generation)
            {
                self.drive(key, now);
            }
        }
        yielded.clear();
        self.again_spare = yielded;
    }

    /// Drive every connection whose live deadline has come; skip stale entries.
    fn fire_timers(&mut self, now: Instant) {
        while let Some((deadline, key, generation)) = self.timers.pop_due(now) {
            let Some(entry) = self.conns.get_mut(key) else {
                continue;
            };
            if entry.generation != generation || entry.armed != Some(deadline) {
                continue;
            }
            entry.armed = None;
            // `drive` handles the session's expired deadline or the end of lingering, and
            // re-arms the next one (a deadline that moved later is re-armed here).
            self.drive(key, now);
        }
        if self.timers.needs_compaction(self.conns.len()) {
            let live = self
                .conns
                .iter()
                .filter_map(|(key, e)| e.armed.map(|deadline| (deadline, key, e.generation)));
            self.timers.rebuild(live);
        }
    }

    /// Stop accepting; close connections with nothing in flight; end the loop after `grace`.
    fn begin_shutdown(&mut self, now: Instant) -> io::Result<()> {
        if let Some(mut listener) = self.listener.take() {
            self.poll.registry().deregister(&mut listener)?;
        }
        self.accept_paused_until = None;
        self.grace_deadline = Some(now + self.grace);
        let keys: Vec<usize> = self.conns.iter().map(|(key, _)| key).collect();
        for key in keys {
            self.drive(key, now);
        }
        Ok(())
    }

    fn close(&mut self, key: usize) {
        if let Some(mut entry) = self.conns.try_remove(key) {
            // No deregister: the socket is never duplicated, so closing it (when the entry
            // drops) removes it from the epoll set (epoll(7)). One syscall less per connection
            // (an HTTP/1.0 client opens one per request).
            entry.conn.release(&mut self.pool);
            // The session's drop is a call into the app too.
            let session = entry.session;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(move || drop(session))) {
                session_panicked(entry.conn.stream().peer_addr().ok(), panic.as_ref());
                reset_on_close(&*entry.conn.stream());
            }
        }
    }

    fn close_all(&mut self) {
        let keys: Vec<usize> = self.conns.iter().map(|(key, _)| key).collect();
        for key in keys {
            self.close(key);
        }
    }
}
