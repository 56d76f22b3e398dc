//! Events: what the connection tells its caller, in protocol words.

use bytes::Bytes;

/// The protocol version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// An HTTP/0.9 Simple-Request (`GET /path` + CRLF): no headers, the answer is the body alone.
    Http09,
    /// HTTP/1.0 (RFC 1945).
    Http10,
    /// HTTP/1.1 (RFC 9112), or any higher 1.x minor, which is treated as 1.1.
    Http11,
}

impl Version {
    /// `"0.9"`, `"1.0"` or `"1.1"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http09 => "0.9",
            Version::Http10 => "1.0",
            Version::Http11 => "1.1",
        }
    }
}

/// The header fields of a message: names and values are slices of the received head, in order,
/// with no allocation per field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// The whole head as received; every span below indexes into it.
    pub(crate) buf: Bytes,
    /// `(name_start, name_end, value_start, value_end)` for each field, in order.
    pub(crate) spans: Vec<[u32; 4]>,
}

impl Headers {
    /// The same fields, borrowed (a [`HeadersRef`], as `poll_borrowed` gives).
    pub fn fields(&self) -> HeadersRef<'_> {
        HeadersRef {
            buf: &self.buf,
            spans: &self.spans,
        }
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Every `(name, value)` pair in the order received (see [`HeadersRef::iter`]).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.fields().iter()
    }

    /// The first value of the field `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields().get(name)
    }

    /// Every value of the field `name`, compared case-insensitively.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields().get_all(name)
    }

    /// The value of the field `name` as an owned `Bytes` slice of the receive buffer (no copy).
    pub fn get_bytes(&self, name: &str) -> Option<Bytes> {
        let v = self.get(name)?;
        Some(self.buf.slice_ref(v))
    }
}

/// Header fields borrowed from the connection (from [`Connection::poll_borrowed`], or
/// [`Headers::fields`]): the same lookups as [`Headers`], with no reference count.
///
/// [`Connection::poll_borrowed`]: super::Connection::poll_borrowed
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadersRef<'a> {
    buf: &'a [u8],
    spans: &'a [[u32; 4]],
}

impl<'a> HeadersRef<'a> {
    pub(crate) fn new(buf: &'a [u8], spans: &'a [[u32; 4]]) -> HeadersRef<'a> {
        HeadersRef { buf, spans }
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Every `(name, value)` pair in the order received. Values have surrounding whitespace
    /// removed.
    pub fn iter(self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let buf = self.buf;
        self.spans.iter().map(move |s| {
            (
                &buf[s[0] as usize..s[1] as usize],
                &buf[s[2] as usize..s[3] as usize],
            )
        })
    }

    /// The first value of the field `name`, compared case-insensitively.
    pub fn get(self, name: &str) -> Option<&'a [u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Every value of the field `name`, compared case-insensitively.
    pub fn get_all(self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }
}

/// A request head, as received by a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method token, e.g. `GET` (only `tchar` bytes, so always ASCII).
    pub method: Bytes,
    /// The request target exactly as sent, e.g. `/index.html?x=1`.
    pub target: Bytes,
    /// The protocol version.
    pub version: Version,
    /// The header fields.
    pub headers: Headers,
    /// Whether the connection stays open after this exchange if the response can be framed by
    /// length (docs/HTTP.md "Persistence").
    pub keep_alive: bool,
}

impl RequestHead {
    /// The method as a string.
    pub fn method_str(&self) -> &str {
        // tchar bytes only (checked by the parser), hence ASCII.
        core::str::from_utf8(&self.method).unwrap_or("")
    }
}

