//! `connect --tls HOST:PORT`: the interactive line client over TLS, as `openssl s_client` is
//! used. It is a [`Session`] like any other, run by [`Runtime::run_client`] inside a
//! [`TlsSession`](super::TlsSession), so the drivers need nothing of their own: stdin is read
//! on a thread ([`connect::spawn_stdin`]) and handed over through a channel, which the session looks at every
//! [`STDIN_POLL`] (a session is only woken by the socket or its timer).

use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use crate::apps::connect::{self, CONNECT_TIMEOUT, Framing};
use crate::cli::addr::HostPort;
use crate::cli::message;
use crate::driver::runtime::Runtime;
use crate::driver::session::Session;

use super::cli::ClientTlsArgs;

/// How often typed input is picked up: well under what a person notices at a terminal.
pub const STDIN_POLL: Duration = Duration::from_millis(20);

/// After stdin ends, how long to wait for the peer while it sends nothing. TLS here has no
/// half-close to tell the peer we are done, so (unlike plain `connect`) a quiet peer is
/// not waited for forever.
pub const EOF_LINGER: Duration = Duration::from_secs(5);

/// Stdin to the peer, the peer's bytes to stdout.
struct Typed {
    stdin: Receiver<Vec<u8>>,
    pending: Vec<u8>,
    stdin_open: bool,
    /// When stdin was last looked at, or the peer last sent something after stdin's end.
    last: Instant,
    stdout: io::Stdout,
    over: bool,
}

impl Typed {
    fn take_stdin(&mut self, now: Instant) {
        loop {
            match self.stdin.try_recv() {
                Ok(piece) => self.pending.extend_from_slice(&piece),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if self.stdin_open {
                        self.stdin_open = false;
                        self.last = now;
                    }
                    break;
                }
            }
        }
        if self.stdin_open {
            self.last = now;
        }
    }
}

impl Session for Typed {
    fn receive(&mut self, now: Instant, data: &[u8]) {
        if !connect::print(&mut self.stdout, data) {
            self.over = true;
        }
        if !self.stdin_open {
            self.last = now;
        }
    }

    fn receive_eof(&mut self, _now: Instant) {
        self.over = true;
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.take_stdin(now);
        if !self.stdin_open && self.pending.is_empty() && now >= self.last + EOF_LINGER {
            self.over = true;
        }
    }

    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>, budget: usize) {
        self.take_stdin(now);
        let n = self.pending.len().min(budget);
        out.extend(self.pending.drain(..n));
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.over {
            None
        } else if self.stdin_open {
            Some(self.last + STDIN_POLL)
        } else {
            Some(self.last + EOF_LINGER)
        }
    }

    fn wants_read(&self) -> bool {
        !self.over
    }

    fn is_done(&self) -> bool {
        self.over
    }
}

/// Run `connect --tls` to `addr` (the certificate checked for `peer`'s host); the exit status:
/// 0 when the peer closed or stdin ended, 1 for a connect or I/O failure, 10 or 11 for TLS.
pub fn run<R: Runtime + ?Sized>(
    rt: &R,
    peer: &HostPort,
    addr: SocketAddr,
    crlf: bool,
    trust: &ClientTlsArgs,
) -> i32 {
    let config = match trust.config(&[]) {
        Ok(c) => c,
        Err(e) => {
            message::error("tls", e);
            return 1;
        }
    };
    let (tx, rx) = mpsc::channel();
    let send = move |piece: &[u8]| {
        tx.send(piece.to_vec())
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))
    };
    // The end of stdin is the channel's disconnection, when `send` is dropped.
    if let Err(e) = connect::spawn_stdin(Framing::Stream, crlf, send, || {}) {
        message::error("stdin", e);
        return 1;
    }
    let typed = Typed {
        stdin: rx,
        pending: Vec::new(),
        stdin_open: true,
        last: Instant::now(),
        stdout: io::stdout(),
        over: false,
    };
    let mut layer = match super::client::session(&config, &peer.host.to_string(), typed, true) {
        Ok(l) => l,
        Err(e) => {
            message::error("tls", e);
            return 1;
        }
    };
    let result = rt.run_client(addr, CONNECT_TIMEOUT, &mut layer);
    if let Some(f) = layer.failure() {
        message::error(
            "tls",
            format_args!("{}: {f}", message::addr(addr, Some(&peer.host))),
        );
        return f.kind.exit_status();
    }
    match result {
        Ok(()) => 0,
        Err(e) => {
            crate::cli::app::client_error(&e, addr, &peer.host);
            1
        }
    }
}
