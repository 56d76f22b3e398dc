//! The HTTP file server: a [`SessionFactory`] whose sessions drive a core
//! [`Connection`] in the server role and answer GET and HEAD
//! from a folder (see [`crate::files`] for how a target maps to a file).
//!
//! Bodies stream: each [`Session::poll_transmit`] call reads at most `budget` bytes of the file,
//! so a 1 GiB download holds one budget of it in memory at a time, however slow the reader.
//!
//! ```no_run
//! use portline_common::http_server::{FileServer, FileServerOptions};
//! let server = FileServer::new(FileServerOptions::new(".".into())).unwrap();
//! // hand `std::sync::Arc::new(server)` to `Runtime::serve_tcp`
//! ```

use std::fs::File;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use portline_core::Time;
use portline_core::http::{
    BodyLength, Config, Connection, DateCache, Event, Poll, RequestHead, Response, Role, Version,
};

use crate::clock;
use crate::files::{self, Resolved};
use crate::log;
use crate::session::{Session, SessionFactory};

/// The `Server` header value.
pub const SERVER: &str = "portline/0.1";

/// What `--max-connections` refusals get: a complete HTTP/1.0 503 that closes.
pub const OVERLOAD_REPLY: &[u8] = b"HTTP/1.0 503 Service Unavailable\r\n\
Server: portline/0.1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 32\r\n\
Retry-After: 1\r\n\
Connection: close\r\n\
\r\n\
503 too many connections, retry\n";

/// How the file server is configured.
#[derive(Debug, Clone)]
pub struct FileServerOptions {
    /// The folder served (`--root`).
    pub root: PathBuf,
    /// No access log (`--quiet`).
    pub quiet: bool,
    /// The core's limits and leniencies (`--header-timeout`, `--idle-timeout`).
    pub config: Config,
}

impl FileServerOptions {
    /// Serve `root` with the default configuration and an access log.
    pub fn new(root: PathBuf) -> FileServerOptions {
        FileServerOptions {
            root,
            quiet: false,
            config: Config::default(),
        }
    }
}

#[derive(Debug)]
struct Shared {
    root: files::Root,
    quiet: bool,
    config: Config,
}

/// Makes one [`HttpSession`] per connection.
#[derive(Debug, Clone)]
pub struct FileServer {
    shared: Arc<Shared>,
}

impl FileServer {
    /// A server for `opts.root`, which must be a directory (it is canonicalized and opened
    /// now: every request's path is opened relative to that handle, see [`files::Root`]).
    pub fn new(opts: FileServerOptions) -> io::Result<FileServer> {
        let root = files::Root::open(&opts.root)
            .map_err(|e| io::Error::new(e.kind(), format!("root {}: {e}", opts.root.display())))?;
        Ok(FileServer {
            shared: Arc::new(Shared {
                root,
                quiet: opts.quiet,
                config: opts.config,
            }),
        })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        self.shared.root.path()
    }

    /// A session for a connection from `peer`, as a concrete type (tests drive it directly).
    pub fn http_session(&self, now: Instant, peer: SocketAddr) -> HttpSession {
        HttpSession {
            shared: self.shared.clone(),
            peer: peer.ip().to_canonical(),
            conn: Connection::new(
                Role::Server,
                self.shared.config.clone(),
                clock::to_time(now),
            ),
            date: DateCache::new(),
            request: None,
            body: Body::None,
            failed: false,
        }
    }
}

impl SessionFactory for FileServer {
    fn session(&self, now: Instant, peer: SocketAddr, _local: SocketAddr) -> Box<dyn Session> {
        Box::new(self.http_session(now, peer))
    }

    fn overload_reply(&self) -> Option<Vec<u8>> {
        Some(OVERLOAD_REPLY.to_vec())
    }
}

/// The body still to send for the current response.
#[derive(Debug)]
enum Body {
    None,
    File { file: File, remaining: u64 },
    Bytes { data: Vec<u8>, pos: usize },
}

