//! portline-std keeps a busy keep-alive session awake between requests and tells an idle one to
//! give back its buffers (`Session::release_idle`) once its next request is late; a request
//! that trickles in is read with no drowsy wait per piece.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use portline_common::Session;

/// Answers `ok` to every line; between answers it waits for a request, as an HTTP server
/// session does (`waiting_since` is `Some`: since it opened or last answered, not since the
/// last byte of a line still coming), and counts the `release_idle` calls and the driver's
/// loop turns (one `poll_timeout` each).
struct Waiter {
    opened: Instant,
    since: Instant,
    lines: usize,
    eof: bool,
    released: Arc<AtomicUsize>,
    turns: Arc<AtomicUsize>,
}

impl Waiter {
    fn new(released: &Arc<AtomicUsize>, turns: &Arc<AtomicUsize>) -> Waiter {
        let opened = Instant::now();
        Waiter {
            opened,
            since: opened,
            lines: 0,
            eof: false,
            released: released.clone(),
            turns: turns.clone(),
        }
    }
}

impl Session for Waiter {
    fn receive(&mut self, _now: Instant, data: &[u8]) {
        self.lines += data.iter().filter(|&&b| b == b'\n').count();
    }
    fn receive_eof(&mut self, _now: Instant) {
        self.eof = true;
    }
    fn handle_timeout(&mut self, _now: Instant) {
        self.eof = true;
    }
    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>, _budget: usize) {
        if self.lines > 0 {
            self.since = now;
        }
        for _ in 0..std::mem::take(&mut self.lines) {
            out.extend_from_slice(b"ok\n");
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.turns.fetch_add(1, Ordering::SeqCst);
        Some(self.opened + Duration::from_secs(30))
    }
    fn wants_read(&self) -> bool {
        !self.eof
    }
    fn is_done(&self) -> bool {
        self.eof && self.lines == 0
    }
    fn waiting_since(&self) -> Option<Instant> {
        (self.lines == 0).then_some(self.since)
    }
    fn release_idle(&mut self) {
        self.released.fetch_add(1, Ordering::SeqCst);
    }
}

/// A [`Waiter`] driven by portline-std over a loopback connection, its counters, and the client.
struct Driven {
    client: TcpStream,
    released: Arc<AtomicUsize>,
    turns: Arc<AtomicUsize>,
    driver: std::thread::JoinHandle<Result<(), portline_common::SocketFailure>>,
}

fn driven() -> Driven {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (server, _) = listener.accept().unwrap();
    let released = Arc::new(AtomicUsize::new(0));
    let turns = Arc::new(AtomicUsize::new(0));
    let mut session = Waiter::new(&released, &turns);
    let driver =
        std::thread::spawn(move || portline_std::driver::drive(&server, &mut session, None));
    Driven {
        client,
        released,
        turns,
        driver,
    }
}

#[test]
fn a_busy_session_stays_awake_and_an_idle_one_releases_its_buffers() {
    let Driven {
        mut client,
        released,
        turns: _,
        driver,
    } = driven();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    // Twenty requests, each sent as soon as the answer before it came: a driver that released
    // before every wait (as it did) counts twenty; this one waits 100 ms first, which only a
    // machine too slow for any loopback round trip would exceed every time.
    const REQUESTS: usize = 20;
    for _ in 0..REQUESTS {
        client.write_all(b"request\n").unwrap();
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "ok\n");
    }
    let busy = released.load(Ordering::SeqCst);
    assert!(
        busy < REQUESTS,
        "released {busy} times in {REQUESTS} back-to-back requests"
    );
    // Idle now: released within the drowsy wait (100 ms), well before the 30 s deadline.
    let deadline = Instant::now() + Duration::from_secs(10);
    while released.load(Ordering::SeqCst) == busy {
        assert!(
            Instant::now() < deadline,
            "an idle session was never told to release"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // And a request after the release is still answered.
    client.write_all(b"again\n").unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "ok\n");
    client.shutdown(std::net::Shutdown::Write).unwrap();
    driver.join().unwrap().unwrap();
}

#[test]
fn a_request_that_trickles_in_costs_one_loop_turn_per_piece() {
    let Driven {
        mut client,
        released: _,
        turns,
        driver,
    } = driven();
    // One byte of a request every 150 ms, more than the drowsy wait: a driver that drowsed
    // after each byte (as it did) took two turns per byte, the second when that wait ran out.
    const PIECES: usize = 6;
    for &b in &b"slow\r\n"[..PIECES] {
        std::thread::sleep(portline_std::driver::DROWSE * 3 / 2);
        client.write_all(&[b]).unwrap();
    }
    let mut line = String::new();
    BufReader::new(client.try_clone().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ok\n");
    // The first wait's drowse, then a turn per byte and one after the answer.
    let spent = turns.load(Ordering::SeqCst);
    assert!(
        spent <= PIECES + 3,
        "{spent} loop turns for a request sent in {PIECES} pieces"
    );
    client.shutdown(std::net::Shutdown::Write).unwrap();
    driver.join().unwrap().unwrap();
}
