//! TLS end to end: `serve http`/`serve line` with `--tls-cert`/`--tls-self-signed`, `get
//! https://` and `connect --tls`, against curl, python3 requests, wget, openssl s_client and
//! nginx, with certificates made by the test (`portline_tests::pki`): a CA, a good, an expired,
//! a wrong-name and a self-signed certificate.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use portline_tests::pki::{CertFiles, Pki};
use portline_tests::*;

matrix!(
    curl_python_and_wget_trust_the_test_ca,
    openssl_s_client_verifies_and_fetches_a_page,
    get_over_tls_and_each_certificate_failure,
    get_with_the_same_certificate_against_nginx,
    plain_http_garbage_stalls_and_resets_leave_no_fd_behind,
    a_large_download_over_tls_is_intact,
    many_concurrent_keep_alive_tls_connections,
    line_services_and_connect_over_tls,
    bad_certificate_files_stop_the_server_before_listening,
    self_signed_certificate_is_written_and_trusted_by_curl,
);

/// `serve http` over TLS with `cert`, on a free port.
fn serve_https(fe: Frontend, root: &Path, cert: &CertFiles, extra: &[&str]) -> Server {
    let root = root.to_str().expect("UTF-8 path");
    let mut args = vec![
        "serve",
        "http",
        "--listen",
        "127.0.0.1:0",
        "--root",
        root,
        "--tls-cert",
        cert.cert.to_str().expect("UTF-8"),
        "--tls-key",
        cert.key.to_str().expect("UTF-8"),
    ];
    args.extend_from_slice(extra);
    Server::start(fe, &args, "https")
}

