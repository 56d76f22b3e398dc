//! The HTTP file server: a [`SessionFactory`] whose sessions drive a core
//! [`Connection`] in the server role and answer GET and HEAD
//! from a folder (see [`crate::apps::files`] for how a target maps to a file).
//!
//! Bodies stream: each [`Session::poll_transmit`] call reads at most `budget` bytes of the file,
//! so a 1 GiB download holds one budget of it in memory at a time, however slow the reader.
//!
//! Every request is answered at its head: no answer of the file server depends on a request
//! body, so a POST gets its 405 (a GET its 404) at once, not after a body that may be slow or
//! never come. The rest of the body is then read and dropped, up to [`DISCARD_BODY`], and the
//! connection kept alive; a longer body (or one behind `Expect: 100-continue`, which the client
//! may never send) makes the answer say `Connection: close`, and the driver's lingering close
//! lets the client read it instead of a reset.
//!
//! ```no_run
//! use portline_common::apps::http_server::{FileServer, FileServerOptions};
//! let server = FileServer::new(FileServerOptions::new(".".into())).unwrap();
//! // hand `std::sync::Arc::new(server)` to `Runtime::serve_tcp`
//! ```

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use portline_core::Time;
use portline_core::http::{
    BodyLength, Config, Connection, DateCache, Error, ErrorKind, EventRef, HeadersRef, Progress,
    RequestRef, Response, Role, Version,
};
use smallvec::SmallVec;

use crate::apps::files::{self, Refusal, Resolved};
use crate::apps::log;
use crate::driver::clock;
use crate::driver::session::{FileRange, Session, SessionFactory};

mod cache;
mod idle;
mod range;
mod validators;

use range::Ranged;
use validators::{Precondition, Present, Text};

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
    /// Log the client `X-Forwarded-For` names too (`--log-forwarded`; see [`log::Forwarded`]).
    pub log_forwarded: bool,
    /// The core's limits and leniencies (`--header-timeout`, `--idle-timeout`).
    pub config: Config,
    /// Serve and list dotfiles too (`--hidden`); without it only `.well-known/` is.
    pub hidden: bool,
    /// Header fields added to every response (`--header 'Name: value'`), at most
    /// [`MAX_EXTRA_HEADERS`].
    pub headers: Vec<(String, String)>,
    /// Open CORS (`--cors`): `Access-Control-Allow-Origin: *` on every response, and
    /// OPTIONS preflights answered.
    pub cors: bool,
    /// The page sent with every 404 (`--404 FILE`), read once at start.
    pub not_found: Option<PathBuf>,
    /// Single-page-app fallback (`--spa`): a missing path without an extension gets
    /// `/index.html`.
    pub spa: bool,
}

/// Most `--header` fields (each response's header list is built on the stack).
pub const MAX_EXTRA_HEADERS: usize = 32;

/// Largest `--404` page (it is kept in memory).
pub const MAX_NOT_FOUND_PAGE: u64 = 1024 * 1024;

impl FileServerOptions {
    /// Serve `root` with the default configuration and an access log.
    pub fn new(root: PathBuf) -> FileServerOptions {
        FileServerOptions {
            root,
            quiet: false,
            log_forwarded: false,
            config: Config::default(),
            hidden: false,
            headers: Vec::new(),
            cors: false,
            not_found: None,
            spa: false,
        }
    }
}

#[derive(Debug)]
struct Shared {
    root: files::Root,
    quiet: bool,
    log_forwarded: bool,
    config: Config,
    headers: Vec<(String, String)>,
    cors: bool,
    /// The `--404` page and its Content-Type.
    not_found: Option<(&'static str, Arc<[u8]>)>,
    spa: bool,
    /// Small files by target, for at most a second ([`cache`]).
    cache: cache::FileCache,
}

/// What an answer reads of its request: a head borrowed from the connection's buffer, so no
/// head is copied out, allocated or reference-counted per request. What the access log needs
/// of it past the answer is copied into a [`LoggedRequest`].
#[derive(Clone, Copy)]
struct Req<'a> {
    method: &'a [u8],
    target: &'a [u8],
    version: Version,
    headers: HeadersRef<'a>,
}

impl<'a> Req<'a> {
    fn borrowed(head: RequestRef<'a>) -> Req<'a> {
        Req {
            method: head.method,
            target: head.target,
            version: head.version,
            headers: head.headers,
        }
    }
}

/// What the access log keeps of a request until its answer is out: the method and target
/// (one buffer, handed from answer to answer on a connection), the version and the client
/// `X-Forwarded-For` names.
#[derive(Debug)]
struct LoggedRequest {
    /// The method, then the target.
    text: Vec<u8>,
    method_len: usize,
    version: Version,
    forwarded: log::Forwarded,
}

impl LoggedRequest {
    /// Longest buffer kept for the next request: a longer target's is dropped with its line.
    const KEEP: usize = 1024;

    /// `req`'s entry, written into `text` (a buffer a former entry left, or a new one).
    fn new(mut text: Vec<u8>, req: &Req<'_>, log_forwarded: bool) -> LoggedRequest {
        text.clear();
        text.extend_from_slice(req.method);
        text.extend_from_slice(req.target);
        LoggedRequest {
            text,
            method_len: req.method.len(),
            version: req.version,
            forwarded: log::Forwarded::from_field(
                log_forwarded,
                log_forwarded
                    .then(|| req.headers.get("x-forwarded-for"))
                    .flatten(),
            ),
        }
    }

