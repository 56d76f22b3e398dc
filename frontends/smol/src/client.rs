//! The clients: a session over one connection (`get`), and the interactive `connect`.

use std::io;
use std::net::{Shutdown as Direction, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use portline_common::apps::connect::{
    self, CONNECT_TIMEOUT, DATAGRAM_BUFFER, Framing, LineEncoder, STDIN_CHUNK, UdpLinger,
};
use portline_common::{ClientError, Session};
use smol::future::{self, FutureExt as _};
use smol::io::{AsyncReadExt as _, AsyncWriteExt as _};
use smol::{Async, Timer, Unblock};

use crate::conn::{self, Failure};

/// Bytes read from the peer at once.
const CHUNK: usize = 16 * 1024;

/// Drive `session` over a new connection to `addr`; see [`Runtime::run_client`].
///
/// [`Runtime::run_client`]: portline_common::Runtime::run_client
pub(crate) fn run_client(
    addr: SocketAddr,
    connect_timeout: Duration,
    session: &mut dyn Session,
) -> Result<(), ClientError> {
    smol::block_on(async {
        let stream = connect_tcp(addr, connect_timeout)
            .await
            .map_err(ClientError::Connect)?;
        let _ = stream.get_ref().set_nodelay(true);
        match conn::drive(&stream, session, None, None).await {
            Ok(_) => Ok(()),
            Err(Failure::Read(e)) => Err(ClientError::Receive(e)),
            Err(Failure::Write(e)) => Err(ClientError::Send(e)),
        }
    })
}

/// Interactive line client; see [`Runtime::connect`].
///
/// [`Runtime::connect`]: portline_common::Runtime::connect
pub(crate) fn connect(addr: SocketAddr, udp: bool, crlf: bool) -> Result<(), ClientError> {
    smol::block_on(async {
        if udp {
            connect_udp(addr, crlf).await
        } else {
            let stream = connect_tcp(addr, CONNECT_TIMEOUT)
                .await
                .map_err(ClientError::Connect)?;
            interact_tcp(stream, crlf).await
        }
    })
}

async fn connect_tcp(addr: SocketAddr, timeout: Duration) -> io::Result<Async<TcpStream>> {
    Async::<TcpStream>::connect(addr)
        .or(async {
            Timer::after(timeout).await;
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no answer from {addr} within {timeout:?}"),
            ))
        })
        .await
}

/// Two directions at once, each with one task-local owner: stdin to the socket (its only
/// writer), the socket to stdout (its only reader). Ends when the peer closes.
async fn interact_tcp(stream: Async<TcpStream>, crlf: bool) -> Result<(), ClientError> {
    let to_peer = async {
        let encoder = LineEncoder::new(Framing::Stream, crlf);
        send_stdin(encoder, async |bytes: &[u8]| {
            (&stream).write_all(bytes).await
        })
        .await?;
        // Half-close: the peer sees our end-of-stream and may still answer.
        stream
            .get_ref()
            .shutdown(Direction::Write)
            .map_err(ClientError::Send)?;
        // Keep waiting: the session ends when the peer closes.
        future::pending::<Result<(), ClientError>>().await
    };
    let from_peer = async {
        let mut stdout = Unblock::new(io::stdout());
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = (&stream)
                .read(&mut buf)
                .await
                .map_err(ClientError::Receive)?;
            if n == 0 {
                return Ok(());
            }
            if print(&mut stdout, &buf[..n]).await.is_err() {
                // stdout is gone (a closed pipe): nobody reads what the peer says any more.
                return Ok(());
            }
        }
    };
    from_peer.or(to_peer).await
}

/// UDP: each stdin line (or up to [`MAX_PIECE`] bytes of one) is a datagram; every datagram
/// that comes back is printed. After stdin's end, replies are printed until none came for
/// [`UDP_LINGER`].
///
/// [`MAX_PIECE`]: connect::MAX_PIECE
/// [`UDP_LINGER`]: connect::UDP_LINGER
async fn connect_udp(addr: SocketAddr, crlf: bool) -> Result<(), ClientError> {
    let socket =
        Async::<UdpSocket>::bind(connect::unspecified_for(addr)).map_err(ClientError::Connect)?;
    socket
        .get_ref()
        .connect(addr)
        .map_err(ClientError::Connect)?;

    let encoder = LineEncoder::new(Framing::Datagrams, crlf);
    let to_peer = send_stdin(encoder, async |datagram: &[u8]| {
        socket.send(datagram).await.map(drop)
    });
    let mut stdout = Unblock::new(io::stdout());
    let mut buf = vec![0u8; DATAGRAM_BUFFER];

    // While stdin lasts: send its lines and print replies.
    let printing = async {
        loop {
            print_datagram(&socket, &mut buf, &mut stdout).await?;
        }
    };
    to_peer.or(printing).await?;
    // Then print replies until the peer has been quiet for a while.
    let mut linger = UdpLinger::new();
    linger.start(Instant::now());
    while let Some(deadline) = linger.deadline() {
        let more = async {
            print_datagram(&socket, &mut buf, &mut stdout)
                .await
                .map(|()| true)
        }
        .or(async {
            Timer::at(deadline).await;
            Ok(false)
        })
        .await?;
        let now = Instant::now();
        if more {
            linger.received(now);
        } else if linger.is_over(now) {
            return Ok(());
        }
    }
    Ok(())
}

/// Read stdin to its end and `send` every piece `encoder` makes of it: the async twin of
/// [`connect::pump`].
async fn send_stdin(
    mut encoder: LineEncoder,
    mut send: impl AsyncFnMut(&[u8]) -> io::Result<()>,
) -> Result<(), ClientError> {
    let mut stdin = Unblock::new(io::stdin());
    let mut buf = vec![0u8; STDIN_CHUNK];
    loop {
        let n = stdin.read(&mut buf).await.map_err(ClientError::Send)?;
        if n == 0 {
            break;
        }
        let mut chunk = &buf[..n];
        while let Some(piece) = encoder.encode(&mut chunk) {
            send(piece).await.map_err(ClientError::Send)?;
        }
    }
    if let Some(piece) = encoder.finish() {
        send(piece).await.map_err(ClientError::Send)?;
    }
    Ok(())
}

/// Receive one datagram and print it. A closed stdout only loses what would have been printed.
async fn print_datagram(
    socket: &Async<UdpSocket>,
    buf: &mut [u8],
    stdout: &mut Unblock<io::Stdout>,
) -> Result<(), ClientError> {
    let n = socket.recv(buf).await.map_err(ClientError::Receive)?;
    let _ = print(stdout, &buf[..n]).await;
    Ok(())
}

async fn print(stdout: &mut Unblock<io::Stdout>, bytes: &[u8]) -> io::Result<()> {
    stdout.write_all(bytes).await?;
    stdout.flush().await
}
