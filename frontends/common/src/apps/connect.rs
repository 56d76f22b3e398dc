//! The interactive `connect HOST:PORT [--udp] [--crlf]` client, written once for every runtime
//! ([`run`]): stdin, read on a thread of its own ([`spawn_stdin`]), turned into the bytes to
//! send ([`LineEncoder`]); the peer's bytes printed as they come ([`print()`]); at stdin's end a
//! half-close (TCP) or a wait for the last replies (UDP, [`UdpLinger`]).
//!
//! It runs on blocking `std::net` sockets in every binary, as `bench` does by default: stdin
//! cannot be waited on portably, so each runtime needed a thread for it anyway, and with a
//! thread per direction the runtime had nothing left to add (the three copies it replaces were
//! 85 lines on threads, 250 on a mio loop with a waker and 150 on smol). `connect --tls` is
//! a [`Session`](crate::Session) on the runtime's own loop instead ([`crate::apps::tls::connect`]).
//!
//! ```
//! use portline_common::apps::connect::{Framing, LineEncoder};
//!
//! // `connect --udp --crlf`: one datagram per line, each ending in CRLF, whatever the reads.
//! let mut encoder = LineEncoder::new(Framing::Datagrams, true);
//! let mut datagrams = Vec::new();
//! for chunk in [&b"ECHO hi\nQU"[..], b"IT\r", b"\nlast"] {
//!     let mut input = chunk;
//!     while let Some(datagram) = encoder.encode(&mut input) {
//!         datagrams.push(datagram.to_vec());
//!     }
//! }
//! if let Some(datagram) = encoder.finish() {
//!     datagrams.push(datagram.to_vec()); // stdin ended without a final line end
//! }
//! assert_eq!(datagrams, [&b"ECHO hi\r\n"[..], b"QUIT\r\n", b"last"]);
//! ```

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::driver::dial;
use crate::driver::policy::DATAGRAM_BUFFER;
use crate::driver::policy::read_came_back_empty;
use crate::driver::runtime::ClientError;

/// How long `connect` waits for a TCP connection to be established.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// After stdin's end (and everything sent), how long `connect --udp` keeps printing replies
/// once none arrives. UDP has no end of stream that would say the peer is done.
pub const UDP_LINGER: Duration = Duration::from_secs(1);

/// Most bytes the encoder holds, and so the largest piece it hands out: one datagram carries at
/// most this much of a line (a longer line is split). Well under the 65,507-byte UDP limit.
pub const MAX_PIECE: usize = 16 * 1024;

/// Bytes read from stdin at once.
pub const STDIN_CHUNK: usize = 16 * 1024;

/// Bytes read from the peer at once over TCP.
pub const READ_CHUNK: usize = 16 * 1024;

/// How often `connect --udp` looks whether stdin has ended while no reply comes (a blocking
/// `recv` cannot be woken by the stdin thread).
pub const STDIN_CHECK: Duration = Duration::from_millis(100);

/// Run the client to its end: `Ok` when the peer closed (TCP), when the replies stopped after
/// stdin's end (UDP), or when stdout is gone; otherwise the stage that failed. Over TCP, what
/// ends the client is the peer's end of stream, never stdin's: after stdin's end it half-closes
/// and still prints what the peer sends. A failed send only ends the reading of stdin (the
/// peer has gone; its end of stream or reset is what the client reports).
pub fn run(addr: SocketAddr, udp: bool, crlf: bool) -> Result<(), ClientError> {
    if udp {
        run_udp(addr, crlf)
    } else {
        run_tcp(addr, crlf)
    }
}

