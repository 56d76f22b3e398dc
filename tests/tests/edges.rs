//! Edge cases over raw sockets: odd file names in listings, encoded paths and queries, bad
//! dates, byte-at-a-time requests, deep pipelines read slowly, many lines in flight on the line
//! services, a chargen client that never reads, and shutdown with open line connections.

use portline_tests::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::time::Duration;

/// The names in `odd/` and their contents.
const ODD_FILES: &[(&str, &[u8])] = &[
    ("with space.txt", b"space\n"),
    ("a&b<c>.txt", b"markup\n"),
    ("caf\u{e9}.txt", b"accent\n"),
    ("100%.txt", b"percent\n"),
    ("q?mark.txt", b"question\n"),
];

/// The `href="..."` values of an HTML page.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

matrix!(
    listing_odd_names,
    encoded_paths_and_queries,
    dates,
    byte_at_a_time,
    deep_pipeline_slow_reader,
    many_lines_in_flight,
    chargen_unread_client,
    line_server_sigterm,
    keepalive_mixed_statuses,
    special_files_refused,
    default_root_is_current_dir,
    symlinks_inside_root,
    head_limits
);

/// A listing of files with spaces, markup characters, UTF-8, `%` and `?` in their names:
/// names are escaped in the HTML, and every link fetches its file.
fn listing_odd_names(fe: Frontend) {
    let fx = Fixture::new();
    let odd = fx.root.join("odd");
    std::fs::create_dir(&odd).unwrap();
    for (name, content) in ODD_FILES {
        std::fs::write(odd.join(name), content).unwrap();
    }
    let server = fe.serve_http(&fx.root);
    let listing = get(server.addr(), "/odd/");
    assert_eq!(listing.status, 200);
    let html = String::from_utf8_lossy(&listing.body).into_owned();
    assert!(
        !html.contains("a&b<c>"),
        "unescaped name in the listing:\n{html}"
    );
    let links = hrefs(&html);
    for (name, content) in ODD_FILES {
        let found = links.iter().find_map(|href| {
            let target = if href.starts_with('/') {
                href.clone()
            } else {
                format!("/odd/{href}")
            };
            let resp = get(server.addr(), &target);
            (resp.status == 200 && resp.body == *content).then_some(target)
        });
        assert!(
            found.is_some(),
            "no link in the listing fetches {name:?}; links: {links:?}"
        );
    }
}

/// Percent-encoded paths, queries, and HEAD of a listing.
fn encoded_paths_and_queries(fe: Frontend) {
    let fx = Fixture::new();
    std::fs::write(fx.root.join("with space.txt"), b"space\n").unwrap();
    let server = fe.serve_http(&fx.root);
    for path in [
        "/%68ello.txt",
        "/hello%2Etxt",
        "/hello.txt?x=1&y=%2F..%2F",
        "/./hello.txt",
    ] {
        let resp = get(server.addr(), path);
        assert_eq!((resp.status, resp.body.as_slice()), (200, HELLO), "{path}");
    }
    let resp = get(server.addr(), "/with%20space.txt");
    assert_eq!((resp.status, resp.body.as_slice()), (200, &b"space\n"[..]));
    let resp = exchange(server.addr(), b"HEAD /tree/ HTTP/1.0\r\n\r\n");
    assert_eq!(resp.status, 200);
    assert!(
        resp.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    // A malformed escape is a client error, not a crash.
    let resp = get(server.addr(), "/hello%zz.txt");
    assert!([400, 404].contains(&resp.status), "{}", resp.status);
    assert_eq!(get(server.addr(), "/hello.txt").body, HELLO);
}

/// Date and Last-Modified are IMF-fixdate; a bad If-Modified-Since is ignored (200).
fn dates(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let resp = get(server.addr(), "/hello.txt");
    for name in ["date", "last-modified"] {
        let value = resp.header(name).unwrap_or_else(|| panic!("no {name}"));
        // Sun, 06 Nov 1994 08:49:37 GMT
        let b = value.as_bytes();
        assert!(
            b.len() == 29
                && b[3] == b','
                && value.ends_with(" GMT")
                && b[19] == b':'
                && b[22] == b':',
            "{name}: {value:?} is not an IMF-fixdate"
        );
    }
    for bad in [
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37",
        "",
        "Sun, 99 Nov 1994 08:49:37 GMT",
    ] {
        let req = format!("GET /hello.txt HTTP/1.0\r\nIf-Modified-Since: {bad}\r\n\r\n");
        let resp = exchange(server.addr(), req.as_bytes());
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (200, HELLO),
            "If-Modified-Since: {bad:?}"
        );
    }
}

/// A request sent one byte at a time, with pauses, is answered normally.
fn byte_at_a_time(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let mut s = connect(server.addr());
    s.set_nodelay(true).unwrap();
    for byte in b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" {
        s.write_all(&[*byte]).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let resp = read_response(&mut BufReader::new(s), false).unwrap();
    assert_eq!((resp.status, resp.body.as_slice()), (200, HELLO));
}

