//! The `get` client against real peers: nginx as the reference server (a redirect chain, a
//! range resume, gzip_static), a listening socket that never answers (the timeouts), scripted
//! servers (what each redirect sends, uploads), and the `-o FILE` faults.

use std::fs;
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use portline_tests::*;

matrix!(
    get_output_file_survives_every_failure,
    get_timeouts_end_a_silent_server,
    get_connect_timeout_is_its_own_code,
    get_redirect_chain_against_nginx,
    get_redirects_resend_or_drop_what_they_should,
    get_resume_against_nginx,
    get_compressed_against_nginx_gzip_static,
    get_streams_file_and_stdin_bodies,
    get_write_out_reports_the_transfer,
    get_help_lists_every_exit_status,
    get_reset_and_unusable_redirects,
    get_uploads_stream_in_bounded_memory,
    get_interrupted_leaves_no_trace
);

/// Ctrl-C (SIGINT) in the middle of a download: get exits 130, FILE is as it was, and the
/// temporary file beside it is gone.
fn get_interrupted_leaves_no_trace(fe: Frontend) {
    let fx = Fixture::new();
    let dir = fx.scratch("sigint");
    let file = dir.join("keep.bin");
    fs::write(&file, b"old").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let mut child = fe
        .command(["get", "-o", file.to_str().unwrap(), &url])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut conn = accept_within(&listener, PEER_TIMEOUT).expect("get connected");
    std::io::Write::write_all(
        &mut conn,
        b"HTTP/1.0 200 OK\r\nContent-Length: 1000000\r\n\r\nfirst bytes",
    )
    .unwrap();
    let deadline = Instant::now() + PEER_TIMEOUT;
    while names(&dir).len() < 2 {
        assert!(Instant::now() < deadline, "no temporary file appeared");
        sleep_ms(20);
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + PEER_TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("get did not stop on SIGINT");
        }
        sleep_ms(20);
    };
    assert_eq!(status.code(), Some(130), "{status}");
    assert_eq!(fs::read(&file).unwrap(), b"old");
    assert_eq!(names(&dir), ["keep.bin"], "the temporary file was left");
}

/// The peak resident memory of a running process (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// A 128 MiB body (-T FILE, -d @FILE, and -d @- from stdin) goes out without being held in
/// memory: the server reads it all, then, before it answers, the test reads get's peak RSS.
fn get_uploads_stream_in_bounded_memory(fe: Frontend) {
    const SIZE: u64 = 128 << 20;
    let fx = Fixture::new();
    let path = fx.scratch("upload").join("big.bin");
    fs::File::create(&path).unwrap().set_len(SIZE).unwrap();
    let at_path = format!("@{}", path.display());
    let p = path.to_str().unwrap();
    let cases: [(&[&str], bool); 3] = [
        (&["-T", p], false),
        (&["-d", &at_path], false),
        (&["-d", "@-"], true),
    ];
    for (args, stdin) in cases {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/up", listener.local_addr().unwrap());
        let mut cmd = fe.command(["get", "-s"]);
        cmd.args(args).arg(&url).stdout(std::process::Stdio::null());
        if stdin {
            cmd.stdin(fs::File::open(&path).unwrap());
        } else {
            cmd.stdin(std::process::Stdio::null());
        }
        let mut child = cmd.spawn().unwrap();
        let mut conn = accept_within(&listener, PEER_TIMEOUT).expect("get connected");
        conn.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
        let mut received = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        let mut head = Vec::new();
        while received < SIZE {
            let n = std::io::Read::read(&mut conn, &mut buf).expect("the body arrives");
            assert!(n > 0, "get closed after {received} body bytes");
            if head.len() < 4 || !head.ends_with(b"\r\n\r\n") {
                // Count only what follows the head.
                let mut i = 0;
                while i < n && !head.ends_with(b"\r\n\r\n") {
                    head.push(buf[i]);
                    i += 1;
                }
                received += (n - i) as u64;
            } else {
                received += n as u64;
            }
        }
        let peak = peak_rss_kib(child.id());
        eprintln!("{args:?}: peak RSS {peak} KiB");
        std::io::Write::write_all(&mut conn, b"HTTP/1.0 204 No Content\r\n\r\n").unwrap();
        drop(conn);
        let status = child.wait().unwrap();
        assert!(status.success(), "{args:?}: {status}");
        assert!(
            String::from_utf8_lossy(&head).contains(&format!("Content-Length: {SIZE}\r\n")),
            "{}",
            String::from_utf8_lossy(&head)
        );
        assert!(
            peak < 48 * 1024,
            "{args:?}: peak RSS {peak} KiB for a 128 MiB body"
        );
    }
}

