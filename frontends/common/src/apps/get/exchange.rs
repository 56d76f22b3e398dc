//! One request and its response over one connection: the [`Session`] a runtime drives.
//!
//! [`GetSession`] writes the request head and streams the body (bounded by the transmit budget),
//! reads the response with the core's client role, decides from the head where the body goes
//! ([`Output`], or nowhere for a redirect being followed, a `-f` error, a complete resume),
//! decodes it with `--compressed`, and keeps its own deadlines: the read timeout and `--max-time`.

use std::fmt;
use std::io::{self, Read};
use std::time::{Duration, Instant};

use portline_core::http::{
    BodyLength, Config, Connection, Event, Progress, Request, ResponseHead, Role, Version,
};

use super::decode::{DecodeError, Decoder};
use super::output::{Mode, Output};
use super::redirect;
use super::{Exit, Failure, Stage};
use crate::driver::clock;
use crate::driver::session::Session;

/// The `User-Agent` header value.
pub const USER_AGENT: &str = "portline/0.1";

/// How long a response may go without a byte before `get` gives up: 5 minutes. curl has no
/// such limit by default and can hang for ever on a silent server; wget's `--read-timeout` is
/// 900 s; Firefox gives up on a silent response after 300 s (`network.http.response.timeout`).
/// Five minutes leaves a slow server all the time it needs and still frees a stuck script.
pub const READ_TIMEOUT: Duration = Duration::from_secs(300);

/// What to request, and how to treat the answer.
pub struct GetOptions {
    /// The method (`-X`; `HEAD` with `-I`; `POST` with `-d`; `PUT` with `-T`).
    pub method: String,
    /// The request target, e.g. `/index.html?x=1`.
    pub target: String,
    /// The `Host` header value, e.g. `localhost:8080`.
    pub host: String,
    /// Extra header fields (`-H`), which replace the default `Host`, `User-Agent`, `Accept`.
    pub headers: Vec<(String, String)>,
    /// The request body (`-d`, `-T`), streamed.
    pub body: Box<dyn Read + Send>,
    /// The body's length (`Content-Length`).
    pub body_len: u64,
    /// Whether to send a `Content-Type` for a form (`-d` does, `-T` does not).
    pub form: bool,
    /// Print the status line and header fields before the body (`-i`, and `-I`).
    pub include: bool,
    /// Print the request and response heads on stderr (`-v`).
    pub verbose: bool,
    /// A redirect that will be followed (`-L`): its body is not output.
    pub follow: bool,
    /// `-f`: no output at all for a 4xx or 5xx.
    pub fail: bool,
    /// `-C -`: the byte where the request's `Range` starts (0: not resuming).
    pub resume_from: u64,
    /// `--compressed`: decode the `Content-Encoding`.
    pub compressed: bool,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Give up after this long without a byte from the server ([`READ_TIMEOUT`]; `None`: never).
    pub read_timeout: Option<Duration>,
    /// Give up at this instant (`--max-time`).
    pub deadline: Option<Instant>,
}

impl fmt::Debug for GetOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetOptions")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("body_len", &self.body_len)
            .finish_non_exhaustive()
    }
}

impl GetOptions {
    /// A plain GET-like request with no body and every option off.
    pub fn new(method: &str, target: &str, host: &str) -> GetOptions {
        GetOptions {
            method: method.to_string(),
            target: target.to_string(),
            host: host.to_string(),
            headers: Vec::new(),
            body: Box::new(io::empty()),
            body_len: 0,
            form: false,
            include: false,
            verbose: false,
            follow: false,
            fail: false,
            resume_from: 0,
            compressed: false,
            progress: false,
            read_timeout: Some(READ_TIMEOUT),
            deadline: None,
        }
    }

    /// With `data` as the body.
    pub fn with_body(mut self, data: Vec<u8>) -> GetOptions {
        self.body_len = data.len() as u64;
        self.body = Box::new(io::Cursor::new(data));
        self
    }
}

/// What became of the response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disposition {
    /// Not decided yet (no final head).
    Pending,
    /// Written to the output.
    Write,
    /// Read no further: the session ends at the head.
    Stop,
}