fn run_tcp(addr: SocketAddr, crlf: bool) -> Result<(), ClientError> {
    let stream = dial::tcp(addr, CONNECT_TIMEOUT).map_err(ClientError::Connect)?;
    let writer = Arc::new(stream.try_clone().map_err(ClientError::Connect)?);
    let closer = writer.clone();
    spawn_stdin(
        Framing::Stream,
        crlf,
        move |piece| (&*writer).write_all(piece),
        // Half-close: the peer sees our end of stream and may still answer.
        move || drop(closer.shutdown(Shutdown::Write)),
    )
    .map_err(ClientError::Connect)?;
    let mut stdout = io::stdout();
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match (&stream).read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                if !print(&mut stdout, &buf[..n]) {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ClientError::Receive(e)),
        }
    }
}

fn run_udp(addr: SocketAddr, crlf: bool) -> Result<(), ClientError> {
    let socket = UdpSocket::bind(unspecified_for(addr)).map_err(ClientError::Connect)?;
    socket.connect(addr).map_err(ClientError::Connect)?;
    let sender = socket.try_clone().map_err(ClientError::Connect)?;
    let stdin_done = Arc::new(AtomicBool::new(false));
    let done = stdin_done.clone();
    spawn_stdin(
        Framing::Datagrams,
        crlf,
        move |datagram| sender.send(datagram).map(drop),
        move || done.store(true, Ordering::SeqCst),
    )
    .map_err(ClientError::Connect)?;
    let mut stdout = io::stdout();
    let mut buf = vec![0u8; DATAGRAM_BUFFER];
    let mut linger = UdpLinger::new();
    loop {
        let now = Instant::now();
        if stdin_done.load(Ordering::SeqCst) {
            linger.start(now);
        }
        if linger.is_over(now) {
            return Ok(());
        }
        let until_over = linger.deadline().map(|t| t.saturating_duration_since(now));
        let wait = until_over.map_or(STDIN_CHECK, |t| t.min(STDIN_CHECK));
        // Not zero: std refuses it; `is_over` above ends the loop a millisecond later.
        let wait = wait.max(Duration::from_millis(1));
        socket
            .set_read_timeout(Some(wait))
            .map_err(ClientError::Receive)?;
        match socket.recv(&mut buf) {
            Ok(n) => {
                linger.received(Instant::now());
                if !print(&mut stdout, &buf[..n]) {
                    return Ok(());
                }
            }
            Err(e) if read_came_back_empty(&e) => {}
            Err(e) => return Err(ClientError::Receive(e)),
        }
    }
}

/// Read stdin on a thread of its own (a blocking read must hold up nothing else), encode it
/// for `framing` and hand every piece to `send`; call `at_end` once stdin has ended or a send
/// failed. Every `connect` (plain, `--udp`, `--tls`) reads its stdin this way.
pub fn spawn_stdin(
    framing: Framing,
    crlf: bool,
    send: impl FnMut(&[u8]) -> io::Result<()> + Send + 'static,
    at_end: impl FnOnce() + Send + 'static,
) -> io::Result<()> {
    std::thread::Builder::new()
        .name("portline-stdin".into())
        .spawn(move || {
            let mut encoder = LineEncoder::new(framing, crlf);
            let _ = pump(io::stdin().lock(), &mut encoder, send);
            at_end();
        })
        .map(drop)
}

/// The wildcard address of `peer`'s family with port 0: where a UDP client socket binds.
pub fn unspecified_for(peer: SocketAddr) -> SocketAddr {
    match peer {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    }
}

/// How the encoded stdin goes to the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// TCP: a byte stream. Pieces are whatever is ready (no waiting for a line end); only their
    /// concatenation means anything.
    Stream,
    /// UDP: one datagram per line, its line end included; a line longer than [`MAX_PIECE`] goes
    /// as several datagrams.
    Datagrams,
}

