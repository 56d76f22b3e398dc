//! No file descriptor is left behind by connections that close, reset or send garbage.
//! (Its own test binary: the count is of the whole process, so nothing else may run beside it.)

mod support;

use std::io::{BufReader, Read};
use std::net::Shutdown;
use std::time::Duration;

use support::{Server, TestFactory, eventually, read_line, send};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd lists this process's descriptors")
        .count()
}

#[test]
fn descriptors_return_to_the_baseline_after_connections_close() {
    let mut server = Server::start(2, 1_000, TestFactory::new());
    // Warm up: the first connection may allocate lazily (epoll event buffers, the pool).
    {
        let mut c = server.connect();
        send(&mut c, b"warm\n");
        let mut r = BufReader::new(c);
        assert_eq!(read_line(&mut r), "warm\n");
    }
    eventually("warm-up closed", || server.stats.alive() == 0);
    let baseline = open_fds();

    let mut conns = Vec::new();
    for i in 0..50 {
        let mut c = server.connect();
        send(&mut c, format!("hello {i}\n").as_bytes());
        conns.push(c);
    }
    eventually("all 50 accepted", || server.stats.alive() == 50);
    // Client sockets plus server sockets are open now.
    assert!(open_fds() >= baseline + 100, "connections hold descriptors");

    for (i, c) in conns.into_iter().enumerate() {
        match i % 4 {
            // Orderly: read the answer, half-close, read the end.
            0 => {
                let mut r = BufReader::new(c.try_clone().unwrap());
                assert_eq!(read_line(&mut r), format!("hello {i}\n"));
                c.shutdown(Shutdown::Write).unwrap();
                let mut rest = Vec::new();
                r.read_to_end(&mut rest).unwrap();
            }
            // Reset with a response in flight.
            1 => {
                let mut c = c;
                send(&mut c, b"stream 50000000\n");
                socket2::SockRef::from(&c)
                    .set_linger(Some(Duration::ZERO))
                    .unwrap();
            }
            // Garbage and an unterminated line, then a plain close.
            2 => {
                let mut c = c;
                send(&mut c, &[0xff, 0x00, 0xfe, b'\r', 0x80, b'x']);
            }
            // Close without reading anything.
            _ => drop(c),
        }
    }
    eventually("every session dropped", || server.stats.alive() == 0);
    eventually("descriptors back to the baseline", || {
        open_fds() <= baseline
    });
    server.stop().unwrap();
}
