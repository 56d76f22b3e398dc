//! The line services of docs/LINE.md as pure state machines: [`TcpService`] over the codec for a
//! stream, [`UdpService`] for datagrams.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use core::fmt;
use core::net::{IpAddr, SocketAddr};
use core::str::FromStr;

use super::codec::{Codec, Config, LineEvent, TelnetMode};
use super::info::{self, Outcome};
use super::telnet::Telnet;
use crate::Time;
use crate::services::Services;

/// Which service to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ServiceKind {
    /// RFC 862: TCP sends back exactly the bytes received, paced by the reader (no line
    /// framing, no CRLF conversion); only with [`TelnetMode::On`] is it line-based (telnet
    /// commands answered, each line sent back with CRLF). UDP sends each datagram back as is,
    /// even when empty.
    Echo,
    /// RFC 863: everything is read and dropped.
    Discard,
    /// RFC 867: the date and time, one line, then close. The format is the IMF-fixdate of
    /// RFC 9110 (RFC 2822 style, always UTC): `Thu, 26 Nov 2026 06:15:53 GMT`.
    Daytime,
    /// RFC 864: 72-character rotating lines of the 95 printable ASCII characters.
    Chargen,
    /// The `info` command service (docs/LINE.md). The default.
    #[default]
    Info,
}

impl ServiceKind {
    /// Every service, in the order of docs/LINE.md's table.
    pub const ALL: [ServiceKind; 5] = [
        ServiceKind::Echo,
        ServiceKind::Discard,
        ServiceKind::Daytime,
        ServiceKind::Chargen,
        ServiceKind::Info,
    ];

    /// The lower-case name, as on the command line (`echo`, ..., `info`).
    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Echo => "echo",
            ServiceKind::Discard => "discard",
            ServiceKind::Daytime => "daytime",
            ServiceKind::Chargen => "chargen",
            ServiceKind::Info => "info",
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of the services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownService(pub String);

impl fmt::Display for UnknownService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown service {:?} (expected echo, discard, daytime, chargen or info)",
            self.0
        )
    }
}

impl std::error::Error for UnknownService {}

impl FromStr for ServiceKind {
    type Err = UnknownService;

    /// Parse a name as [`ServiceKind::name`] gives it, case-insensitively.
    fn from_str(s: &str) -> Result<ServiceKind, UnknownService> {
        ServiceKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownService(s.to_owned()))
    }
}

/// What the services know about the world, gathered by the frontend: the host for `HOST` and
/// the greeting, the services table for `SERVICE`. (Wall-clock time is an argument of each
/// input instead, as it changes.)
#[derive(Debug, Clone, Default)]
pub struct World {
    /// The host name, e.g. from `gethostname`.
    pub hostname: String,
    /// The host's addresses, in the order `HOST` lists them.
    pub addresses: Vec<IpAddr>,
    /// The services table (`/etc/services` or [`Services::builtin`]).
    pub services: Services,
}

/// `daytime`'s line: `Thu, 26 Nov 2026 06:15:53 GMT` (without the CRLF).
pub fn daytime_text(wall: SystemTime) -> String {
    httpdate::fmt_http_date(info::clamp_wall(wall))
}

/// The 95 printable ASCII characters twice, so that any 72 consecutive ones are one slice.
const RING: [u8; 190] = {
    let mut ring = [0u8; 190];
    let mut i = 0;
    while i < 190 {
        ring[i] = b' ' + (i % 95) as u8;
        i += 1;
    }
    ring
};

/// Characters per chargen line (RFC 864), without CRLF.
const CHARGEN_WIDTH: usize = 72;
/// Bytes per chargen line, with CRLF.
const CHARGEN_LINE: usize = CHARGEN_WIDTH + 2;

/// Line `k` of the chargen pattern, with CRLF.
fn chargen_line(k: u64) -> [u8; CHARGEN_LINE] {
    let start = (k % 95) as usize;
    let mut line = [0u8; CHARGEN_LINE];
    line[..CHARGEN_WIDTH].copy_from_slice(&RING[start..start + CHARGEN_WIDTH]);
    line[CHARGEN_WIDTH..].copy_from_slice(b"\r\n");
    line
}

/// The infinite chargen stream, produced in pieces of any size.
#[derive(Debug, Clone, Default)]
struct Chargen {
    /// Bytes produced so far.
    pos: u64,
}