/// 20 pipelined requests for 100 KiB each, read slowly: every response complete, in order
/// (partial writes and the unwritten tail handled).
fn deep_pipeline_slow_reader(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let mut s = connect(server.addr());
    let mut batch = Vec::new();
    for i in 0..20 {
        let path = if i % 5 == 4 {
            "/hello.txt"
        } else {
            "/data.bin"
        };
        batch.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    s.write_all(&batch).unwrap();
    let mut reader = BufReader::with_capacity(8192, s);
    for i in 0..20 {
        if i % 4 == 0 {
            std::thread::sleep(Duration::from_millis(30));
        }
        let resp =
            read_response(&mut reader, false).unwrap_or_else(|e| panic!("response {i}: {e}"));
        assert_eq!(resp.status, 200, "response {i}");
        let want: &[u8] = if i % 5 == 4 { HELLO } else { &fx.data };
        assert!(
            resp.body == want,
            "response {i}: wrong body ({} bytes)",
            resp.body.len()
        );
    }
}

/// 10,000 lines in flight to the info and echo services (written by one thread, read by
/// another): every reply, in order; then a half-close ends the session cleanly.
fn many_lines_in_flight(fe: Frontend) {
    for service in ["info", "echo"] {
        let server = fe.serve_line(service);
        let stream = connect(server.addr());
        let mut writer = stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            let mut all = Vec::new();
            for i in 0..10_000 {
                all.extend_from_slice(format!("ECHO line {i}\r\n").as_bytes());
            }
            writer.write_all(&all).unwrap();
            writer.shutdown(Shutdown::Write).unwrap();
        });
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        if service == "info" {
            reader.read_line(&mut line).unwrap();
            assert!(line.starts_with("220 "), "{line}");
        }
        for i in 0..10_000 {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let want = if service == "info" {
                format!("250 line {i}\r\n")
            } else {
                format!("ECHO line {i}\r\n")
            };
            assert_eq!(line, want, "{service}: reply {i}");
        }
        let mut rest = Vec::new();
        reader
            .read_to_end(&mut rest)
            .expect("closed after the half-close");
        assert!(
            rest.is_empty(),
            "{service}: {:?}",
            String::from_utf8_lossy(&rest)
        );
        sender.join().unwrap();
    }
}

/// chargen to a client that does not read: the server sends only as fast as the client
/// reads, so its memory does not grow; reading afterwards gives whole, rotating lines.
fn chargen_unread_client(fe: Frontend) {
    let server = fe.serve_line("chargen");
    sleep_ms(100);
    let baseline = server.rss_kib();
    let stream = connect(server.addr());
    sleep_ms(1500);
    let grown = server.rss_kib();
    assert!(
        grown <= baseline + 16 * 1024,
        "chargen buffered for a non-reader: {baseline} -> {grown} KiB"
    );
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    for _ in 0..1000 {
        line.clear();
        reader.read_until(b'\n', &mut line).unwrap();
        assert_eq!(line.len(), 74, "{:?}", String::from_utf8_lossy(&line));
    }
}

/// SIGTERM with open line-service connections (one idle, one mid-conversation): exit 0
/// within a bound.
fn line_server_sigterm(fe: Frontend) {
    let mut server = fe.serve_line("info");
    let idle = connect(server.addr());
    let mut talking = connect(server.addr());
    talking.write_all(b"ECHO before\r\n").unwrap();
    let mut reader = BufReader::new(talking.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "250 before\r\n");
    server.signal("TERM");
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("line server still running 10 s after SIGTERM");
    assert!(status.success(), "exit status {status}");
    drop(idle);
}

