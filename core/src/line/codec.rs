//! Line framing (docs/LINE.md "Framing"): bytes in, lines out, with a length limit and an optional
//! telnet layer underneath.

use bytes::{Buf, Bytes, BytesMut};

use super::telnet::{IAC, Telnet};

/// The default line limit: 8 KiB of content (docs/LINE.md), the terminator not counted.
pub const DEFAULT_MAX_LINE: usize = 8 * 1024;

/// When the telnet layer ([`Telnet`]) runs under the codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TelnetMode {
    /// Never: every byte is data.
    Off,
    /// From the first `IAC` (0xFF) byte the peer sends (docs/LINE.md: "on ... when the peer sends
    /// IAC"); the bytes before it are plain data.
    #[default]
    Auto,
    /// From the first byte.
    On,
}

/// Settings of a [`Codec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The longest line delivered, in bytes of content (without LF or CRLF). Longer lines are
    /// reported as [`LineEvent::TooLong`]. Default [`DEFAULT_MAX_LINE`].
    pub max_line: usize,
    /// When telnet commands are interpreted. Default [`TelnetMode::Auto`].
    pub telnet: TelnetMode,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_line: DEFAULT_MAX_LINE,
            telnet: TelnetMode::default(),
        }
    }
}

/// What the codec reports. `B` is [`Bytes`] for [`Codec::poll_event`] (owned slices of the
/// receive buffer, no copy) and `&[u8]` for [`Codec::poll_borrowed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent<B = Bytes> {
    /// A complete line, without its LF and without one CR before the LF.
    Line(B),
    /// A line passed the limit. Reported as soon as the limit is passed, so `dropped` is always
    /// `max_line + 1`, the bytes of the line seen at that point; the rest of the line, up to and
    /// including the next LF, is discarded without another event, and framing carries on after
    /// it. (A fixed count keeps the events independent of how the input was split.)
    TooLong {
        /// How many bytes of the line were dropped when the limit was passed.
        dropped: usize,
    },
    /// The end of the stream; the last event. `unterminated` is the last line when it had no LF
    /// (it is delivered as is: a final CR stays), `None` when the stream ended with LF (or inside
    /// an over-long line).
    Eof {
        /// The bytes after the last LF, if any.
        unterminated: Option<B>,
    },
}

/// What the scanner found, as positions in the buffer; turned into owned or borrowed events.
enum Found {
    /// A line: content `buf[..end]`, the next line starts at `next`.
    Line { end: usize, next: usize },
    /// The limit passed; the buffer has been dropped.
    TooLong,
    /// End of stream with `buf[..len]` as the unterminated line (`len` may be 0).
    Eof { len: usize },
}

/// The line codec: LF or CRLF framing with a length limit, resynchronising after over-long
/// lines, and an optional telnet layer.
///
/// The rule for callers: after [`Self::receive`] or [`Self::receive_eof`], call
/// [`Self::poll_event`] (or [`Self::poll_borrowed`]) until it returns `None`, and
/// [`Self::poll_transmit`] for the telnet answers. Memory is bounded by `max_line + 2` bytes plus
/// the input of one `receive` that has not been polled yet.
///
/// ```
/// use portline_core::line::{Codec, Config, LineEvent};
/// let mut codec = Codec::new(Config { max_line: 5, ..Config::default() });
/// codec.receive(b"one\r\ntoo long line\nt");
/// codec.receive(b"wo\nlast");
/// codec.receive_eof();
/// let mut events = Vec::new();
/// while let Some(e) = codec.poll_event() {
///     events.push(e);
/// }
/// assert_eq!(events, [
///     LineEvent::Line("one".into()),
///     LineEvent::TooLong { dropped: 6 },
///     LineEvent::Line("two".into()),
///     LineEvent::Eof { unterminated: Some("last".into()) },
/// ]);
/// ```
#[derive(Debug)]
pub struct Codec {
    config: Config,
    /// Received data not yet delivered (after `consumed`).
    buf: BytesMut,
    /// Bytes at the front of `buf` handed out by `poll_borrowed`, to drop on the next call.
    consumed: usize,
    /// `buf[consumed..consumed + scanned]` holds no LF (the scan resumes there).
    scanned: usize,
    /// Inside an over-long line that was already reported: drop input up to the next LF.
    discarding: bool,
    /// `receive_eof` was called.
    eof: bool,
    /// The `Eof` event was delivered.
    finished: bool,
    /// The telnet layer, once active.
    telnet: Option<Telnet>,
    /// Telnet output of the current `receive`, before it joins `buf`.
    scratch: Vec<u8>,
    /// Data given to `receive_bytes`, logically after `buf`, framed in place. Only non-empty
    /// while `buf` holds nothing but complete lines (or nothing) and no line is being discarded.
    input: Bytes,
}

