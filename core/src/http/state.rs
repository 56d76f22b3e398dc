//! Every state change of a connection, in one place (h11's `_state.py` habit).
//!
//! A connection has two halves: [`Reading`] (the message coming in) and [`Writing`] (the message
//! going out). The data that belongs to a state lives in its variant. Each input or command is a
//! [`Step`]; [`State::step`] is the one exhaustive `match` that moves both halves, and answers
//! whether the connection continues, starts a new request/response cycle, or is over.
//!
//! ```text
//! server  reading: Head ──Request──► Body ──EndOfMessage──► Done ─┐
//!         writing: Idle ──Request──► SendResponse ──Response──► SendBody ──End──► Done ─┤
//!         both Done: keep-alive ⇒ Head/Idle again (a new cycle), else the connection closes.
//! client  writing: Idle ──send_request──► SendBody ──End──► Idle (keep-alive) or Done
//!         reading: Head ──Response(1xx)──► Head; ──Response──► Body ──End──► Head or closed
//! ```

use super::chunked::Chunked;
use super::conn::Role;
use super::error::{Error, ErrorKind, Fault};
use super::event::Version;

/// How the body of the incoming message is delimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyReader {
    /// `Content-Length` (or no body: 0); this many bytes are left.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked(Chunked),
    /// Until the peer closes (responses only).
    UntilClose,
}

/// The receiving half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reading {
    /// Waiting for, or in the middle of, a head.
    Head,
    /// Reading a body. `keep_alive`: whether the connection persists after this message (client;
    /// the server decides when its response is sent).
    Body {
        reader: BodyReader,
        keep_alive: bool,
    },
    /// Server: the request is complete; the next one waits for the response (pipelining).
    Done,
}

/// What the server must remember about the request it is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exchange {
    /// The request's version (decides 0.9 raw bodies and whether 1xx may be sent).
    pub version: Version,
    /// The request asked to persist (docs/HTTP.md "Persistence").
    pub keep_alive: bool,
    /// The request was HEAD: the response has no body bytes.
    pub head: bool,
}

/// How the body of the outgoing message is delimited and how much has gone out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyWriter {
    /// `Some(n)`: `Content-Length: n`; `None`: close-delimited (or HTTP/0.9 raw).
    pub length: Option<u64>,
    /// Body bytes the caller has given so far.
    pub sent: u64,
    /// No body bytes are written (response to HEAD, 1xx, 204, 304).
    pub no_body: bool,
    /// The connection persists after this message.
    pub keep_alive: bool,
}

/// The sending half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Writing {
    /// Server: no request to answer yet. Client: a request may be sent.
    Idle,
    /// Server: a request head arrived; its (final) response head is due.
    SendResponse(Exchange),
    /// The body of the outgoing message.
    SendBody(BodyWriter),
    /// Server: the response is complete. Client: no further request may be sent (the last one
    /// did not ask to keep the connection).
    Done { keep_alive: bool },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Server: a request head arrived with this body framing.
    RequestHead {
        body: BodyReader,
        exchange: Exchange,
    },
    /// Client: an interim (1xx) response head arrived.
    InterimHead,
    /// Client: a final response head arrived.
    ResponseHead { body: BodyReader, keep_alive: bool },
    /// The incoming body is complete.
    BodyEnd,
    /// Server: a 1xx response head was written.
    InterimSent,
    /// The outgoing head was written (server: a final response; client: a request).
    HeadSent(BodyWriter),
    /// The outgoing body is complete.
    BodySent,
}

/// What the connection does after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Carry on.
    Continue,
    /// Server: both halves are done and the connection persists: read the next request.
    NewCycle,
    /// The connection is over: deliver nothing more.
    Close,
}

/// Both halves of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct State {
    pub reading: Reading,
    pub writing: Writing,
}

const fn misuse(message: &'static str) -> Error {
    Error::new(ErrorKind::LocalMisuse, Fault::Local, message)
}

impl State {
    pub(crate) const fn new() -> State {
        State {
            reading: Reading::Head,
            writing: Writing::Idle,
        }
    }

