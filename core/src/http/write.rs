//! What the caller asks the connection to send.

/// How long a body will be; the writer picks the framing from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// Exactly this many bytes (`Content-Length`). Sending more or fewer is a local error.
    Known(u64),
    /// Unknown: the body ends when the connection closes (HTTP/1.0 close-delimited). The
    /// connection will not be kept alive.
    Unknown,
}

/// A response for the server role to send. The connection adds `Content-Length` (from
/// [`BodyLength::Known`]) and `Connection: keep-alive` when the connection persists; the caller
/// adds everything else (`Date`, `Server`, `Content-Type`, ...).
#[derive(Debug, Clone)]
pub struct Response<'a> {
    /// The status code, 100..=999.
    pub status: u16,
    /// The reason phrase, e.g. `"OK"`.
    pub reason: &'a str,
    /// Header fields other than `Content-Length`, `Transfer-Encoding` and `Connection`.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The body's length. For a HEAD request (and 1xx, 204, 304) no body bytes are sent, but a
    /// `Known` length is still announced as `Content-Length`.
    pub body: BodyLength,
}

/// A request for the client role to send. Written as `HTTP/1.0`.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The method, e.g. `"GET"`.
    pub method: &'a str,
    /// The request target, e.g. `"/index.html"`.
    pub target: &'a str,
    /// Header fields other than `Content-Length` and `Connection` (give `Host` here).
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The body's length (`Known(0)` for none).
    pub body: BodyLength,
    /// Ask the server to keep the connection open (`Connection: keep-alive`).
    pub keep_alive: bool,
}
