//! `bench` on mio: one edge-triggered event loop per thread, each owning its share of the
//! connections, as wrk runs. Per response: one `read` (a short read means the socket is
//! drained: a later arrival raises a new edge), the core reads it, and one `write` sends the
//! next request; `epoll_wait` is shared by every connection that became readable at once.
//!
//! Deadlines (response timeouts, reconnect back-off, connect timeouts) are swept every 10 ms.
//! With a rate, each connection's next intended send time is in a heap (at most one live entry
//! per connection; stale ones are skipped when they come up), so a turn costs the connections
//! that are due, not all of them, and the loop sleeps until the earliest.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use portline_common::apps::bench::{
    BenchConn, Failure, Live, Next, Plan, Publisher, READ_BUFFER, RECONNECT_BACKOFF, Stats,
};

/// How often deadlines are checked in closed-loop mode.
const SWEEP: Duration = Duration::from_millis(10);

/// Run `plan` on `plan.threads` event loops; returns the merged counts.
pub(crate) fn run(plan: &Plan, live: &Live) -> Stats {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..plan.threads.max(1))
            .map(|t| s.spawn(move || Loop::new(plan, t).run(live)))
            .collect();
        Stats::sum(handles.into_iter().filter_map(|h| h.join().ok()))
    })
}

/// One connection of a loop.
struct Slot {
    bc: BenchConn,
    stream: Option<TcpStream>,
    /// Connecting since then (the connect timeout counts from here).
    connecting: Option<Instant>,
    /// Connect again at this time (after a failed connect).
    retry_at: Option<Instant>,
    out: Vec<u8>,
    written: usize,
    /// The socket may hold input.
    readable: bool,
    /// An event reported the peer's FIN or an error: read until 0 or the error.
    read_closed: bool,
    /// With a rate: the send time this slot's live entry in the heap has.
    armed: Option<Instant>,
}

struct Loop<'a> {
    plan: &'a Plan,
    poll: Option<Poll>,
    slots: Vec<Slot>,
    stats: Stats,
    buf: Vec<u8>,
    /// With a rate: `(intended send time, slot)`, earliest first.
    sends: BinaryHeap<Reverse<(Instant, usize)>>,
}

impl<'a> Loop<'a> {
    fn new(plan: &'a Plan, thread: usize) -> Self {
        let slots = plan
            .share(thread)
            .map(|i| Slot {
                bc: plan.connection(i),
                stream: None,
                connecting: None,
                retry_at: None,
                out: Vec::with_capacity(plan.template.bytes.len() * plan.pipeline),
                written: 0,
                readable: false,
                read_closed: false,
                armed: None,
            })
            .collect();
        Loop {
            plan,
            poll: Poll::new().ok(),
            slots,
            stats: Stats::new(),
            buf: vec![0; READ_BUFFER],
            sends: BinaryHeap::new(),
        }
    }