    /// Applies `step` for a connection in `role`. Steps that are out of order for the role are
    /// local misuse (the peer's bytes cannot cause them: the parser only reports heads when the
    /// reading half is in `Head`).
    pub(crate) fn step(&mut self, role: Role, step: Step) -> Result<Next, Error> {
        use Reading as R;
        use Role::{Client, Server};
        use Writing as W;
        let (reading, writing) = (&mut self.reading, &mut self.writing);
        let next = match (role, step) {
            // ---- server ----
            (Server, Step::RequestHead { body, exchange }) => match (&*reading, &*writing) {
                (R::Head, W::Idle) => {
                    *reading = R::Body {
                        reader: body,
                        keep_alive: exchange.keep_alive,
                    };
                    *writing = W::SendResponse(exchange);
                    Next::Continue
                }
                (R::Head | R::Body { .. } | R::Done, _) => {
                    return Err(misuse("request head out of order"));
                }
            },
            (Server, Step::BodyEnd) => match (&*reading, &*writing) {
                (R::Body { .. }, W::Done { keep_alive: true }) => Next::NewCycle,
                (R::Body { .. }, W::Done { keep_alive: false }) => Next::Close,
                (R::Body { .. }, W::Idle | W::SendResponse(_) | W::SendBody(_)) => {
                    *reading = R::Done;
                    Next::Continue
                }
                (R::Head | R::Done, _) => return Err(misuse("no body being read")),
            },
            (Server, Step::InterimSent) => match &*writing {
                W::SendResponse(ex) if ex.version == Version::Http11 => Next::Continue,
                W::SendResponse(_) => {
                    return Err(misuse("1xx response to a request older than HTTP/1.1"));
                }
                W::Idle | W::SendBody(_) | W::Done { .. } => {
                    return Err(misuse("no request to respond to"));
                }
            },
            (Server, Step::HeadSent(body)) => match &*writing {
                W::SendResponse(_) => {
                    *writing = W::SendBody(body);
                    Next::Continue
                }
                W::Idle => return Err(misuse("no request to respond to")),
                W::SendBody(_) | W::Done { .. } => return Err(misuse("response already sent")),
            },
            (Server, Step::BodySent) => match (&*reading, &*writing) {
                (R::Done, W::SendBody(b)) if b.keep_alive => Next::NewCycle,
                (R::Body { .. }, W::SendBody(b)) if b.keep_alive => {
                    *writing = W::Done { keep_alive: true };
                    Next::Continue
                }
                (R::Head | R::Body { .. } | R::Done, W::SendBody(_)) => Next::Close,
                (_, W::Idle | W::SendResponse(_) | W::Done { .. }) => {
                    return Err(misuse("no response body in progress"));
                }
            },
            (Server, Step::InterimHead | Step::ResponseHead { .. }) => {
                return Err(misuse("a server does not read responses"));
            }
            // ---- client ----
            (Client, Step::HeadSent(body)) => match &*writing {
                W::Idle => {
                    *writing = W::SendBody(body);
                    Next::Continue
                }
                W::SendBody(_) => return Err(misuse("previous request not ended")),
                W::Done { .. } => return Err(misuse("the connection is not kept alive")),
                W::SendResponse(_) => return Err(misuse("a client does not send responses")),
            },
            (Client, Step::BodySent) => match &*writing {
                W::SendBody(b) => {
                    *writing = if b.keep_alive {
                        W::Idle
                    } else {
                        W::Done { keep_alive: false }
                    };
                    Next::Continue
                }
                W::Idle | W::SendResponse(_) | W::Done { .. } => {
                    return Err(misuse("no request body in progress"));
                }
            },
            (Client, Step::InterimHead) => match &*reading {
                R::Head => Next::Continue,
                R::Body { .. } | R::Done => return Err(misuse("response head out of order")),
            },
            (Client, Step::ResponseHead { body, keep_alive }) => match &*reading {
                R::Head => {
                    *reading = R::Body {
                        reader: body,
                        keep_alive,
                    };
                    Next::Continue
                }
                R::Body { .. } | R::Done => return Err(misuse("response head out of order")),
            },
            (Client, Step::BodyEnd) => match &*reading {
                R::Body {
                    keep_alive: true, ..
                } => {
                    *reading = R::Head;
                    Next::Continue
                }
                R::Body {
                    keep_alive: false, ..
                } => Next::Close,
                R::Head | R::Done => return Err(misuse("no body being read")),
            },
            (Client, Step::RequestHead { .. } | Step::InterimSent) => {
                return Err(misuse("a client does not read requests or send responses"));
            }
        };
        if next == Next::NewCycle {
            *reading = R::Head;
            *writing = W::Idle;
        }
        Ok(next)
    }
}
