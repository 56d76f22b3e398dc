//! A blocking line-protocol server over `std::net` that drives [`portline_core::line::Codec`]
//! directly: every line is answered `you said: LINE`, `QUIT` ends the session.
//!
//! ```text
//! cargo run -p portline-core --example line_server -- 127.0.0.1:7070
//! printf 'hello\r\nQUIT\r\n' | nc 127.0.0.1 7070
//! ```
//!
//! Lines end with LF or CRLF and are at most 8 KiB ([`portline_core::line::DEFAULT_MAX_LINE`]);
//! a longer one is reported, skipped, and framing carries on after it. The codec has no timers,
//! so the loop is only read, receive, drain `poll_event`, write.

// An example owns its sockets and threads, which core/clippy.toml forbids in core/src.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};

use portline_core::line::{Codec, Config, LineEvent};

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:7070".into());
    let listener = TcpListener::bind(addr)?;
    eprintln!("listening on tcp://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || serve(stream).ok());
    }
    Ok(())
}

fn serve(mut stream: TcpStream) -> io::Result<()> {
    // Telnet `Auto`: plain bytes until the peer sends IAC; then the codec answers options.
    let mut codec = Codec::new(Config::default());
    let (mut buf, mut out, mut done) = ([0u8; 8192], Vec::new(), false);
    while !done {
        match stream.read(&mut buf)? {
            0 => codec.receive_eof(),
            n => codec.receive(&buf[..n]),
        }
        codec.poll_transmit(&mut out); // the telnet layer's refusals (IAC WONT/DONT), if any
        while let Some(event) = codec.poll_event() {
            match event {
                LineEvent::Line(line) if line.eq_ignore_ascii_case(b"QUIT") => {
                    codec.encode_line(b"bye", &mut out);
                    done = true;
                    break;
                }
                LineEvent::Line(line) => {
                    let reply = [&b"you said: "[..], &line].concat();
                    codec.encode_line(&reply, &mut out);
                }
                LineEvent::TooLong { dropped } => {
                    let reply = format!("error: line too long (more than {} bytes)", dropped - 1);
                    codec.encode_line(reply.as_bytes(), &mut out);
                }
                LineEvent::Eof { .. } => done = true,
            }
        }
        stream.write_all(&out)?;
        out.clear();
    }
    Ok(())
}