impl Codec {
    /// A codec at the start of a stream.
    pub fn new(config: Config) -> Codec {
        Codec {
            config,
            buf: BytesMut::new(),
            consumed: 0,
            scanned: 0,
            discarding: false,
            eof: false,
            finished: false,
            telnet: match config.telnet {
                TelnetMode::On => Some(Telnet::new()),
                TelnetMode::Off | TelnetMode::Auto => None,
            },
            scratch: Vec::new(),
            input: Bytes::new(),
        }
    }

    // ----- getters -----

    /// The configuration given at construction.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the telnet layer is active (mode `On`, or `Auto` after the peer sent IAC).
    pub fn is_telnet(&self) -> bool {
        self.telnet.is_some()
    }

    /// How many received bytes wait to be delivered as lines.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.consumed + self.input.len()
    }

    /// True once the `Eof` event has been delivered: nothing more will come.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    // ----- inputs -----

    /// Bytes received from the peer. Bytes after [`Self::receive_eof`] are ignored.
    pub fn receive(&mut self, data: &[u8]) {
        if self.eof {
            return;
        }
        self.release();
        self.flush_input();
        if self.telnet.is_none() && self.config.telnet == TelnetMode::Auto {
            if let Some(i) = memchr::memchr(IAC, data) {
                self.accept(&data[..i]);
                self.telnet = Some(Telnet::new());
                self.receive_telnet(&data[i..]);
                return;
            }
        }
        if self.telnet.is_some() {
            self.receive_telnet(data);
        } else {
            self.accept(data);
        }
    }

    /// [`Self::receive`] for data that is already in a [`Bytes`] (e.g. a frontend's read buffer,
    /// frozen): complete lines are then delivered by [`Self::poll_event`] as slices of `data`
    /// itself, without copying; only a partial line at its end is copied into the codec. The
    /// events are exactly those of `receive(&data)`. (In telnet mode, or when `data` switches
    /// telnet on, it is `receive(&data)`.)
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portline_core::line::{Codec, Config, LineEvent};
    /// let mut codec = Codec::new(Config::default());
    /// let read = Bytes::from_static(b"one\r\ntw");
    /// codec.receive_bytes(read.clone());
    /// let Some(LineEvent::Line(one)) = codec.poll_event() else { panic!() };
    /// assert_eq!(one, "one");
    /// assert_eq!(one.as_ptr(), read.as_ptr(), "the same memory: no copy");
    /// codec.receive_bytes(Bytes::from_static(b"o\n"));
    /// assert_eq!(codec.poll_event(), Some(LineEvent::Line("two".into())));
    /// ```
    pub fn receive_bytes(&mut self, data: Bytes) {
        let plain = self.telnet.is_none()
            && (self.config.telnet == TelnetMode::Off || memchr::memchr(IAC, &data).is_none());
        if self.eof || !plain || !self.input.is_empty() {
            self.receive(&data);
            return;
        }
        self.release();
        let mut data = data;
        if self.discarding || self.buf.last().is_some_and(|b| *b != b'\n') {
            // Finish the partial (or discarded) line by copying up to its LF.
            let split = memchr::memchr(b'\n', &data).map_or(data.len(), |i| i + 1);
            self.accept(&data[..split]);
            data.advance(split);
        }
        if !data.is_empty() {
            self.input = data;
        }
    }

    /// The peer closed its sending side.
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// [`Self::receive`] followed by draining [`Self::poll_borrowed`] into `on_event`, but
    /// without copying: complete lines are handed out as slices of `data` itself, and only a
    /// trailing partial line is buffered. The events are exactly those of receive-then-drain.
    /// (In telnet mode, or when `data` switches telnet on, it falls back to exactly that.)
    ///
    /// ```
    /// use portline_core::line::{Codec, Config, LineEvent};
    /// let mut codec = Codec::new(Config::default());
    /// let mut lines = Vec::new();
    /// codec.receive_with(b"a\r\nb\nc", |e| {
    ///     if let LineEvent::Line(l) = e {
    ///         lines.push(l.to_vec())
    ///     }
    /// });
    /// codec.receive_with(b"d\n", |e| {
    ///     if let LineEvent::Line(l) = e {
    ///         lines.push(l.to_vec())
    ///     }
    /// });
    /// assert_eq!(lines, [b"a".to_vec(), b"b".to_vec(), b"cd".to_vec()]);
    /// ```
    pub fn receive_with<F: FnMut(LineEvent<&[u8]>)>(&mut self, data: &[u8], mut on_event: F) {
        let plain = self.telnet.is_none()
            && (self.config.telnet == TelnetMode::Off || memchr::memchr(IAC, data).is_none());
        if self.eof || !plain || !self.input.is_empty() {
            self.receive(data);
            while let Some(event) = self.poll_borrowed() {
                on_event(event);
            }
            return;
        }
        self.release();
        let mut rest = data;
        // Finish what is buffered (a partial line, or lines not yet polled) the ordinary way.
        if self.discarding || !self.buf.is_empty() {
            let split = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
            self.accept(&rest[..split]);
            rest = &rest[split..];
            while let Some(event) = self.poll_borrowed() {
                on_event(event);
            }
            self.release();
            if self.discarding || !self.buf.is_empty() {
                // No LF in `data` (or lines still buffered): nothing more to do directly.
                self.accept(rest);
                while let Some(event) = self.poll_borrowed() {
                    on_event(event);
                }
                return;
            }
        }
        // The buffer is empty and we are at the start of a line: frame `rest` in place.
        let max = self.config.max_line;
        while let Some(lf) = memchr::memchr(b'\n', rest) {
            let end = if lf > 0 && rest[lf - 1] == b'\r' {
                lf - 1
            } else {
                lf
            };
            if end > max {
                on_event(LineEvent::TooLong { dropped: max + 1 });
            } else {
                on_event(LineEvent::Line(&rest[..end]));
            }
            rest = &rest[lf + 1..];
        }
        // The partial line: buffered, or reported at once if already over the limit (the same
        // test as `scan`).
        self.accept(rest);
        while let Some(event) = self.poll_borrowed() {
            on_event(event);
        }
    }

    // ----- outputs -----

    /// The next event as owned slices of the receive buffer, or `None` when more input is needed
    /// (or after `Eof`).
    #[must_use]
    pub fn poll_event(&mut self) -> Option<LineEvent> {
        self.release();
        if self.buf.is_empty() && !self.input.is_empty() {
            if let Some(event) = self.scan_input() {
                return Some(event);
            }
        }
        Some(match self.scan()? {
            Found::Line { end, next } => {
                let mut line = self.buf.split_to(next);
                line.truncate(end);
                LineEvent::Line(line.freeze())
            }
            Found::TooLong => LineEvent::TooLong {
                dropped: self.config.max_line + 1,
            },
            Found::Eof { len } => LineEvent::Eof {
                unterminated: (len > 0).then(|| self.buf.split_to(len).freeze()),
            },
        })
    }

    /// The next event, borrowing the receive buffer: no reference count, no allocation. The
    /// line stays valid until the next call on the codec.
    #[must_use]
    pub fn poll_borrowed(&mut self) -> Option<LineEvent<&[u8]>> {
        self.release();
        if self.buf.is_empty() {
            // Borrowing needs the bytes in `buf`: copy what `receive_bytes` left.
            self.flush_input();
        }
        Some(match self.scan()? {
            Found::Line { end, next } => {
                self.consumed = next;
                LineEvent::Line(&self.buf[..end])
            }
            Found::TooLong => LineEvent::TooLong {
                dropped: self.config.max_line + 1,
            },
            Found::Eof { len } => {
                self.consumed = len;
                LineEvent::Eof {
                    unterminated: (len > 0).then(|| &self.buf[..len]),
                }
            }
        })
    }

    /// Append the telnet answers waiting to be sent (`IAC WONT x`, `IAC DONT x`) to `out`.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) {
        if let Some(telnet) = &mut self.telnet {
            telnet.poll_transmit(out);
        }
    }

    /// Whether [`Self::poll_transmit`] has bytes to give.
    pub fn has_transmit(&self) -> bool {
        self.telnet.as_ref().is_some_and(Telnet::has_transmit)
    }

    // ----- commands -----

    /// Append `line` and CRLF to `out`, with `0xFF` doubled when the telnet layer is active.
    pub fn encode_line(&self, line: &[u8], out: &mut Vec<u8>) {
        if self.telnet.is_some() {
            Telnet::escape(line, out);
            out.extend_from_slice(b"\r\n");
        } else {
            encode_line(line, out);
        }
    }

    // ----- internals -----

    /// The next line of `input` (`buf` being empty), as a slice of it; or, when `input` has no
    /// LF, move its partial line into `buf` and return `None` for `scan` to carry on.
    fn scan_input(&mut self) -> Option<LineEvent> {
        let Some(lf) = memchr::memchr(b'\n', &self.input) else {
            self.flush_input();
            return None;
        };
        let end = if lf > 0 && self.input[lf - 1] == b'\r' {
            lf - 1
        } else {
            lf
        };
        if end > self.config.max_line {
            self.input.advance(lf + 1);
            return Some(LineEvent::TooLong {
                dropped: self.config.max_line + 1,
            });
        }
        // `split_to` then `advance` past the terminator: one reference count per line
        // (`Bytes::truncate` would split and drop a second handle).
        let line = self.input.split_to(end);
        self.input.advance(lf + 1 - end);
        Some(LineEvent::Line(line))
    }

    /// Copy what is left of `input` into `buf` (keeping the order of bytes).
    fn flush_input(&mut self) {
        if !self.input.is_empty() {
            let input = core::mem::take(&mut self.input);
            self.accept(&input);
        }
    }

    /// Give back the capacity of the buffers that hold nothing now (received bytes all
    /// handed out, no telnet scratch): a connection waiting for its next line then keeps none
    /// (an idle connection's memory). A partial line stays, so nothing received is lost; the
    /// next input allocates again.
    pub fn release_idle(&mut self) {
        self.release();
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
            self.scanned = 0;
        }
        if self.scratch.is_empty() {
            self.scratch = Vec::new();
        }
    }

    /// Drop what `poll_borrowed` handed out.
    fn release(&mut self) {
        if self.consumed > 0 {
            self.buf.advance(self.consumed);
            self.consumed = 0;
        }
    }

    /// Data bytes (after the telnet layer): drop the tail of an over-long line, keep the rest.
    fn accept(&mut self, data: &[u8]) {
        let mut data = data;
        if self.discarding {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    self.discarding = false;
                    data = &data[i + 1..];
                }
                None => return,
            }
        }
        self.buf.extend_from_slice(data);
    }

    /// Run `data` through the active telnet layer, then [`Self::accept`] it.
    fn receive_telnet(&mut self, data: &[u8]) {
        let mut scratch = core::mem::take(&mut self.scratch);
        scratch.clear();
        if let Some(telnet) = &mut self.telnet {
            telnet.receive(data, &mut scratch);
        }
        self.accept(&scratch);
        self.scratch = scratch;
    }

    /// Find the next event in `buf` (after `release`). Resumes the LF search where it stopped.
    fn scan(&mut self) -> Option<Found> {
        if self.finished {
            return None;
        }
        let max = self.config.max_line;
        if let Some(i) = memchr::memchr(b'\n', &self.buf[self.scanned..]) {
            let lf = self.scanned + i;
            self.scanned = 0;
            let end = if lf > 0 && self.buf[lf - 1] == b'\r' {
                lf - 1
            } else {
                lf
            };
            if end > max {
                self.buf.advance(lf + 1);
                return Some(Found::TooLong);
            }
            return Some(Found::Line { end, next: lf + 1 });
        }
        let len = self.buf.len();
        self.scanned = len;
        // The content of the partial line is over the limit once it has more than `max + 1`
        // bytes, or exactly `max + 1` whose last is not a CR (a CR might still be the CR of CRLF).
        // At the end of stream there is no LF to come, so a final CR counts as content.
        let over =
            len > max + 1 || (len == max + 1 && (self.eof || self.buf.last() != Some(&b'\r')));
        if over {
            self.buf.clear();
            self.scanned = 0;
            self.discarding = !self.eof;
            return Some(Found::TooLong);
        }
        if self.eof {
            self.finished = true;
            self.scanned = 0;
            return Some(Found::Eof { len });
        }
        None
    }
}

/// Append `line` and CRLF to `out` (plain mode; see [`Codec::encode_line`] for telnet).
pub fn encode_line(line: &[u8], out: &mut Vec<u8>) {
    out.reserve(line.len() + 2);
    out.extend_from_slice(line);
    out.extend_from_slice(b"\r\n");
}
