//! A client core and a server core talking to each other in memory, with simulated time
//! (quinn's and h11's `Pair` habit): keep-alive, pipelining, HTTP/1.0 close, the four server
//! timers (first byte, idle, head, body) and Content-Length enforcement on send.

use std::time::Duration;

use portline_core::Time;
use portline_core::http::{
    BodyLength, Config, Connection, ErrorKind, Event, Fault, Progress, Request, Response, Role,
};

/// Two connections and the bytes in flight between them.
struct Pair {
    client: Connection,
    server: Connection,
    now: Time,
    to_server: Vec<u8>,
    to_client: Vec<u8>,
}

/// What draining one side produced: its events and the poll result that stopped the drain.
#[derive(Debug)]
struct Drained {
    events: Vec<Event>,
    last: Result<Progress, portline_core::http::Error>,
}

impl Drained {
    fn body(&self) -> Vec<u8> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Data(d) => Some(d.to_vec()),
                _ => None,
            })
            .flatten()
            .collect()
    }
    fn count_ends(&self) -> usize {
        self.events
            .iter()
            .filter(|e| **e == Event::EndOfMessage)
            .count()
    }
}

fn drain(conn: &mut Connection) -> Drained {
    let mut events = Vec::new();
    loop {
        match conn.poll_event() {
            Ok(Progress::Event(e)) => events.push(e),
            last => return Drained { events, last },
        }
    }
}

impl Pair {
    fn new() -> Pair {
        Pair::with_config(Config::default())
    }

    fn with_config(config: Config) -> Pair {
        let now = Time::ZERO;
        Pair {
            client: Connection::new(Role::Client, config.clone(), now),
            server: Connection::new(Role::Server, config, now),
            now,
            to_server: Vec::new(),
            to_client: Vec::new(),
        }
    }

    fn request(&mut self, method: &str, target: &str, keep_alive: bool, body: &[u8]) {
        let req = Request {
            method,
            target,
            headers: &[("Host", b"test")],
            body: BodyLength::Known(body.len() as u64),
            keep_alive,
        };
        self.client
            .send_request(self.now, &req, &mut self.to_server)
            .unwrap();
        self.client
            .send_data(self.now, body, &mut self.to_server)
            .unwrap();
        self.client.send_end(self.now).unwrap();
    }

    fn respond(&mut self, status: u16, body: &[u8]) {
        let resp = Response {
            status,
            reason: portline_core::http::canonical_reason(status),
            headers: &[("Content-Type", b"text/plain")],
            body: BodyLength::Known(body.len() as u64),
        };
        self.server
            .send_response(self.now, &resp, &mut self.to_client)
            .unwrap();
        self.server
            .send_data(self.now, body, &mut self.to_client)
            .unwrap();
        self.server.send_end(self.now).unwrap();
    }

    /// Moves the bytes in flight to their receivers.
    fn deliver(&mut self) {
        let to_server = std::mem::take(&mut self.to_server);
        let to_client = std::mem::take(&mut self.to_client);
        self.server.receive(self.now, &to_server);
        self.client.receive(self.now, &to_client);
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.server.handle_timeout(self.now);
        self.client.handle_timeout(self.now);
    }

    fn server_events(&mut self) -> Drained {
        drain(&mut self.server)
    }

    fn client_events(&mut self) -> Drained {
        drain(&mut self.client)
    }
}

fn target_of(e: &Event) -> Option<String> {
    match e {
        Event::Request(r) => Some(String::from_utf8_lossy(&r.target).into_owned()),
        _ => None,
    }
}

