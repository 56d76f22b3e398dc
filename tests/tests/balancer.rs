//! nginx as the balancer in front of two instances of one frontend (issue 11, "Scale"): the
//! servers share no state, so any balancer spreads load over many of them. Each case runs with
//! nginx's default upstream protocol (HTTP/1.0, a connection per request, portline's native one)
//! and with kept-alive upstream connections (`proxy_http_version 1.1` and `keepalive`), and
//! checks that
//! - both instances serve (requests counted in each one's access log);
//! - with `--log-forwarded` and nginx's `$proxy_add_x_forwarded_for`, the access log names the
//!   original client (the left-most X-Forwarded-For entry), the peer staying nginx;
//! - nothing is lost when one instance is stopped gracefully (SIGTERM by PID) mid-load: every
//!   request through nginx is a 200 with the whole file, nginx retrying the other instance
//!   where the stopped one no longer takes connections (`proxy_next_upstream error timeout`,
//!   nginx's default).
//!
//! The tested configuration is the one README.md shows under "Scaling". Without nginx,
//! `log_forwarded_reads_only_the_left_most_address` checks the flag alone, in both kinds of
//! `serve http` (files and `--echo`).

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portline_tests::*;

matrix!(
    nginx_http10_upstreams,
    nginx_keepalive_upstreams,
    log_forwarded_reads_only_the_left_most_address
);

/// How nginx talks to the instances.
#[derive(Clone, Copy, Debug)]
enum Upstream {
    /// nginx's default: HTTP/1.0, `Connection: close`, one connection per request.
    Http10,
    /// `proxy_http_version 1.1; proxy_set_header Connection "";` and `keepalive 8;`.
    KeepAlive,
}

impl Upstream {
    /// The version of the requests nginx sends upstream, as the access log shows it.
    fn version(self) -> &'static str {
        match self {
            Upstream::Http10 => "HTTP/1.0",
            Upstream::KeepAlive => "HTTP/1.1",
        }
    }

    /// What goes in nginx's `http { }` block: the two instances as one upstream group.
    fn http_conf(self, a: SocketAddr, b: SocketAddr) -> String {
        let keepalive = match self {
            Upstream::Http10 => "",
            Upstream::KeepAlive => "    keepalive 8;\n",
        };
        format!("upstream portline {{\n    server {a};\n    server {b};\n{keepalive}}}\n")
    }

    /// What goes in nginx's `server { }` block: proxy everything to the group.
    fn server_conf(self) -> String {
        let keepalive = match self {
            Upstream::Http10 => "",
            Upstream::KeepAlive => {
                "    proxy_http_version 1.1;\n    proxy_set_header Connection \"\";\n"
            }
        };
        format!(
            "location / {{\n    proxy_pass http://portline;\n    \
             proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n{keepalive}}}\n"
        )
    }
}

fn nginx_http10_upstreams(fe: Frontend) {
    balance(fe, Upstream::Http10);
}

fn nginx_keepalive_upstreams(fe: Frontend) {
    balance(fe, Upstream::KeepAlive);
}

/// Client threads of the load phase, and the requests each sends one after another.
const CLIENTS: usize = 3;
const PER_CLIENT: usize = 100;

/// Access-log lines take a moment to appear (they are written once the answer is out).
const LOG_WAIT: Duration = Duration::from_secs(10);

/// One request on a fresh connection to nginx, `extra` header lines added; an error instead of
/// a panic, so that the load phase can count what went wrong.
fn fetch(addr: SocketAddr, target: &str, extra: &str) -> Result<Response, String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("connect: {e}"))?;
    for timeout in [
        stream.set_read_timeout(Some(Duration::from_secs(20))),
        stream.set_write_timeout(Some(Duration::from_secs(10))),
    ] {
        timeout.map_err(|e| format!("timeout: {e}"))?;
    }
    let request = format!("GET {target} HTTP/1.0\r\nHost: localhost\r\n{extra}\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    read_response(&mut BufReader::new(stream), false).map_err(|e| format!("read: {e}"))
}

/// `fetch`, which must give `200` and the whole file.
fn fetch_hello(addr: SocketAddr, target: &str, extra: &str) -> Result<(), String> {
    let response = fetch(addr, target, extra)?;
    if response.status != 200 || response.body != HELLO {
        return Err(format!(
            "{} {}, {} body bytes",
            response.status,
            response.reason,
            response.body.len()
        ));
    }
    Ok(())
}

/// The access-log lines of `server` for requests whose target starts with `prefix`.
fn lines_for(server: &Server, prefix: &str) -> Vec<String> {
    let needle = format!("\"GET {prefix}");
    server
        .log()
        .into_iter()
        .filter(|l| l.contains(&needle))
        .collect()
}

