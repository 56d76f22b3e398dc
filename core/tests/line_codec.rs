//! The line codec and its telnet layer: a table of cases, each run whole, one byte at a time, and
//! with trailing bytes that must be left alone; property tests against a naive model.

use bytes::Bytes;
use portline_core::line::{Codec, Config, LineEvent, Telnet, TelnetMode, encode_line};
use proptest::prelude::*;

/// Feed `chunks`, then end of stream if `eof`; drain after every input. Returns the events (owned
/// API), the telnet answers, and the codec.
fn run(config: Config, chunks: &[&[u8]], eof: bool) -> (Vec<LineEvent>, Vec<u8>, Codec) {
    let mut codec = Codec::new(config);
    let mut events = Vec::new();
    let mut replies = Vec::new();
    for chunk in chunks {
        codec.receive(chunk);
        while let Some(e) = codec.poll_event() {
            events.push(e);
        }
        codec.poll_transmit(&mut replies);
    }
    if eof {
        codec.receive_eof();
        while let Some(e) = codec.poll_event() {
            events.push(e);
        }
    }
    (events, replies, codec)
}

/// Like [`run`] with the borrowing API, converted to owned events for comparison.
fn run_borrowed(config: Config, chunks: &[&[u8]], eof: bool) -> Vec<LineEvent> {
    let mut codec = Codec::new(config);
    let mut events = Vec::new();
    let own = |e: LineEvent<&[u8]>| match e {
        LineEvent::Line(l) => LineEvent::Line(Bytes::copy_from_slice(l)),
        LineEvent::TooLong { dropped } => LineEvent::TooLong { dropped },
        LineEvent::Eof { unterminated } => LineEvent::Eof {
            unterminated: unterminated.map(Bytes::copy_from_slice),
        },
    };
    for chunk in chunks {
        codec.receive(chunk);
        while let Some(e) = codec.poll_borrowed() {
            events.push(own(e));
        }
    }
    if eof {
        codec.receive_eof();
        while let Some(e) = codec.poll_borrowed() {
            events.push(own(e));
        }
    }
    events
}