/// One kept-alive connection through every kind of response: 404, HEAD, 304, 405, a
/// listing, a file. Each must be framed exactly (no body after HEAD or 304), or the next
/// response would not parse.
fn keepalive_mixed_statuses(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let last_modified = get(server.addr(), "/hello.txt")
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();
    for version in ["HTTP/1.1", "HTTP/1.0"] {
        let keep = if version == "HTTP/1.0" {
            "Connection: keep-alive\r\n"
        } else {
            ""
        };
        let mut s = connect(server.addr());
        let mut r = BufReader::new(s.try_clone().unwrap());
        let steps: Vec<(String, bool, u16)> = vec![
            (
                format!("GET /missing {version}\r\nHost: x\r\n{keep}\r\n"),
                false,
                404,
            ),
            (
                format!("HEAD /data.bin {version}\r\nHost: x\r\n{keep}\r\n"),
                true,
                200,
            ),
            (
                format!(
                    "GET /hello.txt {version}\r\nHost: x\r\nIf-Modified-Since: {last_modified}\r\n{keep}\r\n"
                ),
                false,
                304,
            ),
            (
                format!("DELETE /hello.txt {version}\r\nHost: x\r\n{keep}\r\n"),
                false,
                405,
            ),
            (
                format!("GET /tree/ {version}\r\nHost: x\r\n{keep}\r\n"),
                false,
                200,
            ),
            (
                format!("HEAD /missing {version}\r\nHost: x\r\n{keep}\r\n"),
                true,
                404,
            ),
            (
                format!("GET /hello.txt {version}\r\nHost: x\r\n{keep}\r\n"),
                false,
                200,
            ),
        ];
        for (i, (request, head, status)) in steps.iter().enumerate() {
            s.write_all(request.as_bytes())
                .unwrap_or_else(|e| panic!("{version} step {i}: write: {e}"));
            let resp = read_response(&mut r, *head)
                .unwrap_or_else(|e| panic!("{version} step {i} ({request:?}): {e}"));
            assert_eq!(resp.status, *status, "{version} step {i}: {request:?}");
            assert!(
                resp.header("connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("keep-alive")),
                "{version} step {i}: {} without Connection: keep-alive: {:?}",
                resp.status,
                resp.headers
            );
        }
        let resp_body = {
            s.write_all(
                format!("GET /hello.txt {version}\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .unwrap();
            read_response(&mut r, false).unwrap().body
        };
        assert_eq!(resp_body, HELLO);
    }
}

/// Head size limits: a 12 KiB head and 90 headers are served; 150 headers are refused with a
/// 4xx, never a crash.
fn head_limits(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let big_value = "v".repeat(12 * 1024);
    let resp = exchange(
        server.addr(),
        format!("GET /hello.txt HTTP/1.0\r\nX-Big: {big_value}\r\n\r\n").as_bytes(),
    );
    assert_eq!((resp.status, resp.body.as_slice()), (200, HELLO));
    let many: String = (0..90).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    let resp = exchange(
        server.addr(),
        format!("GET /hello.txt HTTP/1.0\r\n{many}\r\n").as_bytes(),
    );
    assert_eq!((resp.status, resp.body.as_slice()), (200, HELLO));
    let too_many: String = (0..150).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    let resp = exchange(
        server.addr(),
        format!("GET /hello.txt HTTP/1.0\r\n{too_many}\r\n").as_bytes(),
    );
    assert!(
        [400, 431].contains(&resp.status),
        "150 headers: {}",
        resp.status
    );
    assert_eq!(get(server.addr(), "/hello.txt").body, HELLO);
}

/// A FIFO in the root (opening it would block until a writer comes): refused with 403 or 404
/// at once, and the server keeps serving (nothing blocks a loop or executor thread).
fn special_files_refused(fe: Frontend) {
    let fx = Fixture::new();
    let made = std::process::Command::new("mkfifo")
        .arg(fx.root.join("pipe"))
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("notice: mkfifo failed; test skipped");
        return;
    }
    let server = fe.serve_http_with(&fx.root, &["--threads", "1"]);
    let mut pipe = connect(server.addr());
    pipe.write_all(b"GET /pipe HTTP/1.0\r\n\r\n").unwrap();
    let resp = get(server.addr(), "/hello.txt");
    assert_eq!((resp.status, resp.body.as_slice()), (200, HELLO));
    let resp = read_response(&mut BufReader::new(pipe), false).expect("an answer for the FIFO");
    assert!([403, 404].contains(&resp.status), "FIFO: {}", resp.status);
}

/// Without --root the current folder is served.
fn default_root_is_current_dir(fe: Frontend) {
    let fx = Fixture::new();
    let mut cmd = fe.command(["serve", "http", "--listen", "127.0.0.1:0"]);
    cmd.current_dir(&fx.root);
    let server = Server::start_command(fe, cmd, "http");
    let resp = get(server.addr(), "/hello.txt");
    assert_eq!((resp.status, resp.body.as_slice()), (200, HELLO));
    let resp = get(server.addr(), "/../secret.txt");
    assert!([403, 404].contains(&resp.status), "{}", resp.status);
}

/// Symlinks that stay inside the root are followed (file and directory, relative and
/// absolute); a chain that ends outside is refused.
fn symlinks_inside_root(fe: Frontend) {
    use std::os::unix::fs::symlink;
    let fx = Fixture::new();
    symlink("hello.txt", fx.root.join("link.txt")).unwrap();
    symlink("tree/sub", fx.root.join("sublink")).unwrap();
    symlink(fx.root.join("tree/a.txt"), fx.root.join("abs_link.txt")).unwrap();
    symlink("escape.txt", fx.root.join("chain.txt")).unwrap();
    let server = fe.serve_http(&fx.root);
    let resp = get(server.addr(), "/link.txt");
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (200, HELLO),
        "link.txt"
    );
    let resp = get(server.addr(), "/sublink/c.txt");
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (200, &b"file c, one level down\n"[..]),
        "sublink/c.txt"
    );
    let resp = get(server.addr(), "/abs_link.txt");
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (200, &b"file a\n"[..]),
        "abs_link.txt"
    );
    let resp = get(server.addr(), "/chain.txt");
    assert!(
        [403, 404].contains(&resp.status),
        "chain.txt -> escape.txt -> outside: {}",
        resp.status
    );
    assert!(!String::from_utf8_lossy(&resp.body).contains(SECRET_MARKER));
}