/// Turns stdin, read in chunks of any size, into the pieces to send: with `crlf`, every line
/// feed not already preceded by a carriage return becomes CRLF (a bare CR stays as it is, and a
/// CR at the end of one chunk still pairs with an LF at the start of the next).
///
/// The output does not depend on how stdin was split into reads: the same bytes for
/// [`Framing::Stream`], the same datagrams for [`Framing::Datagrams`]. The encoder holds at
/// most [`MAX_PIECE`] bytes (or the limit given to [`LineEncoder::with_limit`]) whatever the
/// input.
#[derive(Debug, Clone)]
pub struct LineEncoder {
    framing: Framing,
    crlf: bool,
    limit: usize,
    /// The piece being built, or the one last handed out (`handed_out`).
    piece: Vec<u8>,
    /// `piece` was returned to the caller: clear it before building the next one.
    handed_out: bool,
    /// The last input byte was a CR (across chunks and pieces).
    after_cr: bool,
}

impl LineEncoder {
    /// An encoder that hands out pieces of at most [`MAX_PIECE`] bytes.
    pub fn new(framing: Framing, crlf: bool) -> Self {
        Self::with_limit(framing, crlf, MAX_PIECE)
    }

    /// An encoder that hands out pieces of at most `limit` bytes (at least 2, so that a CRLF
    /// always fits).
    pub fn with_limit(framing: Framing, crlf: bool, limit: usize) -> Self {
        LineEncoder {
            framing,
            crlf,
            limit: limit.max(2),
            piece: Vec::new(),
            handed_out: false,
            after_cr: false,
        }
    }

    /// Take bytes from the front of `input` until a piece is complete and return it (advancing
    /// `input` past what it used); `None` once `input` is used up and no piece is complete (the
    /// bytes of an unfinished line are kept). Call it until `None` for each chunk read.
    ///
    /// A piece is complete at a line end ([`Framing::Datagrams`]), when the next byte would
    /// not fit, or, for [`Framing::Stream`], when `input` runs out.
    pub fn encode(&mut self, input: &mut &[u8]) -> Option<&[u8]> {
        if self.handed_out {
            self.piece.clear();
            self.handed_out = false;
        }
        while let Some((&byte, rest)) = input.split_first() {
            let add_cr = self.crlf && byte == b'\n' && !self.after_cr;
            if self.piece.len() + 1 + usize::from(add_cr) > self.limit {
                // Full (and not empty: the limit fits a CRLF); `byte` starts the next piece.
                return self.hand_out();
            }
            if add_cr {
                self.piece.push(b'\r');
            }
            self.piece.push(byte);
            self.after_cr = byte == b'\r';
            *input = rest;
            if byte == b'\n' && self.framing == Framing::Datagrams {
                return self.hand_out();
            }
        }
        if self.framing == Framing::Stream && !self.piece.is_empty() {
            return self.hand_out();
        }
        None
    }

    /// Stdin ended: the last, unfinished line if any bytes of it are held.
    pub fn finish(&mut self) -> Option<&[u8]> {
        if self.handed_out {
            self.piece.clear();
            self.handed_out = false;
        }
        if self.piece.is_empty() {
            None
        } else {
            self.hand_out()
        }
    }

    fn hand_out(&mut self) -> Option<&[u8]> {
        self.handed_out = true;
        Some(&self.piece)
    }
}

/// Read `input` (stdin, on a thread of its own) to its end and hand `send` every piece the
/// encoder makes of it, the unfinished last line included. Returns at the end of input, or with
/// the first error from reading or from `send`.
pub fn pump(
    mut input: impl Read,
    encoder: &mut LineEncoder,
    mut send: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut buf = vec![0; STDIN_CHUNK];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut chunk = &buf[..n];
        while let Some(piece) = encoder.encode(&mut chunk) {
            send(piece)?;
        }
    }
    match encoder.finish() {
        Some(piece) => send(piece),
        None => Ok(()),
    }
}

/// Write what the peer sent to `stdout` at once (write, then flush: someone at a terminal is
/// waiting for it). `false` once stdout is gone (a closed pipe): nobody reads any more, so the
/// client ends, with success (the peer was not at fault).
pub fn print(stdout: &mut impl Write, bytes: &[u8]) -> bool {
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .is_ok()
}

