//! An HTTP/1.0 server on tokio, a runtime none of portline's frontends use, driving
//! `portline_core::http::Connection` directly (no `portline-common`): the same loop as the core's
//! `std_server` example, with `.await` on the socket and the timer as `timeout_at`.
//!
//! ```text
//! cargo run -p portline-tokio-example -- 127.0.0.1:8080
//! curl -i http://127.0.0.1:8080/hello
//! ```
//!
//! Every request is answered `200 OK` with `you asked for TARGET`; keep-alive, pipelining, the
//! first-byte, idle, head and body timeouts and the error statuses (400, 408, 413, ...) are the
//! core's.

use std::io;

use portline_core::Time;
use portline_core::http::{BodyLength, Config, Connection, Event, Progress, Response, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout_at};

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    let listener = TcpListener::bind(addr).await?;
    eprintln!("listening on http://{}/", listener.local_addr()?);
    let origin = Instant::now(); // the core's clock: Time is the duration since this instant
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move { serve(stream, origin).await.ok() });
    }
}

async fn serve(mut stream: TcpStream, origin: Instant) -> io::Result<()> {
    let now = || Time::from(origin.elapsed());
    let mut conn = Connection::new(Role::Server, Config::default(), now());
    let (mut buf, mut out, mut target) = (vec![0u8; 8192], Vec::new(), None);
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
                    // Answers 400, 408, ... and closes (Err only if a response was started).
                    let _ = conn.send_error(now(), &e, &mut out);
                    break;
                }
            }
        }
        stream.write_all(&out).await?;
        out.clear();
        if conn.is_closed() {
            return Ok(());
        }
        // The timer: `timeout_at` takes an instant, so a deadline already due needs no special
        // case (unlike std's `set_read_timeout`, which refuses a zero duration).
        let read = match conn.poll_timeout() {
            Some(deadline) => {
                timeout_at(origin + deadline.as_duration(), stream.read(&mut buf)).await
            }
            None => Ok(stream.read(&mut buf).await),
        };
        match read {
            Err(_elapsed) => conn.handle_timeout(now()),
            Ok(Ok(0)) => conn.receive_eof(now()),
            Ok(Ok(n)) => conn.receive(now(), &buf[..n]),
            Ok(Err(e)) => return Err(e),
        }
    }
}