/// An expected event, written compactly.
#[derive(Debug, Clone, Copy)]
enum E {
    L(&'static [u8]),
    Long,
}

struct Case {
    name: &'static str,
    max_line: usize,
    telnet: TelnetMode,
    input: &'static [u8],
    /// The events before `Eof`.
    events: &'static [E],
    /// `Eof { unterminated }`.
    unterminated: Option<&'static [u8]>,
    /// Telnet answers.
    replies: &'static [u8],
}

const fn case(
    name: &'static str,
    max_line: usize,
    input: &'static [u8],
    events: &'static [E],
    unterminated: Option<&'static [u8]>,
) -> Case {
    Case {
        name,
        max_line,
        telnet: TelnetMode::Off,
        input,
        events,
        unterminated,
        replies: b"",
    }
}

const fn telnet(
    name: &'static str,
    mode: TelnetMode,
    input: &'static [u8],
    events: &'static [E],
    replies: &'static [u8],
) -> Case {
    Case {
        name,
        max_line: 64,
        telnet: mode,
        input,
        events,
        unterminated: None,
        replies,
    }
}

use E::{L, Long};

const CASES: &[Case] = &[
    case("empty stream", 8, b"", &[], None),
    case("lf and crlf", 8, b"a\nb\r\n", &[L(b"a"), L(b"b")], None),
    case(
        "empty lines",
        8,
        b"\n\r\n\n",
        &[L(b""), L(b""), L(b"")],
        None,
    ),
    case("unterminated", 8, b"a\nbc", &[L(b"a")], Some(b"bc")),
    case("only one cr stripped", 8, b"a\r\r\n", &[L(b"a\r")], None),
    case("inner cr kept", 8, b"a\rb\n", &[L(b"a\rb")], None),
    case("final cr kept at eof", 8, b"a\r", &[], Some(b"a\r")),
    case(
        "not utf-8",
        8,
        b"\xff\xfe\x00\n",
        &[L(b"\xff\xfe\x00")],
        None,
    ),
    case(
        "exactly the limit",
        3,
        b"abc\nabc\r\n",
        &[L(b"abc"), L(b"abc")],
        None,
    ),
    case("one over", 3, b"abcd\nxy\n", &[Long, L(b"xy")], None),
    case(
        "long then resync",
        3,
        b"abcdefghij\nk\n",
        &[Long, L(b"k")],
        None,
    ),
    case(
        "cr does not hide length",
        3,
        b"abc\rx\nk\n",
        &[Long, L(b"k")],
        None,
    ),
    case("long at eof", 3, b"abcdefgh", &[Long], None),
    case("limit plus cr at eof", 3, b"abc\r", &[Long], None),
    case("limit at eof", 3, b"abc", &[], Some(b"abc")),
    case(
        "two long lines",
        2,
        b"xxxxx\nyyyyyy\r\nok\n",
        &[Long, Long, L(b"ok")],
        None,
    ),
    case("zero limit", 0, b"\na\n\r\n", &[L(b""), Long, L(b"")], None),
    telnet(
        "iac iac is 0xff",
        TelnetMode::On,
        b"a\xff\xffb\n",
        &[L(b"a\xffb")],
        b"",
    ),
    telnet(
        "do is refused",
        TelnetMode::On,
        b"\xff\xfd\x01hi\n",
        &[L(b"hi")],
        b"\xff\xfc\x01",
    ),
    telnet(
        "will is refused",
        TelnetMode::On,
        b"x\xff\xfb\x03y\n",
        &[L(b"xy")],
        b"\xff\xfe\x03",
    ),
    telnet(
        "dont and wont need no answer",
        TelnetMode::On,
        b"\xff\xfe\x01\xff\xfc\x01z\n",
        &[L(b"z")],
        b"",
    ),
    telnet(
        "subnegotiation swallowed",
        TelnetMode::On,
        b"a\xff\xfa\x18\x01\xff\xff\n\xff\xf0b\n",
        &[L(b"ab")],
        b"",
    ),
    telnet(
        "other commands swallowed",
        TelnetMode::On,
        b"a\xff\xf1b\xff\xf6c\xff\xf9\xff\xf0\n",
        &[L(b"abc")],
        b"",
    ),
    telnet(
        "cr nul is cr",
        TelnetMode::On,
        b"a\r\0b\r\0\r\n",
        &[L(b"a\rb\r")],
        b"",
    ),
    telnet(
        "many negotiations",
        TelnetMode::On,
        b"\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01\xff\xfb\x03ok\r\n",
        &[L(b"ok")],
        b"\xff\xfc\x18\xff\xfc\x20\xff\xfe\x01\xff\xfe\x03",
    ),
    telnet(
        "auto starts at the first iac",
        TelnetMode::Auto,
        b"x\r\0y\n\xff\xfd\x01\xff\xff\r\0z\n",
        &[L(b"x\r\0y"), L(b"\xff\rz")],
        b"\xff\xfc\x01",
    ),
    telnet(
        "off keeps iac bytes",
        TelnetMode::Off,
        b"\xff\xfd\x01\n",
        &[L(b"\xff\xfd\x01")],
        b"",
    ),
];

fn expected(case: &Case, with_eof: bool) -> Vec<LineEvent> {
    let mut v: Vec<LineEvent> = case
        .events
        .iter()
        .map(|e| match *e {
            L(l) => LineEvent::Line(Bytes::from_static(l)),
            Long => LineEvent::TooLong {
                dropped: case.max_line + 1,
            },
        })
        .collect();
    if with_eof {
        v.push(LineEvent::Eof {
            unterminated: case.unterminated.map(Bytes::from_static),
        });
    }
    v
}

#[test]
fn table_whole_bytewise_and_trailing() {
    for case in CASES {
        let config = Config {
            max_line: case.max_line,
            telnet: case.telnet,
        };
        // Whole.
        let (events, replies, _) = run(config, &[case.input], true);
        assert_eq!(events, expected(case, true), "{}: whole", case.name);
        assert_eq!(replies, case.replies, "{}: whole replies", case.name);
        assert_eq!(
            run_borrowed(config, &[case.input], true),
            expected(case, true),
            "{}: borrowed",
            case.name
        );
        // One byte at a time.
        let bytes: Vec<&[u8]> = case.input.chunks(1).collect();
        let (events, replies, _) = run(config, &bytes, true);
        assert_eq!(events, expected(case, true), "{}: bytewise", case.name);
        assert_eq!(replies, case.replies, "{}: bytewise replies", case.name);
        assert_eq!(
            run_borrowed(config, &bytes, true),
            expected(case, true),
            "{}: borrowed bytewise",
            case.name
        );
        // Trailing bytes (only meaningful when the input ends at a line boundary): they are
        // neither delivered nor lost, and come out as the unterminated line at the end.
        if case.max_line >= 2 && (case.input.is_empty() || case.input.ends_with(b"\n")) {
            let (events, _, mut codec) = run(config, &[case.input, b"tr"], false);
            assert_eq!(events, expected(case, false), "{}: trailing", case.name);
            assert_eq!(codec.buffered(), 2, "{}: trailing kept", case.name);
            codec.receive_eof();
            assert_eq!(
                codec.poll_event(),
                Some(LineEvent::Eof {
                    unterminated: Some(Bytes::from_static(b"tr"))
                }),
                "{}: trailing at eof",
                case.name
            );
            assert_eq!(codec.poll_event(), None);
        }
    }
}

#[test]
fn too_long_is_reported_before_the_line_ends() {
    let mut codec = Codec::new(Config {
        max_line: 4,
        telnet: TelnetMode::Off,
    });
    codec.receive(b"abcde");
    assert_eq!(codec.poll_event(), Some(LineEvent::TooLong { dropped: 5 }));
    assert_eq!(codec.poll_event(), None);
    // The tail is discarded without being buffered.
    codec.receive(&[b'x'; 10_000]);
    assert_eq!(codec.buffered(), 0);
    assert_eq!(codec.poll_event(), None);
    codec.receive(b"xx\nnext\n");
    assert_eq!(codec.poll_event(), Some(LineEvent::from_line("next")));
}

#[test]
fn limit_with_pending_cr_waits_for_the_next_byte() {
    let mut codec = Codec::new(Config {
        max_line: 3,
        telnet: TelnetMode::Off,
    });
    codec.receive(b"abc\r");
    assert_eq!(codec.poll_event(), None, "the CR may be the CR of CRLF");
    codec.receive(b"\n");
    assert_eq!(codec.poll_event(), Some(LineEvent::from_line("abc")));
}

#[test]
fn nothing_after_eof() {
    let (events, _, mut codec) = run(Config::default(), &[b"a\n"], true);
    assert_eq!(events.len(), 2);
    assert!(codec.is_finished());
    codec.receive(b"more\n");
    assert_eq!(codec.poll_event(), None);
}

#[test]
fn encode_appends_crlf_and_escapes_iac_in_telnet_mode() {
    let mut out = Vec::new();
    encode_line(b"a\xffb", &mut out);
    assert_eq!(out, b"a\xffb\r\n");
    let mut codec = Codec::new(Config {
        telnet: TelnetMode::On,
        ..Config::default()
    });
    let mut out = Vec::new();
    codec.encode_line(b"a\xffb", &mut out);
    assert_eq!(out, b"a\xff\xffb\r\n");
    // Escaped output read back through the telnet layer gives the line again.
    codec.receive(&out);
    assert_eq!(
        codec.poll_event(),
        Some(LineEvent::Line(Bytes::from_static(b"a\xffb")))
    );
}

#[test]
fn telnet_reply_queue_is_bounded() {
    let mut t = Telnet::new();
    let mut data = Vec::new();
    let flood: Vec<u8> = [0xff, 0xfd, 0x01].repeat(100_000);
    t.receive(&flood, &mut data);
    let mut out = Vec::new();
    t.poll_transmit(&mut out);
    assert!(data.is_empty());
    assert!(!out.is_empty() && out.len() <= portline_core::line::telnet::MAX_PENDING_REPLIES);
    assert!(out.chunks(3).all(|c| c == [0xff, 0xfc, 0x01]));
}

trait FromLine {
    fn from_line(s: &'static str) -> Self;
}

impl FromLine for LineEvent {
    fn from_line(s: &'static str) -> LineEvent {
        LineEvent::Line(Bytes::from_static(s.as_bytes()))
    }
}

// ----- property tests against a naive model -----

/// A line of the model: content without LF, terminated by LF or CRLF.
fn line_strategy(max_line: usize) -> impl Strategy<Value = (Vec<u8>, bool)> {
    // Mostly short lines, some far over the limit; any byte but LF.
    let len = prop_oneof![3 => 0..=max_line + 1, 1 => 0..=4 * max_line + 4];
    (
        len.prop_flat_map(|n| {
            proptest::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), n)
        }),
        any::<bool>(),
    )
}

