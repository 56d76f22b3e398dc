//! The `get` client: HTTP/1.0 requests written by the core's client role, the response printed
//! as curl would (body to stdout or a file, `-i` head first, `-v` heads on stderr).
//!
//! - [`exchange`]: [`GetSession`], the [`Session`](crate::Session) of one request and response;
//! - [`output`]: stdout, or `-o FILE` written beside FILE and renamed on success;
//! - [`body`]: request bodies streamed from the command line, a file or stdin;
//! - [`decode`]: `--compressed` (gzip, deflate, br);
//! - [`redirect`]: what `-L` follows and what it drops;
//! - [`report`]: the `-w`/`--write-out` variables.
//!
//! [`run`] parses the URL, resolves, connects (trying each address in turn), drives one
//! [`GetSession`] per request with [`Runtime::run_client`], follows redirects, and turns the
//! outcome into an [`Exit`] status, printing a failure as `PROGRAM: get: STAGE: message`
//! ([`crate::cli::message`]).

pub mod body;
pub mod decode;
pub mod exchange;
pub mod output;
pub mod redirect;
pub mod report;

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use exchange::{GetOptions, GetSession, READ_TIMEOUT, USER_AGENT, response_head_bytes};

use crate::driver::runtime::{ClientError, Runtime};
use body::{Body, Source};
use output::Output;
use portline_core::addr::HttpUrl;
use report::Report;

/// What a file name keeps unencoded in a URL path: RFC 3986's unreserved characters.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The connect limit `--connect-timeout 0` passes to the runtime: longer than the system's own
/// (Linux gives up after its SYN retries, about two minutes).
const NO_CONNECT_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// How long connecting may take by default (`--connect-timeout`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The exit statuses of `get` (docs/CLI.md): 0, 3, 4, 5 by status class as xh's
/// `--check-status` has them, and one code for each stage that can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Exit {
    /// A 1xx or 2xx final response, or 304 Not Modified.
    Ok = 0,
    /// Any other failure: the connection reset while sending or receiving, a body file that
    /// cannot be read.
    Failed = 1,
    /// A usage error (clap's code).
    Usage = 2,
    /// A 3xx that was not followed (without `-L`, or no `Location`).
    Redirect = 3,
    /// A 4xx.
    ClientError = 4,
    /// A 5xx.
    ServerError = 5,
    /// The URL (or a redirect's `Location`) is not a usable `http://` URL.
    Url = 6,
    /// The host name did not resolve.
    Dns = 7,
    /// Connecting failed (refused, unreachable).
    Connect = 8,
    /// Connecting took longer than `--connect-timeout`.
    ConnectTimeout = 9,
    /// The TLS handshake failed.
    TlsHandshake = 10,
    /// The server's TLS certificate is not trusted.
    TlsCertificate = 11,
    /// The server sent nothing for the read timeout, or the transfer passed `--max-time`.
    Timeout = 12,
    /// More redirects than `--max-redirs`, or a redirect loop.
    TooManyRedirects = 13,
    /// Writing the output (the file or stdout) failed.
    Write = 14,
    /// A `--compressed` body does not decode.
    Decode = 15,
    /// `-C -` cannot resume: the server's range does not continue the file.
    Resume = 16,
    /// The response is not valid HTTP, or ended early (empty reply, body cut short).
    Malformed = 17,
}

impl Exit {
    /// Every exit status, in order.
    pub const ALL: [Exit; 18] = [
        Exit::Ok,
        Exit::Failed,
        Exit::Usage,
        Exit::Redirect,
        Exit::ClientError,
        Exit::ServerError,
        Exit::Url,
        Exit::Dns,
        Exit::Connect,
        Exit::ConnectTimeout,
        Exit::TlsHandshake,
        Exit::TlsCertificate,
        Exit::Timeout,
        Exit::TooManyRedirects,
        Exit::Write,
        Exit::Decode,
        Exit::Resume,
        Exit::Malformed,
    ];

