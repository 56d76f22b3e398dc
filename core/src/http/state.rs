//! Every state of a connection and every change of it, in one place (h11's `_state.py` habit).
//!
//! A connection is in a [`Phase`]: open (messages flow), closed (everything was delivered and
//! nothing more will be: h11's MUST_CLOSE and CLOSED), failed (a sticky error: h11's ERROR) or
//! switched (a 101 response ended HTTP: h11's SWITCHED_PROTOCOL). While it is open it has two
//! halves: [`Reading`] (the message coming in) and [`Writing`] (the message going out). The data
//! that belongs to a state lives in its variant. Each input or command is a [`Step`];
//! [`State::step`] is the one exhaustive `match` that moves both halves, and answers whether the
//! connection continues, starts a new request/response cycle, or is over. The phase changes only
//! here too ([`State::peer_eof`], [`State::close`], [`State::fail`], and `step` itself).
//!
//! ```text
//! server  reading: Head ──Request──► Body ──EndOfMessage──► Done ─┐
//!         writing: Idle ──Request──► SendResponse ──Response──► SendBody ──End──► Done ─┤
//!         both Done: keep-alive ⇒ Head/Idle again (a new cycle), else the connection closes.
//! client  writing: Idle ──send_request──► SendBody ──End──► Idle (keep-alive) or Done
//!         reading: Head ──Response(1xx)──► Head; ──Response──► Body ──End──► Head or closed
//!                  Head ──Response(101)──► switched
//! phase:  Open ──a step answers Close, idle timeout, peer's end between messages──► Closed
//!         Open ──any error──► Failed (sticky)       Open ──101──► Switched
//! ```

use super::chunked::Chunked;
use super::error::{Error, ErrorKind, Fault};
use super::event::Version;
use super::parse::{Framing, ResponseCoding, bad, peer};

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Receives requests, sends responses.
    Server,
    /// Sends requests, receives responses.
    Client,
}

/// Whether the connection still carries HTTP messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Messages flow. `peer_eof`: the peer has closed its sending side (what it sent before is
    /// still parsed; then the connection closes, or fails if a message was cut short).
    Open { peer_eof: bool },
    /// Every event has been delivered and no more will come: flush and close.
    Closed,
    /// A protocol error, returned by every later poll (sticky).
    Failed(Error),
    /// Client: a 101 response ended HTTP; the bytes after its head belong to the new protocol.
    Switched,
}

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

/// What kind of head arrived, for [`body_and_persistence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A request (server role).
    Request,
    /// A final response (client role); `to_head`: it answers a HEAD request.
    Response { status: u16, to_head: bool },
}

/// The one place where an incoming message's body framing and its own wish to persist are
/// decided from its head (RFC 9112 6.1-6.3, 9.3; docs/HTTP.md "Body framing" and
/// "Persistence"). For a response the connection persists only if the request asked for it
/// too and the body is not read until close. Returns the body framing, whether the message
/// asks to persist, and whether its body is delivered with transfer codings left applied.
#[inline(always)]
pub(crate) fn body_and_persistence(
    incoming: Incoming,
    version: Version,
    f: &Framing,
    max_body: u64,
) -> Result<(BodyReader, bool, bool), Error> {
    let persistent = match version {
        Version::Http09 => incoming != Incoming::Request && f.keep_alive && !f.close,
        Version::Http10 => f.keep_alive && !f.close,
        Version::Http11 => !f.close,
    };
    if version == Version::Http09 && incoming == Incoming::Request {
        return Ok((BodyReader::Length(0), false, false));
    }
    // The body comes with transfer codings left applied (a response only; docs/HTTP.md).
    let mut undecoded = false;
    if f.te_present && version == Version::Http10 {
        return Err(bad("Transfer-Encoding in an HTTP/1.0 message"));
    }
    if f.te_present && f.content_length.is_some() {
        return Err(bad("Transfer-Encoding together with Content-Length"));
    }
    let body = match incoming {
        Incoming::Response { status, to_head } if to_head || status == 204 || status == 304 => {
            BodyReader::Length(0)
        }
        Incoming::Request if f.te_present => {
            f.request_coding()?;
            BodyReader::Chunked(Chunked::Size)
        }
        Incoming::Response { .. } if f.te_present => match f.response_coding()? {
            ResponseCoding::Chunked { undecoded: u } => {
                undecoded = u;
                BodyReader::Chunked(Chunked::Size)
            }
            ResponseCoding::UntilClose => {
                undecoded = true;
                BodyReader::UntilClose
            }
        },
        Incoming::Request | Incoming::Response { .. } => match f.content_length {
            Some(n) if n > max_body => {
                return Err(peer(ErrorKind::BodyTooLarge, "body too large"));
            }
            Some(n) => BodyReader::Length(n),
            None if incoming == Incoming::Request => BodyReader::Length(0),
            None => BodyReader::UntilClose,
        },
    };
    Ok((body, persistent, undecoded))
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
    /// Client: a 101 (Switching Protocols) response head arrived.
    Switch,
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
    /// Client: HTTP is over (101); the remaining bytes belong to the new protocol.
    Switch,
}

