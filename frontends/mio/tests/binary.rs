//! The `portline-mio` binary: `connect` with stdin, SIGTERM, and accept under descriptor
//! exhaustion. Every process started here is stopped by its PID.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{IO_TIMEOUT, Server, TestFactory, UdpServer};

const BIN: &str = env!("CARGO_BIN_EXE_portline-mio");

/// Kills the child by PID when a test fails before it exits.
struct Guard(Child);

impl Guard {
    fn spawn(cmd: &mut Command) -> Guard {
        Guard(cmd.spawn().expect("start portline-mio"))
    }

    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "portline-mio did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.0.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// The address of the server's ready line on stderr (`listening on tcp://IP:PORT`).
    fn ready_addr(&mut self) -> SocketAddr {
        let stderr = self.0.stderr.take().expect("stderr piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so that the server never blocks on a full pipe.
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(IO_TIMEOUT)
            .expect("the server prints a ready line");
        let addr = line
            .rsplit("://")
            .next()
            .expect("a URL in the ready line")
            .trim_end_matches('/');
        addr.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Run `portline-mio connect` with `input` on stdin; its stdout and exit status.
fn connect(args: &[&str], input: &[u8]) -> (Vec<u8>, ExitStatus) {
    let mut child = Guard::spawn(
        Command::new(BIN)
            .arg("connect")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit()),
    );
    let mut stdin = child.0.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    drop(stdin); // end of stdin: connect half-closes
    let mut stdout = child.0.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).map(|_| out)
    });
    let status = child.wait(IO_TIMEOUT);
    (reader.join().unwrap().unwrap(), status)
}

#[test]
fn connect_sends_stdin_lines_and_exits_when_the_peer_closes() {
    let mut server = Server::start(1, 100, TestFactory::new());
    let addr = server.addr.to_string();
    let (out, status) = connect(&[&addr], b"one\ntwo\nstream 100000\nlast");
    assert!(status.success(), "{status}");
    assert_eq!(&out[..8], b"one\ntwo\n");
    assert_eq!(out.len(), 8 + 100_000 + 4);
    assert_eq!(&out[8 + 100_000..], b"last");

    let (out, status) = connect(&["--crlf", &addr], b"one\ntwo\r\n");
    assert!(status.success(), "{status}");
    assert_eq!(out, b"one\r\ntwo\r\n");
    server.stop().unwrap();
}

#[test]
fn connect_udp_sends_a_datagram_per_line() {
    let server = UdpServer::start();
    let (out, status) = connect(&["--udp", &server.addr.to_string()], b"first\nsecond\n");
    assert!(status.success(), "{status}");
    assert_eq!(out, b"first\nsecond\n");
    server.shutdown.request();
    server.thread.join().unwrap().unwrap();
}

#[test]
fn connect_ends_quietly_when_stdout_is_gone() {
    // The peer talks and closes; nobody reads connect's stdout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let _ = s.write_all(b"hello\n");
    });
    let mut child = Guard::spawn(
        Command::new(BIN)
            .args(["connect", &addr.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    drop(child.0.stdout.take()); // a closed pipe: writing to it fails with EPIPE
    let _stdin = child.0.stdin.take();
    peer.join().unwrap();
    let status = child.wait(IO_TIMEOUT);
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status}: {stderr}");
}

#[test]
fn connect_to_nothing_fails_naming_the_stage() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let child = Command::new(BIN)
        .args(["connect", &addr.to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("run portline-mio");
    assert!(!child.status.success());
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(stderr.contains("connect"), "{stderr}");
}

#[test]
fn sigint_and_sigterm_stop_the_server_with_status_0() {
    for sig in ["TERM", "INT"] {
        let mut server = Guard::spawn(
            Command::new(BIN)
                .args([
                    "serve",
                    "line",
                    "--service",
                    "echo",
                    "--listen",
                    "127.0.0.1:0",
                ])
                .stdin(Stdio::null())
                .stderr(Stdio::piped()),
        );
        let addr = server.ready_addr();
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        c.write_all(b"hi\r\n").unwrap();
        let mut got = [0; 4];
        c.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hi\r\n", "the echo service sends the bytes back");
        server.signal(sig);
        let status = server.wait(IO_TIMEOUT);
        assert_eq!(status.code(), Some(0), "SIG{sig}: {status}");
        // The idle connection was closed with the server, not left hanging.
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }
}

/// CPU time (user + system, in clock ticks) of a process, from /proc/PID/stat.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn out_of_descriptors_the_server_backs_off_then_recovers() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("prlimit is not installed: skipping the EMFILE test");
        return;
    }
    // 32 descriptors: after stdio, epoll, wakers and listeners, room for a dozen connections.
    let mut server = Guard::spawn(
        Command::new("prlimit")
            .args(["--nofile=32:32", BIN])
            .args([
                "serve",
                "line",
                "--service",
                "echo",
                "--listen",
                "127.0.0.1:0",
                // Past what 32 descriptors hold (the default would stop at 16): out of fds.
                "--max-connections",
                "1000",
            ])
            .stdin(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let addr = server.ready_addr();
    let pid = server.0.id(); // prlimit execs the server in place
    // More connections than descriptors: the kernel completes them into the backlog.
    let mut conns: Vec<TcpStream> = (0..40)
        .map(|_| {
            let c = TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_ticks(pid) - before;
    // A server spinning on EMFILE burns the whole second (100 ticks); backing off, almost none.
    assert!(
        spent < 30,
        "{spent} ticks of CPU in 1 s while out of descriptors"
    );

    // Free descriptors: close the first connections. The rest get accepted and answered.
    let late = conns.split_off(30);
    drop(conns);
    for (i, mut c) in late.into_iter().enumerate() {
        let line = format!("late {i}\n");
        c.write_all(line.as_bytes()).unwrap();
        let mut got = vec![0; line.len()]; // the echo service sends the bytes back
        c.read_exact(&mut got).unwrap();
        assert_eq!(got, line.as_bytes());
    }
    server.signal("TERM");
    assert_eq!(server.wait(IO_TIMEOUT).code(), Some(0));
}
