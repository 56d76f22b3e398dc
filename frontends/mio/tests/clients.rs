//! UDP serving and the client side (`run_client`) of the mio runtime.

mod support;

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use portline_common::{ClientError, Runtime, Session, Shutdown};
use portline_mio::MioRuntime;
use support::{IO_TIMEOUT, UdpServer};

#[test]
fn udp_datagrams_are_answered_until_shutdown() {
    let UdpServer {
        addr,
        shutdown,
        thread: server,
    } = UdpServer::start();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut buf = [0; 2048];
    for i in 0..20 {
        let msg = format!("datagram {i}");
        client.send_to(msg.as_bytes(), addr).unwrap();
        let (n, from) = client.recv_from(&mut buf).unwrap();
        assert_eq!(from, addr);
        assert_eq!(&buf[..n], msg.as_bytes());
    }
    shutdown.request();
    let deadline = Instant::now() + IO_TIMEOUT;
    while !server.is_finished() {
        assert!(Instant::now() < deadline, "serve_udp did not return");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.join().unwrap().expect("serve_udp returns Ok");
}

/// Sends a request line and collects the answer until the peer closes.
struct Collect {
    request: Vec<u8>,
    got: Vec<u8>,
    eof: bool,
}

impl Session for Collect {
    fn receive(&mut self, _now: Instant, data: &[u8]) {
        self.got.extend_from_slice(data);
    }
    fn receive_eof(&mut self, _now: Instant) {
        self.eof = true;
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>, budget: usize) {
        let n = self.request.len().min(budget);
        out.extend(self.request.drain(..n));
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

#[test]
fn run_client_sends_the_request_and_reads_to_the_end() {
    // A plain blocking peer: answer each line upper-cased, then close after "bye".
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || -> io::Result<usize> {
        let (stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        let mut writer = stream.try_clone()?;
        let mut lines = 0;
        for line in BufReader::new(stream).lines() {
            let line = line?;
            writer.write_all(line.to_uppercase().as_bytes())?;
            writer.write_all(b"\n")?;
            lines += 1;
            if line == "bye" {
                break;
            }
        }
        Ok(lines)
    });
    // A request larger than one budget, so that it takes several writes.
    let mut request = Vec::new();
    for i in 0..20_000 {
        request.extend_from_slice(format!("line {i}\n").as_bytes());
    }
    request.extend_from_slice(b"bye\n");
    let expected = String::from_utf8(request.to_ascii_uppercase()).unwrap();
    let mut session = Collect {
        request,
        got: Vec::new(),
        eof: false,
    };
    let rt = MioRuntime::with_shutdown(Shutdown::new());
    rt.run_client(addr, IO_TIMEOUT, &mut session)
        .expect("the exchange completes");
    assert_eq!(peer.join().unwrap().unwrap(), 20_001);
    assert!(session.eof);
    assert_eq!(String::from_utf8(session.got).unwrap(), expected);
}

#[test]
fn run_client_reports_a_refused_connection_as_a_connect_error() {
    // Bind then drop: nothing listens on that port now.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut session = Collect {
        request: b"hello\n".to_vec(),
        got: Vec::new(),
        eof: false,
    };
    let rt = MioRuntime::with_shutdown(Shutdown::new());
    match rt.run_client(addr, IO_TIMEOUT, &mut session) {
        Err(ClientError::Connect(e)) => {
            assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}")
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
}

#[test]
fn run_client_gives_up_connecting_after_the_timeout() {
    // A listener that never accepts, its queue filled: further SYNs are dropped, so a connect
    // neither succeeds nor fails until the client's own timeout.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&addr.into());
        fillers.push(s);
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut session = Collect {
        request: b"hello\n".to_vec(),
        got: Vec::new(),
        eof: false,
    };
    let rt = MioRuntime::with_shutdown(Shutdown::new());
    let start = Instant::now();
    let result = rt.run_client(addr, Duration::from_millis(300), &mut session);
    let took = start.elapsed();
    match result {
        Err(ClientError::Connect(e)) => assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}"),
        other => panic!("expected a connect timeout, got {other:?}"),
    }
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < IO_TIMEOUT, "{took:?}");
    drop(fillers);
}
