//! Clients on a mio loop: `run_client` drives one session (the `get` printer) over one
//! connection; `connect` is the interactive line client, with stdin read by a helper thread that
//! hands encoded pieces over a channel and wakes the loop (stdin cannot be registered portably).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::{TcpStream, UdpSocket};
use mio::{Events, Interest, Poll, Token, Waker};
use portline_common::apps::connect::{
    self, CONNECT_TIMEOUT, DATAGRAM_BUFFER, Framing, LineEncoder, UdpLinger,
};
use portline_common::{ClientError, Session, TRANSMIT_BUDGET};

use crate::conn::{Conn, Drive, Stage};
use crate::pool::BufPool;

const SOCKET: Token = Token(0);
const STDIN: Token = Token(1);

/// Pieces read ahead of the socket; the stdin thread blocks beyond it.
const STDIN_QUEUE: usize = 64;

/// Poll, retrying on EINTR.
fn poll(poll: &mut Poll, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
    loop {
        match poll.poll(events, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Connect without blocking and wait for the outcome until `timeout`.
fn connect_tcp(poll_: &mut Poll, addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr)?;
    poll_
        .registry()
        .register(&mut stream, SOCKET, Interest::READABLE | Interest::WRITABLE)?;
    let deadline = Instant::now() + timeout;
    let mut events = Events::with_capacity(4);
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no answer from {addr} within {timeout:?}"),
            ));
        }
        poll(poll_, &mut events, Some(deadline - now))?;
        if events.is_empty() {
            continue;
        }
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
        match stream.peer_addr() {
            Ok(_) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            // Still connecting: that event was spurious.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
            Err(e) => return Err(e),
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
    let stream = connect_tcp(&mut poll_, addr, connect_timeout).map_err(ClientError::Connect)?;
    let mut conn = Conn::new(stream, Instant::now());
    let mut scratch = vec![0; TRANSMIT_BUDGET];
    let mut pool = BufPool::default();
    let mut events = Events::with_capacity(4);
    loop {
        let now = Instant::now();
        let timeout = match conn.drive(session, now, &mut scratch, &mut pool) {
            Drive::Done | Drive::Closed => return Ok(()),
            Drive::Failed(Stage::Read, e) => return Err(ClientError::Receive(e)),
            Drive::Failed(Stage::Write, e) => return Err(ClientError::Send(e)),
            Drive::Yield => Some(Duration::ZERO),
            Drive::Open => session
                .poll_timeout()
                .map(|t| t.saturating_duration_since(now)),
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

/// Stdin as the loop sees it: encoded pieces (a datagram each for UDP) from the thread that
/// reads it, each followed by a wake-up of the loop; the channel disconnects at stdin's end.
struct Stdin {
    pieces: Receiver<Vec<u8>>,
    /// The loop's handle on the waker. Without it the thread's handle would be the last, and
    /// closing it at stdin's end would take the pending wake-up out of epoll with the eventfd:
    /// the loop would sleep on without learning that stdin had ended (the greeting printed,
    /// nothing sent, no half-close).
    _waker: Arc<Waker>,
}

impl Stdin {
    /// Move pieces behind the unwritten tail of `out` (from `written`) while that tail is under
    /// one budget, first dropping what is written: `out` stays within a budget and a piece
    /// however slowly the peer reads. Returns whether stdin has ended.
    fn take(&self, out: &mut Vec<u8>, written: &mut usize) -> bool {
        out.drain(..*written);
        *written = 0;
        while out.len() < TRANSMIT_BUDGET {
            match self.pieces.try_recv() {
                Ok(piece) => out.extend_from_slice(&piece),
                Err(TryRecvError::Empty) => return false,
                Err(TryRecvError::Disconnected) => return true,
            }
        }
        false
    }
}

/// Read `input` on a helper thread, encoded by `encoder`, waking `poll` for each piece and at
/// the end.
fn spawn_stdin(
    input: impl Read + Send + 'static,
    mut encoder: LineEncoder,
    poll_: &Poll,
) -> io::Result<(Stdin, JoinHandle<()>)> {
    let waker = Arc::new(Waker::new(poll_.registry(), STDIN)?);
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(STDIN_QUEUE);
    let thread_waker = waker.clone();
    let thread = std::thread::Builder::new()
        .name("portline-stdin".into())
        .spawn(move || {
            let _ = connect::pump(input, &mut encoder, |piece| {
                tx.send(piece.to_vec())
                    .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
                thread_waker.wake()
            });
            drop(tx);
            let _ = thread_waker.wake();
        })?;
    let stdin = Stdin {
        pieces: rx,
        _waker: waker,
    };
    Ok((stdin, thread))
}

/// Interactive line client: stdin lines to the peer, the peer's bytes to stdout.
pub(crate) fn interactive(addr: SocketAddr, udp: bool, crlf: bool) -> Result<(), ClientError> {
    let mut poll_ = Poll::new().map_err(ClientError::Connect)?;
    if udp {
        let mut socket =
            UdpSocket::bind(connect::unspecified_for(addr)).map_err(ClientError::Connect)?;
        socket.connect(addr).map_err(ClientError::Connect)?;
        poll_
            .registry()
            .register(&mut socket, SOCKET, Interest::READABLE | Interest::WRITABLE)
            .map_err(ClientError::Connect)?;
        let encoder = LineEncoder::new(Framing::Datagrams, crlf);
        let (stdin, _) = spawn_stdin(io::stdin(), encoder, &poll_).map_err(ClientError::Send)?;
        interactive_udp(&mut poll_, &socket, &stdin)
    } else {
        let stream =
            connect_tcp(&mut poll_, addr, CONNECT_TIMEOUT).map_err(ClientError::Connect)?;
        let encoder = LineEncoder::new(Framing::Stream, crlf);
        let (stdin, _) = spawn_stdin(io::stdin(), encoder, &poll_).map_err(ClientError::Send)?;
        interactive_tcp(&mut poll_, stream, &stdin)
    }
}

fn interactive_tcp(
    poll_: &mut Poll,
    mut stream: TcpStream,
    stdin: &Stdin,
) -> Result<(), ClientError> {
    let mut events = Events::with_capacity(8);
    let mut out: Vec<u8> = Vec::new();
    let mut written = 0;
    let mut stdin_done = false;
    let mut write_closed = false;
    let mut buf = vec![0; TRANSMIT_BUDGET];
    let mut stdout = io::stdout();
    loop {
        // stdin → out (only while little is pending, so a stalled peer stalls stdin too).
        if !stdin_done {
            stdin_done = stdin.take(&mut out, &mut written);
        }
        // out → peer.
        while written < out.len() {
            match stream.write(&out[written..]) {
                Ok(0) => return Err(ClientError::Send(io::ErrorKind::WriteZero.into())),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ClientError::Send(e)),
            }
        }
        if stdin_done && written == out.len() && !write_closed {
            // Half-close: the peer sees our end of stream and answers what it has.
            stream
                .shutdown(Shutdown::Write)
                .map_err(ClientError::Send)?;
            write_closed = true;
        }
        // peer → stdout, until WouldBlock; its end of stream ends the session.
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    if !connect::print(&mut stdout, &buf[..n]) {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ClientError::Receive(e)),
            }
        }
        poll(poll_, &mut events, None).map_err(ClientError::Receive)?;
    }
}

