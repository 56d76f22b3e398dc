//! A blocking HTTP client over `std::net` that drives [`portline_core::http::Connection`] in the
//! client role: send one GET, print the status line on stderr and the body on stdout.
//!
//! ```text
//! cargo run -p portline-core --example std_client -- 127.0.0.1:8080 /hello
//! ```
//!
//! Exit status 0 for a 2xx, 1 otherwise. A client connection has no timers (`poll_timeout` is
//! `None`: how long to wait is the application's choice), so the socket gets a plain read
//! timeout.

// An example owns its socket and stdout, which core/clippy.toml forbids in core/src.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use portline_core::Time;
use portline_core::http::{BodyLength, Config, Connection, Event, Progress, Request, Role};

fn main() -> io::Result<ExitCode> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or("127.0.0.1:8080".into());
    let target = args.next().unwrap_or("/".into());
    let mut stream = TcpStream::connect(&addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;

    // No timers on a client connection: a constant time is enough.
    let now = Time::ZERO;
    let mut conn = Connection::new(Role::Client, Config::default(), now);
    let mut out = Vec::new();
    let request = Request {
        method: "GET",
        target: &target,
        headers: &[("Host", addr.as_bytes()), ("User-Agent", b"std_client")],
        body: BodyLength::Known(0),
        keep_alive: false,
    };
    conn.send_request(now, &request, &mut out)?;
    conn.send_end(now)?;
    stream.write_all(&out)?;

    let (mut buf, mut status, mut stdout) = ([0u8; 8192], 0, io::stdout().lock());
    loop {
        match conn.poll_event()? {
            Progress::Event(Event::Response(head)) if head.status >= 200 => {
                let reason = String::from_utf8_lossy(&head.reason);
                eprintln!("HTTP/{} {} {reason}", head.version.as_str(), head.status);
                status = head.status;
            }
            Progress::Event(Event::Data(piece)) => stdout.write_all(&piece)?,
            Progress::Event(Event::EndOfMessage) if status != 0 => break,
            Progress::Event(_) => {} // an interim 1xx head and its end
            Progress::NeedData | Progress::Paused => match stream.read(&mut buf)? {
                0 => conn.receive_eof(now),
                n => conn.receive(now, &buf[..n]),
            },
            Progress::Closed => break,
        }
    }
    stdout.flush()?;
    Ok(if (200..300).contains(&status) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
