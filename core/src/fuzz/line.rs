//! Fuzz bodies for the line protocol: the codec (plain and telnet), the telnet filter alone, and
//! the `info` service over TCP and UDP.
//!
//! Each body takes raw fuzz input, uses its first bytes as settings, and checks invariants with
//! `assert!`: no panic; split input gives the same events as whole input; lines respect the
//! limit; memory stays bounded; in plain mode the events equal a naive model's.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::Time;
use crate::line::{
    Codec, Config, LineEvent, ServiceKind, TcpService, Telnet, TelnetMode, UdpConfig, UdpService,
    World,
};
use crate::services::Services;

/// Cut `data` into chunks whose sizes come from `seed` (a small xorshift generator), 1 to 16
/// bytes, so every split point is exercised across runs.
fn chunks(data: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = u32::from(seed) | 0x9e37_7900;
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state % 16 + 1) as usize;
        let (head, tail) = rest.split_at(n.min(rest.len()));
        out.push(head);
        rest = tail;
    }
    out
}

/// Feed the chunks and drain after each; returns events and telnet answers. Checks the memory
/// bound after every drain.
fn run_codec(config: Config, parts: &[&[u8]]) -> (Vec<LineEvent>, Vec<u8>) {
    run_codec_with(config, parts, false)
}

/// [`run_codec`], feeding with `receive_bytes` when `as_bytes`.
fn run_codec_with(config: Config, parts: &[&[u8]], as_bytes: bool) -> (Vec<LineEvent>, Vec<u8>) {
    let mut codec = Codec::new(config);
    let mut events = Vec::new();
    let mut replies = Vec::new();
    for part in parts {
        if as_bytes {
            codec.receive_bytes(Bytes::copy_from_slice(part));
        } else {
            codec.receive(part);
        }
        while let Some(e) = codec.poll_event() {
            events.push(e);
        }
        // After draining, only a partial line within the limit (plus a possible CR) is kept.
        assert!(
            codec.buffered() <= config.max_line + 1,
            "buffer over the bound"
        );
        codec.poll_transmit(&mut replies);
    }
    codec.receive_eof();
    while let Some(e) = codec.poll_event() {
        events.push(e);
    }
    assert!(codec.is_finished());
    assert_eq!(codec.poll_event(), None);
    (events, replies)
}

/// Feed the chunks with `receive_with` (lines straight from the input slices).
fn run_direct(config: Config, parts: &[&[u8]]) -> Vec<LineEvent> {
    let own = |e: LineEvent<&[u8]>| match e {
        LineEvent::Line(l) => LineEvent::Line(Bytes::copy_from_slice(l)),
        LineEvent::TooLong { dropped } => LineEvent::TooLong { dropped },
        LineEvent::Eof { unterminated } => LineEvent::Eof {
            unterminated: unterminated.map(Bytes::copy_from_slice),
        },
    };
    let mut codec = Codec::new(config);
    let mut events = Vec::new();
    for part in parts {
        codec.receive_with(part, |e| events.push(own(e)));
        assert!(
            codec.buffered() <= config.max_line + 1,
            "buffer over the bound"
        );
    }
    codec.receive_eof();
    while let Some(e) = codec.poll_borrowed() {
        events.push(own(e));
    }
    events
}

/// The codec in plain mode, naively: split at every LF.
fn naive(stream: &[u8], max_line: usize) -> Vec<LineEvent> {
    let too_long = LineEvent::TooLong {
        dropped: max_line + 1,
    };
    let mut events = Vec::new();
    let mut pieces: Vec<&[u8]> = stream.split(|b| *b == b'\n').collect();
    let last = pieces.pop().unwrap_or_default();
    for piece in pieces {
        let line = piece.strip_suffix(b"\r").unwrap_or(piece);
        events.push(if line.len() > max_line {
            too_long.clone()
        } else {
            LineEvent::Line(Bytes::copy_from_slice(line))
        });
    }
    if last.len() > max_line {
        events.push(too_long);
        events.push(LineEvent::Eof { unterminated: None });
    } else {
        events.push(LineEvent::Eof {
            unterminated: (!last.is_empty()).then(|| Bytes::copy_from_slice(last)),
        });
    }
    events
}

