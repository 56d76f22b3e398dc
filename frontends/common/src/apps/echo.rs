//! `serve http --echo`: every request is answered `200` with a JSON description of what the core
//! parsed (method, target, version, header fields in order as `[name, value]` pairs, and the
//! body), the way httpbin's `/anything` answers, to see what the parser saw.
//!
//! Two shapes ([`EchoFormat`]):
//!
//! - `json` (the default): values are JSON strings where the bytes are UTF-8, and
//!   `{"base64": "..."}` where they are not:
//!   `{"method":"GET","uri":"/x","version":"1.1","headers":[["Host","a"]],"body":""}`;
//! - `garden`: every value is base64, the JSON a target of the http-garden differential
//!   harness answers with (`headers`, `uri`, `body`, `method`, `version`), so portline can
//!   join its comparisons.
//!
//! Limits and timeouts are the file server's (`--header-timeout`, `--idle-timeout`, the core's
//! head limits); the body is held to answer it, so it is bounded by [`MAX_ECHO_BODY`] (then 413).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use portline_core::Time;
use portline_core::http::{
    BodyLength, Config, Connection, Event, Progress, RequestHead, Response, Role,
};
use serde_json::{Value, json};

use crate::apps::http_server::{
    OVERLOAD_REPLY, SERVER, answer_error, core_session_plumbing, with_date,
};
use crate::apps::log;
use crate::driver::clock;
use crate::driver::session::{Session, SessionFactory};

/// The largest request body echoed: 1 MiB, nginx's default `client_max_body_size`. A larger one
/// is answered 413 by the core.
pub const MAX_ECHO_BODY: u64 = 1024 * 1024;

/// How the echoed values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EchoFormat {
    /// Strings where the bytes are UTF-8, `{"base64": "..."}` where they are not.
    #[default]
    Json,
    /// Every value base64, as http-garden's targets answer.
    Garden,
}

/// How the echo server is configured.
#[derive(Debug, Clone)]
pub struct EchoOptions {
    /// The shape of the JSON.
    pub format: EchoFormat,
    /// No access log (`--quiet`).
    pub quiet: bool,
    /// Log the client `X-Forwarded-For` names too (`--log-forwarded`; see [`log::Forwarded`]).
    pub log_forwarded: bool,
    /// The core's limits (`--header-timeout`, `--idle-timeout`); `max_body` is lowered to
    /// [`MAX_ECHO_BODY`] when it is larger.
    pub config: Config,
}

/// Makes one echo session per connection.
#[derive(Debug, Clone)]
pub struct EchoServer {
    options: Arc<EchoOptions>,
}

impl EchoServer {
    /// An echo server with `options`.
    pub fn new(mut options: EchoOptions) -> EchoServer {
        let limits = &mut options.config.limits;
        limits.max_body = limits.max_body.min(MAX_ECHO_BODY);
        EchoServer {
            options: Arc::new(options),
        }
    }

    /// A session for a connection from `peer`, as a concrete type (tests drive it directly).
    pub fn echo_session(&self, now: Instant, peer: SocketAddr) -> EchoSession {
        EchoSession {
            options: self.options.clone(),
            peer: peer.ip().to_canonical(),
            conn: Connection::new(
                Role::Server,
                self.options.config.clone(),
                clock::to_time(now),
            ),
            request: None,
            failed: false,
            lingers: true,
        }
    }
}

impl SessionFactory for EchoServer {
    fn session(&self, now: Instant, peer: SocketAddr, _local: SocketAddr) -> Box<dyn Session> {
        Box::new(self.echo_session(now, peer))
    }

    fn overload_reply(&self) -> Option<Vec<u8>> {
        Some(OVERLOAD_REPLY.to_vec())
    }
}

