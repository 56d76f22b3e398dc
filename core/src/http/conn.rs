//! The connection: a receive buffer, the resumable head parser, the state of both halves, and timers.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

use super::chunked::{ChunkPoll, Chunked};
use super::error::{ErrorKind, Fault};
use super::event::{
    Event, EventRef, Headers, HeadersRef, RequestHead, RequestRef, ResponseHead, ResponseRef,
    Version,
};
use super::parse::{self, Head, HeadParser, ResponseOutcome, Rules, StartLine, bad, peer};
use super::recv::RecvBuf;
use super::state::{
    BodyReader, BodyWriter, Exchange, Incoming, Next, Phase, Reading, Role, State, Step, Writing,
    body_and_persistence,
};
use super::write::{self as w, BodyLength, ConnectionField};
use super::{Config, Error, Limits, Progress, Request, Response};
use crate::Time;

/// A request the client sent whose response has not been read yet.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// It was a HEAD request: the response has no body.
    head: bool,
    /// It asked for `Connection: keep-alive`.
    keep_alive: bool,
}

/// The client's requests whose responses have not been read yet, oldest first. The first is
/// kept in place, so a client that does not pipeline never allocates for it.
#[derive(Debug, Default)]
struct PendingQueue {
    /// The oldest; `None` only when the queue is empty.
    first: Option<Pending>,
    rest: VecDeque<Pending>,
}

impl PendingQueue {
    fn push_back(&mut self, p: Pending) {
        if self.first.is_none() {
            self.first = Some(p);
        } else {
            self.rest.push_back(p);
        }
    }

    /// The usual case (no pipelined request behind the first) in line, the `VecDeque` out of
    /// line: inlined, it made the server's quick `EndOfMessage` save more registers.
    #[inline(always)]
    fn pop_front(&mut self) {
        if self.rest.is_empty() {
            self.first = None;
        } else {
            self.pop_front_rest();
        }
    }

    /// [`Self::pop_front`] with requests pipelined behind the first.
    #[inline(never)]
    fn pop_front_rest(&mut self) {
        self.first = self.rest.pop_front();
    }

    fn front(&self) -> Option<&Pending> {
        self.first.as_ref()
    }

    fn is_empty(&self) -> bool {
        self.first.is_none()
    }
}

/// One HTTP connection, in either role. No I/O: bytes in, events out.
///
/// Timers (see [`Connection::poll_timeout`]) apply to the **server** role only, one at a time:
///
/// | timer | runs while | counted from | then |
/// |---|---|---|---|
/// | `Limits::first_byte_timeout` | a new connection has received nothing | creation | clean close |
/// | `Limits::idle_timeout` | a kept-alive connection waits for its next request | the `send_end` that kept it | clean close |
/// | `Limits::head_timeout` | a request head is arriving | its first byte | sticky [`ErrorKind::HeadTimeout`], 408 |
/// | `Limits::body_timeout` | the connection waits for request body bytes | the last bytes received | sticky [`ErrorKind::BodyTimeout`], 408 |
///
/// The body timer runs only while the body is starved: the last `poll_event` said
/// [`Progress::NeedData`] in the middle of a body; it counts from the last bytes received or
/// from that poll, whichever is later. Bytes buffered but not yet polled are the caller's to
/// consume, not the peer's to send, so they never time out (a server streaming a long answer
/// before it reads the rest of the request body is not cut off). It also runs
/// after the response was sent early, while the rest of the body is read: a 408 can then no
/// longer be sent ([`Connection::send_error`] writes nothing), and the connection just closes.
///
/// A client connection has no timers: how long to wait for a response is the application's
/// choice, so `poll_timeout` returns `None` for it.
///
/// How a connection ends: one signal, [`Progress::Closed`], whoever ended it (the peer's end of
/// stream between messages, a response that does not keep the connection, the idle timeout, a
/// body read until close that ended, a 101 response). An `Err` from `poll_event` is sticky:
/// answer it with [`Connection::send_error`] (server) and close. Both are the connection's
/// phase in `state.rs`, which [`Connection::is_closed`] reads without polling.
///
/// A client reads a response (the server role is shown in the crate documentation):
///
/// ```
/// use portline_core::Time;
/// use portline_core::http::{BodyLength, Config, Connection, Event, Progress, Request, Role};
///
/// let now = Time::ZERO;
/// let mut conn = Connection::new(Role::Client, Config::default(), now);
/// let mut out = Vec::new();
/// let request = Request {
///     method: "GET",
///     target: "/",
///     headers: &[("Host", b"example.org")],
///     body: BodyLength::Known(0),
///     keep_alive: false,
/// };
/// conn.send_request(now, &request, &mut out).unwrap();
/// conn.send_end(now).unwrap();
/// assert_eq!(out, b"GET / HTTP/1.0\r\nHost: example.org\r\n\r\n");
///
/// // A close-delimited HTTP/1.0 response: the body ends with the stream.
/// conn.receive(now, b"HTTP/1.0 200 OK\r\n\r\nhello");
/// conn.receive_eof(now);
/// let Ok(Progress::Event(Event::Response(head))) = conn.poll_event() else { panic!() };
/// assert_eq!(head.status, 200);
/// // The payload is a `Bytes`; `portline_core::bytes` re-exports the crate.
/// let hello = portline_core::bytes::Bytes::from_static(b"hello");
/// assert_eq!(conn.poll_event(), Ok(Progress::Event(Event::Data(hello))));
/// assert_eq!(conn.poll_event(), Ok(Progress::Event(Event::EndOfMessage)));
/// assert_eq!(conn.poll_event(), Ok(Progress::Closed));
/// ```
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
    /// Received bytes not yet handed out (short input inline, [`RecvBuf`]).
    buf: RecvBuf,
    /// Bytes at the front of `buf` that `poll_borrowed` handed out: dropped on the next call.
    consumed: usize,
    /// The last response head with obs-fold, unfolded (it is not a slice of `buf`).
    unfolded: Vec<u8>,
    /// How far the head at the front of `buf` has been parsed; it keeps the field spans of
    /// the last head (lent to its event) until the next head starts.
    parser: HeadParser,
    state: State,
    /// Client: requests sent, oldest first.
    pending: PendingQueue,
    /// Body bytes of the incoming message so far (for `Limits::max_body`).
    body_seen: u64,
    /// The latest time passed to any input or command.
    now: Time,
    /// Server: when the connection last became idle (creation, or a `send_end` that kept it).
    idle_since: Time,
    /// Server: when the first byte of the head being read arrived.
    head_since: Option<Time>,
    /// Server: when the body timer was last re-armed (the request head was parsed, body bytes
    /// arrived, or a poll found the body waiting after bytes the caller had not polled yet).
    body_since: Time,
    /// Server: the last `poll_event` found the body waiting for bytes from the peer.
    body_starved: bool,
    /// Server: a byte has been received (until then the first-byte timer runs, not the idle one).
    heard: bool,
}