/// Inputs are cut to this many bytes. `max_line` is at most 255 and the codec buffers at most
/// `max_line + 1` bytes, so 512 bytes hold a line over the largest limit followed by a line at
/// it; longer streams only repeat states their first half reaches, while every byte costs a pass
/// through the codec in each run (`.ci/run` gives libFuzzer the same `-max_len`).
const MAX_STREAM: usize = 512;

/// Cut `data` into pieces for a split run: one byte at a time when `seed % 8 == 0` (the hardest
/// split for resumable scanning), else [`chunks`].
fn split_for(data: &[u8], seed: u8) -> Vec<&[u8]> {
    if seed % 8 == 0 {
        data.chunks(1).collect()
    } else {
        chunks(data, seed)
    }
}

/// The line codec. Input: `[max_line, mode, seed, stream...]`.
///
/// Each run compares the whole stream with one split of it, fed through one of the three ways in
/// (`receive`, `receive_bytes`, `receive_with`), chosen by `seed`: over many runs every way meets
/// every kind of split, and each run costs two passes through the codec (plus the naive model in
/// plain mode).
pub fn codec(data: &[u8]) {
    let [max_line, mode, seed, stream @ ..] = data else {
        return;
    };
    let stream = &stream[..stream.len().min(MAX_STREAM)];
    let config = Config {
        max_line: usize::from(*max_line),
        telnet: match mode % 3 {
            0 => TelnetMode::Off,
            1 => TelnetMode::Auto,
            _ => TelnetMode::On,
        },
    };
    let whole = run_codec(config, &[stream]);
    let parts = split_for(stream, *seed);
    match (seed / 8) % 3 {
        0 => assert_eq!(
            whole,
            run_codec(config, &parts),
            "split input changed the events"
        ),
        1 => assert_eq!(
            whole,
            run_codec_with(config, &parts, true),
            "receive_bytes changed the events"
        ),
        _ => assert_eq!(run_direct(config, &parts), whole.0, "receive_with differs"),
    }
    let (events, replies) = whole;
    let mut delivered = 0;
    for e in &events {
        match e {
            LineEvent::Line(l) => {
                assert!(l.len() <= config.max_line);
                assert!(!l.contains(&b'\n'));
                delivered += l.len();
            }
            LineEvent::TooLong { dropped } => assert_eq!(*dropped, config.max_line + 1),
            LineEvent::Eof { unterminated } => {
                delivered += unterminated.as_ref().map_or(0, Bytes::len);
            }
        }
    }
    assert!(delivered <= stream.len());
    assert!(matches!(events.last(), Some(LineEvent::Eof { .. })));
    if config.telnet == TelnetMode::Off {
        assert!(replies.is_empty());
        assert_eq!(events, naive(stream, config.max_line));
    }
}

/// The telnet filter alone. Input: `[seed, stream...]` (the stream cut to `MAX_STREAM`).
pub fn telnet(data: &[u8]) {
    let [seed, stream @ ..] = data else {
        return;
    };
    let run = |parts: &[&[u8]]| {
        let mut t = Telnet::new();
        let mut out = Vec::new();
        let mut replies = Vec::new();
        for part in parts {
            t.receive(part, &mut out);
            t.poll_transmit(&mut replies);
        }
        (out, replies)
    };
    let stream = &stream[..stream.len().min(MAX_STREAM)];
    let (out, replies) = run(&[stream]);
    assert!(out.len() <= stream.len());
    assert!(replies.len() <= stream.len());
    assert_eq!(replies.len() % 3, 0);
    // One split per run (byte by byte one time in eight), as in [`codec`].
    assert_eq!(run(&split_for(stream, *seed)), (out.clone(), replies));
    // Escaping the output and filtering it again gives it back unchanged.
    let mut escaped = Vec::new();
    Telnet::escape(&out, &mut escaped);
    let mut again = Vec::new();
    let mut t = Telnet::new();
    t.receive(&escaped, &mut again);
    // CR NUL pairs in `out` would be folded again; only compare when there are none.
    if !out.windows(2).any(|w| w == b"\r\0") {
        assert_eq!(again, out);
    }
}

