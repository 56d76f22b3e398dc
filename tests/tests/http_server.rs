//! The file server's issue-10 features against real clients: the access log's byte counts
//! (aborted transfers, 503s), validators (ETag, If-None-Match, If-Match, If-Unmodified-Since),
//! ranges (`curl -r`, `curl -C -`, `wget -c`, python `requests`), directories, precompressed
//! siblings, `--header`, `--cors`, `--404` and `--spa`.

use std::io::{Read, Write};
use std::time::Duration;

use portline_tests::*;

/// The access-log lines of `server` for requests of `path`.
fn log_lines(server: &Server, n: usize, needle: &str) -> Vec<String> {
    server.wait_log(n, Duration::from_secs(10), |l| l.contains(needle))
}

/// The status and byte count at the end of a Common Log Format line.
fn status_and_bytes(line: &str) -> (u16, Option<u64>) {
    let mut parts = line.rsplitn(3, ' ');
    let bytes = parts.next().and_then(|b| b.parse().ok());
    let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, bytes)
}

matrix!(access_log_counts_bytes_actually_sent, access_log_has_503s);

/// A complete download logs its full size; a client that reads a little of a large file and
/// hangs up gets a line with the bytes that went out, fewer than the file's size.
fn access_log_counts_bytes_actually_sent(fe: Frontend) {
    let fx = Fixture::new();
    // 256 MiB (sparse): far more than loopback socket buffers hold.
    let huge = 256u64 << 20;
    std::fs::File::create(fx.root.join("huge.bin"))
        .and_then(|f| f.set_len(huge))
        .expect("huge.bin");
    let server = fe.serve_http(&fx.root);

    let whole = get(server.addr(), "/big.bin");
    assert_eq!(whole.body.len(), fx.big.len());
    let line = log_lines(&server, 1, "GET /big.bin ");
    assert_eq!(line.len(), 1, "{:?}", server.log());
    assert_eq!(
        status_and_bytes(&line[0]),
        (200, Some(fx.big.len() as u64)),
        "{}",
        line[0]
    );

    let mut stream = connect(server.addr());
    stream
        .write_all(b"GET /huge.bin HTTP/1.0\r\n\r\n")
        .expect("send");
    let mut first = vec![0u8; 256 * 1024];
    stream.read_exact(&mut first).expect("first bytes");
    drop(stream);
    let line = log_lines(&server, 1, "GET /huge.bin ");
    assert_eq!(
        line.len(),
        1,
        "no line for the aborted transfer: {:?}",
        server.log()
    );
    let (status, bytes) = status_and_bytes(&line[0]);
    assert_eq!(status, 200, "{}", line[0]);
    let bytes = bytes.unwrap_or_else(|| panic!("no byte count: {}", line[0]));
    assert!(
        bytes > 0 && bytes < huge / 2,
        "an aborted transfer logged {bytes} of {huge} bytes: {}",
        line[0]
    );

    // A HEAD sends no body: `-`.
    exchange(server.addr(), b"HEAD /big.bin HTTP/1.0\r\n\r\n");
    let line = log_lines(&server, 1, "HEAD /big.bin ");
    assert!(
        line.first().is_some_and(|l| l.ends_with(" 200 -")),
        "{line:?}"
    );
}

/// A connection refused over `--max-connections` gets a 503, and the 503 is logged. (The slot
/// is held by a request whose body never comes: an idle connection would be closed instead.)
fn access_log_has_503s(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--max-connections", "1", "--threads", "1"]);
    let mut held = connect(server.addr());
    held.write_all(b"PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
        .expect("send");
    sleep_ms(300);
    let mut refused = connect(server.addr());
    let reply = read_to_close(&mut refused);
    assert!(
        reply.starts_with(b"HTTP/1.0 503"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    let lines = log_lines(&server, 1, " 503 ");
    assert_eq!(lines.len(), 1, "503 not logged: {:?}", server.log());
    assert!(
        lines[0].starts_with("127.0.0.1 - - [") && lines[0].ends_with("\"-\" 503 32"),
        "{}",
        lines[0]
    );
}
