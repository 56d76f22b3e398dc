//! The floor of a thread-per-connection server, for `benches/load/vs-hyper.sh` (`STD_FLOOR=1`):
//! the shape of `portline-std` (blocking `std::net`, one thread per connection, `TCP_NODELAY`,
//! one `read` and one `write` per request) with everything else taken away. It parses nothing
//! and reads no file: for every `\r\n\r\n` it reads it writes the same 270-byte answer that
//! `portline-std` sends for the 13-byte `hello.txt` (same status line, fields and lengths).
//!
//! What it costs per request is what the design costs: the system calls and the scheduler's
//! wake-up and switch of a thread per request. No `portline-std` can be cheaper than this
//! floor, whatever its parser and file server do, so comparing the floor with nginx tells
//! whether a goal for `portline-std` is reachable without leaving the design.
//!
//! ```text
//! cargo build --profile profiling -p portline-benches --example std_floor
//! target/profiling/examples/std_floor 127.0.0.1:0   # prints "listening on http://IP:PORT/"
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

/// What `portline-std serve http` answers for a 13-byte `hello.txt`, byte for byte as long.
const ANSWER: &[u8] = b"HTTP/1.0 200 OK\r\n\
Date: Tue, 01 Dec 2026 10:13:30 GMT\r\n\
Server: portline/0.1\r\n\
Content-Type: text/plain\r\n\
Last-Modified: Tue, 01 Dec 2026 10:12:34 GMT\r\n\
ETag: \"fe000098c5a4-18ed19951b9694e3-d\"\r\n\
Accept-Ranges: bytes\r\n\
Content-Length: 13\r\n\
Connection: keep-alive\r\n\
\r\n\
hello, world\n";

/// Answer every complete head on `stream` until the peer closes or the socket fails.
fn serve(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = [0u8; 4096];
    // Bytes of a head end (`\r\n\r\n`) matched at the end of the previous read.
    let mut matched = 0;
    let mut out = Vec::new();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        out.clear();
        for &b in &buf[..n] {
            matched = match (matched, b) {
                (0 | 2, b'\r') => matched + 1,
                (1 | 3, b'\n') => matched + 1,
                (_, b'\r') => 1,
                _ => 0,
            };
            if matched == 4 {
                out.extend_from_slice(ANSWER);
                matched = 0;
            }
        }
        if !out.is_empty() && stream.write_all(&out).is_err() {
            return;
        }
    }
}

fn main() {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into())
        .parse()
        .unwrap_or_else(|e| {
            eprintln!("std_floor: usage: std_floor [IP:PORT]: {e}");
            std::process::exit(2);
        });
    let listener = TcpListener::bind(addr).unwrap_or_else(|e| {
        eprintln!("std_floor: listen {addr}: {e}");
        std::process::exit(1);
    });
    let local = listener
        .local_addr()
        .expect("a bound listener has an address");
    eprintln!("listening on http://{local}/");
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        // The same stack size as portline-std's connection threads.
        let _ = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || serve(stream));
    }
}