/// The one access-log line, of either instance, for `target`.
fn line_of(a: &Server, b: &Server, target: &str) -> String {
    let needle = format!("\"GET {target} ");
    let deadline = Instant::now() + LOG_WAIT;
    loop {
        let found: Vec<String> = [a, b]
            .iter()
            .flat_map(|s| s.log())
            .filter(|l| l.contains(&needle))
            .collect();
        if found.len() == 1 || Instant::now() >= deadline {
            assert_eq!(
                found.len(),
                1,
                "one log line for {target}:\n{}",
                [a, b].map(|s| s.log().join("\n")).join("\n--\n")
            );
            return found.into_iter().next().unwrap_or_default();
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn balance(fe: Frontend, mode: Upstream) {
    let fx = Fixture::new();
    let mut a = fe.serve_http_with(&fx.root, &["--log-forwarded"]);
    let b = fe.serve_http_with(&fx.root, &["--log-forwarded"]);
    let Some(nginx) = Nginx::start_proxy(
        &fx.root,
        &mode.http_conf(a.addr(), b.addr()),
        &mode.server_conf(),
    ) else {
        return;
    };
    let front: SocketAddr = format!("127.0.0.1:{}", nginx.port())
        .parse()
        .expect("nginx address");
    let version = mode.version();

    // 1. Both instances serve: nginx's round robin sends every other request to each.
    for i in 0..20 {
        if let Err(e) = fetch_hello(front, &format!("/hello.txt?spread={i}"), "") {
            panic!("request {i} through nginx: {e}\n{}", nginx.error_log());
        }
    }
    let served_a = a.wait_log(1, LOG_WAIT, |l| l.contains("\"GET /hello.txt?spread="));
    let served_b = b.wait_log(1, LOG_WAIT, |l| l.contains("\"GET /hello.txt?spread="));
    assert!(
        !served_a.is_empty() && !served_b.is_empty(),
        "both instances serve: {} and {} of 20 requests\n{}",
        served_a.len(),
        served_b.len(),
        nginx.error_log()
    );
    for line in served_a.iter().chain(&served_b) {
        // The peer is nginx; the request line is what nginx sent upstream; the client is the
        // test, as nginx's $proxy_add_x_forwarded_for names it.
        assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
        assert!(line.contains(&format!(" {version}\" 200 21 ")), "{line}");
        assert!(line.ends_with(" forwarded-for=127.0.0.1"), "{line}");
    }

    // 2. The client a proxy before nginx named is the left-most entry, and is logged as such;
    // an entry that is not an address is logged as unknown, never guessed.
    let forwarded = [
        ("v4", "203.0.113.9", "forwarded-for=203.0.113.9"),
        (
            "v6",
            "2001:db8::9, 198.51.100.1",
            "forwarded-for=2001:db8::9",
        ),
        ("garbage", "not-an-address", "forwarded-for=-"),
    ];
    for (tag, value, _) in forwarded {
        let target = format!("/hello.txt?xff={tag}");
        let header = format!("X-Forwarded-For: {value}\r\n");
        if let Err(e) = fetch_hello(front, &target, &header) {
            panic!("{target} through nginx: {e}\n{}", nginx.error_log());
        }
    }
    for (tag, _, want) in forwarded {
        let line = line_of(&a, &b, &format!("/hello.txt?xff={tag}"));
        assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
        assert!(line.ends_with(&format!(" 200 21 {want}")), "{line}");
    }

    // 3. Load through nginx; one instance is stopped gracefully when a third is done.
    let done = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (done, failures) = (done.clone(), failures.clone());
            thread::spawn(move || {
                for i in 0..PER_CLIENT {
                    let target = format!("/hello.txt?load={c}-{i}");
                    if let Err(e) = fetch_hello(front, &target, "") {
                        failures
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(format!("{target}: {e}"));
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let total = CLIENTS * PER_CLIENT;
    let deadline = Instant::now() + Duration::from_secs(30);
    while done.load(Ordering::SeqCst) < total / 3 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    let at_stop = done.load(Ordering::SeqCst);
    assert!(
        at_stop < total,
        "the load ended before the stop ({at_stop} of {total}): nothing was tested"
    );
    a.signal("TERM");
    let status = a
        .wait_exit(Duration::from_secs(20))
        .expect("instance still running 20 s after SIGTERM");
    assert!(status.success(), "exit status after SIGTERM: {status}");
    for client in clients {
        client.join().expect("client thread");
    }
    let failures = failures.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(
        failures.is_empty(),
        "{} of {total} requests failed through nginx while one instance stopped \
         (at {at_stop} done); first: {:?}\nnginx error log:\n{}\nstopped instance:\n{}",
        failures.len(),
        &failures[..failures.len().min(10)],
        nginx.error_log(),
        a.log().join("\n")
    );
    let by_a = lines_for(&a, "/hello.txt?load=").len();
    let by_b = b
        .wait_log(total - by_a, LOG_WAIT, |l| {
            l.contains("\"GET /hello.txt?load=")
        })
        .len();
    assert!(
        by_a > 0,
        "the stopped instance served none of the load before it stopped"
    );
    // The load may have ended while the stopped instance was still draining, so requests
    // sent now show that the other one carries on alone after the stop.
    for i in 0..5 {
        let target = format!("/hello.txt?after={i}");
        if let Err(e) = fetch_hello(front, &target, "") {
            panic!(
                "{target} through nginx after the stop: {e}\n{}",
                nginx.error_log()
            );
        }
    }
    let after = b.wait_log(5, LOG_WAIT, |l| l.contains("\"GET /hello.txt?after="));
    assert_eq!(
        after.len(),
        5,
        "the other instance did not serve the requests sent after the stop"
    );
    // Every answer a client got was served and logged by one instance (a retried request may
    // be logged twice, never less than once).
    assert!(
        by_a + by_b >= total,
        "{by_a} + {by_b} logged answers for {total} requests"
    );
}

/// `--log-forwarded` without a balancer: each line ends with the left-most X-Forwarded-For
/// address, or `-`; without the flag nothing is added; with `--quiet` it is refused.
fn log_forwarded_reads_only_the_left_most_address(fe: Frontend) {
    let fx = Fixture::new();
    let cases = [
        ("v4", Some("203.0.113.9"), "forwarded-for=203.0.113.9"),
        (
            "list",
            Some(" 198.51.100.7 ,10.0.0.1, 10.0.0.2"),
            "forwarded-for=198.51.100.7",
        ),
        (
            "v6",
            Some("[2001:db8::9]:4711, 10.0.0.1"),
            "forwarded-for=2001:db8::9",
        ),
        ("name", Some("client.example, 10.0.0.1"), "forwarded-for=-"),
        (
            "forged",
            Some("1.2.3.4 - - [01/Jan/1970"),
            "forwarded-for=-",
        ),
        ("none", None, "forwarded-for=-"),
    ];
    for echo in [false, true] {
        let mut args = vec!["--log-forwarded"];
        if echo {
            args.push("--echo");
        }
        let server = if echo {
            // --echo serves no folder: start it without --root.
            let mut all = vec!["serve", "http", "--listen", "127.0.0.1:0"];
            all.extend_from_slice(&args);
            Server::start(fe, &all, "http")
        } else {
            fe.serve_http_with(&fx.root, &args)
        };
        for (tag, value, _) in cases {
            let header = value.map_or(String::new(), |v| format!("X-Forwarded-For: {v}\r\n"));
            let response = fetch(server.addr(), &format!("/hello.txt?{tag}"), &header)
                .unwrap_or_else(|e| panic!("{tag}: {e}"));
            assert_eq!(response.status, 200, "{tag}");
        }
        for (tag, _, want) in cases {
            let needle = format!("\"GET /hello.txt?{tag} HTTP/1.0\" 200 ");
            let lines = server.wait_log(1, LOG_WAIT, |l| l.contains(&needle));
            assert_eq!(lines.len(), 1, "echo {echo}, {tag}: {:?}", server.log());
            assert!(lines[0].starts_with("127.0.0.1 - - ["), "{}", lines[0]);
            assert!(lines[0].ends_with(&format!(" {want}")), "{}", lines[0]);
        }
    }
    // Without the flag the line is plain Common Log Format.
    let plain = fe.serve_http(&fx.root);
    fetch_hello(
        plain.addr(),
        "/hello.txt?plain",
        "X-Forwarded-For: 203.0.113.9\r\n",
    )
    .expect("plain request");
    let lines = plain.wait_log(1, LOG_WAIT, |l| l.contains("?plain "));
    assert_eq!(lines.len(), 1, "{:?}", plain.log());
    assert!(lines[0].ends_with("\" 200 21"), "{}", lines[0]);
    // A log without lines cannot name anyone: the two flags are refused together.
    let root = fx.root.to_str().expect("UTF-8 path");
    let out = fe.run(&[
        "serve",
        "http",
        "--root",
        root,
        "--quiet",
        "--log-forwarded",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--log-forwarded") && stderr.contains("--quiet"),
        "{stderr}"
    );
}
