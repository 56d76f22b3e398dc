//! Load from real tools and many connections: ab -k, wrk, and 1,000 concurrent keep-alive
//! connections each doing several requests. These check correctness under load (every request
//! answered, no errors), not speed; speed is measured by the benches.

use portline_tests::*;
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// The value after `label` on the line of ab/wrk output that starts with it.
fn field<'a>(output: &'a str, label: &str) -> Option<&'a str> {
    output
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .map(str::trim)
}

matrix!(
    ab_keepalive,
    threads_option,
    wrk_no_errors,
    thousand_keepalive_connections
);

/// ab -k -n 200 -c 10: every request answered, all on kept-alive connections, none failed.
fn ab_keepalive(fe: Frontend) {
    if !require("ab") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--quiet"]);
    let out = run(
        Command::new("ab")
            .args(["-k", "-n", "200", "-c", "10", "-s", "10"])
            .arg(server.url("/hello.txt")),
        Duration::from_secs(60),
    );
    let text = stdout_ok(&out, "ab -k");
    assert_eq!(field(&text, "Complete requests:"), Some("200"), "{text}");
    assert_eq!(field(&text, "Failed requests:"), Some("0"), "{text}");
    assert_eq!(field(&text, "Keep-Alive requests:"), Some("200"), "{text}");
    assert_eq!(field(&text, "Document Length:"), Some("21 bytes"), "{text}");
    assert!(field(&text, "Non-2xx responses:").is_none(), "{text}");
    // And a 100 KiB file, so responses span several writes.
    let out = run(
        Command::new("ab")
            .args(["-k", "-n", "100", "-c", "10", "-s", "10"])
            .arg(server.url("/data.bin")),
        Duration::from_secs(60),
    );
    let text = stdout_ok(&out, "ab -k data.bin");
    assert_eq!(field(&text, "Complete requests:"), Some("100"), "{text}");
    assert_eq!(field(&text, "Failed requests:"), Some("0"), "{text}");
    assert_eq!(field(&text, "Keep-Alive requests:"), Some("100"), "{text}");
    assert_eq!(
        field(&text, "Document Length:"),
        Some("102400 bytes"),
        "{text}"
    );
}

/// --threads 1 and --threads 3 (several event loops sharing the port): ab -k all answered.
fn threads_option(fe: Frontend) {
    if !require("ab") {
        return;
    }
    let fx = Fixture::new();
    for threads in ["1", "3"] {
        let server = fe.serve_http_with(&fx.root, &["--quiet", "--threads", threads]);
        let out = run(
            Command::new("ab")
                .args(["-k", "-n", "300", "-c", "12", "-s", "10"])
                .arg(server.url("/hello.txt")),
            Duration::from_secs(60),
        );
        let text = stdout_ok(&out, "ab -k");
        assert_eq!(
            field(&text, "Complete requests:"),
            Some("300"),
            "--threads {threads}: {text}"
        );
        assert_eq!(
            field(&text, "Failed requests:"),
            Some("0"),
            "--threads {threads}: {text}"
        );
        assert_eq!(
            field(&text, "Keep-Alive requests:"),
            Some("300"),
            "--threads {threads}: {text}"
        );
    }
}

/// wrk -t1 -c50 -d3s: no socket errors, no non-2xx, some requests done.
fn wrk_no_errors(fe: Frontend) {
    if !require("wrk") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--quiet"]);
    let out = run(
        Command::new("wrk")
            .args(["-t1", "-c50", "-d3s", "--timeout", "5s"])
            .arg(server.url("/hello.txt")),
        Duration::from_secs(30),
    );
    let text = stdout_ok(&out, "wrk");
    assert!(!text.contains("Socket errors"), "{text}");
    assert!(!text.contains("Non-2xx or 3xx responses"), "{text}");
    let requests: u64 = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in:\n{text}"));
    assert!(requests >= 50, "only {requests} requests in 3 s:\n{text}");
    assert!(
        server.log().iter().all(|l| !l.contains("panic")),
        "{:?}",
        server.log()
    );
}

