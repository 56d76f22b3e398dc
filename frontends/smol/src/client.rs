//! The clients: a session over one connection (`get`), and the interactive `connect`.

use std::io;
use std::net::{Shutdown as Direction, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use portline_common::{ClientError, Session};
use smol::future::{self, FutureExt as _};
use smol::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
use smol::{Async, Timer, Unblock};

use crate::conn::{self, Failure};

/// How long `connect` waits for the TCP handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// After stdin's end, how long `connect --udp` keeps printing replies once none arrives.
const UDP_QUIET: Duration = Duration::from_secs(1);

/// Bytes read from stdin or the peer at once. A UDP datagram is at most this many bytes of one
/// stdin line (longer lines are split).
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
        match conn::drive(&stream, session, None).await {
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
        let mut stdin = Unblock::new(io::stdin());
        let mut buf = vec![0u8; CHUNK];
        let mut lines = LineEnds::new(crlf);
        loop {
            let n = stdin.read(&mut buf).await.map_err(ClientError::Send)?;
            if n == 0 {
                break;
            }
            (&stream)
                .write_all(lines.convert(&buf[..n]))
                .await
                .map_err(ClientError::Send)?;
        }
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

/// UDP: each stdin line (or up to [`CHUNK`] bytes of one) is a datagram; every datagram that
/// comes back is printed. After stdin's end, replies are printed until none came for
/// [`UDP_QUIET`].
async fn connect_udp(addr: SocketAddr, crlf: bool) -> Result<(), ClientError> {
    let local: SocketAddr = if addr.is_ipv6() {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let socket = Async::<UdpSocket>::bind(local).map_err(ClientError::Connect)?;
    socket
        .get_ref()
        .connect(addr)
        .map_err(ClientError::Connect)?;

    let to_peer = async {
        let mut stdin = smol::io::BufReader::new(Unblock::new(io::stdin()));
        let mut lines = LineEnds::new(crlf);
        let mut line = Vec::with_capacity(CHUNK);
        loop {
            line.clear();
            let n = (&mut stdin)
                .take(CHUNK as u64)
                .read_until(b'\n', &mut line)
                .await
                .map_err(ClientError::Send)?;
            if n == 0 {
                return Ok::<(), ClientError>(());
            }
            socket
                .send(lines.convert(&line))
                .await
                .map_err(ClientError::Send)?;
        }
    };
    let mut stdout = Unblock::new(io::stdout());
    let mut buf = vec![0u8; 65_536];

    // While stdin lasts: send its lines and print replies.
    let printing = async {
        loop {
            print_datagram(&socket, &mut buf, &mut stdout).await?;
        }
    };
    to_peer.or(printing).await?;
    // Then print replies until the peer has been quiet for a while.
    loop {
        let more = async {
            print_datagram(&socket, &mut buf, &mut stdout)
                .await
                .map(|()| true)
        }
        .or(async {
            Timer::after(UDP_QUIET).await;
            Ok(false)
        })
        .await?;
        if !more {
            return Ok(());
        }
    }
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

/// `--crlf`: a bare `\n` from stdin is sent as `\r\n`, in bounded chunks (a `\r\n` split
/// across two reads stays one line end).
struct LineEnds {
    crlf: bool,
    last: u8,
    buf: Vec<u8>,
}

impl LineEnds {
    fn new(crlf: bool) -> Self {
        LineEnds {
            crlf,
            last: 0,
            buf: Vec::new(),
        }
    }

    fn convert<'a>(&'a mut self, chunk: &'a [u8]) -> &'a [u8] {
        if !self.crlf {
            return chunk;
        }
        self.buf.clear();
        for &b in chunk {
            if b == b'\n' && self.last != b'\r' {
                self.buf.push(b'\r');
            }
            self.buf.push(b);
            self.last = b;
        }
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::LineEnds;

    #[test]
    fn crlf_adds_cr_to_bare_line_feeds_only() {
        let mut ends = LineEnds::new(true);
        assert_eq!(ends.convert(b"a\nb\r\nc"), b"a\r\nb\r\nc");
        // A CR at the end of one chunk and its LF at the start of the next: one line end.
        assert_eq!(ends.convert(b"d\r"), b"d\r");
        assert_eq!(ends.convert(b"\ne\n"), b"\ne\r\n");
        let mut plain = LineEnds::new(false);
        assert_eq!(plain.convert(b"a\nb"), b"a\nb");
    }
}