#[test]
fn keep_alive_reuses_the_connection() {
    let mut p = Pair::new();
    for i in 0..3 {
        let target = format!("/n{i}");
        p.request("POST", &target, true, b"ping");
        p.deliver();
        let s = p.server_events();
        assert_eq!(target_of(&s.events[0]).as_deref(), Some(target.as_str()));
        assert_eq!(s.body(), b"ping");
        assert_eq!(s.last, Ok(Progress::Paused));
        p.respond(200, b"pong");
        assert!(String::from_utf8_lossy(&p.to_client).contains("Connection: keep-alive\r\n"));
        p.deliver();
        let c = p.client_events();
        assert!(matches!(&c.events[0], Event::Response(r) if r.status == 200));
        assert_eq!(c.body(), b"pong");
        assert_eq!(c.count_ends(), 1);
        assert_eq!(c.last, Ok(Progress::NeedData));
        assert_eq!(p.server_events().last, Ok(Progress::NeedData));
        assert!(!p.server.is_closed() && !p.client.is_closed());
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let mut p = Pair::new();
    p.request("GET", "/a", true, b"");
    p.request("HEAD", "/b", true, b"");
    p.request("GET", "/c", true, b"");
    p.deliver();
    let mut answered = Vec::new();
    for body in [&b"first"[..], b"second", b"third"] {
        let s = p.server_events();
        let targets: Vec<_> = s.events.iter().filter_map(target_of).collect();
        assert_eq!(targets.len(), 1, "one request at a time: {:?}", s.events);
        // The next request is not parsed until this response ends.
        assert_eq!(s.last, Ok(Progress::Paused));
        answered.push(targets[0].clone());
        p.respond(200, body);
    }
    assert_eq!(answered, ["/a", "/b", "/c"]);
    p.deliver();
    let c = p.client_events();
    let statuses = c
        .events
        .iter()
        .filter(|e| matches!(e, Event::Response(_)))
        .count();
    assert_eq!(statuses, 3);
    assert_eq!(c.count_ends(), 3);
    // The HEAD response carried no body bytes, so the bodies are first + third.
    assert_eq!(c.body(), b"firstthird");
}

#[test]
fn http10_without_keep_alive_closes_after_the_response() {
    let mut p = Pair::new();
    p.request("GET", "/", false, b"");
    assert!(!String::from_utf8_lossy(&p.to_server).contains("Connection"));
    p.deliver();
    let s = p.server_events();
    assert!(matches!(&s.events[0], Event::Request(r) if !r.keep_alive));
    p.respond(200, b"bye");
    assert!(String::from_utf8_lossy(&p.to_client).contains("Connection: close\r\n"));
    assert_eq!(p.server.poll_event(), Ok(Progress::Closed));
    assert!(p.server.is_closed());
    p.deliver();
    let c = p.client_events();
    assert_eq!(c.body(), b"bye");
    assert_eq!(c.last, Ok(Progress::Closed));
    // No further request may be sent on a connection that is not kept alive.
    let req = Request {
        method: "GET",
        target: "/",
        headers: &[],
        body: BodyLength::Known(0),
        keep_alive: false,
    };
    assert!(p.client.send_request(p.now, &req, &mut Vec::new()).is_err());
}

#[test]
fn unknown_length_is_read_until_close() {
    let mut p = Pair::new();
    p.request("GET", "/stream", true, b"");
    p.deliver();
    let _ = p.server_events();
    let resp = Response {
        status: 200,
        reason: "OK",
        headers: &[],
        body: BodyLength::Unknown,
    };
    p.server
        .send_response(p.now, &resp, &mut p.to_client)
        .unwrap();
    p.server.send_data(p.now, b"abc", &mut p.to_client).unwrap();
    p.server.send_data(p.now, b"def", &mut p.to_client).unwrap();
    p.server.send_end(p.now).unwrap();
    assert!(p.server.is_closed());
    p.deliver();
    let c = p.client_events();
    assert_eq!(c.body(), b"abcdef");
    assert_eq!(c.count_ends(), 0, "the body ends only at end of stream");
    assert_eq!(c.last, Ok(Progress::NeedData));
    p.client.receive_eof(p.now);
    let c = p.client_events();
    assert_eq!(c.events, [Event::EndOfMessage]);
    assert_eq!(c.last, Ok(Progress::Closed));
}

#[test]
fn half_close_after_the_request_still_gets_the_answer() {
    let mut p = Pair::new();
    p.request("GET", "/", true, b"");
    p.deliver();
    p.server.receive_eof(p.now);
    let s = p.server_events();
    assert_eq!(s.last, Ok(Progress::Paused));
    assert!(!p.server.wants_read());
    p.respond(200, b"ok");
    let s = p.server_events();
    assert!(s.events.is_empty(), "{:?}", s.events);
    assert_eq!(s.last, Ok(Progress::Closed));
    p.deliver();
    assert_eq!(p.client_events().body(), b"ok");
}

#[test]
fn head_timeout_fires_from_the_first_byte() {
    let mut p = Pair::new();
    p.advance(Duration::from_secs(3));
    p.server.receive(p.now, b"GET / HT");
    assert_eq!(p.server_events().last, Ok(Progress::NeedData));
    let deadline = p.server.poll_timeout().unwrap();
    assert_eq!(
        deadline,
        Time::ZERO + Duration::from_secs(13),
        "10 s after the first byte"
    );
    p.advance(Duration::from_millis(9_999));
    p.server.receive(p.now, b"TP/1.1\r\n");
    assert_eq!(p.server_events().last, Ok(Progress::NeedData));
    p.advance(Duration::from_millis(1));
    let err = p.server.poll_event().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HeadTimeout);
    assert_eq!(err.status(), Some(408));
    assert_eq!(p.server.poll_event(), Err(err.clone()), "sticky");
    let mut reply = Vec::new();
    p.server.send_error(p.now, &err, &mut reply).unwrap();
    assert!(reply.starts_with(b"HTTP/1.0 408 Request Timeout\r\n"));
    assert_eq!(p.server.poll_timeout(), None);
}

