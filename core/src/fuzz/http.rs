//! Fuzz bodies for the HTTP connection. Invariants checked on every input:
//!
//! * no panic, and every error is typed: a peer error carries one of the statuses docs/HTTP.md names
//!   (or none, for a stream that ends early), and bytes from the peer never produce a local error;
//! * the whole input and the same input split into pieces give the same events;
//! * memory stays bounded: while the driver only reads when [`Connection::wants_read`] says so,
//!   the connection never buffers more than the head limit plus the chunk-size line bound plus
//!   one read;
//! * ([`pair`]) whatever one core writes, the other core parses without a syntax error;
//! * ([`grammars`]) the two grammars of a response head agree: the hand-written resumable
//!   parser every head goes through, and the `nom` parser that reads a head again after its
//!   obs-fold lines were unfolded.

use std::time::Duration;

use crate::Time;
use crate::http::{
    BodyLength, Config, Connection, ErrorKind, Event, Fault, HeadParser, Progress, Request,
    Response, ResponseOutcome, Role, Rules, StartLine, Version, parse_response, unfold,
};

/// Statuses a peer error may suggest (docs/HTTP.md).
const STATUSES: [u16; 7] = [400, 408, 413, 414, 431, 501, 505];

/// Small limits, so that fuzzing reaches them.
fn config() -> Config {
    let mut c = Config::default();
    c.limits.max_head = 1024;
    c.limits.max_headers = 16;
    c.limits.max_target = 256;
    c.limits.max_body = 4096;
    c
}

/// The most a connection may buffer after a drain, given the largest single read.
fn bound(config: &Config, read: usize) -> usize {
    config.limits.max_head.max(4096) + read
}

fn check_error(e: &crate::http::Error) {
    assert_eq!(
        e.fault(),
        Fault::Peer,
        "peer bytes caused a local error: {e:?}"
    );
    match e.status() {
        Some(s) => assert!(STATUSES.contains(&s), "unexpected status {s}"),
        None => assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e:?}"),
    }
    assert!(!e.message().is_empty());
}

/// What [`drive`] saw: events (body data merged into one `Data`), then how it ended. Compared
/// as values, not as formatted text (formatting every event was most of a run's cost).
#[derive(Debug, PartialEq)]
enum Seen {
    Event(Event),
    Data(Vec<u8>),
    Closed,
    Error(crate::http::Error),
}

/// Feeds `input` to a connection in `role`, `chunk` bytes at a time (reading only while it wants
/// to), answers or requests as a peer would, and returns the events with body data merged.
fn drive(role: Role, input: &[u8], chunk: usize, head: bool) -> Vec<Seen> {
    let config = config();
    let now = Time::ZERO;
    let mut conn = Connection::new(role, config.clone(), now);
    let mut sink = Vec::new();
    let mut log = Vec::new();
    let mut data = Vec::new();
    let mut outstanding = 0usize;
    let method = if head { "HEAD" } else { "GET" };
    let mut rest = input;
    let mut eof_sent = false;
    let request = |conn: &mut Connection, sink: &mut Vec<u8>| {
        let req = Request {
            method,
            target: "/",
            headers: &[],
            body: BodyLength::Known(0),
            keep_alive: true,
        };
        conn.send_request(now, &req, sink)
            .and_then(|()| conn.send_end(now))
            .expect("an idle kept-alive client may send");
    };
    loop {
        if !rest.is_empty() {
            // After every drain that did not end the connection, it wants more bytes.
            assert!(
                conn.wants_read(),
                "stopped reading without closing: {log:?}"
            );
            let n = chunk.min(rest.len());
            if role == Role::Client && outstanding == 0 {
                request(&mut conn, &mut sink);
                outstanding += 1;
            }
            conn.receive(now, &rest[..n]);
            rest = &rest[n..];
        } else if !eof_sent {
            conn.receive_eof(now);
            eof_sent = true;
        } else {
            // After end of stream every state resolves to Closed or an error.
            panic!("no outcome after end of stream: {log:?}");
        }
        loop {
            match conn.poll_event() {
                Ok(Progress::Event(Event::Data(d))) => data.extend_from_slice(&d),
                Ok(Progress::Event(e)) => {
                    if !data.is_empty() {
                        log.push(Seen::Data(std::mem::take(&mut data)));
                    }
                    let end = e == Event::EndOfMessage;
                    log.push(Seen::Event(e));
                    if end && role == Role::Server {
                        let resp = Response {
                            status: 200,
                            reason: "OK",
                            headers: &[],
                            body: BodyLength::Known(0),
                        };
                        conn.send_response(now, &resp, &mut sink)
                            .and_then(|()| conn.send_end(now))
                            .expect("a request that ended can be answered");
                    }
                    if end && role == Role::Client {
                        outstanding -= 1;
                        // Response bytes already waiting answer the next request.
                        if outstanding == 0 && !conn.is_closed() && conn.buffered() > 0 {
                            request(&mut conn, &mut sink);
                            outstanding += 1;
                        }
                    }
                }
                Ok(Progress::NeedData | Progress::Paused) => break,
                Ok(Progress::Closed) => {
                    if !data.is_empty() {
                        log.push(Seen::Data(std::mem::take(&mut data)));
                    }
                    log.push(Seen::Closed);
                    return log;
                }
                Err(e) => {
                    check_error(&e);
                    assert_eq!(conn.poll_event(), Err(e.clone()), "errors are sticky");
                    if !data.is_empty() {
                        log.push(Seen::Data(std::mem::take(&mut data)));
                    }
                    log.push(Seen::Error(e));
                    return log;
                }
            }
        }
        assert!(
            conn.buffered() <= bound(&config, chunk),
            "buffered {} bytes",
            conn.buffered()
        );
        sink.clear();
    }
}

