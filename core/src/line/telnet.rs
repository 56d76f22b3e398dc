//! The telnet layer (RFC 854): a byte filter under the line codec.
//!
//! What it does, whatever the split of the input across calls:
//! - `IAC IAC` is the data byte `0xFF`;
//! - `IAC DO x` is refused with `IAC WONT x`, `IAC WILL x` with `IAC DONT x` (bytes to write,
//!   collected for [`Telnet::poll_transmit`]); `IAC DONT x` and `IAC WONT x` need no answer, since
//!   every option is already off;
//! - `IAC SB ... IAC SE` and every other command (`NOP`, `GA`, `AYT`, ...) are swallowed;
//! - `CR NUL` is `CR` (RFC 854 "the sequence CR NUL must be treated as a bare CR").
//!
//! We never offer an option, so the refusals cannot start a negotiation loop (RFC 1143's concern).

/// `IAC`: "interpret as command".
pub const IAC: u8 = 255;
/// `DONT option`: please stop using the option.
pub const DONT: u8 = 254;
/// `DO option`: please use the option.
pub const DO: u8 = 253;
/// `WONT option`: I will not use the option.
pub const WONT: u8 = 252;
/// `WILL option`: I want to use the option.
pub const WILL: u8 = 251;
/// `SB`: start of subnegotiation.
pub const SB: u8 = 250;
/// `SE`: end of subnegotiation.
pub const SE: u8 = 240;

/// At most this many reply bytes wait for [`Telnet::poll_transmit`]; refusals beyond it are
/// dropped (a peer that floods `DO` without reading gets no unbounded queue).
pub const MAX_PENDING_REPLIES: usize = 4096;

/// Where the filter is inside a command sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Ordinary data.
    Data,
    /// The last data byte was CR: a NUL now is dropped.
    Cr,
    /// After `IAC`.
    Iac,
    /// After `IAC WILL|WONT|DO|DONT`: the option byte comes next.
    Option(u8),
    /// Inside `IAC SB ...`.
    Sb,
    /// After `IAC` inside a subnegotiation.
    SbIac,
}

/// The telnet filter: [`Telnet::receive`] turns received bytes into data bytes, and collects the
/// refusals to send back.
///
/// ```
/// use portline_core::line::Telnet;
/// let mut t = Telnet::new();
/// let mut data = Vec::new();
/// t.receive(b"hi\xff", &mut data); // IAC split from its command
/// t.receive(b"\xfd\x01\xff\xffx\r\0", &mut data); // DO ECHO, IAC IAC, CR NUL
/// assert_eq!(data, b"hi\xffx\r");
/// let mut out = Vec::new();
/// t.poll_transmit(&mut out);
/// assert_eq!(out, [0xff, 0xfc, 0x01]); // WONT ECHO
/// ```
#[derive(Debug, Clone)]
pub struct Telnet {
    state: State,
    replies: Vec<u8>,
}

impl Default for Telnet {
    fn default() -> Telnet {
        Telnet::new()
    }
}

impl Telnet {
    /// A filter at the start of a stream.
    pub fn new() -> Telnet {
        Telnet {
            state: State::Data,
            replies: Vec::new(),
        }
    }

    /// Whether refusals are waiting for [`Self::poll_transmit`].
    pub fn has_transmit(&self) -> bool {
        !self.replies.is_empty()
    }

    /// Filter `input`: append its data bytes to `data`, queue the answers to its commands.
    pub fn receive(&mut self, input: &[u8], data: &mut Vec<u8>) {
        let mut rest = input;
        while !rest.is_empty() {
            if self.state == State::Data {
                // Fast path: copy the run up to the next IAC, CR or NUL-relevant byte in one go.
                let run = memchr::memchr2(IAC, b'\r', rest).unwrap_or(rest.len());
                data.extend_from_slice(&rest[..run]);
                rest = &rest[run..];
                let Some((&b, tail)) = rest.split_first() else {
                    break;
                };
                rest = tail;
                if b == IAC {
                    self.state = State::Iac;
                } else {
                    data.push(b'\r');
                    self.state = State::Cr;
                }
                continue;
            }
            let (&b, tail) = rest
                .split_first()
                .expect("loop condition: rest is not empty");
            rest = tail;
            self.step(b, data);
        }
    }

    /// One byte in a state other than plain data.
    fn step(&mut self, b: u8, data: &mut Vec<u8>) {
        self.state = match self.state {
            State::Data | State::Cr => match b {
                0 if self.state == State::Cr => State::Data,
                IAC => State::Iac,
                b'\r' => {
                    data.push(b);
                    State::Cr
                }
                _ => {
                    data.push(b);
                    State::Data
                }
            },
            State::Iac => match b {
                IAC => {
                    data.push(IAC);
                    State::Data
                }
                WILL | WONT | DO | DONT => State::Option(b),
                SB => State::Sb,
                // SE outside a subnegotiation, NOP, DM, BRK, IP, AO, AYT, EC, EL, GA, and
                // undefined codes: swallowed.
                _ => State::Data,
            },
            State::Option(command) => {
                let answer = match command {
                    DO => Some(WONT),
                    WILL => Some(DONT),
                    _ => None,
                };
                match answer {
                    Some(answer) if self.replies.len() + 3 <= MAX_PENDING_REPLIES => {
                        self.replies.extend_from_slice(&[IAC, answer, b]);
                    }
                    _ => {}
                }
                State::Data
            }
            State::Sb => match b {
                IAC => State::SbIac,
                _ => State::Sb,
            },
            State::SbIac => match b {
                SE => State::Data,
                // IAC IAC is an escaped 0xFF inside the subnegotiation; anything else is
                // malformed and, leniently, still part of it.
                _ => State::Sb,
            },
        };
    }

    /// Append the queued answers (`IAC WONT x`, `IAC DONT x`) to `out`.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.replies);
    }

    /// Append `data` to `out` with every `0xFF` doubled (`IAC IAC`), as data must be sent on a
    /// telnet connection.
    pub fn escape(data: &[u8], out: &mut Vec<u8>) {
        let mut rest = data;
        while let Some(i) = memchr::memchr(IAC, rest) {
            out.extend_from_slice(&rest[..=i]);
            out.push(IAC);
            rest = &rest[i + 1..];
        }
        out.extend_from_slice(rest);
    }
}