#[test]
fn idle_timeout_closes_cleanly() {
    let mut p = Pair::new();
    // From creation, a new connection is under the first-byte timeout, not the idle one.
    assert_eq!(
        p.server.poll_timeout(),
        Some(Time::ZERO + Duration::from_secs(20))
    );
    p.advance(Duration::from_secs(2));
    p.request("GET", "/", true, b"");
    p.deliver();
    let _ = p.server_events();
    // No timer while a request is in progress.
    assert_eq!(p.server.poll_timeout(), None);
    p.advance(Duration::from_secs(30));
    assert_eq!(p.server_events().last, Ok(Progress::Paused));
    p.respond(200, b"");
    // From the send_end that kept the connection.
    let deadline = p.server.poll_timeout().unwrap();
    assert_eq!(deadline, p.now + Duration::from_secs(5));
    p.advance(Duration::from_millis(4_999));
    assert_eq!(p.server_events().last, Ok(Progress::NeedData));
    p.advance(Duration::from_millis(1));
    assert_eq!(p.server.poll_event(), Ok(Progress::Closed));
    assert!(p.server.is_closed());
    // The client has no timers.
    assert_eq!(p.client.poll_timeout(), None);
}

#[test]
fn a_new_connection_that_sends_nothing_is_closed_after_the_first_byte_timeout() {
    let mut config = Config::default();
    config.limits.first_byte_timeout = Duration::from_secs(3);
    config.limits.idle_timeout = Duration::from_secs(7);
    let mut p = Pair::with_config(config);
    assert_eq!(
        p.server.poll_timeout(),
        Some(Time::ZERO + Duration::from_secs(3))
    );
    p.advance(Duration::from_millis(2_999));
    assert_eq!(p.server_events().last, Ok(Progress::NeedData));
    p.advance(Duration::from_millis(1));
    assert_eq!(
        p.server.poll_event(),
        Ok(Progress::Closed),
        "a clean close, no 408"
    );
    assert!(p.server.is_closed());
    assert_eq!(p.server.poll_timeout(), None);
}

#[test]
fn a_kept_alive_connection_is_under_the_idle_timeout_not_the_first_byte_one() {
    let mut config = Config::default();
    config.limits.first_byte_timeout = Duration::from_secs(30);
    config.limits.idle_timeout = Duration::from_secs(2);
    let mut p = Pair::with_config(config);
    p.advance(Duration::from_secs(1));
    p.request("GET", "/", true, b"");
    p.deliver();
    let _ = p.server_events();
    p.respond(200, b"ok");
    assert_eq!(p.server_events().last, Ok(Progress::NeedData));
    assert_eq!(
        p.server.poll_timeout(),
        Some(p.now + Duration::from_secs(2))
    );
}

/// A server that received `head` and then `part` of the body, polled until it waits for more.
fn stalled_body(head: &[u8], part: &[u8]) -> Pair {
    let mut p = Pair::new();
    p.advance(Duration::from_secs(1));
    p.server.receive(p.now, head);
    p.advance(Duration::from_secs(1));
    p.server.receive(p.now, part);
    let s = p.server_events();
    assert!(matches!(s.events[0], Event::Request(_)), "{s:?}");
    assert_eq!(s.last, Ok(Progress::NeedData));
    p
}