/// The `info` service over TCP (split vs whole, with small transmit budgets) and UDP.
/// Input: `[max_line, seed, budget, stream...]`.
pub fn info(data: &[u8]) {
    let [max_line, seed, budget, stream @ ..] = data else {
        return;
    };
    let stream = &stream[..stream.len().min(MAX_STREAM)];
    // Built once per process: parsing the services table on every run cost more than the run.
    static WORLD: OnceLock<Arc<World>> = OnceLock::new();
    let world = WORLD.get_or_init(|| {
        Arc::new(World {
            hostname: "fuzz".into(),
            addresses: vec![core::net::IpAddr::from([127, 0, 0, 1])],
            services: Services::builtin(),
        })
    });
    let wall = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let config = Config {
        max_line: usize::from(*max_line),
        telnet: TelnetMode::Auto,
    };
    let budget = usize::from(*budget) + 1;
    let run = |parts: &[&[u8]]| -> Vec<u8> {
        let mut s = TcpService::new(ServiceKind::Info, world.clone(), config);
        s.on_connect(wall);
        let mut out = Vec::new();
        for part in parts {
            s.receive(wall, part);
            // A few polls within the budget after each read, not one per byte until empty (one
            // poll per byte of a `HELP` reply, half a kilobyte, was most of a run): the budgeted
            // path is the same on every poll. With an odd budget what is left waits into the
            // next read, as it does for a slow reader; with an even one it is flushed.
            for _ in 0..BUDGETED_POLLS {
                let before = out.len();
                s.poll_transmit(&mut out, budget);
                assert!(out.len() - before <= budget, "over the budget");
            }
            if budget % 2 == 0 {
                s.poll_transmit(&mut out, usize::MAX);
            }
        }
        s.receive_eof(wall);
        s.poll_transmit(&mut out, usize::MAX);
        assert!(s.is_done());
        assert!(!s.wants_read());
        out
    };
    // Telnet refusals are queued when bytes arrive, replies when lines are complete, so how the
    // two interleave depends on the split; each of the two streams must not.
    let whole = separate(&run(&[stream]));
    let split = separate(&run(&chunks(stream, *seed)));
    assert_eq!(split, whole, "split input changed the replies");

    let mut udp = UdpService::new(ServiceKind::Info, world.clone(), UdpConfig::default());
    let mut out = Vec::new();
    let source = core::net::SocketAddr::from(([127, 0, 0, 1], 40000));
    // The rate limit answers 20 datagrams per second from one source; past a few more, every
    // datagram takes the same refused path.
    for datagram in stream.split(|b| *b == 0).take(MAX_DATAGRAMS) {
        out.clear();
        let replied = udp.handle_datagram(
            Time::ZERO,
            SystemTime::UNIX_EPOCH,
            source,
            datagram,
            &mut out,
        );
        assert_eq!(replied, !out.is_empty());
    }
}

/// Budget-limited `poll_transmit` calls after each read in [`info`].
const BUDGETED_POLLS: usize = 3;

/// Datagrams per run in [`info`]: the rate limit's 20 per second, and some refused.
const MAX_DATAGRAMS: usize = 24;

/// Split telnet output into (data with `IAC IAC` undone, the `IAC DONT|WONT x` refusals).
fn separate(out: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut data = Vec::with_capacity(out.len());
    let mut refusals = Vec::new();
    let mut rest = out;
    // Runs without IAC are copied whole (a byte loop here cost a tenth of the `info` run).
    while let Some(i) = memchr::memchr(0xff, rest) {
        data.extend_from_slice(&rest[..i]);
        match rest.get(i + 1) {
            Some(0xff) => {
                data.push(0xff);
                rest = &rest[i + 2..];
            }
            Some(_) => {
                let end = (i + 3).min(rest.len());
                refusals.extend_from_slice(&rest[i..end]);
                rest = &rest[end..];
            }
            None => panic!("a lone IAC at the end of the output"),
        }
    }
    data.extend_from_slice(rest);
    (data, refusals)
}
