//! The one loop of docs/ARCHITECTURE.md for one TCP connection, as one async task.
//!
//! The task is the socket's only reader and only writer: it reads, feeds the session, writes what
//! the session gives, and only then asks the session for more. A peer that reads slowly therefore
//! blocks the write, the session is not polled, and memory stays at one transmit budget.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use portline_common::driver::admission::Ticket;
use portline_common::driver::policy::WRITE_STALL as WRITE_TIMEOUT;
use portline_common::{Session, SocketFailure, TRANSMIT_BUDGET};
use smol::channel::Receiver;
use smol::future::{self, FutureExt as _};
use smol::{Async, Timer};

/// Bytes read per `read(2)`. One buffer per executor thread, not per connection.
const READ_CHUNK: usize = 16 * 1024;

/// Reads per readiness wake-up, so that one busy peer cannot starve the other tasks of a thread.
const READS_PER_WAKE: usize = 16;

/// Loop turns (each a read or a write of up to one budget) before a task yields to the others.
const TURNS_PER_YIELD: u32 = 8;

/// An output buffer larger than this is given back while the connection waits for input, so an
/// idle connection holds no large buffer.
const KEEP_OUT_CAPACITY: usize = 8 * 1024;

/// Most output buffers kept for reuse per executor thread.
const MAX_SPARE: usize = 64;

thread_local! {
    /// Also the lingering close's discard buffer (see the server's `linger`).
    pub(crate) static READ_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_CHUNK]);

    /// Output buffers given back by connections that went to wait for input: a connection
    /// holds one only while it has something to send, and does not allocate one per request.
    static SPARE_OUT: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty output buffer: a spare one of this thread, or a new one.
fn take_out() -> Vec<u8> {
    SPARE_OUT
        .with_borrow_mut(Vec::pop)
        .unwrap_or_else(|| Vec::with_capacity(KEEP_OUT_CAPACITY))
}

/// Keep `buf` for the next connection of this thread that needs one (a large one is freed).
fn give_back(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > KEEP_OUT_CAPACITY {
        return;
    }
    buf.clear();
    SPARE_OUT.with_borrow_mut(|spare| {
        if spare.len() < MAX_SPARE {
            spare.push(buf);
        }
    });
}

/// How a connection's loop ended without an I/O error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The session is done and all its output is written. `peer_closed`: its end-of-stream was
    /// read already.
    Done {
        /// Whether the peer's end-of-stream was read.
        peer_closed: bool,
    },
    /// Shutdown was requested while the connection had nothing to send.
    Stopped,
}

/// What woke the loop while it waited for input.
enum Wake {
    Read(io::Result<()>),
    Deadline(Instant),
    Stop,
}