/// Timings of one exchange, for `-w`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// When the connection was up (the first chance to send).
    pub connected: Option<Instant>,
    /// When the first response byte arrived.
    pub first_byte: Option<Instant>,
}

/// One `get` exchange as a [`Session`]: the request bytes out, the response to an [`Output`].
pub struct GetSession {
    conn: Connection,
    /// The request head (and nothing else), written first.
    head_bytes: Vec<u8>,
    head_sent: usize,
    body: Box<dyn Read + Send>,
    body_left: u64,
    request_done: bool,
    scratch: Vec<u8>,
    /// With `-v`: the request head to print once the connection is up.
    request_head: Option<String>,
    include: bool,
    verbose: bool,
    follow: bool,
    fail: bool,
    resume_from: u64,
    compressed: bool,
    want_progress: bool,
    read_timeout: Option<Duration>,
    deadline: Option<Instant>,
    output: Option<Output>,
    disposition: Disposition,
    decoder: Option<Decoder>,
    progress: Option<indicatif::ProgressBar>,
    /// The first line of the response as received so far (up to 1 KiB), to tell a bad status
    /// line from bad headers.
    first_line: Vec<u8>,
    first_line_done: bool,
    head: Option<ResponseHead>,
    resume_complete: bool,
    downloaded: u64,
    last_activity: Instant,
    timings: Timings,
    outcome: Option<Result<u16, Failure>>,
}

impl fmt::Debug for GetSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetSession")
            .field("head_sent", &self.head_sent)
            .field("body_left", &self.body_left)
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

/// Parse `Content-Range: bytes FIRST-LAST/LEN` (or `bytes */LEN`): (FIRST, LEN).
fn content_range(value: &[u8]) -> Option<(Option<u64>, Option<u64>)> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let rest = text.strip_prefix("bytes")?.trim_start();
    let (range, len) = rest.split_once('/')?;
    let len = if len.trim() == "*" {
        None
    } else {
        Some(len.trim().parse().ok()?)
    };
    let first = if range.trim() == "*" {
        None
    } else {
        Some(range.split_once('-')?.0.trim().parse().ok()?)
    };
    Some((first, len))
}

impl GetSession {
    /// A session that sends the request of `opts` and writes the response to `output`.
    pub fn new(now: Instant, opts: GetOptions, output: Output) -> Result<GetSession, Failure> {
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
        if opts.form && opts.body_len > 0 && !has("content-type") {
            headers.push(("Content-Type", b"application/x-www-form-urlencoded"));
        }
        for (n, v) in &opts.headers {
            headers.push((n.as_str(), v.as_bytes()));
        }
        let request = Request {
            method: &opts.method,
            target: &opts.target,
            headers: &headers,
            body: BodyLength::Known(opts.body_len),
            keep_alive: false,
        };
        let send_failure =
            |e: portline_core::http::Error| Failure::new(Exit::Failed, Stage::Send, e.to_string());
        let mut head_bytes = Vec::with_capacity(256);
        conn.send_request(t, &request, &mut head_bytes)
            .map_err(send_failure)?;
        let request_head = opts
            .verbose
            .then(|| format!("{}>", head_text("> ", &head_bytes)));
        let mut request_done = false;
        if opts.body_len == 0 {
            conn.send_end(t).map_err(send_failure)?;
            request_done = true;
        }
        Ok(GetSession {
            conn,
            head_bytes,
            head_sent: 0,
            body: opts.body,
            body_left: opts.body_len,
            request_done,
            scratch: Vec::new(),
            request_head,
            include: opts.include,
            verbose: opts.verbose,
            follow: opts.follow,
            fail: opts.fail,
            resume_from: opts.resume_from,
            compressed: opts.compressed,
            want_progress: opts.progress,
            read_timeout: opts.read_timeout,
            deadline: opts.deadline,
            output: Some(output),
            disposition: Disposition::Pending,
            decoder: None,
            progress: None,
            first_line: Vec::new(),
            first_line_done: false,
            head: None,
            resume_complete: false,
            downloaded: 0,
            last_activity: now,
            timings: Timings::default(),
            outcome: None,
        })
    }

    /// How it ended: the final status, or the failure. `None` while running.
    pub fn outcome(&self) -> Option<&Result<u16, Failure>> {
        self.outcome.as_ref()
    }