/// A connection reset mid-response is exit 1; a redirect to a scheme `get` cannot speak is
/// exit 6 (a bad URL), not a silent stop.
fn get_reset_and_unusable_redirects(fe: Frontend) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let serve = std::thread::spawn(move || {
        let Some(mut c) = accept_within(&listener, PEER_TIMEOUT) else {
            return;
        };
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 1024];
        let _ = std::io::Read::read(&mut c, &mut buf);
        let _ =
            std::io::Write::write_all(&mut c, b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nab");
        std::thread::sleep(Duration::from_millis(200));
        // Linger 0: close with a reset instead of a FIN.
        let _ = socket2::SockRef::from(&c).set_linger(Some(Duration::ZERO));
    });
    let (code, _, err) = get(fe, &[&url]);
    serve.join().unwrap();
    assert_eq!(code, 1, "{err}");

    let peer = ScriptedServer::start(vec![
        b"HTTP/1.0 302 Found\r\nLocation: ftp://127.0.0.1/file\r\n\r\n".to_vec(),
    ]);
    let (code, _, err) = get(fe, &["-L", &peer.url("/")]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("redirect"), "{err}");
    peer.finish();
}

/// `get --help` ends with the exit status table, 0 to 17.
fn get_help_lists_every_exit_status(fe: Frontend) {
    let out = fe.run(&["get", "--help"]);
    let text = stdout_ok(&out, "get --help");
    let table = text
        .split("Exit status:")
        .nth(1)
        .expect("no exit status table");
    let codes: Vec<i32> = table
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(codes, (0..=17).collect::<Vec<_>>(), "{table}");
}

/// Runs `get ARGS` with `stdin`; returns (exit code, stdout, stderr, seconds taken).
fn get_with_input(fe: Frontend, args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String, f64) {
    let mut cmd = fe.command(["get"]);
    cmd.args(args);
    let started = Instant::now();
    let out = run_with_input(&mut cmd, stdin, PEER_TIMEOUT);
    let took = started.elapsed().as_secs_f64();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("get {args:?} killed: {}", out.status));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (code, out.stdout, err, took)
}

fn get(fe: Frontend, args: &[&str]) -> (i32, Vec<u8>, String) {
    let (code, out, err, _) = get_with_input(fe, args, b"");
    (code, out, err)
}

/// A listening socket that accepts (the kernel completes the handshake) and never answers.
fn silent_listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    (l, url)
}

/// The names in `dir`, sorted (to see that no temporary file is left behind).
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `get -o FILE` leaves an existing FILE exactly as it was when the connection is refused,
/// the server stays silent, it answers 404 with -f, or the body is cut short; a success
/// replaces it; no temporary file is ever left behind.
fn get_output_file_survives_every_failure(fe: Frontend) {
    let fx = Fixture::new();
    let dir = fx.scratch("out");
    let file = dir.join("precious.txt");
    let f = file.to_str().unwrap();
    let keep = b"the only copy of something important\n";
    fs::write(&file, keep).unwrap();

    let refused = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    let (code, _, err) = get(fe, &["-o", f, &refused]);
    assert_eq!(code, 8, "refused: {err}");
    assert_eq!(
        fs::read(&file).unwrap(),
        keep,
        "a refused connection destroyed FILE"
    );

    let (_l, silent) = silent_listener();
    let (code, _, err) = get(fe, &["-m", "1", "-o", f, &silent]);
    assert_eq!(code, 12, "silent: {err}");
    assert_eq!(fs::read(&file).unwrap(), keep, "a timeout destroyed FILE");

    let mut cut = b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n".to_vec();
    cut.extend(std::iter::repeat_n(b'x', 300));
    let peer = ScriptedServer::start(vec![
        b"HTTP/1.0 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n".to_vec(),
        cut,
    ]);
    let (code, out, err) = get(fe, &["-f", "-o", f, &peer.url("/missing")]);
    assert_eq!(code, 4, "404 -f: {err}");
    assert!(out.is_empty());
    assert!(err.contains("404"), "-f says why: {err}");
    assert_eq!(
        fs::read(&file).unwrap(),
        keep,
        "a 404 with -f destroyed FILE"
    );
    let (code, _, err) = get(fe, &["-o", f, &peer.url("/cut")]);
    assert_eq!(code, 17, "cut: {err}");
    assert_eq!(
        fs::read(&file).unwrap(),
        keep,
        "a body cut short destroyed FILE"
    );
    peer.finish();
    assert_eq!(names(&dir), ["precious.txt"], "a temporary file was left");

    let server = fe.serve_http_with(&fx.root, &["--quiet"]);
    let (code, _, err) = get(fe, &["-o", f, &server.url("/data.bin")]);
    assert_eq!(code, 0, "{err}");
    assert!(
        fs::read(&file).unwrap() == fx.data,
        "a success did not replace FILE"
    );
    assert_eq!(names(&dir), ["precious.txt"], "a temporary file was left");
}

