//! [`TlsSession`]: the TLS layer as a [`Session`] wrapped around another one.
//!
//! ```text
//!  driver ── ciphertext ──► TlsSession ── plaintext ──► inner Session (file server, get, line)
//!         ◄── ciphertext ──  (rustls)   ◄── plaintext ──
//! ```
//!
//! rustls never sees a socket: [`Session::receive`] hands it the bytes with `read_tls` on a
//! slice, `process_new_packets` decrypts, and the plaintext goes to the inner session at once
//! (so rustls's own plaintext buffer never fills). [`Session::poll_transmit`] first writes the
//! records rustls has queued (handshake, alerts, tickets), then asks the inner session for at
//! most `budget` bytes of plaintext, encrypts them and appends the records. A driver cannot tell
//! it apart from any other session.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use rustls::Connection;

use super::failure::TlsFailure;
use crate::driver::session::Session;

/// The first byte of every TLS record that opens a connection: a handshake record (RFC 8446
/// §5.1, content type 22). Anything else on a fresh server connection is not TLS.
const HANDSHAKE_RECORD: u8 = 0x16;

/// Plaintext read out of rustls at once (one TLS record holds at most 16 KiB).
const PLAINTEXT_CHUNK: usize = 16 * 1024;

/// Makes the inner session once the handshake is done (server side): its timers (head, idle)
/// start only then, so a slow handshake is bounded by the handshake deadline alone.
type MakeInner<S> = Box<dyn FnOnce(Instant) -> S + Send>;

/// Called once when the handshake completes (the client's `-v` lines).
type OnHandshake = Box<dyn FnOnce(&Connection) + Send>;

/// A [`Session`] that speaks TLS to the driver and plaintext to an inner session `S`.
///
/// It keeps the default (off) sendfile methods: the inner session is never told it may send
/// file ranges, so every byte of it passes through `poll_transmit` and is encrypted here.
pub struct TlsSession<S> {
    tls: Connection,
    inner: Option<S>,
    make: Option<MakeInner<S>>,
    on_handshake: Option<OnHandshake>,
    /// The handshake must be done by then; `None` once it is.
    handshake_deadline: Option<Instant>,
    /// When the connection opened: how long a handshake has waited (see `waiting_since`).
    opened: Instant,
    /// Server side, until the first byte arrives: what to answer a peer that speaks plain text
    /// (an HTTP 400 for the file server, nothing for line services).
    plain_reply: Option<Option<Vec<u8>>>,
    /// Bytes to send without encryption (the plain reply), then close.
    raw_out: Vec<u8>,
    /// Plaintext the inner session gave, reused between calls.
    plain: Vec<u8>,
    failure: Option<TlsFailure>,
    /// We queued close_notify: nothing more will be sent.
    closed: bool,
    /// The peer ended its side (close_notify or end of stream) and the inner session was told.
    peer_closed: bool,
}

impl<S> std::fmt::Debug for TlsSession<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSession")
            .field("handshaking", &self.tls.is_handshaking())
            .field("failure", &self.failure)
            .field("closed", &self.closed)
            .field("peer_closed", &self.peer_closed)
            .finish_non_exhaustive()
    }
}

impl<S: Session> TlsSession<S> {
    /// A client session: `inner` (e.g. a GET exchange) starts sending once the handshake is
    /// done, which must happen within `handshake_timeout` from `now`.
    pub fn client(
        now: Instant,
        tls: rustls::ClientConnection,
        inner: S,
        handshake_timeout: Duration,
    ) -> Self {
        let mut s = Self::new(now, tls.into(), handshake_timeout);
        s.inner = Some(inner);
        s
    }

    /// A server session: `make` builds the inner session when the handshake is done. A first
    /// byte that is not a TLS handshake record gets `plain_reply` (unencrypted) and a close.
    pub fn server(
        now: Instant,
        tls: rustls::ServerConnection,
        make: impl FnOnce(Instant) -> S + Send + 'static,
        handshake_timeout: Duration,
        plain_reply: Option<Vec<u8>>,
    ) -> Self {
        let mut s = Self::new(now, tls.into(), handshake_timeout);
        s.make = Some(Box::new(make));
        s.plain_reply = Some(plain_reply);
        s
    }

    fn new(now: Instant, mut tls: Connection, handshake_timeout: Duration) -> Self {
        // rustls's send queue would otherwise refuse plaintext past 64 KiB; the queue is
        // drained into the caller's buffer on every `poll_transmit`, and what goes in is bounded
        // by the budget, so the budget is the bound.
        tls.set_buffer_limit(None);
        TlsSession {
            tls,
            inner: None,
            make: None,
            on_handshake: None,
            handshake_deadline: Some(now + handshake_timeout),
            opened: now,
            plain_reply: None,
            raw_out: Vec::new(),
            plain: Vec::new(),
            failure: None,
            closed: false,
            peer_closed: false,
        }
    }