    /// The final response head, once it has arrived.
    pub fn head(&self) -> Option<&ResponseHead> {
        self.head.as_ref()
    }

    /// A resumed download the server says is already complete (416 for the range from the
    /// file's length): nothing was written, and that is success.
    pub fn resume_complete(&self) -> bool {
        self.resume_complete
    }

    /// Body bytes received (before decoding).
    pub fn downloaded(&self) -> u64 {
        self.downloaded
    }

    /// When the connection came up and the first response byte arrived.
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// Take the output back (to commit it, or to drop it and leave FILE alone).
    pub fn take_output(&mut self) -> Option<Output> {
        self.output.take()
    }

    /// The stage reached: where a transport error now would have happened.
    pub fn stage(&self) -> Stage {
        if !self.request_done || self.head_sent < self.head_bytes.len() {
            Stage::Send
        } else if self.head.is_some() {
            Stage::Body
        } else if self.first_line_done {
            Stage::Headers
        } else {
            Stage::StatusLine
        }
    }

    fn fail(&mut self, exit: Exit, stage: Stage, message: String) {
        if self.outcome.is_none() {
            self.outcome = Some(Err(Failure::new(exit, stage, message)));
        }
        self.finish_output();
    }

    fn finish_output(&mut self) {
        if let Some(out) = &mut self.output
            && let Err(e) = out.flush()
            && self.outcome.as_ref().is_none_or(Result::is_ok)
        {
            self.outcome = Some(Err(Failure::new(
                Exit::Write,
                Stage::Output,
                format!("writing the output: {e}"),
            )));
        }
        if let Some(p) = self.progress.take() {
            p.finish();
            if !p.is_hidden() {
                // indicatif leaves the cursor at the end of the bar.
                eprintln!();
            }
        }
    }

    fn write_raw(&mut self, bytes: &[u8]) {
        let result = match &mut self.output {
            Some(out) => out.write(bytes),
            None => Ok(()),
        };
        if let Err(e) = result {
            self.fail(Exit::Write, Stage::Output, output_error(&self.output, &e));
        }
    }

    fn open_output(&mut self, mode: Mode) {
        let result = match &mut self.output {
            Some(out) => out.begin(mode),
            None => Ok(()),
        };
        if let Err(e) = result {
            self.fail(Exit::Write, Stage::Output, output_error(&self.output, &e));
        }
    }

    /// Body bytes: decoded if asked, then written.
    fn on_data(&mut self, bytes: &[u8]) {
        self.downloaded += bytes.len() as u64;
        if let Some(p) = &self.progress {
            p.inc(bytes.len() as u64);
        }
        if self.disposition != Disposition::Write {
            return;
        }
        let Some(mut decoder) = self.decoder.take() else {
            self.write_raw(bytes);
            return;
        };
        let result = {
            let output = &mut self.output;
            decoder.decode(bytes, &mut |b| match output {
                Some(o) => o.write(b),
                None => Ok(()),
            })
        };
        self.decoder = Some(decoder);
        self.on_decode_result(result);
    }

    fn on_decode_result(&mut self, result: Result<(), DecodeError>) {
        match result {
            Ok(()) => {}
            Err(DecodeError::Corrupt(m)) => {
                self.fail(Exit::Decode, Stage::Decode, m);
            }
            Err(DecodeError::Write(e)) => {
                let m = output_error(&self.output, &e);
                self.fail(Exit::Write, Stage::Output, m);
            }
        }
    }

    fn on_end(&mut self) {
        let Some(status) = self.head.as_ref().map(|h| h.status) else {
            self.fail(
                Exit::Malformed,
                Stage::StatusLine,
                "the connection closed before a response".into(),
            );
            return;
        };
        if let Some(mut decoder) = self.decoder.take()
            && self.downloaded > 0
        {
            let result = {
                let output = &mut self.output;
                decoder.finish(&mut |b| match output {
                    Some(o) => o.write(b),
                    None => Ok(()),
                })
            };
            self.on_decode_result(result);
            if self.outcome.is_some() {
                return;
            }
        }
        self.outcome = Some(Ok(status));
        self.finish_output();
    }

