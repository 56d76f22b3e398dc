//! Messages (issue 11 §2, docs/CLI.md "Messages"): the same failing command lines on the three
//! binaries give stderr lines in the one documented format, `PROGRAM: COMMAND: SUBJECT: CAUSE`
//! (with `warning: ` or `note: ` after COMMAND for those), identical but for the program name;
//! and a server stopped by SIGTERM says so in the same words in every binary.
//!
//! These tests compare the binaries with each other, so each runs all of them (those that
//! `PORTLINE_FRONTENDS` selects) instead of one per matrix entry.

use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::time::Duration;

use portline_tests::*;

/// The selected frontends.
fn frontends() -> Vec<Frontend> {
    ALL_FRONTENDS
        .into_iter()
        .filter(|name| selected(name))
        .map(Frontend::named)
        .collect()
}

/// The binary's file name, the PROGRAM of its messages.
fn program(fe: Frontend) -> String {
    format!("portline-{}", fe.name())
}

/// A port on which nothing listens (bound, then released).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Stderr with the program's name replaced by `PROGRAM`.
fn generic_stderr(fe: Frontend, out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).replace(&program(fe), "PROGRAM")
}

/// Checks one line against the documented shape: `PROGRAM: COMMAND: ` then, optionally,
/// `warning: ` or `note: `, then text; never Rust's `(os error N)`.
fn assert_message_shape(line: &str, command: &str) {
    let prefix = format!("PROGRAM: {command}: ");
    assert!(line.starts_with(&prefix), "{line:?} lacks {prefix:?}");
    assert!(!line.contains("(os error"), "a raw io::Error: {line:?}");
    assert!(!line.contains("error: "), "a second error label: {line:?}");
    assert!(
        line.len() > prefix.len(),
        "nothing after the prefix: {line:?}"
    );
}

/// Runs `args` on every binary; each must exit with `code` and write `want` (with `PROGRAM`
/// for the name) as its first stderr line, and all must write the same stderr but for the
/// name. Returns nothing: the assertions are the test.
fn same_everywhere(args: &[&str], code: i32, command: &str, want: &str) {
    let mut seen: Option<(Frontend, String)> = None;
    for fe in frontends() {
        let out = fe.run(args);
        let err = generic_stderr(fe, &out);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{} {args:?}: {err}",
            fe.name()
        );
        let first = err.lines().next().unwrap_or_default();
        assert_message_shape(first, command);
        assert_eq!(first, want, "{} {args:?}", fe.name());
        if let Some((other, text)) = &seen {
            assert_eq!(
                &err,
                text,
                "{args:?}: {} and {} differ beyond the name",
                fe.name(),
                other.name()
            );
        } else {
            seen = Some((fe, err));
        }
    }
}

#[test]
fn a_refused_connection_names_the_address_port_and_family() {
    let port = closed_port();
    same_everywhere(
        &["connect", &format!("127.0.0.1:{port}")],
        1,
        "connect",
        &format!("PROGRAM: connect: connect: 127.0.0.1:{port} (IPv4): Connection refused"),
    );
    same_everywhere(
        &["get", &format!("http://127.0.0.1:{port}/")],
        8,
        "get",
        &format!("PROGRAM: get: connect: 127.0.0.1:{port} (IPv4): Connection refused"),
    );
    same_everywhere(
        &["bench", "-d", "1", &format!("http://127.0.0.1:{port}/")],
        1,
        "bench",
        &format!("PROGRAM: bench: connect: 127.0.0.1:{port} (IPv4): Connection refused"),
    );
    if TcpListener::bind("[::1]:0").is_ok() {
        same_everywhere(
            &["connect", &format!("[::1]:{port}")],
            1,
            "connect",
            &format!("PROGRAM: connect: connect: [::1]:{port} (IPv6): Connection refused"),
        );
    } else {
        eprintln!("notice: no IPv6 loopback here; the IPv6 case is skipped");
    }
}

#[test]
fn bad_urls_are_url_errors_not_lookups() {
    same_everywhere(
        &["get", "ftp://x/"],
        6,
        "get",
        "PROGRAM: get: url: ftp://x/: unsupported URL scheme \"ftp\" \
         (only http:// and https:// are supported)",
    );
    // Once read as a host named `http` and reported as `resolve: http: ...` (exit 7).
    same_everywhere(
        &["get", "http:/127.0.0.1:1/"],
        6,
        "get",
        "PROGRAM: get: url: http:/127.0.0.1:1/: bad URL: \"//\" missing after \"http:\" \
         (write http://HOST/...)",
    );
    same_everywhere(
        &["bench", "-d", "1", "http:/127.0.0.1:1/"],
        1,
        "bench",
        "PROGRAM: bench: url: http:/127.0.0.1:1/: bad URL: \"//\" missing after \"http:\" \
         (write http://HOST/...)",
    );
    // Once "put an IPv6 address in brackets".
    same_everywhere(
        &["connect", "http://127.0.0.1:1/"],
        2,
        "connect",
        "PROGRAM: connect: invalid value 'http://127.0.0.1:1/' for '<ADDR>': \
         `http://127.0.0.1:1/`: a URL, not an address: give HOST:PORT (127.0.0.1:1)",
    );
}

