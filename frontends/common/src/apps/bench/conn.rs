//! One load-generating connection, sans-IO: what to write and when, what the bytes read mean.
//! A driver owns the socket and calls, in its loop:
//!
//! 1. [`BenchConn::poll_transmit`] → write what it appended (whole requests);
//! 2. [`BenchConn::receive`] with each read, [`BenchConn::receive_eof`] at end of stream;
//! 3. [`BenchConn::handle_timeout`] once [`BenchConn::poll_timeout`] has passed;
//! 4. when any of them says [`Next::Reconnect`] (or the socket failed: [`BenchConn::fail`]),
//!    close the socket, open a new one, and call [`BenchConn::reconnected`].
//!
//! Responses are read by the core's client [`Connection`]: each request is announced to it with
//! `send_request` (so it knows the framing: HEAD, keep-alive), and its events say where each
//! response ends. Latency counts from the request's send time, or with a rate from its
//! intended send time ([`Schedule`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use portline_core::http::{
    BodyLength, Config, Connection, ErrorKind, Event, Progress, Request, Role,
};

use super::request::Template;
use super::schedule::Schedule;
use super::stats::{Failure, Stats};
use crate::driver::clock;

/// What the driver does next with this connection's socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Next {
    /// Carry on.
    Continue,
    /// Close the socket and connect again (the server closed, a response was bad or late).
    Reconnect,
}

/// A request written and not yet answered.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    /// Where its latency counts from: the intended send time with a rate, else `sent`.
    start: Instant,
    /// When it was handed to the driver to write (its timeout counts from here).
    sent: Instant,
}

/// One connection's state: the core's client connection, the requests in flight, the schedule.
#[derive(Debug)]
pub struct BenchConn {
    conn: Connection,
    in_flight: VecDeque<InFlight>,
    /// Most requests in flight (`--pipeline`).
    depth: usize,
    schedule: Option<Schedule>,
    timeout: Duration,
    /// The status of the response being read.
    status: u16,
    /// The core's rendering of each request, discarded: the template's bytes are sent.
    scratch: Vec<u8>,
}

impl BenchConn {
    /// A connection that keeps `depth` requests in flight (1: no pipelining), paced by
    /// `schedule` if given, and gives up on a response after `timeout`.
    pub fn new(depth: usize, schedule: Option<Schedule>, timeout: Duration) -> BenchConn {
        BenchConn {
            conn: new_client(),
            in_flight: VecDeque::with_capacity(depth.max(1)),
            depth: depth.max(1),
            schedule,
            timeout,
            status: 0,
            scratch: Vec::with_capacity(128),
        }
    }

    /// Requests written and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Append the requests due at `now` to `out` and return how many: up to the pipeline depth,
    /// and with a rate only those whose intended time has come.
    pub fn poll_transmit(&mut self, now: Instant, template: &Template, out: &mut Vec<u8>) -> usize {
        let mut n = 0;
        while self.in_flight.len() < self.depth {
            let start = match &mut self.schedule {
                None => now,
                Some(s) if s.is_due(now) => s.take(),
                Some(_) => break,
            };
            let request = Request {
                method: &template.method,
                target: &template.target,
                headers: &[],
                body: BodyLength::Known(0),
                keep_alive: true,
            };
            let t = clock::to_time(now);
            self.scratch.clear();
            let announced = self
                .conn
                .send_request(t, &request, &mut self.scratch)
                .and_then(|()| self.conn.send_end(t));
            if announced.is_err() {
                // The core refuses a request once the connection is closing (the server said
                // `Connection: close`); the driver reconnects when its response has ended.
                break;
            }
            out.extend_from_slice(&template.bytes);
            self.in_flight.push_back(InFlight { start, sent: now });
            n += 1;
        }
        n
    }