    /// Method, target and version (`None` for HTTP/0.9), as [`log::Entry::request`] has them.
    fn parts(&self) -> (&str, &[u8], Option<&str>) {
        let (method, target) = self.text.split_at(self.method_len);
        // tchar bytes only (checked by the parser), hence ASCII.
        let method = std::str::from_utf8(method).unwrap_or("-");
        let version = (self.version != Version::Http09).then(|| self.version.as_str());
        (method, target, version)
    }
}

/// What an answer needs to know of its request besides the reply itself, read before
/// anything is written: what [`HttpSession`]'s `respond` needs once the request is no
/// longer at hand.
struct Asked {
    /// The fields the file server reads that the request has.
    present: Present,
    expects_continue: bool,
    is_head: bool,
    preflight: bool,
    /// A preflight's `Access-Control-Request-Headers`, echoed back.
    asked_headers: Option<Vec<u8>>,
}

/// What the next event of a connection asks of the session. A request is a [`Req`] view,
/// which borrows the connection's buffer: the answer is chosen from it, then the
/// borrow ends and the answer is written. No variant owns anything (no drop), so the borrow
/// ends with the view's last use; the reply, a few hundred bytes, is made where it is used
/// (each move of it was a memcpy).
#[derive(Clone, Copy)]
enum Step<'a> {
    Request(Req<'a>),
    Data(usize),
    EndOfMessage,
    Other,
    NeedData,
    Stop,
    /// The error is kept beside the step.
    Failed,
}

impl<'a> Step<'a> {
    /// The step for a poll's result; an error is kept in `failure`.
    fn of(polled: Result<Progress<EventRef<'a>>, Error>, failure: &mut Option<Error>) -> Step<'a> {
        match polled {
            Ok(Progress::Event(e)) => match e {
                EventRef::Request(head) => Step::Request(Req::borrowed(head)),
                EventRef::Data(data) => Step::Data(data.len()),
                EventRef::EndOfMessage => Step::EndOfMessage,
                _ => Step::Other,
            },
            Ok(Progress::NeedData) => Step::NeedData,
            Ok(Progress::Paused | Progress::Closed) => Step::Stop,
            Err(e) => {
                *failure = Some(e);
                Step::Failed
            }
        }
    }
}

impl Shared {
    /// What the answer to `req` needs to know of it besides the reply.
    fn asked(&self, req: Req<'_>) -> Asked {
        // The rest of the request body is dropped after the answer; when it is known to be too
        // long for that, or may never come (the client waits for a 100 Continue that a final
        // answer replaces; Go's net/http closes then too), the answer ends the connection.
        let present = Present::of(req.headers.iter().map(|(name, _)| name));
        let expects_continue = present.any(Present::EXPECT)
            && req
                .headers
                .get("expect")
                .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"));
        let is_head = req.method == b"HEAD";
        let preflight = self.cors && req.method == b"OPTIONS";
        let asked_headers = preflight
            .then(|| req.headers.get("access-control-request-headers"))
            .flatten()
            .map(<[u8]>::to_vec);
        Asked {
            present,
            expects_continue,
            is_head,
            preflight,
            asked_headers,
        }
    }

    /// The reply to `req`.
    fn reply(&self, req: &Req<'_>, asked: &Asked, now: Instant) -> Reply {
        if req.method == b"GET" || asked.is_head {
            self.reply_for(req, asked.present, now)
        } else if asked.preflight {
            let mut r = Reply::new(204, "No Content", "", 0, Body::None);
            r.extra = Some(("Allow", b"GET, HEAD, OPTIONS".to_vec()));
            r
        } else {
            let mut r = Reply::page(405, "Method Not Allowed");
            let allow: &[u8] = if self.cors {
                b"GET, HEAD, OPTIONS"
            } else {
                b"GET, HEAD"
            };
            r.extra = Some(("Allow", allow.to_vec()));
            r
        }
    }

    /// Choose the reply for a GET or HEAD of `head.target` (whose fields `present` lists).
    fn reply_for(&self, head: &Req<'_>, present: Present, now: Instant) -> Reply {
        let resolved = match self.resolve(head.target, now) {
            Ok(Found::Cached(hit)) => {
                let source = Source::Cached(hit.bytes.clone());
                return self.file_reply(head, present, &hit.path, source, &hit.facts);
            }
            Ok(Found::Resolved(r)) => r,
            Err(Refusal::NotFound) if self.spa && spa_route(head.target) => {
                match self.resolve(b"/index.html", now) {
                    Ok(Found::Cached(hit)) => {
                        let source = Source::Cached(hit.bytes.clone());
                        return self.file_reply(head, present, &hit.path, source, &hit.facts);
                    }
                    Ok(Found::Resolved(r)) => r,
                    Err(refusal) => return self.refusal(refusal),
                }
            }
            Err(refusal) => return self.refusal(refusal),
        };
        match resolved {
            Resolved::Redirect(location) => {
                let mut r = Reply::page(301, "Moved Permanently");
                r.extra = Some(("Location", location.into_bytes()));
                r
            }
            Resolved::Directory { path, url_path } => {
                let query = files::split_target(head.target).map_or(&b""[..], |(_, q)| q);
                match files::listing(&path, &url_path, query, self.root.hidden()) {
                    Ok(page) => Reply::new(
                        200,
                        "OK",
                        "text/html; charset=utf-8",
                        page.len() as u64,
                        Body::Bytes {
                            data: Cow::Owned(page),
                            pos: 0,
                        },
                    ),
                    Err(_) => Reply::page(403, "Forbidden"),
                }
            }
            Resolved::File { path, file, meta } => self.file_reply(
                head,
                present,
                &path,
                Source::Open(file),
                &Facts::of(&path, &meta),
            ),
        }
    }