    /// The process exit status.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The exit status for a final response status: 0 for 1xx, 2xx and 304; 3, 4, 5 for the
    /// other 3xx, 4xx, 5xx.
    pub fn for_status(status: u16) -> Exit {
        match status {
            304 => Exit::Ok,
            100..=299 => Exit::Ok,
            300..=399 => Exit::Redirect,
            400..=499 => Exit::ClientError,
            500..=599 => Exit::ServerError,
            _ => Exit::Malformed,
        }
    }
}

/// The exit status table as `get --help` prints it (a test checks it against [`Exit`]).
pub const EXIT_CODES: &str = "\
Exit status:
   0  success: a 1xx or 2xx final response, or 304 Not Modified
   1  any other failure (connection reset while sending or receiving, unreadable body file)
   2  usage error
   3  a 3xx not followed (no -L, or no Location)
   4  a 4xx response
   5  a 5xx response
   6  bad URL (or a redirect to one)
   7  the host name did not resolve
   8  connect failed (refused, unreachable)
   9  connect timed out (--connect-timeout)
  10  TLS handshake failed
  11  TLS certificate not trusted
  12  transfer timed out (no byte for the read timeout, or --max-time)
  13  too many redirects (--max-redirs), or a redirect loop
  14  write error (the -o file or stdout)
  15  --compressed body does not decode
  16  -C - cannot resume (the server's range does not continue the file)
  17  malformed response (not HTTP, an empty reply, a body cut short)";

/// The exit status for a final response status (see [`Exit::for_status`]).
pub fn exit_status(status: u16) -> i32 {
    Exit::for_status(status).code()
}

/// The stage of a request, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Reading the URL.
    Url,
    /// Looking up the host.
    Resolve,
    /// Connecting.
    Connect,
    /// Writing the request.
    Send,
    /// Reading the status line.
    StatusLine,
    /// Reading the header fields.
    Headers,
    /// Reading the body.
    Body,
    /// Following a redirect.
    Redirect,
    /// Writing the output.
    Output,
    /// Decoding a `--compressed` body.
    Decode,
    /// Resuming a download.
    Resume,
    /// A 4xx or 5xx with `-f`.
    Http,
    /// The TLS handshake or the server's certificate (`https://`).
    Tls,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Url => "url",
            Stage::Resolve => "resolve",
            Stage::Connect => "connect",
            Stage::Send => "send",
            Stage::StatusLine => "status line",
            Stage::Headers => "headers",
            Stage::Body => "body",
            Stage::Redirect => "redirect",
            Stage::Output => "output",
            Stage::Decode => "decode",
            Stage::Resume => "resume",
            Stage::Http => "http",
            Stage::Tls => "tls",
        })
    }
}

/// A failure, with its stage and exit status: `status line: connection closed before a
/// response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The exit status it gives.
    pub exit: Exit,
    /// Where it failed.
    pub stage: Stage,
    /// What happened.
    pub message: String,
}

impl Failure {
    /// A failure at `stage`.
    pub fn new(exit: Exit, stage: Stage, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            stage,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.stage, self.message)
    }
}

/// Everything `get` was asked on the command line.
#[derive(Debug, Clone, Default)]
pub struct GetCommand {
    /// The URL.
    pub url: String,
    /// `-X`.
    pub method: Option<String>,
    /// `-H` fields.
    pub headers: Vec<(String, String)>,
    /// `-d` (text, `@FILE` or `@-`).
    pub data: Option<Source>,
    /// `-T FILE` (or `-` for stdin).
    pub upload: Option<Source>,
    /// `-i`.
    pub include: bool,
    /// `-I`.
    pub head: bool,
    /// `-o`.
    pub output: Option<PathBuf>,
    /// `-v`.
    pub verbose: bool,
    /// `-L`.
    pub location: bool,
    /// `--max-redirs`.
    pub max_redirs: u32,
    /// `--connect-timeout` (`None`: only the system's own limit).
    pub connect_timeout: Option<Duration>,
    /// `-m/--max-time` (`None`: no limit).
    pub max_time: Option<Duration>,
    /// `--read-timeout` (`None`: no limit).
    pub read_timeout: Option<Duration>,
    /// `-f`.
    pub fail: bool,
    /// `-s`.
    pub silent: bool,
    /// `-S`.
    pub show_error: bool,
    /// `-w`.
    pub write_out: Option<String>,
    /// `-C -`.
    pub resume: bool,
    /// `--compressed`.
    pub compressed: bool,
    /// `--cacert`, `-k` (for `https://`).
    pub tls: crate::apps::tls::cli::ClientTlsArgs,
}

