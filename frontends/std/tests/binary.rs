//! The `portline-std` binary: the ready line, a request, SIGTERM giving exit 0, `get` exit
//! statuses and output, usage errors. Every child is stopped by PID.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_portline-std");
const WAIT: Duration = Duration::from_secs(10);

/// A child process killed (by its PID) if the test ends early.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start a server and read its ready line (`listening on SCHEME://ADDR[/]`).
fn serve(args: &[&str]) -> (Proc, SocketAddr, BufReader<std::process::ChildStderr>) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|r| r.split_once("://"))
        .map(|(_, a)| a.trim_end_matches('/'))
        .unwrap_or_else(|| panic!("not a ready line: {line:?}"))
        .parse()
        .unwrap();
    (Proc(child), addr, stderr)
}

fn wait_exit(p: &mut Proc) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = p.0.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < WAIT, "the process did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(p: &Proc, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &p.0.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

fn root() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("hello.txt"), "hello world\n").unwrap();
    tmp
}

#[test]
fn serve_http_logs_requests_and_exits_0_on_sigterm() {
    let tmp = root();
    let (mut p, addr, mut stderr) = serve(&[
        "serve",
        "http",
        "--listen",
        "127.0.0.1:0",
        "--root",
        tmp.path().to_str().unwrap(),
    ]);
    assert_ne!(addr.port(), 0, "the ready line has the real port");
    let mut s = std::net::TcpStream::connect_timeout(&addr, WAIT).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"GET /hello.txt HTTP/1.0\r\n\r\n").unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    assert!(resp.ends_with(b"\r\n\r\nhello world\n"));
    let mut log = String::new();
    stderr.read_line(&mut log).unwrap();
    // 127.0.0.1 - - [26/Nov/2026:06:15:53 +0000] "GET /hello.txt HTTP/1.0" 200 12
    assert!(log.starts_with("127.0.0.1 - - ["), "{log}");
    assert!(
        log.trim_end()
            .ends_with("] \"GET /hello.txt HTTP/1.0\" 200 12"),
        "{log}"
    );
    signal(&p, "-TERM");
    let status = wait_exit(&mut p);
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sigint_stops_a_line_server_with_0_too() {
    let (mut p, addr, _e) = serve(&[
        "serve",
        "line",
        "--listen",
        "127.0.0.1:0",
        "--service",
        "echo",
    ]);
    let mut s = std::net::TcpStream::connect_timeout(&addr, WAIT).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"ping\r\n").unwrap();
    let mut buf = [0u8; 6];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping\r\n");
    drop(s);
    signal(&p, "-INT");
    assert_eq!(wait_exit(&mut p).code(), Some(0));
}

fn run(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let mut p = Proc(child);
    let status = wait_exit(&mut p);
    let mut out = Vec::new();
    p.0.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let mut err = String::new();
    p.0.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status.code().unwrap_or(-1), out, err)
}

#[test]
fn get_prints_bodies_and_exits_by_status() {
    let tmp = root();
    let (p, addr, _e) = serve(&[
        "serve",
        "http",
        "--listen",
        "127.0.0.1:0",
        "--quiet",
        "--root",
        tmp.path().to_str().unwrap(),
    ]);
    let url = |path: &str| format!("http://{addr}{path}");
    let (code, out, _) = run(&["get", &url("/hello.txt")], b"");
    assert_eq!((code, &out[..]), (0, &b"hello world\n"[..]));

    let (code, out, _) = run(&["get", "-i", &url("/nothing")], b"");
    assert_eq!(code, 4);
    assert!(out.starts_with(b"HTTP/1.0 404 Not Found\r\n"));

    let (code, out, _) = run(&["get", "-I", &url("/")], b"");
    assert_eq!(code, 0);
    assert!(out.starts_with(b"HTTP/1.0 200 OK\r\n") && out.ends_with(b"\r\n\r\n"));

    let (code, _, _) = run(&["get", &url("/..%2f")], b"");
    assert_eq!(code, 4);

    let (code, out, err) = run(&["get", "-v", "-X", "DELETE", &url("/hello.txt")], b"");
    assert_eq!(code, 4, "405 -> 4");
    assert!(err.contains("> DELETE /hello.txt HTTP/1.0\n"), "{err}");
    assert!(err.contains("< HTTP/1.0 405 Method Not Allowed\n"), "{err}");
    assert!(!out.is_empty());

    let file = tmp.path().join("copy.txt");
    let (code, out, _) = run(
        &["get", "-o", file.to_str().unwrap(), &url("/hello.txt")],
        b"",
    );
    assert_eq!(code, 0);
    assert!(out.is_empty());
    assert_eq!(std::fs::read(&file).unwrap(), b"hello world\n");
    drop(p);
}

#[test]
fn get_names_the_failing_stage() {
    // A port with nothing listening.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (code, _, err) = run(&["get", &format!("http://{closed}/")], b"");
    assert_eq!(code, 8, "connect failed");
    assert!(err.starts_with("portline-std: get: connect: "), "{err}");

    let (code, _, err) = run(&["get", "http://no-such-host.invalid/"], b"");
    assert_eq!(code, 7, "name not resolved");
    assert!(err.starts_with("portline-std: get: resolve: "), "{err}");

    // A server that answers garbage, then one that closes mid-body.
    for (reply, stage) in [
        (&b"SSH-2.0-OpenSSH\r\n\r\n"[..], "status line"),
        (
            b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nshort",
            "body",
        ),
    ] {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(WAIT)).unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            s.write_all(reply).unwrap();
        });
        let (code, _, err) = run(&["get", &format!("http://{addr}/")], b"");
        t.join().unwrap();
        assert_eq!(code, 17, "malformed response");
        assert!(
            err.starts_with(&format!("portline-std: get: {stage}: ")),
            "{err}"
        );
    }
}

#[test]
fn usage_errors_exit_2_and_help_works() {
    for args in [
        &["serve", "http", "--listen", "no-port"][..],
        &["serve", "http", "--threads", "x"],
        &["get"],
        &["bogus"],
    ] {
        let (code, _, err) = run(args, b"");
        assert_eq!(code, 2, "{args:?}");
        assert!(
            err.contains("portline-std") || err.contains("error"),
            "{err}"
        );
    }
    let (code, out, _) = run(&["serve", "http", "--help"], b"");
    assert_eq!(code, 0);
    let help = String::from_utf8(out).unwrap();
    assert!(help.contains("Usage: portline-std serve http"), "{help}");
    for default in [
        "127.0.0.1:8080",
        "[default: .]",
        "open-files limit",
        "[default: 10]",
        "[default: 5]",
    ] {
        assert!(help.contains(default), "{default} missing in {help}");
    }
    let (code, _, err) = run(
        &[
            "serve",
            "http",
            "--root",
            "/no/such/dir",
            "--listen",
            "127.0.0.1:0",
        ],
        b"",
    );
    assert_eq!(code, 1);
    assert!(err.starts_with("portline-std: "), "{err}");
}