/// Splits `data` into a chunk size (from its first byte) and the input.
fn split(data: &[u8]) -> (usize, bool, &[u8]) {
    match data.split_first() {
        Some((&b, rest)) => (usize::from(b % 61) + 1, b & 0x80 != 0, rest),
        None => (1, false, data),
    }
}

/// Drives `input` whole and in pieces of `chunk` bytes, and compares the events. An input no
/// longer than one piece is fed the same way both times, so it is driven once.
fn whole_and_split(role: Role, input: &[u8], chunk: usize, head: bool) {
    let whole = drive(role, input, input.len().max(1), head);
    if chunk < input.len() {
        let pieces = drive(role, input, chunk, head);
        assert_eq!(whole, pieces, "events depend on the split");
    }
}

/// Server role: `data` (after a first byte that picks the piece size) is what a client sent.
pub fn server(data: &[u8]) {
    let (chunk, _, input) = split(data);
    whole_and_split(Role::Server, input, chunk, false);
}

/// Client role: `data` (after a first byte that picks the piece size and GET or HEAD) is what a
/// server sent, including chunked and read-until-close bodies.
pub fn client(data: &[u8]) {
    let (chunk, head, input) = split(data);
    whole_and_split(Role::Client, input, chunk, head);
}

/// One operation on a client/server pair, decoded from bytes: an opcode byte, then operands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairOp {
    /// Client: send a request head (method GET, HEAD or POST) with a body of `body` bytes.
    Request {
        /// 0: GET, 1: HEAD, 2: POST.
        method: u8,
        /// Ask for keep-alive.
        keep_alive: bool,
        /// Declared body length.
        body: u8,
    },
    /// Client: send body bytes.
    ClientData(Vec<u8>),
    /// Client: end the request.
    ClientEnd,
    /// Server: send a response head; `length` `None` is close-delimited.
    Respond {
        /// The status code.
        status: u16,
        /// The declared body length.
        length: Option<u8>,
    },
    /// Server: send body bytes.
    ServerData(Vec<u8>),
    /// Server: end the response.
    ServerEnd,
    /// Move up to this many bytes from the client's output to the server (if it wants to read).
    ToServer(usize),
    /// Move up to this many bytes from the server's output to the client (if it wants to read).
    ToClient(usize),
    /// The client half-closes: the server sees end of stream.
    EofToServer,
    /// The server closes: the client sees end of stream.
    EofToClient,
    /// Time passes by this many seconds; both timers are handled.
    Advance(u8),
    /// Raw bytes slipped into the wire to the server.
    InjectToServer(Vec<u8>),
    /// Raw bytes slipped into the wire to the client.
    InjectToClient(Vec<u8>),
}