/// 1,000 connections open at once, each doing 3 keep-alive requests (HTTP/1.1 and HTTP/1.0
/// with `Connection: keep-alive` alternately), every answer checked. The idle timeout is
/// raised to 30 s: connections wait for all the others to connect before their first request,
/// and how fast a server accepts a burst is a matter for the benches, not this test.
fn thousand_keepalive_connections(fe: Frontend) {
    const THREADS: usize = 4;
    const ROUNDS: usize = 3;
    // One descriptor per connection here, and as many in the server (which inherits the limit).
    let limit = usize::try_from(raise_open_files_limit()).unwrap_or(usize::MAX);
    let total = 1000.min(limit.saturating_sub(100) / THREADS * THREADS);
    if total < 1000 {
        assert!(
            !peers_required(),
            "open-files hard limit {limit} is too low for 1000 connections (PORTLINE_REQUIRE_PEERS=1)"
        );
        eprintln!(
            "notice: open-files limit {limit}: only {total} connections (raise `ulimit -n` for 1000)"
        );
    }
    let fx = Fixture::new();
    let server = fe.serve_http_with(
        &fx.root,
        &[
            "--quiet",
            "--max-connections",
            "2000",
            "--idle-timeout",
            "30",
            "--first-byte-timeout",
            "30",
        ],
    );
    let addr = server.addr();
    let connected = Arc::new(Barrier::new(THREADS + 1));
    let round_done = Arc::new(Barrier::new(THREADS + 1));
    // Workers keep their connections open until the main thread has measured the server.
    let hold = Arc::new(Barrier::new(THREADS + 1));
    assert_eq!(get(addr, "/hello.txt").body, HELLO);
    let rss_before = server.rss_kib();
    let per_thread = total / THREADS;
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let connected = Arc::clone(&connected);
            let round_done = Arc::clone(&round_done);
            let hold = Arc::clone(&hold);
            std::thread::spawn(move || -> Result<usize, String> {
                // Requests are written through `get_mut` only between whole responses, when the
                // read buffer is empty.
                let mut conns: Vec<BufReader<TcpStream>> = Vec::new();
                let mut error = None;
                for _ in 0..per_thread {
                    match TcpStream::connect_timeout(&addr, Duration::from_secs(10)) {
                        Ok(s) => {
                            match s.set_read_timeout(Some(Duration::from_secs(15))) {
                                Ok(()) => conns.push(BufReader::new(s)),
                                Err(e) => {
                                    error = Some(format!("socket setup: {e}"));
                                    break;
                                }
                            }
                        }
                        Err(e) => {
                            error = Some(format!("connect: {e}"));
                            break;
                        }
                    }
                }
                connected.wait();
                let mut answered = 0;
                for round in 0..ROUNDS {
                    if error.is_none() {
                        for (i, r) in conns.iter_mut().enumerate() {
                            let (path, version, extra) = request_for(t, i, round);
                            let req = format!("GET {path} {version}\r\nHost: x\r\n{extra}\r\n");
                            if let Err(e) = r.get_mut().write_all(req.as_bytes()) {
                                error = Some(format!("conn {t}/{i} round {round}: write: {e}"));
                                break;
                            }
                        }
                    }
                    if error.is_none() {
                        for (i, r) in conns.iter_mut().enumerate() {
                            let (path, _, _) = request_for(t, i, round);
                            match read_response(r, false) {
                                Ok(resp) if resp.status == 200 && resp.body == expected_body(path) => {
                                    if resp.header("connection").is_none_or(|v| !v.eq_ignore_ascii_case("keep-alive")) {
                                        error = Some(format!("conn {t}/{i} round {round}: no Connection: keep-alive: {:?}", resp.headers));
                                        break;
                                    }
                                    answered += 1;
                                }
                                Ok(resp) => {
                                    error = Some(format!("conn {t}/{i} round {round}: {} {} ({} bytes)", resp.status, resp.reason, resp.body.len()));
                                    break;
                                }
                                Err(e) => {
                                    error = Some(format!("conn {t}/{i} round {round}: read: {e}"));
                                    break;
                                }
                            }
                        }
                    }
                    round_done.wait();
                }
                hold.wait();
                match error {
                    Some(e) => Err(e),
                    None => Ok(answered),
                }
            })
        })
        .collect();
    let started = Instant::now();
    connected.wait();
    let connect_time = started.elapsed();
    // After round 1 every connection has been accepted: the server holds them all at once.
    round_done.wait();
    let fds = server.fd_count();
    for _ in 1..ROUNDS {
        round_done.wait();
    }
    // Every connection is now idle between requests.
    sleep_ms(200);
    let rss_idle = server.rss_kib();
    hold.wait();
    let per_conn = rss_idle.saturating_sub(rss_before) as f64 / total as f64;
    eprintln!(
        "portline-{}: RSS {rss_before} KiB before, {rss_idle} KiB with {total} idle kept-alive \
         connections ({per_conn:.1} KiB each)",
        fe.name()
    );
    eprintln!(
        "{total} connections: connected in {:.2}s, {ROUNDS} rounds done after {:.2}s",
        connect_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let mut answered = 0;
    let mut errors = Vec::new();
    for w in workers {
        match w.join().expect("worker panicked") {
            Ok(n) => answered += n,
            Err(e) => errors.push(e),
        }
    }
    assert!(
        errors.is_empty(),
        "{} of {total} connections failed, e.g. {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert_eq!(answered, total * ROUNDS);
    assert!(
        fds >= total,
        "server had {fds} fds open with {total} connections held"
    );
    if fe.name() == "mio" {
        // Issue 5: idle connections hold no read or write buffer (they go back to a pool).
        assert!(
            per_conn <= 4.0,
            "portline-mio holds {per_conn:.1} KiB per idle connection; buffers not pooled?"
        );
    }
}

/// Path, version and extra header line for connection `i` of thread `t` in `round`.
fn request_for(t: usize, i: usize, round: usize) -> (&'static str, &'static str, &'static str) {
    let path = if (t + i + round) % 2 == 0 {
        "/hello.txt"
    } else {
        "/tree/a.txt"
    };
    if i % 2 == 0 {
        (path, "HTTP/1.1", "")
    } else {
        (path, "HTTP/1.0", "Connection: keep-alive\r\n")
    }
}

fn expected_body(path: &str) -> &'static [u8] {
    match path {
        "/hello.txt" => HELLO,
        _ => b"file a\n",
    }
}