/// How a poll hands out the head it found ([`Connection::poll_head`]).
trait HeadEvent {
    type Out<'a>;
    fn event(conn: &mut Connection, found: Found) -> Self::Out<'_>;
}

/// [`Connection::poll_borrowed`]'s events, borrowing the buffer.
struct Borrowed;

impl HeadEvent for Borrowed {
    type Out<'a> = EventRef<'a>;

    #[inline(always)]
    fn event(conn: &mut Connection, found: Found) -> EventRef<'_> {
        conn.borrowed(found)
    }
}

/// [`Connection::poll_event`]'s events, split off the buffer.
struct Owned;

impl HeadEvent for Owned {
    type Out<'a> = Event;

    #[inline(always)]
    fn event(conn: &mut Connection, found: Found) -> Event {
        conn.owned(found)
    }
}

/// Which of the server's timers is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// A new connection waits for its first byte: a clean close.
    FirstByte,
    /// A kept-alive connection waits for its next request: a clean close.
    Idle,
    /// A head is arriving: 408.
    Head,
    /// A request body is stalled: 408.
    Body,
}

fn misuse(message: &'static str) -> Error {
    Error::new(ErrorKind::LocalMisuse, Fault::Local, message)
}

impl Connection {
    /// A new connection. `now` starts the idle timer of a server connection.
    pub fn new(role: Role, config: Config, now: Time) -> Connection {
        Connection {
            role,
            config,
            buf: RecvBuf::default(),
            consumed: 0,
            unfolded: Vec::new(),
            parser: HeadParser::default(),
            state: State::new(),
            pending: PendingQueue::default(),
            body_seen: 0,
            now,
            idle_since: now,
            head_since: None,
            body_since: now,
            body_starved: false,
            heard: false,
        }
    }

    // ----- getters -----

    /// The role given at construction.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration given at construction.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the caller should read more bytes from the socket now. False while enough input
    /// is buffered (e.g. pipelined requests waiting for the current response), after end of
    /// stream, and once the connection is closed or failed. Reading anyway is allowed but
    /// buffers without bound only up to the head limit plus one read.
    pub fn wants_read(&self) -> bool {
        // While a body is read, `poll_event` drains the buffer down to one chunk-size line or
        // trailer line at most; elsewhere unparsed input is bounded by the head limit.
        self.state.is_open()
            && !self.state.peer_eof()
            && (self.unread() <= self.config.limits.max_head
                || matches!(self.state.reading, Reading::Body { .. }))
    }

    /// True once the connection is over: what [`Self::poll_event`] reports as [`Progress::Closed`]
    /// or as its sticky error, read from the same state without polling (e.g. to decide, after
    /// a command, whether to send another request or to close the socket).
    pub fn is_closed(&self) -> bool {
        !self.state.is_open()
    }

    /// Takes the received bytes not handed out yet, leaving the buffer empty. After a `101`
    /// ([`Event::Switched`]) these are the first bytes of the new protocol, which the caller
    /// now speaks on the socket itself.
    pub fn take_remaining(&mut self) -> BytesMut {
        self.release();
        self.buf.take()
    }

    /// How many received bytes are buffered and not yet handed out as events.
    pub fn buffered(&self) -> usize {
        self.unread()
    }

    /// The bytes of the incoming body not yet handed out, when its length is known
    /// (`Content-Length`, or none: `Some(0)`); `None` for a chunked or close-delimited body,
    /// or when no body is being read. A chunked body whose last chunk (with no trailers) was
    /// read with the data of the last `Data` event is complete: `Some(0)` until its
    /// `EndOfMessage`. A server that answers a request at its head uses it to
    /// decide whether the rest is short enough to read and drop (see
    /// [`Self::close_after_response`]).
    pub fn body_left(&self) -> Option<u64> {
        match &self.state.reading {
            Reading::Body {
                reader: BodyReader::Length(n),
                ..
            } => Some(*n),
            Reading::Body { .. } | Reading::Head | Reading::Done => None,
        }
    }

    // ----- inputs -----

    /// Bytes received from the peer. They are buffered; parse them with [`Self::poll_event`].
    /// Bytes that arrive after end of stream or once the connection is over are dropped.
    pub fn receive(&mut self, now: Time, data: &[u8]) {
        self.now = now;
        let switched = self.state.phase == Phase::Switched;
        if !(self.state.is_open() || switched) || self.state.peer_eof() || data.is_empty() {
            return;
        }
        self.release();
        // Nothing received before: the buffer is empty and has never been allocated.
        let first = !self.heard;
        self.heard = true;
        if self.buf.is_empty() && self.state.reading == Reading::Head && self.head_since.is_none() {
            self.head_since = Some(now);
        }
        if matches!(self.state.reading, Reading::Body { .. }) {
            self.body_since = now;
            self.body_starved = false;
        }
        self.buf.receive(data, first);
    }

    /// The peer closed its sending side (read returned 0).
    pub fn receive_eof(&mut self, now: Time) {
        self.now = now;
        self.state.receive_eof();
    }

