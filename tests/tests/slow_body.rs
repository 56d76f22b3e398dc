//! Slow and refused request bodies (issue 11 §3, "R.U.D.Y.") and silent new connections
//! (§2, the first-byte timeout), on every binary: a stalled body is cut off by
//! `--body-timeout`, a request the file server refuses is answered at its head whatever its
//! body does, and a connection that sends nothing is closed by `--first-byte-timeout`.

use std::io::{BufReader, Read, Write};
use std::time::{Duration, Instant};

use portline_tests::*;

matrix!(
    a_stalled_body_gets_408_within_the_body_timeout,
    a_stalled_body_after_an_early_answer_is_closed,
    a_huge_body_that_never_comes_is_refused_at_once,
    a_refused_body_being_sent_does_not_reset_the_answer,
    a_short_refused_body_keeps_the_connection,
    a_silent_connection_is_closed_after_the_first_byte_timeout
);

/// How long a server under this machine's load may take past a 1 s timeout before the test
/// calls it stuck (the default timeouts are 20 s and 60 s, far beyond it).
const SLACK: Duration = Duration::from_secs(8);

/// Reads until the server closes; how long that took.
fn time_to_close(stream: &mut std::net::TcpStream) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let got = read_to_close(stream);
    (got, started.elapsed())
}

/// `--echo` reads whole bodies: a POST that sends its head and part of its body, then stalls,
/// gets 408 about `--body-timeout` after its last byte, and the connection closes.
fn a_stalled_body_gets_408_within_the_body_timeout(fe: Frontend) {
    let server = fe.serve_echo_with(&["--quiet", "--body-timeout", "1"]);
    for request in [
        &b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"[..],
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\na\r\n01234",
    ] {
        let mut stream = connect(server.addr());
        stream.write_all(request).unwrap();
        let (reply, took) = time_to_close(&mut stream);
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.starts_with("HTTP/1.0 408 "), "{reply}");
        assert!(reply.contains("Connection: close\r\n"), "{reply}");
        assert!(
            took >= Duration::from_millis(800),
            "408 after only {took:?}"
        );
        assert!(took < SLACK, "408 after {took:?}");
    }
    // A body that keeps coming, one byte every 400 ms for 2 s in all, is not cut off.
    let mut stream = connect(server.addr());
    stream
        .write_all(b"POST /slow HTTP/1.0\r\nContent-Length: 5\r\n\r\n")
        .unwrap();
    for b in b"hello" {
        std::thread::sleep(Duration::from_millis(400));
        stream.write_all(&[*b]).unwrap();
    }
    let reply = read_response(&mut BufReader::new(stream), false).unwrap();
    assert_eq!(reply.status, 200);
    assert!(
        String::from_utf8_lossy(&reply.body).contains("\"hello\""),
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

/// The file server answers the POST at its head (405); the rest of the body never comes, and
/// the body timeout then closes the connection, without a second answer.
fn a_stalled_body_after_an_early_answer_is_closed(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--quiet", "--body-timeout", "1"]);
    let mut stream = connect(server.addr());
    stream
        .write_all(b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123")
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let answer = read_response(&mut reader, false).unwrap();
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("connection"), Some("keep-alive"));
    let started = Instant::now();
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).expect("closed, not reset");
    let took = started.elapsed();
    assert!(
        rest.is_empty(),
        "nothing after the 405: {:?}",
        String::from_utf8_lossy(&rest)
    );
    assert!(took < SLACK, "closed after {took:?}");
}

/// `Content-Length: 100000000` and no body: the 405 comes at once (not after a body that
/// never comes, nor after the 60 s body timeout), says `Connection: close`, and the client
/// reads it to a clean end of stream.
fn a_huge_body_that_never_comes_is_refused_at_once(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--quiet"]);
    let mut stream = connect(server.addr());
    let started = Instant::now();
    stream
        .write_all(b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let answer = read_response(&mut reader, false).unwrap();
    let took = started.elapsed();
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), Some("GET, HEAD"));
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    let mut rest = Vec::new();
    reader
        .read_to_end(&mut rest)
        .expect("a clean end of stream, not a reset");
    assert!(rest.is_empty());
    // A PUT and a GET with a body get their 405 and 404 the same way.
    for (request, status) in [
        (
            &b"PUT /new.txt HTTP/1.0\r\nContent-Length: 100000000\r\n\r\n"[..],
            405,
        ),
        (
            b"GET /missing HTTP/1.0\r\nContent-Length: 100000000\r\n\r\n",
            404,
        ),
    ] {
        let started = Instant::now();
        assert_eq!(exchange(server.addr(), request).status, status);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

/// A client that sends its long body before reading leaves unread bytes in the server's
/// socket when the server closes: the lingering close reads and drops them, so the client
/// still reads the answer instead of a reset.
fn a_refused_body_being_sent_does_not_reset_the_answer(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--quiet"]);
    let mut stream = connect(server.addr());
    stream
        .write_all(b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        .unwrap();
    // 128 KiB of the body (within what the socket buffers take without blocking).
    stream.write_all(&vec![b'z'; 128 * 1024]).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let answer = read_response(&mut reader, false).expect("the answer, not a reset");
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(answer.body.starts_with(b"<!DOCTYPE html>"));
}

/// A short body (under the 256 KiB discard bound) is read and dropped after the early 405, and
/// the kept-alive connection serves the next request, whether the body came with the head or
/// after the client read the answer.
fn a_short_refused_body_keeps_the_connection(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--quiet"]);
    let body = vec![b'b'; 10_000];
    let head = format!(
        "POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    for body_first in [true, false] {
        let mut stream = connect(server.addr());
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        stream.write_all(head.as_bytes()).unwrap();
        if body_first {
            stream.write_all(&body).unwrap();
        }
        let answer = read_response(&mut reader, false).unwrap();
        assert_eq!(answer.status, 405);
        assert_eq!(answer.header("connection"), Some("keep-alive"));
        if !body_first {
            stream.write_all(&body).unwrap();
        }
        stream
            .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let next = read_response(&mut reader, false).unwrap();
        assert_eq!(next.status, 200, "body_first: {body_first}");
        assert_eq!(next.body, HELLO);
    }
}

/// A connection that sends nothing is closed after `--first-byte-timeout`, not after the
/// (here much longer) idle timeout of kept-alive connections, and without a byte.
fn a_silent_connection_is_closed_after_the_first_byte_timeout(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(
        &fx.root,
        &[
            "--quiet",
            "--first-byte-timeout",
            "1",
            "--idle-timeout",
            "30",
        ],
    );
    let mut silent = connect(server.addr());
    let (got, took) = time_to_close(&mut silent);
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    assert!(took >= Duration::from_millis(800), "closed after {took:?}");
    assert!(took < SLACK, "closed after {took:?}");
    // A connection that was answered stays for the idle timeout, past the first-byte one.
    let mut kept = connect(server.addr());
    kept.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(kept.try_clone().unwrap());
    assert_eq!(read_response(&mut reader, false).unwrap().body, HELLO);
    std::thread::sleep(Duration::from_millis(2_500));
    kept.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut reader, false).unwrap().body, HELLO);
}