/// Drive `session` over `stream` until it is done and flushed, the peer fails, or (when `stop`
/// is given) shutdown is requested while the connection is idle. A server connection passes its
/// admission `ticket`, told before each wait since when the connection waits for a request.
///
/// The loop: gather every ready response into one buffer and write all of it; close when the
/// session is done; otherwise wait for input (if the session wants it), its deadline, or the
/// stop signal, and feed what came. A read of 0 is end-of-stream: [`Session::receive_eof`], then
/// no more reads, and the pending replies are still written.
pub(crate) async fn drive(
    stream: &Async<TcpStream>,
    session: &mut dyn Session,
    stop: Option<&Receiver<()>>,
    ticket: Option<&Ticket>,
) -> Result<End, SocketFailure> {
    let mut out: Vec<u8> = Vec::new();
    let mut peer_closed = false;
    // The last read was short: the socket is drained, so wait for readiness before reading
    // again instead of spending a read(2) on `WouldBlock`.
    let mut drained = false;
    // The deadline handled last: the same instant again would only spin.
    let mut fired: Option<Instant> = None;
    let mut turns = 0u32;
    loop {
        // A socket that is always ready never makes `read_with`/`write_with` wait, and smol does
        // not preempt: give the thread's other tasks (and the acceptor) a turn now and then.
        turns = turns.wrapping_add(1);
        if turns % TURNS_PER_YIELD == 0 {
            future::yield_now().await;
        }
        if out.capacity() == 0 {
            out = take_out();
        }
        gather(session, &mut out);
        if !out.is_empty() {
            write_all(stream, session, &out, &mut fired)
                .await
                .map_err(SocketFailure::Write)?;
            out.clear();
            continue;
        }
        // Then a file range the session offers, zero-copy.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if session.poll_sendfile().is_some() {
            send_file(stream, session)
                .await
                .map_err(SocketFailure::Write)?;
            continue;
        }
        if session.is_done() {
            return Ok(End::Done { peer_closed });
        }
        let deadline = armed(session.poll_timeout(), fired);
        // Paused (no input wanted) without a deadline: read anyway, as the core allows (it
        // bounds what it buffers), rather than hang. After end-of-stream with no deadline
        // nothing can make progress any more.
        let reading = !peer_closed && (session.wants_read() || deadline.is_none());
        if !reading && deadline.is_none() {
            return Ok(End::Done { peer_closed });
        }
        if drained || out.capacity() > KEEP_OUT_CAPACITY {
            // About to wait for the peer (the socket is drained), or holding a large buffer:
            // an idle connection keeps neither an output buffer nor its session's buffers.
            give_back(std::mem::take(&mut out));
            if drained && reading {
                session.release_idle();
            }
        }
        // Everything is written: a server connection waiting for a request may be evicted (the
        // one waiting longest goes first).
        if let Some(ticket) = ticket {
            ticket.set_waiting(session.waiting_since());
        }

        let read = async {
            if reading {
                if drained && let Err(e) = stream.readable().await {
                    return Wake::Read(Err(e));
                }
                Wake::Read(
                    stream
                        .read_with(|s| read_into(s, &mut *session, &mut peer_closed, &mut drained))
                        .await,
                )
            } else {
                future::pending().await
            }
        };
        let timer = async { Wake::Deadline(until(deadline).await) };
        let wake = read.or(timer).or(stopped(stop)).await;
        match wake {
            Wake::Read(Ok(())) => {
                // Input in hand: not evictable until the next wait says so.
                if let Some(ticket) = ticket {
                    ticket.set_waiting(None);
                }
            }
            Wake::Read(Err(e)) => return Err(SocketFailure::Read(e)),
            Wake::Deadline(d) => {
                fired = Some(d);
                session.handle_timeout(Instant::now());
            }
            Wake::Stop => return Ok(End::Stopped),
        }
    }
}

/// Collect the output of every ready response into `out`, up to about one transmit budget.
fn gather(session: &mut dyn Session, out: &mut Vec<u8>) {
    let now = Instant::now();
    while out.len() < TRANSMIT_BUDGET {
        let before = out.len();
        session.poll_transmit(now, out, TRANSMIT_BUDGET - before);
        if out.len() == before {
            break;
        }
    }
}

/// Write all of `buf`. The session's deadline still fires meanwhile (its timers keep running
/// while a slow peer drains), but the session is not asked for more output. A write that makes
/// no progress for [`WRITE_TIMEOUT`] fails: a peer that stopped reading cannot hold the
/// connection forever.
async fn write_all(
    stream: &Async<TcpStream>,
    session: &mut dyn Session,
    buf: &[u8],
    fired: &mut Option<Instant>,
) -> io::Result<()> {
    enum Wake {
        Wrote(io::Result<usize>),
        Deadline(Instant),
        Stalled,
    }
    let mut written = 0;
    let mut progress = Instant::now();
    while written < buf.len() {
        let deadline = armed(session.poll_timeout(), *fired);
        let write =
            async { Wake::Wrote(stream.write_with(|mut s| s.write(&buf[written..])).await) };
        let timer = async { Wake::Deadline(until(deadline).await) };
        let stall = async {
            Timer::at(progress + WRITE_TIMEOUT).await;
            Wake::Stalled
        };
        match write.or(timer).or(stall).await {
            Wake::Wrote(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
            Wake::Wrote(Ok(n)) => {
                written += n;
                progress = Instant::now();
            }
            Wake::Wrote(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Wake::Wrote(Err(e)) => return Err(e),
            Wake::Deadline(d) => {
                *fired = Some(d);
                session.handle_timeout(Instant::now());
            }
            Wake::Stalled => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the peer read nothing for {WRITE_TIMEOUT:?}"),
                ));
            }
        }
    }
    Ok(())
}

