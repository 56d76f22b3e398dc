//! The cases that watch the whole process, each for a test binary of its own (nothing else
//! may run beside it): descriptors left behind, a signal, and the binary itself out of
//! descriptors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown as Half, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use portline_common::Runtime;

use crate::Make;
use crate::app::TestFactory;
use crate::harness::{IO_TIMEOUT, Server, eventually, options, read_line, send};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd lists this process's descriptors")
        .count()
}

/// The descriptor count once it holds still for 20 ms. A session is counted out when it is
/// dropped, and some drivers (portline-std's thread) close its socket just after: a count taken
/// in between includes a descriptor about to go, which made the baseline one too high (and the
/// check that 50 connections hold 100 descriptors fail, about one run in six).
fn settled_fds() -> usize {
    let deadline = Instant::now() + IO_TIMEOUT;
    let mut last = open_fds();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let now = open_fds();
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

/// No descriptor is left behind by connections that close, reset, or send garbage.
pub fn descriptors_return_to_the_baseline<R: Runtime + Send + 'static>(make: Make<R>) {
    let factory = TestFactory::new();
    let stats = factory.stats.clone();
    let opts = options(2, 1_000, Duration::from_secs(1));
    let mut server = Server::tcp(make, opts, Arc::new(factory), stats);
    // Warm up: the first connection may allocate lazily (event buffers, pools, threads).
    {
        let mut c = server.connect();
        send(&mut c, b"warm\n");
        let mut r = BufReader::new(c);
        assert_eq!(read_line(&mut r), "warm\n");
    }
    eventually("warm-up closed", || server.stats.alive() == 0);
    let baseline = settled_fds();

    let mut conns = Vec::new();
    for i in 0..50 {
        let mut c = server.connect();
        send(&mut c, format!("hello {i}\n").as_bytes());
        conns.push(c);
    }
    eventually("all 50 accepted", || server.stats.alive() == 50);
    // Client sockets plus server sockets are open now.
    assert!(open_fds() >= baseline + 100, "connections hold descriptors");

    for (i, c) in conns.into_iter().enumerate() {
        match i % 4 {
            // Orderly: read the answer, half-close, read the end.
            0 => {
                let mut r = BufReader::new(c.try_clone().unwrap());
                assert_eq!(read_line(&mut r), format!("hello {i}\n"));
                c.shutdown(Half::Write).unwrap();
                let mut rest = Vec::new();
                r.read_to_end(&mut rest).unwrap();
            }
            // Reset with a response in flight.
            1 => {
                let mut c = c;
                send(&mut c, b"stream 50000000\n");
                crate::harness::reset(c);
            }
            // Garbage and an unterminated line, then a plain close.
            2 => {
                let mut c = c;
                send(&mut c, &[0xff, 0x00, 0xfe, b'\r', 0x80, b'x']);
            }
            // Close without reading anything.
            _ => drop(c),
        }
    }
    eventually("every session dropped", || server.stats.alive() == 0);
    eventually("descriptors back to the baseline", || {
        open_fds() <= baseline
    });
    server.stop().unwrap();
}

/// SIGTERM stops a server of the binary's runtime (`new`, which handles signals): it returns
/// `Ok` and drops every session.
pub fn sigterm_stops_the_server_gracefully<R: Runtime + Send + 'static>(new: fn() -> R) {
    let factory = TestFactory::new();
    let stats = factory.stats.clone();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = new();
        let opts = options(1, 10, Duration::from_secs(2));
        let result = rt.serve_tcp(&opts, Arc::new(factory), &mut |addr| {
            let _ = ready_tx.send(addr);
        });
        let _ = done_tx.send(result);
    });
    let addr: SocketAddr = ready_rx.recv_timeout(IO_TIMEOUT).unwrap();
    let client = TcpStream::connect_timeout(&addr, IO_TIMEOUT).unwrap();
    client.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    send(&mut client.try_clone().unwrap(), b"before\n");
    assert_eq!(read_line(&mut reader), "before\n");

    // The handlers are installed before the ready call, so this cannot kill the process.
    signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
    let result = done_rx
        .recv_timeout(IO_TIMEOUT)
        .expect("the server returns after SIGTERM");
    result.expect("and returns Ok");
    assert_eq!(stats.alive(), 0);
}

/// CPU time (user + system, in clock ticks) the process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server runs");
    // Fields after the command name (which is in parentheses and may hold spaces): utime and
    // stime are fields 14 and 15 of the line, 12 and 13 here.
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

/// The binary at `bin` (`env!("CARGO_BIN_EXE_portline-x")`) under `ulimit -n 32`, with more
/// connections waiting than it has descriptors: `accept` fails with EMFILE, and the server
/// must back off instead of spinning, say so exactly once (one warning, the same from every
/// binary but for its name, never one per retry or per event loop of portline-mio), serve again once
/// descriptors are free, and exit 0 on SIGTERM.
pub fn out_of_descriptors_the_binary_backs_off_and_recovers(bin: &str) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 32 && exec "$0" serve line --service echo --listen 127.0.0.1:0 --max-connections 1000"#)
        .arg(bin)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let mut server = Killed(child);
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            if lines_tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let ready = lines.recv_timeout(IO_TIMEOUT).expect("a ready line");
    let addr: SocketAddr = ready
        .rsplit("tcp://")
        .next()
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or_else(|| panic!("no address in {ready:?}"));

    // More connections than the server has descriptors for: the rest wait in the backlog.
    let mut clients: Vec<TcpStream> = (0..60)
        .map(|_| TcpStream::connect(addr).expect("the backlog takes the connection"))
        .collect();
    // Backing off, not spinning: well under a core's worth of CPU over one second.
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(pid) - before;
    assert!(
        used < 30,
        "{used} ticks of CPU in 1 s while out of descriptors"
    );
    // Said once, in the message format (policy::AcceptFailures), not per retry or per loop.
    let program = std::path::Path::new(bin)
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a binary's file name");
    let said: Vec<String> = lines.try_iter().collect();
    let warning = format!(
        "{program}: serve line: warning: accept: Too many open files; new connections wait in \
         the backlog, accepting again every 100ms (said once until an accept succeeds)"
    );
    assert_eq!(
        said,
        [warning],
        "exactly one warning while out of descriptors"
    );

    // Free the descriptors: the waiting connections are served, and so is a new one.
    let last = clients.pop().unwrap();
    drop(clients);
    for mut client in [last, TcpStream::connect(addr).unwrap()] {
        client.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        client.write_all(b"still here\n").unwrap();
        // The echo service sends the bytes back.
        let mut back = [0u8; 11];
        client
            .read_exact(&mut back)
            .expect("served once descriptors are free");
        assert_eq!(&back, b"still here\n");
    }

    // SIGTERM: a clean exit.
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
        assert!(start.elapsed() < IO_TIMEOUT, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