/// Cut `data` at the given (sorted, deduplicated) points.
fn split<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut chunks = Vec::new();
    let mut start = 0;
    for p in points {
        chunks.push(&data[start..p]);
        start = p;
    }
    chunks.push(&data[start..]);
    chunks
}

/// The naive model: what the codec must report for these lines.
fn model(max_line: usize, lines: &[(Vec<u8>, bool)], last: &[u8]) -> Vec<LineEvent> {
    let mut events = Vec::new();
    for (content, crlf) in lines {
        let mut line = content.clone();
        if !crlf && line.last() == Some(&b'\r') {
            line.pop(); // "a\r" + LF is the line "a" terminated by CRLF
        }
        if line.len() > max_line {
            events.push(LineEvent::TooLong {
                dropped: max_line + 1,
            });
        } else {
            events.push(LineEvent::Line(line.into()));
        }
    }
    if last.len() > max_line {
        events.push(LineEvent::TooLong {
            dropped: max_line + 1,
        });
        events.push(LineEvent::Eof { unterminated: None });
    } else {
        events.push(LineEvent::Eof {
            unterminated: (!last.is_empty()).then(|| Bytes::copy_from_slice(last)),
        });
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No line is lost, merged, split or reordered, however the stream is cut.
    #[test]
    fn random_splits_match_the_model(
        max_line in 0usize..40,
        lines in proptest::collection::vec(line_strategy(24), 0..30),
        last in proptest::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..60),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let mut stream = Vec::new();
        for (content, crlf) in &lines {
            stream.extend_from_slice(content);
            stream.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
        }
        stream.extend_from_slice(&last);
        let chunks = split(&stream, &cuts);
        let config = Config { max_line, telnet: TelnetMode::Off };
        let (events, _, codec) = run(config, &chunks, true);
        prop_assert_eq!(&events, &model(max_line, &lines, &last));
        prop_assert_eq!(codec.buffered(), 0);
        prop_assert_eq!(run_borrowed(config, &chunks, true), events);
    }

    /// Telnet mode: escaped data with negotiations anywhere (also inside lines and between the
    /// bytes of CR LF) gives the same lines under any split, and every DO/WILL is refused in
    /// order.
    #[test]
    fn telnet_random_splits(
        lines in proptest::collection::vec(
            proptest::collection::vec(any::<u8>().prop_filter("no CR/LF", |b| *b != b'\n' && *b != b'\r'), 0..20),
            0..15),
        commands in proptest::collection::vec((any::<usize>(), 0u8..5, any::<u8>()), 0..10),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        // Encode: data with IAC doubled, CRLF after each line.
        let mut stream = Vec::new();
        for line in &lines {
            Telnet::escape(line, &mut stream);
            stream.extend_from_slice(b"\r\n");
        }
        // Insert commands at byte positions that are not inside an IAC IAC pair.
        let mut expected_replies = Vec::new();
        let mut inserts: Vec<(usize, Vec<u8>)> = Vec::new();
        for (pos, kind, opt) in &commands {
            let mut p = pos % (stream.len() + 1);
            while p > 0 && p < stream.len() && stream[p - 1] == 0xff && stream[..p].iter().rev().take_while(|b| **b == 0xff).count() % 2 == 1 {
                p += 1;
            }
            let bytes = match kind {
                0 => vec![0xff, 0xfd, *opt],
                1 => vec![0xff, 0xfb, *opt],
                2 => vec![0xff, 0xfe, *opt],
                3 => vec![0xff, 0xfa, *opt, 0xff, 0xff, 0x42, 0xff, 0xf0],
                _ => vec![0xff, 0xf1],
            };
            inserts.push((p, bytes));
        }
        inserts.sort_by_key(|(p, _)| *p);
        let mut with_commands = Vec::new();
        let mut start = 0;
        for (p, bytes) in &inserts {
            with_commands.extend_from_slice(&stream[start..*p]);
            with_commands.extend_from_slice(bytes);
            if bytes[1] == 0xfd { expected_replies.extend_from_slice(&[0xff, 0xfc, bytes[2]]); }
            if bytes[1] == 0xfb { expected_replies.extend_from_slice(&[0xff, 0xfe, bytes[2]]); }
            start = *p;
        }
        with_commands.extend_from_slice(&stream[start..]);
        let chunks = split(&with_commands, &cuts);
        let (events, replies, _) = run(Config { max_line: 64, telnet: TelnetMode::On }, &chunks, true);
        let mut want: Vec<LineEvent> = lines.iter().map(|l| LineEvent::Line(l.clone().into())).collect();
        want.push(LineEvent::Eof { unterminated: None });
        prop_assert_eq!(events, want);
        prop_assert_eq!(replies, expected_replies);
    }
}

