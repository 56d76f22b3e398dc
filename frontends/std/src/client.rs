//! Clients: a session over one connection (`get`), and the interactive `connect`.

use std::io::{self, BufRead, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use portline_common::{ClientError, Session};

use crate::driver::{self, DriveError};

/// How long `connect` may take to establish a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// After stdin ends, how long `connect --udp` waits for more replies before it exits.
pub const UDP_LINGER: Duration = Duration::from_secs(1);

/// Connect to `addr` and drive `session` until it is done.
pub fn run_client(
    addr: SocketAddr,
    connect_timeout: Duration,
    session: &mut dyn Session,
) -> Result<(), ClientError> {
    let stream =
        TcpStream::connect_timeout(&addr, connect_timeout).map_err(ClientError::Connect)?;
    let _ = stream.set_nodelay(true);
    driver::drive(&stream, session).map_err(|e| match e {
        DriveError::Send(e) => ClientError::Send(e),
        DriveError::Receive(e) => ClientError::Receive(e),
    })
}

/// One stdin line as it goes to the peer: with `crlf`, a final LF (or CRLF) becomes CRLF.
pub fn line_to_send(line: &mut Vec<u8>, crlf: bool) {
    if crlf && line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        line.extend_from_slice(b"\r\n");
    }
}

/// Send stdin line by line with `send` until stdin ends or `send` fails.
fn pump_stdin(crlf: bool, mut send: impl FnMut(&[u8]) -> io::Result<()>) {
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                line_to_send(&mut line, crlf);
                if send(&line).is_err() {
                    return;
                }
            }
        }
    }
}

/// `connect` over TCP: stdin lines to the peer from a thread, the peer's bytes to stdout here.
/// At stdin EOF the sending side is shut down (half-close); returns when the peer closes.
pub fn connect_tcp(addr: SocketAddr, crlf: bool) -> Result<(), ClientError> {
    let stream =
        TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(ClientError::Connect)?;
    let writer = stream.try_clone().map_err(ClientError::Connect)?;
    std::thread::Builder::new()
        .name("portline-stdin".into())
        .spawn(move || {
            pump_stdin(crlf, |line| (&writer).write_all(line));
            let _ = writer.shutdown(std::net::Shutdown::Write);
        })
        .map_err(ClientError::Connect)?;
    let mut stdout = io::stdout();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match (&stream).read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                // stdout gone (e.g. a closed pipe): nothing more to do.
                if stdout
                    .write_all(&buf[..n])
                    .and_then(|()| stdout.flush())
                    .is_err()
                {
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
pub fn connect_udp(addr: SocketAddr, crlf: bool) -> Result<(), ClientError> {
    let any: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(any).map_err(ClientError::Connect)?;
    socket.connect(addr).map_err(ClientError::Connect)?;
    let sender = socket.try_clone().map_err(ClientError::Connect)?;
    let stdin_done = Arc::new(AtomicBool::new(false));
    let done = stdin_done.clone();
    std::thread::Builder::new()
        .name("portline-stdin".into())
        .spawn(move || {
            pump_stdin(crlf, |line| sender.send(line).map(|_| ()));
            done.store(true, Ordering::SeqCst);
        })
        .map_err(ClientError::Connect)?;
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(ClientError::Receive)?;
    let mut stdout = io::stdout();
    let mut buf = vec![0u8; 64 * 1024];
    let mut quiet_since: Option<Instant> = None;
    loop {
        match socket.recv(&mut buf) {
            Ok(n) => {
                quiet_since = None;
                if stdout
                    .write_all(&buf[..n])
                    .and_then(|()| stdout.flush())
                    .is_err()
                {
                    return Ok(());
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                if stdin_done.load(Ordering::SeqCst) {
                    let since = *quiet_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= UDP_LINGER {
                        return Ok(());
                    }
                }
            }
            Err(e) => return Err(ClientError::Receive(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_rewrites_only_a_final_newline() {
        let cases: &[(&[u8], bool, &[u8])] = &[
            (b"hello\n", true, b"hello\r\n"),
            (b"hello\r\n", true, b"hello\r\n"),
            (b"hello", true, b"hello"),
            (b"hello\n", false, b"hello\n"),
            (b"\n", true, b"\r\n"),
        ];
        for (input, crlf, want) in cases {
            let mut line = input.to_vec();
            line_to_send(&mut line, *crlf);
            assert_eq!(&line[..], *want, "{input:?}");
        }
    }
}