    /// The start of a blocking or async driver's turn: fire the timeout if it passed (then
    /// reconnect), else clear `out` and append the requests due ([`Self::poll_transmit`]).
    pub fn begin_turn(
        &mut self,
        now: Instant,
        template: &Template,
        out: &mut Vec<u8>,
        stats: &mut Stats,
    ) -> Next {
        if self.handle_timeout(now, stats) == Next::Reconnect {
            return Next::Reconnect;
        }
        out.clear();
        self.poll_transmit(now, template, out);
        Next::Continue
    }

    /// Bytes read at `now`: count them, and record every response they complete.
    pub fn receive(&mut self, now: Instant, data: &[u8], stats: &mut Stats) -> Next {
        stats.bytes += data.len() as u64;
        self.conn.receive(clock::to_time(now), data);
        self.drain(now, stats)
    }

    /// The server closed its side: a response delimited by the close ends here; one cut short,
    /// or requests left unanswered, are a read failure. Always reconnect.
    pub fn receive_eof(&mut self, now: Instant, stats: &mut Stats) -> Next {
        self.conn.receive_eof(clock::to_time(now));
        let _ = self.drain(now, stats);
        if !self.in_flight.is_empty() && !self.conn.is_closed() {
            // Not yet counted by `drain` (it counts a core error once).
            stats.fail(Failure::Read);
        }
        Next::Reconnect
    }