/// Like [`run_borrowed`] with `receive_with` (lines straight out of the input slices).
fn run_direct(config: Config, chunks: &[&[u8]]) -> Vec<LineEvent> {
    let mut codec = Codec::new(config);
    let mut events = Vec::new();
    let own = |e: LineEvent<&[u8]>| match e {
        LineEvent::Line(l) => LineEvent::Line(Bytes::copy_from_slice(l)),
        LineEvent::TooLong { dropped } => LineEvent::TooLong { dropped },
        LineEvent::Eof { unterminated } => LineEvent::Eof {
            unterminated: unterminated.map(Bytes::copy_from_slice),
        },
    };
    for chunk in chunks {
        codec.receive_with(chunk, |e| events.push(own(e)));
        assert!(codec.buffered() <= config.max_line + 1);
    }
    codec.receive_eof();
    while let Some(e) = codec.poll_borrowed() {
        events.push(own(e));
    }
    events
}

#[test]
fn receive_with_table() {
    for case in CASES {
        let config = Config {
            max_line: case.max_line,
            telnet: case.telnet,
        };
        let bytes: Vec<&[u8]> = case.input.chunks(1).collect();
        for chunks in [vec![case.input], bytes] {
            assert_eq!(
                run_direct(config, &chunks),
                expected(case, true),
                "{}",
                case.name
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// `receive_with` gives exactly the events of receive-then-drain, however the input is cut,
    /// in every telnet mode.
    #[test]
    fn receive_with_matches_receive(
        max_line in 0usize..24,
        mode in 0u8..3,
        stream in proptest::collection::vec(prop_oneof![
            4 => b'a'..=b'c', 2 => Just(b'\n'), 1 => Just(b'\r'), 1 => Just(0xffu8), 1 => Just(0xfdu8)
        ], 0..200),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let telnet = [TelnetMode::Off, TelnetMode::Auto, TelnetMode::On][usize::from(mode)];
        let config = Config { max_line, telnet };
        let chunks = split(&stream, &cuts);
        let (events, _, _) = run(config, &chunks, true);
        prop_assert_eq!(run_direct(config, &chunks), events);
    }
}

/// Feed each chunk with `receive`, `receive_bytes` or `receive_with`, drain with `poll_event` or
/// `poll_borrowed` or not at all, as `choices` say; collect every event.
fn run_mixed(config: Config, chunks: &[&[u8]], choices: &[u8]) -> Vec<LineEvent> {
    let own = |e: LineEvent<&[u8]>| match e {
        LineEvent::Line(l) => LineEvent::Line(Bytes::copy_from_slice(l)),
        LineEvent::TooLong { dropped } => LineEvent::TooLong { dropped },
        LineEvent::Eof { unterminated } => LineEvent::Eof {
            unterminated: unterminated.map(Bytes::copy_from_slice),
        },
    };
    let mut codec = Codec::new(config);
    let mut events = Vec::new();
    let drain = |codec: &mut Codec, events: &mut Vec<LineEvent>, how: u8| match how {
        0 => {
            while let Some(e) = codec.poll_event() {
                events.push(e);
            }
        }
        1 => {
            while let Some(e) = codec.poll_borrowed() {
                events.push(own(e));
            }
        }
        _ => {}
    };
    for (i, chunk) in chunks.iter().enumerate() {
        let choice = choices.get(i).copied().unwrap_or(0);
        match choice % 3 {
            0 => codec.receive(chunk),
            1 => codec.receive_bytes(Bytes::copy_from_slice(chunk)),
            _ => codec.receive_with(chunk, |e| events.push(own(e))),
        }
        drain(&mut codec, &mut events, (choice / 3) % 3);
    }
    codec.receive_eof();
    drain(&mut codec, &mut events, choices.last().map_or(0, |c| c % 2));
    drain(&mut codec, &mut events, 0);
    events
}

#[test]
fn receive_bytes_table() {
    for case in CASES {
        let config = Config {
            max_line: case.max_line,
            telnet: case.telnet,
        };
        let bytes: Vec<&[u8]> = case.input.chunks(1).collect();
        for choices in [[1u8; 1], [4], [7]] {
            let many = vec![choices[0]; bytes.len()];
            assert_eq!(
                run_mixed(config, &[case.input], &choices),
                expected(case, true),
                "{} whole {choices:?}",
                case.name
            );
            assert_eq!(
                run_mixed(config, &bytes, &many),
                expected(case, true),
                "{} bytewise {choices:?}",
                case.name
            );
        }
    }
}

#[test]
fn receive_bytes_lines_share_the_input() {
    let mut codec = Codec::new(Config::default());
    let read = Bytes::from(b"partial".to_vec());
    codec.receive_bytes(read);
    assert_eq!(codec.poll_event(), None);
    let read = Bytes::from(b" line\r\nwhole one\nrest".to_vec());
    codec.receive_bytes(read.clone());
    assert_eq!(
        codec.poll_event(),
        Some(LineEvent::from_line("partial line"))
    );
    let Some(LineEvent::Line(whole)) = codec.poll_event() else {
        panic!("a line")
    };
    assert_eq!(whole, "whole one");
    assert_eq!(
        whole.as_ptr(),
        read[7..].as_ptr(),
        "a slice of the read, not a copy"
    );
    assert_eq!(codec.poll_event(), None);
    assert_eq!(codec.buffered(), 4);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// However the three input methods and two output methods are mixed (and whether or not the
    /// caller drains between reads), the events are those of receive-then-drain.
    #[test]
    fn mixed_inputs_match_receive(
        max_line in 0usize..24,
        mode in 0u8..3,
        stream in proptest::collection::vec(prop_oneof![
            4 => b'a'..=b'c', 2 => Just(b'\n'), 1 => Just(b'\r'), 1 => Just(0xffu8), 1 => Just(0xfdu8)
        ], 0..200),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
        choices in proptest::collection::vec(any::<u8>(), 0..21),
    ) {
        let telnet = [TelnetMode::Off, TelnetMode::Auto, TelnetMode::On][usize::from(mode)];
        let config = Config { max_line, telnet };
        let chunks = split(&stream, &cuts);
        let (events, _, _) = run(config, &chunks, true);
        prop_assert_eq!(run_mixed(config, &chunks, &choices), events);
    }
}
