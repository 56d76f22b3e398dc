//! The file server against wget and python3 (requests, urllib), and the `get` client against
//! python3's http.server, a close-delimited HTTP/1.0 server, and our own server.

use portline_tests::*;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A python3 server process started by a test; killed by PID on drop.
struct PyServer {
    child: Child,
    port: u16,
}

impl PyServer {
    /// Starts `python3 -u ARGS...` and waits for a stdout line containing `port N`.
    fn start(args: &[&str]) -> PyServer {
        let mut child = Command::new("python3")
            .arg("-u")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                let _ = tx.send(line.clone());
                line.clear();
            }
        });
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("python3 {args:?} gave no `port N` line: {e}");
                }
            };
            // "Serving HTTP on 127.0.0.1 port 41235 (http://127.0.0.1:41235/) ..."
            let mut words = line.split_whitespace();
            if let Some(port) = words
                .by_ref()
                .skip_while(|w| *w != "port")
                .nth(1)
                .and_then(|p| p.parse().ok())
            {
                return PyServer { child, port };
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server that answers every connection with an HTTP/1.0 response without Content-Length
/// (the body ends when the connection closes): `/fail` gets 500, `/moved` 301, anything else 200
/// with 200,000 bytes of `0123456789`.
const CLOSE_DELIMITED_SERVER: &str = r#"
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
print("close-delimited server on port", s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    path = data.split(b" ")[1] if data.count(b" ") >= 2 else b"/"
    if path == b"/fail":
        c.sendall(b"HTTP/1.0 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nbroken\n")
    elif path == b"/moved":
        c.sendall(b"HTTP/1.0 301 Moved Permanently\r\nLocation: /\r\n\r\n")
    else:
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"0123456789" * 20000)
    c.close()
"#;

/// Prints `status reason` on one line, then the body bytes, using `requests`.
const REQUESTS_SCRIPT: &str = r#"
import sys, requests
r = requests.get(sys.argv[1], timeout=10)
sys.stdout.write("%d %s\n" % (r.status_code, r.reason))
sys.stdout.flush()
sys.stdout.buffer.write(r.content)
"#;

/// The same with urllib (an HTTPError carries the status and reason of 4xx/5xx).
const URLLIB_SCRIPT: &str = r#"
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=10)
    status, reason, body = r.status, r.reason, r.read()
except urllib.error.HTTPError as e:
    status, reason, body = e.code, e.reason, e.read()
sys.stdout.write("%d %s\n" % (status, reason))
sys.stdout.flush()
sys.stdout.buffer.write(body)
"#;

fn python_fetch(script: &str, url: &str) -> (String, Vec<u8>) {
    let out = python(script, &[url]);
    assert!(
        out.status.success(),
        "python3 fetch of {url} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let split = out
        .stdout
        .iter()
        .position(|b| *b == b'\n')
        .expect("a status line");
    let status = String::from_utf8_lossy(&out.stdout[..split]).into_owned();
    (status, out.stdout[split + 1..].to_vec())
}

fn check_python_client(fe: Frontend, script: &str) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let (status, body) = python_fetch(script, &server.url("/hello.txt"));
    assert_eq!(status, "200 OK");
    assert_eq!(body, HELLO);
    let (status, body) = python_fetch(script, &server.url("/data.bin"));
    assert_eq!(status, "200 OK");
    assert!(body == fx.data, "data.bin differs ({} bytes)", body.len());
    let (status, body) = python_fetch(script, &server.url("/site/"));
    assert_eq!(status, "200 OK");
    assert_eq!(body, INDEX_HTML);
    let (status, _) = python_fetch(script, &server.url("/missing"));
    assert_eq!(status, "404 Not Found");
}

