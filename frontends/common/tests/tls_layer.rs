//! The TLS layer in memory: a client `TlsSession` and a server `TlsSession` (from `TlsFactory`)
//! exchange bytes directly, no sockets, with the real inner sessions (the GET client, the file
//! server, the echo service) inside. Time is simulated.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portline_common::apps::get::output::Output;
use portline_common::apps::get::{GetOptions, GetSession};
use portline_common::apps::http_server::{FileServer, FileServerOptions};
use portline_common::apps::line_service::{self, LineOptions, ServiceKind};
use portline_common::apps::tls::client::{self, ClientTlsOptions};
use portline_common::apps::tls::server::{self, ServerCert, TlsFactory};
use portline_common::apps::tls::{TlsFailureKind, TlsSession};
use portline_common::{Session, SessionFactory, TRANSMIT_BUDGET};
use portline_tests::pki::{CertFiles, Pki};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A `Write` whose bytes the test can read afterwards.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

/// A plain inner client: sends `send`, keeps what arrives.
struct Raw {
    send: Vec<u8>,
    got: Vec<u8>,
}

impl Session for Raw {
    fn receive(&mut self, _: Instant, data: &[u8]) {
        self.got.extend_from_slice(data);
    }
    fn receive_eof(&mut self, _: Instant) {}
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_transmit(&mut self, _: Instant, out: &mut Vec<u8>, _: usize) {
        out.append(&mut self.send);
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn wants_read(&self) -> bool {
        true
    }
    fn is_done(&self) -> bool {
        false
    }
}

fn addrs() -> (SocketAddr, SocketAddr) {
    (
        "127.0.0.1:5000".parse().unwrap(),
        "127.0.0.1:8443".parse().unwrap(),
    )
}

fn server_config(cert: &CertFiles) -> Arc<rustls::ServerConfig> {
    server::server_config(
        &ServerCert::Files {
            cert: cert.cert.clone(),
            key: cert.key.clone(),
        },
        server::ALPN_HTTP,
    )
    .unwrap()
}

fn trusting(pki: &Pki) -> Arc<rustls::ClientConfig> {
    client::client_config(&ClientTlsOptions {
        cacert: vec![pki.ca.clone()],
        alpn: vec![client::ALPN_HTTP1.to_vec()],
        ..Default::default()
    })
    .unwrap()
}

fn file_server(root: &std::path::Path) -> Arc<dyn SessionFactory> {
    let mut options = FileServerOptions::new(root.into());
    options.quiet = true;
    Arc::new(FileServer::new(options).unwrap())
}

fn tls_server(
    config: Arc<rustls::ServerConfig>,
    inner: Arc<dyn SessionFactory>,
) -> Box<dyn Session> {
    let (peer, local) = addrs();
    TlsFactory::new(
        config,
        inner,
        HANDSHAKE_TIMEOUT,
        Some(server::plain_http_reply()),
    )
    .session(Instant::now(), peer, local)
}

/// Move bytes both ways until neither side sends anything more (or both are done), each
/// transmission delivered in pieces of `chunk` bytes. Returns the largest single
/// `poll_transmit` output of the server.
fn pump(c: &mut dyn Session, s: &mut dyn Session, now: Instant, chunk: usize) -> usize {
    pump_with(c, s, now, chunk, TRANSMIT_BUDGET)
}

/// [`pump`] with the server's `poll_transmit` budget.
fn pump_with(
    c: &mut dyn Session,
    s: &mut dyn Session,
    now: Instant,
    chunk: usize,
    budget: usize,
) -> usize {
    let mut largest = 0;
    for _ in 0..100_000 {
        let mut moved = false;
        let mut wire = Vec::new();
        c.poll_transmit(now, &mut wire, TRANSMIT_BUDGET);
        for piece in wire.chunks(chunk) {
            s.receive(now, piece);
            moved = true;
        }
        wire.clear();
        s.poll_transmit(now, &mut wire, budget);
        largest = largest.max(wire.len());
        for piece in wire.chunks(chunk) {
            c.receive(now, piece);
            moved = true;
        }
        if !moved {
            if s.is_done() && !c.is_done() {
                c.receive_eof(now);
            }
            if c.is_done() && !s.is_done() {
                s.receive_eof(now);
            }
            return largest;
        }
    }
    panic!("the sessions never went quiet");
}

fn get_options(host: &str, target: &str) -> GetOptions {
    GetOptions::new("GET", target, host)
}

#[test]
fn get_over_tls_fetches_a_file_whole_and_byte_at_a_time() {
    let pki = Pki::new();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("hello.txt"), "hello over TLS\n").unwrap();
    for chunk in [usize::MAX, 1] {
        let now = Instant::now();
        let sink = Sink::default();
        let mut get = GetSession::new(
            now,
            get_options("localhost", "/hello.txt"),
            Output::writer(Box::new(sink.clone())),
        )
        .unwrap();
        let mut c = client::session(&trusting(&pki), "localhost", &mut get, false).unwrap();
        let mut s = tls_server(server_config(&pki.good), file_server(root.path()));
        pump(&mut c, s.as_mut(), now, chunk);
        assert!(c.failure().is_none(), "{:?}", c.failure());
        assert_eq!(
            c.connection().alpn_protocol(),
            Some(&b"http/1.1"[..]),
            "ALPN"
        );
        drop(c);
        assert_eq!(get.outcome(), Some(&Ok(200)), "chunk {chunk}");
        assert_eq!(sink.bytes(), b"hello over TLS\n");
        assert!(
            s.is_done(),
            "HTTP/1.0 without keep-alive closes, chunk {chunk}"
        );
    }
}