/// A response chosen for a request, before the connection writes it.
struct Reply {
    status: u16,
    reason: &'static str,
    headers: Vec<(&'static str, Vec<u8>)>,
    length: u64,
    body: Body,
}

impl Reply {
    fn page(status: u16, reason: &'static str) -> Reply {
        let text = format!(
            "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\
             <body><h1>{status} {reason}</h1></body></html>\n"
        )
        .into_bytes();
        Reply {
            status,
            reason,
            headers: vec![("Content-Type", b"text/html; charset=utf-8".to_vec())],
            length: text.len() as u64,
            body: Body::Bytes { data: text, pos: 0 },
        }
    }
}

/// One connection of the file server.
#[derive(Debug)]
pub struct HttpSession {
    shared: Arc<Shared>,
    peer: IpAddr,
    conn: Connection,
    date: DateCache,
    /// A request whose head arrived; answered at its EndOfMessage (its body is discarded).
    request: Option<RequestHead>,
    body: Body,
    /// A local failure (e.g. the file shrank while streaming): close without more output.
    failed: bool,
}

fn modified_since(meta: &std::fs::Metadata, head: &RequestHead) -> bool {
    let Some(ims) = head
        .headers
        .get("if-modified-since")
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
    else {
        return true;
    };
    let secs = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    };
    match meta.modified() {
        Ok(m) => secs(m) > secs(ims),
        Err(_) => true,
    }
}

impl HttpSession {
    /// Choose the reply for a GET or HEAD of `head.target`.
    fn reply_for(&self, head: &RequestHead) -> Reply {
        let resolved = match self.shared.root.resolve(&head.target) {
            Ok(r) => r,
            Err(refusal) => {
                let (status, reason) = refusal.status();
                return Reply::page(status, reason);
            }
        };
        match resolved {
            Resolved::Redirect(location) => {
                let mut r = Reply::page(301, "Moved Permanently");
                r.headers.push(("Location", location.into_bytes()));
                r
            }
            Resolved::Directory { path, url_path } => match files::listing(&path, &url_path) {
                Ok(page) => Reply {
                    status: 200,
                    reason: "OK",
                    headers: vec![("Content-Type", b"text/html; charset=utf-8".to_vec())],
                    length: page.len() as u64,
                    body: Body::Bytes { data: page, pos: 0 },
                },
                Err(_) => Reply::page(403, "Forbidden"),
            },
            Resolved::File { path, file, meta } => {
                let mut headers = Vec::with_capacity(2);
                let mime = mime_guess::from_path(&path).first_or_octet_stream();
                headers.push(("Content-Type", mime.essence_str().as_bytes().to_vec()));
                if let Ok(m) = meta.modified() {
                    headers.push(("Last-Modified", httpdate::fmt_http_date(m).into_bytes()));
                }
                if !modified_since(&meta, head) {
                    return Reply {
                        status: 304,
                        reason: "Not Modified",
                        headers,
                        length: meta.len(),
                        body: Body::None,
                    };
                }
                Reply {
                    status: 200,
                    reason: "OK",
                    headers,
                    length: meta.len(),
                    body: Body::File {
                        file,
                        remaining: meta.len(),
                    },
                }
            }
        }
    }