impl PairOp {
    /// Decodes one operation from the front of `data`, or `None` when it is used up.
    pub fn decode(data: &mut &[u8]) -> Option<PairOp> {
        let (&op, rest) = data.split_first()?;
        *data = rest;
        let mut byte = || -> u8 {
            let b = data.first().copied().unwrap_or(0);
            *data = data.get(1..).unwrap_or(&[]);
            b
        };
        let op = match op % 13 {
            0 => {
                let (m, k, b) = (byte(), byte(), byte());
                PairOp::Request {
                    method: m % 3,
                    keep_alive: k & 1 == 1,
                    body: b,
                }
            }
            1 => PairOp::ClientData(take(data)),
            2 => PairOp::ClientEnd,
            3 => {
                let (s, l) = (byte(), byte());
                PairOp::Respond {
                    status: [200, 204, 304, 404, 100, 500, 206][usize::from(s % 7)],
                    length: (l != 255).then_some(l),
                }
            }
            4 => PairOp::ServerData(take(data)),
            5 => PairOp::ServerEnd,
            6 => PairOp::ToServer(usize::from(byte()) * 4 + 1),
            7 => PairOp::ToClient(usize::from(byte()) * 4 + 1),
            8 => PairOp::EofToServer,
            9 => PairOp::EofToClient,
            10 => PairOp::Advance(byte() % 16),
            11 => PairOp::InjectToServer(take(data)),
            _ => PairOp::InjectToClient(take(data)),
        };
        Some(op)
    }

    /// Encodes the operation so that [`PairOp::decode`] gives it back (for seed corpora).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut bytes = |op: u8, v: &[u8]| {
            out.push(op);
            out.push(v.len() as u8);
            out.extend_from_slice(v);
        };
        match self {
            PairOp::Request {
                method,
                keep_alive,
                body,
            } => out.extend_from_slice(&[0, *method, u8::from(*keep_alive), *body]),
            PairOp::ClientData(v) => bytes(1, v),
            PairOp::ClientEnd => out.push(2),
            PairOp::Respond { status, length } => {
                let s = [200, 204, 304, 404, 100, 500, 206]
                    .iter()
                    .position(|x| x == status)
                    .unwrap_or(0) as u8;
                out.extend_from_slice(&[3, s, length.unwrap_or(255)]);
            }
            PairOp::ServerData(v) => bytes(4, v),
            PairOp::ServerEnd => out.push(5),
            PairOp::ToServer(n) => out.extend_from_slice(&[6, ((n.saturating_sub(1)) / 4) as u8]),
            PairOp::ToClient(n) => out.extend_from_slice(&[7, ((n.saturating_sub(1)) / 4) as u8]),
            PairOp::EofToServer => out.push(8),
            PairOp::EofToClient => out.push(9),
            PairOp::Advance(s) => out.extend_from_slice(&[10, *s]),
            PairOp::InjectToServer(v) => bytes(11, v),
            PairOp::InjectToClient(v) => bytes(12, v),
        }
    }
}

/// A length byte, then that many bytes (fewer if the input ends).
fn take(data: &mut &[u8]) -> Vec<u8> {
    let Some((&n, rest)) = data.split_first() else {
        return Vec::new();
    };
    let n = usize::from(n).min(rest.len());
    let (v, rest) = rest.split_at(n);
    *data = rest;
    v.to_vec()
}

struct Side {
    conn: Connection,
    /// Bytes written by this side, not yet delivered.
    wire: Vec<u8>,
    /// Bytes of the wire that were injected rather than written by a core.
    injected: bool,
    /// A command failed: what this side wrote may stop in the middle of a message.
    local_failed: bool,
    closed: bool,
}

