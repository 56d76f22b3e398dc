//! The one loop, blocking: one thread drives one [`Session`] over one `TcpStream`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use portline_common::driver::admission::Ticket;
use portline_common::driver::policy::WRITE_STALL;
use portline_common::driver::policy::read_came_back_empty;
use portline_common::{Session, SocketFailure, TRANSMIT_BUDGET};

/// Size of the read buffer of a connection while input streams in.
pub const READ_BUFFER: usize = 16 * 1024;

/// Reads after a wait for a request go into this much of the thread's stack: a request head
/// fits, so an idle connection holds no heap read buffer. A read that fills it switches to
/// [`READ_BUFFER`] until the connection waits for a request again.
const FIRST_READ: usize = 2 * 1024;

/// How long a session waiting for its next request keeps its buffers before it is told to
/// give them back ([`Session::release_idle`]): the first read of the wait has this timeout.
/// Once per wait, which [`Session::waiting_since`] names: the bytes of a head that trickles in
/// belong to the wait they arrived in, and a session holding part of a head has nothing to give
/// back, so they are read with no drowse (a slowloris client's byte would otherwise cost a second
/// wake-up, two `setsockopt` calls and a read that comes back empty). A busy keep-alive
/// connection's next request comes well within it (under `wrk -c50` about 0.3 ms later), so its
/// session is not put to sleep and woken between every two requests (about 970 of portline-std's
/// 8,800 instructions per answer, counted with callgrind), as portline-mio defers the same call by
/// one loop turn. A connection idle for longer pays two `setsockopt` calls per request to switch
/// the read timeout to its real wait and back.
pub const DROWSE: Duration = Duration::from_millis(100);

/// An output buffer larger than this is given back before the connection waits for input
/// (as the smol driver's), so an idle connection holds no large buffer.
const KEEP_OUT_CAPACITY: usize = 8 * 1024;