/// A server that accepts and never answers: `-m` ends the transfer (exit 12) on time, and so
/// does the read timeout; stdout stays empty.
fn get_timeouts_end_a_silent_server(fe: Frontend) {
    let (_l, url) = silent_listener();
    let (code, out, err, took) = get_with_input(fe, &["-m", "1", &url], b"");
    assert_eq!(code, 12, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("max-time"), "{err}");
    assert!((0.9..15.0).contains(&took), "-m 1 took {took:.1} s");
    let (code, _, err, took) = get_with_input(fe, &["--read-timeout", "1", &url], b"");
    assert_eq!(code, 12, "{err}");
    assert!(err.contains("read timeout"), "{err}");
    assert!(
        (0.9..15.0).contains(&took),
        "--read-timeout 1 took {took:.1} s"
    );
    // -s: no message, same code.
    let (code, _, err) = get(fe, &["-s", "-m", "0.5", &url]);
    assert_eq!((code, err.as_str()), (12, ""));
}

/// A listener whose accept queue is full drops new SYNs: connecting hangs, and
/// `--connect-timeout` ends it with exit 9 (not 12, and not 8).
fn get_connect_timeout_is_its_own_code(fe: Frontend) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    // Fill the queue (backlog 0 holds one) until a connect no longer completes.
    let mut held = Vec::new();
    let mut full = false;
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(s) => held.push(s),
            Err(_) => {
                full = true;
                break;
            }
        }
    }
    assert!(full, "the accept queue never filled up");
    let url = format!("http://{addr}/");
    let (code, _, err, took) = get_with_input(fe, &["--connect-timeout", "1", &url], b"");
    assert_eq!(code, 9, "{err}");
    assert!(took < 15.0, "took {took:.1} s");
    // With -m shorter than the connect timeout, it is the transfer's timeout.
    let (code, _, err) = get(fe, &["--connect-timeout", "10", "-m", "1", &url]);
    assert_eq!(code, 12, "{err}");
}