#[test]
fn each_certificate_failure_is_a_certificate_failure_in_plain_words() {
    let pki = Pki::new();
    let root = tempfile::tempdir().unwrap();
    let untrusting = client::client_config(&ClientTlsOptions::default()).unwrap();
    let cases: &[(&CertFiles, &Arc<rustls::ClientConfig>, &str, &str)] = &[
        (&pki.expired, &trusting(&pki), "localhost", "expired"),
        (
            &pki.wrong_name,
            &trusting(&pki),
            "localhost",
            "name mismatch",
        ),
        (&pki.good, &trusting(&pki), "127.0.0.2", "name mismatch"),
        (
            &pki.self_signed,
            &trusting(&pki),
            "localhost",
            "unknown issuer",
        ),
        (&pki.good, &untrusting, "localhost", "unknown issuer"),
    ];
    for (cert, config, host, words) in cases {
        let now = Instant::now();
        let raw = Raw {
            send: b"GET / HTTP/1.0\r\n\r\n".to_vec(),
            got: vec![],
        };
        let mut c = client::session(config, host, raw, false).unwrap();
        let mut s = tls_server(server_config(cert), file_server(root.path()));
        pump(&mut c, s.as_mut(), now, usize::MAX);
        let failure = c.failure().expect("the handshake must fail");
        assert_eq!(failure.kind, TlsFailureKind::Certificate, "{failure}");
        assert_eq!(failure.kind.exit_status(), 11);
        assert!(failure.message.contains(words), "{host}: {failure}");
        assert!(c.is_done() && s.is_done(), "{host}: both sides close");
        assert!(c.inner().unwrap().got.is_empty(), "no request went out");
    }
}

#[test]
fn insecure_accepts_any_certificate() {
    let pki = Pki::new();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("x"), "x").unwrap();
    let insecure = client::client_config(&ClientTlsOptions {
        insecure: true,
        ..Default::default()
    })
    .unwrap();
    for cert in [&pki.expired, &pki.wrong_name, &pki.self_signed] {
        let now = Instant::now();
        let raw = Raw {
            send: b"GET /x HTTP/1.0\r\n\r\n".to_vec(),
            got: vec![],
        };
        let mut c = client::session(&insecure, "localhost", raw, false).unwrap();
        let mut s = tls_server(server_config(cert), file_server(root.path()));
        pump(&mut c, s.as_mut(), now, usize::MAX);
        assert!(c.failure().is_none(), "{:?}", c.failure());
        let got = &c.inner().unwrap().got;
        assert!(
            got.starts_with(b"HTTP/1.0 200 OK\r\n"),
            "{}",
            String::from_utf8_lossy(got)
        );
    }
}

