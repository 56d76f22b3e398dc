//! The `get` client: one HTTP/1.0 request written by the core's client role, the response
//! printed as curl would (body to stdout or a file, `-i` head first, `-v` heads on stderr).
//!
//! [`GetSession`] is the [`Session`] a runtime drives; [`run`] resolves, connects (trying each
//! address in turn), drives it with [`Runtime::run_client`] and turns the outcome into the exit
//! status of `docs/CLI.md`: 0 for 1xx-2xx, 3, 4, 5 for 3xx, 4xx, 5xx, 1 for no response, with the
//! failing stage named (`resolve`, `connect`, `send`, `status line`, `headers`, `body`).

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use portline_core::http::{
    BodyLength, Config, Connection, Event, Poll, Request, ResponseHead, Role, Version,
};

use crate::clock;
use crate::runtime::{ClientError, Runtime};
use crate::session::Session;

/// The `User-Agent` header value.
pub const USER_AGENT: &str = "portline/0.1";

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The stage of a request, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
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
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Resolve => "resolve",
            Stage::Connect => "connect",
            Stage::Send => "send",
            Stage::StatusLine => "status line",
            Stage::Headers => "headers",
            Stage::Body => "body",
        })
    }
}

/// A failure, with its stage: `status line: connection closed before a response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Where it failed.
    pub stage: Stage,
    /// What happened.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.stage, self.message)
    }
}

/// What to request and how to print it.
#[derive(Debug, Clone)]
pub struct GetOptions {
    /// The method (`-X`; `HEAD` with `-I`; `POST` when `-d` is given without `-X`).
    pub method: String,
    /// The request target, e.g. `/index.html?x=1`.
    pub target: String,
    /// The `Host` header value, e.g. `localhost:8080`.
    pub host: String,
    /// Extra header fields (`-H`), which replace the default `Host` and `User-Agent`.
    pub headers: Vec<(String, String)>,
    /// The request body (`-d`).
    pub data: Option<Vec<u8>>,
    /// Print the status line and header fields before the body (`-i`, and `-I`).
    pub include: bool,
    /// Print the request and response heads on stderr (`-v`).
    pub verbose: bool,
}

/// One `get` exchange as a [`Session`]: the request bytes out, the response printed to `sink`.
pub struct GetSession {
    conn: Connection,
    request: Vec<u8>,
    /// With `-v`: the request head to print once the connection is up.
    request_head: Option<String>,
    sent: usize,
    include: bool,
    verbose: bool,
    sink: Box<dyn Write + Send>,
    progress: Option<indicatif::ProgressBar>,
    want_progress: bool,
    /// The first line of the response as received so far (up to 1 KiB), to tell a bad status
    /// line from bad headers.
    first_line: Vec<u8>,
    first_line_done: bool,
    head: Option<ResponseHead>,
    outcome: Option<Result<u16, Failure>>,
}

impl fmt::Debug for GetSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetSession")
            .field("sent", &self.sent)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