/// One sendfile(2) step of the range [`Session::poll_sendfile`] offers, waiting for
/// writability as [`write_all`] does (a peer that reads nothing for [`WRITE_TIMEOUT`] fails).
#[cfg(any(target_os = "linux", target_os = "android"))]
async fn send_file(stream: &Async<TcpStream>, session: &mut dyn Session) -> io::Result<()> {
    use std::os::fd::AsFd;
    let sent = {
        let Some(range) = session.poll_sendfile() else {
            return Ok(());
        };
        let send = async {
            Some(
                stream
                    .write_with(|s| portline_common::driver::session::sendfile(s.as_fd(), &range))
                    .await,
            )
        };
        let stall = async {
            Timer::after(WRITE_TIMEOUT).await;
            None
        };
        send.or(stall).await
    };
    match sent {
        Some(Ok(n)) => {
            session.handle_sendfile(Instant::now(), n);
            Ok(())
        }
        Some(Err(e)) => Err(e),
        None => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the peer read nothing for {WRITE_TIMEOUT:?}"),
        )),
    }
}

/// Read until the socket would block (at most [`READS_PER_WAKE`] reads), feeding each chunk to
/// the session while it wants more. `Err(WouldBlock)` when nothing was read: `read_with` then
/// waits for readiness and calls this again. `drained`: the last read was short.
fn read_into(
    mut socket: &TcpStream,
    session: &mut dyn Session,
    peer_closed: &mut bool,
    drained: &mut bool,
) -> io::Result<()> {
    READ_BUF.with_borrow_mut(|buf| {
        let mut fed = false;
        *drained = false;
        for _ in 0..READS_PER_WAKE {
            match socket.read(buf) {
                Ok(0) => {
                    *peer_closed = true;
                    session.receive_eof(Instant::now());
                    return Ok(());
                }
                Ok(n) => {
                    session.receive(Instant::now(), &buf[..n]);
                    fed = true;
                    // A short read means the socket is drained; skip the read that would say so.
                    if n < buf.len() {
                        *drained = true;
                        return Ok(());
                    }
                    if !session.wants_read() {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && fed => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })
}

/// The session's deadline, unless it is the one just handled (a session that keeps returning
/// a passed deadline must not make the loop spin).
fn armed(deadline: Option<Instant>, fired: Option<Instant>) -> Option<Instant> {
    match (deadline, fired) {
        (Some(d), Some(f)) if d <= f => None,
        (d, _) => d,
    }
}

/// Resolves at `deadline` (and returns it), never without one.
async fn until(deadline: Option<Instant>) -> Instant {
    match deadline {
        Some(d) => {
            Timer::at(d).await;
            d
        }
        None => future::pending().await,
    }
}

/// Resolves once shutdown is requested (the channel's sender is closed), never without `stop`.
async fn stopped(stop: Option<&Receiver<()>>) -> Wake {
    match stop {
        Some(stop) => {
            // Nothing is ever sent: the sender is closed on shutdown, which ends every recv.
            let _ = stop.recv().await;
            Wake::Stop
        }
        None => future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_deadline_already_handled_is_not_armed_again() {
        let t = Instant::now();
        let later = t + Duration::from_millis(5);
        assert_eq!(armed(Some(t), None), Some(t));
        assert_eq!(armed(Some(t), Some(t)), None);
        assert_eq!(armed(Some(later), Some(t)), Some(later));
        assert_eq!(armed(None, Some(t)), None);
    }
}
