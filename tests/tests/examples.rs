//! The examples an embedder reads first (`core/examples/`) run here against a short script on
//! 127.0.0.1, so they fail when the core's API or behaviour moves under them. They do not depend
//! on a frontend, so they run once, not per frontend.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::process::Command;
use std::time::{Duration, Instant};

use portline_tests::*;

fn start_example(name: &'static str, scheme: &str) -> Server {
    let mut command = Command::new(example("portline-core", name));
    command.arg("127.0.0.1:0");
    Server::start_program(command, scheme)
}

/// Keep-alive, a pipelined pair, a bad request answered 400 and closed.
#[test]
fn std_server_answers_keeps_alive_and_rejects_bad_requests() {
    let server = start_example("std_server", "http");
    let mut stream = connect(server.addr());
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    stream
        .write_all(b"GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let first = read_response(&mut reader, false).unwrap();
    assert_eq!(first.status, 200);
    assert_eq!(first.body, b"you asked for /one\n");
    assert_eq!(first.header("connection"), Some("keep-alive"));
    // Two pipelined requests on the same connection: answered in order.
    stream
        .write_all(b"GET /two HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.0\r\n\r\n")
        .unwrap();
    let two = read_response(&mut reader, false).unwrap();
    let three = read_response(&mut reader, false).unwrap();
    assert_eq!(two.body, b"you asked for /two\n");
    assert_eq!(three.body, b"you asked for /three\n");
    assert!(read_to_close(&mut stream).is_empty(), "HTTP/1.0 closes");

    let bad = exchange(server.addr(), b"GET / HTTP/1.0\r\nno colon here\r\n\r\n");
    assert_eq!(bad.status, 400, "{:?}", String::from_utf8_lossy(&bad.body));
}

/// The timer from `poll_timeout`: an idle kept-alive connection is closed after the core's idle
/// timeout (5 s), not held open forever and not closed at once.
#[test]
fn std_server_closes_an_idle_connection_on_its_timer() {
    let server = start_example("std_server", "http");
    let mut stream = connect(server.addr());
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let started = Instant::now();
    let mut byte = [0u8; 1];
    let n = stream.read(&mut byte).expect("closed, not timed out");
    let waited = started.elapsed();
    assert_eq!(n, 0, "nothing is sent to an idle connection");
    assert!(
        waited >= Duration::from_secs(4),
        "closed after {waited:?}, before the idle timeout"
    );
}

/// The client example against the server example: status 200, the body on stdout.
#[test]
fn std_client_fetches_from_std_server() {
    let server = start_example("std_server", "http");
    let addr = server.addr().to_string();
    let client = example("portline-core", "std_client");
    let out = run(
        Command::new(&client).args([&addr, "/from-client"]),
        PEER_TIMEOUT,
    );
    assert_eq!(
        stdout_ok(&out, "std_client"),
        "you asked for /from-client\n"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP/1.0 200 OK"));

    // A non-2xx is exit status 1: the std frontend's file server answers 404 for a missing file.
    let root = Fixture::new();
    let files = Frontend::named("std").serve_http(root.base());
    let out = run(
        Command::new(&client).args([&files.addr().to_string(), "/missing"]),
        PEER_TIMEOUT,
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("404"));
}

/// The line example: replies per line (LF or CRLF, split anywhere), an over-long line reported
/// and skipped, QUIT ends the session.
#[test]
fn line_server_answers_lines_and_quits() {
    let server = start_example("line_server", "tcp");
    let mut stream = connect(server.addr());
    stream.write_all(b"hel").unwrap();
    sleep_ms(50);
    stream.write_all(b"lo\r\nsecond\n").unwrap();
    let long = vec![b'x'; 9000];
    stream.write_all(&long).unwrap();
    stream.write_all(b"\nafter\nQUIT\r\n").unwrap();
    let text = String::from_utf8(read_to_close(&mut stream)).unwrap();
    assert_eq!(
        text,
        "you said: hello\r\nyou said: second\r\nerror: line too long (more than 8192 bytes)\r\n\
         you said: after\r\nbye\r\n"
    );

    // End of stream without QUIT ends the session too.
    let mut stream = connect(server.addr());
    stream.write_all(b"last").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_close(&mut stream), b"");
}

/// The tokio example (examples/tokio-server) against curl: two requests on one kept-alive
/// connection, HTTP/1.0, HEAD, and a bad request answered by the core's 400.
#[test]
fn tokio_server_serves_curl() {
    if !require("curl") {
        return;
    }
    let bin = package_binary("portline-tokio-example", "portline-tokio-server");
    let mut command = Command::new(bin);
    command.arg("127.0.0.1:0");
    let server = Server::start_program(command, "http");

    // Two URLs in one curl: the second reuses the connection (one connect in all).
    let out = run(
        Command::new("curl").args([
            "-sS",
            "-w",
            "[%{http_code} %{num_connects}]\n",
            &server.url("/a"),
            &server.url("/b?x=1"),
        ]),
        PEER_TIMEOUT,
    );
    assert_eq!(
        stdout_ok(&out, "curl"),
        "you asked for /a\n[200 1]\nyou asked for /b?x=1\n[200 0]\n"
    );

    let out = run(
        Command::new("curl").args(["-sS", "-i", "--http1.0", &server.url("/old")]),
        PEER_TIMEOUT,
    );
    let text = stdout_ok(&out, "curl --http1.0");
    assert!(text.starts_with("HTTP/1.0 200 OK\r\n"), "{text}");
    assert!(text.contains("Content-Length: 19\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nyou asked for /old\n"), "{text}");

    let out = run(
        Command::new("curl").args(["-sS", "-I", &server.url("/head")]),
        PEER_TIMEOUT,
    );
    let text = stdout_ok(&out, "curl -I");
    assert!(text.starts_with("HTTP/1.0 200 OK\r\n"), "{text}");
    assert!(text.contains("Content-Length: 20\r\n"), "{text}");

    // A header without a colon: the core's 400, sent by the tokio loop, then close.
    let out = run(
        Command::new("curl").args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "Bad Header;",
            &server.url("/"),
        ]),
        PEER_TIMEOUT,
    );
    let code = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(code, "400", "{out:?}");
}

/// The pitfall the std example (and `poll_timeout`'s docs) guard against: std refuses a zero
/// read timeout, which is what an already-due deadline turns into. If std ever accepts it, the
/// special case and its docs can go.
#[test]
fn std_refuses_a_zero_read_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = connect(listener.local_addr().unwrap());
    let err = stream
        .set_read_timeout(Some(Duration::ZERO))
        .expect_err("std accepted a zero read timeout");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