    /// Time has reached `now`; fire any expired timer (first byte or idle: close; head or
    /// body: error 408; see the type's documentation).
    pub fn handle_timeout(&mut self, now: Time) {
        self.now = now;
        let Some((deadline, timer)) = self.timer() else {
            return;
        };
        if now < deadline {
            return;
        }
        match timer {
            Timer::FirstByte | Timer::Idle => self.state.close(),
            Timer::Head => {
                self.state
                    .fail(peer(ErrorKind::HeadTimeout, "head not received in time"));
            }
            Timer::Body => {
                self.state
                    .fail(peer(ErrorKind::BodyTimeout, "request body stalled"));
            }
        }
    }

    // ----- outputs -----

    /// The next event, or why there is none. After an error is returned once, it is returned on
    /// every later call (sticky).
    #[inline]
    pub fn poll_event(&mut self) -> Result<Progress, Error> {
        if self.body_ended() {
            return self
                .end_now()
                .map(|()| Progress::Event(Event::EndOfMessage));
        }
        self.poll_event_slow()
    }

    /// [`Self::poll_event`] past its quick `EndOfMessage`.
    fn poll_event_slow(&mut self) -> Result<Progress, Error> {
        if self.head_due() {
            return self.poll_head::<Owned>();
        }
        self.poll_event_rest()
    }

    /// [`Self::poll_event_slow`] past a head: out of line, so that the head's way through
    /// does not pay its saved registers.
    #[inline(never)]
    fn poll_event_rest(&mut self) -> Result<Progress, Error> {
        Ok(match self.next()? {
            Progress::Event(found) => Progress::Event(self.owned(found)),
            Progress::NeedData => Progress::NeedData,
            Progress::Paused => Progress::Paused,
            Progress::Closed => Progress::Closed,
        })
    }

