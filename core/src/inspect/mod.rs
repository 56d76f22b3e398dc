//! Run a core state machine over raw bytes and report what it saw, for people who debug and fuzz
//! the parsers. This is the logic behind `cargo run -p portline-core --example parse` and the
//! frontends' `parse` subcommand; it does no I/O itself.
//!
//! Each mode turns input bytes into a list of [`InspectEvent`]s. Consecutive body bytes are merged
//! into one [`InspectEvent::Data`], so the list does not depend on how the input was split: feeding
//! it one byte at a time or all at once gives the same output. [`InspectEvent::to_json_line`]
//! renders one event as the tool's JSON line.
//!
//! Modes:
//! * [`http`]: `http-request` (a server connection; each complete request is answered with a
//!   minimal response so that pipelined requests are all read) and `http-response` (a client
//!   connection that sent requests with a given method).
//! * [`line`](mod@line): the line protocol ([`line_events`]): lines, too-long reports, the end of
//!   stream, and in telnet mode the refusals the codec would send.

pub mod http;
pub mod line;

pub use http::{HttpMode, http_events};
pub use line::line_events;

/// One thing the inspected connection reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InspectEvent {
    /// A request head (`version` is `"0.9"` for a Simple-Request).
    Request {
        /// The method.
        method: String,
        /// The request target, as lossy UTF-8.
        target: String,
        /// `"0.9"`, `"1.0"` or `"1.1"`.
        version: &'static str,
        /// Header fields in order, as received.
        headers: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// A response head (1xx heads too).
    Response {
        /// `"1.0"` or `"1.1"`.
        version: &'static str,
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: Vec<u8>,
        /// Header fields in order, as received.
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        /// The body comes with transfer codings left applied (`ResponseHead::undecoded`).
        undecoded: bool,
    },
    /// Body bytes (all consecutive pieces merged).
    Data(Vec<u8>),
    /// A message ended.
    End,
    /// The stream ended cleanly and the connection is over.
    Closed,
    /// A complete line (line mode), without its terminator.
    Line(Vec<u8>),
    /// A line over the limit (line mode): how many of its bytes were dropped when reported.
    TooLong {
        /// `max_line + 1`: the bytes seen when the limit was passed.
        dropped: usize,
    },
    /// The end of the stream (line mode), with the last line if it had no LF.
    Eof {
        /// The bytes after the last LF, if any.
        unterminated: Option<Vec<u8>>,
    },
    /// Bytes the line codec's telnet layer would send back (one refusal, e.g. `IAC WONT 1`).
    Reply(Vec<u8>),
    /// A protocol error: the status a server would answer with (`None` when none applies, e.g.
    /// a stream that ended in the middle of a message) and what was wrong.
    Error {
        /// The suggested status, if any.
        status: Option<u16>,
        /// A short description.
        message: String,
    },
}

impl InspectEvent {
    /// The event as one JSON object without a trailing newline, e.g.
    /// `{"event":"data","len":5,"text":"hello"}`.
    ///
    /// ```
    /// use portline_core::inspect::InspectEvent;
    /// assert_eq!(InspectEvent::End.to_json_line(), r#"{"event":"end"}"#);
    /// assert_eq!(
    ///     InspectEvent::Data(b"a\"b\n".to_vec()).to_json_line(),
    ///     r#"{"event":"data","len":4,"text":"a\"b\n"}"#
    /// );
    /// ```
    pub fn to_json_line(&self) -> String {
        let mut o = String::with_capacity(64);
        match self {
            InspectEvent::Request {
                method,
                target,
                version,
                headers,
            } => {
                o.push_str(r#"{"event":"request","method":"#);
                json_str(&mut o, method.as_bytes());
                o.push_str(r#","target":"#);
                json_str(&mut o, target.as_bytes());
                o.push_str(r#","version":"#);
                json_str(&mut o, version.as_bytes());
                json_headers(&mut o, headers);
                o.push('}');
            }
            InspectEvent::Response {
                version,
                status,
                reason,
                headers,
                undecoded,
            } => {
                o.push_str(r#"{"event":"response","version":"#);
                json_str(&mut o, version.as_bytes());
                o.push_str(&format!(r#","status":{status},"reason":"#));
                json_str(&mut o, reason);
                json_headers(&mut o, headers);
                if *undecoded {
                    o.push_str(r#","undecoded":true"#);
                }
                o.push('}');
            }
            InspectEvent::Data(d) => {
                o.push_str(&format!(r#"{{"event":"data","len":{},"text":"#, d.len()));
                json_str(&mut o, d);
                o.push('}');
            }
            InspectEvent::Line(line) => {
                o.push_str(r#"{"event":"line","text":"#);
                json_str(&mut o, line);
                o.push('}');
            }
            InspectEvent::TooLong { dropped } => {
                o.push_str(&format!(r#"{{"event":"too_long","dropped":{dropped}}}"#));
            }
            InspectEvent::Eof { unterminated } => {
                o.push_str(r#"{"event":"eof","unterminated":"#);
                match unterminated {
                    Some(line) => json_str(&mut o, line),
                    None => o.push_str("null"),
                }
                o.push('}');
            }
            InspectEvent::Reply(bytes) => {
                o.push_str(r#"{"event":"reply","hex":""#);
                for b in bytes {
                    o.push_str(&format!("{b:02x}"));
                }
                o.push_str(r#""}"#);
            }
            InspectEvent::End => o.push_str(r#"{"event":"end"}"#),
            InspectEvent::Closed => o.push_str(r#"{"event":"closed"}"#),
            InspectEvent::Error { status, message } => {
                match status {
                    Some(s) => o.push_str(&format!(r#"{{"event":"error","status":{s},"message":"#)),
                    None => o.push_str(r#"{"event":"error","status":null,"message":"#),
                }
                json_str(&mut o, message.as_bytes());
                o.push('}');
            }
        }
        o
    }
}

/// The tool's exit status for a list of events: 2 when it ends in a protocol error, else 0.
pub fn exit_status(events: &[InspectEvent]) -> i32 {
    match events.last() {
        Some(InspectEvent::Error { .. }) => 2,
        _ => 0,
    }
}

/// Appends `bytes` (as lossy UTF-8) as a JSON string literal, quotes included.
pub fn json_str(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_headers(out: &mut String, headers: &[(Vec<u8>, Vec<u8>)]) {
    out.push_str(r#","headers":["#);
    for (i, (n, v)) in headers.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        json_str(out, n);
        out.push(',');
        json_str(out, v);
        out.push(']');
    }
    out.push(']');
}
