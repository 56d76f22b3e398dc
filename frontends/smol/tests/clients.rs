//! The smol runtime's UDP server and its client driver (`run_client`), over loopback.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use portline_common::{ClientError, Runtime, Session};
use portline_smol::SmolRuntime;
use support::{PATIENCE, Server, UdpEcho, options};

#[test]
fn udp_answers_each_datagram_and_stops_on_shutdown() {
    let server = Server::udp(options(10, Duration::from_secs(1)), Box::new(UdpEcho));
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.connect(server.addr).unwrap();
    let mut buf = [0u8; 2048];
    for word in ["one", "two", "three"] {
        client.send(word.as_bytes()).unwrap();
        let n = client.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], format!("echo: {word}").as_bytes());
    }
    // No reply to an empty datagram; the next one is still answered.
    client.send(b"").unwrap();
    client.send(b"four").unwrap();
    let n = client.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"echo: four");
    let (result, took) = server.stop();
    result.expect("UDP serve returns Ok on shutdown");
    assert!(took < PATIENCE);
}

/// Sends `request` once, collects everything until the peer closes.
struct Fetch {
    request: Option<Vec<u8>>,
    received: Vec<u8>,
    eof: bool,
}

impl Fetch {
    fn new(request: &[u8]) -> Self {
        Fetch {
            request: Some(request.to_vec()),
            received: Vec::new(),
            eof: false,
        }
    }
}

impl Session for Fetch {
    fn receive(&mut self, _now: Instant, data: &[u8]) {
        self.received.extend_from_slice(data);
    }
    fn receive_eof(&mut self, _now: Instant) {
        self.eof = true;
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>, _budget: usize) {
        if let Some(request) = self.request.take() {
            out.extend_from_slice(&request);
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn wants_read(&self) -> bool {
        !self.eof
    }
    fn is_done(&self) -> bool {
        self.eof
    }
}

/// A one-connection peer: reads one line, then answers with `reply(line)` and closes (with a
/// reset when `reset`).
fn peer(reply: fn(&[u8]) -> Vec<u8>, reset: bool) -> (SocketAddr, thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut line = Vec::new();
        let mut byte = [0u8];
        while !line.ends_with(b"\n") {
            if stream.read(&mut byte).unwrap() == 0 {
                break;
            }
            line.push(byte[0]);
        }
        if reset {
            socket2::SockRef::from(&stream)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
        } else {
            stream.write_all(&reply(&line)).unwrap();
        }
        line
    });
    (addr, handle)
}

#[test]
fn run_client_sends_the_request_and_reads_to_the_close() {
    let (addr, peer) = peer(
        |line| {
            let mut reply = b"you said: ".to_vec();
            reply.extend_from_slice(line);
            // Larger than one read, to need several.
            reply.extend(std::iter::repeat_n(b'z', 100_000));
            reply
        },
        false,
    );
    let mut fetch = Fetch::new(b"hello\n");
    SmolRuntime::new()
        .run_client(addr, PATIENCE, &mut fetch)
        .expect("the exchange succeeds");
    assert_eq!(peer.join().unwrap(), b"hello\n");
    assert!(fetch.received.starts_with(b"you said: hello\n"));
    assert_eq!(fetch.received.len(), 16 + 100_000);
}

#[test]
fn run_client_names_the_stage_that_failed() {
    // Nothing listens on a port just released.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut fetch = Fetch::new(b"hello\n");
    match SmolRuntime::new().run_client(closed, PATIENCE, &mut fetch) {
        Err(ClientError::Connect(e)) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused),
        other => panic!("expected a connect error, got {other:?}"),
    }

    // A peer that resets instead of answering.
    let (addr, peer) = peer(|_| Vec::new(), true);
    let mut fetch = Fetch::new(b"hello\n");
    match SmolRuntime::new().run_client(addr, PATIENCE, &mut fetch) {
        Err(ClientError::Receive(e)) => assert_eq!(e.kind(), ErrorKind::ConnectionReset),
        other => panic!("expected a receive error, got {other:?}"),
    }
    peer.join().unwrap();
}