/// When `connect --udp` may stop: once stdin has ended and everything is sent, replies are
/// printed until none has come for [`UDP_LINGER`]. Time is passed in.
#[derive(Debug, Clone, Default)]
pub struct UdpLinger {
    until: Option<Instant>,
}

impl UdpLinger {
    /// Not lingering yet (stdin still open).
    pub fn new() -> Self {
        Self::default()
    }

    /// Stdin has ended and all of it is sent: start waiting (once; later calls change nothing).
    pub fn start(&mut self, now: Instant) {
        self.until.get_or_insert(now + UDP_LINGER);
    }

    /// A reply arrived: while lingering, wait [`UDP_LINGER`] from now again.
    pub fn received(&mut self, now: Instant) {
        if let Some(until) = &mut self.until {
            *until = now + UDP_LINGER;
        }
    }

    /// When to stop if nothing arrives before; `None` while stdin is open.
    pub fn deadline(&self) -> Option<Instant> {
        self.until
    }

    /// Whether the client is done: lingering, and the deadline has passed.
    pub fn is_over(&self, now: Instant) -> bool {
        self.until.is_some_and(|until| now >= until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The pieces an encoder makes of `chunks`, the `finish` piece last.
    fn pieces(mut encoder: LineEncoder, chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for chunk in chunks {
            let mut input = *chunk;
            while let Some(piece) = encoder.encode(&mut input) {
                out.push(piece.to_vec());
            }
            assert!(input.is_empty(), "None only once the input is used up");
        }
        out.extend(encoder.finish().map(<[u8]>::to_vec));
        assert_eq!(encoder.finish(), None, "finish hands out the rest once");
        out
    }

    /// The specification, byte by byte: with `crlf`, an LF not after a CR gains one.
    fn naive(input: &[u8], crlf: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut previous = None;
        for &b in input {
            if crlf && b == b'\n' && previous != Some(b'\r') {
                out.push(b'\r');
            }
            out.push(b);
            previous = Some(b);
        }
        out
    }

    /// `input` cut at `cuts` (positions, taken modulo the length).
    fn split<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut at: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        at.push(0);
        at.push(input.len());
        at.sort_unstable();
        at.windows(2).map(|w| &input[w[0]..w[1]]).collect()
    }

    #[test]
    fn datagrams_one_per_line_whole_and_byte_at_a_time() {
        /// Input, `--crlf`, the datagrams it makes.
        type Case = (&'static [u8], bool, &'static [&'static [u8]]);
        let cases: &[Case] = &[
            (b"hello\n", true, &[b"hello\r\n"]),
            (b"hello\r\n", true, &[b"hello\r\n"]),
            (b"hello", true, &[b"hello"]),
            (b"hello\n", false, &[b"hello\n"]),
            (b"\n", true, &[b"\r\n"]),
            (b"a\nb\r\nc", true, &[b"a\r\n", b"b\r\n", b"c"]),
            (b"a\nb\r\nc", false, &[b"a\n", b"b\r\n", b"c"]),
            // A bare CR is no line end and stays; so does a CR before CRLF.
            (b"a\rb\n", true, &[b"a\rb\r\n"]),
            (b"a\r\r\n", true, &[b"a\r\r\n"]),
            (b"\r", true, &[b"\r"]),
            (b"\n\n", true, &[b"\r\n", b"\r\n"]),
            (b"", true, &[]),
        ];
        for &(input, crlf, want) in cases {
            let whole = pieces(LineEncoder::new(Framing::Datagrams, crlf), &[input]);
            assert_eq!(whole, want, "{input:?} crlf={crlf}");
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            let trickled = pieces(LineEncoder::new(Framing::Datagrams, crlf), &bytes);
            assert_eq!(trickled, want, "{input:?} crlf={crlf}, byte at a time");
        }
    }

    #[test]
    fn a_cr_ending_one_read_pairs_with_the_lf_starting_the_next() {
        let mut encoder = LineEncoder::new(Framing::Stream, true);
        let mut first = &b"d\r"[..];
        assert_eq!(encoder.encode(&mut first), Some(&b"d\r"[..]));
        let mut second = &b"\ne\n"[..];
        assert_eq!(encoder.encode(&mut second), Some(&b"\ne\r\n"[..]));
        assert_eq!(encoder.encode(&mut second), None);
    }

    #[test]
    fn a_stream_piece_is_everything_ready_without_waiting_for_a_line_end() {
        let mut encoder = LineEncoder::new(Framing::Stream, false);
        let mut input = &b"no line end yet"[..];
        assert_eq!(encoder.encode(&mut input), Some(&b"no line end yet"[..]));
        assert_eq!(encoder.encode(&mut input), None);
        assert_eq!(encoder.finish(), None, "nothing held back");
    }

    #[test]
    fn a_long_line_is_split_and_memory_stays_bounded() {
        let line = vec![b'x'; 100_000];
        for framing in [Framing::Stream, Framing::Datagrams] {
            let mut encoder = LineEncoder::new(framing, true);
            let mut sizes = Vec::new();
            let mut input = &line[..];
            while let Some(piece) = encoder.encode(&mut input) {
                sizes.push(piece.len());
            }
            assert!(encoder.piece.capacity() <= 2 * MAX_PIECE, "{framing:?}");
            sizes.extend(encoder.finish().map(<[u8]>::len));
            let (last, full) = sizes.split_last().unwrap();
            assert!(
                full.iter().all(|&n| n == MAX_PIECE),
                "{framing:?}: {sizes:?}"
            );
            assert_eq!(*last, line.len() % MAX_PIECE, "{framing:?}");
            assert_eq!(sizes.iter().sum::<usize>(), line.len(), "{framing:?}");
        }
    }

    #[test]
    fn a_crlf_that_does_not_fit_starts_the_next_piece() {
        // Limit 4: "abc" + CRLF would be 5 bytes.
        let got = pieces(
            LineEncoder::with_limit(Framing::Datagrams, true, 4),
            &[b"abc\nd\n"],
        );
        assert_eq!(got, [&b"abc"[..], b"\r\n", b"d\r\n"]);
        // A limit below 2 is raised to 2: every piece still makes progress.
        let got = pieces(
            LineEncoder::with_limit(Framing::Stream, true, 0),
            &[b"\n\n"],
        );
        assert_eq!(got, [b"\r\n", b"\r\n"]);
    }

    #[test]
    fn pump_sends_every_piece_and_stops_at_the_first_send_error() {
        let mut sent = Vec::new();
        let mut encoder = LineEncoder::new(Framing::Datagrams, true);
        pump(&b"one\ntwo\r\nthree"[..], &mut encoder, |piece| {
            sent.push(piece.to_vec());
            Ok(())
        })
        .unwrap();
        assert_eq!(sent, [&b"one\r\n"[..], b"two\r\n", b"three"]);

        let mut calls = 0;
        let mut encoder = LineEncoder::new(Framing::Datagrams, false);
        let err = pump(&b"a\nb\nc\n"[..], &mut encoder, |_| {
            calls += 1;
            Err(io::ErrorKind::BrokenPipe.into())
        })
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(calls, 1);
    }

    /// A reader that hands out at most one byte per read, with interruptions.
    struct Trickle<'a>(&'a [u8], bool);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.1 = !self.1;
            if self.1 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = self.0.len().min(buf.len()).min(1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn pump_retries_interrupted_reads_and_joins_trickled_lines() {
        let mut sent = Vec::new();
        let mut encoder = LineEncoder::new(Framing::Datagrams, true);
        pump(Trickle(b"ab\ncd\n", false), &mut encoder, |piece| {
            sent.push(piece.to_vec());
            Ok(())
        })
        .unwrap();
        assert_eq!(sent, [b"ab\r\n", b"cd\r\n"]);
    }

    /// A stdout that takes `room` bytes, then fails; its flush fails when `flush_fails`.
    struct Stdout {
        got: Vec<u8>,
        room: usize,
        flush_fails: bool,
    }

    impl Write for Stdout {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.room - self.got.len());
            if n == 0 {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            if self.flush_fails {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            Ok(())
        }
    }

    #[test]
    fn print_says_whether_stdout_still_takes_output() {
        let stdout = |room, flush_fails| Stdout {
            got: Vec::new(),
            room,
            flush_fails,
        };
        let mut open = stdout(100, false);
        assert!(print(&mut open, b"250 hi\r\n"));
        assert_eq!(open.got, b"250 hi\r\n");
        let mut closing = stdout(3, false);
        assert!(!print(&mut closing, b"250 hi\r\n"), "a short pipe");
        assert!(!print(&mut stdout(100, true), b"x"), "a failed flush");
    }

    #[test]
    fn udp_linger_starts_at_stdin_end_and_each_reply_extends_it() {
        let t0 = Instant::now();
        let mut linger = UdpLinger::new();
        linger.received(t0);
        assert_eq!(linger.deadline(), None, "no lingering while stdin is open");
        assert!(!linger.is_over(t0 + UDP_LINGER * 10));

        linger.start(t0);
        assert_eq!(linger.deadline(), Some(t0 + UDP_LINGER));
        linger.start(t0 + UDP_LINGER / 2);
        assert_eq!(linger.deadline(), Some(t0 + UDP_LINGER), "started once");
        let reply = t0 + UDP_LINGER / 2;
        linger.received(reply);
        assert!(!linger.is_over(t0 + UDP_LINGER));
        assert!(linger.is_over(reply + UDP_LINGER));
    }

    fn stdin_bytes() -> impl Strategy<Value = Vec<u8>> {
        // Mostly line ends and CRs, so that every combination of them meets chunk edges.
        prop::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'a'), any::<u8>()],
            0..300,
        )
    }