#[test]
fn plain_http_to_the_tls_port_gets_a_clear_400_and_a_close() {
    let pki = Pki::new();
    let root = tempfile::tempdir().unwrap();
    let now = Instant::now();
    let mut s = tls_server(server_config(&pki.good), file_server(root.path()));
    s.receive(now, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut out = Vec::new();
    s.poll_transmit(now, &mut out, TRANSMIT_BUDGET);
    assert!(out.starts_with(b"HTTP/1.0 400 Bad Request\r\n"));
    assert!(String::from_utf8_lossy(&out).contains("HTTPS"));
    assert!(s.is_done());
}

#[test]
fn a_client_that_gets_plain_text_says_the_peer_does_not_speak_tls() {
    let now = Instant::now();
    let config = client::client_config(&ClientTlsOptions::default()).unwrap();
    let raw = Raw {
        send: vec![],
        got: vec![],
    };
    let mut c = client::session(&config, "localhost", raw, false).unwrap();
    let mut hello = Vec::new();
    c.poll_transmit(now, &mut hello, TRANSMIT_BUDGET);
    assert_eq!(hello.first(), Some(&0x16), "a ClientHello first");
    c.receive(now, b"HTTP/1.0 400 Bad Request\r\n\r\n");
    let failure = c.failure().expect("not TLS");
    assert_eq!(failure.kind, TlsFailureKind::Handshake);
    assert_eq!(failure.kind.exit_status(), 10);
    assert!(failure.message.contains("does not speak TLS"), "{failure}");
    assert!(
        failure.message.contains("HTTP/1.0 400 Bad Request"),
        "{failure}"
    );
    let mut rest = Vec::new();
    c.poll_transmit(now, &mut rest, TRANSMIT_BUDGET);
    assert!(c.is_done());
}

#[test]
fn garbage_an_early_close_and_a_stalled_handshake_all_end_the_session() {
    let pki = Pki::new();
    let root = tempfile::tempdir().unwrap();
    let config = server_config(&pki.good);
    let now = Instant::now();

    // A handshake record header followed by nonsense.
    let mut s = tls_server(config.clone(), file_server(root.path()));
    s.receive(now, &[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5, 6, 7, 8]);
    let mut out = Vec::new();
    s.poll_transmit(now, &mut out, TRANSMIT_BUDGET);
    assert!(s.is_done(), "garbage");
    assert!(!s.wants_read());

    // The client goes away half way.
    let mut s = tls_server(config.clone(), file_server(root.path()));
    s.receive(now, &[0x16, 0x03, 0x01]);
    s.receive_eof(now);
    s.poll_transmit(now, &mut Vec::new(), TRANSMIT_BUDGET);
    assert!(s.is_done(), "closed in the handshake");

    // A server connection in its handshake holds no request: a full server may close it.
    let s = tls_server(config.clone(), file_server(root.path()));
    assert!(s.waiting_since().is_some());

    // Nothing after the first bytes: the head timeout counts the handshake.
    let mut s = tls_server(config, file_server(root.path()));
    s.receive(now, &[0x16, 0x03, 0x01]);
    let deadline = s.poll_timeout().expect("a handshake deadline");
    assert_eq!(
        deadline.duration_since(now).as_secs(),
        HANDSHAKE_TIMEOUT.as_secs()
    );
    s.handle_timeout(deadline - Duration::from_millis(1));
    assert!(!s.is_done());
    s.handle_timeout(deadline);
    s.poll_transmit(deadline, &mut Vec::new(), TRANSMIT_BUDGET);
    assert!(s.is_done(), "stalled handshake");
}

#[test]
fn keep_alive_and_pipelined_requests_are_answered_in_order() {
    let pki = Pki::new();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("a"), "AAA").unwrap();
    std::fs::write(root.path().join("b"), "BBBB").unwrap();
    let now = Instant::now();
    let requests = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let raw = Raw {
        send: requests.to_vec(),
        got: vec![],
    };
    let mut c = client::session(&trusting(&pki), "localhost", raw, false).unwrap();
    let mut s = tls_server(server_config(&pki.good), file_server(root.path()));
    pump(&mut c, s.as_mut(), now, 7);
    let got = String::from_utf8_lossy(&c.inner().unwrap().got).into_owned();
    let bodies: Vec<&str> = got
        .split("HTTP/1.0 200 OK\r\n")
        .skip(1)
        .map(|r| r.split("\r\n\r\n").nth(1).unwrap())
        .collect();
    assert_eq!(bodies, ["AAA", "BBBB", "AAA"], "{got}");
    assert_eq!(s.waiting_since(), None, "closing after Connection: close");
    assert!(s.is_done(), "Connection: close ends it after the third");
}

