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

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
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
            request: None,
            body: Body::None,
            failed: false,
            logged: VecDeque::new(),
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

    /// A 503 is an answer too: it gets its access-log line, with the body bytes that went out.
    fn refused(&self, _now: Instant, peer: SocketAddr, sent: usize) {
        if self.shared.quiet {
            return;
        }
        let head = OVERLOAD_REPLY
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(OVERLOAD_REPLY.len(), |p| p + 4);
        with_date(|date| {
            log::emit_entry(&log::Entry {
                peer: peer.ip().to_canonical(),
                date,
                request: None,
                status: 503,
                bytes: Some(sent.saturating_sub(head) as u64),
            });
        });
    }
}

/// The body still to send for the current response.
#[derive(Debug)]
enum Body {
    None,
    File {
        file: File,
        remaining: u64,
    },
    /// A page: written at compile time, or rendered for this request (a listing).
    Bytes {
        data: Cow<'static, [u8]>,
        pos: usize,
    },
}

/// A response chosen for a request, before the connection writes it. Header values are
/// borrowed or rendered on the stack: answering a file allocates nothing here.
struct Reply {
    status: u16,
    reason: &'static str,
    content_type: &'static str,
    /// An IMF-fixdate (always 29 bytes).
    last_modified: Option<[u8; 29]>,
    /// `Location` or `Allow`.
    extra: Option<(&'static str, Vec<u8>)>,
    length: u64,
    body: Body,
}

/// The HTML of an error or redirect page, `<h1>` the status and reason.
macro_rules! page_html {
    ($status:literal, $reason:literal) => {
        concat!(
            "<!DOCTYPE html>\n<html><head><title>",
            $status,
            " ",
            $reason,
            "</title></head><body><h1>",
            $status,
            " ",
            $reason,
            "</h1></body></html>\n"
        )
    };
}

/// The pages the file server sends itself, written at compile time.
fn static_page(status: u16) -> Option<&'static str> {
    Some(match status {
        301 => page_html!(301, "Moved Permanently"),
        400 => page_html!(400, "Bad Request"),
        403 => page_html!(403, "Forbidden"),
        404 => page_html!(404, "Not Found"),
        405 => page_html!(405, "Method Not Allowed"),
        _ => return None,
    })
}

impl Reply {
    fn page(status: u16, reason: &'static str) -> Reply {
        let body = match static_page(status) {
            Some(html) if html.contains(reason) => Cow::Borrowed(html.as_bytes()),
            _ => Cow::Owned(
                format!(
                    "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\
                     <body><h1>{status} {reason}</h1></body></html>\n"
                )
                .into_bytes(),
            ),
        };
        Reply {
            status,
            reason,
            content_type: "text/html; charset=utf-8",
            last_modified: None,
            extra: None,
            length: body.len() as u64,
            body: Body::Bytes { data: body, pos: 0 },
        }
    }
}

/// `t` as an IMF-fixdate, rendered without allocating; `None` for a time httpdate cannot
/// represent (before 1970 or after 9999: it would panic), so such a file gets no
/// `Last-Modified` rather than crashing the server.
fn http_date(t: SystemTime) -> Option<[u8; 29]> {
    use std::io::Write as _;
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    // 9999-12-31T23:59:59Z is the last second httpdate renders.
    if secs >= 253_402_300_800 {
        return None;
    }
    let mut buf = [0u8; 29];
    let mut w = &mut buf[..];
    write!(w, "{}", httpdate::HttpDate::from(t)).ok()?;
    w.is_empty().then_some(buf)
}

/// The `Content-Type` for a file name, by extension (`mime_guess`'s table, as static text).
fn content_type(path: &Path) -> &'static str {
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(|e| mime_guess::from_ext(e).first_raw())
        .unwrap_or("application/octet-stream")
}