impl Side {
    /// Drains events; checks the invariants of a side whose peer is a well-behaved core.
    fn drain(&mut self, peer_injected: bool) {
        loop {
            match self.conn.poll_event() {
                Ok(Progress::Event(_)) => {
                    assert!(!self.closed, "event after Closed");
                }
                Ok(Progress::NeedData | Progress::Paused) => {
                    assert!(!self.closed, "NeedData after Closed");
                    return;
                }
                Ok(Progress::Closed) => {
                    self.closed = true;
                    return;
                }
                Err(e) => {
                    match e.fault() {
                        Fault::Local => {}
                        Fault::Peer => {
                            check_error(&e);
                            let expected = matches!(
                                e.kind(),
                                ErrorKind::UnexpectedEof
                                    | ErrorKind::HeadTimeout
                                    | ErrorKind::BodyTimeout
                            );
                            assert!(
                                peer_injected || expected,
                                "a core's own output was rejected: {e:?}"
                            );
                        }
                    }
                    return;
                }
            }
        }
    }
}

/// Applies operations decoded from `data` to a client and a server core connected in memory.
pub fn pair(data: &[u8]) {
    let config = Config::default();
    let mut now = Time::ZERO;
    let mut client = Side {
        conn: Connection::new(Role::Client, config.clone(), now),
        wire: Vec::new(),
        injected: false,
        local_failed: false,
        closed: false,
    };
    let mut server = Side {
        conn: Connection::new(Role::Server, config.clone(), now),
        wire: Vec::new(),
        injected: false,
        local_failed: false,
        closed: false,
    };
    let mut rest = data;
    let mut ops = 0;
    while let Some(op) = PairOp::decode(&mut rest) {
        ops += 1;
        if ops > 4096 {
            break;
        }
        // Command results may be local misuse (random order): they must not panic.
        match op {
            PairOp::Request {
                method,
                keep_alive,
                body,
            } => {
                let req = Request {
                    method: ["GET", "HEAD", "POST"][usize::from(method)],
                    target: "/fuzz",
                    headers: &[("Host", b"fuzz")],
                    body: BodyLength::Known(u64::from(body)),
                    keep_alive,
                };
                client.local_failed |= client
                    .conn
                    .send_request(now, &req, &mut client.wire)
                    .is_err();
            }
            PairOp::ClientData(v) => {
                client.local_failed |= client.conn.send_data(now, &v, &mut client.wire).is_err();
            }
            PairOp::ClientEnd => {
                client.local_failed |= client.conn.send_end(now).is_err();
            }
            PairOp::Respond { status, length } => {
                let resp = Response {
                    status,
                    reason: crate::http::canonical_reason(status),
                    headers: &[("Server", b"fuzz")],
                    body: length.map_or(BodyLength::Unknown, |n| BodyLength::Known(u64::from(n))),
                };
                server.local_failed |= server
                    .conn
                    .send_response(now, &resp, &mut server.wire)
                    .is_err();
            }
            PairOp::ServerData(v) => {
                server.local_failed |= server.conn.send_data(now, &v, &mut server.wire).is_err();
            }
            PairOp::ServerEnd => {
                server.local_failed |= server.conn.send_end(now).is_err();
            }
            PairOp::ToServer(n) => deliver(&mut client, &mut server, n, now),
            PairOp::ToClient(n) => deliver(&mut server, &mut client, n, now),
            PairOp::EofToServer => {
                server.conn.receive_eof(now);
            }
            PairOp::EofToClient => {
                client.conn.receive_eof(now);
            }
            PairOp::Advance(s) => {
                now += Duration::from_secs(u64::from(s));
                client.conn.handle_timeout(now);
                server.conn.handle_timeout(now);
            }
            PairOp::InjectToServer(v) => {
                client.wire.extend_from_slice(&v);
                client.injected |= !v.is_empty();
            }
            PairOp::InjectToClient(v) => {
                server.wire.extend_from_slice(&v);
                server.injected |= !v.is_empty();
            }
        }
        // Once bytes were injected on either wire (a server answers an injected request the
        // client never sent), or a command failed and cut a message short, either side may see
        // a broken stream; until then each must accept everything its peer core wrote.
        let dirty =
            client.injected || server.injected || client.local_failed || server.local_failed;
        server.drain(dirty);
        client.drain(dirty);
        for side in [&client, &server] {
            assert!(side.conn.buffered() <= bound(&config, 1024));
            if side.closed {
                assert!(side.conn.is_closed());
            }
        }
    }
}

/// Moves up to `n` bytes of `from`'s output to `to`, if `to` wants to read.
fn deliver(from: &mut Side, to: &mut Side, n: usize, now: Time) {
    if !to.conn.wants_read() {
        return;
    }
    let n = n.min(from.wire.len());
    let bytes: Vec<u8> = from.wire.drain(..n).collect();
    to.conn.receive(now, &bytes);
}