fn https(server: &Server, path: &str) -> String {
    format!("https://localhost:{}{path}", server.port())
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn curl_python_and_wget_trust_the_test_ca(fe: Frontend) {
    let pki = Pki::new();
    let fx = Fixture::new();
    let server = serve_https(fe, &fx.root, &pki.good, &[]);
    let url = https(&server, "/hello.txt");
    if require("curl") {
        let out = run(
            Command::new("curl").args(["-sS", "--fail", "--cacert", path(&pki.ca), &url]),
            PEER_TIMEOUT,
        );
        assert_eq!(stdout_ok(&out, "curl --cacert").as_bytes(), HELLO);
        // Two requests on one TLS connection: keep-alive over TLS.
        let out = run(
            Command::new("curl").args([
                "-sS",
                "-v",
                "--cacert",
                path(&pki.ca),
                &url,
                &https(&server, "/tree/a.txt"),
            ]),
            PEER_TIMEOUT,
        );
        assert_eq!(
            stdout_ok(&out, "curl two URLs"),
            "Hello from portline!\nfile a\n"
        );
        let err = stderr(&out);
        assert!(
            err.contains("Re-using existing connection") || err.contains("Reusing existing"),
            "{err}"
        );
        assert!(err.contains("ALPN: server accepted http/1.1"), "{err}");
    }
    if require_python_module("requests") {
        let out = python(
            "import sys, requests\n\
             r = requests.get(sys.argv[1], verify=sys.argv[2], timeout=10)\n\
             sys.stdout.write(f'{r.status_code}|{r.text}')",
            &[&url, path(&pki.ca)],
        );
        assert_eq!(
            stdout_ok(&out, "python requests"),
            "200|Hello from portline!\n"
        );
    }
    if require("wget") {
        let out = run(
            Command::new("wget").args(["-q", "-O", "-", "--ca-certificate", path(&pki.ca), &url]),
            PEER_TIMEOUT,
        );
        assert_eq!(stdout_ok(&out, "wget --ca-certificate").as_bytes(), HELLO);
    }
    // The access log works over TLS as over TCP.
    let logged = server.wait_log(1, PEER_TIMEOUT, |l| {
        l.contains("\"GET /hello.txt HTTP/1.1\" 200")
    });
    assert!(!logged.is_empty(), "{:?}", server.log());
}

fn openssl_s_client_verifies_and_fetches_a_page(fe: Frontend) {
    if !require("openssl") {
        return;
    }
    let pki = Pki::new();
    let fx = Fixture::new();
    let server = serve_https(fe, &fx.root, &pki.good, &[]);
    let connect = format!("127.0.0.1:{}", server.port());
    let out = run_with_input(
        Command::new("openssl").args([
            "s_client",
            "-connect",
            &connect,
            "-servername",
            "localhost",
            "-verify_hostname",
            "localhost",
            "-CAfile",
            path(&pki.ca),
            "-ign_eof",
        ]),
        b"GET /hello.txt HTTP/1.0\r\n\r\n",
        PEER_TIMEOUT,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
    assert!(text.contains("HTTP/1.0 200 OK"), "{text}");
    assert!(text.contains("Hello from portline!"), "{text}");
}

fn get_over_tls_and_each_certificate_failure(fe: Frontend) {
    let pki = Pki::new();
    let fx = Fixture::new();
    let ca = path(&pki.ca);
    let good = serve_https(fe, &fx.root, &pki.good, &[]);

    // The good certificate: the body, exit 0; -v shows the TLS details.
    let out = fe.run(&["get", "-v", "--cacert", ca, &https(&good, "/hello.txt")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout, HELLO);
    let err = stderr(&out);
    for words in [
        "* TLS handshake done: TLS 1.3, cipher suite TLS13_",
        "ALPN http/1.1",
        "* certificate subject: CN=localhost",
        "* certificate names: DNS:localhost, IP:127.0.0.1, IP:::1",
    ] {
        assert!(err.contains(words), "{words:?} in:\n{err}");
    }
    // An IP address in the URL is checked against the certificate's IP names.
    let ip_url = format!("https://127.0.0.1:{}/hello.txt", good.port());
    let out = fe.run(&["get", "--cacert", ca, &ip_url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Each failure: its exit status and its one line.
    let expired = serve_https(fe, &fx.root, &pki.expired, &[]);
    let wrong = serve_https(fe, &fx.root, &pki.wrong_name, &[]);
    let own = serve_https(fe, &fx.root, &pki.self_signed, &[]);
    let plain = fe.serve_http(&fx.root);
    let plain_url = format!("https://localhost:{}/hello.txt", plain.port());
    let cases: [(String, i32, &str); 5] = [
        (https(&expired, "/hello.txt"), 11, "expired"),
        (
            https(&wrong, "/hello.txt"),
            11,
            "it is for wrong.example, not for localhost (name mismatch)",
        ),
        (https(&own, "/hello.txt"), 11, "unknown issuer"),
        (
            format!("https://127.0.0.1:{}/hello.txt", wrong.port()),
            11,
            "not for 127.0.0.1 (name mismatch)",
        ),
        (plain_url, 10, "the peer does not speak TLS"),
    ];
    for (url, code, words) in &cases {
        let out = fe.run(&["get", "--cacert", ca, url]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(*code), "{url}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {err}");
        let prefix = format!("portline-{}: get: tls: ", fe.name());
        assert!(lines[0].starts_with(&prefix), "{err}");
        assert!(lines[0].contains(words), "{words:?} in {err}");
        assert!(out.stdout.is_empty());
    }
    // Without --cacert the test CA is unknown.
    let out = fe.run(&["get", &https(&good, "/hello.txt")]);
    assert_eq!(out.status.code(), Some(11), "{}", stderr(&out));

    // -k: the self-signed and the expired ones are accepted, and stderr says it.
    for server in [&own, &expired] {
        let out = fe.run(&["get", "-k", &https(server, "/hello.txt")]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(out.stdout, HELLO);
        assert!(stderr(&out).contains("-k/--insecure"), "{}", stderr(&out));
    }

    // Plain HTTP to the TLS port: a clear 400 (exit 4), never a hang.
    let out = fe.run(&[
        "get",
        "-i",
        &format!("http://127.0.0.1:{}/hello.txt", good.port()),
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.0 400 Bad Request"), "{text}");
    assert!(text.contains("HTTPS"), "{text}");
}

fn get_with_the_same_certificate_against_nginx(fe: Frontend) {
    let pki = Pki::new();
    let fx = Fixture::new();
    let Some(nginx) = Nginx::start_tls(&fx.root, &pki.good) else {
        return;
    };
    let url = format!("https://localhost:{}/hello.txt", nginx.port());
    let out = fe.run(&["get", "-v", "--cacert", path(&pki.ca), &url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout, HELLO);
    assert!(
        stderr(&out).contains("* TLS handshake done: TLS 1."),
        "{}",
        stderr(&out)
    );
    let data_url = format!("https://localhost:{}/data.bin", nginx.port());
    let out = fe.run(&["get", "--cacert", path(&pki.ca), &data_url]);
    assert!(out.stdout == fx.data, "data.bin from nginx differs");
    // Without the CA: not trusted, exit 11.
    let out = fe.run(&["get", &url]);
    assert_eq!(out.status.code(), Some(11), "{}", stderr(&out));
    assert!(stderr(&out).contains("unknown issuer"), "{}", stderr(&out));
}

/// Wait until the server holds `fds` descriptors again.
fn wait_fds(server: &Server, fds: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.fd_count() > fds {
        assert!(
            Instant::now() < deadline,
            "{what}: {} fds, {fds} before",
            server.fd_count()
        );
        sleep_ms(50);
    }
}

fn plain_http_garbage_stalls_and_resets_leave_no_fd_behind(fe: Frontend) {
    let pki = Pki::new();
    let fx = Fixture::new();
    let mut server = serve_https(fe, &fx.root, &pki.good, &["--header-timeout", "1"]);
    let addr = server.addr();
    sleep_ms(200);
    let fds = server.fd_count();

    // Plain HTTP: the 400 and a close.
    let mut s = connect(addr);
    s.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let reply = String::from_utf8_lossy(&read_to_close(&mut s)).into_owned();
    assert!(reply.starts_with("HTTP/1.0 400 Bad Request\r\n"), "{reply}");

    // Garbage after a handshake record type: closed (an alert at most).
    let mut s = connect(addr);
    s.write_all(&[0x16, 0x03, 0x01, 0x00, 0x10]).unwrap();
    s.write_all(&[0xAB; 16]).unwrap();
    let got = read_to_close(&mut s);
    assert!(got.len() < 64, "an alert at most: {got:?}");

    // A handshake that never finishes: closed by the head timeout (1 s).
    let started = Instant::now();
    let mut s = connect(addr);
    s.write_all(&[0x16, 0x03, 0x01]).unwrap();
    let _ = read_to_close(&mut s);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");

    // A reset in the middle of the handshake.
    for _ in 0..20 {
        let s = socket2::Socket::from(connect(addr));
        let _ = (&s).write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
        s.set_linger(Some(Duration::ZERO)).unwrap();
        drop(s);
    }
    // A silent connection, dropped by the head timeout too.
    let silent = connect(addr);
    wait_fds(&server, fds + 1, "after garbage and resets");
    drop(silent);
    wait_fds(&server, fds, "after the silent connection");

    // Others are unharmed: a normal request works.
    if require("curl") {
        let out = run(
            Command::new("curl").args([
                "-sS",
                "--cacert",
                path(&pki.ca),
                &https(&server, "/hello.txt"),
            ]),
            PEER_TIMEOUT,
        );
        assert_eq!(stdout_ok(&out, "curl after the abuse").as_bytes(), HELLO);
    }
    // Graceful shutdown over TLS: SIGTERM, exit 0.
    server.signal("TERM");
    let status = server
        .wait_exit(Duration::from_secs(15))
        .expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
}

/// The size of the large download: 100 MB as the issue asks; a debug build moves it in a few
/// seconds per binary (TLS records are encrypted by ring's assembly even unoptimised).
const LARGE: usize = 100 * 1024 * 1024;

fn sha256(file: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(file), PEER_TIMEOUT);
    stdout_ok(&out, "sha256sum")
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

fn a_large_download_over_tls_is_intact(fe: Frontend) {
    let pki = Pki::new();
    let fx = Fixture::new();
    let big = fx.root.join("large.bin");
    {
        let block = pseudo_random(1024 * 1024, 9);
        let mut f = std::fs::File::create(&big).expect("large.bin");
        for i in 0..LARGE / block.len() {
            f.write_all(&block).expect("write");
            f.write_all(&(i as u64).to_le_bytes()).expect("write");
        }
    }
    let server = serve_https(fe, &fx.root, &pki.good, &["--quiet"]);
    let out_file = fx.scratch("dl").join("large.bin");
    let started = Instant::now();
    let out = fe.run(&[
        "get",
        "--cacert",
        path(&pki.ca),
        "-o",
        path(&out_file),
        &https(&server, "/large.bin"),
    ]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sha256(&out_file), sha256(&big), "sha256 of the download");
    eprintln!("{} MB over TLS in {took:?}", LARGE >> 20);
}

/// A rustls client connection over a blocking socket.
type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn tls_config(ca: &Path) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(ca).expect("CA file");
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.expect("PEM")).expect("a CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn tls_client(addr: SocketAddr, config: &Arc<rustls::ClientConfig>) -> TlsStream {
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(config.clone(), name).expect("client");
    let sock = connect(addr);
    sock.set_read_timeout(Some(PEER_TIMEOUT)).expect("timeout");
    rustls::StreamOwned::new(conn, sock)
}

/// One keep-alive request on `s`; returns the body.
fn keep_alive_get(s: &mut TlsStream, target: &str) -> Vec<u8> {
    write!(s, "GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").expect("send");
    s.flush().expect("flush");
    let mut reader = std::io::BufReader::new(s);
    let r = read_response(&mut reader, false).expect("a response");
    assert_eq!(r.status, 200);
    r.body
}

fn many_concurrent_keep_alive_tls_connections(fe: Frontend) {
    const N: usize = 200;
    let pki = Pki::new();
    let fx = Fixture::new();
    let server = serve_https(
        fe,
        &fx.root,
        &pki.good,
        &["--quiet", "--idle-timeout", "60"],
    );
    let config = tls_config(&pki.ca);
    let mut conns: Vec<TlsStream> = (0..N).map(|_| tls_client(server.addr(), &config)).collect();
    // All open at once: each does its handshake and a first request, then a second one.
    for s in conns.iter_mut() {
        assert_eq!(keep_alive_get(s, "/hello.txt"), HELLO);
    }
    for s in conns.iter_mut() {
        assert_eq!(keep_alive_get(s, "/tree/a.txt"), b"file a\n");
    }
    assert!(
        server.fd_count() >= N,
        "{} connections open",
        server.fd_count()
    );
    // Pipelining over TLS: three requests in one write, three answers in order.
    let s = &mut conns[0];
    s.write_all(
        b"GET /tree/a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /tree/a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .expect("send three");
    s.flush().expect("flush");
    let mut reader = std::io::BufReader::new(s);
    let bodies: Vec<Vec<u8>> = (0..3)
        .map(|_| read_response(&mut reader, false).expect("a response").body)
        .collect();
    assert_eq!(bodies, [&b"file a\n"[..], HELLO, b"file a\n"]);
}

fn line_services_and_connect_over_tls(fe: Frontend) {
    let pki = Pki::new();
    let server = Server::start(
        fe,
        &[
            "serve",
            "line",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            path(&pki.good.cert),
            "--tls-key",
            path(&pki.good.key),
        ],
        "tls",
    );
    let peer = format!("localhost:{}", server.port());
    let out = run_with_input(
        &mut fe.command([
            "connect",
            "--tls",
            "--crlf",
            "--cacert",
            path(&pki.ca),
            &peer,
        ]),
        b"ECHO over tls\nQUIT\n",
        PEER_TIMEOUT,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(text.starts_with("220 "), "the greeting first: {text}");
    assert!(text.contains("250 over tls\r\n"), "{text}");
    assert!(text.contains("221 bye"), "{text}");
    assert!(
        stderr(&out).contains("* certificate subject: CN=localhost"),
        "{}",
        stderr(&out)
    );
    // Not trusted without the CA: exit 11, nothing sent.
    let out = run_with_input(
        &mut fe.command(["connect", "--tls", &peer]),
        b"QUIT\n",
        PEER_TIMEOUT,
    );
    assert_eq!(out.status.code(), Some(11), "{}", stderr(&out));
    if require("openssl") {
        let connect = format!("127.0.0.1:{}", server.port());
        let out = run_with_input(
            Command::new("openssl").args([
                "s_client",
                "-connect",
                &connect,
                "-CAfile",
                path(&pki.ca),
                "-quiet",
                "-ign_eof",
            ]),
            b"ECHO hi\r\nQUIT\r\n",
            PEER_TIMEOUT,
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("250 hi") && text.contains("221 bye"),
            "{text}"
        );
    }
}

fn bad_certificate_files_stop_the_server_before_listening(fe: Frontend) {
    let pki = Pki::new();
    let fx = Fixture::new();
    let missing = pki.dir().join("missing.pem");
    let unreadable = pki.dir().join("unreadable.key");
    std::fs::create_dir(&unreadable).expect("a directory is no key file");
    let root = path(&fx.root);
    let cases: [(&Path, &Path, &str); 4] = [
        (&missing, &pki.good.key, "--tls-cert"),
        (&pki.good.cert, &unreadable, "--tls-key"),
        (
            &pki.good.cert,
            &pki.other_key,
            "does not belong to the certificate",
        ),
        (&pki.good.key, &pki.good.key, "no certificate"),
    ];
    for (cert, key, words) in cases {
        let out = fe.run(&[
            "serve",
            "http",
            "--listen",
            "127.0.0.1:0",
            "--root",
            root,
            "--tls-cert",
            path(cert),
            "--tls-key",
            path(key),
        ]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(words), "{words:?} in {err}");
        assert!(!err.contains("listening"), "{err}");
    }
}

fn self_signed_certificate_is_written_and_trusted_by_curl(fe: Frontend) {
    let fx = Fixture::new();
    let tmp = fx.scratch("tmp");
    let mut command = fe.command([
        "serve",
        "http",
        "--listen",
        "127.0.0.1:0",
        "--root",
        path(&fx.root),
        "--tls-self-signed",
    ]);
    command.env("TMPDIR", &tmp);
    let server = Server::start_command(fe, command, "https");
    let file = self_signed_file(&server.all_stderr());
    assert!(file.starts_with(&tmp), "{} in TMPDIR", file.display());
    let pem = std::fs::read_to_string(&file).expect("the certificate file");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{}/hello.txt", server.port());
        let out = fe.run(&["get", "--cacert", path(&file), &url]);
        assert_eq!(out.status.code(), Some(0), "{host}: {}", stderr(&out));
        assert_eq!(out.stdout, HELLO);
        if require("curl") {
            let out = run(
                Command::new("curl").args(["-sS", "--cacert", path(&file), &url]),
                PEER_TIMEOUT,
            );
            assert_eq!(
                stdout_ok(&out, "curl --cacert self-signed").as_bytes(),
                HELLO
            );
        }
    }
}

/// The file named on stderr by `--tls-self-signed`.
fn self_signed_file(log: &[String]) -> PathBuf {
    let line = log
        .iter()
        .find(|l| l.contains("self-signed certificate"))
        .expect("a line naming the certificate file");
    let at = line.find(" written to ").expect("written to") + " written to ".len();
    PathBuf::from(line[at..].split_whitespace().next().expect("a path"))
}
