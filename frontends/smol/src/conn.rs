//! The one loop of docs/ARCHITECTURE.md for one TCP connection, as one async task.
//!
//! The task is the socket's only reader and only writer: it reads, feeds the session, writes what
//! the session gives, and only then asks the session for more. A peer that reads slowly therefore
//! blocks the write, the session is not polled, and memory stays at one transmit budget.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use portline_common::driver::admission::Ticket;
use portline_common::driver::policy::WRITE_STALL as WRITE_TIMEOUT;
use portline_common::{Session, SocketFailure, TRANSMIT_BUDGET};
use smol::channel::Receiver;
use smol::future;
use smol::{Async, Timer};

use crate::deadlines::Deadlines;

/// Bytes read per `read(2)`. One buffer per executor thread, not per connection.
const READ_CHUNK: usize = 16 * 1024;

/// Reads per readiness wake-up, so that one busy peer cannot starve the other tasks of a thread.
const READS_PER_WAKE: usize = 16;

/// Loop turns in a row that found the socket ready (each a read or a write of up to one budget)
/// before a task yields to the others. A turn that had to wait resets the count.
const TURNS_PER_YIELD: u32 = 8;

/// An output buffer larger than this is given back while the connection waits for input, so an
/// idle connection holds no large buffer.
const KEEP_OUT_CAPACITY: usize = 8 * 1024;

/// Most output buffers kept for reuse per executor thread.
const MAX_SPARE: usize = 64;

thread_local! {
    /// Also the lingering close's discard buffer (see the server's `linger`).
    pub(crate) static READ_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_CHUNK]);

    /// Output buffers given back by connections that went to wait for input: a connection
    /// holds one only while it has something to send, and does not allocate one per request.
    static SPARE_OUT: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty output buffer: a spare one of this thread, or a new one.
fn take_out() -> Vec<u8> {
    SPARE_OUT
        .with_borrow_mut(Vec::pop)
        .unwrap_or_else(|| Vec::with_capacity(KEEP_OUT_CAPACITY))
}

/// Keep `buf` for the next connection of this thread that needs one (a large one is freed).
fn give_back(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > KEEP_OUT_CAPACITY {
        return;
    }
    buf.clear();
    SPARE_OUT.with_borrow_mut(|spare| {
        if spare.len() < MAX_SPARE {
            spare.push(buf);
        }
    });
}

/// How a connection's loop ended without an I/O error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The session is done and all its output is written.
    Done {
        /// Whether to close with a lingering close: not once the peer's end-of-stream was
        /// read, nor when the session owes the peer nothing ([`Session::lingers`]).
        linger: bool,
    },
    /// Shutdown was requested while the connection had nothing to send.
    Stopped,
}

/// What woke the loop while it waited for input.
enum Wake {
    Read(io::Result<()>),
    Alarm,
    Stop,
}

/// The connection's one timer, armed lazily for the session's deadline.
///
/// The idle deadline moves later with every request. Re-arming an `async_io::Timer` each time
/// costs a remove and an insert in the reactor's timer map (and a wake-up of the reactor), per
/// request. Instead the alarm stays armed at the earliest deadline asked for, is moved only
/// when a deadline comes *earlier*, and when it rings the loop asks the session again: a
/// deadline that has moved on re-arms it, one that has passed is handled. An idle keep-alive
/// connection thus touches the timer map about once per idle timeout, not once per request.
/// A server's alarms are not reactor timers at all but entries of its [`Deadlines`], which
/// keep the reactor's map at one timer however many connections wait.
pub(crate) struct Alarm<'a> {
    clock: Clock<'a>,
    /// When the timer rings, if it is armed.
    at: Option<Instant>,
}

/// What rings an [`Alarm`].
enum Clock<'a> {
    /// A reactor timer of its own (a client's connection).
    Own(Timer),
    /// A slot of the server's [`Deadlines`] (taken when first armed): the reactor's timer map
    /// then holds one timer for all the connections, not one each. The flag: this task's waker
    /// is with the slot, so a poll before the deadline need not take the heap's lock (shared by
    /// every connection of every thread). A task's waker stays the same (async-task's), and a
    /// ring takes it: the flag is cleared then.
    Shared(&'a Deadlines, Option<usize>, bool),
}

impl Drop for Alarm<'_> {
    fn drop(&mut self) {
        if let Clock::Shared(deadlines, Some(slot), _) = self.clock {
            deadlines.free(slot);
        }
    }
}

impl<'a> Alarm<'a> {
    pub(crate) fn new(deadlines: Option<&'a Deadlines>) -> Self {
        Alarm {
            clock: match deadlines {
                Some(deadlines) => Clock::Shared(deadlines, None, false),
                None => Clock::Own(Timer::never()),
            },
            at: None,
        }
    }