    /// Run `f` with the connection once the handshake completes (before any application data).
    pub fn on_handshake(mut self, f: impl FnOnce(&Connection) + Send + 'static) -> Self {
        self.on_handshake = Some(Box::new(f));
        self
    }

    /// Why TLS failed, if it did: the handshake, the peer's certificate, or a bad record later.
    pub fn failure(&self) -> Option<&TlsFailure> {
        self.failure.as_ref()
    }

    /// The inner session (`None` on the server side until the handshake is done).
    pub fn inner(&self) -> Option<&S> {
        self.inner.as_ref()
    }

    /// The rustls connection: version, cipher suite, peer certificates.
    pub fn connection(&self) -> &Connection {
        &self.tls
    }

    /// Whether the handshake is done.
    pub fn is_established(&self) -> bool {
        self.handshake_deadline.is_none()
    }

    fn fail(&mut self, failure: TlsFailure) {
        if self.failure.is_none() {
            self.failure = Some(failure);
        }
    }

    /// After `process_new_packets`: finish the handshake bookkeeping and hand the plaintext to
    /// the inner session.
    fn deliver(&mut self, now: Instant) {
        if self.handshake_deadline.is_some() && !self.tls.is_handshaking() {
            self.handshake_deadline = None;
            if let Some(f) = self.on_handshake.take() {
                f(&self.tls);
            }
            if let Some(make) = self.make.take() {
                self.inner = Some(make(now));
            }
        }
        let Some(inner) = self.inner.as_mut() else {
            return;
        };
        let mut buf = [0u8; PLAINTEXT_CHUNK];
        loop {
            match self.tls.reader().read(&mut buf) {
                Ok(0) => {
                    // close_notify: the peer's orderly end of its side.
                    if !self.peer_closed {
                        self.peer_closed = true;
                        inner.receive_eof(now);
                    }
                    return;
                }
                Ok(n) => inner.receive(now, &buf[..n]),
                // WouldBlock: no more plaintext now. UnexpectedEof cannot happen before an end
                // of stream was given, which goes to `receive_eof` instead.
                Err(_) => return,
            }
        }
    }

