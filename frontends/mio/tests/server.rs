//! The mio TCP server loop against real loopback sockets, with the test app of `support`.

mod support;

use std::io::{BufReader, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use support::{Server, Stats, TestFactory, eventually, read_line, read_stream, send};

#[test]
fn many_concurrent_connections_each_get_their_own_answers() {
    let mut server = Server::start(4, 10_000, TestFactory::new());
    let mut conns: Vec<_> = (0..300).map(|_| server.connect()).collect();
    // Every connection is open at once; the rounds interleave their requests.
    for round in 0..5 {
        for (i, c) in conns.iter_mut().enumerate() {
            send(c, format!("conn {i} round {round}\n").as_bytes());
        }
    }
    for (i, c) in conns.into_iter().enumerate() {
        let mut reader = BufReader::new(c);
        for round in 0..5 {
            assert_eq!(read_line(&mut reader), format!("conn {i} round {round}\n"));
        }
    }
    eventually("all sessions closed", || server.stats.alive() == 0);
    assert_eq!(Stats::get(&server.stats.created), 300);
    server.stop().unwrap();
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let mut server = Server::start(1, 100, TestFactory::new());
    let c = server.connect();
    let mut input = Vec::new();
    for i in 0..2_000 {
        input.extend_from_slice(format!("line {i}\n").as_bytes());
        if i == 1_000 {
            input.extend_from_slice(b"stream 100000\n");
        }
    }
    // One write with everything; the server answers in order, holding input it cannot parse yet.
    let writer = {
        let mut c = c.try_clone().unwrap();
        let input = input.clone();
        std::thread::spawn(move || c.write_all(&input))
    };
    let mut reader = BufReader::new(c.try_clone().unwrap());
    for i in 0..2_000 {
        assert_eq!(read_line(&mut reader), format!("line {i}\n"));
        if i == 1_000 {
            read_stream(&mut reader, 100_000);
        }
    }
    writer.join().unwrap().unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "nothing after the answers: {rest:?}");
    server.stop().unwrap();
}

#[test]
fn a_slow_reader_stops_the_session_being_polled() {
    const TOTAL: u64 = 64 * 1024 * 1024;
    let mut server = Server::start(1, 100, TestFactory::new());
    let mut c = server.connect();
    send(&mut c, format!("stream {TOTAL}\n").as_bytes());
    // Read nothing: the server fills the socket buffers and must then stop producing.
    let stats = server.stats.clone();
    let mut last = (u64::MAX, u64::MAX);
    let mut stable_since = Instant::now();
    eventually("output stops growing while the reader stalls", || {
        let now = (Stats::get(&stats.polls), Stats::get(&stats.produced));
        if now != last {
            last = now;
            stable_since = Instant::now();
        }
        now.1 > 0 && stable_since.elapsed() > Duration::from_millis(300)
    });
    let (polls, produced) = last;
    eprintln!("stalled reader: {produced} bytes produced in {polls} polls");
    // What was produced sits in the kernel's buffers plus at most one budget in the driver.
    assert!(
        produced < 16 * 1024 * 1024,
        "{produced} bytes produced for a reader that read nothing"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        Stats::get(&stats.polls),
        polls,
        "no poll_transmit while the tail is unwritten"
    );
    // Now read it all: the rest streams as the socket drains.
    read_stream(&mut c, TOTAL);
    assert_eq!(Stats::get(&stats.produced), TOTAL);
    c.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    server.stop().unwrap();
}

#[test]
fn half_close_flushes_the_replies_then_closes() {
    let mut server = Server::start(1, 100, TestFactory::new());
    // Like `nc -N`: write, half-close, read to the end.
    let mut c = server.connect();
    send(&mut c, b"a\nb\nstream 300000\nlast, unterminated");
    c.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got)
        .expect("the server closes after answering");
    assert_eq!(&got[..4], b"a\nb\n");
    let body = &got[4..4 + 300_000];
    assert!(
        body.iter()
            .enumerate()
            .all(|(i, &b)| b == support::pattern(i as u64))
    );
    assert_eq!(&got[4 + 300_000..], b"last, unterminated");
    eventually("the session is dropped", || server.stats.alive() == 0);
    server.stop().unwrap();
}

#[test]
fn a_peer_reset_mid_response_affects_no_other_connection() {
    let mut server = Server::start(2, 100, TestFactory::new());
    let mut other = server.connect();
    let mut other_reader = BufReader::new(other.try_clone().unwrap());
    send(&mut other, b"before\n");
    assert_eq!(read_line(&mut other_reader), "before\n");

    for _ in 0..5 {
        let mut victim = server.connect();
        send(&mut victim, b"stream 100000000\n");
        let mut buf = [0; 10_000];
        victim.read_exact(&mut buf).unwrap();
        // Close with unread data and SO_LINGER 0: the server sees a reset mid-write.
        socket2::SockRef::from(&victim)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(victim);
    }
    // Reset mid-request too: a line without its end.
    let mut half = server.connect();
    send(&mut half, b"no newline yet");
    socket2::SockRef::from(&half)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(half);

    send(&mut other, b"after\n");
    assert_eq!(read_line(&mut other_reader), "after\n");
    eventually("the reset connections are closed", || {
        server.stats.alive() == 1
    });
    let fresh = server.connect();
    let mut fresh_reader = BufReader::new(fresh.try_clone().unwrap());
    send(&mut fresh_reader.get_mut().try_clone().unwrap(), b"fresh\n");
    assert_eq!(read_line(&mut fresh_reader), "fresh\n");
    drop(other);
    drop(other_reader);
    server.stop().unwrap();
}