    /// What `target` maps to, from the open-file cache when a fresh entry is there; a small
    /// file resolved now is kept for the next requests.
    fn resolve(&self, target: &[u8], now: Instant) -> Result<Found, Refusal> {
        let root = &self.root;
        let cache = &self.cache;
        // Most targets are their own key: looked up without building it.
        if let Some(hit) = root.plain_key(target).and_then(|key| cache.get(key, now)) {
            return Ok(Found::Cached(hit));
        }
        KEY.with_borrow_mut(|key| {
            root.cache_key(target, key)?;
            if let Some(hit) = cache.get(key, now) {
                return Ok(Found::Cached(hit));
            }
            match root.resolve(target)? {
                Resolved::File { path, file, meta } => {
                    match cache.fill(key, now, &path, &file, &meta) {
                        Some(hit) => Ok(Found::Cached(hit)),
                        None => Ok(Found::Resolved(Resolved::File { path, file, meta })),
                    }
                }
                other => Ok(Found::Resolved(other)),
            }
        })
    }

    /// The page for a refusal: the `--404` page for a 404 when there is one.
    fn refusal(&self, refusal: Refusal) -> Reply {
        if let (Refusal::NotFound, Some((content_type, page))) = (refusal, &self.not_found) {
            return Reply::new(
                404,
                "Not Found",
                content_type,
                page.len() as u64,
                Body::Shared {
                    data: page.clone(),
                    pos: 0,
                    end: page.len(),
                },
            );
        }
        let (status, reason) = refusal.status();
        Reply::page(status, reason)
    }

    /// The answer for a file: a precompressed sibling if the client takes one, then the
    /// preconditions (412, 304), then the range (206, 416), else the whole file.
    fn file_reply(
        &self,
        head: &Req<'_>,
        present: Present,
        path: &Path,
        mut source: Source,
        facts: &Facts,
    ) -> Reply {
        // The facts are read where they lie (a cached file's are in its entry); a sibling's
        // are made here.
        let sibling_facts;
        let mut facts = facts;
        let mut encoding = None;
        if present.any(Present::ACCEPT_ENCODING)
            && let Some(accept) = head.headers.get("accept-encoding")
            && !is_precompressed(path)
        {
            for (coding, suffix) in PRECOMPRESSED {
                if accepts_coding(accept, coding)
                    && let Some((f, m)) = self.root.sibling(path, suffix)
                {
                    source = Source::Open(f);
                    // The sibling's validators and length, the original's type.
                    sibling_facts = Facts {
                        content_type: facts.content_type,
                        ..Facts::of(path, &m)
                    };
                    facts = &sibling_facts;
                    encoding = Some(coding);
                    break;
                }
            }
        }
        let (len, secs, etag) = (facts.len, facts.secs, &facts.etag);
        // Every answer below but the 200 is built where it returns; the 200's fields are
        // gathered first and the reply made at the end, in place (each move of a reply is
        // a memcpy of a few hundred bytes).
        let precondition = if present.any(Present::PRECONDITIONS) {
            validators::evaluate(&head.headers, etag.as_bytes(), secs)
        } else {
            Precondition::Proceed
        };
        match precondition {
            Precondition::Failed => return Reply::page(412, "Precondition Failed"),
            Precondition::NotModified => {
                let mut reply =
                    Reply::new(304, "Not Modified", facts.content_type, len, Body::None);
                reply.last_modified = facts.last_modified;
                reply.etag = Some(*etag);
                reply.ranges = true;
                reply.encoding = encoding;
                reply.vary = encoding.is_some();
                return reply;
            }
            Precondition::Proceed => {}
        }
        let range = present
            .any(Present::RANGE)
            .then(|| head.headers.get("range"))
            .flatten();
        let ranged = match range {
            Some(value) if validators::if_range_holds(&head.headers, etag.as_bytes(), secs) => {
                range::parse(value, len)
            }
            _ => Ranged::Whole,
        };
        let (status, reason, length, content_range, first, last) = match ranged {
            Ranged::Whole => (200, "OK", len, None, 0, len.saturating_sub(1)),
            Ranged::Part { first, last } => (
                206,
                "Partial Content",
                last - first + 1,
                Text::format(format_args!("bytes {first}-{last}/{len}")),
                first,
                last,
            ),
            Ranged::Unsatisfiable => {
                let mut r = Reply::page(416, "Range Not Satisfiable");
                r.ranges = true;
                r.content_range = Text::format(format_args!("bytes */{len}"));
                return r;
            }
        };
        let body = match source {
            Source::Open(mut file) => {
                if first > 0 && file.seek(io::SeekFrom::Start(first)).is_err() {
                    return Reply::page(500, "Internal Server Error");
                }
                Body::File {
                    file,
                    offset: first,
                    remaining: length,
                    zero_copy: false,
                }
            }
            // The bytes are the file's length: the range lies within them.
            Source::Cached(data) => match (usize::try_from(first), usize::try_from(last)) {
                (Ok(first), Ok(last)) if length > 0 && last < data.len() => Body::Shared {
                    data,
                    pos: first,
                    end: last + 1,
                },
                _ => Body::None,
            },
        };
        Reply {
            status,
            reason,
            content_type: facts.content_type,
            last_modified: facts.last_modified,
            etag: Some(*etag),
            ranges: true,
            content_range,
            encoding,
            vary: encoding.is_some(),
            extra: None,
            length,
            body,
        }
    }
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
            .map_err(|e| io::Error::new(e.kind(), format!("root {}: {e}", opts.root.display())))?
            .with_hidden(opts.hidden);
        if opts.headers.len() > MAX_EXTRA_HEADERS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("at most {MAX_EXTRA_HEADERS} --header fields"),
            ));
        }
        let not_found = match &opts.not_found {
            None => None,
            Some(path) => {
                let page = File::open(path).and_then(|f| {
                    let mut page = Vec::new();
                    f.take(MAX_NOT_FOUND_PAGE + 1).read_to_end(&mut page)?;
                    Ok(page)
                });
                match page {
                    Ok(page) if page.len() as u64 > MAX_NOT_FOUND_PAGE => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            format!("--404 {}: larger than 1 MiB", path.display()),
                        ));
                    }
                    Ok(page) => Some((content_type(path), Arc::from(page))),
                    Err(e) => {
                        return Err(io::Error::new(
                            e.kind(),
                            format!("--404 {}: {e}", path.display()),
                        ));
                    }
                }
            }
        };
        Ok(FileServer {
            shared: Arc::new(Shared {
                root,
                quiet: opts.quiet,
                log_forwarded: opts.log_forwarded,
                config: opts.config,
                headers: opts.headers,
                cors: opts.cors,
                not_found,
                spa: opts.spa,
                cache: cache::FileCache::default(),
            }),
        })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        self.shared.root.path()
    }

    /// A session for a connection from `peer`, as a concrete type (tests drive it directly).
    pub fn http_session(&self, now: Instant, peer: SocketAddr) -> HttpSession {
        let conn = Connection::new(
            Role::Server,
            self.shared.config.clone(),
            clock::to_time(now),
        );
        HttpSession::with_conn(self.shared.clone(), peer.ip().to_canonical(), conn, false)
    }
}

