//! The `portline-mio` binary: SIGINT and SIGTERM. Every process started here is stopped by
//! its PID.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portline_testkit::harness::IO_TIMEOUT;

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