    /// Make sure the alarm rings no later than `deadline` (an earlier ring is allowed: the
    /// loop then finds the deadline not yet passed and arms again).
    pub(crate) fn arm(&mut self, deadline: Option<Instant>) {
        if let Some(d) = deadline
            && self.at.is_none_or(|at| d < at)
        {
            match &mut self.clock {
                Clock::Own(timer) => timer.set_at(d),
                Clock::Shared(deadlines, slot, _) => {
                    let slot = *slot.get_or_insert_with(|| deadlines.slot());
                    deadlines.arm(slot, d);
                }
            }
            self.at = Some(d);
        }
    }

    /// Ready when the alarm rings (then it is disarmed); never while it is not armed.
    pub(crate) fn poll_ring(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(at) = self.at else {
            return Poll::Pending;
        };
        match &mut self.clock {
            Clock::Own(timer) => {
                ready!(Pin::new(timer).poll(cx));
            }
            Clock::Shared(deadlines, Some(slot), waiting) => {
                // Not rung before its time (the heap rings an arming only once it has passed).
                if *waiting && Instant::now() < at {
                    return Poll::Pending;
                }
                *waiting = true;
                ready!(deadlines.poll_ring(*slot, cx));
                *waiting = false;
            }
            Clock::Shared(_, None, _) => return Poll::Pending,
        }
        self.at = None;
        Poll::Ready(())
    }
}

/// The alarm rang: handle the session's deadline if it has passed (and was not handled just
/// now); otherwise it moved later and the next wait arms the alarm for it.
fn alarm_rang(session: &mut dyn Session, fired: &mut Option<Instant>) {
    let now = Instant::now();
    if let Some(d) = armed(session.poll_timeout(), *fired)
        && d <= now
    {
        *fired = Some(d);
        session.handle_timeout(now);
    }
}

/// One connection's state across the loop's waits.
///
/// Every connection's task is as large as its largest state, idle ones included, so each wait
/// is a `poll_fn` over a reference to this (readiness from [`Async::poll_readable`] and
/// [`Async::poll_writable`], which keep the task's waker in the source's own slot, not in a
/// list the reactor allocates), rather than a combination of `read_with`, `write_with` and
/// timer futures, each of which carried its own copies of the state.
pub(crate) struct Conn<'a> {
    stream: &'a Async<TcpStream>,
    session: &'a mut dyn Session,
    /// The responses gathered for one write; a spare buffer is taken while there is output.
    out: Vec<u8>,
    /// The deadline handled last: the same instant again would only spin.
    fired: Option<Instant>,
    alarm: Alarm<'a>,
    /// The peer's end-of-stream was read.
    peer_closed: bool,
    /// The last read was short: the socket is drained, so wait for readiness before reading
    /// again instead of spending a read(2) on `WouldBlock`.
    drained: bool,
    /// The shutdown listener holds this task's waker: it is polled again only once shutdown
    /// has come.
    listening: bool,
}

/// The progress of one [`write_all`].
struct Writing {
    written: usize,
    /// Since when the write waits without progress: taken only once a write has to wait, so a
    /// write that goes out at once needs no clock.
    stalled: Option<Instant>,
    /// How long a write may wait without progress, in milliseconds (not a `Duration`: this is
    /// part of every connection's task, the largest of its waits).
    stall_ms: u32,
    /// It had to wait for the peer.
    waited: bool,
}

