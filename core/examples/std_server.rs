//! A blocking HTTP server over `std::net` that drives [`portline_core::http::Connection`]
//! directly: the whole sans-IO loop, one thread per connection.
//!
//! ```text
//! cargo run -p portline-core --example std_server -- 127.0.0.1:8080
//! curl -i http://127.0.0.1:8080/hello
//! ```
//!
//! Every request is answered `200 OK` with `you asked for TARGET`. Steps: write what is pending,
//! arm the timer from `poll_timeout`, read, hand the bytes to `receive`, drain `poll_event`.

// An example owns its sockets, threads and clock, which core/clippy.toml forbids in core/src.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use portline_core::Time;
use portline_core::http::{BodyLength, Config, Connection, Event, Progress, Response, Role};

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    let listener = TcpListener::bind(addr)?;
    eprintln!("listening on http://{}/", listener.local_addr()?);
    let origin = Instant::now(); // the core's clock: Time is the duration since this instant
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || serve(stream, origin).ok());
    }
    Ok(())
}

fn serve(mut stream: TcpStream, origin: Instant) -> io::Result<()> {
    let now = || Time::from(origin.elapsed());
    let mut conn = Connection::new(Role::Server, Config::default(), now());
    let (mut buf, mut out, mut target) = ([0u8; 8192], Vec::new(), None);
    loop {
        // Drain every event the bytes so far make; answer each request when it is complete.
        loop {
            match conn.poll_event() {
                Ok(Progress::Event(Event::Request(head))) => target = Some(head.target),
                Ok(Progress::Event(Event::EndOfMessage)) => {
                    let body = format!(
                        "you asked for {}\n",
                        String::from_utf8_lossy(&target.take().unwrap_or_default())
                    );
                    let headers: &[(&str, &[u8])] = &[("Content-Type", b"text/plain")];
                    let response = Response {
                        status: 200,
                        reason: "OK",
                        headers,
                        body: BodyLength::Known(body.len() as u64),
                    };
                    conn.send_response(now(), &response, &mut out)?;
                    conn.send_data(now(), body.as_bytes(), &mut out)?;
                    conn.send_end(now())?;
                }
                Ok(Progress::Event(_)) => {} // a piece of a request body
                Ok(Progress::NeedData | Progress::Paused | Progress::Closed) => break,
                Err(e) => {
                    // Answers 400, 408, 413, ... and closes (Err only if a response was started).
                    let _ = conn.send_error(now(), &e, &mut out);
                    break;
                }
            }
        }
        stream.write_all(&out)?;
        out.clear();
        if conn.is_closed() {
            return Ok(());
        }
        // The timer. A deadline already due gives a zero duration, which `set_read_timeout`
        // refuses (`InvalidInput`): fire it now instead of reading.
        let wait = conn
            .poll_timeout()
            .map(|deadline| deadline.saturating_duration_since(now()));
        if wait == Some(Duration::ZERO) {
            conn.handle_timeout(now());
            continue;
        }
        stream.set_read_timeout(wait)?;
        match stream.read(&mut buf) {
            Ok(0) => conn.receive_eof(now()),
            Ok(n) => conn.receive(now(), &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                conn.handle_timeout(now())
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