    /// [`Self::poll_event`], with the event borrowing the connection's buffer until the next call
    /// on the connection: no allocation and no reference count per event (a kept-alive
    /// connection reuses its buffer and its span storage for every head). Both calls may be
    /// mixed on one connection; they give the same events.
    #[inline]
    pub fn poll_borrowed(&mut self) -> Result<Progress<EventRef<'_>>, Error> {
        if self.body_ended() {
            return self
                .end_now()
                .map(|()| Progress::Event(EventRef::EndOfMessage));
        }
        self.poll_borrowed_slow()
    }

    /// [`Self::poll_borrowed`] past its quick `EndOfMessage`.
    fn poll_borrowed_slow(&mut self) -> Result<Progress<EventRef<'_>>, Error> {
        if self.head_due() {
            return self.poll_head::<Borrowed>();
        }
        self.poll_borrowed_rest()
    }

    /// [`Self::poll_borrowed_slow`] past a head: out of line, so that the head's way through
    /// does not pay its saved registers (a head was 16 instructions here, 10 of them saving
    /// and restoring registers the head's way does not use).
    #[inline(never)]
    fn poll_borrowed_rest(&mut self) -> Result<Progress<EventRef<'_>>, Error> {
        Ok(match self.next()? {
            Progress::Event(found) => Progress::Event(self.borrowed(found)),
            Progress::NeedData => Progress::NeedData,
            Progress::Paused => Progress::Paused,
            Progress::Closed => Progress::Closed,
        })
    }

    /// When [`Self::handle_timeout`] should next be called, if ever (server role only; see the
    /// type's documentation).
    ///
    /// The deadline may already be due. Turning it into a socket read timeout with
    /// `deadline.saturating_duration_since(now)` then gives `Duration::ZERO`, which
    /// `std::net::TcpStream::set_read_timeout` refuses (`InvalidInput`): call
    /// `handle_timeout(now)` at once instead of reading (see the crate's std server example).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        self.timer().map(|(deadline, _)| deadline)
    }

    // ----- commands -----

    /// Server: write the head of the response to the current request into `out`.
    ///
    /// A 1xx status writes an interim head (HTTP/1.1 requests only); the final response follows.
    /// For an HTTP/0.9 request nothing is written: the answer is the body alone.
    pub fn send_response(
        &mut self,
        now: Time,
        response: &Response<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        self.now = now;
        self.command(|c| c.response_head(response, out))
    }

    /// Client: write a request head into `out`. The body must have a `Known` length (HTTP/1.0
    /// requests cannot be close-delimited).
    pub fn send_request(
        &mut self,
        now: Time,
        request: &Request<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        self.now = now;
        self.command(|c| c.request_head(request, out))
    }

    /// Write body bytes of the current outgoing message into `out` (framed as the head said;
    /// nothing for a response to HEAD, 1xx, 204 or 304, though a `Known` length still bounds
    /// them). More bytes than a `Known` length is a sticky local error.
    pub fn send_data(&mut self, now: Time, data: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.now = now;
        self.command(|c| {
            let Writing::SendBody(body) = &mut c.state.writing else {
                return Err(misuse("no message body in progress"));
            };
            let sent = body.sent.saturating_add(data.len() as u64);
            if body.length.is_some_and(|n| sent > n) {
                return Err(misuse("body longer than its declared length"));
            }
            body.sent = sent;
            if !body.no_body {
                out.extend_from_slice(data);
            }
            Ok(())
        })
    }

    /// Count `len` body bytes of the current outgoing message that the caller wrote to the
    /// peer itself, zero-copy (sendfile(2) from a file): as [`Connection::send_data`] with
    /// those bytes, but nothing is appended. Only for a body with nothing to frame (portline
    /// writes no chunked framing), and not one without a body (HEAD, 204, 304): those are
    /// local errors.
    pub fn send_data_written(&mut self, now: Time, len: u64) -> Result<(), Error> {
        self.now = now;
        self.command(|c| {
            let Writing::SendBody(body) = &mut c.state.writing else {
                return Err(misuse("no message body in progress"));
            };
            if body.no_body {
                return Err(misuse("this message has no body to write"));
            }
            let sent = body.sent.saturating_add(len);
            if body.length.is_some_and(|n| sent > n) {
                return Err(misuse("body longer than its declared length"));
            }
            body.sent = sent;
            Ok(())
        })
    }

    /// End the current outgoing message. A `Known` body that was not sent in full is a local
    /// error. For a server, this is when the next pipelined request may be parsed, or when the
    /// connection closes (HTTP/1.0 without keep-alive, close-delimited body, HTTP/0.9).
    ///
    /// It writes nothing: HTTP/1.0 framing (a length, or the end of the connection) never needs
    /// a terminator, so it takes no output buffer.
    #[inline]
    pub fn send_end(&mut self, now: Time) -> Result<(), Error> {
        self.now = now;
        self.command(|c| {
            if let Writing::SendBody(body) = &c.state.writing {
                if !body.no_body && body.length.is_some_and(|n| body.sent < n) {
                    return Err(misuse("body shorter than its declared length"));
                }
            }
            let next = c.state.step(c.role, Step::BodySent)?;
            c.apply(next);
            Ok(())
        })
    }

    /// Server: the response to the current request ends the connection (`Connection: close`),
    /// whatever the request asked. For a server that answers before the request body has
    /// arrived and will not read the rest: too long to drop (Go's net/http sends
    /// `Connection: close` past 256 KiB unread), or a body the client may never send because
    /// it asked `Expect: 100-continue` and got a final answer instead. Call it before
    /// [`Self::send_response`]; a local error when no response is due.
    pub fn close_after_response(&mut self, now: Time) -> Result<(), Error> {
        self.now = now;
        self.command(|c| match &mut c.state.writing {
            Writing::SendResponse(exchange) => {
                exchange.keep_alive = false;
                Ok(())
            }
            Writing::Idle | Writing::SendBody(_) | Writing::Done { .. } => {
                Err(misuse("no response due"))
            }
        })
    }

    /// Server: answer a peer error with the status it suggests (a minimal `text/plain` body,
    /// `Connection: close`), and close. Writes nothing for an error that suggests no status
    /// (`Ok`). A local error, writing nothing, when this is a client connection or a response
    /// was already started (its head is out, so no other status can be sent). The connection is
    /// closed in every case: flush `out` and close the socket.
    pub fn send_error(&mut self, now: Time, error: &Error, out: &mut Vec<u8>) -> Result<(), Error> {
        self.now = now;
        let started = matches!(
            self.state.writing,
            Writing::SendBody(_) | Writing::Done { .. }
        );
        self.state.close();
        if self.role != Role::Server {
            return Err(misuse("a client does not send responses"));
        }
        if started {
            return Err(misuse("a response was already started"));
        }
        let Some(status) = error.status() else {
            return Ok(());
        };
        let (version, head) = match self.state.writing {
            Writing::SendResponse(ex) => (ex.version, ex.head),
            _ => (Version::Http10, false),
        };
        let reason = w::canonical_reason(status);
        let mut body = Vec::with_capacity(64);
        w::push_u64(&mut body, u64::from(status));
        body.push(b' ');
        body.extend_from_slice(reason.as_bytes());
        body.extend_from_slice(b": ");
        body.extend_from_slice(error.message().as_bytes());
        body.push(b'\n');
        if version != Version::Http09 {
            w::status_line(out, status, reason);
            out.extend_from_slice(b"Content-Type: text/plain\r\nContent-Length: ");
            w::push_u64(out, body.len() as u64);
            out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        }
        if !head {
            out.extend_from_slice(&body);
        }
        Ok(())
    }

    // ----- internals -----

    /// The running timer and its deadline, if any (the table in the type's documentation).
    fn timer(&self) -> Option<(Time, Timer)> {
        if self.role == Role::Client || !self.state.is_open() || self.state.peer_eof() {
            return None;
        }
        let limits = &self.config.limits;
        match (&self.state.reading, &self.state.writing) {
            (Reading::Head, Writing::Idle) => {
                if self.unread() != 0 {
                    self.head_since
                        .map(|t| (t + limits.head_timeout, Timer::Head))
                } else {
                    Some(waiting_deadline(limits, self.idle_since, self.heard))
                }
            }
            (Reading::Body { .. }, _) if self.body_starved => {
                Some((self.body_since + limits.body_timeout, Timer::Body))
            }
            _ => None,
        }
    }

    /// Runs a command; a failure is sticky.
    #[inline(always)]
    fn command(&mut self, f: impl FnOnce(&mut Self) -> Result<(), Error>) -> Result<(), Error> {
        self.state.check_open()?;
        f(self).map_err(|e| self.state.fail(e))
    }

    /// Acts on what a state step decided.
    fn apply(&mut self, next: Next) {
        match next {
            Next::Continue | Next::Close | Next::Switch => {}
            Next::NewCycle => {
                self.idle_since = self.now;
                self.head_since = if self.unread() == 0 {
                    None
                } else {
                    Some(self.now)
                };
            }
        }
    }

    fn response_head(&mut self, r: &Response<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
        let Writing::SendResponse(ex) = self.state.writing else {
            return Err(misuse(match self.state.writing {
                Writing::Idle => "no request to respond to",
                _ => "response already sent",
            }));
        };
        // The usual status line needs no check (`status_line` writes it as one constant).
        let ok = (r.status, r.reason) == (200, "OK");
        if !ok {
            if !(100..=999).contains(&r.status) {
                return Err(misuse("status code out of range"));
            }
            w::check_value(r.reason.as_bytes())?;
        }
        // The head is written as its fields are checked; on an error nothing of it stays in
        // `out`, and the state has not moved.
        let start = out.len();
        if r.status < 200 {
            w::status_line(out, r.status, r.reason);
            let written = w::fields(out, r.headers, true)
                .and_then(|()| self.state.step(Role::Server, Step::InterimSent));
            if let Err(e) = written {
                out.truncate(start);
                return Err(e);
            }
            out.extend_from_slice(b"\r\n");
            return Ok(());
        }
        let no_body = ex.head || r.status == 204 || r.status == 304;
        let length = match r.body {
            BodyLength::Known(n) => Some(n),
            BodyLength::Unknown => None,
        };
        let http09 = ex.version == Version::Http09;
        let keep_alive = !http09 && ex.keep_alive && (no_body || length.is_some());
        w::status_line(out, r.status, r.reason);
        if let Err(e) = w::fields(out, r.headers, true) {
            out.truncate(start);
            return Err(e);
        }
        if http09 {
            // The answer to HTTP/0.9 is the body alone: the head was only checked.
            out.truncate(start);
        } else {
            w::head_end(
                out,
                length.filter(|_| r.status != 204),
                if keep_alive {
                    ConnectionField::KeepAlive
                } else {
                    ConnectionField::Close
                },
            );
        }
        // Cannot fail: the writing half is `SendResponse` (checked above), which only a
        // server's is (hence the role given, not read).
        self.state.step(
            Role::Server,
            Step::HeadSent(BodyWriter {
                length,
                sent: 0,
                no_body,
                keep_alive,
            }),
        )?;
        Ok(())
    }

    fn request_head(&mut self, r: &Request<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.role != Role::Client {
            return Err(misuse("a server does not send requests"));
        }
        let BodyLength::Known(n) = r.body else {
            return Err(misuse("an HTTP/1.0 request body needs a known length"));
        };
        // The usual methods are tokens; others are checked byte by byte.
        let known = matches!(r.method, "GET" | "HEAD" | "POST");
        if !known && (r.method.is_empty() || !r.method.bytes().all(|b| parse::TCHAR[b as usize])) {
            return Err(misuse("invalid method"));
        }
        if r.target.is_empty() || !r.target.bytes().all(|b| parse::TARGET[b as usize]) {
            return Err(misuse("invalid request target"));
        }
        let start = out.len();
        w::request_line(out, r.method, r.target);
        let written = w::fields(out, r.headers, false).and_then(|()| {
            self.state.step(
                Role::Client,
                Step::HeadSent(BodyWriter {
                    length: Some(n),
                    sent: 0,
                    no_body: false,
                    keep_alive: r.keep_alive,
                }),
            )
        });
        if let Err(e) = written {
            // Nothing of the head stays in `out`.
            out.truncate(start);
            return Err(e);
        }
        self.pending.push_back(Pending {
            head: r.method == "HEAD",
            keep_alive: r.keep_alive,
        });
        w::head_end(
            out,
            Some(n).filter(|_| n > 0 || !matches!(r.method, "GET" | "HEAD")),
            if r.keep_alive {
                ConnectionField::KeepAlive
            } else {
                ConnectionField::Absent
            },
        );
        Ok(())
    }

    /// Received bytes not handed out yet.
    fn unread(&self) -> usize {
        self.buf.len() - self.consumed
    }

    /// Drops what `poll_borrowed` handed out. When that was everything buffered (a kept-alive
    /// exchange: one head read, one head handed out) the buffer is cleared rather than
    /// advanced: its start stays where it was, so the next `receive` finds the whole capacity
    /// free, and does not have to move the (empty) contents back to reclaim it.
    fn release(&mut self) {
        if self.consumed != 0 {
            if self.consumed == self.buf.len() {
                self.buf.clear();
            } else {
                self.advance_consumed();
            }
            self.consumed = 0;
        }
    }

    /// [`Self::release`] when bytes stay buffered after the ones handed out (pipelined input,
    /// a head read with the start of its body): out of line, as it is the rarer case.
    #[inline(never)]
    fn advance_consumed(&mut self) {
        self.buf.advance(self.consumed);
    }

    /// A message whose framing says no body bytes are left (the usual GET: no body) ends at once,
    /// without the general poll: the `EndOfMessage` after most heads costs a few compares. The
    /// polls test this first, inlined into their callers, so that this event does not pay the
    /// general poll's entry either (its saved registers, its result moved out through memory).
    #[inline(always)]
    fn body_ended(&self) -> bool {
        matches!(
            (&self.state.phase, &self.state.reading),
            (
                Phase::Open { .. },
                Reading::Body {
                    reader: BodyReader::Length(0),
                    ..
                }
            )
        )
    }

    /// The `EndOfMessage` that [`Self::body_ended`] found due; an error is sticky. The usual
    /// one (nothing pipelined behind it: no bytes after the last event's, no further request
    /// awaiting its response) calls nothing, so that it saves and restores no registers (34
    /// instructions for the kept-alive short request, 27 this way); the rest is
    /// [`Self::end_now_general`].
    #[inline(never)]
    fn end_now(&mut self) -> Result<(), Error> {
        let consumed = self.consumed;
        if (consumed == 0 || consumed == self.buf.len())
            && (self.role == Role::Server || self.pending.rest.is_empty())
        {
            return self.end_now_body();
        }
        self.end_now_general()
    }

    /// [`Self::end_now`] with bytes after the last event's or requests pipelined.
    #[inline(never)]
    fn end_now_general(&mut self) -> Result<(), Error> {
        self.end_now_body()
    }

    /// [`Self::end_now`]'s work.
    #[inline(always)]
    fn end_now_body(&mut self) -> Result<(), Error> {
        self.release();
        match self.end_of_message() {
            Ok(_) => Ok(()),
            Err(e) => Err(self.state.fail(e)),
        }
    }

    /// The next event past a head as offsets into the buffer; an error is sticky. Inlined,
    /// with `next_event`, into each of the two polls: the phase and reading-half dispatch then
    /// meets the poll's own `match` on what was found, instead of a call whose result goes
    /// through memory. (A head is the polls' [`Self::poll_head`], one for each poll, which
    /// makes the event itself.)
    #[inline(always)]
    fn next(&mut self) -> Result<Progress<Found>, Error> {
        if let Phase::Failed(e) = &self.state.phase {
            return Err(e.clone());
        }
        self.release();
        self.next_event().map_err(|e| self.state.fail(e))
    }

    /// The incoming message is complete: the state steps on, and `EndOfMessage` is the event.
    #[inline(always)]
    fn end_of_message(&mut self) -> Result<Progress<Found>, Error> {
        let next = self.state.step(self.role, Step::BodyEnd)?;
        if self.role == Role::Client {
            self.pending.pop_front();
        }
        self.apply(next);
        Ok(Progress::Event(Found::EndOfMessage))
    }

    /// `found` as an owned event: the head or data split off the buffer as `Bytes`.
    fn owned(&mut self, found: Found) -> Event {
        match found {
            Found::Request {
                len,
                method,
                target,
                version,
                keep_alive,
            } => {
                let head = self.buf.heap().split_to(len).freeze();
                // The common methods need no reference to the buffer.
                let method = match &head[method.0..method.1] {
                    b"GET" => Bytes::from_static(b"GET"),
                    b"HEAD" => Bytes::from_static(b"HEAD"),
                    b"POST" => Bytes::from_static(b"POST"),
                    _ => head.slice(method.0..method.1),
                };
                Event::Request(RequestHead {
                    target: head.slice(target.0..target.1),
                    method,
                    version,
                    keep_alive,
                    headers: Headers {
                        buf: head,
                        spans: self.parser.spans().to_vec(),
                    },
                })
            }
            Found::Response {
                kind,
                len,
                version,
                status,
                reason,
                undecoded,
            } => {
                let head = if len == 0 {
                    Bytes::from(std::mem::take(&mut self.unfolded))
                } else {
                    self.buf.heap().split_to(len).freeze()
                };
                let head = ResponseHead {
                    version,
                    status,
                    reason: head.slice(reason.0..reason.1),
                    headers: Headers {
                        buf: head,
                        spans: self.parser.spans().to_vec(),
                    },
                    undecoded,
                };
                match kind {
                    HeadKind::Final => Event::Response(head),
                    HeadKind::Interim => Event::Interim(head),
                    HeadKind::Switched => Event::Switched(head),
                }
            }
            Found::Data(n) => Event::Data(self.buf.heap().split_to(n).freeze()),
            Found::Chunk { data, framing } => {
                let d = self.buf.heap().split_to(data).freeze();
                self.buf.heap().advance(framing);
                Event::Data(d)
            }
            Found::EndOfMessage => Event::EndOfMessage,
        }
    }

    /// `found` borrowing the buffer; the bytes are dropped on the next call (`release`).
    #[inline(always)]
    fn borrowed(&mut self, found: Found) -> EventRef<'_> {
        match found {
            Found::Request {
                len,
                method,
                target,
                version,
                keep_alive,
            } => {
                self.consumed = len;
                let head = &self.buf[..len];
                EventRef::Request(RequestRef {
                    method: &head[method.0..method.1],
                    target: &head[target.0..target.1],
                    version,
                    keep_alive,
                    headers: HeadersRef::new(head, self.parser.spans()),
                })
            }
            Found::Response {
                kind,
                len,
                version,
                status,
                reason,
                undecoded,
            } => {
                self.consumed = len;
                let head = if len == 0 {
                    &self.unfolded[..]
                } else {
                    &self.buf[..len]
                };
                let head = ResponseRef {
                    version,
                    status,
                    reason: &head[reason.0..reason.1],
                    headers: HeadersRef::new(head, self.parser.spans()),
                    undecoded,
                };
                match kind {
                    HeadKind::Final => EventRef::Response(head),
                    HeadKind::Interim => EventRef::Interim(head),
                    HeadKind::Switched => EventRef::Switched(head),
                }
            }
            Found::Data(n) => {
                self.consumed = n;
                EventRef::Data(&self.buf[..n])
            }
            Found::Chunk { data, framing } => {
                // The framing after the data goes with it on the next call (`release`).
                self.consumed = data + framing;
                EventRef::Data(&self.buf[..data])
            }
            Found::EndOfMessage => EventRef::EndOfMessage,
        }
    }

    /// The polls' event past a head ([`Self::head_due`], which they test first).
    #[inline(always)]
    fn next_event(&mut self) -> Result<Progress<Found>, Error> {
        match self.state.phase {
            Phase::Open { .. } => {}
            Phase::Closed | Phase::Failed(_) | Phase::Switched => return Ok(Progress::Closed),
        }
        match self.state.reading {
            Reading::Head => unreachable!("the polls take a head before this"),
            Reading::Body { .. } => {
                let polled = self.poll_body();
                // Waiting for the peer's body bytes: the body timer runs (until bytes arrive).
                // Counted from the later of the last bytes and now: input the caller had not
                // polled yet was not the peer's delay.
                if let Ok(Progress::NeedData) = polled
                    && !self.body_starved
                {
                    self.body_starved = true;
                    self.body_since = self.body_since.max(self.now);
                }
                polled
            }
            Reading::Done => Ok(Progress::Paused),
        }
    }

    /// The poll is for a head: the connection is open and its reading half waits for one.
    #[inline(always)]
    fn head_due(&self) -> bool {
        matches!(
            (&self.state.phase, &self.state.reading),
            (Phase::Open { .. }, Reading::Head)
        )
    }

    /// The head poll, one for each kind of event (`O`), called by the poll when
    /// [`Self::head_due`]: the head found becomes the poll's event where it is found (in
    /// `request`, `response`), so that it does not go back through memory as a [`Found`] to be
    /// matched again by the poll, and the poll's call is its last act. An error is sticky.
    /// (One head poll returning a `Found` to both polls: kept-alive short request 869
    /// instructions, 836 this way.)
    #[inline(never)]
    fn poll_head<O: HeadEvent>(&mut self) -> Result<Progress<O::Out<'_>>, Error> {
        self.release();
        let server = self.role == Role::Server;
        let (limits, leniency) = (&self.config.limits, &self.config.leniency);
        let rules = Rules {
            request: server,
            bare_lf: leniency.bare_lf,
            http09: leniency.http09,
            obs_text_target: leniency.obs_text_target,
            // Header spans are `u32` offsets into the head.
            max_head: limits.max_head.min(u32::MAX as usize - 1),
            max_headers: limits.max_headers,
            max_target: limits.max_target,
        };
        // Empty lines before a start line are ignored (the parser skips them), so a stream that
        // holds nothing else is between messages.
        let input: &[u8] = &self.buf;
        let parsed = match self.parser.advance(input, &rules) {
            Ok(parsed) => parsed,
            Err(e) => return Err(self.state.fail(e)),
        };
        if parsed.is_none() && self.parser.only_empty_lines(input) {
            if !self.state.peer_eof() {
                return Ok(Progress::NeedData);
            }
            if self.role == Role::Client && !self.pending.is_empty() {
                return Err(self.state.fail(peer(
                    ErrorKind::UnexpectedEof,
                    "stream ended before the response",
                )));
            }
            // The peer closed cleanly between messages.
            self.state.close();
            return Ok(Progress::Closed);
        }
        if !server && self.pending.is_empty() {
            return Err(self.state.fail(bad("response without a request")));
        }
        let Some(head) = parsed else {
            if self.state.peer_eof() {
                return Err(self
                    .state
                    .fail(peer(ErrorKind::UnexpectedEof, "stream ended inside a head")));
            }
            return Ok(Progress::NeedData);
        };
        self.head_since = None;
        self.body_seen = 0;
        match head.start {
            StartLine::Request {
                method,
                target,
                version,
            } => self.request::<O>(head, method, target, version),
            StartLine::Status { .. } => match self.response(head) {
                Ok(found) => Ok(Progress::Event(O::event(self, found))),
                Err(e) => Err(self.state.fail(e)),
            },
        }
    }

    #[inline(always)]
    fn request<O: HeadEvent>(
        &mut self,
        p: Head,
        method: (usize, usize),
        target: (usize, usize),
        version: Version,
    ) -> Result<Progress<O::Out<'_>>, Error> {
        let (body, keep_alive, _) = match body_and_persistence(
            Incoming::Request,
            version,
            self.parser.framing(),
            self.config.limits.max_body,
        ) {
            Ok(decided) => decided,
            Err(e) => return Err(self.state.fail(e)),
        };
        // Only a server's parser reads request lines (`Rules::request`): the step is given
        // the role, so that only the server's arm of the transition is compiled here.
        debug_assert_eq!(self.role, Role::Server);
        let exchange = Exchange {
            version,
            keep_alive,
            // The length first: most methods are not four bytes long, and their test then
            // reads neither the buffer nor the span's bounds.
            head: method.1 - method.0 == 4 && &self.buf[method.0..method.1] == b"HEAD",
        };
        if let Err(e) = self
            .state
            .step(Role::Server, Step::RequestHead { body, exchange })
        {
            return Err(self.state.fail(e));
        }
        self.body_since = self.now;
        self.body_starved = false;
        let found = Found::Request {
            len: p.len,
            method,
            target,
            version,
            keep_alive,
        };
        Ok(Progress::Event(O::event(self, found)))
    }

    #[inline(always)]
    fn response(&mut self, p: Head) -> Result<Found, Error> {
        let (len, version, status, reason, f) = match p.start {
            StartLine::Status {
                version,
                status,
                reason,
            } if !self.parser.folded() => (p.len, version, status, reason, *self.parser.framing()),
            _ => self.unfold_response(&p)?,
        };
        let limits = &self.config.limits;
        // Only a client's parser reads status lines: the steps below are given the role.
        debug_assert_eq!(self.role, Role::Client);
        let pending = *self
            .pending
            .front()
            .ok_or(bad("response without a request"))?;
        let found = |kind, undecoded| Found::Response {
            kind,
            len,
            version,
            status,
            reason,
            undecoded,
        };
        if status == 101 {
            // HTTP ends here; what follows the head belongs to the new protocol.
            self.state.step(Role::Client, Step::Switch)?;
            self.pending.pop_front();
            return Ok(found(HeadKind::Switched, false));
        }
        if status < 200 {
            self.state.step(Role::Client, Step::InterimHead)?;
            return Ok(found(HeadKind::Interim, false));
        }
        let incoming = Incoming::Response {
            status,
            to_head: pending.head,
        };
        let (body, persistent, undecoded) =
            body_and_persistence(incoming, version, &f, limits.max_body)?;
        let keep_alive =
            pending.keep_alive && persistent && !matches!(body, BodyReader::UntilClose);
        self.state
            .step(Role::Client, Step::ResponseHead { body, keep_alive })?;
        Ok(found(HeadKind::Final, undecoded))
    }

    /// A response head with obs-fold (rare): unfolded into a buffer of its own and parsed
    /// again; its length (0: the head is `unfolded`), version, status, reason and framing. Out
    /// of line, so that its code does not weigh on the head parser's registers.
    #[inline(never)]
    fn unfold_response(&mut self, p: &Head) -> Result<StatusHead, Error> {
        let (limits, leniency) = (&self.config.limits, &self.config.leniency);
        let unfolded = parse::unfold(&self.buf[self.parser.blank()..p.len]);
        match parse::parse_response(&unfolded, leniency.bare_lf, limits.max_headers)? {
            ResponseOutcome::Parsed(r) => {
                self.buf.advance(p.len);
                self.unfolded = unfolded;
                self.parser.set_spans(&r.spans);
                Ok((0, r.version, r.status, r.reason, r.framing))
            }
            ResponseOutcome::NeedsUnfold => Err(bad("obs-fold continuation line")),
        }
    }

    fn poll_body(&mut self) -> Result<Progress<Found>, Error> {
        let Reading::Body { reader, .. } = &mut self.state.reading else {
            return Ok(Progress::NeedData);
        };
        let data = match reader {
            BodyReader::Length(0) => None,
            BodyReader::Length(left) => {
                if self.buf.is_empty() {
                    return if self.state.peer_eof() {
                        Err(peer(ErrorKind::UnexpectedEof, "stream ended inside a body"))
                    } else {
                        Ok(Progress::NeedData)
                    };
                }
                let n = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(self.buf.len());
                *left -= n as u64;
                Some(Found::Data(n))
            }
            BodyReader::UntilClose => {
                if self.buf.is_empty() {
                    if !self.state.peer_eof() {
                        return Ok(Progress::NeedData);
                    }
                    None
                } else {
                    // Hand out what fits under the limit first, so that the events do not
                    // depend on how the bytes were split.
                    let allowed = self.config.limits.max_body.saturating_sub(self.body_seen);
                    if allowed == 0 {
                        return Err(peer(ErrorKind::BodyTooLarge, "body too large"));
                    }
                    let n = usize::try_from(allowed)
                        .unwrap_or(usize::MAX)
                        .min(self.buf.len());
                    self.body_seen += n as u64;
                    Some(Found::Data(n))
                }
            }
            BodyReader::Chunked(c) => match c.poll(
                self.buf.heap(),
                self.config.limits.max_head,
                &mut self.body_seen,
                self.config.limits.max_body,
            )? {
                ChunkPoll::Data { data, framing } => {
                    if *c == Chunked::Done {
                        // The data ran up to the end of the body, which was read with it (the
                        // last chunk, no trailers): no body bytes are left, as after a
                        // `Content-Length` body, so the next poll ends the message at once.
                        *reader = BodyReader::Length(0);
                    }
                    Some(Found::Chunk { data, framing })
                }
                ChunkPoll::End => None,
                ChunkPoll::NeedData if self.state.peer_eof() => {
                    return Err(peer(ErrorKind::UnexpectedEof, "stream ended inside a body"));
                }
                ChunkPoll::NeedData => return Ok(Progress::NeedData),
            },
        };
        if let Some(d) = data {
            return Ok(Progress::Event(d));
        }
        self.end_of_message()
    }
}

