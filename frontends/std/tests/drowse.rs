//! portline-std keeps a busy keep-alive session awake between requests and tells an idle one to
//! give back its buffers (`Session::release_idle`) once its next request is late.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use portline_common::Session;

/// Answers `ok` to every line; between answers it waits for a request, as an HTTP server
/// session does (`waiting_since` is `Some`), and counts the `release_idle` calls.
struct Waiter {
    opened: Instant,
    lines: usize,
    eof: bool,
    released: Arc<AtomicUsize>,
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
    fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>, _budget: usize) {
        for _ in 0..std::mem::take(&mut self.lines) {
            out.extend_from_slice(b"ok\n");
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Some(self.opened + Duration::from_secs(30))
    }
    fn wants_read(&self) -> bool {
        !self.eof
    }
    fn is_done(&self) -> bool {
        self.eof && self.lines == 0
    }
    fn waiting_since(&self) -> Option<Instant> {
        (self.lines == 0).then_some(self.opened)
    }
    fn release_idle(&mut self) {
        self.released.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_busy_session_stays_awake_and_an_idle_one_releases_its_buffers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (server, _) = listener.accept().unwrap();
    let released = Arc::new(AtomicUsize::new(0));
    let mut session = Waiter {
        opened: Instant::now(),
        lines: 0,
        eof: false,
        released: released.clone(),
    };
    let driver =
        std::thread::spawn(move || portline_std::driver::drive(&server, &mut session, None));
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
