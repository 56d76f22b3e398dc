//! Out of file descriptors: `accept` fails with EMFILE while connections wait in the backlog.
//! The server must back off instead of spinning, say so once, and recover when descriptors are
//! free again. Runs the binary under a small `ulimit -n`, and stops it by PID.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(10);

/// CPU time (user + system, in clock ticks) the process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server runs");
    // Fields after the command name (which is in parentheses): state is field 3, utime 14.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn accept_backs_off_when_out_of_descriptors_and_recovers() {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 32 && exec "$0" serve line --service echo --listen 127.0.0.1:0 --max-connections 1000"#)
        .arg(env!("CARGO_BIN_EXE_portline-smol"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start portline-smol");
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let server = Killed(child);
    let (lines_tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            if lines_tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let ready = lines.recv_timeout(PATIENCE).expect("a ready line");
    let addr: SocketAddr = ready
        .rsplit("tcp://")
        .next()
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or_else(|| panic!("no address in {ready:?}"));

    // More connections than the server has descriptors for: the rest wait in the backlog.
    let mut clients: Vec<TcpStream> = (0..60)
        .map(|_| TcpStream::connect(addr).expect("the backlog takes the connection"))
        .collect();
    let said = lines
        .recv_timeout(PATIENCE)
        .expect("the server reports the accept error");
    assert!(said.contains("accept"), "unexpected message: {said}");

    // Backing off, not spinning: well under a core's worth of CPU over one second.
    let before = cpu_ticks(pid);
    thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(pid) - before;
    assert!(
        used < 30,
        "{used} ticks of CPU in 1 s while out of descriptors"
    );
    assert!(
        lines.try_recv().is_err(),
        "the error is reported once, not per retry"
    );

    // Free the descriptors: the waiting connections are served, and so is a new one.
    let last = clients.pop().unwrap();
    drop(clients);
    for mut client in [last, TcpStream::connect(addr).unwrap()] {
        client.set_read_timeout(Some(PATIENCE)).unwrap();
        let start = Instant::now();
        client.write_all(b"still here\n").unwrap();
        // The echo service sends the bytes back.
        let mut back = [0u8; 11];
        client
            .read_exact(&mut back)
            .expect("served once descriptors are free");
        assert_eq!(&back, b"still here\n");
        assert!(start.elapsed() < PATIENCE);
    }

    // SIGTERM: a clean exit.
    let mut server = server;
    Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(start.elapsed() < PATIENCE, "no exit after SIGTERM");
        thread::sleep(Duration::from_millis(20));
    }
}