/// Runs `get` with `args`; returns (exit code, stdout, stderr).
fn get_tool(fe: Frontend, args: &[&str]) -> (i32, Vec<u8>, String) {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    let out = fe.run(&all);
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("get {args:?} killed: {}", out.status));
    (
        code,
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

matrix!(
    wget_recursive,
    python_requests,
    python_urllib,
    get_vs_python_http_server,
    get_close_delimited,
    get_vs_own_server,
    get_connect_refused,
    get_bad_status_line,
    get_request_bytes,
    get_response_framings,
    get_broken_responses,
    get_progress_bar_on_terminal
);

/// wget -r fetches the `tree/` directory recursively through the listings.
fn wget_recursive(fe: Frontend) {
    if !require("wget") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let dest = fx.scratch("wget");
    let out = run(
        Command::new("wget")
            .args([
                "-r",
                "-np",
                "-nH",
                "-nv",
                "-e",
                "robots=off",
                "--tries=1",
                "--timeout=10",
                "-P",
            ])
            .arg(&dest)
            .arg(server.url("/tree/")),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "wget -r failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for (path, content) in tree_files() {
        let got = std::fs::read(dest.join("tree").join(path)).unwrap_or_else(|e| {
            panic!(
                "wget did not fetch tree/{path}: {e}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert!(got == content, "tree/{path} differs");
    }
    // Nothing outside tree/ was fetched (no parent links followed, no escape).
    for entry in std::fs::read_dir(&dest).unwrap() {
        assert_eq!(entry.unwrap().file_name(), "tree");
    }
}

/// python3 requests: status, reason and content.
fn python_requests(fe: Frontend) {
    if !require_python_module("requests") {
        return;
    }
    check_python_client(fe, REQUESTS_SCRIPT);
}

/// python3 urllib: status, reason and content.
fn python_urllib(fe: Frontend) {
    if !require("python3") {
        return;
    }
    check_python_client(fe, URLLIB_SCRIPT);
}

/// `get` against python3 -m http.server: body, -i, -I, -o, 404 → exit 4, 301 → exit 3.
fn get_vs_python_http_server(fe: Frontend) {
    if !require("python3") {
        return;
    }
    let fx = Fixture::new();
    let root = fx.root.to_str().unwrap();
    let py = PyServer::start(&[
        "-m",
        "http.server",
        "0",
        "--bind",
        "127.0.0.1",
        "--directory",
        root,
    ]);
    let (code, body, err) = get_tool(fe, &[&py.url("/hello.txt")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(body, HELLO);
    let (code, body, err) = get_tool(fe, &[&py.url("/data.bin")]);
    assert_eq!(code, 0, "{err}");
    assert!(
        body == fx.data,
        "data.bin via get differs ({} bytes)",
        body.len()
    );
    let (code, body, _) = get_tool(fe, &["-i", &py.url("/hello.txt")]);
    assert_eq!(code, 0);
    let text = String::from_utf8_lossy(&body);
    assert!(text.starts_with("HTTP/1.0 200"), "{text}");
    assert!(text.contains("\r\n\r\n") || text.contains("\n\n"), "{text}");
    assert!(
        text.ends_with(std::str::from_utf8(HELLO).unwrap()),
        "{text}"
    );
    let (code, body, _) = get_tool(fe, &["-I", &py.url("/hello.txt")]);
    assert_eq!(code, 0);
    let text = String::from_utf8_lossy(&body);
    assert!(
        !text.contains("Hello from portline"),
        "-I printed the body: {text}"
    );
    let (code, _, _) = get_tool(fe, &[&py.url("/missing.txt")]);
    assert_eq!(code, 4);
    // http.server redirects a directory without its slash.
    let (code, _, _) = get_tool(fe, &[&py.url("/tree")]);
    assert_eq!(code, 3);
    let file = fx.scratch("get").join("out.bin");
    let (code, stdout, err) = get_tool(fe, &["-o", file.to_str().unwrap(), &py.url("/data.bin")]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.is_empty(),
        "-o also wrote {} bytes to stdout",
        stdout.len()
    );
    assert!(
        !err.contains('\r'),
        "a progress bar on a non-terminal stderr: {err:?}"
    );
    assert!(std::fs::read(&file).unwrap() == fx.data, "-o file differs");
}

/// `get` reads a close-delimited HTTP/1.0 body to the end; 500 → exit 5.
fn get_close_delimited(fe: Frontend) {
    if !require("python3") {
        return;
    }
    let py = PyServer::start(&["-c", CLOSE_DELIMITED_SERVER]);
    let (code, body, err) = get_tool(fe, &[&py.url("/")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(body.len(), 200_000);
    assert!(body.chunks(10).all(|c| c == b"0123456789"));
    let (code, body, _) = get_tool(fe, &[&py.url("/fail")]);
    assert_eq!(code, 5);
    assert_eq!(body, b"broken\n");
    let (code, _, _) = get_tool(fe, &[&py.url("/moved")]);
    assert_eq!(code, 3);
}

/// `get` against our own server: body, 404 → 4, -v shows both heads, HEAD, -H.
fn get_vs_own_server(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let (code, body, err) = get_tool(fe, &[&server.url("/hello.txt")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(body, HELLO);
    let local = format!("http://localhost:{}/hello.txt", server.port());
    let (code, body, err) = get_tool(fe, &[&local]);
    assert_eq!((code, body.as_slice()), (0, HELLO), "{local}: {err}");
    let (code, body, _) = get_tool(fe, &[&server.url("/big.bin")]);
    assert_eq!(code, 0);
    assert!(
        body == fx.big,
        "big.bin via get differs ({} bytes)",
        body.len()
    );
    let (code, _, _) = get_tool(fe, &[&server.url("/nope")]);
    assert_eq!(code, 4);
    let (code, body, err) = get_tool(fe, &["-v", &server.url("/hello.txt")]);
    assert_eq!(code, 0);
    assert_eq!(body, HELLO);
    assert!(
        err.contains("GET /hello.txt HTTP/1.0"),
        "-v without the request: {err}"
    );
    assert!(
        err.contains("HTTP/1.0 200"),
        "-v without the response head: {err}"
    );
    let (code, body, _) = get_tool(fe, &["-I", &server.url("/hello.txt")]);
    assert_eq!(code, 0);
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.starts_with("HTTP/1.0 200") && !text.contains("Hello from"),
        "{text}"
    );
    let (code, _, _) = get_tool(fe, &["-X", "DELETE", &server.url("/hello.txt")]);
    assert_eq!(code, 4);
    let (code, body, _) = get_tool(
        fe,
        &[
            "-H",
            "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT",
            &server.url("/hello.txt"),
        ],
    );
    assert_eq!(code, 0, "a 304 after a conditional request is success");
    assert!(body.is_empty());
    let log = server.wait_log(7, Duration::from_secs(5), |l| l.contains("HTTP/1.0\""));
    assert!(log.len() >= 7, "access log: {log:?}");
}

/// `get` names the failing stage: exit 8 when the connection is refused, 7 when the name does
/// not resolve.
fn get_connect_refused(fe: Frontend) {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (code, body, err) = get_tool(fe, &[&format!("http://127.0.0.1:{port}/")]);
    assert_eq!(code, 8, "{err}");
    assert!(body.is_empty());
    assert!(
        err.to_ascii_lowercase().contains("connect"),
        "no stage named: {err}"
    );
    let (code, _, err) = get_tool(fe, &["http://no-such-host.invalid/"]);
    assert_eq!(code, 7, "{err}");
    assert!(
        err.to_ascii_lowercase().contains("resolv"),
        "no stage named: {err}"
    );
}

/// A server that sends garbage instead of a status line: exit 17, stage named.
fn get_bad_status_line(fe: Frontend) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let serve = std::thread::spawn(move || {
        let Some(mut c) = accept_within(&listener, PEER_TIMEOUT) else {
            return;
        };
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 1024];
        let _ = c.read(&mut buf);
        let _ = std::io::Write::write_all(&mut c, b"SSH-2.0-OpenSSH_9.2\r\n\r\n");
    });
    let (code, _, err) = get_tool(fe, &[&format!("http://127.0.0.1:{port}/")]);
    serve.join().unwrap();
    assert_eq!(code, 17, "{err}");
    assert!(
        err.to_ascii_lowercase().contains("status"),
        "no stage named: {err}"
    );
}

/// The request `get` writes: method, target with query, HTTP/1.0, Host, extra headers, and a
/// `-d` body with its Content-Length.
fn get_request_bytes(fe: Frontend) {
    let peer = ScriptedServer::start(vec![
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        b"HTTP/1.0 204 No Content\r\n\r\n".to_vec(),
    ]);
    let url = peer.url("/submit?q=1&r=two");
    let (code, body, err) = get_tool(
        fe,
        &["-X", "POST", "-H", "X-Test: yes", "-d", "name=value", &url],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(body, b"ok");
    let (code, body, err) = get_tool(fe, &[&peer.url("/")]);
    assert_eq!(code, 0, "{err}");
    assert!(body.is_empty());
    let requests = peer.finish();
    let post = String::from_utf8_lossy(&requests[0]).into_owned();
    assert!(
        post.starts_with("POST /submit?q=1&r=two HTTP/1.0\r\n"),
        "{post:?}"
    );
    let lower = post.to_ascii_lowercase();
    assert!(
        lower.contains("\r\nhost: 127.0.0.1"),
        "no Host header: {post:?}"
    );
    assert!(post.contains("\r\nX-Test: yes\r\n"), "{post:?}");
    assert!(lower.contains("\r\ncontent-length: 10\r\n"), "{post:?}");
    assert!(post.ends_with("\r\n\r\nname=value"), "{post:?}");
    let plain = String::from_utf8_lossy(&requests[1]).into_owned();
    assert!(
        plain.starts_with("GET / HTTP/1.0\r\n") && plain.ends_with("\r\n\r\n"),
        "{plain:?}"
    );
}

/// `get` reads bodies framed every way, whatever the packet boundaries: a chunked HTTP/1.1
/// reply, a head split at odd places, a body over several writes.
fn get_response_framings(fe: Frontend) {
    let peer = ScriptedServer::start(vec![
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n\x016\r\n world\r\n0\r\n\r\n".to_vec(),
        b"HTT\x01P/1.0 200 OK\r\nContent-Le\x01ngth: 5\r\n\r\x01\nhel\x01lo".to_vec(),
        b"HTTP/1.0 200 OK\n\nbare LF head, close-delimited".to_vec(),
    ]);
    let (code, body, err) = get_tool(fe, &[&peer.url("/chunked")]);
    assert_eq!((code, body.as_slice()), (0, &b"hello world"[..]), "{err}");
    let (code, body, err) = get_tool(fe, &[&peer.url("/split")]);
    assert_eq!((code, body.as_slice()), (0, &b"hello"[..]), "{err}");
    let (code, body, err) = get_tool(fe, &[&peer.url("/lf")]);
    assert_eq!(
        (code, body.as_slice()),
        (0, &b"bare LF head, close-delimited"[..]),
        "{err}"
    );
    peer.finish();
}

/// `get` fails with exit 17 (malformed) and names the stage: a body cut short, an endless
/// header.
fn get_broken_responses(fe: Frontend) {
    let mut cut = b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n".to_vec();
    cut.extend(std::iter::repeat_n(b'x', 500));
    let mut huge_head = b"HTTP/1.0 200 OK\r\n".to_vec();
    for i in 0..5000 {
        huge_head.extend_from_slice(
            format!("X-Filler-{i}: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n").as_bytes(),
        );
    }
    huge_head.extend_from_slice(b"\r\n");
    let peer = ScriptedServer::start(vec![
        cut,
        huge_head,
        b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n".to_vec(),
    ]);
    let (code, _, err) = get_tool(fe, &[&peer.url("/cut")]);
    assert_eq!(code, 17, "{err}");
    assert!(
        err.to_ascii_lowercase().contains("body"),
        "stage not named: {err}"
    );
    let (code, _, err) = get_tool(fe, &[&peer.url("/huge")]);
    assert_eq!(code, 17, "{err}");
    assert!(
        err.to_ascii_lowercase().contains("header"),
        "stage not named: {err}"
    );
    let (code, _, err) = get_tool(fe, &[&peer.url("/no-end-of-head")]);
    assert_eq!(code, 17, "{err}");
    assert!(
        err.to_ascii_lowercase().contains("header"),
        "stage not named: {err}"
    );
    peer.finish();
}

/// `get -o FILE` draws a progress bar when stderr is a terminal (a pty from `script`), not
/// with -s, and the file is still exact.
fn get_progress_bar_on_terminal(fe: Frontend) {
    if !require("script") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--quiet"]);
    let file = fx.scratch("pty").join("big.bin");
    let inner = format!(
        "'{}' get -o '{}' '{}'",
        fe.bin().display(),
        file.display(),
        server.url("/big.bin")
    );
    let out = run(
        Command::new("script").args(["-q", "-e", "-c", &inner, "/dev/null"]),
        PEER_TIMEOUT,
    );
    let terminal = stdout_ok(&out, "script -c get -o");
    assert!(std::fs::read(&file).unwrap() == fx.big, "-o file differs");
    assert!(
        terminal.contains("iB"),
        "no progress bar (with byte counts) on the terminal: {terminal:?}"
    );
    // -s: no bar, even on a terminal.
    let out = run(
        Command::new("script").args([
            "-q",
            "-e",
            "-c",
            &inner.replace(" get ", " get -s "),
            "/dev/null",
        ]),
        PEER_TIMEOUT,
    );
    let terminal = stdout_ok(&out, "script -c get -s -o");
    assert!(
        !terminal.contains("iB"),
        "a progress bar with -s: {terminal:?}"
    );
    assert!(std::fs::read(&file).unwrap() == fx.big, "-o file differs");
}