/// A server connection waiting between requests, reduced to what tells it from a new one: when
/// it became idle and whether it has received a byte (24 bytes). [`Connection::park`] makes it and [`Connection::unpark`] turns it
/// back into an equal connection, so a frontend may drop the connection, and the buffers it
/// keeps for reuse, while it waits for the next request (an idle keep-alive connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parked {
    idle_since: Time,
    heard: bool,
}

impl Parked {
    /// What [`Connection::waiting_since`] of the unparked connection says.
    #[must_use]
    pub fn waiting_since(&self) -> Time {
        self.idle_since
    }

    /// What [`Connection::poll_timeout`] of the unparked connection says (the idle deadline),
    /// under `config`.
    #[must_use]
    pub fn poll_timeout(&self, config: &Config) -> Option<Time> {
        // The one rule the connection's own timer follows in this state, so the two cannot
        // disagree; not an unparked connection asked (that built and dropped a whole
        // `Connection`, twice per request in a driver that asks at every wait).
        Some(waiting_deadline(&config.limits, self.idle_since, self.heard).0)
    }
}

/// Server, waiting for a request with nothing of it received: the idle timer from the end of
/// the last exchange once the peer has sent something, the first-byte timer before.
fn waiting_deadline(limits: &Limits, idle_since: Time, heard: bool) -> (Time, Timer) {
    if heard {
        (idle_since + limits.idle_timeout, Timer::Idle)
    } else {
        (idle_since + limits.first_byte_timeout, Timer::FirstByte)
    }
}