/// The JSON of `bytes`: a string, or `{"base64": ...}` when not UTF-8 (`json`); always base64
/// (`garden`).
fn value(format: EchoFormat, bytes: &[u8]) -> Value {
    match (format, std::str::from_utf8(bytes)) {
        (EchoFormat::Json, Ok(text)) => Value::from(text),
        (EchoFormat::Json, Err(_)) => json!({ "base64": BASE64.encode(bytes) }),
        (EchoFormat::Garden, _) => Value::from(BASE64.encode(bytes)),
    }
}

/// The JSON description of a request (with a trailing newline).
pub fn describe(format: EchoFormat, head: &RequestHead, body: &[u8]) -> Vec<u8> {
    let headers: Vec<Value> = head
        .headers
        .iter()
        .map(|(name, v)| Value::from(vec![value(format, name), value(format, v)]))
        .collect();
    let description = json!({
        "method": value(format, &head.method),
        "uri": value(format, &head.target),
        "version": value(format, head.version.as_str().as_bytes()),
        "headers": headers,
        "body": value(format, body),
    });
    let mut out = description.to_string().into_bytes();
    out.push(b'\n');
    out
}

/// One connection of the echo server.
#[derive(Debug)]
pub struct EchoSession {
    options: Arc<EchoOptions>,
    peer: IpAddr,
    conn: Connection,
    /// The request being read: its head and its body so far.
    request: Option<(RequestHead, Vec<u8>)>,
    /// A local failure: close without more output.
    failed: bool,
    /// False once the connection ended owing the peer nothing ([`Session::lingers`]).
    lingers: bool,
}

impl EchoSession {
    fn log(&self, date: &str, head: Option<&RequestHead>, status: u16, bytes: Option<u64>) {
        if !self.options.quiet {
            log::emit_entry(&log::Entry::for_request(
                self.peer,
                date,
                head,
                status,
                bytes,
                self.options.log_forwarded,
            ));
        }
    }

    fn respond(&mut self, t: Time, head: &RequestHead, body: &[u8], out: &mut Vec<u8>) {
        let json = describe(self.options.format, head, body);
        let sent = with_date(|date| {
            let response = Response {
                status: 200,
                reason: "OK",
                headers: &[
                    ("Date", date.as_bytes()),
                    ("Server", SERVER.as_bytes()),
                    ("Content-Type", b"application/json"),
                ],
                body: BodyLength::Known(json.len() as u64),
            };
            let sent = self.conn.send_response(t, &response, out).is_ok()
                && self.conn.send_data(t, &json, out).is_ok()
                && self.conn.send_end(t).is_ok();
            let bytes = (head.method_str() != "HEAD").then_some(json.len() as u64);
            self.log(date, Some(head), 200, bytes);
            sent
        });
        self.failed |= !sent;
    }
}