impl SessionFactory for FileServer {
    fn session(&self, now: Instant, peer: SocketAddr, _local: SocketAddr) -> Box<dyn Session> {
        Box::new(idle::Resting::new(self.http_session(now, peer)))
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
                forwarded: log::Forwarded::from_field(self.shared.log_forwarded, None),
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
        /// The offset of the next byte to send (the copy path reads at the file's position,
        /// which was sought there; sendfile passes it explicitly).
        offset: u64,
        remaining: u64,
        /// Sent by the driver with sendfile(2), through [`Session::poll_sendfile`].
        zero_copy: bool,
    },
    /// A page: written at compile time, or rendered for this request (a listing).
    Bytes {
        data: Cow<'static, [u8]>,
        pos: usize,
    },
    /// Bytes shared by every request (the `--404` page, a cached small file), up to `end`.
    Shared {
        data: Arc<[u8]>,
        pos: usize,
        end: usize,
    },
}

/// What a target was found to be: a small file from the open-file cache, or resolved now.
enum Found {
    Cached(Arc<cache::Cached>),
    Resolved(Resolved),
}

/// What a file's answer says about it, rendered once: per request for a file opened now,
/// once per fill for a cached one.
#[derive(Debug, Clone, Copy)]
struct Facts {
    content_type: &'static str,
    len: u64,
    /// Its modification time in whole seconds (for If-Modified-Since and the like).
    secs: Option<u64>,
    etag: Text,
    last_modified: Option<[u8; 29]>,
}

impl Facts {
    fn of(path: &Path, meta: &std::fs::Metadata) -> Facts {
        let modified = meta.modified().ok();
        Facts {
            content_type: content_type(path),
            len: meta.len(),
            secs: modified.and_then(validators::unix_secs),
            etag: validators::etag(meta),
            last_modified: modified.and_then(http_date),
        }
    }
}

/// Where a file's body comes from.
enum Source {
    /// Read from this handle (the one that was checked).
    Open(File),
    /// The bytes kept by the open-file cache.
    Cached(Arc<[u8]>),
}

/// A response chosen for a request, before the connection writes it. Header values are
/// borrowed or rendered on the stack: answering a file allocates nothing here.
struct Reply {
    status: u16,
    reason: &'static str,
    content_type: &'static str,
    /// An IMF-fixdate (always 29 bytes).
    last_modified: Option<[u8; 29]>,
    etag: Option<Text>,
    /// A file: `Accept-Ranges: bytes`.
    ranges: bool,
    content_range: Option<Text>,
    /// A precompressed sibling: its `Content-Encoding` (and `Vary: Accept-Encoding`).
    encoding: Option<&'static str>,
    /// `Vary: Accept-Encoding` (the answer depended on it).
    vary: bool,
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
        412 => page_html!(412, "Precondition Failed"),
        416 => page_html!(416, "Range Not Satisfiable"),
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
        Reply::new(
            status,
            reason,
            "text/html; charset=utf-8",
            body.len() as u64,
            Body::Bytes { data: body, pos: 0 },
        )
    }

    fn new(
        status: u16,
        reason: &'static str,
        content_type: &'static str,
        length: u64,
        body: Body,
    ) -> Reply {
        Reply {
            status,
            reason,
            content_type,
            last_modified: None,
            etag: None,
            ranges: false,
            content_range: None,
            encoding: None,
            vary: false,
            extra: None,
            length,
            body,
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

/// The precompressed siblings looked for, in the server's order of preference (brotli
/// compresses text best, then zstd, then gzip), with their file-name suffixes.
const PRECOMPRESSED: [(&str, &str); 3] = [("br", ".br"), ("zstd", ".zst"), ("gzip", ".gz")];

/// Whether `path` is itself a compressed file (served as is, never looked up again).
fn is_precompressed(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("br" | "zst" | "gz")
    )
}

/// Whether an `Accept-Encoding` value takes `coding` (RFC 9110 §12.5.3): named with a
/// non-zero weight, or covered by `*` when not named. `x-gzip` is gzip.
fn accepts_coding(accept: &[u8], coding: &str) -> bool {
    let mut star = false;
    for item in accept.split(|&b| b == b',') {
        let mut parts = item.split(|&b| b == b';');
        let name = parts.next().unwrap_or_default().trim_ascii();
        let weighted = parts
            .map(<[u8]>::trim_ascii)
            .find_map(|p| p.strip_prefix(b"q=").or_else(|| p.strip_prefix(b"Q=")));
        // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ): zero is 0, 0.0, 0.00...
        let allowed = weighted.is_none_or(|q| !q.iter().all(|&b| b == b'0' || b == b'.'));
        if name.eq_ignore_ascii_case(coding.as_bytes())
            || (coding == "gzip" && name.eq_ignore_ascii_case(b"x-gzip"))
        {
            return allowed;
        }
        if name == b"*" {
            star = allowed;
        }
    }
    star
}

/// Whether a missing target is a single-page-app route (`--spa`): its last path segment has no
/// extension (`/users/42`, not `/app.js`).
fn spa_route(target: &[u8]) -> bool {
    let Ok((path, _)) = files::split_target(target) else {
        return false;
    };
    let last = path.rsplit(|&b| b == b'/').next().unwrap_or_default();
    !last.contains(&b'.')
}

/// What `--cors` lets scripts read besides the CORS-safelisted fields.
const CORS_EXPOSED: &str = "Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified";

/// Most header fields of a response: the server's own (at most 14) and the `--header` ones.
const MAX_FIELDS: usize = 16 + MAX_EXTRA_HEADERS;

/// A response's header fields, on the stack. A `SmallVec` rather than an array: its unused
/// slots are left uninitialised, where `[("", b""); MAX_FIELDS]` wrote all 48 of them (1.5 KiB)
/// for every answer. 64 is the next inline size `smallvec` offers above [`MAX_FIELDS`], so
/// the list never spills to the heap.
#[derive(Default)]
struct FieldList<'a> {
    fields: SmallVec<[(&'a str, &'a [u8]); 64]>,
}