#[test]
fn an_idle_kept_alive_tls_connection_awaits_a_request_and_a_client_never_does() {
    let pki = Pki::new();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("a"), "AAA").unwrap();
    let now = Instant::now();
    let raw = Raw {
        send: b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        got: vec![],
    };
    let mut c = client::session(&trusting(&pki), "localhost", raw, false).unwrap();
    let mut s = tls_server(server_config(&pki.good), file_server(root.path()));
    pump(&mut c, s.as_mut(), now, usize::MAX);
    assert!(c.inner().unwrap().got.ends_with(b"AAA"));
    assert!(
        s.waiting_since().is_some(),
        "idle keep-alive, forwarded from the file server"
    );
    assert_eq!(c.waiting_since(), None, "a client never is");
}

/// Fetch a 5 MB file through both layers, the server's output cut into `chunk`-byte reads and
/// produced with `budget`; returns the largest single `poll_transmit` output.
fn fetch_large(budget: usize, chunk: usize) -> usize {
    let pki = Pki::new();
    let root = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    std::fs::write(root.path().join("big.bin"), &data).unwrap();
    let now = Instant::now();
    let sink = Sink::default();
    let mut get = GetSession::new(
        now,
        get_options("localhost", "/big.bin"),
        Output::writer(Box::new(sink.clone())),
    )
    .unwrap();
    let mut c = client::session(&trusting(&pki), "localhost", &mut get, false).unwrap();
    let mut s = tls_server(server_config(&pki.good), file_server(root.path()));
    // A driver on a plain socket offers sendfile; TLS must not pass it on (the file server
    // would then send file ranges around the encryption).
    s.enable_sendfile();
    let largest = pump_with(&mut c, s.as_mut(), now, chunk, budget);
    assert!(
        s.poll_sendfile().is_none(),
        "no file range past the TLS layer"
    );
    assert!(c.failure().is_none(), "{:?}", c.failure());
    drop(c);
    assert_eq!(get.outcome(), Some(&Ok(200)), "budget {budget}");
    assert!(sink.bytes() == data, "the body differs, budget {budget}");
    largest
}

#[test]
fn a_large_file_streams_with_bounded_writes_and_arrives_intact() {
    let largest = fetch_large(TRANSMIT_BUDGET, 16 * 1024);
    // Record overhead (header, tag) on top of the budget, never a whole file at once.
    assert!(
        largest <= TRANSMIT_BUDGET + TRANSMIT_BUDGET / 16,
        "{largest}"
    );
}

#[test]
fn a_budget_beyond_rustls_own_64_kib_send_limit_is_encrypted_whole() {
    let largest = fetch_large(1024 * 1024, usize::MAX);
    assert!(largest > 64 * 1024, "the larger budget was used: {largest}");
}

