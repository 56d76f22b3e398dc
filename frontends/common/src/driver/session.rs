//! The driver-facing surface: what every frontend moves bytes for.
//!
//! A frontend owns sockets and a clock; everything else (the core connection, the file server,
//! the line services, the GET printer) lives behind these traits, so each driver is only the loop
//! of docs/ARCHITECTURE.md:
//!
//! 1. read until `WouldBlock` (or one blocking read), [`Session::receive`] each chunk, and
//!    [`Session::receive_eof`] on a read of 0;
//! 2. [`Session::poll_transmit`] into the connection's output buffer and write it; keep the
//!    unwritten tail; call `poll_transmit` again only when the tail is gone (this is how a slow
//!    reader throttles file streaming and chargen: memory stays bounded by `budget`). A call
//!    with an *empty* buffer tells the session that everything it gave before is written, so
//!    once the last output is written the driver polls once more before closing (the file
//!    server's access log counts the bytes actually sent that way);
//! 3. arm a timer for [`Session::poll_timeout`] and call [`Session::handle_timeout`] when it fires;
//! 4. close the socket once [`Session::is_done`] and the output is flushed.

use std::net::SocketAddr;
use std::time::Instant;

/// How many bytes one `poll_transmit` call may produce at most, unless a frontend chooses
/// another budget: enough for a large file to stream efficiently, small enough to bound memory.
pub const TRANSMIT_BUDGET: usize = 64 * 1024;

/// One TCP connection's application state, driven by a frontend.
pub trait Session: Send {
    /// Bytes arrived from the peer.
    fn receive(&mut self, now: Instant, data: &[u8]);

    /// The peer half-closed (read returned 0). Pending replies are still transmitted.
    fn receive_eof(&mut self, now: Instant);

    /// A deadline from [`Session::poll_timeout`] has passed.
    fn handle_timeout(&mut self, now: Instant);

    /// Append up to about `budget` bytes that are ready to send to `out`. Returns without
    /// appending when nothing is ready. Call it again after writing what it gave. When `out`
    /// is empty on entry, everything given by earlier calls has been written to the socket.
    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>, budget: usize);

    /// The next deadline at which [`Session::handle_timeout`] must be called.
    fn poll_timeout(&self) -> Option<Instant>;

    /// Whether reading more from the socket is useful now (false while enough input waits, or
    /// after end of stream).
    fn wants_read(&self) -> bool;

    /// True when, once the output given so far has been written, the socket should be closed.
    fn is_done(&self) -> bool;

    /// Once [`Session::is_done`]: whether the close should linger (shut down the sending side,
    /// then read and drop what the peer still sends for up to [`crate::driver::policy::LINGER`],
    /// so that an answer just written is read rather than cut by a reset). Default: true.
    ///
    /// A session that ends owing the peer nothing, closed by its own timer with no answer
    /// (first byte, idle, or a head that did not arrive in time), returns false and the driver
    /// closes at once, as nginx closes a timed-out connection. Under slowloris thousands of
    /// heads time out together; each then costs one close instead of a shutdown, a linger
    /// timer and the reads of a two-second wait.
    fn lingers(&self) -> bool {
        true
    }

    /// While the connection waits for a request and has nothing in hand (an idle keep-alive
    /// connection, or one whose request head has not fully arrived): since when it has waited,
    /// counted from when it opened or when its last request ended (not from the last byte of
    /// a head still trickling in). `None` while a request is in flight. A full server closes
    /// the connection that has waited longest to admit a new one
    /// ([`crate::driver::admission`]): a slowloris head is old, while a kept-alive client
    /// answered a moment ago is the youngest candidate. Sessions that are never safe to close
    /// for another (line services, clients) keep the default, `None`.
    fn waiting_since(&self) -> Option<Instant> {
        None
    }

    /// The driver writes to a plain socket and can send file ranges with sendfile(2) (see
    /// [`FileRange`]); called once, before any output. Default: ignored. **A wrapper that
    /// changes the bytes on the way (TLS) must not forward this**: the wrapped session then
    /// keeps giving every byte through [`Session::poll_transmit`].
    fn enable_sendfile(&mut self) {}

    /// After [`Session::enable_sendfile`]: the file range to send next, zero-copy, once the
    /// output given so far is written. While one is offered, `poll_transmit` gives nothing.
    /// The driver sends from it and reports each write with [`Session::handle_sendfile`].
    fn poll_sendfile(&self) -> Option<FileRange<'_>> {
        None
    }

    /// `written` bytes of the offered [`FileRange`] went to the socket.
    fn handle_sendfile(&mut self, now: Instant, written: u64) {
        let _ = (now, written);
    }

    /// The driver is about to wait for the socket with everything given so far written and
    /// nothing more to read for now: give back memory that is not needed while waiting (an
    /// idle keep-alive connection's buffers). Drivers do not call it between requests that
    /// are already in hand (pipelined, or read together), so those reuse their buffers. A
    /// driver may defer the call while it has other work, or for a short first wait, never
    /// past it (portline-mio waits one loop turn, portline-std a read of at most 100 ms, so
    /// that a busy connection is not put to sleep and woken between every two requests).
    /// Default: nothing.
    fn release_idle(&mut self) {}
}

/// Part of a file to write to the socket without copying it through user space.
#[derive(Debug, Clone, Copy)]
pub struct FileRange<'a> {
    /// The open file.
    pub file: &'a std::fs::File,
    /// Offset of the first byte to send.
    pub offset: u64,
    /// Bytes left to send (more than zero).
    pub len: u64,
}

/// Most bytes one sendfile(2) call is asked for: Linux caps a call at 0x7ffff000 anyway, and
/// a smaller step lets the driver give other connections a turn.
pub const SENDFILE_STEP: u64 = 16 << 20;

/// One sendfile(2) of `range` (up to [`SENDFILE_STEP`]) to `socket`: how many bytes went out.
/// `WouldBlock` from a full non-blocking socket; `UnexpectedEof` if the file is shorter than
/// the range (it shrank: the promised length cannot be met).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn sendfile(
    socket: std::os::fd::BorrowedFd<'_>,
    range: &FileRange<'_>,
) -> std::io::Result<u64> {
    let mut offset = range.offset;
    let count = usize::try_from(range.len.min(SENDFILE_STEP)).unwrap_or(1 << 20);
    loop {
        match rustix::fs::sendfile(socket, range.file, Some(&mut offset), count) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => return Ok(n as u64),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Makes a [`Session`] for each accepted connection. Shared by every thread of a server.
pub trait SessionFactory: Send + Sync + 'static {
    /// A session for a new connection from `peer` to `local`.
    fn session(&self, now: Instant, peer: SocketAddr, local: SocketAddr) -> Box<dyn Session>;

    /// The reply to send on a connection refused because `--max-connections` is reached (e.g.
    /// an HTTP 503), or nothing.
    fn overload_reply(&self) -> Option<Vec<u8>> {
        None
    }

    /// The connection from `peer` was refused with [`SessionFactory::overload_reply`], of
    /// which `sent` bytes were written (the file server logs its 503s here).
    fn refused(&self, now: Instant, peer: SocketAddr, sent: usize) {
        let _ = (now, peer, sent);
    }
}

/// A datagram service (UDP line services): one datagram in, at most one out.
pub trait DatagramService: Send {
    /// Handle a datagram from `peer`; append the reply, if any, to `out` and return true.
    fn handle_datagram(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> bool;
}