impl Connection {
    /// Server: when this connection began waiting for its current request: its creation, or
    /// the end of the last exchange that kept it open. It does not move while a head trickles
    /// in, so a full server can tell a client that was answered a moment ago from one that has
    /// not completed a head for seconds.
    pub fn waiting_since(&self) -> Time {
        self.idle_since
    }

    /// Server: this connection in its [`Parked`] form, when it waits between requests with
    /// nothing received, nothing in progress and no end of stream or error; `None` otherwise
    /// (a client, a head or body under way, pipelined input buffered, closed or failed).
    pub fn park(&self) -> Option<Parked> {
        let between = self.role == Role::Server
            && self.state == State::new()
            && self.unread() == 0
            && self.head_since.is_none();
        between.then_some(Parked {
            idle_since: self.idle_since,
            heard: self.heard,
        })
    }

    /// The connection `parked` describes, with `config`, its latest time `now`. It behaves as
    /// the one that was parked; only its buffers start empty (the next request sizes them
    /// again: one allocation each, the price of holding none while idle).
    pub fn unpark(parked: Parked, config: Config, now: Time) -> Connection {
        let mut conn = Connection::new(Role::Server, config, parked.idle_since);
        conn.now = now;
        // A connection that has never received a byte stays under the first-byte timer; one
        // that has served a request waits under the idle timer.
        conn.heard = parked.heard;
        conn
    }
}