impl<'a> FieldList<'a> {
    /// Add a field (the count is bounded by construction: at most 16 plus the `--header` ones,
    /// which [`FileServer::new`] caps).
    fn push(&mut self, name: &'a str, value: &'a [u8]) {
        if self.fields.len() < MAX_FIELDS {
            self.fields.push((name, value));
        }
    }

    fn as_slice(&self) -> &[(&'a str, &'a [u8])] {
        &self.fields
    }
}

thread_local! {
    /// The `Date` value, rendered at most once a second per thread (per event loop), shared by
    /// every connection the thread serves.
    static DATE: RefCell<ThreadDate> = RefCell::new(ThreadDate {
        cache: DateCache::new(),
        wall: SystemTime::UNIX_EPOCH,
        text: String::new(),
        until: None,
    });

    /// The buffer file chunks are read into before the connection frames them: one per thread,
    /// not per connection (idle connections hold none) nor per request. Grows to the largest
    /// chunk read, at most one transmit budget.
    static CHUNK: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };

    /// The open-file cache key of the request being answered: one buffer per thread.
    static KEY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A thread's `Date`: the text for the wall-clock time last read, and the monotonic time at
/// which the second it falls in ends.
struct ThreadDate {
    cache: DateCache,
    wall: SystemTime,
    /// `wall`'s text, rendered when the clock is read, not per answer (asking the cache
    /// again for the same second cost a `SystemTime` subtraction per answer).
    text: String,
    until: Option<Instant>,
}

/// Run `f` with the current `Date` value (an IMF-fixdate). `f` must not call this again.
pub(crate) fn with_date<R>(f: impl FnOnce(&str) -> R) -> R {
    with_date_at(Instant::now(), f)
}

/// [`with_date`] at `now`, the driver's time of this turn: the wall clock is read again only
/// once `now` has passed the end of the second last read, not per answer (nginx likewise
/// reads its clock once per event-loop turn, `ngx_time_update`). The text is then at most as
/// old as the driver's `now`.
pub(crate) fn with_date_at<R>(now: Instant, f: impl FnOnce(&str) -> R) -> R {
    DATE.with_borrow_mut(|d| {
        if d.until.is_none_or(|until| now >= until) {
            let mono = Instant::now();
            d.wall = SystemTime::now();
            let into = d
                .wall
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |t| t.subsec_nanos());
            d.until = Some(mono + Duration::from_nanos(u64::from(1_000_000_000 - into)));
            let ThreadDate {
                cache, wall, text, ..
            } = d;
            text.clear();
            text.push_str(cache.render(*wall));
        }
        f(&d.text)
    })
}

/// The most bytes of a request body read and dropped after its answer to keep the connection:
/// past it, the connection closes. Go's net/http (`maxPostHandlerReadBytes`, 256 KiB: "about
/// what a typical machine's TCP buffer size is anyway") and nginx's discarded bodies do the
/// same.
pub const DISCARD_BODY: u64 = 256 * 1024;

/// One connection of the file server.
#[derive(Debug)]
pub struct HttpSession {
    shared: Arc<Shared>,
    peer: IpAddr,
    conn: Connection,
    /// Bytes dropped of the body of the request being read, which was answered at its head
    /// (`None` between requests).
    discarded: Option<u64>,
    body: Body,
    /// A local failure (e.g. the file shrank while streaming), or a body to drop that is
    /// longer than [`DISCARD_BODY`]: close without more output.
    failed: bool,
    /// False once the connection ended owing the peer nothing ([`Session::lingers`]).
    lingers: bool,
    /// Answers whose access-log line waits until their bytes are known written (or the
    /// connection ends): oldest first; empty with `--quiet`.
    logged: VecDeque<Logged>,
    /// The driver sends large file bodies with sendfile(2) ([`Session::enable_sendfile`]).
    sendfile: bool,
    /// The buffer of the last [`LoggedRequest`] written, for the next one (empty with
    /// `--quiet`, and dropped with the session when it sleeps between requests).
    log_text: Vec<u8>,
    /// The connection's last event poll said [`Progress::NeedData`], and no input nor timeout
    /// has reached it since: polling it again would say the same (the driver polls the
    /// session again after each answer, and once more with its output written), so it is not
    /// asked. Commands (the answer) come only after an event, so they cannot change that.
    starved: bool,
}