#[test]
fn line_services_run_inside_tls_too() {
    let pki = Pki::new();
    let now = Instant::now();
    let echo = line_service::tcp_factory(&LineOptions {
        service: ServiceKind::Echo,
        telnet: false,
        max_line: 8192,
    });
    let config = server::server_config(
        &ServerCert::Files {
            cert: pki.good.cert.clone(),
            key: pki.good.key.clone(),
        },
        &[],
    )
    .unwrap();
    let (peer, local) = addrs();
    let mut s = TlsFactory::new(config, echo, HANDSHAKE_TIMEOUT, None).session(now, peer, local);
    let no_alpn = client::client_config(&ClientTlsOptions {
        cacert: vec![pki.ca.clone()],
        ..Default::default()
    })
    .unwrap();
    let raw = Raw {
        send: b"ping\r\n".to_vec(),
        got: vec![],
    };
    let mut c: TlsSession<Raw> = client::session(&no_alpn, "127.0.0.1", raw, false).unwrap();
    pump(&mut c, s.as_mut(), now, usize::MAX);
    assert_eq!(c.inner().unwrap().got, b"ping\r\n");
}

#[test]
fn bad_server_files_are_one_clear_line() {
    let pki = Pki::new();
    let missing = pki.dir().join("missing.pem");
    let files = |cert: &std::path::Path, key: &std::path::Path| ServerCert::Files {
        cert: cert.into(),
        key: key.into(),
    };
    let cases = [
        (files(&missing, &pki.good.key), "--tls-cert"),
        (files(&pki.good.cert, &missing), "--tls-key"),
        (files(&pki.good.key, &pki.good.key), "no certificate"),
        (files(&pki.good.cert, &pki.good.cert), "no private key"),
        (files(&pki.good.cert, &pki.other_key), "does not belong"),
    ];
    for (cert, words) in cases {
        let e = server::server_config(&cert, &[]).unwrap_err();
        assert!(e.contains(words), "{cert:?}: {e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
    let e = client::client_config(&ClientTlsOptions {
        cacert: vec![missing],
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.starts_with("--cacert "), "{e}");
}

/// A client whose requests are queued from outside while it runs (to send one after another).
struct Queued {
    send: Arc<std::sync::Mutex<Vec<u8>>>,
    got: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Session for Queued {
    fn receive(&mut self, _: Instant, data: &[u8]) {
        self.got.lock().unwrap().extend_from_slice(data);
    }
    fn receive_eof(&mut self, _: Instant) {}
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_transmit(&mut self, _: Instant, out: &mut Vec<u8>, _: usize) {
        out.append(&mut self.send.lock().unwrap());
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn wants_read(&self) -> bool {
        true
    }
    fn is_done(&self) -> bool {
        false
    }
}

/// Between requests the driver calls `release_idle`: the TLS layer passes it to the file
/// server (which sleeps), and the next request on the same TLS connection is served as before.
#[test]
fn a_tls_connection_released_while_idle_serves_the_next_request() {
    let pki = Pki::new();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("a"), "AAA").unwrap();
    let now = Instant::now();
    let send = Arc::new(std::sync::Mutex::new(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
    ));
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let queued = Queued {
        send: send.clone(),
        got: got.clone(),
    };
    let mut c = client::session(&trusting(&pki), "localhost", queued, false).unwrap();
    let mut s = tls_server(server_config(&pki.good), file_server(root.path()));
    pump(&mut c, s.as_mut(), now, usize::MAX);
    assert!(got.lock().unwrap().ends_with(b"AAA"));
    let since = s.waiting_since().expect("idle keep-alive");
    for round in 0..3 {
        s.release_idle();
        assert_eq!(s.waiting_since(), Some(since), "round {round}: same wait");
        assert!(!s.is_done());
        got.lock().unwrap().clear();
        send.lock()
            .unwrap()
            .extend_from_slice(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        pump(&mut c, s.as_mut(), now, usize::MAX);
        let reply = String::from_utf8_lossy(&got.lock().unwrap()).into_owned();
        assert!(
            reply.starts_with("HTTP/1.1 200 OK\r\n") || reply.starts_with("HTTP/1.0 200 OK\r\n"),
            "round {round}: {reply}"
        );
        assert!(reply.ends_with("AAA"), "round {round}: {reply}");
    }
}