/// Run `get` on `rt`; returns the exit status, having printed any failure as
/// `PROGRAM: get: STAGE: message` (unless `-s`), and the `-w` report.
pub fn run<R: Runtime + ?Sized>(rt: &R, cmd: &GetCommand) -> i32 {
    let started = Instant::now();
    let mut report = Report::default();
    let exit = match fetch(rt, cmd, started, &mut report) {
        Ok(exit) => exit,
        Err(f) => {
            if !cmd.silent || cmd.show_error {
                crate::cli::message::error(f.stage, &f.message);
            }
            f.exit
        }
    };
    report.exitcode = exit.code();
    report.time_total = started.elapsed();
    if let Some(format) = &cmd.write_out {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(report.render(format).as_bytes());
        let _ = stdout.flush();
    }
    exit.code()
}

fn has(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// The whole operation: every request of a redirect chain, and the output committed.
fn fetch<R: Runtime + ?Sized>(
    rt: &R,
    cmd: &GetCommand,
    started: Instant,
    report: &mut Report,
) -> Result<Exit, Failure> {
    let mut url = HttpUrl::parse(&cmd.url)
        .map_err(|e| Failure::new(Exit::Url, Stage::Url, format!("{}: {e}", cmd.url)))?;
    let source = cmd.data.as_ref().or(cmd.upload.as_ref());
    let body = match source {
        Some(s) => Body::open(s).map_err(|e| {
            let what = match s {
                Source::File(p) => p.display().to_string(),
                _ => "stdin".into(),
            };
            Failure::new(Exit::Failed, Stage::Send, format!("{what}: {e}"))
        })?,
        None => Body::Empty,
    };
    let method = match (&cmd.method, cmd.head) {
        (Some(m), _) => m.clone(),
        (None, true) => "HEAD".into(),
        (None, false) if cmd.upload.is_some() => "PUT".into(),
        (None, false) if cmd.data.is_some() => "POST".into(),
        (None, false) => "GET".into(),
    };
    if let Some(Source::File(path)) = &cmd.upload
        && url
            .target
            .split('?')
            .next()
            .is_some_and(|p| p.ends_with('/'))
        && let Some(name) = path.file_name()
    {
        // curl: a URL ending in a slash gets the uploaded file's name.
        let name =
            percent_encoding::utf8_percent_encode(&name.to_string_lossy(), UNRESERVED).to_string();
        let (path_part, query) = match url.target.split_once('?') {
            Some((p, q)) => (p.to_string(), format!("?{q}")),
            None => (url.target.clone(), String::new()),
        };
        url.target = format!("{path_part}{name}{query}");
    }
    let form = cmd.data.is_some();
    let mut headers = cmd.headers.clone();
    let mut output = match &cmd.output {
        Some(p) => {
            output::remove_temporary_files_on_signals();
            Output::file(p)
        }
        None => Output::stdout(),
    };
    let resume_from = if cmd.resume { output.existing_len() } else { 0 };
    if resume_from > 0 && !has(&headers, "range") {
        headers.push(("Range".into(), format!("bytes={resume_from}-")));
    }
    if cmd.compressed && !has(&headers, "accept-encoding") {
        headers.push(("Accept-Encoding".into(), decode::ACCEPT_ENCODING.into()));
    }
    let deadline = cmd.max_time.map(|d| started + d);
    let progress =
        cmd.output.is_some() && !cmd.silent && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut hop = Hop {
        visited: vec![(method.clone(), redirect::url_text(&url))],
        url,
        method,
        headers,
        body,
        form,
    };
    loop {
        report.url_effective = hop.text();
        let opts = GetOptions {
            method: hop.method.clone(),
            target: hop.url.target.clone(),
            host: hop.url.host_header(),
            headers: hop.headers.clone(),
            body: hop
                .body
                .reader()
                .map_err(|e| Failure::new(Exit::Failed, Stage::Send, e.to_string()))?,
            body_len: hop.body.len(),
            form: hop.form,
            include: cmd.include || cmd.head,
            verbose: cmd.verbose,
            follow: cmd.location,
            fail: cmd.fail,
            resume_from,
            compressed: cmd.compressed,
            progress,
            read_timeout: cmd.read_timeout,
            deadline,
        };
        let mut session = GetSession::new(Instant::now(), opts, output)?;
        let result = exchange(rt, cmd, &hop.url, deadline, &mut session);
        let timings = session.timings();
        let since = |t: Option<Instant>| t.map_or(Duration::ZERO, |t| t - started);
        report.time_connect = since(timings.connected);
        report.time_starttransfer = since(timings.first_byte);
        report.size_download = session.downloaded();
        report.http_code = session.head().map_or(0, |h| h.status);
        // Dropping the output without a commit leaves FILE as it was.
        output = session
            .take_output()
            .expect("the session gives its output back once");
        let status = result?;
        let location = session
            .head()
            .and_then(|h| h.headers.get("location"))
            .map(|v| String::from_utf8_lossy(v).into_owned());
        if cmd.location
            && redirect::is_followed(status)
            && let Some(location) = location
        {
            if report.num_redirects >= cmd.max_redirs {
                return Err(Failure::new(
                    Exit::TooManyRedirects,
                    Stage::Redirect,
                    format!("more than {} redirects (--max-redirs)", cmd.max_redirs),
                ));
            }
            hop.follow(status, &location)?;
            if cmd.verbose {
                eprintln!("* {status}: following the redirect to {}", hop.text());
            }
            report.num_redirects += 1;
            continue;
        }
        if session.resume_complete() {
            return Ok(Exit::Ok);
        }
        let exit = Exit::for_status(status);
        if cmd.fail && status >= 400 {
            let reason = session
                .head()
                .map(|h| String::from_utf8_lossy(&h.reason).into_owned())
                .unwrap_or_default();
            return Err(Failure::new(
                exit,
                Stage::Http,
                format!("the server answered {status} {reason}"),
            ));
        }
        output.commit().map_err(|e| {
            let what = cmd
                .output
                .as_ref()
                .map_or("stdout".into(), |p| p.display().to_string());
            Failure::new(Exit::Write, Stage::Output, format!("{what}: {e}"))
        })?;
        return Ok(exit);
    }
}

/// Look up `host` (the system resolver blocks, so with `--max-time` it runs on a helper
/// thread that the deadline can leave behind).
fn resolve(
    host: &str,
    port: u16,
    deadline: Option<Instant>,
) -> Result<Vec<std::net::SocketAddr>, Failure> {
    let lookup = move |host: &str| -> Result<Vec<std::net::SocketAddr>, Failure> {
        std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
            .map(Iterator::collect)
            .map_err(|e| Failure::new(Exit::Dns, Stage::Resolve, format!("{host}: {e}")))
    };
    let Some(deadline) = deadline else {
        return lookup(host);
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_string();
    std::thread::Builder::new()
        .name("portline-resolve".into())
        .spawn(move || {
            let _ = tx.send(lookup(&name));
        })
        .map_err(|e| Failure::new(Exit::Failed, Stage::Resolve, e.to_string()))?;
    rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .unwrap_or_else(|_| {
            Err(Failure::new(
                Exit::Timeout,
                Stage::Resolve,
                format!("{host}: the transfer took longer than --max-time"),
            ))
        })
}

/// The request of one hop of a redirect chain, and the requests made so far.
struct Hop {
    url: HttpUrl,
    method: String,
    headers: Vec<(String, String)>,
    body: Body,
    form: bool,
    /// (method, URL) of every request made, to catch a loop.
    visited: Vec<(String, String)>,
}

impl Hop {
    fn text(&self) -> String {
        redirect::url_text(&self.url)
    }

    /// Turn this into the request a `status` redirect to `location` asks for: the URL resolved,
    /// the method and body per [`redirect::next_method`], no credentials for another origin.
    fn follow(&mut self, status: u16, location: &str) -> Result<(), Failure> {
        let next = redirect::resolve(&self.text(), location)
            .map_err(|m| Failure::new(Exit::Url, Stage::Redirect, m))?;
        let next_url = HttpUrl::parse(&next)
            .map_err(|e| Failure::new(Exit::Url, Stage::Redirect, format!("{next}: {e}")))?;
        let (method, keep_body) = redirect::next_method(status, &self.method);
        let drop_fields = |headers: &mut Vec<(String, String)>, names: &[&str]| {
            headers.retain(|(n, _)| !names.contains(&n.to_ascii_lowercase().as_str()));
        };
        if !keep_body {
            self.body = Body::Empty;
            self.form = false;
            drop_fields(&mut self.headers, redirect::BODY_FIELDS);
        }
        if !redirect::same_origin(&self.url, &next_url) {
            drop_fields(&mut self.headers, redirect::CREDENTIAL_FIELDS);
        }
        let key = (method.clone(), redirect::url_text(&next_url));
        if self.visited.contains(&key) {
            return Err(Failure::new(
                Exit::TooManyRedirects,
                Stage::Redirect,
                format!("a redirect loop: {} again", key.1),
            ));
        }
        self.visited.push(key);
        self.method = method;
        self.url = next_url;
        Ok(())
    }
}

/// One request: resolve, connect (each address in turn), drive the session. Returns the final
/// status.
fn exchange<R: Runtime + ?Sized>(
    rt: &R,
    cmd: &GetCommand,
    url: &HttpUrl,
    deadline: Option<Instant>,
    session: &mut GetSession,
) -> Result<u16, Failure> {
    let host = url.host.to_string();
    let addrs = resolve(&host, url.port, deadline)?;
    if addrs.is_empty() {
        return Err(Failure::new(
            Exit::Dns,
            Stage::Resolve,
            format!("{host}: no address found"),
        ));
    }
    let tls = match url.scheme {
        portline_core::addr::Scheme::Http => None,
        portline_core::addr::Scheme::Https => Some(
            cmd.tls
                .config(&[crate::apps::tls::client::ALPN_HTTP1])
                .map_err(|m| Failure::new(Exit::Failed, Stage::Tls, m))?,
        ),
    };
    let mut last_connect_error = None;
    for addr in &addrs {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) {
            break;
        }
        let (limit, by_max_time) = match (left, cmd.connect_timeout) {
            (Some(left), Some(c)) if left < c => (left, true),
            (Some(left), None) => (left, true),
            (_, Some(c)) => (c, false),
            (None, None) => (NO_CONNECT_LIMIT, false),
        };
        if cmd.verbose {
            eprintln!("* connecting to {addr}");
        }
        let result = match &tls {
            None => rt.run_client(*addr, limit, session),
            Some(config) => run_tls(rt, *addr, limit, config, &host, cmd.verbose, session)?,
        };
        match result {
            Ok(()) => {
                return match session.outcome() {
                    Some(Ok(status)) => Ok(*status),
                    Some(Err(f)) => Err(f.clone()),
                    None => Err(Failure::new(
                        Exit::Malformed,
                        session.stage(),
                        "the connection ended without a complete response",
                    )),
                };
            }
            Err(ClientError::Connect(e)) => {
                let exit = match e.kind() {
                    std::io::ErrorKind::TimedOut if by_max_time => Exit::Timeout,
                    std::io::ErrorKind::TimedOut => Exit::ConnectTimeout,
                    _ => Exit::Connect,
                };
                let to = crate::cli::message::addr(*addr, Some(&host));
                last_connect_error = Some(Failure::new(exit, Stage::Connect, format!("{to}: {e}")));
            }
            Err(ClientError::Send(e)) => {
                // An answer that came before the failed write (a 413, say) still counts.
                if let Some(r) = session.outcome() {
                    return r.clone();
                }
                return Err(Failure::new(Exit::Failed, Stage::Send, e.to_string()));
            }
            Err(ClientError::Receive(e)) => {
                // A failure the session already recorded names the stage best.
                if let Some(r) = session.outcome() {
                    return r.clone();
                }
                return Err(Failure::new(Exit::Failed, session.stage(), e.to_string()));
            }
        }
    }
    Err(last_connect_error.unwrap_or_else(|| {
        Failure::new(
            Exit::Timeout,
            Stage::Connect,
            "the transfer took longer than --max-time",
        )
    }))
}

/// [`Runtime::run_client`] with `session` inside the TLS layer. A TLS failure is the `tls`
/// stage's, exit 10 (handshake) or 11 (certificate); a reset before the handshake is done is a
/// handshake failure too. Anything else is for the caller, as without TLS.
fn run_tls<R: Runtime + ?Sized>(
    rt: &R,
    addr: std::net::SocketAddr,
    limit: Duration,
    config: &std::sync::Arc<rustls::ClientConfig>,
    host: &str,
    verbose: bool,
    session: &mut GetSession,
) -> Result<Result<(), ClientError>, Failure> {
    use crate::apps::tls::TlsFailureKind;
    let tls_exit = |kind| match kind {
        TlsFailureKind::Handshake => Exit::TlsHandshake,
        TlsFailureKind::Certificate => Exit::TlsCertificate,
        TlsFailureKind::Setup => Exit::Failed,
    };
    let mut layer = crate::apps::tls::client::session(config, host, session, verbose)
        .map_err(|m| Failure::new(Exit::Failed, Stage::Tls, m))?;
    let result = rt.run_client(addr, limit, &mut layer);
    if let Some(f) = layer.failure() {
        return Err(Failure::new(
            tls_exit(f.kind),
            Stage::Tls,
            f.message.clone(),
        ));
    }
    match result {
        Err(ClientError::Send(e) | ClientError::Receive(e)) if !layer.is_established() => {
            Err(Failure::new(
                Exit::TlsHandshake,
                Stage::Tls,
                format!("the connection failed during the TLS handshake: {e}"),
            ))
        }
        result => Ok(result),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_table_lists_every_exit_status() {
        let lines: Vec<&str> = EXIT_CODES.lines().skip(1).collect();
        assert_eq!(lines.len(), Exit::ALL.len());
        for (line, exit) in lines.iter().zip(Exit::ALL) {
            let code: i32 = line.split_whitespace().next().unwrap().parse().unwrap();
            assert_eq!(code, exit.code(), "{line}");
        }
    }

    #[test]
    fn docs_cli_md_lists_every_exit_status() {
        let doc = include_str!("../../../../../docs/CLI.md");
        for line in EXIT_CODES.lines().skip(1) {
            let (code, text) = line.trim().split_once("  ").unwrap();
            let row = format!("| {code} | {} |", text.trim());
            assert!(doc.contains(&row), "docs/CLI.md lacks the row {row:?}");
        }
    }

    #[test]
    fn statuses_map_to_their_class_and_304_is_success() {
        let cases = [
            (100, 0),
            (200, 0),
            (206, 0),
            (304, 0),
            (301, 3),
            (302, 3),
            (404, 4),
            (500, 5),
            (600, 17),
        ];
        for (status, code) in cases {
            assert_eq!(exit_status(status), code, "{status}");
        }
    }
}
