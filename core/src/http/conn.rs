//! The connection state machine (skeleton: signatures fixed, bodies to be written).

use super::{Config, Error, Poll, Request, Response};
use crate::Time;

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Receives requests, sends responses.
    Server,
    /// Sends requests, receives responses.
    Client,
}

/// One HTTP connection, in either role. No I/O: bytes in, events out.
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
}

impl Connection {
    /// A new connection. `now` starts the idle timer of a server connection.
    pub fn new(role: Role, config: Config, now: Time) -> Connection {
        let _ = now;
        Connection { role, config }
    }

    // ----- getters -----

    /// The role given at construction.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration given at construction.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the caller should read more bytes from the socket now. False while enough input
    /// is buffered (e.g. pipelined requests waiting for the current response), after end of
    /// stream, and once the connection is closed or failed. Reading anyway is allowed but
    /// buffers without bound only up to the head limit plus one read.
    pub fn wants_read(&self) -> bool {
        unimplemented!()
    }

    /// True once the connection is over (closed, or failed): flush output and close the socket.
    pub fn is_closed(&self) -> bool {
        unimplemented!()
    }

    // ----- inputs -----

    /// Bytes received from the peer. They are buffered; parse them with [`Self::poll_event`].
    pub fn receive(&mut self, now: Time, data: &[u8]) {
        let _ = (now, data);
        unimplemented!()
    }

    /// The peer closed its sending side (read returned 0).
    pub fn receive_eof(&mut self, now: Time) {
        let _ = now;
        unimplemented!()
    }

    /// Time has reached `now`; fire any expired timer (head timeout: error 408; idle: close).
    pub fn handle_timeout(&mut self, now: Time) {
        let _ = now;
        unimplemented!()
    }

    // ----- outputs -----

    /// The next event, or why there is none. After an error is returned once, it is returned on
    /// every later call (sticky).
    pub fn poll_event(&mut self) -> Result<Poll, Error> {
        unimplemented!()
    }

    /// When [`Self::handle_timeout`] should next be called, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        unimplemented!()
    }

    // ----- commands -----

    /// Server: write the head of the response to the current request into `out`.
    pub fn send_response(
        &mut self,
        now: Time,
        response: &Response<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let _ = (now, response, out);
        unimplemented!()
    }

    /// Client: write a request head into `out`.
    pub fn send_request(
        &mut self,
        now: Time,
        request: &Request<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let _ = (now, request, out);
        unimplemented!()
    }

    /// Write body bytes of the current outgoing message into `out` (framed as the head said;
    /// nothing for a response to HEAD).
    pub fn send_data(&mut self, now: Time, data: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let _ = (now, data, out);
        unimplemented!()
    }

    /// End the current outgoing message. A `Known` body that was not sent in full is a local
    /// error. For a server, this is when the next pipelined request may be parsed, or when the
    /// connection closes (HTTP/1.0 without keep-alive, close-delimited body, HTTP/0.9).
    pub fn send_end(&mut self, now: Time, out: &mut Vec<u8>) -> Result<(), Error> {
        let _ = (now, out);
        unimplemented!()
    }

    /// Server: answer a peer error with the status it suggests (a minimal `text/plain` body,
    /// `Connection: close`), and close. Writes nothing if a response was already started or the
    /// error suggests no status.
    pub fn send_error(&mut self, now: Time, error: &Error, out: &mut Vec<u8>) {
        let _ = (now, error, out);
        unimplemented!()
    }
}