/// Fires the body timer of a stalled body 60 s (the default) after its last bytes, not
/// before, and checks the 408 the server then sends.
fn body_times_out(mut p: Pair) {
    let last_read = p.now;
    assert_eq!(
        p.server.poll_timeout(),
        Some(last_read + Duration::from_secs(60)),
        "nginx's client_body_timeout after the last read"
    );
    p.advance(Duration::from_millis(59_999));
    assert_eq!(p.server_events().last, Ok(Progress::NeedData));
    p.advance(Duration::from_millis(1));
    let err = p.server.poll_event().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BodyTimeout);
    assert_eq!(err.fault(), Fault::Peer);
    assert_eq!(err.status(), Some(408));
    assert_eq!(p.server.poll_event(), Err(err.clone()), "sticky");
    let mut reply = Vec::new();
    p.server.send_error(p.now, &err, &mut reply).unwrap();
    let reply = String::from_utf8(reply).unwrap();
    assert!(
        reply.starts_with("HTTP/1.0 408 Request Timeout\r\n"),
        "{reply}"
    );
    assert!(reply.contains("Connection: close\r\n"), "{reply}");
    assert_eq!(p.server.poll_timeout(), None);
}

#[test]
fn a_body_stalled_mid_content_length_times_out_with_408() {
    body_times_out(stalled_body(
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
        b"0123456789",
    ));
}

#[test]
fn a_body_stalled_mid_chunk_times_out_with_408() {
    body_times_out(stalled_body(
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"a\r\n01234",
    ));
    // In the middle of a chunk-size line: bytes are buffered, yet the peer owes the rest.
    body_times_out(stalled_body(
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"3\r\nabc\r\n1",
    ));
}

#[test]
fn a_body_that_never_starts_times_out_from_its_head() {
    let mut p = Pair::new();
    p.advance(Duration::from_secs(4));
    p.server.receive(
        p.now,
        b"POST / HTTP/1.0\r\nContent-Length: 100000000\r\n\r\n",
    );
    let s = p.server_events();
    assert_eq!(s.last, Ok(Progress::NeedData));
    assert_eq!(
        p.server.poll_timeout(),
        Some(p.now + Duration::from_secs(60))
    );
}

#[test]
fn a_body_that_keeps_trickling_does_not_time_out() {
    let mut p = stalled_body(
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
        b"0",
    );
    // One byte every 59 s: 9 minutes in all, far past the body timeout, never a gap over it.
    for b in b"123456789" {
        p.advance(Duration::from_secs(59));
        assert_eq!(p.server_events().last, Ok(Progress::NeedData));
        p.server.receive(p.now, &[*b]);
        let s = p.server_events();
        assert!(s.last.is_ok(), "{s:?}");
        assert_eq!(s.body(), [*b]);
    }
    // Complete: no body timer while the request waits for its answer.
    assert_eq!(p.server.poll_timeout(), None);
    p.advance(Duration::from_secs(120));
    assert_eq!(p.server_events().last, Ok(Progress::Paused));
    // The next request on the kept-alive connection has the idle, then the head timer.
    p.respond(200, b"ok");
    assert_eq!(
        p.server.poll_timeout(),
        Some(p.now + Duration::from_secs(5))
    );
    p.advance(Duration::from_secs(1));
    p.server.receive(p.now, b"GET /next HT");
    assert_eq!(p.server_events().last, Ok(Progress::NeedData));
    assert_eq!(
        p.server.poll_timeout(),
        Some(p.now + Duration::from_secs(10))
    );
}

#[test]
fn body_bytes_buffered_but_not_polled_do_not_time_out() {
    let mut p = Pair::new();
    p.server
        .receive(p.now, b"POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(p.server_events().last, Ok(Progress::NeedData));
    assert_eq!(
        p.server.poll_timeout(),
        Some(p.now + Duration::from_secs(60))
    );
    p.server.receive(p.now, b"hel");
    // The caller has not polled these bytes: the peer owes nothing it was asked for yet.
    assert_eq!(p.server.poll_timeout(), None);
    p.advance(Duration::from_secs(600));
    let s = p.server_events();
    assert_eq!(s.body(), b"hel");
    assert_eq!(s.last, Ok(Progress::NeedData));
    // Counted from when the caller found the body waiting, not from the old bytes.
    assert_eq!(
        p.server.poll_timeout(),
        Some(p.now + Duration::from_secs(60))
    );
}

#[test]
fn a_body_stalled_after_an_early_answer_closes_without_a_408() {
    let mut p = stalled_body(
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
        b"0123456789",
    );
    p.respond(405, b"no");
    // The answer is out; the rest of the body is still read, under the body timer.
    assert_eq!(
        p.server.poll_timeout(),
        Some(p.now + Duration::from_secs(60))
    );
    p.advance(Duration::from_secs(60));
    let err = p.server.poll_event().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BodyTimeout);
    let mut reply = Vec::new();
    assert!(p.server.send_error(p.now, &err, &mut reply).is_err());
    assert!(reply.is_empty(), "no second answer after the first");
    assert!(p.server.is_closed());
}