/// What a head grammar made of a response head: everything the connection uses.
type Parsed = (Version, u16, (usize, usize), Vec<[u32; 4]>, String);

/// The hand-written resumable parser on a complete response head (`None`: it rejected it, or it
/// has obs-fold lines, which only the unfolding path reads).
fn by_hand(head: &[u8], rules: &Rules) -> Option<Result<Parsed, ()>> {
    let mut parser = HeadParser::default();
    match parser.advance(head, rules) {
        Ok(Some(_)) if parser.folded() => None,
        Ok(Some(h)) => {
            assert_eq!(h.len, head.len(), "the head ends at its blank line");
            let StartLine::Status {
                version,
                status,
                reason,
            } = h.start
            else {
                panic!("a response head has a status line")
            };
            Some(Ok((
                version,
                status,
                reason,
                parser.spans().to_vec(),
                format!("{:?}", parser.framing()),
            )))
        }
        Ok(None) => panic!("a complete head is not incomplete"),
        Err(_) => Some(Err(())),
    }
}

/// The `nom` parser on the same head.
fn by_nom(head: &[u8], max_headers: usize) -> Option<Result<Parsed, ()>> {
    match parse_response(head, false, max_headers) {
        Ok(ResponseOutcome::Parsed(r)) => Some(Ok((
            r.version,
            r.status,
            r.reason,
            r.spans,
            format!("{:?}", r.framing),
        ))),
        Ok(ResponseOutcome::NeedsUnfold) => None,
        Err(_) => Some(Err(())),
    }
}

/// One grammar per construct, or proof that the two agree: a response head (the input up to
/// its first blank line, CRLF line ends) is parsed by the hand-written parser and by the `nom`
/// parser; they must accept the same heads with the same status line, field spans and framing
/// fields, and reject the same heads. A head with obs-fold is unfolded first, as the
/// connection does, and the unfolded head is held to the same agreement.
pub fn grammars(mut data: &[u8]) {
    // Empty lines before the status line are skipped by the hand-written parser (RFC 9112 2.2)
    // and cut off by the connection before a head is parsed again unfolded (the only use of
    // the `nom` path), so the comparison starts after them.
    while let Some(rest) = data.strip_prefix(b"\r\n") {
        data = rest;
    }
    let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
        return;
    };
    let head = &data[..end + 4];
    let max_headers = 16;
    let rules = Rules {
        request: false,
        bare_lf: false,
        http09: false,
        obs_text_target: false,
        max_head: head.len() + 1,
        max_headers,
        max_target: head.len() + 1,
    };
    let hand = by_hand(head, &rules);
    let nom = by_nom(head, max_headers);
    match (hand, nom) {
        (Some(a), Some(b)) => assert_eq!(a, b, "{:?}", String::from_utf8_lossy(head)),
        // obs-fold: both see it (or one rejects earlier, which the unfolded pass checks).
        (None, _) | (_, None) => {
            let unfolded = unfold(head);
            let rules = Rules {
                max_head: unfolded.len() + 1,
                ..rules
            };
            if let (Some(a), Some(b)) = (by_hand(&unfolded, &rules), by_nom(&unfolded, max_headers))
            {
                assert_eq!(a, b, "unfolded {:?}", String::from_utf8_lossy(&unfolded));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_round_trip_through_bytes() {
        let ops = vec![
            PairOp::Request {
                method: 2,
                keep_alive: true,
                body: 3,
            },
            PairOp::ClientData(b"abc".to_vec()),
            PairOp::ClientEnd,
            PairOp::ToServer(1021),
            PairOp::Respond {
                status: 404,
                length: None,
            },
            PairOp::Advance(7),
            PairOp::InjectToClient(b"x".to_vec()),
        ];
        let mut bytes = Vec::new();
        for op in &ops {
            op.encode(&mut bytes);
        }
        let mut rest = &bytes[..];
        let mut back = Vec::new();
        while let Some(op) = PairOp::decode(&mut rest) {
            back.push(op);
        }
        assert_eq!(back, ops);
        pair(&bytes);
    }
}