/// A response head, as received by a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The protocol version of the status line.
    pub version: Version,
    /// The three-digit status code.
    pub status: u16,
    /// The reason phrase (may be empty).
    pub reason: Bytes,
    /// The header fields (obs-fold continuation lines unfolded to one SP).
    pub headers: Headers,
    /// The body is delivered with transfer codings still applied: `Transfer-Encoding` named a
    /// coding portline does not decode (anything but `chunked`), or did not end in `chunked`, in
    /// which case the body is read until the connection closes (RFC 9112 6.3). The `Data` events
    /// then carry the bytes as sent (after removing a final `chunked`, if there was one); the
    /// codings are in the `Transfer-Encoding` field.
    pub undecoded: bool,
}

/// What the connection reports to its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A request head arrived (server role).
    Request(RequestHead),
    /// The final response head to a request arrived (client role).
    Response(ResponseHead),
    /// An interim (1xx) response head arrived (client role), e.g. 100 Continue or 103 Early
    /// Hints; the final response to the same request follows.
    Interim(ResponseHead),
    /// A `101 Switching Protocols` head arrived (client role): HTTP is over on this connection.
    /// `poll_event` then returns [`Progress::Closed`]; take the bytes that followed the head with
    /// [`Connection::take_remaining`](super::Connection::take_remaining).
    Switched(ResponseHead),
    /// A piece of the body, a slice of the receive buffer.
    Data(Bytes),
    /// The current message is complete.
    EndOfMessage,
}

/// A request head borrowed from the connection's buffer (server role, from
/// [`Connection::poll_borrowed`](super::Connection::poll_borrowed)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRef<'a> {
    /// The method token, e.g. `GET` (only `tchar` bytes, so always ASCII).
    pub method: &'a [u8],
    /// The request target exactly as sent.
    pub target: &'a [u8],
    /// The protocol version.
    pub version: Version,
    /// The header fields.
    pub headers: HeadersRef<'a>,
    /// As [`RequestHead::keep_alive`].
    pub keep_alive: bool,
}

/// A response head borrowed from the connection's buffer (client role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseRef<'a> {
    /// The protocol version of the status line.
    pub version: Version,
    /// The three-digit status code.
    pub status: u16,
    /// The reason phrase (may be empty).
    pub reason: &'a [u8],
    /// The header fields (obs-fold continuation lines unfolded to one SP).
    pub headers: HeadersRef<'a>,
    /// As [`ResponseHead::undecoded`].
    pub undecoded: bool,
}

/// [`Event`] borrowing the connection's buffer: valid until the next call on the connection.
/// No allocation and no reference count per event, which is what a server that answers each
/// head at once needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRef<'a> {
    /// As [`Event::Request`].
    Request(RequestRef<'a>),
    /// As [`Event::Response`].
    Response(ResponseRef<'a>),
    /// As [`Event::Interim`].
    Interim(ResponseRef<'a>),
    /// As [`Event::Switched`].
    Switched(ResponseRef<'a>),
    /// As [`Event::Data`].
    Data(&'a [u8]),
    /// As [`Event::EndOfMessage`].
    EndOfMessage,
}

/// The result of [`Connection::poll_event`](super::Connection::poll_event) (`E` = [`Event`]) and
/// of [`Connection::poll_borrowed`](super::Connection::poll_borrowed) (`E` = [`EventRef`]): an
/// event, or why there is none yet (h11's `NEED_DATA` and `PAUSED`), or that the connection is
/// over.
///
/// Named `Progress` rather than `Poll` so that it does not clash with `std::task::Poll` and
/// `mio::Poll`, which an embedder imports in the same file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Progress<E = Event> {
    /// An event; poll again.
    Event(E),
    /// Nothing more can be parsed until more bytes (or end of stream) arrive.
    NeedData,
    /// The next message has (possibly) arrived but will not be parsed until the current response
    /// has been sent in full (server role, pipelining).
    Paused,
    /// The connection is over, the one signal for it: every event has been delivered and no
    /// more will come, whether the peer closed cleanly between messages, a message that does not
    /// keep the connection ended, the idle timeout fired, or (client) a 101 response switched
    /// protocols. Flush the output buffer and close the socket (or, after a 101, hand it to the
    /// new protocol). A failed connection returns its error instead.
    Closed,
}