#[test]
fn content_length_is_enforced_on_send() {
    // Longer than declared (server).
    let mut p = Pair::new();
    p.request("GET", "/", true, b"");
    p.deliver();
    let _ = p.server_events();
    let resp = Response {
        status: 200,
        reason: "OK",
        headers: &[],
        body: BodyLength::Known(3),
    };
    p.server
        .send_response(p.now, &resp, &mut p.to_client)
        .unwrap();
    let err = p
        .server
        .send_data(p.now, b"four", &mut p.to_client)
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.fault()),
        (ErrorKind::LocalMisuse, Fault::Local)
    );
    assert_eq!(err.status(), None);
    assert!(p.server.is_closed());

    // Shorter than declared (server).
    let mut p = Pair::new();
    p.request("GET", "/", true, b"");
    p.deliver();
    let _ = p.server_events();
    p.server
        .send_response(p.now, &resp, &mut p.to_client)
        .unwrap();
    p.server.send_data(p.now, b"ab", &mut p.to_client).unwrap();
    let err = p.server.send_end(p.now).unwrap_err();
    assert_eq!(
        (err.kind(), err.fault()),
        (ErrorKind::LocalMisuse, Fault::Local)
    );
    assert_eq!(
        p.server.poll_event(),
        Err(err),
        "local errors are sticky too"
    );

    // Client side, longer and shorter.
    let mut p = Pair::new();
    let req = Request {
        method: "PUT",
        target: "/f",
        headers: &[],
        body: BodyLength::Known(2),
        keep_alive: true,
    };
    p.client
        .send_request(p.now, &req, &mut p.to_server)
        .unwrap();
    let err = p
        .client
        .send_data(p.now, b"abc", &mut p.to_server)
        .unwrap_err();
    assert_eq!(err.fault(), Fault::Local);
    let mut p = Pair::new();
    p.client
        .send_request(p.now, &req, &mut p.to_server)
        .unwrap();
    let err = p.client.send_end(p.now).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LocalMisuse);
}

#[test]
fn commands_out_of_order_are_local_misuse() {
    let mut p = Pair::new();
    let resp = Response {
        status: 200,
        reason: "OK",
        headers: &[],
        body: BodyLength::Known(0),
    };
    let err = p
        .server
        .send_response(p.now, &resp, &mut Vec::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LocalMisuse);
    let mut p = Pair::new();
    p.request("GET", "/", true, b"");
    p.deliver();
    let _ = p.server_events();
    let bad = Response {
        status: 200,
        reason: "OK",
        headers: &[("Connection", b"close")],
        body: BodyLength::Known(0),
    };
    let err = p
        .server
        .send_response(p.now, &bad, &mut Vec::new())
        .unwrap_err();
    assert_eq!(err.fault(), Fault::Local);
    let mut p = Pair::new();
    p.request("GET", "/", true, b"");
    p.deliver();
    let _ = p.server_events();
    let split = Response {
        status: 200,
        reason: "OK",
        headers: &[("X", b"a\r\nInjected: yes")],
        body: BodyLength::Known(0),
    };
    assert!(
        p.server
            .send_response(p.now, &split, &mut Vec::new())
            .is_err()
    );
}

#[test]
fn early_response_before_the_request_body_is_read() {
    let mut p = Pair::new();
    p.request("POST", "/upload", true, b"0123456789");
    // Deliver only the head and part of the body.
    let bytes = std::mem::take(&mut p.to_server);
    let split = bytes.len() - 6;
    p.server.receive(p.now, &bytes[..split]);
    let s = p.server_events();
    assert_eq!(s.body(), b"0123");
    p.respond(200, b"early");
    // The rest of the body is still read, then the next cycle starts.
    p.server.receive(p.now, &bytes[split..]);
    let s = p.server_events();
    assert_eq!(s.body(), b"456789");
    assert_eq!(s.count_ends(), 1);
    assert_eq!(s.last, Ok(Progress::NeedData));
    p.request("GET", "/next", true, b"");
    p.deliver();
    let s = p.server_events();
    assert_eq!(target_of(&s.events[0]).as_deref(), Some("/next"));
}