impl Chargen {
    /// Append the next `n` bytes of the stream.
    fn fill(&mut self, out: &mut Vec<u8>, n: usize) {
        out.reserve(n);
        let mut left = n;
        while left > 0 {
            let line = chargen_line(self.pos / CHARGEN_LINE as u64);
            let col = (self.pos % CHARGEN_LINE as u64) as usize;
            let take = (CHARGEN_LINE - col).min(left);
            out.extend_from_slice(&line[col..col + take]);
            self.pos += take as u64;
            left -= take;
        }
    }
}

/// Reading stops ([`TcpService::wants_read`] is false) while more than this many reply bytes
/// wait to be transmitted: a peer that sends without reading cannot grow memory.
pub const MAX_PENDING: usize = 64 * 1024;

/// One TCP connection of a line service.
///
/// Inputs: [`Self::on_connect`] once, then [`Self::receive`] and [`Self::receive_eof`]. Output:
/// [`Self::poll_transmit`] with the number of bytes the caller can take; call it until it
/// appends nothing, write, and call it again when the socket can take more. Close the socket
/// once [`Self::is_done`] and the output is written. Wall-clock time comes in as `wall`.
///
/// ```
/// use std::sync::Arc;
/// use std::time::SystemTime;
/// use portline_core::line::{Config, ServiceKind, TcpService, World};
/// let world = Arc::new(World { hostname: "box".into(), ..World::default() });
/// let mut s = TcpService::new(ServiceKind::Echo, world, Config::default());
/// s.on_connect(SystemTime::UNIX_EPOCH);
/// s.receive(SystemTime::UNIX_EPOCH, b"hello\n\xff\x00");
/// s.receive_eof(SystemTime::UNIX_EPOCH);
/// let mut out = Vec::new();
/// s.poll_transmit(&mut out, 1024);
/// assert_eq!(out, b"hello\n\xff\x00"); // RFC 862: exactly the bytes received
/// assert!(s.is_done());
/// ```
#[derive(Debug)]
pub struct TcpService {
    kind: ServiceKind,
    world: Arc<World>,
    codec: Codec,
    /// Reply bytes waiting for `poll_transmit`.
    pending: Vec<u8>,
    /// Scratch space for one reply before telnet escaping.
    scratch: Vec<u8>,
    chargen: Chargen,
    /// `echo` of bytes rather than lines (every telnet mode but [`TelnetMode::On`]).
    raw_echo: bool,
    /// The service has finished (QUIT, daytime sent, peer closed): no more output will be
    /// produced beyond `pending`, and input is ignored.
    closing: bool,
}

impl TcpService {
    /// A service for a new connection. `config` sets the line limit and the telnet mode.
    pub fn new(kind: ServiceKind, world: Arc<World>, config: Config) -> TcpService {
        TcpService {
            kind,
            world,
            codec: Codec::new(config),
            pending: Vec::new(),
            scratch: Vec::new(),
            chargen: Chargen::default(),
            raw_echo: kind == ServiceKind::Echo && config.telnet != TelnetMode::On,
            closing: false,
        }
    }

    // ----- getters -----

    /// Which service this is.
    pub fn kind(&self) -> ServiceKind {
        self.kind
    }

    /// Whether reading from the socket is useful now: false after end of stream, once the
    /// service has finished, and while over [`MAX_PENDING`] reply bytes wait.
    pub fn wants_read(&self) -> bool {
        !self.closing && self.pending.len() <= MAX_PENDING
    }

    /// True when every byte has been handed out by [`Self::poll_transmit`] and the connection
    /// should be closed once they are written.
    pub fn is_done(&self) -> bool {
        self.closing && self.pending.is_empty() && !self.codec.has_transmit()
    }

    // ----- inputs -----

    /// The connection waits for input with every reply handed out: give back the capacity of
    /// the buffers that hold nothing (replies, scratch, the codec's), so an idle connection
    /// holds none. Input received but not yet a whole line is kept.
    pub fn release_idle(&mut self) {
        if self.pending.is_empty() {
            self.pending = Vec::new();
        }
        self.scratch = Vec::new();
        self.codec.release_idle();
    }

    /// The connection is established: `info` greets, `daytime` says the time and finishes.
    pub fn on_connect(&mut self, wall: SystemTime) {
        match self.kind {
            ServiceKind::Info => {
                let mut scratch = core::mem::take(&mut self.scratch);
                scratch.clear();
                info::greeting(&self.world, &mut scratch);
                self.push_reply(&scratch);
                self.scratch = scratch;
            }
            ServiceKind::Daytime => {
                let line = daytime_text(wall);
                self.codec.encode_line(line.as_bytes(), &mut self.pending);
                self.closing = true;
            }
            ServiceKind::Echo | ServiceKind::Discard | ServiceKind::Chargen => {}
        }
    }

