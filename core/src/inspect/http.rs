//! The HTTP modes of the inspector: run a server or client [`Connection`] over raw bytes.

use super::InspectEvent;
use crate::Time;
use crate::http::{BodyLength, Config, Connection, Event, Progress, Request, Response, Role};

/// Which side of an HTTP exchange the input bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMode {
    /// The bytes a client sends: requests, read by a server connection.
    Request,
    /// The bytes a server sends: responses, read by a client connection.
    Response,
}

/// Runs a connection over `input`, fed `chunk` bytes at a time (0 means all at once), then end of
/// stream, and returns what it reported.
///
/// In [`HttpMode::Request`] every complete request is answered with a minimal response
/// (`200 OK`, empty body), so pipelined requests are all read. In [`HttpMode::Response`] the
/// client sends a request with `method` whenever response bytes arrive and no request is
/// outstanding (so a `HEAD` method makes every response bodiless). The result does not depend on
/// `chunk`.
///
/// ```
/// use portline_core::http::Config;
/// use portline_core::inspect::{HttpMode, InspectEvent, http_events};
///
/// let input = b"GET / HTTP/1.0\r\nHost: x\r\n\r\n";
/// let events = http_events(HttpMode::Request, input, 1, "GET", &Config::default());
/// assert_eq!(
///     events[0].to_json_line(),
///     r#"{"event":"request","method":"GET","target":"/","version":"1.0","headers":[["Host","x"]]}"#
/// );
/// assert_eq!(&events[1..], [InspectEvent::End, InspectEvent::Closed]);
/// ```
pub fn http_events(
    mode: HttpMode,
    input: &[u8],
    chunk: usize,
    method: &str,
    config: &Config,
) -> Vec<InspectEvent> {
    let role = match mode {
        HttpMode::Request => Role::Server,
        HttpMode::Response => Role::Client,
    };
    let mut run = Run {
        conn: Connection::new(role, config.clone(), Time::ZERO),
        method,
        outstanding: 0,
        events: Vec::new(),
        data: Vec::new(),
        sink: Vec::new(),
        done: false,
    };
    let step = if chunk == 0 {
        input.len().max(1)
    } else {
        chunk
    };
    for piece in input.chunks(step) {
        run.receive(piece);
        if run.done {
            break;
        }
    }
    if !run.done {
        run.conn.receive_eof(Time::ZERO);
        run.drain();
    }
    run.flush();
    run.events
}

struct Run<'a> {
    conn: Connection,
    method: &'a str,
    /// Client: requests sent whose final response has not ended.
    outstanding: usize,
    events: Vec<InspectEvent>,
    data: Vec<u8>,
    /// Bytes the connection writes (responses or requests); not inspected.
    sink: Vec<u8>,
    done: bool,
}

fn fields(h: &crate::http::Headers) -> Vec<(Vec<u8>, Vec<u8>)> {
    h.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect()
}