    /// When [`Self::handle_timeout`] is next due: the oldest request's timeout, or with a rate
    /// the next intended send time when a request may be sent.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timeout = self.in_flight.front().map(|r| r.sent + self.timeout);
        match (timeout, self.next_send()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// With a rate, when the next request may be sent (its intended time), if a request may be
    /// sent at all (fewer than the pipeline depth in flight). Event loops keep these in a heap.
    pub fn next_send(&self) -> Option<Instant> {
        match &self.schedule {
            Some(s) if self.in_flight.len() < self.depth => Some(s.next()),
            _ => None,
        }
    }

    /// Time has reached `now`: a request older than the timeout is a timeout failure, and the
    /// connection is given up (its pipeline cannot be trusted any more). A request that became
    /// due needs no action here: the driver calls [`Self::poll_transmit`] next.
    pub fn handle_timeout(&mut self, now: Instant, stats: &mut Stats) -> Next {
        match self.in_flight.front() {
            Some(r) if r.sent + self.timeout <= now => {
                stats.fail(Failure::Timeout);
                Next::Reconnect
            }
            _ => Next::Continue,
        }
    }

    /// The socket failed (connect, read or write): count it; the driver reconnects.
    pub fn fail(&mut self, kind: Failure, stats: &mut Stats) {
        stats.fail(kind);
    }

    /// A new socket replaces the old one: a fresh core connection; requests that were in flight
    /// are dropped (already counted as failures, or cut off by a close the server announced).
    /// The schedule carries on: time spent reconnecting is not forgiven.
    pub fn reconnected(&mut self) {
        self.conn = new_client();
        self.in_flight.clear();
        self.status = 0;
    }

    /// Hand every complete event to `stats`.
    fn drain(&mut self, now: Instant, stats: &mut Stats) -> Next {
        loop {
            match self.conn.poll_event() {
                Ok(Progress::Event(Event::Response(head))) => self.status = head.status,
                Ok(Progress::Event(Event::Interim(_) | Event::Data(_))) => {}
                Ok(Progress::Event(Event::EndOfMessage)) => {
                    if let Some(r) = self.in_flight.pop_front() {
                        stats.record(self.status, now.saturating_duration_since(r.start));
                    }
                }
                Ok(Progress::NeedData | Progress::Paused) => return Next::Continue,
                Ok(Progress::Event(Event::Switched(_) | Event::Request(_)) | Progress::Closed) => {
                    return Next::Reconnect;
                }
                Err(e) => {
                    stats.fail(match e.kind() {
                        ErrorKind::UnexpectedEof => Failure::Read,
                        _ => Failure::Parse,
                    });
                    return Next::Reconnect;
                }
            }
        }
    }
}

fn new_client() -> Connection {
    Connection::new(
        Role::Client,
        Config::default(),
        clock::to_time(Instant::now()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

    fn template() -> Template {
        Template::new("GET", "/", "127.0.0.1:8080", &[])
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_closed_loop_connection_sends_the_next_request_when_the_response_ends() {
        let (t, mut stats) = (Instant::now(), Stats::new());
        let mut c = BenchConn::new(1, None, Duration::from_secs(2));
        let mut out = Vec::new();
        assert_eq!(c.poll_transmit(t, &template(), &mut out), 1);
        assert_eq!(out, template().bytes);
        assert_eq!(
            c.poll_transmit(t, &template(), &mut out),
            0,
            "one in flight"
        );
        // The response in two pieces: nothing is recorded before its last byte.
        assert_eq!(c.receive(t + ms(1), &OK[..20], &mut stats), Next::Continue);
        assert_eq!(stats.responses(), 0);
        assert_eq!(c.receive(t + ms(3), &OK[20..], &mut stats), Next::Continue);
        assert_eq!(stats.responses(), 1);
        assert_eq!(stats.status[1], 1);
        assert_eq!(stats.bytes, OK.len() as u64);
        assert_eq!(stats.latency.max(), stats.latency.highest_equivalent(3000));
        assert_eq!(c.in_flight(), 0);
        assert_eq!(c.poll_transmit(t + ms(3), &template(), &mut out), 1);
    }

    #[test]
    fn pipelined_responses_are_matched_in_order_whatever_the_read_sizes() {
        let mut all = Vec::new();
        all.extend_from_slice(OK);
        all.extend_from_slice(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        );
        all.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        for chunk in [1, 7, all.len()] {
            let (t, mut stats) = (Instant::now(), Stats::new());
            let mut c = BenchConn::new(3, None, Duration::from_secs(2));
            let mut out = Vec::new();
            assert_eq!(c.poll_transmit(t, &template(), &mut out), 3);
            assert_eq!(out.len(), 3 * template().bytes.len());
            for piece in all.chunks(chunk) {
                assert_eq!(c.receive(t + ms(1), piece, &mut stats), Next::Continue);
            }
            assert_eq!(stats.status, [0, 2, 0, 1, 0, 0], "chunks of {chunk}");
            assert_eq!(stats.bytes, all.len() as u64);
            assert_eq!(c.in_flight(), 0);
            assert_eq!(stats.error_count(), 0);
        }
    }

    #[test]
    fn with_a_rate_latency_counts_from_the_intended_send_time() {
        let (t, mut stats) = (Instant::now(), Stats::new());
        // 100 req/s on one connection: intended at 0, 10, 20, 30 ms...
        let mut c = BenchConn::new(
            1,
            Some(Schedule::new(t, 100.0, 0, 1)),
            Duration::from_secs(2),
        );
        let mut out = Vec::new();
        assert_eq!(c.poll_transmit(t, &template(), &mut out), 1);
        assert_eq!(c.poll_timeout(), Some(t + Duration::from_secs(2)));
        // The server stalls 35 ms: the requests due at 10, 20, 30 ms wait behind it.
        let _ = c.receive(t + ms(35), OK, &mut stats);
        for step in 1..=3 {
            assert_eq!(c.poll_transmit(t + ms(35), &template(), &mut out), 1);
            let _ = c.receive(t + ms(36), OK, &mut stats);
            assert_eq!(stats.responses(), step + 1);
        }
        // Sent at 35 ms and answered at 36 ms, yet their latencies are 26, 16 and 6 ms, and the
        // first one's 35 ms: what a user arriving on schedule would have waited.
        let h = &stats.latency;
        for want in [35_000, 26_000, 16_000, 6_000] {
            assert_eq!(h.count_between(want - 10, want + 10), 1, "{want} µs");
        }
        // Caught up: the next one waits for its time (40 ms).
        assert_eq!(c.poll_transmit(t + ms(36), &template(), &mut out), 0);
        assert_eq!(c.poll_timeout(), Some(t + ms(40)));
        assert_eq!(c.poll_transmit(t + ms(40), &template(), &mut out), 1);
    }

    #[test]
    fn a_response_later_than_the_timeout_is_a_timeout_and_a_reconnect() {
        let (t, mut stats) = (Instant::now(), Stats::new());
        let mut c = BenchConn::new(1, None, ms(100));
        let mut out = Vec::new();
        let _ = c.poll_transmit(t, &template(), &mut out);
        assert_eq!(c.poll_timeout(), Some(t + ms(100)));
        assert_eq!(c.handle_timeout(t + ms(99), &mut stats), Next::Continue);
        assert_eq!(c.handle_timeout(t + ms(100), &mut stats), Next::Reconnect);
        assert_eq!(stats.errors_of(Failure::Timeout), 1);
        c.reconnected();
        assert_eq!(c.in_flight(), 0);
        assert_eq!(c.poll_transmit(t + ms(101), &template(), &mut out), 1);
    }

    #[test]
    fn a_server_that_closes_after_answering_costs_a_reconnect_not_an_error() {
        let (t, mut stats) = (Instant::now(), Stats::new());
        let mut c = BenchConn::new(1, None, Duration::from_secs(2));
        let mut out = Vec::new();
        let _ = c.poll_transmit(t, &template(), &mut out);
        let close = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        assert_eq!(c.receive(t, close, &mut stats), Next::Reconnect);
        assert_eq!((stats.responses(), stats.error_count()), (1, 0));
        // An HTTP/1.0 server that closes the connection to end the body: the same.
        c.reconnected();
        let _ = c.poll_transmit(t, &template(), &mut out);
        assert_eq!(
            c.receive(t, b"HTTP/1.0 200 OK\r\n\r\nuntil close", &mut stats),
            Next::Continue
        );
        assert_eq!(c.receive_eof(t, &mut stats), Next::Reconnect);
        assert_eq!((stats.responses(), stats.error_count()), (2, 0));
    }

    #[test]
    fn a_close_with_a_request_unanswered_is_one_read_error() {
        let (t, mut stats) = (Instant::now(), Stats::new());
        let mut c = BenchConn::new(1, None, Duration::from_secs(2));
        let mut out = Vec::new();
        let _ = c.poll_transmit(t, &template(), &mut out);
        assert_eq!(c.receive_eof(t, &mut stats), Next::Reconnect);
        assert_eq!(stats.errors_of(Failure::Read), 1);
        assert_eq!(stats.error_count(), 1);
        // Cut inside a body: also one read error.
        c.reconnected();
        let _ = c.poll_transmit(t, &template(), &mut out);
        let _ = c.receive(t, &OK[..OK.len() - 1], &mut stats);
        assert_eq!(c.receive_eof(t, &mut stats), Next::Reconnect);
        assert_eq!(stats.errors_of(Failure::Read), 2);
        assert_eq!(stats.error_count(), 2);
        // An idle connection the server closes: no error.
        c.reconnected();
        assert_eq!(c.receive_eof(t, &mut stats), Next::Reconnect);
        assert_eq!(stats.error_count(), 2);
    }

    #[test]
    fn a_response_that_is_not_http_is_a_parse_error() {
        let (t, mut stats) = (Instant::now(), Stats::new());
        let mut c = BenchConn::new(1, None, Duration::from_secs(2));
        let mut out = Vec::new();
        let _ = c.poll_transmit(t, &template(), &mut out);
        assert_eq!(
            c.receive(t, b"SSH-2.0-OpenSSH\r\n\r\n", &mut stats),
            Next::Reconnect
        );
        assert_eq!(stats.errors_of(Failure::Parse), 1);
        assert_eq!(stats.responses(), 0);
    }

    #[test]
    fn a_head_request_expects_no_body() {
        let (t, mut stats) = (Instant::now(), Stats::new());
        let head = Template::new("HEAD", "/", "h", &[]);
        let mut c = BenchConn::new(1, None, Duration::from_secs(2));
        let mut out = Vec::new();
        let _ = c.poll_transmit(t, &head, &mut out);
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(c.receive(t, r, &mut stats), Next::Continue);
        assert_eq!(stats.responses(), 1);
    }
}
