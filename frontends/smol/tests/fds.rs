//! No file descriptor outlives its connection, however the peer leaves. Alone in its own test
//! binary (its own process), so that no other test opens descriptors meanwhile.

mod support;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use support::{EchoFactory, Server, Stats, StreamFactory, options, round_trip, wait_until};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd lists this process's descriptors")
        .count()
}

/// Closes `stream` with a reset (SO_LINGER 0) instead of a FIN.
fn reset(stream: std::net::TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}

#[test]
fn descriptors_return_to_the_baseline_after_every_kind_of_close() {
    let echo_stats = Arc::new(Stats::default());
    let echo = Server::tcp(
        options(1000, Duration::from_secs(1)),
        Arc::new(EchoFactory {
            idle: None,
            stats: echo_stats.clone(),
        }),
    );
    let stream_stats = Arc::new(Stats::default());
    let streamer = Server::tcp(
        options(1000, Duration::from_millis(200)),
        Arc::new(StreamFactory {
            stats: stream_stats.clone(),
        }),
    );
    // Warm up both servers (threads, reactor, thread-local buffers) before counting.
    round_trip(&mut echo.connect(), b"warm\n");
    echo_stats.wait_all_dropped();
    let baseline = open_fds();

    for i in 0..10 {
        // Orderly: a round trip, then close.
        let mut s = echo.connect();
        assert_eq!(round_trip(&mut s, b"x\n"), b"x\n");
        drop(s);
        // Half-close, read the rest.
        let mut s = echo.connect();
        s.write_all(b"half").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"half");
        // Reset mid-request, with unread input on the server.
        let mut s = echo.connect();
        s.write_all(&vec![b'r'; 10_000 * (i + 1)]).unwrap();
        reset(s);
        // Reset mid-response, while the server is blocked writing.
        let mut s = streamer.connect();
        s.write_all(b"0\n").unwrap();
        let mut some = [0u8; 1000];
        s.read_exact(&mut some).unwrap();
        reset(s);
        // Garbage that ends the stream session at once (a line too long, never finished).
        let mut s = streamer.connect();
        let _ = s.write_all(&[0xff; 100]);
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    }
    echo_stats.wait_all_dropped();
    stream_stats.wait_all_dropped();
    wait_until("descriptors back to the baseline", || {
        open_fds() <= baseline
    });
    assert_eq!(open_fds(), baseline);
    assert!(echo_stats.made.load(Ordering::SeqCst) >= 31);

    // Shutdown closes the listeners too.
    echo.stop().0.unwrap();
    streamer.stop().0.unwrap();
    wait_until("the listeners closed", || open_fds() <= baseline - 2);
}