/// The phase and both halves of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct State {
    pub phase: Phase,
    pub reading: Reading,
    pub writing: Writing,
}

const fn misuse(message: &'static str) -> Error {
    Error::new(ErrorKind::LocalMisuse, Fault::Local, message)
}

impl State {
    pub(crate) const fn new() -> State {
        State {
            phase: Phase::Open { peer_eof: false },
            reading: Reading::Head,
            writing: Writing::Idle,
        }
    }

    /// Messages still flow.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open { .. })
    }

    /// The peer's end of stream has arrived (false once the connection is no longer open).
    pub(crate) fn peer_eof(&self) -> bool {
        matches!(self.phase, Phase::Open { peer_eof: true })
    }

    /// Commands are only for an open connection: after a failure the caller's own misuse is
    /// repeated to it, a peer's error becomes "has failed". The open connection is one compare
    /// of the phase inlined into each command; the rest is out of line (a `match` over the four
    /// phases was a jump table in every command).
    #[inline(always)]
    pub(crate) fn check_open(&self) -> Result<(), Error> {
        if self.is_open() {
            return Ok(());
        }
        self.not_open()
    }

    /// [`Self::check_open`] for a connection that is over.
    #[cold]
    #[inline(never)]
    fn not_open(&self) -> Result<(), Error> {
        match &self.phase {
            Phase::Open { .. } => Ok(()),
            Phase::Closed | Phase::Switched => Err(misuse("the connection is closed")),
            Phase::Failed(e) => Err(match e.fault() {
                Fault::Local => e.clone(),
                Fault::Peer => misuse("the connection has failed"),
            }),
        }
    }

    /// The peer closed its sending side.
    pub(crate) fn receive_eof(&mut self) {
        match self.phase {
            Phase::Open { .. } => self.phase = Phase::Open { peer_eof: true },
            Phase::Closed | Phase::Failed(_) | Phase::Switched => {}
        }
    }

    /// Nothing more will be delivered (the peer closed between messages, the idle timeout, or a
    /// server answered an error). A failure stays a failure.
    pub(crate) fn close(&mut self) {
        match self.phase {
            Phase::Open { .. } | Phase::Switched => self.phase = Phase::Closed,
            Phase::Closed | Phase::Failed(_) => {}
        }
    }

    /// The connection fails with `e` (kept: every later poll returns it). Returns `e`.
    pub(crate) fn fail(&mut self, e: Error) -> Error {
        match self.phase {
            Phase::Open { .. } | Phase::Closed | Phase::Switched => {
                self.phase = Phase::Failed(e.clone());
            }
            // The first error is the one reported.
            Phase::Failed(_) => {}
        }
        e
    }

    /// Applies `step` for a connection in `role`. Steps that are out of order for the role are
    /// local misuse (the peer's bytes cannot cause them: the parser only reports heads when the
    /// reading half is in `Head`). A step that ends the connection moves the phase.
    ///
    /// Only for an open connection: every caller has checked the phase first (a poll before it
    /// parses, a command through [`State::check_open`]), so it is not checked again here.
    /// Inlined: every caller passes one known step, so only that arm of the `match` is left
    /// at each call site (and the step is not moved into a call).
    #[inline(always)]
    pub(crate) fn step(&mut self, role: Role, step: Step) -> Result<Next, Error> {
        debug_assert!(self.is_open(), "a step of a connection that is over");
        let next = self.halves(role, step)?;
        match next {
            Next::Continue => {}
            Next::NewCycle => {
                self.reading = Reading::Head;
                self.writing = Writing::Idle;
            }
            Next::Close => self.phase = Phase::Closed,
            Next::Switch => self.phase = Phase::Switched,
        }
        Ok(next)
    }

    /// The one exhaustive `match` over role, step and both halves.
    #[inline(always)]
    fn halves(&mut self, role: Role, step: Step) -> Result<Next, Error> {
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
            // The writing half first, then the reading half only for a response that keeps
            // the connection: the usual end of an exchange is a few compares.
            (Server, Step::BodySent) => match &*writing {
                // `Done` tested on its own first (one compare of the reading half's
                // discriminant, not the decoding of all three that a `match` does): the usual
                // exchange, the request read before the answer ends.
                W::SendBody(b) if b.keep_alive && matches!(reading, R::Done) => Next::NewCycle,
                W::SendBody(b) if b.keep_alive => match &*reading {
                    R::Body { .. } => {
                        *writing = W::Done { keep_alive: true };
                        Next::Continue
                    }
                    // (`Done` was taken above.)
                    R::Head | R::Done => Next::Close,
                },
                W::SendBody(_) => Next::Close,
                W::Idle | W::SendResponse(_) | W::Done { .. } => {
                    return Err(misuse("no response body in progress"));
                }
            },
            (Server, Step::InterimHead | Step::Switch | Step::ResponseHead { .. }) => {
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
            (Client, Step::Switch) => match &*reading {
                R::Head => Next::Switch,
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
        Ok(next)
    }
}