fn head_text(prefix: &str, head: &[u8]) -> String {
    let mut s = String::new();
    for line in String::from_utf8_lossy(head).split("\r\n") {
        if line.is_empty() {
            continue;
        }
        s.push_str(prefix);
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// The response head as text lines (status line, then fields), CRLF-terminated, with the final
/// empty line.
pub fn response_head_bytes(head: &ResponseHead) -> Vec<u8> {
    let mut s = Vec::with_capacity(128);
    let version = match head.version {
        Version::Http09 => "0.9",
        v => v.as_str(),
    };
    s.extend_from_slice(format!("HTTP/{version} {} ", head.status).as_bytes());
    s.extend_from_slice(&head.reason);
    s.extend_from_slice(b"\r\n");
    for (n, v) in head.headers.iter() {
        s.extend_from_slice(n);
        s.extend_from_slice(b": ");
        s.extend_from_slice(v);
        s.extend_from_slice(b"\r\n");
    }
    s.extend_from_slice(b"\r\n");
    s
}

/// Whether `line` looks like `HTTP/d.d ddd ...` (used only to name a failing stage).
fn is_status_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.len() >= 12
        && line.starts_with(b"HTTP/")
        && line[5].is_ascii_digit()
        && line[6] == b'.'
        && line[7].is_ascii_digit()
        && line[8] == b' '
        && line[9..12].iter().all(u8::is_ascii_digit)
        && (line.len() == 12 || line[12] == b' ')
}

impl GetSession {
    /// A session that sends the request of `opts` and prints the response to `sink`;
    /// `progress` asks for a progress bar on stderr (when writing to a file on a terminal).
    pub fn new(
        now: Instant,
        opts: &GetOptions,
        sink: Box<dyn Write + Send>,
        progress: bool,
    ) -> Result<GetSession, Failure> {
        let t = clock::to_time(now);
        let mut conn = Connection::new(Role::Client, Config::default(), t);
        let has = |name: &str| {
            opts.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        let mut headers: Vec<(&str, &[u8])> = Vec::new();
        if !has("host") {
            headers.push(("Host", opts.host.as_bytes()));
        }
        if !has("user-agent") {
            headers.push(("User-Agent", USER_AGENT.as_bytes()));
        }
        if !has("accept") {
            headers.push(("Accept", b"*/*"));
        }
        if opts.data.is_some() && !has("content-type") {
            headers.push(("Content-Type", b"application/x-www-form-urlencoded"));
        }
        for (n, v) in &opts.headers {
            headers.push((n.as_str(), v.as_bytes()));
        }
        let body = opts.data.as_deref().unwrap_or(b"");
        let request = Request {
            method: &opts.method,
            target: &opts.target,
            headers: &headers,
            body: BodyLength::Known(body.len() as u64),
            keep_alive: false,
        };
        let send_failure = |e: portline_core::http::Error| Failure {
            stage: Stage::Send,
            message: e.to_string(),
        };
        let mut out = Vec::with_capacity(256 + body.len());
        conn.send_request(t, &request, &mut out)
            .map_err(send_failure)?;
        let head_len = out.len();
        if !body.is_empty() {
            conn.send_data(t, body, &mut out).map_err(send_failure)?;
        }
        conn.send_end(t, &mut out).map_err(send_failure)?;
        let request_head = opts
            .verbose
            .then(|| format!("{}>", head_text("> ", &out[..head_len])));
        Ok(GetSession {
            conn,
            request: out,
            request_head,
            sent: 0,
            include: opts.include,
            verbose: opts.verbose,
            sink,
            progress: None,
            want_progress: progress,
            first_line: Vec::new(),
            first_line_done: false,
            head: None,
            outcome: None,
        })
    }

    /// How it ended: the final status, or the failure. `None` while running.
    pub fn outcome(&self) -> Option<&Result<u16, Failure>> {
        self.outcome.as_ref()
    }

    /// The stage reached: where a transport error now would have happened.
    pub fn stage(&self) -> Stage {
        if self.sent < self.request.len() {
            Stage::Send
        } else if self.head.is_some() {
            Stage::Body
        } else if self.first_line_done {
            Stage::Headers
        } else {
            Stage::StatusLine
        }
    }

    fn fail(&mut self, stage: Stage, message: String) {
        if self.outcome.is_none() {
            self.outcome = Some(Err(Failure { stage, message }));
        }
        self.finish_output();
    }

    fn finish_output(&mut self) {
        let _ = self.sink.flush();
        if let Some(p) = self.progress.take() {
            p.finish();
            if !p.is_hidden() {
                // indicatif leaves the cursor at the end of the bar.
                eprintln!();
            }
        }
    }

    fn write_out(&mut self, bytes: &[u8]) {
        if let Err(e) = self.sink.write_all(bytes) {
            self.fail(Stage::Body, format!("writing the output: {e}"));
        }
    }

    fn on_head(&mut self, head: ResponseHead) {
        let text = response_head_bytes(&head);
        if self.verbose {
            eprint!("{}", head_text("< ", &text));
            eprintln!("<");
        }
        if self.include {
            self.write_out(&text);
        }
        if head.status >= 200 || head.status < 100 {
            if self.want_progress {
                let len = head
                    .headers
                    .get("content-length")
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let bar = match len {
                    Some(n) => indicatif::ProgressBar::new(n),
                    None => indicatif::ProgressBar::new_spinner(),
                };
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                ) && len.is_some()
                {
                    bar.set_style(style);
                }
                self.progress = Some(bar);
            }
            self.head = Some(head);
        }
    }

    /// Drain the connection's events after an input.
    fn drain(&mut self) {
        while self.outcome.is_none() {
            match self.conn.poll_event() {
                Ok(Poll::Event(Event::Response(head))) => self.on_head(head),
                Ok(Poll::Event(Event::Data(bytes))) => {
                    self.write_out(&bytes);
                    if let Some(p) = &self.progress {
                        p.inc(bytes.len() as u64);
                    }
                }
                Ok(Poll::Event(Event::EndOfMessage))
                | Ok(Poll::Event(Event::ConnectionClosed))
                | Ok(Poll::Closed) => match self.head.as_ref().map(|h| h.status) {
                    Some(status) => {
                        self.outcome = Some(Ok(status));
                        self.finish_output();
                    }
                    None => self.fail(
                        Stage::StatusLine,
                        "the connection closed before a response".into(),
                    ),
                },
                Ok(Poll::Event(Event::Request(_))) => {}
                Ok(Poll::NeedData | Poll::Paused) => return,
                Err(e) => {
                    let stage = if self.head.is_some() {
                        Stage::Body
                    } else if self.first_line_done && is_status_line(&self.first_line) {
                        Stage::Headers
                    } else {
                        Stage::StatusLine
                    };
                    self.fail(stage, e.to_string());
                }
            }
        }
    }
}

impl Session for GetSession {
    fn receive(&mut self, now: Instant, data: &[u8]) {
        if !self.first_line_done {
            let end = data.iter().position(|&b| b == b'\n');
            let take = end.unwrap_or(data.len());
            let room = 1024usize.saturating_sub(self.first_line.len());
            self.first_line.extend_from_slice(&data[..take.min(room)]);
            self.first_line_done = end.is_some();
        }
        self.conn.receive(clock::to_time(now), data);
        self.drain();
    }

    fn receive_eof(&mut self, now: Instant) {
        self.conn.receive_eof(clock::to_time(now));
        self.drain();
        if self.outcome.is_none() {
            let stage = self.stage();
            self.fail(stage, "the connection closed too early".into());
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(clock::to_time(now));
        self.drain();
    }

    fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>, budget: usize) {
        if let Some(head) = self.request_head.take() {
            eprintln!("{head}");
        }
        let n = budget.min(self.request.len() - self.sent);
        out.extend_from_slice(&self.request[self.sent..self.sent + n]);
        self.sent += n;
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.outcome.is_some() {
            return None;
        }
        self.conn.poll_timeout().map(clock::to_instant)
    }

    fn wants_read(&self) -> bool {
        self.outcome.is_none()
    }

    fn is_done(&self) -> bool {
        self.outcome.is_some()
    }
}

/// The exit status for a final response status: 0 for 1xx-2xx, 3, 4, 5 for 3xx, 4xx, 5xx.
pub fn exit_status(status: u16) -> i32 {
    match status / 100 {
        1 | 2 => 0,
        3 => 3,
        4 => 4,
        5 => 5,
        _ => 1,
    }
}

/// Everything `get` was asked on the command line.
#[derive(Debug, Clone)]
pub struct GetCommand {
    /// The URL.
    pub url: String,
    /// `-X`.
    pub method: Option<String>,
    /// `-H` fields.
    pub headers: Vec<(String, String)>,
    /// `-d`.
    pub data: Option<String>,
    /// `-i`.
    pub include: bool,
    /// `-I`.
    pub head: bool,
    /// `-o`.
    pub output: Option<PathBuf>,
    /// `-v`.
    pub verbose: bool,
}

/// Run `get` on `rt`; returns the exit status, having printed any failure as
/// `NAME: STAGE: message`.
pub fn run<R: Runtime + ?Sized>(rt: &R, cmd: &GetCommand) -> i32 {
    let name = rt.name();
    match run_inner(rt, cmd) {
        Ok(status) => exit_status(status),
        Err(f) => {
            eprintln!("{name}: {f}");
            1
        }
    }
}

fn run_inner<R: Runtime + ?Sized>(rt: &R, cmd: &GetCommand) -> Result<u16, Failure> {
    let fail = |stage, message: String| Failure { stage, message };
    let url = portline_core::addr::HttpUrl::parse(&cmd.url)
        .map_err(|e| fail(Stage::Resolve, format!("{}: {e}", cmd.url)))?;
    let host = url.host.to_string();
    let addrs: Vec<std::net::SocketAddr> =
        std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), url.port))
            .map_err(|e| fail(Stage::Resolve, format!("{host}: {e}")))?
            .collect();
    if addrs.is_empty() {
        return Err(fail(Stage::Resolve, format!("{host}: no address found")));
    }
    let method = match (&cmd.method, cmd.head, &cmd.data) {
        (Some(m), _, _) => m.clone(),
        (None, true, _) => "HEAD".into(),
        (None, false, Some(_)) => "POST".into(),
        (None, false, None) => "GET".into(),
    };
    let opts = GetOptions {
        method,
        target: url.target.clone(),
        host: url.host_header(),
        headers: cmd.headers.clone(),
        data: cmd.data.clone().map(String::into_bytes),
        include: cmd.include || cmd.head,
        verbose: cmd.verbose,
    };
    let (sink, progress): (Box<dyn Write + Send>, bool) = match &cmd.output {
        Some(path) => {
            let f = std::fs::File::create(path)
                .map_err(|e| fail(Stage::Body, format!("{}: {e}", path.display())))?;
            (
                Box::new(io::BufWriter::with_capacity(64 * 1024, f)),
                io::stderr().is_terminal(),
            )
        }
        None => (
            Box::new(io::BufWriter::with_capacity(64 * 1024, io::stdout())),
            false,
        ),
    };
    let mut session = GetSession::new(Instant::now(), &opts, sink, progress)?;
    let mut last_connect_error = None;
    for addr in &addrs {
        if cmd.verbose {
            eprintln!("* connecting to {addr}");
        }
        match rt.run_client(*addr, CONNECT_TIMEOUT, &mut session) {
            Ok(()) => {
                return match session.outcome() {
                    Some(Ok(status)) => Ok(*status),
                    Some(Err(f)) => Err(f.clone()),
                    None => Err(fail(
                        session.stage(),
                        "the connection ended without a complete response".into(),
                    )),
                };
            }
            Err(ClientError::Connect(e)) => {
                last_connect_error = Some(format!("{addr}: {e}"));
            }
            Err(ClientError::Send(e)) => return Err(fail(Stage::Send, e.to_string())),
            Err(ClientError::Receive(e)) => {
                // A failure the session already recorded names the stage best.
                if let Some(Err(f)) = session.outcome() {
                    return Err(f.clone());
                }
                return Err(fail(session.stage(), e.to_string()));
            }
        }
    }
    Err(fail(
        Stage::Connect,
        last_connect_error.unwrap_or_else(|| "no address to connect to".into()),
    ))
}