#[test]
fn an_early_answer_can_close_instead_of_reading_the_rest_of_the_body() {
    let mut p = Pair::new();
    p.server.receive(
        p.now,
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nabc",
    );
    let s = p.server_events();
    assert!(matches!(s.events[0], Event::Request(_)));
    assert_eq!(s.body(), b"abc");
    assert_eq!(p.server.body_left(), Some(100_000_000 - 3));
    p.server.close_after_response(p.now).unwrap();
    p.respond(405, b"no");
    let reply = String::from_utf8(std::mem::take(&mut p.to_client)).unwrap();
    assert!(reply.contains("Connection: close\r\n"), "{reply}");
    assert!(p.server.is_closed(), "the rest of the body is not read");
    assert_eq!(p.server.poll_event(), Ok(Progress::Closed));
    assert_eq!(p.server.poll_timeout(), None);
    // Only while a response is due.
    let err = p.server.close_after_response(p.now).unwrap_err();
    assert_eq!(err.fault(), Fault::Local);
}

#[test]
fn body_left_counts_down_a_known_length_only() {
    let mut p = Pair::new();
    assert_eq!(p.server.body_left(), None, "no body being read");
    p.server
        .receive(p.now, b"POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhe");
    let _ = p.server_events();
    assert_eq!(p.server.body_left(), Some(3));
    p.server.receive(p.now, b"llo");
    let _ = p.server_events();
    assert_eq!(p.server.body_left(), None, "the body is complete");
    let mut p = Pair::new();
    p.server.receive(
        p.now,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let _ = p.server_events();
    assert_eq!(p.server.body_left(), None, "chunked: unknown");
    // The last chunk read with the data before it: the body is complete, its end is next.
    p.server.receive(p.now, b"3\r\nabc\r\n0\r\n\r\n");
    assert_eq!(
        p.server.poll_event(),
        Ok(Progress::Event(Event::Data(
            portline_core::bytes::Bytes::from_static(b"abc")
        )))
    );
    assert_eq!(p.server.body_left(), Some(0), "chunked, last chunk read");
    assert_eq!(
        p.server.poll_event(),
        Ok(Progress::Event(Event::EndOfMessage))
    );
    // Trailers after the last chunk are read by the poll after the data, as before.
    let mut p = Pair::new();
    p.server.receive(
        p.now,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    );
    assert!(matches!(
        p.server.poll_event(),
        Ok(Progress::Event(Event::Request(_)))
    ));
    assert!(matches!(
        p.server.poll_event(),
        Ok(Progress::Event(Event::Data(_)))
    ));
    assert_eq!(p.server.body_left(), None, "chunked, trailers not read yet");
    assert_eq!(
        p.server.poll_event(),
        Ok(Progress::Event(Event::EndOfMessage))
    );
    let mut p = Pair::new();
    p.server.receive(p.now, b"GET / HTTP/1.0\r\n\r\n");
    assert!(matches!(
        p.server.poll_event(),
        Ok(Progress::Event(Event::Request(_)))
    ));
    assert_eq!(p.server.body_left(), Some(0), "no body");
}

/// Body bytes the caller wrote itself (zero-copy) count toward the declared length: the
/// message ends after exactly that many, the client reads the bytes written beside the core,
/// and more than declared, or any for HEAD, is a local error.
#[test]
fn bytes_written_elsewhere_count_toward_the_length() {
    let mut p = Pair::new();
    p.request("GET", "/", true, b"");
    p.deliver();
    let _ = p.server_events();
    let resp = Response {
        status: 200,
        reason: "OK",
        headers: &[],
        body: BodyLength::Known(6),
    };
    p.server
        .send_response(p.now, &resp, &mut p.to_client)
        .unwrap();
    p.server.send_data(p.now, b"ab", &mut p.to_client).unwrap();
    // The "sendfile": bytes go to the peer without the core.
    p.to_client.extend_from_slice(b"cdef");
    p.server.send_data_written(p.now, 4).unwrap();
    p.server.send_end(p.now).unwrap();
    p.deliver();
    let events = p.client_events();
    assert_eq!(events.body(), b"abcdef");
    assert_eq!(events.count_ends(), 1);

    let mut p = Pair::new();
    p.request("GET", "/", true, b"");
    p.deliver();
    let _ = p.server_events();
    p.server
        .send_response(p.now, &resp, &mut p.to_client)
        .unwrap();
    let err = p.server.send_data_written(p.now, 7).unwrap_err();
    assert_eq!(err.fault(), Fault::Local);

    let mut p = Pair::new();
    p.request("HEAD", "/", true, b"");
    p.deliver();
    let _ = p.server_events();
    p.server
        .send_response(p.now, &resp, &mut p.to_client)
        .unwrap();
    assert!(p.server.send_data_written(p.now, 6).is_err());
}