    proptest! {
        #[test]
        fn datagrams_do_not_depend_on_the_reads(
            input in stdin_bytes(),
            cuts in prop::collection::vec(any::<usize>(), 0..20),
            crlf: bool,
            limit in 2usize..40,
        ) {
            let encoder = LineEncoder::with_limit(Framing::Datagrams, crlf, limit);
            let whole = pieces(encoder.clone(), &[&input]);
            prop_assert_eq!(&pieces(encoder, &split(&input, &cuts)), &whole);
            // Nothing lost, added or reordered beyond the CRs the specification adds.
            prop_assert_eq!(whole.concat(), naive(&input, crlf));
            for (i, datagram) in whole.iter().enumerate() {
                prop_assert!(!datagram.is_empty() && datagram.len() <= limit);
                // Lines are never merged: an LF only ends a datagram.
                let body = &datagram[..datagram.len() - 1];
                prop_assert!(!body.contains(&b'\n'));
                // A datagram ends early only at a line end or when the next byte(s) would
                // not fit (a CRLF needs two).
                if i + 1 < whole.len() && datagram.last() != Some(&b'\n') {
                    prop_assert!(datagram.len() + 2 > limit);
                }
            }
        }

        #[test]
        fn the_stream_does_not_depend_on_the_reads(
            input in stdin_bytes(),
            cuts in prop::collection::vec(any::<usize>(), 0..20),
            crlf: bool,
            limit in 2usize..40,
        ) {
            let encoder = LineEncoder::with_limit(Framing::Stream, crlf, limit);
            let got = pieces(encoder, &split(&input, &cuts));
            prop_assert!(got.iter().all(|p| !p.is_empty() && p.len() <= limit));
            prop_assert_eq!(got.concat(), naive(&input, crlf));
        }
    }
}