    /// Bytes from the peer. `wall` is the current wall-clock time (for `TIME`).
    pub fn receive(&mut self, wall: SystemTime, data: &[u8]) {
        if self.closing {
            return;
        }
        match self.kind {
            // Input is read and dropped.
            ServiceKind::Discard | ServiceKind::Daytime | ServiceKind::Chargen => {}
            // RFC 862: exactly the bytes received. `wants_read` stops reading while more than
            // MAX_PENDING wait, so memory is bounded by that plus one read.
            ServiceKind::Echo if self.raw_echo => self.pending.extend_from_slice(data),
            ServiceKind::Echo => {
                self.codec.receive(data);
                self.drain(wall);
            }
            ServiceKind::Info => {
                // One line at a time, so that nothing after `QUIT` is even looked at (not even
                // telnet commands, whose refusals would otherwise depend on how reads split).
                for part in data.split_inclusive(|b| *b == b'\n') {
                    self.codec.receive(part);
                    self.drain(wall);
                    if self.closing {
                        break;
                    }
                }
            }
        }
    }

    /// The peer closed its sending side. `echo` and `info` answer what is left (an
    /// unterminated last line counts) and finish; the others finish at once.
    pub fn receive_eof(&mut self, wall: SystemTime) {
        if !self.closing {
            self.codec.receive_eof();
            self.drain(wall);
        }
        self.closing = true;
    }

    // ----- outputs -----

    /// Append at most `budget` bytes ready to be sent to `out`: telnet answers and replies, and
    /// for `chargen` the next piece of the pattern (it never runs ahead of the reader).
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>, budget: usize) {
        self.codec.poll_transmit(&mut self.pending);
        let n = self.pending.len().min(budget);
        out.extend_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        if self.kind == ServiceKind::Chargen && !self.closing {
            self.chargen.fill(out, budget - n);
        }
    }

    // ----- internals -----

    /// Queue a reply, escaping IAC when the telnet layer is active.
    fn push_reply(&mut self, reply: &[u8]) {
        if self.codec.is_telnet() {
            Telnet::escape(reply, &mut self.pending);
        } else {
            self.pending.extend_from_slice(reply);
        }
    }

    /// Handle every line the codec has.
    fn drain(&mut self, wall: SystemTime) {
        let mut scratch = core::mem::take(&mut self.scratch);
        while let Some(event) = self.codec.poll_borrowed() {
            scratch.clear();
            let line = match event {
                LineEvent::Line(line) => Some(line),
                LineEvent::Eof { unterminated } => unterminated,
                LineEvent::TooLong { .. } => {
                    if self.kind == ServiceKind::Info {
                        info::too_long(&mut scratch);
                    }
                    None
                }
            };
            if let Some(line) = line {
                match self.kind {
                    ServiceKind::Echo => {
                        scratch.extend_from_slice(line);
                        scratch.extend_from_slice(b"\r\n");
                    }
                    ServiceKind::Info => {
                        if info::command(&self.world, wall, line, &mut scratch) == Outcome::Quit {
                            self.closing = true;
                        }
                    }
                    ServiceKind::Discard | ServiceKind::Daytime | ServiceKind::Chargen => {}
                }
            }
            self.push_reply(&scratch);
            if self.closing {
                break;
            }
        }
        scratch.clear();
        self.scratch = scratch;
        self.codec.poll_transmit(&mut self.pending);
    }
}

/// Settings of a [`UdpService`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpConfig {
    /// The longest `info` command, as for the codec. Default 8 KiB.
    pub max_line: usize,
    /// Replies per source address per second. Default 20.
    pub replies_per_second: u32,
    /// How many sources the rate table tracks at once. When it is full of sources seen within
    /// the last second, datagrams from new sources get no reply (fail closed). Default 4096.
    pub max_sources: usize,
}

impl Default for UdpConfig {
    fn default() -> UdpConfig {
        UdpConfig {
            max_line: super::DEFAULT_MAX_LINE,
            replies_per_second: 20,
            max_sources: 4096,
        }
    }
}

