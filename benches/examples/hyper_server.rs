//! The hyper peer of `benches/load/vs-hyper.sh`: hyper 1.x on a tokio `current_thread` runtime
//! (one thread), HTTP/1 with keep-alive, answering every request with the same 13-byte body
//! (`hello, world\n`, the size of the file the other servers serve). It reads no file: it is
//! the cost of an HTTP exchange in hyper and nothing else, the bar the issue sets.
//!
//! With `--portline-headers` it also sends the header fields portline's file server sends for
//! that file (Server, Content-Type, Last-Modified, ETag, Accept-Ranges, `Connection:
//! keep-alive`), fixed values of the same lengths: the same exchange, byte for byte as long,
//! so that what the header bytes cost (the server's and the client's parsing) shows apart.
//!
//! ```text
//! cargo build --profile profiling -p portline-benches --example hyper_server
//! target/profiling/examples/hyper_server 127.0.0.1:0   # prints "listening on http://IP:PORT/"
//! target/profiling/examples/hyper_server 127.0.0.1:0 --portline-headers
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const BODY: &[u8] = b"hello, world\n";

async fn hello(_req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

/// The fields portline-mio adds for a 13-byte `hello.txt` besides Date and Content-Length,
/// with values of the same lengths.
const PORTLINE_FIELDS: [(&str, &str); 6] = [
    ("server", "portline/0.1"),
    ("content-type", "text/plain"),
    ("last-modified", "Tue, 01 Dec 2026 06:08:46 GMT"),
    ("etag", "\"fe000098f71e-18ed0c472b278e74-d\""),
    ("accept-ranges", "bytes"),
    ("connection", "keep-alive"),
];

async fn hello_with_fields(
    _req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(BODY)));
    for (name, value) in PORTLINE_FIELDS {
        response
            .headers_mut()
            .insert(name, hyper::header::HeaderValue::from_static(value));
    }
    Ok(response)
}

fn main() {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into())
        .parse()
        .unwrap_or_else(|e| {
            eprintln!("hyper_server: usage: hyper_server [IP:PORT] [--portline-headers]: {e}");
            std::process::exit(2);
        });
    let fields = match std::env::args().nth(2).as_deref() {
        None => false,
        Some("--portline-headers") => true,
        Some(other) => {
            eprintln!("hyper_server: usage: hyper_server [IP:PORT] [--portline-headers]: {other}?");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("hyper_server: runtime: {e}");
            std::process::exit(1);
        });
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr).await.unwrap_or_else(|e| {
            eprintln!("hyper_server: listen {addr}: {e}");
            std::process::exit(1);
        });
        let local = listener
            .local_addr()
            .expect("a bound listener has an address");
        eprintln!("listening on http://{local}/");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            // One task per connection, all on this one thread (keep-alive is hyper's default).
            tokio::task::spawn(async move {
                let io = TokioIo::new(stream);
                let _ = if fields {
                    http1::Builder::new()
                        .serve_connection(io, service_fn(hello_with_fields))
                        .await
                } else {
                    http1::Builder::new()
                        .serve_connection(io, service_fn(hello))
                        .await
                };
            });
        }
    });
}