    fn run(mut self, live: &Live) -> Stats {
        let Some(mut poll) = self.poll.take() else {
            // No event loop (out of descriptors): every connection of this loop failed.
            for _ in 0..self.slots.len() {
                self.stats.fail(Failure::Connect);
            }
            return self.stats;
        };
        let mut events = Events::with_capacity(1024);
        let start = Instant::now();
        for key in 0..self.slots.len() {
            self.open(&poll, key, start);
        }
        let mut publisher = Publisher::new(start);
        let mut next_sweep = start;
        let mut wake = start;
        loop {
            let now = Instant::now();
            if now >= self.plan.end || live.is_stopped() {
                break;
            }
            if now >= next_sweep {
                wake = self.sweep(&poll, now);
                next_sweep = now + SWEEP;
            }
            self.fire_sends(&poll, now);
            publisher.tick(live, &self.stats, now);
            let mut until = wake.min(next_sweep).min(self.plan.end);
            if let Some(Reverse((t, _))) = self.sends.peek() {
                until = until.min(*t);
            }
            let timeout = until.saturating_duration_since(now);
            if let Err(e) = poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                break;
            }
            for ev in events.iter() {
                let key = ev.token().0;
                let Some(slot) = self.slots.get_mut(key) else {
                    continue;
                };
                if slot.stream.is_none() {
                    continue;
                }
                if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                    slot.readable = true;
                    slot.read_closed |= ev.is_read_closed() || ev.is_error();
                }
                let now = Instant::now();
                if slot.connecting.is_some() {
                    self.finish_connect(&poll, key, now);
                } else {
                    self.drive(&poll, key, now);
                }
            }
        }
        publisher.flush(live, &self.stats);
        self.stats
    }

    /// Open a connection for slot `key` (a fresh core connection; the schedule carries on).
    fn open(&mut self, poll: &Poll, key: usize, now: Instant) {
        let slot = &mut self.slots[key];
        slot.stream = None;
        slot.connecting = None;
        slot.retry_at = None;
        slot.out.clear();
        slot.written = 0;
        slot.readable = false;
        slot.read_closed = false;
        slot.bc.reconnected();
        let registered = TcpStream::connect(self.plan.addr).and_then(|mut s| {
            poll.registry().register(
                &mut s,
                Token(key),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            Ok(s)
        });
        match registered {
            Ok(s) => {
                slot.stream = Some(s);
                slot.connecting = Some(now);
            }
            Err(_) => {
                slot.bc.fail(Failure::Connect, &mut self.stats);
                slot.retry_at = Some(now + RECONNECT_BACKOFF);
            }
        }
    }

    /// Close slot `key`'s socket and connect again.
    fn reconnect(&mut self, poll: &Poll, key: usize, now: Instant) {
        if let Some(mut s) = self.slots[key].stream.take() {
            let _ = poll.registry().deregister(&mut s);
        }
        self.open(poll, key, now);
    }

    /// A connecting socket had an event: connected, failed, or spurious.
    fn finish_connect(&mut self, poll: &Poll, key: usize, now: Instant) {
        let slot = &mut self.slots[key];
        let Some(stream) = slot.stream.as_mut() else {
            return;
        };
        let failed = match stream.take_error() {
            Ok(Some(_)) | Err(_) => true,
            Ok(None) => match stream.peer_addr() {
                Ok(_) => false,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(_) => true,
            },
        };
        if failed {
            slot.bc.fail(Failure::Connect, &mut self.stats);
            if let Some(mut s) = slot.stream.take() {
                let _ = poll.registry().deregister(&mut s);
            }
            slot.connecting = None;
            slot.retry_at = Some(now + RECONNECT_BACKOFF);
            return;
        }
        let _ = stream.set_nodelay(true);
        slot.connecting = None;
        self.drive(poll, key, now);
    }

    /// Send what is due, write, read: until the socket would block both ways.
    fn drive(&mut self, poll: &Poll, key: usize, mut now: Instant) {
        let template = &self.plan.template;
        let slot = &mut self.slots[key];
        let Some(stream) = slot.stream.as_mut() else {
            return;
        };
        let next = 'drive: loop {
            if slot.written == slot.out.len() {
                slot.out.clear();
                slot.written = 0;
                slot.bc.poll_transmit(now, template, &mut slot.out);
            }
            while slot.written < slot.out.len() {
                match stream.write(&slot.out[slot.written..]) {
                    Ok(n) => slot.written += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => {
                        slot.bc.fail(Failure::Write, &mut self.stats);
                        break 'drive Next::Reconnect;
                    }
                }
            }
            if !slot.readable {
                break Next::Continue;
            }
            match stream.read(&mut self.buf) {
                Ok(0) => break slot.bc.receive_eof(Instant::now(), &mut self.stats),
                Ok(n) => {
                    if n < self.buf.len() && !slot.read_closed {
                        slot.readable = false;
                    }
                    now = Instant::now();
                    if slot.bc.receive(now, &self.buf[..n], &mut self.stats) == Next::Reconnect {
                        break Next::Reconnect;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    slot.readable = false;
                    break Next::Continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    slot.bc.fail(Failure::Read, &mut self.stats);
                    break Next::Reconnect;
                }
            }
        };
        if next == Next::Reconnect {
            self.reconnect(poll, key, now);
        } else {
            self.arm(key);
        }
    }

    /// With a rate: make sure slot `key`'s next send time has an entry in the heap.
    fn arm(&mut self, key: usize) {
        let slot = &mut self.slots[key];
        if let Some(t) = slot.bc.next_send() {
            if slot.armed.is_none_or(|a| t < a) {
                slot.armed = Some(t);
                self.sends.push(Reverse((t, key)));
            }
        }
    }

    /// With a rate: drive every connection whose send time has come.
    fn fire_sends(&mut self, poll: &Poll, now: Instant) {
        while let Some(&Reverse((t, key))) = self.sends.peek() {
            if t > now {
                break;
            }
            self.sends.pop();
            let slot = &mut self.slots[key];
            if slot.armed != Some(t) {
                continue; // stale: a later entry (or none) stands for this slot
            }
            slot.armed = None;
            if slot.stream.is_some() && slot.connecting.is_none() {
                self.drive(poll, key, now); // re-arms
            }
        }
    }

    /// Check every connection's deadlines; returns the earliest one left (or a sweep from now).
    fn sweep(&mut self, poll: &Poll, now: Instant) -> Instant {
        let mut wake = now + SWEEP;
        for key in 0..self.slots.len() {
            let slot = &mut self.slots[key];
            if let Some(t) = slot.retry_at {
                if t <= now {
                    self.open(poll, key, now);
                } else {
                    wake = wake.min(t);
                }
                continue;
            }
            if let Some(since) = slot.connecting {
                if since + self.plan.timeout <= now {
                    slot.bc.fail(Failure::Connect, &mut self.stats);
                    self.reconnect(poll, key, now);
                }
                continue;
            }
            if slot.stream.is_none() {
                continue;
            }
            if slot.bc.handle_timeout(now, &mut self.stats) == Next::Reconnect {
                self.reconnect(poll, key, now);
            }
        }
        wake
    }
}