/// File bodies longer than this go zero-copy when the driver can: shorter ones are copied, so
/// that head and body leave in one write (one transmit budget).
pub const SENDFILE_MIN: u64 = crate::TRANSMIT_BUDGET as u64;

/// One answer's access-log entry, written once the answer is known to be out, or when the
/// connection ends (an aborted transfer), with the body bytes actually written, as nginx's
/// `$body_bytes_sent`.
#[derive(Debug)]
struct Logged {
    /// The request (`None` for one that could not be parsed).
    request: Option<LoggedRequest>,
    status: u16,
    /// Body bytes handed to the driver.
    produced: u64,
    /// Of those, known written: everything handed out before a `poll_transmit` with an empty
    /// buffer (the [`Session`] contract).
    written: u64,
    /// The whole answer has been handed out.
    complete: bool,
}

impl HttpSession {
    /// A session around `conn`, with no request in hand.
    fn with_conn(shared: Arc<Shared>, peer: IpAddr, conn: Connection, sendfile: bool) -> Self {
        HttpSession {
            shared,
            peer,
            conn,
            discarded: None,
            body: Body::None,
            failed: false,
            lingers: true,
            logged: VecDeque::new(),
            sendfile,
            log_text: Vec::new(),
            starved: false,
        }
    }

    /// Input or a timeout is about to reach the connection: it may have events again.
    fn fed(&mut self) {
        self.starved = false;
    }

