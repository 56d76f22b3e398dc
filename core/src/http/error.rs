//! Errors: who is at fault and, for a peer's bad bytes, the status a server should answer with.

use core::fmt;

/// Who caused an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The peer sent bytes that break the protocol (or the configured limits).
    Peer,
    /// The local caller misused the connection (e.g. sent more body than declared).
    Local,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Malformed syntax in the request line, status line, headers or body framing.
    BadSyntax,
    /// A major version other than 1.
    UnsupportedVersion,
    /// A transfer coding other than `chunked`.
    UnsupportedCoding,
    /// The request target is longer than `Limits::max_target`.
    TargetTooLong,
    /// The head is larger than `Limits::max_head`, or has more than `Limits::max_headers` fields.
    HeadTooLarge,
    /// The body is larger than `Limits::max_body`.
    BodyTooLarge,
    /// The stream ended in the middle of a message.
    UnexpectedEof,
    /// The head did not arrive in time (`Limits::head_timeout`).
    HeadTimeout,
    /// The request body stalled: no byte of it arrived for `Limits::body_timeout`.
    BodyTimeout,
    /// A body longer or shorter than its declared length, or a command out of order.
    LocalMisuse,
}

/// A protocol error. A connection that returned one stays failed (sticky); a server sends the
/// reply [`Error::status`] suggests, if it can, and closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    fault: Fault,
    message: &'static str,
}

impl Error {
    /// A new error. `message` names what was wrong in a few words.
    pub(crate) const fn new(kind: ErrorKind, fault: Fault, message: &'static str) -> Error {
        Error {
            kind,
            fault,
            message,
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Who is at fault.
    pub fn fault(&self) -> Fault {
        self.fault
    }

    /// A short description, e.g. `"whitespace before colon"`.
    pub fn message(&self) -> &'static str {
        self.message
    }

    /// The status a server should answer a peer error with (400, 408, 413, 414, 431, 501, 505);
    /// `None` for local misuse and for errors where no answer makes sense (e.g. end of stream).
    pub fn status(&self) -> Option<u16> {
        if self.fault == Fault::Local {
            return None;
        }
        match self.kind {
            ErrorKind::BadSyntax => Some(400),
            ErrorKind::UnsupportedVersion => Some(505),
            ErrorKind::UnsupportedCoding => Some(501),
            ErrorKind::TargetTooLong => Some(414),
            ErrorKind::HeadTooLarge => Some(431),
            ErrorKind::BodyTooLarge => Some(413),
            ErrorKind::HeadTimeout | ErrorKind::BodyTimeout => Some(408),
            ErrorKind::UnexpectedEof | ErrorKind::LocalMisuse => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status() {
            Some(s) => write!(f, "{} ({s})", self.message),
            None => f.write_str(self.message),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        let kind = match e.fault {
            Fault::Peer => std::io::ErrorKind::InvalidData,
            Fault::Local => std::io::ErrorKind::InvalidInput,
        };
        std::io::Error::new(kind, e)
    }
}