/// Drive `session` over `stream` until it is done and its output written, or the socket fails:
///
/// 1. write everything [`Session::poll_transmit`] gives, in budget-sized pieces (`write_all`
///    handles partial writes; a slow reader blocks this thread, never grows memory), then
///    any file range [`Session::poll_sendfile`] offers, with sendfile(2);
/// 2. stop once [`Session::is_done`];
/// 3. call [`Session::handle_timeout`] if the deadline has passed;
/// 4. one blocking read, with the read timeout set to the time left until
///    [`Session::poll_timeout`]; feed the bytes, or the end of stream (read of 0), and repeat.
///    Before it, [`Session::release_idle`]; but a session that starts to wait for its next
///    request keeps its buffers through a first read of at most [`DROWSE`].
///
/// A server connection passes its admission [`Ticket`]: before each read it says since when the
/// connection waits for a request (everything is written then), so that a full server can
/// evict the one that has waited longest.
pub fn drive(
    stream: &TcpStream,
    session: &mut dyn Session,
    ticket: Option<&Ticket>,
) -> Result<(), SocketFailure> {
    let _ = stream.set_write_timeout(Some(WRITE_STALL));
    // A plain socket: file bodies may go out with sendfile(2).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    session.enable_sendfile();
    let mut small = [0u8; FIRST_READ];
    let mut big: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    let mut eof = false;
    // The socket's read timeout as last set (`None`: not set yet), so that it is set again only
    // when it no longer fits: a setsockopt per request otherwise.
    let mut read_timeout: Option<Option<Duration>> = None;
    // The wait (its `waiting_since`) that has had its read of at most [`DROWSE`]: the rest of
    // it, input that does not end it included, is read after the session releases its buffers.
    let mut drowsed: Option<Instant> = None;
    loop {
        loop {
            out.clear();
            session.poll_transmit(Instant::now(), &mut out, TRANSMIT_BUDGET);
            if out.is_empty() {
                break;
            }
            (&*stream).write_all(&out).map_err(SocketFailure::Write)?;
        }
        // 1b. A file range the session offers goes out zero-copy (blocking, as writes do).
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(range) = session.poll_sendfile() {
            use std::os::fd::AsFd;
            let sent = portline_common::driver::session::sendfile(stream.as_fd(), &range)
                .map_err(SocketFailure::Write)?;
            session.handle_sendfile(Instant::now(), sent);
            continue;
        }
        if session.is_done() {
            return Ok(());
        }
        let now = Instant::now();
        let deadline = session.poll_timeout();
        if let Some(d) = deadline
            && d <= now
        {
            session.handle_timeout(now);
            continue;
        }
        if eof || !session.wants_read() {
            match deadline {
                Some(d) => {
                    std::thread::sleep(d.saturating_duration_since(now));
                    continue;
                }
                // Nothing left that could make progress.
                None if eof => return Ok(()),
                // Paused with no deadline: read anyway (the core bounds what it buffers).
                None => {}
            }
        }
        let wait = deadline.map(|d| {
            d.saturating_duration_since(now)
                .max(Duration::from_millis(1))
        });
        let waiting = session.waiting_since();
        if let Some(ticket) = ticket {
            ticket.set_waiting(waiting);
        }
        // A session that starts to wait for a request first waits [`DROWSE`] with its buffers.
        let drowse =
            !eof && waiting.is_some() && waiting != drowsed && wait.is_none_or(|w| w > DROWSE);
        let wait = if drowse {
            drowsed = waiting;
            Some(DROWSE)
        } else {
            wait
        };
        if !eof && !drowse {
            // About to block with everything written: an idle keep-alive session keeps no
            // buffers while it waits (the mio and smol drivers do the same once the socket is
            // drained).
            session.release_idle();
            if out.capacity() > KEEP_OUT_CAPACITY {
                out = Vec::new();
            }
            if waiting.is_some() {
                big = Vec::new();
            }
        }
        if !timeout_fits(read_timeout, wait) {
            stream.set_read_timeout(wait).map_err(SocketFailure::Read)?;
            read_timeout = Some(wait);
        }
        let into_small = big.is_empty();
        let read = if into_small {
            (&*stream).read(&mut small)
        } else {
            (&*stream).read(&mut big)
        };
        match read {
            Ok(0) => {
                eof = true;
                session.receive_eof(Instant::now());
            }
            Ok(n) => {
                // Input in hand: not evictable until the next wait says so.
                if let Some(ticket) = ticket {
                    ticket.set_waiting(None);
                }
                let data = if into_small { &small[..n] } else { &big[..n] };
                session.receive(Instant::now(), data);
                if into_small && n == FIRST_READ {
                    // More is coming than a head: a body, or requests sent together.
                    big = vec![0u8; READ_BUFFER];
                }
            }
            // The read timeout: the deadline check at the top of the loop fires the timer, or
            // the drowsy wait is over.
            Err(e) if read_came_back_empty(&e) => {}
            Err(e) => return Err(SocketFailure::Read(e)),
        }
    }
}

/// Whether the read timeout `set` (as last set, if ever) may stand for a wait of `wait`: never
/// longer (the read would oversleep the deadline), and at least half of it (a shorter one only
/// wakes the loop early, which re-checks the deadline and reads again). The idle timer moves
/// with every request, so its timeout is set once per connection, not per request.
fn timeout_fits(set: Option<Option<Duration>>, wait: Option<Duration>) -> bool {
    match (set, wait) {
        (Some(None), None) => true,
        (Some(Some(set)), Some(wait)) => set <= wait && set >= wait / 2,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::timeout_fits;
    use std::time::Duration;

    #[test]
    fn a_read_timeout_is_kept_while_it_neither_oversleeps_nor_wakes_too_often() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        assert!(!timeout_fits(None, Some(s(5))), "never set");
        assert!(!timeout_fits(None, None), "never set");
        assert!(timeout_fits(Some(None), None));
        assert!(
            !timeout_fits(Some(None), Some(s(5))),
            "no timeout would oversleep"
        );
        assert!(!timeout_fits(Some(Some(s(5))), None));
        assert!(
            timeout_fits(Some(Some(ms(4990))), Some(s(5))),
            "the idle timer moved on"
        );
        assert!(timeout_fits(Some(Some(s(5))), Some(s(5))));
        assert!(
            !timeout_fits(Some(Some(s(5))), Some(ms(4999))),
            "would oversleep"
        );
        assert!(
            !timeout_fits(Some(Some(s(2))), Some(s(5))),
            "would wake too often"
        );
    }
}
