//! Clients: a session over one connection (`get`), and the interactive `connect`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use portline_common::apps::connect::{
    self, CONNECT_TIMEOUT, DATAGRAM_BUFFER, Framing, LineEncoder, UdpLinger,
};
use portline_common::{ClientError, Session};

use crate::driver::{self, DriveError};

/// Connect to `addr` and drive `session` until it is done.
pub fn run_client(
    addr: SocketAddr,
    connect_timeout: Duration,
    session: &mut dyn Session,
) -> Result<(), ClientError> {
    let stream =
        TcpStream::connect_timeout(&addr, connect_timeout).map_err(ClientError::Connect)?;
    let _ = stream.set_nodelay(true);
    driver::drive(&stream, session, None).map_err(|e| match e {
        DriveError::Send(e) => ClientError::Send(e),
        DriveError::Receive(e) => ClientError::Receive(e),
    })
}

/// Run `body` on a thread of its own: blocking stdin reads must not hold the loop.
fn spawn_stdin(body: impl FnOnce() + Send + 'static) -> Result<(), ClientError> {
    std::thread::Builder::new()
        .name("portline-stdin".into())
        .spawn(body)
        .map(drop)
        .map_err(ClientError::Connect)
}

/// `connect` over TCP: stdin lines to the peer from a thread, the peer's bytes to stdout here.
/// At stdin EOF the sending side is shut down (half-close); returns when the peer closes.
pub fn connect_tcp(addr: SocketAddr, crlf: bool) -> Result<(), ClientError> {
    let stream =
        TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(ClientError::Connect)?;
    let writer = stream.try_clone().map_err(ClientError::Connect)?;
    spawn_stdin(move || {
        let mut encoder = LineEncoder::new(Framing::Stream, crlf);
        let _ = connect::pump(io::stdin().lock(), &mut encoder, |bytes| {
            (&writer).write_all(bytes)
        });
        // Half-close: the peer sees our end of stream and may still answer.
        let _ = writer.shutdown(std::net::Shutdown::Write);
    })?;
    let mut stdout = io::stdout();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match (&stream).read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                if !connect::print(&mut stdout, &buf[..n]) {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ClientError::Receive(e)),
        }
    }
}

/// `connect --udp`: each stdin line is one datagram; every datagram received goes to stdout.
/// Returns [`UDP_LINGER`] after stdin ends and no more replies come.
///
/// [`UDP_LINGER`]: portline_common::apps::connect::UDP_LINGER
pub fn connect_udp(addr: SocketAddr, crlf: bool) -> Result<(), ClientError> {
    let socket = UdpSocket::bind(connect::unspecified_for(addr)).map_err(ClientError::Connect)?;
    socket.connect(addr).map_err(ClientError::Connect)?;
    let sender = socket.try_clone().map_err(ClientError::Connect)?;
    let stdin_done = Arc::new(AtomicBool::new(false));
    let done = stdin_done.clone();
    spawn_stdin(move || {
        let mut encoder = LineEncoder::new(Framing::Datagrams, crlf);
        let _ = connect::pump(io::stdin().lock(), &mut encoder, |datagram| {
            sender.send(datagram).map(drop)
        });
        done.store(true, Ordering::SeqCst);
    })?;
    // Wake up now and then to notice stdin's end.
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(ClientError::Receive)?;
    let mut stdout = io::stdout();
    let mut buf = vec![0u8; DATAGRAM_BUFFER];
    let mut linger = UdpLinger::new();
    loop {
        match socket.recv(&mut buf) {
            Ok(n) => {
                linger.received(Instant::now());
                if !connect::print(&mut stdout, &buf[..n]) {
                    return Ok(());
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(ClientError::Receive(e)),
        }
        let now = Instant::now();
        if stdin_done.load(Ordering::SeqCst) {
            linger.start(now);
        }
        if linger.is_over(now) {
            return Ok(());
        }
    }
}