fn interactive_udp(poll_: &mut Poll, socket: &UdpSocket, stdin: &Stdin) -> Result<(), ClientError> {
    let mut events = Events::with_capacity(8);
    let mut pending: Option<Vec<u8>> = None;
    let mut stdin_done = false;
    let mut linger = UdpLinger::new();
    let mut buf = vec![0; DATAGRAM_BUFFER];
    let mut stdout = io::stdout();
    loop {
        // stdin → one datagram per line.
        loop {
            if pending.is_none() && !stdin_done {
                match stdin.pieces.try_recv() {
                    Ok(datagram) => pending = Some(datagram),
                    Err(TryRecvError::Empty) => {}
                    Err(TryRecvError::Disconnected) => stdin_done = true,
                }
            }
            let Some(datagram) = &pending else { break };
            match socket.send(datagram) {
                Ok(_) => pending = None,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ClientError::Send(e)),
            }
        }
        // replies → stdout.
        loop {
            match socket.recv(&mut buf) {
                Ok(n) => {
                    if !connect::print(&mut stdout, &buf[..n]) {
                        return Ok(());
                    }
                    linger.received(Instant::now());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ClientError::Receive(e)),
            }
        }
        let now = Instant::now();
        if stdin_done && pending.is_none() {
            // No end of stream in UDP: wait a little for replies to what was sent, then stop.
            linger.start(now);
        }
        if linger.is_over(now) {
            return Ok(());
        }
        let timeout = linger.deadline().map(|t| t.saturating_duration_since(now));
        poll(poll_, &mut events, timeout).map_err(ClientError::Receive)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_end_still_wakes_the_loop_after_the_reader_thread_is_gone() {
        let mut poll_ = Poll::new().unwrap();
        let encoder = LineEncoder::new(Framing::Datagrams, true);
        let (stdin, thread) = spawn_stdin(&b"one\ntwo"[..], encoder, &poll_).unwrap();
        // The thread has sent everything, woken the loop and dropped its handles before the
        // loop polls: the wake-up must still be there.
        thread.join().unwrap();
        let mut events = Events::with_capacity(4);
        poll(&mut poll_, &mut events, Some(Duration::from_secs(5))).unwrap();
        assert!(
            events.iter().any(|e| e.token() == STDIN),
            "the stdin wake-up was lost"
        );
        assert_eq!(stdin.pieces.try_recv().unwrap(), b"one\r\n");
        assert_eq!(stdin.pieces.try_recv().unwrap(), b"two");
        assert_eq!(stdin.pieces.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn a_slow_peer_keeps_the_output_buffer_bounded() {
        // 4 MiB of stdin; the peer takes a little less than was queued at each turn.
        let input: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
        let poll_ = Poll::new().unwrap();
        let encoder = LineEncoder::new(Framing::Stream, false);
        let (stdin, _thread) =
            spawn_stdin(std::io::Cursor::new(input.clone()), encoder, &poll_).unwrap();
        let (mut out, mut written, mut sent) = (Vec::new(), 0, Vec::new());
        let mut most = 0;
        loop {
            let done = stdin.take(&mut out, &mut written);
            most = most.max(out.len());
            let n = (out.len() - written)
                .saturating_sub(1000)
                .max(1)
                .min(out.len() - written);
            sent.extend_from_slice(&out[written..written + n]);
            written += n;
            if done && written == out.len() {
                break;
            }
        }
        assert!(sent == input, "every byte once, in order");
        assert!(
            most <= TRANSMIT_BUDGET + connect::MAX_PIECE,
            "out grew to {most} bytes"
        );
    }
}