const NGINX_REDIRECTS: &str = "\
location = /r1 { return 301 /r2; }
location = /r2 { return 302 http://127.0.0.1:$server_port/r3; }
location = /r3 { return 307 /hello.txt; }
location = /loop { return 302 /loop; }";

/// nginx's redirect chain (301, 302 absolute, 307): -L follows to the file; without -L exit 3;
/// --max-redirs 1 and a loop exit 13; -i prints every head of the chain.
fn get_redirect_chain_against_nginx(fe: Frontend) {
    let fx = Fixture::new();
    let Some(nginx) = Nginx::start(&fx.root, NGINX_REDIRECTS) else {
        return;
    };
    let (code, out, err) = get(fe, &["-L", &nginx.url("/r1")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, HELLO);
    let (code, _, err) = get(fe, &[&nginx.url("/r1")]);
    assert_eq!(code, 3, "{err}");
    let (code, _, err) = get(fe, &["-L", "--max-redirs", "1", &nginx.url("/r1")]);
    assert_eq!(code, 13, "{err}");
    assert!(err.contains("max-redirs"), "{err}");
    let (code, _, err) = get(fe, &["-L", &nginx.url("/loop")]);
    assert_eq!(code, 13, "{err}");
    assert!(err.contains("loop"), "{err}");
    let (code, out, err) = get(fe, &["-L", "-i", &nginx.url("/r1")]);
    assert_eq!(code, 0, "{err}");
    let text = String::from_utf8_lossy(&out);
    for status in [" 301 ", " 302 ", " 307 ", " 200 "] {
        assert!(text.contains(status), "no {status} head with -i: {text}");
    }
}

/// What each redirect sends next, seen by scripted servers: 307 repeats the POST and its body,
/// 303 turns it into a GET without one; a redirect to another host drops Authorization and
/// Cookie but keeps other fields.
fn get_redirects_resend_or_drop_what_they_should(fe: Frontend) {
    let other = ScriptedServer::start(vec![
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
    ]);
    let to_other = format!(
        "HTTP/1.0 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\n\r\n",
        other.url("/there").replace("127.0.0.1", "localhost")
    );
    let first = ScriptedServer::start(vec![
        b"HTTP/1.0 307 Temporary Redirect\r\nLocation: /again\r\n\r\n".to_vec(),
        b"HTTP/1.0 303 See Other\r\nLocation: /result\r\n\r\n".to_vec(),
        b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\ndone".to_vec(),
        to_other.into_bytes(),
    ]);
    let (code, out, err) = get(fe, &["-L", "-d", "a=1", &first.url("/post")]);
    assert_eq!((code, out.as_slice()), (0, &b"done"[..]), "{err}");
    let (code, out, err) = get(
        fe,
        &[
            "-L",
            "-H",
            "Authorization: Bearer secret",
            "-H",
            "Cookie: id=secret",
            "-H",
            "X-Kept: yes",
            &first.url("/away"),
        ],
    );
    assert_eq!((code, out.as_slice()), (0, &b"ok"[..]), "{err}");
    let reqs: Vec<String> = first
        .finish()
        .iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect();
    assert!(reqs[0].starts_with("POST /post "), "{}", reqs[0]);
    assert!(
        reqs[1].starts_with("POST /again ") && reqs[1].ends_with("\r\n\r\na=1"),
        "307 must repeat the POST and its body: {:?}",
        reqs[1]
    );
    assert!(
        reqs[2].starts_with("GET /result ") && reqs[2].ends_with("\r\n\r\n"),
        "303 must switch to GET without a body: {:?}",
        reqs[2]
    );
    assert!(
        !reqs[2].to_ascii_lowercase().contains("content-"),
        "{:?}",
        reqs[2]
    );
    assert!(
        reqs[3].contains("Authorization: Bearer secret"),
        "{}",
        reqs[3]
    );
    let there = String::from_utf8_lossy(&other.finish()[0]).into_owned();
    assert!(there.starts_with("GET /there "), "{there}");
    assert!(
        !there.contains("secret"),
        "credentials went to another host: {there}"
    );
    assert!(there.contains("X-Kept: yes"), "{there}");
}

/// `-C -` against nginx serving the same file: a partial file is completed with one range
/// request (206, appended); a complete file gets 416 and exit 0, unchanged; a file longer than
/// the server's is a resume error (16) and left alone.
fn get_resume_against_nginx(fe: Frontend) {
    let fx = Fixture::new();
    let Some(nginx) = Nginx::start(&fx.root, "") else {
        return;
    };
    let dir = fx.scratch("resume");
    let file = dir.join("big.bin");
    let f = file.to_str().unwrap();
    fs::write(&file, &fx.big[..1_000_000]).unwrap();
    let url = nginx.url("/big.bin");
    let resume = || get(fe, &["-C", "-", "-o", f, "-w", "%{http_code}", &url]);
    let (code, out, err) = resume();
    assert_eq!((code, out.as_slice()), (0, &b"206"[..]), "{err}");
    assert!(
        fs::read(&file).unwrap() == fx.big,
        "the resumed file differs"
    );
    let (code, out, err) = resume();
    assert_eq!((code, out.as_slice()), (0, &b"416"[..]), "{err}");
    assert!(
        fs::read(&file).unwrap() == fx.big,
        "a complete file changed"
    );
    let mut longer = fx.big.clone();
    longer.extend_from_slice(b"extra");
    fs::write(&file, &longer).unwrap();
    let (code, _, err) = get(fe, &["-C", "-", "-o", f, &nginx.url("/big.bin")]);
    assert_eq!(code, 16, "{err}");
    assert!(
        fs::read(&file).unwrap() == longer,
        "a failed resume changed the file"
    );
    // -C needs -o: a usage error.
    let (code, _, _) = get(fe, &["-C", "-", &nginx.url("/big.bin")]);
    assert_eq!(code, 2);
}

/// `--compressed` against nginx's gzip_static: the .gz beside the file is sent with
/// Content-Encoding: gzip and decoded; without --compressed nginx sends the plain file; a
/// corrupt .gz is exit 15.
fn get_compressed_against_nginx_gzip_static(fe: Frontend) {
    let fx = Fixture::new();
    let text = "compressible text, ".repeat(5000);
    fs::write(fx.root.join("page.txt"), &text).unwrap();
    let mut gz = gzip(text.as_bytes());
    fs::write(fx.root.join("page.txt.gz"), &gz).unwrap();
    fs::write(fx.root.join("bad.txt"), "plain").unwrap();
    gz.truncate(gz.len() / 2);
    fs::write(fx.root.join("bad.txt.gz"), &gz).unwrap();
    // gzip_static answers only HTTP/1.1 requests unless told otherwise (gzip_http_version).
    let Some(nginx) = Nginx::start(&fx.root, "gzip_static on; gzip_http_version 1.0;") else {
        return;
    };
    let (code, out, err) = get(
        fe,
        &[
            "--compressed",
            "-i",
            "-w",
            "\n%{size_download}",
            &nginx.url("/page.txt"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let out = String::from_utf8_lossy(&out).into_owned();
    assert!(
        out.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{}",
        &out[..200.min(out.len())]
    );
    assert!(out.contains(&text), "the body was not decoded");
    let size: usize = out.rsplit('\n').next().unwrap().parse().unwrap();
    assert!(
        size < text.len() / 10,
        "size_download {size} is not the compressed size"
    );
    let (code, out, err) = get(fe, &[&nginx.url("/page.txt")]);
    assert_eq!((code, out.as_slice()), (0, text.as_bytes()), "{err}");
    let (code, _, err) = get(fe, &["--compressed", &nginx.url("/bad.txt")]);
    assert_eq!(code, 15, "{err}");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `-d @FILE`, `-d @-` and `-T FILE` (to a URL ending in /) send the bytes exactly, with
/// their Content-Length.
fn get_streams_file_and_stdin_bodies(fe: Frontend) {
    let fx = Fixture::new();
    let dir = fx.scratch("bodies");
    let file = dir.join("up load.bin");
    let data = pseudo_random(300_000, 9);
    fs::write(&file, &data).unwrap();
    let ok = b"HTTP/1.0 201 Created\r\nContent-Length: 0\r\n\r\n".to_vec();
    let peer = ScriptedServer::start(vec![ok.clone(), ok.clone(), ok]);
    let at_file = format!("@{}", file.display());
    let (code, _, err) = get(fe, &["-d", &at_file, &peer.url("/form")]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err, _) = get_with_input(
        fe,
        &["-d", "@-", &peer.url("/stdin")],
        b"line one\nline two\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = get(fe, &["-T", file.to_str().unwrap(), &peer.url("/files/")]);
    assert_eq!(code, 0, "{err}");
    let reqs = peer.finish();
    let split = |r: &[u8]| {
        let at = r.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        (
            String::from_utf8_lossy(&r[..at]).into_owned(),
            r[at..].to_vec(),
        )
    };
    let (head, body) = split(&reqs[0]);
    assert!(head.starts_with("POST /form "), "{head}");
    assert!(head.contains("Content-Length: 300000\r\n"), "{head}");
    assert!(body == data, "-d @FILE body differs");
    let (head, body) = split(&reqs[1]);
    assert!(head.contains("Content-Length: 18\r\n"), "{head}");
    assert_eq!(body, b"line one\nline two\n");
    let (head, body) = split(&reqs[2]);
    assert!(head.starts_with("PUT /files/up%20load.bin "), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("content-type"),
        "{head}"
    );
    assert!(body == data, "-T body differs");
}

/// `-w` reports the transfer: the code, the size, the redirects, the final URL, in JSON too;
/// and 000 with the exit code after a failure.
fn get_write_out_reports_the_transfer(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--quiet"]);
    let url = server.url("/data.bin");
    let out_file = fx.scratch("w").join("d.bin");
    let (code, out, err) = get(
        fe,
        &[
            "-s",
            "-o",
            out_file.to_str().unwrap(),
            "-w",
            "%{http_code} %{size_download} %{url_effective}\\n",
            &url,
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(String::from_utf8_lossy(&out), format!("200 102400 {url}\n"));
    let (code, out, err) = get(fe, &["-o", "/dev/null", "-w", "%{json}", &url]);
    assert_eq!(code, 0, "{err}");
    let json = String::from_utf8_lossy(&out).into_owned();
    for field in [
        "\"http_code\":200",
        "\"num_redirects\":0",
        "\"size_download\":102400",
        "\"exitcode\":0",
        "\"time_total\":",
        "\"time_connect\":",
        "\"time_starttransfer\":",
    ] {
        assert!(json.contains(field), "{field} not in {json}");
    }
    let refused = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    let (code, out, _) = get(fe, &["-s", "-w", "%{http_code} %{exitcode}", &refused]);
    assert_eq!((code, String::from_utf8_lossy(&out).as_ref()), (8, "000 8"));
    // An unknown variable is a usage error.
    let (code, _, _) = get(fe, &["-w", "%{nope}", &url]);
    assert_eq!(code, 2);
}