    /// Write the head of the answer to `head` and set up its body.
    fn respond(&mut self, t: Time, head: &RequestHead, out: &mut Vec<u8>) {
        let method = head.method_str();
        let is_head = method == "HEAD";
        let mut reply = if method == "GET" || is_head {
            self.reply_for(head)
        } else {
            let mut r = Reply::page(405, "Method Not Allowed");
            r.headers.push(("Allow", b"GET, HEAD".to_vec()));
            r
        };
        let date = self.date.render(SystemTime::now()).to_string();
        let mut headers: Vec<(&str, &[u8])> = Vec::with_capacity(reply.headers.len() + 2);
        headers.push(("Date", date.as_bytes()));
        headers.push(("Server", SERVER.as_bytes()));
        headers.extend(reply.headers.iter().map(|(n, v)| (*n, v.as_slice())));
        let response = Response {
            status: reply.status,
            reason: reply.reason,
            headers: &headers,
            body: BodyLength::Known(reply.length),
        };
        if self.conn.send_response(t, &response, out).is_err() {
            self.failed = true;
            return;
        }
        let sends_body = !is_head && reply.status != 304 && reply.length > 0;
        if !self.shared.quiet {
            let version = match head.version {
                Version::Http09 => None,
                v => Some(v.as_str()),
            };
            log::emit(&log::access_line(
                self.peer,
                SystemTime::now(),
                &log::request_line(method, &head.target, version),
                reply.status,
                sends_body.then_some(reply.length),
            ));
        }
        if sends_body {
            self.body = std::mem::replace(&mut reply.body, Body::None);
        } else if self.conn.send_end(t, out).is_err() {
            self.failed = true;
        }
    }

    /// Append up to `room` bytes of the current body; end the message when it is all sent.
    fn pump(&mut self, t: Time, out: &mut Vec<u8>, room: usize) {
        let finished = match &mut self.body {
            Body::None => return,
            Body::Bytes { data, pos } => {
                let n = room.min(data.len() - *pos);
                if self.conn.send_data(t, &data[*pos..*pos + n], out).is_err() {
                    self.failed = true;
                    return;
                }
                *pos += n;
                *pos == data.len()
            }
            Body::File { file, remaining } => {
                let want = (room as u64).min(*remaining);
                let mut chunk = Vec::with_capacity(want as usize);
                match Read::take(&mut *file, want).read_to_end(&mut chunk) {
                    // The file shrank or failed under us: the promised length cannot be met, so
                    // the only honest end is closing the connection.
                    Ok(0) | Err(_) => {
                        self.failed = true;
                        return;
                    }
                    Ok(n) => {
                        if self.conn.send_data(t, &chunk, out).is_err() {
                            self.failed = true;
                            return;
                        }
                        *remaining -= n as u64;
                        *remaining == 0
                    }
                }
            }
        };
        if finished {
            self.body = Body::None;
            if self.conn.send_end(t, out).is_err() {
                self.failed = true;
            }
        }
    }
}

impl Session for HttpSession {
    fn receive(&mut self, now: Instant, data: &[u8]) {
        self.conn.receive(clock::to_time(now), data);
    }

    fn receive_eof(&mut self, now: Instant) {
        self.conn.receive_eof(clock::to_time(now));
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(clock::to_time(now));
    }

    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>, budget: usize) {
        let t = clock::to_time(now);
        let start = out.len();
        while !self.failed {
            let used = out.len() - start;
            if used >= budget {
                return;
            }
            if !matches!(self.body, Body::None) {
                self.pump(t, out, budget - used);
                continue;
            }
            match self.conn.poll_event() {
                Ok(Poll::Event(Event::Request(head))) => self.request = Some(head),
                Ok(Poll::Event(Event::EndOfMessage)) => {
                    if let Some(head) = self.request.take() {
                        self.respond(t, &head, out);
                    }
                }
                // A request body (discarded: GET and HEAD take none) or a client-role event.
                Ok(Poll::Event(Event::Data(_) | Event::Response(_))) => {}
                Ok(Poll::Event(Event::ConnectionClosed))
                | Ok(Poll::NeedData | Poll::Paused | Poll::Closed) => return,
                Err(e) => {
                    self.conn.send_error(t, &e, out);
                    if let (Some(status), false) = (e.status(), self.shared.quiet) {
                        log::emit(&log::access_line(
                            self.peer,
                            SystemTime::now(),
                            "-",
                            status,
                            None,
                        ));
                    }
                    self.failed = true;
                }
            }
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.failed {
            return None;
        }
        self.conn.poll_timeout().map(clock::to_instant)
    }

    fn wants_read(&self) -> bool {
        !self.failed && self.conn.wants_read()
    }

    fn is_done(&self) -> bool {
        self.failed || self.conn.is_closed()
    }
}