    /// The final head decides where the body goes.
    fn on_final_head(&mut self, head: &ResponseHead, text: &[u8]) {
        let status = head.status;
        let header = |name: &str| head.headers.get(name);
        if self.fail && status >= 400 {
            self.disposition = Disposition::Stop;
            return;
        }
        if self.follow && redirect::is_followed(status) && header("location").is_some() {
            if self.include {
                self.write_raw(text);
            }
            self.disposition = Disposition::Stop;
            return;
        }
        let mut mode = Mode::Replace;
        if self.resume_from > 0 {
            match status {
                206 => {
                    let first = header("content-range").and_then(content_range);
                    match first {
                        Some((Some(first), _)) if first == self.resume_from => {}
                        _ => {
                            let got = header("content-range")
                                .map(|v| String::from_utf8_lossy(v).into_owned())
                                .unwrap_or_else(|| "no Content-Range".into());
                            self.fail(
                                Exit::Resume,
                                Stage::Resume,
                                format!(
                                    "asked for the bytes from {}, the server sent {got}",
                                    self.resume_from
                                ),
                            );
                            return;
                        }
                    }
                    mode = Mode::Append;
                }
                416 => {
                    let len = header("content-range")
                        .and_then(content_range)
                        .and_then(|(_, len)| len);
                    match len {
                        Some(len) if len != self.resume_from => self.fail(
                            Exit::Resume,
                            Stage::Resume,
                            format!(
                                "the file has {} bytes, the server's has {len}; not resumable",
                                self.resume_from
                            ),
                        ),
                        _ => {
                            if self.verbose {
                                eprintln!("* the file is already complete");
                            }
                            self.resume_complete = true;
                            self.disposition = Disposition::Stop;
                        }
                    }
                    return;
                }
                200 => {
                    if self.verbose {
                        eprintln!("* the server ignored the range: downloading the whole file");
                    }
                }
                // Never write an error page into the partial file.
                _ => {
                    self.disposition = Disposition::Stop;
                    return;
                }
            }
        }
        if self.compressed
            && let Some(value) = header("content-encoding")
        {
            match Decoder::for_content_encoding(value) {
                Ok(d) => self.decoder = d,
                Err(m) => {
                    self.fail(Exit::Decode, Stage::Decode, m);
                    return;
                }
            }
        }
        self.open_output(mode);
        if self.include {
            self.write_raw(text);
        }
        self.disposition = Disposition::Write;
        if self.want_progress {
            let len = header("content-length")
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|v| v.parse::<u64>().ok());
            let start = if mode == Mode::Append {
                self.resume_from
            } else {
                0
            };
            let bar = match len {
                Some(n) => indicatif::ProgressBar::new(start + n),
                None => indicatif::ProgressBar::new_spinner(),
            };
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            ) && len.is_some()
            {
                bar.set_style(style);
            }
            bar.set_position(start);
            self.progress = Some(bar);
        }
    }

    fn on_head(&mut self, head: ResponseHead) {
        let text = response_head_bytes(&head);
        if self.verbose {
            eprint!("{}", head_text("< ", &text));
            eprintln!("<");
        }
        if (100..200).contains(&head.status) {
            if self.include {
                self.write_raw(&text);
            }
            return;
        }
        self.on_final_head(&head, &text);
        let stop = self.disposition == Disposition::Stop;
        self.head = Some(head);
        if stop && self.outcome.is_none() {
            self.outcome = self.head.as_ref().map(|h| Ok(h.status));
            self.finish_output();
        }
    }

    /// Drain the connection's events after an input.
    fn drain(&mut self) {
        while self.outcome.is_none() {
            match self.conn.poll_event() {
                // 1xx heads (interim, or 101 after which the connection is closed) are told
                // apart by their status.
                Ok(Progress::Event(
                    Event::Response(head) | Event::Interim(head) | Event::Switched(head),
                )) => self.on_head(head),
                Ok(Progress::Event(Event::Data(bytes))) => self.on_data(&bytes),
                Ok(Progress::Event(Event::EndOfMessage)) | Ok(Progress::Closed) => self.on_end(),
                Ok(Progress::Event(Event::Request(_))) => {}
                Ok(Progress::NeedData | Progress::Paused) => return,
                Err(e) => {
                    let stage = if self.head.is_some() {
                        Stage::Body
                    } else if self.first_line_done && is_status_line(&self.first_line) {
                        Stage::Headers
                    } else {
                        Stage::StatusLine
                    };
                    self.fail(Exit::Malformed, stage, e.to_string());
                }
            }
        }
    }

    /// The deadline of the read timeout.
    fn read_deadline(&self) -> Option<Instant> {
        self.read_timeout.map(|t| self.last_activity + t)
    }

    /// Stream the next piece of the body into `out`.
    fn transmit_body(&mut self, now: Instant, out: &mut Vec<u8>, budget: usize) {
        let want = (budget as u64).min(self.body_left) as usize;
        if self.scratch.len() < want {
            self.scratch.resize(want, 0);
        }
        let n = loop {
            match self.body.read(&mut self.scratch[..want]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.fail(Exit::Failed, Stage::Send, format!("reading the body: {e}"));
                    return;
                }
            }
        };
        if n == 0 {
            self.fail(
                Exit::Failed,
                Stage::Send,
                format!("the body ended {} bytes early", self.body_left),
            );
            return;
        }
        let t = clock::to_time(now);
        let mut result = self.conn.send_data(t, &self.scratch[..n], out);
        self.body_left -= n as u64;
        if result.is_ok() && self.body_left == 0 {
            result = self.conn.send_end(t);
            self.request_done = true;
        }
        if let Err(e) = result {
            self.fail(Exit::Failed, Stage::Send, e.to_string());
        }
    }
}