#[test]
fn a_services_file_that_cannot_be_read_is_an_error_without_fallback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-services");
    let path = missing.to_str().expect("UTF-8 temp path");
    same_everywhere(
        &["services", "--file", path, "80"],
        1,
        "services",
        &format!("PROGRAM: services: {path}: No such file or directory"),
    );
    for fe in frontends() {
        let out = fe.run(&["services", "--file", path, "80"]);
        assert!(
            out.stdout.is_empty(),
            "{}: answered from another table: {}",
            fe.name(),
            String::from_utf8_lossy(&out.stdout)
        );
        let help = fe.run(&["services", "--help"]);
        let help = String::from_utf8_lossy(&help.stdout);
        assert!(
            help.contains("cannot be read is an error"),
            "the help says what happens: {help}"
        );
        assert!(!help.contains("falling back"), "{help}");
    }
}

#[test]
fn bad_flag_values_are_usage_errors_in_the_same_format() {
    same_everywhere(
        &["serve", "http", "--threads", "0"],
        2,
        "serve http",
        "PROGRAM: serve http: invalid value '0' for '--threads <N>': must be at least 1",
    );
    same_everywhere(
        &["get", "--connect-timeout", "soon", "http://127.0.0.1:1/"],
        2,
        "get",
        "PROGRAM: get: invalid value 'soon' for '--connect-timeout <SECS>': \
         `soon` is not a number of seconds",
    );
    same_everywhere(
        &["serve", "line", "--udp", "--tls"],
        2,
        "serve line",
        "PROGRAM: serve line: --udp with --tls: TLS needs TCP",
    );
}

#[test]
fn a_port_in_use_names_the_address() {
    let fx = Fixture::new();
    let Some(first) = frontends().into_iter().next() else {
        return;
    };
    let server = first.serve_http_with(&fx.root, &["--quiet"]);
    let addr = server.addr().to_string();
    same_everywhere(
        &["serve", "http", "--quiet", "--listen", &addr],
        1,
        "serve http",
        &format!("PROGRAM: serve http: listen {addr} (IPv4): Address already in use"),
    );
}

/// The lines a server wrote after its ready line that are messages (not the access log), once
/// `n` of them have been read from its stderr (or a time bound passed).
fn messages_of(server: &Server, n: usize) -> Vec<String> {
    let name = program(server.frontend());
    let prefix = format!("{name}: ");
    server
        .wait_log(n, Duration::from_secs(10), |l| l.starts_with(&prefix))
        .into_iter()
        .map(|l| l.replace(&name, "PROGRAM"))
        .collect()
}

const SIGTERM_NOTE: &str = "PROGRAM: serve http: note: SIGTERM: shutting down; work in flight \
                            gets up to 5s to finish (a second signal quits at once)";

#[test]
fn sigterm_on_an_idle_server_says_the_same_in_every_binary() {
    let fx = Fixture::new();
    for fe in frontends() {
        let mut server = fe.serve_http_with(&fx.root, &["--quiet"]);
        server.signal("TERM");
        let status = server.wait_exit(Duration::from_secs(20));
        assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", fe.name());
        assert_eq!(
            messages_of(&server, 2),
            [
                SIGTERM_NOTE,
                "PROGRAM: serve http: note: shutdown: stopped; nothing was cut short"
            ],
            "{}",
            fe.name()
        );
    }
}

/// A download the client never reads is still busy when the 5 s grace period ends: every binary
/// closes it and says so, in the same words.
#[test]
fn sigterm_with_a_stuck_download_says_the_same_in_every_binary() {
    let fx = Fixture::new();
    // Far more than the socket buffers of both ends hold; sparse, so cheap to make.
    std::fs::File::create(fx.root.join("huge.bin"))
        .and_then(|f| f.set_len(256 * 1024 * 1024))
        .expect("huge.bin");
    std::thread::scope(|scope| {
        for fe in frontends() {
            let root = &fx.root;
            scope.spawn(move || {
                let mut server = fe.serve_http_with(root, &["--quiet"]);
                let mut client = TcpStream::connect(server.addr()).expect("connect");
                std::io::Write::write_all(&mut client, b"GET /huge.bin HTTP/1.0\r\n\r\n")
                    .expect("send");
                let mut first = [0u8; 12];
                std::io::Read::read_exact(&mut client, &mut first).expect("a response starts");
                assert_eq!(&first, b"HTTP/1.0 200", "{}", fe.name());
                server.signal("TERM");
                let status = server.wait_exit(Duration::from_secs(60));
                assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", fe.name());
                assert_eq!(
                    messages_of(&server, 2),
                    [
                        SIGTERM_NOTE,
                        "PROGRAM: serve http: warning: shutdown: stopped; 1 connection still \
                         busy after 5s was closed"
                    ],
                    "{}",
                    fe.name()
                );
                drop(client);
            });
        }
    });
}