    /// Write the head of `reply` (to a request that `asked` describes, and `request` logs,
    /// unless `--quiet`), at once (its body, if any, is not waited for), and set up
    /// the answer's body.
    fn respond(
        &mut self,
        t: Time,
        mut reply: Reply,
        asked: Asked,
        request: Option<LoggedRequest>,
        out: &mut Vec<u8>,
    ) {
        let Asked {
            expects_continue,
            is_head,
            preflight,
            asked_headers,
            ..
        } = asked;
        let close = match self.conn.body_left() {
            Some(0) => false,
            Some(left) => left > DISCARD_BODY || expects_continue,
            None => expects_continue,
        };
        if close && self.conn.close_after_response(t).is_err() {
            self.failed = true;
            return;
        }
        self.discarded = Some(0);
        let cors = self.shared.cors;
        let sends_body = !is_head && reply.status != 304 && reply.length > 0;
        let shared = &self.shared;
        let conn = &mut self.conn;
        // The Date text is borrowed from the thread's cache (rendered once a second).
        let sent = with_date_at(clock::to_instant(t), |date| {
            let mut fields = FieldList::default();
            fields.push("Date", date.as_bytes());
            fields.push("Server", SERVER.as_bytes());
            if !reply.content_type.is_empty() {
                fields.push("Content-Type", reply.content_type.as_bytes());
            }
            if let Some(coding) = reply.encoding {
                fields.push("Content-Encoding", coding.as_bytes());
            }
            if let Some(lm) = &reply.last_modified {
                fields.push("Last-Modified", lm);
            }
            if let Some(tag) = &reply.etag {
                fields.push("ETag", tag.as_bytes());
            }
            if reply.ranges {
                fields.push("Accept-Ranges", b"bytes");
            }
            if let Some(range) = &reply.content_range {
                fields.push("Content-Range", range.as_bytes());
            }
            if reply.vary {
                fields.push("Vary", b"Accept-Encoding");
            }
            if let Some((name, value)) = &reply.extra {
                fields.push(name, value);
            }
            if cors {
                fields.push("Access-Control-Allow-Origin", b"*");
                if preflight {
                    fields.push("Access-Control-Allow-Methods", b"GET, HEAD, OPTIONS");
                    if let Some(asked) = &asked_headers {
                        fields.push("Access-Control-Allow-Headers", asked);
                    }
                    // nginx's CORS examples (and Chrome's cap of 2 hours) use a day.
                    fields.push("Access-Control-Max-Age", b"86400");
                } else {
                    fields.push("Access-Control-Expose-Headers", CORS_EXPOSED.as_bytes());
                }
            }
            for (name, value) in &shared.headers {
                fields.push(name, value.as_bytes());
            }
            let response = Response {
                status: reply.status,
                reason: reply.reason,
                headers: fields.as_slice(),
                body: BodyLength::Known(reply.length),
            };
            conn.send_response(t, &response, out).ok()
        });
        if !self.shared.quiet {
            self.logged.push_back(Logged {
                request,
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
            if let Body::File {
                remaining,
                zero_copy,
                ..
            } = &mut self.body
            {
                *zero_copy = self.sendfile && *remaining > SENDFILE_MIN;
            }
        } else if self.conn.send_end(t).is_err() {
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
                if let Some(r) = entry.request
                    && r.text.capacity() <= LoggedRequest::KEEP
                {
                    self.log_text = r.text;
                }
            }
        }
    }

    fn emit(&self, entry: &Logged) {
        with_date(|date| {
            let request = entry.request.as_ref();
            log::emit_entry(&log::Entry {
                peer: self.peer,
                date,
                request: request.map(LoggedRequest::parts),
                status: entry.status,
                bytes: Some(entry.written),
                forwarded: request.map_or_else(
                    || log::Forwarded::from_field(self.shared.log_forwarded, None),
                    |r| r.forwarded,
                ),
            });
        });
    }

    /// Append up to `room` bytes of the current body; end the message when it is all sent.
    fn pump(&mut self, t: Time, out: &mut Vec<u8>, room: usize) {
        let (finished, n) = match &mut self.body {
            Body::None => return,
            Body::Bytes { data, pos } => {
                let Some(step) = send_page(&mut self.conn, t, data, pos, room, out) else {
                    self.failed = true;
                    return;
                };
                step
            }
            Body::Shared { data, pos, end } => {
                let data = &data[..*end];
                let Some(step) = send_page(&mut self.conn, t, data, pos, room, out) else {
                    self.failed = true;
                    return;
                };
                step
            }
            Body::File {
                file,
                offset,
                remaining,
                ..
            } => {
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
                *offset += n as u64;
                (*remaining == 0, n)
            }
        };
        self.count_body(n);
        if finished {
            self.end_body(t);
        }
    }

    /// The body's last byte has been produced (or sent): log the answer as complete and end
    /// the message (HTTP/1.0 framing has no trailer: nothing is written).
    fn end_body(&mut self, t: Time) {
        self.body = Body::None;
        if let Some(last) = self.logged.back_mut() {
            last.complete = true;
        }
        if self.conn.send_end(t).is_err() {
            self.failed = true;
        }
    }
}

/// Send up to `room` more bytes of an in-memory page from `pos`: `(finished, sent)`, or
/// `None` if the connection refused them.
fn send_page(
    conn: &mut Connection,
    t: Time,
    data: &[u8],
    pos: &mut usize,
    room: usize,
    out: &mut Vec<u8>,
) -> Option<(bool, usize)> {
    let n = room.min(data.len() - *pos);
    conn.send_data(t, &data[*pos..*pos + n], out).ok()?;
    *pos += n;
    Some((*pos == data.len(), n))
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

/// Answer the peer error `e` that ended a server session's connection, as both server sessions
/// do; returns whether an answer was written. A head that did not arrive in time
/// ([`ErrorKind::HeadTimeout`]) gets no answer, as nginx answers none for
/// `client_header_timeout` (it logs 408 and closes): a client that slow is mostly not reading,
/// and under slowloris thousands of heads time out together, each of which would cost a write
/// and a lingering close. Sets `lingers` ([`Session::lingers`]): false after a head timeout,
/// true after any other error (the timer of a stalled body cleared it, but its 408, or the
/// answer sent at the head before the body stalled, must be read, not cut by a reset).
pub(crate) fn answer_error(
    conn: &mut Connection,
    t: Time,
    e: &Error,
    out: &mut Vec<u8>,
    lingers: &mut bool,
) -> bool {
    if e.kind() == ErrorKind::HeadTimeout {
        *lingers = false;
        return false;
    }
    *lingers = true;
    // Err: a response was already under way (a body that failed or stalled after its answer),
    // so no status can be sent.
    conn.send_error(t, e, out).is_ok()
}

/// The [`Session`] methods of a server-role HTTP session that only hand input and time to its
/// core connection or report its state, the same for the file server and `--echo`
/// ([`crate::apps::echo`]): the session has a `conn: Connection`, a `failed: bool` (a local
/// failure: no more output, no timer, close) and a `lingers: bool` (see [`answer_error`]).
/// `core_session_plumbing!(method)` also calls `self.method()` before each input or timeout
/// reaches the connection.
macro_rules! core_session_plumbing {
    ($($fed:ident)?) => {
        fn receive(&mut self, now: std::time::Instant, data: &[u8]) {
            $(self.$fed();)?
            self.conn.receive($crate::driver::clock::to_time(now), data);
        }

        fn receive_eof(&mut self, now: std::time::Instant) {
            $(self.$fed();)?
            self.conn.receive_eof($crate::driver::clock::to_time(now));
        }

        fn handle_timeout(&mut self, now: std::time::Instant) {
            $(self.$fed();)?
            let open = !self.conn.is_closed();
            self.conn
                .handle_timeout($crate::driver::clock::to_time(now));
            // Closed by its own timer (first byte, idle, head): nothing is owed to the peer.
            // A stalled body's timer fails the connection too, and `answer_error` then
            // restores the linger for its answer.
            if open && self.conn.is_closed() {
                self.lingers = false;
            }
        }

        fn poll_timeout(&self) -> Option<std::time::Instant> {
            if self.failed {
                return None;
            }
            self.conn
                .poll_timeout()
                .map($crate::driver::clock::to_instant)
        }

        fn wants_read(&self) -> bool {
            !self.failed && self.conn.wants_read()
        }

        fn is_done(&self) -> bool {
            self.failed || self.conn.is_closed()
        }

        fn lingers(&self) -> bool {
            self.lingers
        }
    };
}
pub(crate) use core_session_plumbing;

impl Session for HttpSession {
    core_session_plumbing!(fed);

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
            match self.body {
                Body::None => {}
                // The driver sends it (poll_sendfile); nothing more until it is out.
                Body::File {
                    zero_copy: true, ..
                } => return,
                _ => {
                    self.pump(t, out, budget - used);
                    continue;
                }
            }
            if self.starved {
                return;
            }
            // The error, beside the step.
            let mut failure = None;
            let step = Step::of(self.conn.poll_borrowed(), &mut failure);
            match step {
                Step::Request(req) => {
                    let asked = self.shared.asked(req);
                    let reply = self.shared.reply(&req, &asked, now);
                    // What the access log needs of the request, copied before the view ends.
                    let request = (!self.shared.quiet).then(|| {
                        let text = std::mem::take(&mut self.log_text);
                        LoggedRequest::new(text, &req, self.shared.log_forwarded)
                    });
                    // The view is not used past here: the connection is free for the answer.
                    self.respond(t, reply, asked, request, out);
                }
                // The rest of a request body, after its answer: dropped, up to a bound.
                Step::Data(len) => {
                    let discarded = self.discarded.unwrap_or(0) + len as u64;
                    self.discarded = Some(discarded);
                    if discarded > DISCARD_BODY {
                        // Closing now: the driver lingers, so the answer is still read.
                        self.failed = true;
                    }
                }
                Step::EndOfMessage => self.discarded = None,
                // Client-role events.
                Step::Other => {}
                Step::NeedData => {
                    self.starved = true;
                    return;
                }
                Step::Stop => return,
                Step::Failed => {
                    let Some(e) = failure.take() else { return };
                    let before = out.len();
                    // Not answered: a response was already under way (a body that failed or
                    // stalled after its answer: there is no second answer to log), or the head
                    // timed out (logged as 408, with no bytes, as nginx logs it).
                    let answered = answer_error(&mut self.conn, t, &e, out, &mut self.lingers);
                    let logged = answered || e.kind() == ErrorKind::HeadTimeout;
                    if let (Some(status), true, false) = (e.status(), logged, self.shared.quiet) {
                        // The body is what follows the head's blank line (all of it for 0.9).
                        let reply = &out[before..];
                        let body = reply
                            .windows(4)
                            .position(|w| w == b"\r\n\r\n")
                            .map_or(reply.len(), |p| reply.len() - p - 4);
                        self.logged.push_back(Logged {
                            // Requests are answered at their head: an error that can still
                            // be answered came before any request was parsed.
                            request: None,
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

    fn enable_sendfile(&mut self) {
        self.sendfile = true;
    }

    fn poll_sendfile(&self) -> Option<FileRange<'_>> {
        match &self.body {
            Body::File {
                file,
                offset,
                remaining,
                zero_copy: true,
            } if !self.failed && *remaining > 0 => Some(FileRange {
                file,
                offset: *offset,
                len: *remaining,
            }),
            _ => None,
        }
    }

    fn handle_sendfile(&mut self, now: Instant, written: u64) {
        self.fed();
        let t = clock::to_time(now);
        let Body::File {
            offset, remaining, ..
        } = &mut self.body
        else {
            return;
        };
        let written = written.min(*remaining);
        *offset += written;
        *remaining -= written;
        let finished = *remaining == 0;
        if self.conn.send_data_written(t, written).is_err() {
            self.failed = true;
            return;
        }
        // These bytes are in the socket already, and so is everything given before them (a
        // range is offered only once earlier output is written).
        if let Some(last) = self.logged.back_mut() {
            last.produced += written;
            last.written = last.produced;
        }
        if finished {
            self.end_body(t);
        }
    }

    /// Also while the rest of an answered request body is read and dropped: the answer is
    /// out, so nothing is lost by closing (a slow body is then no way to hold a place). The
    /// time is the core's: creation, or the end of the last kept-alive exchange (so a body
    /// being dropped counts from where the wait for its request began).
    fn waiting_since(&self) -> Option<Instant> {
        let waiting = !self.failed && matches!(self.body, Body::None) && !self.conn.is_closed();
        waiting.then(|| clock::to_instant(self.conn.waiting_since()))
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

    /// The wall clock is read for the `Date` only when the driver's time has passed the end of
    /// the second read last, and the text is then that second's.
    #[test]
    fn the_wall_clock_is_read_once_per_second() {
        use std::time::Duration;
        let now = Instant::now();
        with_date_at(now, |_| ());
        let (wall, until) = DATE.with_borrow(|d| (d.wall, d.until.unwrap()));
        assert!(until > now && until <= Instant::now() + Duration::from_secs(1));
        for early in [now, until - Duration::from_nanos(1)] {
            with_date_at(early, |_| ());
            assert_eq!(DATE.with_borrow(|d| d.wall), wall, "read again too early");
        }
        let text = with_date_at(until, str::to_string);
        let wall_now = DATE.with_borrow(|d| d.wall);
        assert!(wall_now > wall, "not read again at the end of its second");
        assert_eq!(text, httpdate::fmt_http_date(wall_now));
    }

    #[test]
    fn accept_encoding_weights_and_wildcards() {
        let cases: &[(&str, &str, bool)] = &[
            ("gzip", "gzip", true),
            ("GZIP", "gzip", true),
            ("x-gzip", "gzip", true),
            ("deflate, gzip;q=0.5", "gzip", true),
            ("gzip;q=0", "gzip", false),
            ("gzip; q=0.000", "gzip", false),
            ("gzip;Q=0.0", "gzip", false),
            ("gzip;q=0.001", "gzip", true),
            ("br", "gzip", false),
            ("*", "br", true),
            ("*;q=0", "br", false),
            ("*, br;q=0", "br", false),
            ("br;q=0, *", "br", false),
            ("identity", "zstd", false),
            ("", "gzip", false),
            (" zstd , br ", "zstd", true),
        ];
        for (accept, coding, want) in cases {
            assert_eq!(
                accepts_coding(accept.as_bytes(), coding),
                *want,
                "{accept} / {coding}"
            );
        }
    }

    #[test]
    fn spa_routes_have_no_extension() {
        for (target, want) in [
            (&b"/users/42"[..], true),
            (b"/", true),
            (b"/deep/link?tab=a.b", true),
            (b"/app.js", false),
            (b"/v1.2/users", true),
            (b"/favicon.ico?x", false),
            (b"*", false),
        ] {
            assert_eq!(spa_route(target), want, "{}", target.escape_ascii());
        }
    }

    #[test]
    fn static_pages_match_their_reasons() {
        for (status, reason) in [
            (301, "Moved Permanently"),
            (400, "Bad Request"),
            (403, "Forbidden"),
            (404, "Not Found"),
            (405, "Method Not Allowed"),
            (412, "Precondition Failed"),
            (416, "Range Not Satisfiable"),
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