impl Session for EchoSession {
    core_session_plumbing!();

    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>, budget: usize) {
        let t = clock::to_time(now);
        let start = out.len();
        while !self.failed && out.len() - start < budget {
            match self.conn.poll_event() {
                Ok(Progress::Event(Event::Request(head))) => {
                    self.request = Some((head, Vec::new()))
                }
                // Bounded: the core stops the body at `max_body` (413).
                Ok(Progress::Event(Event::Data(piece))) => {
                    if let Some((_, body)) = &mut self.request {
                        body.extend_from_slice(&piece);
                    }
                }
                Ok(Progress::Event(Event::EndOfMessage)) => {
                    if let Some((head, body)) = self.request.take() {
                        self.respond(t, &head, &body, out);
                    }
                }
                Ok(Progress::Event(
                    Event::Response(_) | Event::Interim(_) | Event::Switched(_),
                ))
                | Ok(Progress::NeedData | Progress::Paused | Progress::Closed) => return,
                Err(e) => {
                    // Unanswered when a response was already under way, or the head timed
                    // out; closing is all that is left, as for Ok.
                    answer_error(&mut self.conn, t, &e, out, &mut self.lingers);
                    if let Some(status) = e.status() {
                        let head = self.request.take().map(|(h, _)| h);
                        with_date(|date| self.log(date, head.as_ref(), status, None));
                    }
                    self.failed = true;
                }
            }
        }
    }

    /// Between requests (or before a head is complete): a full server may close it for a
    /// newcomer. Not while a request's body is being read.
    fn waiting_since(&self) -> Option<Instant> {
        let waiting = !self.failed && self.request.is_none() && !self.conn.is_closed();
        waiting.then(|| clock::to_instant(self.conn.waiting_since()))
    }

    /// Between requests with nothing in hand, the core connection is parked and unparked:
    /// the same connection (timers, state) without the buffers it kept for reuse. The next
    /// request allocates them again, as the file server's does.
    fn release_idle(&mut self) {
        if self.failed || self.request.is_some() {
            return;
        }
        if let Some(parked) = self.conn.park() {
            let config = self.conn.config().clone();
            self.conn = Connection::unpark(parked, config, parked.waiting_since());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::session::TRANSMIT_BUDGET;

    fn server(format: EchoFormat, config: Config) -> EchoServer {
        EchoServer::new(EchoOptions {
            format,
            quiet: true,
            log_forwarded: false,
            config,
        })
    }

    /// Feeds `input` to a fresh session; returns what it wrote and whether it is done.
    fn exchange(format: EchoFormat, input: &[u8]) -> (Vec<u8>, bool) {
        exchange_with(format, Config::default(), input)
    }

    /// [`exchange`] with a configuration of its own.
    fn exchange_with(format: EchoFormat, config: Config, input: &[u8]) -> (Vec<u8>, bool) {
        let now = Instant::now();
        let mut session = server(format, config).echo_session(now, "127.0.0.1:1".parse().unwrap());
        session.receive(now, input);
        let mut out = Vec::new();
        session.poll_transmit(now, &mut out, TRANSMIT_BUDGET);
        (out, session.is_done())
    }

    /// The JSON body of the first response in `out`.
    fn body_json(out: &[u8]) -> Value {
        let at = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a head")
            + 4;
        let end = out[at..]
            .iter()
            .position(|&b| b == b'\n')
            .expect("a newline")
            + at;
        serde_json::from_slice(&out[at..end]).expect("JSON")
    }

    #[test]
    fn fields_come_back_in_order_with_duplicates_and_the_body() {
        let (out, done) = exchange(
            EchoFormat::Json,
            b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Dup: 1\r\nAccept: */*\r\nX-Dup: 2\r\n\
              Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        );
        assert!(out.starts_with(b"HTTP/1.0 200 OK\r\n"));
        assert!(!done, "HTTP/1.1 is kept alive");
        let json = body_json(&out);
        assert_eq!(
            json,
            json!({
                "method": "POST",
                "uri": "/a?b=1",
                "version": "1.1",
                "headers": [
                    ["Host", "x"], ["X-Dup", "1"], ["Accept", "*/*"], ["X-Dup", "2"],
                    ["Transfer-Encoding", "chunked"]
                ],
                "body": "abcde",
            })
        );
    }

    #[test]
    fn a_connection_awaits_a_request_only_between_requests() {
        let now = Instant::now();
        let later = now + std::time::Duration::from_millis(300);
        let mut session = server(EchoFormat::Json, Config::default())
            .echo_session(now, "127.0.0.1:1".parse().unwrap());
        let mut out = Vec::new();
        let opened = session.waiting_since().expect("a fresh connection waits");
        assert!(opened.saturating_duration_since(now) < std::time::Duration::from_millis(2));
        session.receive(now, b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab");
        session.poll_transmit(now, &mut out, TRANSMIT_BUDGET);
        assert_eq!(session.waiting_since(), None, "half a body in");
        session.receive(later, b"cd");
        session.poll_transmit(later, &mut out, TRANSMIT_BUDGET);
        assert!(out.starts_with(b"HTTP/1.0 200 OK\r\n"));
        let again = session
            .waiting_since()
            .expect("answered, kept alive: waits again");
        assert!(
            again > opened + std::time::Duration::from_millis(250),
            "counted from the end of the exchange, not from the open"
        );
        // Released while idle (the core connection parked and unparked): the same wait, and
        // the next request is answered as before.
        session.release_idle();
        assert_eq!(session.waiting_since(), Some(again));
        let mut next = Vec::new();
        session.receive(later, b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nef");
        session.poll_transmit(later, &mut next, TRANSMIT_BUDGET);
        assert!(next.starts_with(b"HTTP/1.0 200 OK\r\n"), "{next:?}");
        let text = String::from_utf8_lossy(&next);
        assert!(text.contains("\"body\":\"ef\""), "{text}");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_base64() {
        // A target byte >= 0x80 is a 400 unless the leniency allows it (docs/HTTP.md).
        let mut config = Config::default();
        config.leniency.obs_text_target = true;
        let (out, _) = exchange_with(
            EchoFormat::Json,
            config,
            b"PUT /\xff HTTP/1.0\r\nX-Bin: a\xfeb\r\nContent-Length: 2\r\n\r\n\x00\x80",
        );
        let json = body_json(&out);
        assert_eq!(json["uri"], json!({ "base64": BASE64.encode(b"/\xff") }));
        assert_eq!(
            json["headers"][0],
            json!(["X-Bin", { "base64": BASE64.encode(b"a\xfeb") }])
        );
        assert_eq!(
            json["body"],
            json!({ "base64": BASE64.encode([0u8, 0x80]) })
        );
    }

    /// What http-garden's harness does with a target's answer: base64-decode every value.
    #[test]
    fn the_garden_format_is_all_base64() {
        let (out, _) = exchange(
            EchoFormat::Garden,
            b"GET /x HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\n\r\nhey",
        );
        let json = body_json(&out);
        let decode = |v: &Value| BASE64.decode(v.as_str().expect("a string")).unwrap();
        assert_eq!(decode(&json["method"]), b"GET");
        assert_eq!(decode(&json["uri"]), b"/x");
        assert_eq!(decode(&json["version"]), b"1.0");
        assert_eq!(decode(&json["body"]), b"hey");
        let headers: Vec<(Vec<u8>, Vec<u8>)> = json["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| (decode(&pair[0]), decode(&pair[1])))
            .collect();
        assert_eq!(
            headers,
            [
                (b"Host".to_vec(), b"h".to_vec()),
                (b"Content-Length".to_vec(), b"3".to_vec())
            ]
        );
    }

    #[test]
    fn a_body_over_the_limit_is_413_and_closes() {
        let head = format!(
            "POST / HTTP/1.0\r\nContent-Length: {}\r\n\r\n",
            MAX_ECHO_BODY + 1
        );
        let (out, done) = exchange(EchoFormat::Json, head.as_bytes());
        assert!(
            out.starts_with(b"HTTP/1.0 413 "),
            "{}",
            String::from_utf8_lossy(&out)
        );
        assert!(done);
        // A chunked body over the limit too.
        let (out, done) = exchange(
            EchoFormat::Json,
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n",
        );
        assert!(
            out.starts_with(b"HTTP/1.0 413 "),
            "{}",
            String::from_utf8_lossy(&out)
        );
        assert!(done);
    }

    #[test]
    fn head_gets_the_length_without_the_body_and_bad_requests_get_400() {
        let (out, _) = exchange(EchoFormat::Json, b"HEAD / HTTP/1.0\r\n\r\n");
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.0 200 OK\r\n"), "{text}");
        assert!(text.contains("Content-Length: "), "{text}");
        assert!(text.ends_with("\r\n\r\n"), "{text}");
        let (out, done) = exchange(EchoFormat::Json, b"GET / HTTP/1.0\r\nno colon\r\n\r\n");
        assert!(out.starts_with(b"HTTP/1.0 400 "));
        assert!(done);
    }
}