    /// Append every record rustls has queued to `out`.
    fn flush_tls(&mut self, out: &mut Vec<u8>) {
        while self.tls.wants_write() {
            match self.tls.write_tls(out) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

impl<S: Session> Session for TlsSession<S> {
    fn receive(&mut self, now: Instant, data: &[u8]) {
        if self.failure.is_some() || self.closed || data.is_empty() {
            return;
        }
        if let Some(reply) = self.plain_reply.take()
            && data[0] != HANDSHAKE_RECORD
        {
            self.raw_out = reply.unwrap_or_default();
            self.fail(TlsFailure::not_tls(data));
            return;
        }
        let mut rest = data;
        while !rest.is_empty() {
            match self.tls.read_tls(&mut rest) {
                // After the peer's close_notify rustls takes no more: the rest is ignored.
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    self.fail(TlsFailure::from_io(&e));
                    return;
                }
            }
            if let Err(e) = self.tls.process_new_packets() {
                let handshaking = self.handshake_deadline.is_some();
                self.fail(TlsFailure::from_rustls(&e, handshaking, data));
                return;
            }
            self.deliver(now);
        }
    }

    fn receive_eof(&mut self, now: Instant) {
        if self.failure.is_some() {
            return;
        }
        if self.handshake_deadline.is_some() {
            self.fail(TlsFailure::closed_in_handshake());
            return;
        }
        if !self.peer_closed {
            self.peer_closed = true;
            if let Some(inner) = self.inner.as_mut() {
                inner.receive_eof(now);
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.failure.is_some() {
            return;
        }
        if let Some(deadline) = self.handshake_deadline {
            if now >= deadline {
                self.fail(TlsFailure::handshake_timeout());
            }
            return;
        }
        if let Some(inner) = self.inner.as_mut() {
            inner.handle_timeout(now);
        }
    }

    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>, budget: usize) {
        if !self.raw_out.is_empty() {
            out.append(&mut self.raw_out);
            return;
        }
        // Handshake records, alerts (also the one a failure queued), session tickets.
        self.flush_tls(out);
        if self.failure.is_some() || self.closed || self.handshake_deadline.is_some() {
            return;
        }
        let Some(inner) = self.inner.as_mut() else {
            return;
        };
        self.plain.clear();
        inner.poll_transmit(
            now,
            &mut self.plain,
            budget.saturating_sub(out.len()).max(1),
        );
        if !self.plain.is_empty() {
            // rustls's writer takes everything: it encrypts into its send queue, drained below.
            if let Err(e) = self.tls.writer().write_all(&self.plain) {
                self.fail(TlsFailure::from_io(&e));
            }
        } else if inner.is_done() {
            self.tls.send_close_notify();
            self.closed = true;
        }
        // Keep a large buffer only while data flows (an idle connection holds none).
        if self.plain.capacity() > PLAINTEXT_CHUNK && self.plain.is_empty() {
            self.plain = Vec::new();
        }
        self.flush_tls(out);
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.failure.is_some() || self.closed {
            return None;
        }
        if self.handshake_deadline.is_some() {
            return self.handshake_deadline;
        }
        self.inner.as_ref().and_then(Session::poll_timeout)
    }

    fn wants_read(&self) -> bool {
        if self.failure.is_some() || self.closed || self.peer_closed {
            return false;
        }
        match &self.inner {
            Some(inner) if self.handshake_deadline.is_none() => inner.wants_read(),
            _ => true,
        }
    }

    fn is_done(&self) -> bool {
        if !self.raw_out.is_empty() || self.tls.wants_write() {
            return false;
        }
        self.failure.is_some() || self.closed
    }

    /// A server connection still in its handshake has no request in hand either (like a head
    /// still trickling in): a full server may close it for a newcomer, counting from when it
    /// opened. After the handshake the inner session answers (its clock starts at the end of
    /// the handshake, where its timers start too).
    fn waiting_since(&self) -> Option<Instant> {
        if self.failure.is_some() || self.closed {
            return None;
        }
        match &self.inner {
            Some(inner) if self.handshake_deadline.is_none() => inner.waiting_since(),
            Some(_) => None,
            None => self.make.is_some().then_some(self.opened),
        }
    }

    /// Gives back the plaintext scratch buffer and lets the inner session release its own
    /// (the file server's sleeps). What rustls keeps is its own: its receive buffer shrinks to
    /// 4 KiB at rest (rustls PR 1180) and cannot be dropped through its API (rustls issue 794).
    fn release_idle(&mut self) {
        if self.plain.is_empty() {
            self.plain = Vec::new();
        }
        if self.raw_out.is_empty() {
            self.raw_out = Vec::new();
        }
        if self.handshake_deadline.is_none()
            && let Some(inner) = &mut self.inner
        {
            inner.release_idle();
        }
    }
}

/// `impl Session for $ty` by forwarding every call to `**self`.
macro_rules! forward_session {
    ($(#[$doc:meta])* [$($generics:tt)*] $ty:ty) => {
        $(#[$doc])*
        impl<$($generics)*> Session for $ty {
            fn receive(&mut self, now: Instant, data: &[u8]) {
                (**self).receive(now, data)
            }
            fn receive_eof(&mut self, now: Instant) {
                (**self).receive_eof(now)
            }
            fn handle_timeout(&mut self, now: Instant) {
                (**self).handle_timeout(now)
            }
            fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>, budget: usize) {
                (**self).poll_transmit(now, out, budget)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                (**self).poll_timeout()
            }
            fn wants_read(&self) -> bool {
                (**self).wants_read()
            }
            fn is_done(&self) -> bool {
                (**self).is_done()
            }
            fn lingers(&self) -> bool {
                (**self).lingers()
            }
            fn waiting_since(&self) -> Option<Instant> {
                (**self).waiting_since()
            }
            // A pointer is no wrapper: the sendfile calls reach the session itself (drivers
            // hold `Box<dyn Session>`, and this impl is what they call).
            fn enable_sendfile(&mut self) {
                (**self).enable_sendfile()
            }
            fn poll_sendfile(&self) -> Option<crate::driver::session::FileRange<'_>> {
                (**self).poll_sendfile()
            }
            fn handle_sendfile(&mut self, now: Instant, written: u64) {
                (**self).handle_sendfile(now, written)
            }
            fn release_idle(&mut self) {
                (**self).release_idle()
            }
        }
    };
}

forward_session!(
    /// Lets a caller keep its session (e.g. `get` reads the outcome afterwards) while a
    /// [`TlsSession`] drives it.
    [S: Session + ?Sized] &mut S
);
forward_session!(
    /// A factory's boxed session inside a [`TlsSession`] (the server side).
    [] Box<dyn Session>
);
