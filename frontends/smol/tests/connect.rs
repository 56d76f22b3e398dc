//! `portline-smol connect`: stdin to the peer, the peer to stdout, half-close at stdin's end,
//! exit when the peer closes. Runs the binary against peers started here, on loopback.

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(10);

/// Run `portline-smol connect ARGS` with `input` on stdin; its output, bounded in time.
fn connect(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portline-smol"))
        .arg("connect")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start portline-smol connect");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    drop(stdin);
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(PATIENCE) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("connect did not exit within {PATIENCE:?}");
        }
    }
}

#[test]
fn tcp_half_closes_at_stdin_end_and_prints_until_the_peer_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The peer answers only after our end-of-stream: proof of the half-close.
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        stream
            .write_all(format!("got {} bytes\n", got.len()).as_bytes())
            .unwrap();
        got
    });
    let out = connect(&[&addr.to_string(), "--crlf"], b"one\ntwo\r\nthree");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got 15 bytes\n");
    assert_eq!(peer.join().unwrap(), b"one\r\ntwo\r\nthree");
}

#[test]
fn tcp_exits_when_the_peer_closes_first() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"bye\n").unwrap();
    });
    // stdin stays open (a pipe nobody closes until the child exits) ...
    let mut child = Command::new(env!("CARGO_BIN_EXE_portline-smol"))
        .args(["connect", &addr.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take();
    peer.join().unwrap();
    // ... yet the client exits, because the peer closed.
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(PATIENCE) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("connect kept running after the peer closed");
        }
    };
    assert!(out.status.success());
    assert_eq!(out.stdout, b"bye\n");
}

#[test]
fn refused_connection_names_the_stage() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = connect(&[&closed.to_string()], b"");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("connect"), "stderr: {err}");
}

#[test]
fn udp_sends_a_datagram_per_line_and_prints_the_replies() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(PATIENCE)).unwrap();
    let addr = peer.local_addr().unwrap();
    let echo = thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let mut lines = Vec::new();
        for _ in 0..2 {
            let (n, from) = peer.recv_from(&mut buf).unwrap();
            lines.push(buf[..n].to_vec());
            let mut reply = b"re: ".to_vec();
            reply.extend_from_slice(&buf[..n]);
            peer.send_to(&reply, from).unwrap();
        }
        lines
    });
    let out = connect(&[&addr.to_string(), "--udp"], b"alpha\nbeta\n");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        echo.join().unwrap(),
        [b"alpha\n".to_vec(), b"beta\n".to_vec()]
    );
    assert_eq!(out.stdout, b"re: alpha\nre: beta\n");
}
