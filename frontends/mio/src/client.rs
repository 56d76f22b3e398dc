//! The client on a mio loop: `run` drives one session (`get`, `connect --tls`) over one
//! connection with the same [`Conn`] as a server's connection.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use portline_common::driver::dial;
use portline_common::{ClientError, Session, TRANSMIT_BUDGET};

use crate::conn::{Conn, Drive};
use crate::pool::BufPool;

const SOCKET: Token = Token(0);

/// Poll, retrying on EINTR.
fn poll(poll: &mut Poll, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
    loop {
        match poll.poll(events, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Drive `session` over a connection to `addr` until it is done and its output written.
pub(crate) fn run(
    addr: SocketAddr,
    connect_timeout: Duration,
    session: &mut dyn Session,
) -> Result<(), ClientError> {
    let mut poll_ = Poll::new().map_err(ClientError::Connect)?;
    // Dialling blocks this thread, which has nothing else to do until the connection is made.
    let stream = dial::tcp(addr, connect_timeout).map_err(ClientError::Connect)?;
    stream.set_nonblocking(true).map_err(ClientError::Connect)?;
    let mut stream = TcpStream::from_std(stream);
    poll_
        .registry()
        .register(&mut stream, SOCKET, Interest::READABLE | Interest::WRITABLE)
        .map_err(ClientError::Connect)?;
    let mut conn = Conn::new(stream, Instant::now());
    let mut scratch = vec![0; TRANSMIT_BUDGET];
    let mut pool = BufPool::default();
    let mut events = Events::with_capacity(4);
    loop {
        let now = Instant::now();
        let timeout = match conn.drive(session, now, &mut scratch, &mut pool) {
            Drive::Done | Drive::Closed => return Ok(()),
            Drive::Failed(failure) => return Err(failure.into()),
            Drive::Yield => Some(Duration::ZERO),
            Drive::Open => {
                if conn.may_sleep() {
                    session.release_idle();
                }
                session
                    .poll_timeout()
                    .map(|t| t.saturating_duration_since(now))
            }
        };
        // Registered for both directions, edge-triggered: a writable edge only comes after a
        // full send buffer drains, so this costs nothing while no tail exists.
        poll(&mut poll_, &mut events, timeout).map_err(ClientError::Receive)?;
        for event in events.iter() {
            let closed = event.is_read_closed() || event.is_error();
            if event.is_readable() || closed {
                conn.set_readable(closed);
            }
        }
    }
}