/// A parsed response head as `Connection::response` uses it: its length in the buffer (0: it
/// is `unfolded`), version, status, reason span and framing.
type StatusHead = (usize, Version, u16, (usize, usize), parse::Framing);

/// Which event a response head is.
#[derive(Debug, Clone, Copy)]
enum HeadKind {
    Final,
    Interim,
    Switched,
}

/// What `next_event` found, as offsets into the buffer, before it is handed out owned
/// ([`Connection::poll_event`]) or borrowed ([`Connection::poll_borrowed`]).
#[derive(Debug)]
enum Found {
    /// A request head: the first `len` bytes of the buffer.
    Request {
        len: usize,
        method: (usize, usize),
        target: (usize, usize),
        version: Version,
        keep_alive: bool,
    },
    /// A response head: the first `len` bytes of the buffer, or (`len == 0`) `unfolded`.
    Response {
        kind: HeadKind,
        len: usize,
        version: Version,
        status: u16,
        reason: (usize, usize),
        /// The body is delivered with transfer codings left applied.
        undecoded: bool,
    },
    /// Body bytes: the first `n` bytes of the buffer.
    Data(usize),
    /// Chunked body bytes: the first `data` bytes of the buffer, then `framing` bytes of chunk
    /// framing to drop with them.
    Chunk {
        data: usize,
        framing: usize,
    },
    EndOfMessage,
}