thread_local! {
    /// The `Date` value, rendered at most once a second per thread (per event loop), shared by
    /// every connection the thread serves.
    static DATE: RefCell<DateCache> = RefCell::new(DateCache::new());

    /// The buffer file chunks are read into before the connection frames them: one per thread,
    /// not per connection (idle connections hold none) nor per request. Grows to the largest
    /// chunk read, at most one transmit budget.
    static CHUNK: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` with the current `Date` value (an IMF-fixdate). `f` must not call this again.
fn with_date<R>(f: impl FnOnce(&str) -> R) -> R {
    DATE.with_borrow_mut(|cache| f(cache.render(SystemTime::now())))
}

/// One connection of the file server.
#[derive(Debug)]
pub struct HttpSession {
    shared: Arc<Shared>,
    peer: IpAddr,
    conn: Connection,
    /// A request whose head arrived; answered at its EndOfMessage (its body is discarded).
    request: Option<RequestHead>,
    body: Body,
    /// A local failure (e.g. the file shrank while streaming): close without more output.
    failed: bool,
    /// Answers whose access-log line waits until their bytes are known written (or the
    /// connection ends): oldest first; empty with `--quiet`.
    logged: VecDeque<Logged>,
}

/// One answer's access-log entry, written once the answer is known to be out, or when the
/// connection ends (an aborted transfer), with the body bytes actually written, as nginx's
/// `$body_bytes_sent`.
#[derive(Debug)]
struct Logged {
    /// The request (`None` for one that could not be parsed).
    request: Option<RequestHead>,
    status: u16,
    /// Body bytes handed to the driver.
    produced: u64,
    /// Of those, known written: everything handed out before a `poll_transmit` with an empty
    /// buffer (the [`Session`] contract).
    written: u64,
    /// The whole answer has been handed out.
    complete: bool,
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
                r.extra = Some(("Location", location.into_bytes()));
                r
            }
            Resolved::Directory { path, url_path } => match files::listing(&path, &url_path) {
                Ok(page) => Reply {
                    status: 200,
                    reason: "OK",
                    content_type: "text/html; charset=utf-8",
                    last_modified: None,
                    extra: None,
                    length: page.len() as u64,
                    body: Body::Bytes {
                        data: Cow::Owned(page),
                        pos: 0,
                    },
                },
                Err(_) => Reply::page(403, "Forbidden"),
            },
            Resolved::File { path, file, meta } => {
                let content_type = content_type(&path);
                let last_modified = meta.modified().ok().and_then(http_date);
                if !modified_since(&meta, head) {
                    return Reply {
                        status: 304,
                        reason: "Not Modified",
                        content_type,
                        last_modified,
                        extra: None,
                        length: meta.len(),
                        body: Body::None,
                    };
                }
                Reply {
                    status: 200,
                    reason: "OK",
                    content_type,
                    last_modified,
                    extra: None,
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
    fn respond(&mut self, t: Time, head: RequestHead, out: &mut Vec<u8>) {
        let method = head.method_str();
        let is_head = method == "HEAD";
        let mut reply = if method == "GET" || is_head {
            self.reply_for(&head)
        } else {
            let mut r = Reply::page(405, "Method Not Allowed");
            r.extra = Some(("Allow", b"GET, HEAD".to_vec()));
            r
        };
        let sends_body = !is_head && reply.status != 304 && reply.length > 0;
        // The Date text is borrowed from the thread's cache (rendered once a second).
        let sent = with_date(|date| {
            let mut headers: [(&str, &[u8]); 5] = [("", b""); 5];
            headers[0] = ("Date", date.as_bytes());
            headers[1] = ("Server", SERVER.as_bytes());
            headers[2] = ("Content-Type", reply.content_type.as_bytes());
            let mut n = 3;
            if let Some(lm) = &reply.last_modified {
                headers[n] = ("Last-Modified", lm);
                n += 1;
            }
            if let Some((name, value)) = &reply.extra {
                headers[n] = (name, value);
                n += 1;
            }
            let response = Response {
                status: reply.status,
                reason: reply.reason,
                headers: &headers[..n],
                body: BodyLength::Known(reply.length),
            };
            self.conn.send_response(t, &response, out).ok()
        });
        if !self.shared.quiet {
            self.logged.push_back(Logged {
                request: Some(head),
                status: reply.status,
                produced: 0,
                written: 0,
                complete: !sends_body,
            });
        }
        if sent.is_none() {
            self.failed = true;
            return;
        }
        if sends_body {
            self.body = std::mem::replace(&mut reply.body, Body::None);
        } else if self.conn.send_end(t, out).is_err() {
            self.failed = true;
        }
    }

    /// `n` more body bytes of the current answer were handed to the driver.
    fn count_body(&mut self, n: usize) {
        if let Some(last) = self.logged.back_mut() {
            last.produced += n as u64;
        }
    }

    /// Everything handed out so far is written: log the answers that are wholly out.
    fn confirm_written(&mut self) {
        for entry in &mut self.logged {
            entry.written = entry.produced;
        }
        while self.logged.front().is_some_and(|e| e.complete) {
            if let Some(entry) = self.logged.pop_front() {
                self.emit(&entry);
            }
        }
    }

    fn emit(&self, entry: &Logged) {
        with_date(|date| {
            log::emit_entry(&log::Entry {
                peer: self.peer,
                date,
                request: entry.request.as_ref().map(|head| {
                    let version = match head.version {
                        Version::Http09 => None,
                        v => Some(v.as_str()),
                    };
                    (head.method_str(), &head.target[..], version)
                }),
                status: entry.status,
                bytes: Some(entry.written),
            });
        });
    }

    /// Append up to `room` bytes of the current body; end the message when it is all sent.
    fn pump(&mut self, t: Time, out: &mut Vec<u8>, room: usize) {
        let (finished, n) = match &mut self.body {
            Body::None => return,
            Body::Bytes { data, pos } => {
                let n = room.min(data.len() - *pos);
                if self.conn.send_data(t, &data[*pos..*pos + n], out).is_err() {
                    self.failed = true;
                    return;
                }
                *pos += n;
                (*pos == data.len(), n)
            }
            Body::File { file, remaining } => {
                // `want` <= room, so the conversion cannot truncate.
                let want = usize::try_from((room as u64).min(*remaining)).unwrap_or(room);
                let conn = &mut self.conn;
                let sent = CHUNK.with_borrow_mut(|chunk| {
                    if chunk.len() < want {
                        chunk.resize(want, 0);
                    }
                    let n = loop {
                        match file.read(&mut chunk[..want]) {
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            // The file shrank or failed under us: the promised length cannot
                            // be met, so the only honest end is closing the connection.
                            Ok(0) | Err(_) => return None,
                            Ok(n) => break n,
                        }
                    };
                    conn.send_data(t, &chunk[..n], out).ok().map(|()| n)
                });
                let Some(n) = sent else {
                    self.failed = true;
                    return;
                };
                *remaining -= n as u64;
                (*remaining == 0, n)
            }
        };
        self.count_body(n);
        if finished {
            self.body = Body::None;
            if let Some(last) = self.logged.back_mut() {
                last.complete = true;
            }
            if self.conn.send_end(t, out).is_err() {
                self.failed = true;
            }
        }
    }
}

impl Drop for HttpSession {
    /// The connection is over: log what is still waiting, with the bytes known written (an
    /// aborted transfer logs what went out, not what was promised).
    fn drop(&mut self) {
        while let Some(entry) = self.logged.pop_front() {
            self.emit(&entry);
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
        if out.is_empty() && !self.logged.is_empty() {
            self.confirm_written();
        }
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
                        self.respond(t, head, out);
                    }
                }
                // A request body (discarded: GET and HEAD take none) or a client-role event.
                Ok(Poll::Event(Event::Data(_) | Event::Response(_))) => {}
                Ok(Poll::Event(Event::ConnectionClosed))
                | Ok(Poll::NeedData | Poll::Paused | Poll::Closed) => return,
                Err(e) => {
                    let before = out.len();
                    self.conn.send_error(t, &e, out);
                    if let (Some(status), false) = (e.status(), self.shared.quiet) {
                        // The body is what follows the head's blank line (all of it for 0.9).
                        let reply = &out[before..];
                        let body = reply
                            .windows(4)
                            .position(|w| w == b"\r\n\r\n")
                            .map_or(reply.len(), |p| reply.len() - p - 4);
                        self.logged.push_back(Logged {
                            request: self.request.take(),
                            status,
                            produced: body as u64,
                            written: 0,
                            complete: true,
                        });
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

    fn is_awaiting_request(&self) -> bool {
        !self.failed
            && self.request.is_none()
            && matches!(self.body, Body::None)
            && !self.conn.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_mime_guess_essences() {
        for name in [
            "a.txt",
            "a.TXT",
            "a.html",
            "a.htm",
            "a.css",
            "a.js",
            "a.json",
            "a.png",
            "a.jpg",
            "a.jpeg",
            "a.gif",
            "a.svg",
            "a.webp",
            "a.ico",
            "a.pdf",
            "a.zip",
            "a.gz",
            "a.tar",
            "a.mp4",
            "a.mp3",
            "a.wasm",
            "a.woff2",
            "a.xml",
            "a.csv",
            "a.md",
            "Makefile",
            "a.unknown-ext",
            "a.",
            ".hidden",
            "dir.d/noext",
        ] {
            let path = Path::new(name);
            let want = mime_guess::from_path(path).first_or_octet_stream();
            assert_eq!(content_type(path), want.essence_str(), "{name}");
        }
    }

    #[test]
    fn http_dates_render_on_the_stack_or_not_at_all() {
        use std::time::Duration;
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_673_753);
        assert_eq!(
            http_date(t).as_ref().map(|b| &b[..]),
            Some(&b"Thu, 26 Nov 2026 06:15:53 GMT"[..])
        );
        assert_eq!(
            http_date(SystemTime::UNIX_EPOCH).as_ref().map(|b| &b[..]),
            Some(&b"Thu, 01 Jan 1970 00:00:00 GMT"[..])
        );
        assert_eq!(
            http_date(SystemTime::UNIX_EPOCH - Duration::from_secs(1)),
            None
        );
        let y10k = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_800);
        assert_eq!(http_date(y10k), None);
        assert!(http_date(y10k - Duration::from_secs(1)).is_some());
    }

    /// Every connection a thread serves borrows one cached `Date` text: it is not rendered
    /// again within the same second.
    #[test]
    fn the_date_is_cached_per_thread() {
        let (first, second) = loop {
            let first = with_date(|d| (d.to_string(), d.as_ptr()));
            let second = with_date(|d| (d.to_string(), d.as_ptr()));
            if first.0 == second.0 {
                break (first, second);
            }
            // The second changed in between: try again.
        };
        assert_eq!(first.1, second.1, "rendered again within one second");
        let date = httpdate::parse_http_date(&first.0).unwrap();
        let skew = SystemTime::now().duration_since(date).unwrap_or_default();
        assert!(skew < std::time::Duration::from_secs(5), "{}", first.0);
    }

    #[test]
    fn static_pages_match_their_reasons() {
        for (status, reason) in [
            (301, "Moved Permanently"),
            (400, "Bad Request"),
            (403, "Forbidden"),
            (404, "Not Found"),
            (405, "Method Not Allowed"),
        ] {
            let r = Reply::page(status, reason);
            assert!(matches!(
                r.body,
                Body::Bytes {
                    data: Cow::Borrowed(_),
                    ..
                }
            ));
            let Body::Bytes { data, .. } = &r.body else {
                unreachable!()
            };
            assert_eq!(r.length, data.len() as u64);
            let text = String::from_utf8_lossy(data);
            assert!(
                text.contains(&format!("<h1>{status} {reason}</h1>")),
                "{text}"
            );
        }
        // Any other status is rendered.
        let r = Reply::page(418, "I'm a teapot");
        let Body::Bytes { data, .. } = &r.body else {
            panic!("a page has a body")
        };
        assert!(String::from_utf8_lossy(data).contains("<h1>418 I'm a teapot</h1>"));
    }
}