impl Conn<'_> {
    /// The state of a connection that has not read or written yet; a server's connections
    /// share its `deadlines`, a client's has a timer of its own.
    pub(crate) fn new<'a>(
        stream: &'a Async<TcpStream>,
        session: &'a mut dyn Session,
        deadlines: Option<&'a Deadlines>,
    ) -> Conn<'a> {
        Conn {
            stream,
            session,
            out: Vec::new(),
            fired: None,
            alarm: Alarm::new(deadlines),
            peer_closed: false,
            drained: false,
            listening: false,
        }
    }

    /// Input (read and fed to the session, when `reading`) or the alarm. `ready_first`: wait
    /// for readability before the next read (the socket was found drained).
    fn poll_input(
        &mut self,
        cx: &mut Context<'_>,
        reading: bool,
        ready_first: &mut bool,
    ) -> Poll<Wake> {
        if reading {
            loop {
                if *ready_first {
                    match self.stream.poll_readable(cx) {
                        Poll::Ready(Ok(())) => *ready_first = false,
                        Poll::Ready(Err(e)) => return Poll::Ready(Wake::Read(Err(e))),
                        Poll::Pending => break,
                    }
                }
                match read_into(
                    self.stream.get_ref(),
                    &mut *self.session,
                    &mut self.peer_closed,
                    &mut self.drained,
                ) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => *ready_first = true,
                    done => return Poll::Ready(Wake::Read(done)),
                }
            }
        }
        self.alarm.poll_ring(cx).map(|()| Wake::Alarm)
    }

    /// Write all of `out` ([`write_all`]); `Ready(Ok(true))`: it had to wait for the peer.
    fn poll_write(&mut self, cx: &mut Context<'_>, w: &mut Writing) -> Poll<io::Result<bool>> {
        loop {
            if w.written >= self.out.len() {
                return Poll::Ready(Ok(w.waited));
            }
            let mut socket = self.stream.get_ref();
            match socket.write(&self.out[w.written..]) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => {
                    w.written += n;
                    w.stalled = None;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            match self.stream.poll_writable(cx) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
            w.waited = true;
            let since = *w.stalled.get_or_insert_with(Instant::now);
            let stall = Duration::from_millis(w.stall_ms.into());
            self.alarm
                .arm(armed(self.session.poll_timeout(), self.fired));
            self.alarm.arm(Some(since + stall));
            ready!(self.alarm.poll_ring(cx));
            if since.elapsed() >= stall {
                return Poll::Ready(Err(write_stalled(stall)));
            }
            alarm_rang(&mut *self.session, &mut self.fired);
        }
    }

    /// One sendfile(2) step of the range [`Session::poll_sendfile`] offers, waiting for
    /// writability as [`write_all`] does (a peer that reads nothing for [`WRITE_TIMEOUT`] since
    /// `since` fails, timed by the connection's [`Alarm`]). The session's own deadline is left
    /// to the loop's next wait, as before: a ring for it here only re-arms the alarm.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn poll_send_file(&mut self, cx: &mut Context<'_>, since: Instant) -> Poll<io::Result<()>> {
        use std::os::fd::AsFd;
        loop {
            let sent = {
                let Some(range) = self.session.poll_sendfile() else {
                    return Poll::Ready(Ok(()));
                };
                portline_common::driver::session::sendfile(self.stream.get_ref().as_fd(), &range)
            };
            match sent {
                Ok(n) => {
                    self.session.handle_sendfile(Instant::now(), n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            match self.stream.poll_writable(cx) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
            self.alarm.arm(Some(since + WRITE_TIMEOUT));
            ready!(self.alarm.poll_ring(cx));
            if since.elapsed() >= WRITE_TIMEOUT {
                return Poll::Ready(Err(write_stalled(WRITE_TIMEOUT)));
            }
        }
    }
}

/// Drive the session over the stream of `c` ([`Conn::new`]) until it is done and flushed, the peer fails, or (when `stop`
/// is given) shutdown is requested while the connection is idle. A server connection passes its
/// admission `ticket`, told before each wait since when the connection waits for a request.
///
/// The loop: gather every ready response into one buffer and write all of it; close when the
/// session is done; otherwise wait for input (if the session wants it), its deadline, or the
/// stop signal, and feed what came. A read of 0 is end-of-stream: [`Session::receive_eof`], then
/// no more reads, and the pending replies are still written.
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` would keep its arguments twice in the future (rust-lang/rust#62958)"
)]
pub(crate) fn drive<'a>(
    mut c: Conn<'a>,
    stop: Option<&'a Receiver<()>>,
    ticket: Option<&'a Ticket>,
) -> impl Future<Output = Result<End, SocketFailure>> + 'a {
    async move {
        // One shutdown listener for the connection's life, not one per wait. Once it listens, it
        // holds this task's waker: it is polled again only when shutdown has come (an atomic
        // load), not on every wait.
        // Nothing is ever sent: the sender is closed on shutdown, which ends every recv.
        let mut listener = pin!(stop.map(Receiver::recv));
        // Turns in a row that did not wait.
        let mut turns = 0u32;
        loop {
            // A socket that is always ready never makes a read or a write wait, and smol does not
            // preempt: give the thread's other tasks (and the acceptor) a turn now and then.
            turns += 1;
            if turns >= TURNS_PER_YIELD {
                turns = 0;
                future::yield_now().await;
            }
            if c.out.capacity() == 0 {
                c.out = take_out();
            }
            gather(&mut *c.session, &mut c.out);
            if !c.out.is_empty() {
                if write_all(&mut c, WRITE_TIMEOUT)
                    .await
                    .map_err(SocketFailure::Write)?
                {
                    turns = 0;
                }
                c.out.clear();
                continue;
            }
            // Then a file range the session offers, zero-copy.
            #[cfg(any(target_os = "linux", target_os = "android"))]
            if c.session.poll_sendfile().is_some() {
                let since = Instant::now();
                future::poll_fn(|cx| c.poll_send_file(cx, since))
                    .await
                    .map_err(SocketFailure::Write)?;
                continue;
            }
            let peer_closed = c.peer_closed;
            if c.session.is_done() {
                let linger = !peer_closed && c.session.lingers();
                return Ok(End::Done { linger });
            }
            let deadline = armed(c.session.poll_timeout(), c.fired);
            // Paused (no input wanted) without a deadline: read anyway, as the core allows (it
            // bounds what it buffers), rather than hang. After end-of-stream with no deadline
            // nothing can make progress any more.
            let reading = !peer_closed && (c.session.wants_read() || deadline.is_none());
            if !reading && deadline.is_none() {
                return Ok(End::Done {
                    linger: !peer_closed,
                });
            }
            if c.drained || c.out.capacity() > KEEP_OUT_CAPACITY {
                // About to wait for the peer (the socket is drained), or holding a large buffer:
                // an idle connection keeps neither an output buffer nor its session's buffers.
                give_back(std::mem::take(&mut c.out));
                if c.drained && reading {
                    c.session.release_idle();
                }
            }
            // Everything is written: a server connection waiting for a request may be evicted (the
            // one waiting longest goes first).
            if let Some(ticket) = ticket {
                ticket.set_waiting(c.session.waiting_since());
            }

            c.alarm.arm(deadline);
            // The wait's future holds only references and flags (the task is as large as it).
            let (conn, mut stopping) = (&mut c, listener.as_mut());
            let (mut ready_first, mut waited) = (conn.drained, false);
            let (wake, waited) = future::poll_fn(move |cx| {
                if let Poll::Ready(wake) = conn.poll_input(cx, reading, &mut ready_first) {
                    return Poll::Ready((wake, waited));
                }
                if let Some(recv) = stopping.as_mut().as_pin_mut()
                    && (!conn.listening || stop.is_some_and(Receiver::is_closed))
                {
                    conn.listening = true;
                    if recv.poll(cx).is_ready() {
                        return Poll::Ready((Wake::Stop, waited));
                    }
                }
                waited = true;
                Poll::Pending
            })
            .await;
            if waited {
                turns = 0;
            }
            match wake {
                Wake::Read(Ok(())) => {
                    // Input in hand: not evictable until the next wait says so.
                    if let Some(ticket) = ticket {
                        ticket.set_waiting(None);
                    }
                }
                Wake::Read(Err(e)) => return Err(SocketFailure::Read(e)),
                Wake::Alarm => alarm_rang(&mut *c.session, &mut c.fired),
                Wake::Stop => return Ok(End::Stopped),
            }
        }
    }
}

/// Collect the output of every ready response into `out`, up to about one transmit budget.
fn gather(session: &mut dyn Session, out: &mut Vec<u8>) {
    let now = Instant::now();
    while out.len() < TRANSMIT_BUDGET {
        let before = out.len();
        session.poll_transmit(now, out, TRANSMIT_BUDGET - before);
        if out.len() == before {
            break;
        }
    }
}

/// Write all of the connection's `out`. The session's deadline still fires meanwhile (its
/// timers keep running while a slow peer drains), but the session is not asked for more output.
/// A write that makes no progress for `stall` ([`WRITE_TIMEOUT`]) fails: a peer that stopped
/// reading cannot hold the connection forever. Both deadlines share the connection's
/// [`Alarm`]. `Ok(true)`: it had to wait for the peer.
fn write_all<'c>(
    c: &'c mut Conn<'_>,
    stall: Duration,
) -> impl Future<Output = io::Result<bool>> + 'c {
    let mut w = Writing {
        written: 0,
        stalled: None,
        stall_ms: u32::try_from(stall.as_millis()).unwrap_or(u32::MAX),
        waited: false,
    };
    future::poll_fn(move |cx| c.poll_write(cx, &mut w))
}

/// The error of a write that made no progress for `stall`.
fn write_stalled(stall: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("the peer read nothing for {stall:?}"),
    )
}

/// Read until the socket would block (at most [`READS_PER_WAKE`] reads), feeding each chunk to
/// the session while it wants more. `Err(WouldBlock)` when nothing was read: `read_with` then
/// waits for readiness and calls this again. `drained`: the last read was short.
fn read_into(
    mut socket: &TcpStream,
    session: &mut dyn Session,
    peer_closed: &mut bool,
    drained: &mut bool,
) -> io::Result<()> {
    READ_BUF.with_borrow_mut(|buf| {
        let mut fed = false;
        *drained = false;
        for _ in 0..READS_PER_WAKE {
            match socket.read(buf) {
                Ok(0) => {
                    *peer_closed = true;
                    session.receive_eof(Instant::now());
                    return Ok(());
                }
                Ok(n) => {
                    session.receive(Instant::now(), &buf[..n]);
                    fed = true;
                    // A short read means the socket is drained; skip the read that would say so.
                    if n < buf.len() {
                        *drained = true;
                        return Ok(());
                    }
                    if !session.wants_read() {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && fed => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })
}

/// The session's deadline, unless it is the one just handled (a session that keeps returning
/// a passed deadline must not make the loop spin).
fn armed(deadline: Option<Instant>, fired: Option<Instant>) -> Option<Instant> {
    match (deadline, fired) {
        (Some(d), Some(f)) if d <= f => None,
        (d, _) => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smol::future::FutureExt as _;
    use std::net::TcpListener;

    /// A session that only has a deadline, and counts the times it was handled.
    struct Deadline {
        at: Instant,
        handled: u32,
    }

    impl Session for Deadline {
        fn receive(&mut self, _: Instant, _: &[u8]) {}
        fn receive_eof(&mut self, _: Instant) {}
        fn handle_timeout(&mut self, now: Instant) {
            assert!(now >= self.at, "handled before its deadline");
            self.handled += 1;
        }
        fn poll_transmit(&mut self, _: Instant, _: &mut Vec<u8>, _: usize) {}
        fn poll_timeout(&self) -> Option<Instant> {
            Some(self.at)
        }
        fn wants_read(&self) -> bool {
            true
        }
        fn is_done(&self) -> bool {
            false
        }
    }

    #[test]
    fn a_write_the_peer_does_not_read_fails_after_the_stall_timeout_and_deadlines_still_fire() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        smol::block_on(async {
            let stream = Async::<TcpStream>::connect(addr).await.unwrap();
            // The peer accepts and never reads: the socket buffers fill, then the write waits.
            let (_peer, _) = listener.accept().unwrap();
            let start = Instant::now();
            let mut session = Deadline {
                at: start + Duration::from_millis(100),
                handled: 0,
            };
            let at = session.at;
            let stall = Duration::from_millis(400);
            let mut c = Conn::new(&stream, &mut session, None);
            c.out = vec![0u8; 64 << 20];
            let err = write_all(&mut c, stall).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::TimedOut);
            assert!(start.elapsed() >= stall);
            assert_eq!(c.fired, Some(at));
            drop(c);
            // The session's deadline, earlier than the stall, was handled once while waiting.
            assert_eq!(session.handled, 1);
        });
    }

    #[test]
    fn a_deadline_already_handled_is_not_armed_again() {
        let t = Instant::now();
        let later = t + Duration::from_millis(5);
        assert_eq!(armed(Some(t), None), Some(t));
        assert_eq!(armed(Some(t), Some(t)), None);
        assert_eq!(armed(Some(later), Some(t)), Some(later));
        assert_eq!(armed(None, Some(t)), None);
    }

    #[test]
    fn the_alarm_moves_only_to_an_earlier_deadline() {
        let t = Instant::now();
        let ms = |n| t + Duration::from_millis(n);
        let mut alarm = Alarm::new(None);
        alarm.arm(None);
        assert_eq!(alarm.at, None);
        alarm.arm(Some(ms(50)));
        assert_eq!(alarm.at, Some(ms(50)));
        // A later deadline (the idle timeout after another request) leaves it where it is.
        alarm.arm(Some(ms(90)));
        assert_eq!(alarm.at, Some(ms(50)));
        alarm.arm(None);
        assert_eq!(alarm.at, Some(ms(50)));
        // An earlier one (a shorter head timeout) moves it.
        alarm.arm(Some(ms(20)));
        assert_eq!(alarm.at, Some(ms(20)));
    }

    #[test]
    fn an_alarm_rings_at_its_deadline_and_then_is_disarmed() {
        let mut alarm = Alarm::new(None);
        let start = Instant::now();
        alarm.arm(Some(start + Duration::from_millis(20)));
        smol::block_on(future::poll_fn(|cx| alarm.poll_ring(cx)));
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert_eq!(alarm.at, None);
        // Disarmed, it never rings.
        let rang = smol::block_on(
            async {
                future::poll_fn(|cx| alarm.poll_ring(cx)).await;
                true
            }
            .or(async {
                Timer::after(Duration::from_millis(30)).await;
                false
            }),
        );
        assert!(!rang);
    }
}