#[test]
fn max_connections_refuses_with_the_overload_reply() {
    let mut factory = TestFactory::new();
    factory.overload = Some(b"BUSY\n".to_vec());
    // One loop: each of N loops takes max/N of the limit (see portline_common::driver::admission).
    let mut server = Server::start(1, 2, factory);
    let mut held: Vec<_> = (0..2)
        .map(|i| {
            let mut c = server.connect();
            send(&mut c, format!("hold {i}\n").as_bytes());
            let mut r = BufReader::new(c.try_clone().unwrap());
            assert_eq!(read_line(&mut r), format!("hold {i}\n"));
            c
        })
        .collect();
    let mut refused = server.connect();
    let mut got = Vec::new();
    refused.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"BUSY\n");
    assert_eq!(Stats::get(&server.stats.created), 2, "no session for it");

    // A slot frees when a connection closes.
    held.pop().unwrap().shutdown(Shutdown::Both).unwrap();
    eventually("the closed one is released", || server.stats.alive() == 1);
    let mut again = server.connect();
    send(&mut again, b"welcome\n");
    let mut r = BufReader::new(again);
    assert_eq!(read_line(&mut r), "welcome\n");
    drop(held);
    server.stop().unwrap();
}

#[test]
fn session_deadlines_fire() {
    let mut factory = TestFactory::new();
    // Generous against a loaded machine: only a stall of 700 ms between pings could fail it.
    factory.idle = Some(Duration::from_millis(800));
    let mut server = Server::start(1, 100, factory);
    let start = Instant::now();
    let mut quiet = server.connect();
    let mut busy = server.connect();
    let mut busy_reader = BufReader::new(busy.try_clone().unwrap());
    // The busy one keeps talking past the quiet one's deadline, moving its own deadline later.
    for i in 0..12 {
        send(&mut busy, format!("ping {i}\n").as_bytes());
        assert_eq!(read_line(&mut busy_reader), format!("ping {i}\n"));
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut got = Vec::new();
    quiet
        .read_to_end(&mut got)
        .expect("closed by its idle deadline");
    assert!(got.is_empty());
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(800),
        "closed early: {waited:?}"
    );
    // The busy one is still open, then times out in turn.
    send(&mut busy, b"still here\n");
    assert_eq!(read_line(&mut busy_reader), "still here\n");
    let mut rest = Vec::new();
    busy_reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    eventually("both sessions dropped", || server.stats.alive() == 0);
    server.stop().unwrap();
}

#[test]
fn shutdown_finishes_responses_in_flight_then_returns() {
    const TOTAL: u64 = 32 * 1024 * 1024;
    let mut server = Server::start(2, 100, TestFactory::new());
    let idle = server.connect();
    let mut busy = server.connect();
    send(&mut busy, format!("stream {TOTAL}\n").as_bytes());
    let mut first = [0; 1024];
    busy.read_exact(&mut first).unwrap();
    eventually("both connections accepted", || {
        Stats::get(&server.stats.created) == 2
    });

    server.shutdown.request();
    // The idle connection has nothing in flight: it is closed at once.
    let mut idle = idle;
    let mut got = Vec::new();
    idle.read_to_end(&mut got).unwrap();
    assert!(got.is_empty());
    // New connections are refused once the listeners are gone.
    eventually("the listener is closed", || {
        std::net::TcpStream::connect(server.addr).is_err()
    });
    // The response in flight completes, then the server closes it and returns.
    let mut rest = Vec::new();
    busy.read_to_end(&mut rest).unwrap();
    assert_eq!(rest.len() as u64 + 1024, TOTAL);
    server.stop().expect("serve_tcp returns Ok");
    assert_eq!(server.stats.alive(), 0);
}

#[test]
fn shutdown_cuts_what_outlasts_the_grace_period() {
    let mut server =
        Server::start_with_grace(1, 100, Duration::from_millis(300), TestFactory::new());
    let mut stalled = server.connect();
    send(&mut stalled, b"stream 1000000000\n");
    eventually("streaming started", || {
        Stats::get(&server.stats.produced) > 0
    });
    let start = Instant::now();
    server
        .stop()
        .expect("serve_tcp returns Ok after the grace period");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250),
        "returned before the grace period: {took:?}"
    );
    assert_eq!(server.stats.alive(), 0);
    drop(stalled);
}

#[test]
fn byte_at_a_time_input_gives_the_same_answers() {
    let mut server = Server::start(1, 100, TestFactory::new());
    let mut c = server.connect();
    c.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(c.try_clone().unwrap());
    for &b in b"one\ntwo\n" {
        c.write_all(&[b]).unwrap();
        c.flush().unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(read_line(&mut reader), "one\n");
    assert_eq!(read_line(&mut reader), "two\n");
    assert_eq!(Stats::get(&server.stats.bytes_received), 8);
    drop(reader);
    drop(c);
    eventually("closed", || server.stats.alive() == 0);
    server.stop().unwrap();
}

#[test]
fn closing_with_unread_input_still_delivers_the_last_answer() {
    let mut server = Server::start(1, 100, TestFactory::new());
    for _ in 0..5 {
        let mut c = server.connect();
        // `quit` ends the session with input still unread behind it: closing outright would
        // reset the connection and could destroy `bye` before the client reads it.
        let mut data = b"quit\n".to_vec();
        data.resize(100_000, b'z');
        send(&mut c, &data);
        let mut got = Vec::new();
        c.read_to_end(&mut got)
            .expect("an orderly end of stream, not a reset");
        assert_eq!(got, b"bye\n");
    }
    eventually("sessions dropped", || server.stats.alive() == 0);
    server.stop().unwrap();
}