impl Run<'_> {
    fn receive(&mut self, piece: &[u8]) {
        if self.conn.role() == Role::Client && self.outstanding == 0 && !piece.is_empty() {
            self.send_request();
        }
        self.conn.receive(Time::ZERO, piece);
        self.drain();
    }

    fn send_request(&mut self) {
        let req = Request {
            method: self.method,
            target: "/",
            headers: &[],
            body: BodyLength::Known(0),
            keep_alive: true,
        };
        let sent = self
            .conn
            .send_request(Time::ZERO, &req, &mut self.sink)
            .and_then(|()| self.conn.send_end(Time::ZERO));
        if sent.is_ok() {
            self.outstanding += 1;
        }
    }

    fn flush(&mut self) {
        if !self.data.is_empty() {
            self.events
                .push(InspectEvent::Data(std::mem::take(&mut self.data)));
        }
    }

    fn push(&mut self, e: InspectEvent) {
        self.flush();
        self.events.push(e);
    }

    fn drain(&mut self) {
        while !self.done {
            match self.conn.poll_event() {
                Ok(Progress::Event(Event::Data(d))) => self.data.extend_from_slice(&d),
                Ok(Progress::Event(Event::Request(r))) => self.push(InspectEvent::Request {
                    method: r.method_str().to_owned(),
                    target: String::from_utf8_lossy(&r.target).into_owned(),
                    version: r.version.as_str(),
                    headers: fields(&r.headers),
                }),
                Ok(Progress::Event(
                    Event::Response(r) | Event::Interim(r) | Event::Switched(r),
                )) => self.push(InspectEvent::Response {
                    version: r.version.as_str(),
                    status: r.status,
                    reason: r.reason.to_vec(),
                    headers: fields(&r.headers),
                    undecoded: r.undecoded,
                }),
                Ok(Progress::Event(Event::EndOfMessage)) => {
                    self.push(InspectEvent::End);
                    self.answer();
                }
                Ok(Progress::NeedData | Progress::Paused) => return,
                Ok(Progress::Closed) => {
                    self.push(InspectEvent::Closed);
                    self.done = true;
                }
                Err(e) => {
                    self.push(InspectEvent::Error {
                        status: e.status(),
                        message: e.message().to_owned(),
                    });
                    self.done = true;
                }
            }
        }
    }

    /// After a message ended: the server answers it; the client sends the next request if
    /// response bytes are already waiting.
    fn answer(&mut self) {
        match self.conn.role() {
            Role::Server => {
                let resp = Response {
                    status: 200,
                    reason: "OK",
                    headers: &[],
                    body: BodyLength::Known(0),
                };
                let sent = self
                    .conn
                    .send_response(Time::ZERO, &resp, &mut self.sink)
                    .and_then(|()| self.conn.send_end(Time::ZERO));
                if let Err(e) = sent {
                    self.push(InspectEvent::Error {
                        status: e.status(),
                        message: e.message().to_owned(),
                    });
                    self.done = true;
                }
            }
            Role::Client => {
                self.outstanding = self.outstanding.saturating_sub(1);
                if self.outstanding == 0 && self.conn.buffered() > 0 && !self.conn.is_closed() {
                    self.send_request();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &[(HttpMode, &[u8])] = &[
        (
            HttpMode::Request,
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nGET /c HTTP/1.0\r\n\r\n",
        ),
        (HttpMode::Request, b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"),
        (HttpMode::Request, b"GET /\r\n"),
        (
            HttpMode::Response,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil close",
        ),
        (HttpMode::Response, b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"),
    ];

    #[test]
    fn output_does_not_depend_on_the_chunk_size() {
        for (mode, input) in SAMPLES {
            let whole = http_events(*mode, input, 0, "GET", &Config::default());
            assert!(!whole.is_empty());
            for chunk in 1..=input.len() {
                let split = http_events(*mode, input, chunk, "GET", &Config::default());
                assert_eq!(split, whole, "chunk {chunk}");
            }
        }
    }

    #[test]
    fn pipelined_requests_are_all_read() {
        let (mode, input) = SAMPLES[0];
        let lines: Vec<String> = http_events(mode, input, 0, "GET", &Config::default())
            .iter()
            .map(InspectEvent::to_json_line)
            .collect();
        assert_eq!(
            lines,
            [
                r#"{"event":"request","method":"GET","target":"/a","version":"1.1","headers":[["Host","x"]]}"#,
                r#"{"event":"end"}"#,
                r#"{"event":"request","method":"POST","target":"/b","version":"1.1","headers":[["Transfer-Encoding","chunked"]]}"#,
                r#"{"event":"data","len":5,"text":"abcde"}"#,
                r#"{"event":"end"}"#,
                r#"{"event":"request","method":"GET","target":"/c","version":"1.0","headers":[]}"#,
                r#"{"event":"end"}"#,
                r#"{"event":"closed"}"#,
            ]
        );
    }

    #[test]
    fn errors_end_the_list_with_exit_status_2() {
        let ev = http_events(
            HttpMode::Request,
            SAMPLES[1].1,
            0,
            "GET",
            &Config::default(),
        );
        assert_eq!(
            ev.last().map(InspectEvent::to_json_line).as_deref(),
            Some(r#"{"event":"error","status":400,"message":"whitespace after header name"}"#)
        );
        assert_eq!(super::super::exit_status(&ev), 2);
        let ev = http_events(
            HttpMode::Response,
            SAMPLES[3].1,
            0,
            "GET",
            &Config::default(),
        );
        assert_eq!(super::super::exit_status(&ev), 0);
        assert_eq!(ev.last(), Some(&InspectEvent::Closed));
    }

    #[test]
    fn head_method_makes_responses_bodiless() {
        let input = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n";
        let ev = http_events(HttpMode::Response, input, 0, "HEAD", &Config::default());
        assert!(
            !ev.iter().any(|e| matches!(e, InspectEvent::Data(_))),
            "{ev:?}"
        );
        assert_eq!(ev.iter().filter(|e| **e == InspectEvent::End).count(), 2);
        assert_eq!(ev.last(), Some(&InspectEvent::Closed));
    }
}