/// An output error message naming the file.
fn output_error(output: &Option<Output>, e: &io::Error) -> String {
    match output.as_ref().and_then(Output::path) {
        Some(p) => format!("{}: {e}", p.display()),
        None => format!("stdout: {e}"),
    }
}

impl Session for GetSession {
    fn receive(&mut self, now: Instant, data: &[u8]) {
        self.last_activity = now;
        self.timings.first_byte.get_or_insert(now);
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
            self.fail(
                Exit::Malformed,
                stage,
                "the connection closed too early".into(),
            );
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.outcome.is_some() {
            return;
        }
        if let Some(deadline) = self.deadline
            && now >= deadline
        {
            let stage = self.stage();
            self.fail(
                Exit::Timeout,
                stage,
                "the transfer took longer than --max-time".into(),
            );
            return;
        }
        if let Some(read_deadline) = self.read_deadline()
            && now >= read_deadline
        {
            let stage = self.stage();
            let secs = self.read_timeout.unwrap_or_default().as_secs_f64();
            self.fail(
                Exit::Timeout,
                stage,
                format!("no byte from the server for {secs} s (the read timeout)"),
            );
            return;
        }
        self.conn.handle_timeout(clock::to_time(now));
        self.drain();
    }

    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>, budget: usize) {
        if self.timings.connected.is_none() {
            self.timings.connected = Some(now);
            self.last_activity = now;
            if let Some(head) = self.request_head.take() {
                eprintln!("{head}");
            }
        }
        if self.outcome.is_some() {
            return;
        }
        let before = out.len();
        if self.head_sent < self.head_bytes.len() {
            let n = budget.min(self.head_bytes.len() - self.head_sent);
            out.extend_from_slice(&self.head_bytes[self.head_sent..self.head_sent + n]);
            self.head_sent += n;
        } else if !self.request_done {
            self.transmit_body(now, out, budget);
        }
        if out.len() > before {
            self.last_activity = now;
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.outcome.is_some() {
            return None;
        }
        [
            self.read_deadline(),
            self.deadline,
            self.conn.poll_timeout().map(clock::to_instant),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn wants_read(&self) -> bool {
        self.outcome.is_none()
    }

    fn is_done(&self) -> bool {
        self.outcome.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse() {
        assert_eq!(
            content_range(b"bytes 10-19/100"),
            Some((Some(10), Some(100)))
        );
        assert_eq!(content_range(b"bytes */100"), Some((None, Some(100))));
        assert_eq!(content_range(b"bytes 0-9/*"), Some((Some(0), None)));
        assert_eq!(content_range(b"items 0-9/10"), None);
        assert_eq!(content_range(b"bytes x-9/10"), None);
    }
}