/// The source ports never answered: the ports of echo (7), daytime (13), qotd (17) and chargen
/// (19), which answer every datagram, so two of them could bounce a datagram forever; and 0,
/// which no real socket sends from.
pub const UDP_REFUSED_PORTS: [u16; 5] = [0, 7, 13, 17, 19];

/// The per-source reply budget: a fixed one-second window per source address.
#[derive(Debug, Clone)]
struct RateLimiter {
    per_second: u32,
    max_sources: usize,
    /// Source -> (start of its window, replies in it).
    table: HashMap<IpAddr, (Time, u32)>,
}

impl RateLimiter {
    const WINDOW: Duration = Duration::from_secs(1);

    /// Whether `source` may get a reply at `now`; counts it if so.
    fn allow(&mut self, now: Time, source: IpAddr) -> bool {
        if !self.table.contains_key(&source) && self.table.len() >= self.max_sources {
            self.table
                .retain(|_, (start, _)| now.saturating_duration_since(*start) < Self::WINDOW);
            if self.table.len() >= self.max_sources {
                return false;
            }
        }
        let (start, count) = self.table.entry(source).or_insert((now, 0));
        if now.saturating_duration_since(*start) >= Self::WINDOW {
            *start = now;
            *count = 0;
        }
        if *count < self.per_second {
            *count += 1;
            true
        } else {
            false
        }
    }
}

/// A line service over UDP: one datagram in, at most one out (docs/LINE.md), with the UDP safety
/// rules: no reply to the source ports in [`UDP_REFUSED_PORTS`], and at most
/// [`UdpConfig::replies_per_second`] replies per source address per second.
///
/// ```
/// use std::sync::Arc;
/// use std::time::SystemTime;
/// use portline_core::{Time, line::{ServiceKind, UdpConfig, UdpService, World}};
/// let mut s = UdpService::new(ServiceKind::Echo, Arc::new(World::default()), UdpConfig::default());
/// let mut out = Vec::new();
/// let peer = "127.0.0.1:5000".parse().unwrap();
/// assert!(s.handle_datagram(Time::ZERO, SystemTime::UNIX_EPOCH, peer, b"ping", &mut out));
/// assert_eq!(out, b"ping");
/// ```
#[derive(Debug, Clone)]
pub struct UdpService {
    kind: ServiceKind,
    world: Arc<World>,
    config: UdpConfig,
    limiter: RateLimiter,
    /// The chargen line the next datagram starts with.
    chargen_line: u64,
}

impl UdpService {
    /// A service for one UDP socket.
    pub fn new(kind: ServiceKind, world: Arc<World>, config: UdpConfig) -> UdpService {
        UdpService {
            kind,
            world,
            config,
            limiter: RateLimiter {
                per_second: config.replies_per_second,
                max_sources: config.max_sources,
                table: HashMap::new(),
            },
            chargen_line: 0,
        }
    }

    /// Which service this is.
    pub fn kind(&self) -> ServiceKind {
        self.kind
    }

    /// A datagram `data` from `source` arrived at `now` (monotonic, for the rate budget), with
    /// the wall clock at `wall`. Appends the reply datagram to `out` and returns true (the reply
    /// may be empty: `echo` of an empty datagram), or returns false (and appends nothing) when
    /// there is no reply.
    pub fn handle_datagram(
        &mut self,
        now: Time,
        wall: SystemTime,
        source: SocketAddr,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        if self.kind == ServiceKind::Discard || UDP_REFUSED_PORTS.contains(&source.port()) {
            return false;
        }
        if !self.limiter.allow(now, source.ip()) {
            return false;
        }
        match self.kind {
            ServiceKind::Echo => out.extend_from_slice(data),
            ServiceKind::Discard => return false,
            ServiceKind::Daytime => {
                out.extend_from_slice(daytime_text(wall).as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            ServiceKind::Chargen => {
                // Whole lines, at most 512 bytes (RFC 864: "between 0 and 512 characters").
                for k in 0..(512 / CHARGEN_LINE) as u64 {
                    out.extend_from_slice(&chargen_line(self.chargen_line + k));
                }
                self.chargen_line = (self.chargen_line + 1) % 95;
            }
            ServiceKind::Info => {
                // One command per datagram: the first line, LF or CRLF optional.
                let line = match memchr::memchr(b'\n', data) {
                    Some(i) => &data[..i],
                    None => data,
                };
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.len() > self.config.max_line {
                    info::too_long(out);
                } else {
                    let _ = info::command(&self.world, wall, line, out);
                }
            }
        }
        true
    }
}
