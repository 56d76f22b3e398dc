//! Property tests: writing then parsing any message gives it back, and any split of a byte stream
//! gives the same events as the whole stream.

use portline_core::Time;
use portline_core::http::{
    BodyLength, Config, Connection, Event, Progress, Request, Response, Role, Version,
};
use proptest::prelude::*;

const TCHARS: &[u8] =
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn token() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(TCHARS), 1..12)
        .prop_map(|v| String::from_utf8(v).expect("tchars are ASCII"))
}

/// A header name that the connection does not reserve for itself.
fn field_name() -> impl Strategy<Value = String> {
    token().prop_filter("reserved", |n| {
        !["content-length", "connection", "transfer-encoding"]
            .iter()
            .any(|r| n.eq_ignore_ascii_case(r))
    })
}

/// A field value as it reads after parsing: field-vchars (VCHAR and obs-text) with inner SP/HTAB.
fn field_value() -> impl Strategy<Value = Vec<u8>> {
    let vchar = prop_oneof![0x21u8..=0x7e, 0x80u8..=0xff];
    let inner = prop_oneof![4 => vchar.clone(), 1 => Just(b' '), 1 => Just(b'\t')];
    (proptest::collection::vec(inner, 0..20), vchar).prop_map(|(mut v, last)| {
        while v.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            v.remove(0);
        }
        if !v.is_empty() {
            v.push(last);
        }
        v
    })
}

fn target() -> impl Strategy<Value = String> {
    "/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,40}"
}

fn headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    proptest::collection::vec((field_name(), field_value()), 0..8)
}

/// Drains `conn`, coalescing body data, answering requests (server) so pipelining proceeds.
fn drain(
    conn: &mut Connection,
    log: &mut Vec<String>,
    data: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> bool {
    let now = Time::ZERO;
    loop {
        let flush = |log: &mut Vec<String>, data: &mut Vec<u8>| {
            if !data.is_empty() {
                log.push(format!("data {:?}", data));
                data.clear();
            }
        };
        match conn.poll_event() {
            Ok(Progress::Event(Event::Data(d))) => data.extend_from_slice(&d),
            Ok(Progress::Event(e)) => {
                flush(log, data);
                log.push(format!("{e:?}"));
                if e == Event::EndOfMessage && conn.role() == Role::Server {
                    let resp = Response {
                        status: 200,
                        reason: "OK",
                        headers: &[],
                        body: BodyLength::Known(0),
                    };
                    conn.send_response(now, &resp, out).expect("in order");
                    conn.send_end(now).expect("in order");
                }
            }
            Ok(Progress::NeedData | Progress::Paused) => return false,
            Ok(Progress::Closed) => {
                flush(log, data);
                log.push("closed".into());
                return true;
            }
            Err(e) => {
                flush(log, data);
                log.push(format!("error {e:?}"));
                return true;
            }
        }
    }
}

/// Feeds `input` in the pieces given by `cuts` (sorted offsets), then end of stream.
fn events(role: Role, input: &[u8], cuts: &[usize], client_requests: usize) -> Vec<String> {
    let now = Time::ZERO;
    let mut conn = Connection::new(role, Config::default(), now);
    let mut out = Vec::new();
    for _ in 0..client_requests {
        let req = Request {
            method: "GET",
            target: "/",
            headers: &[],
            body: BodyLength::Known(0),
            keep_alive: true,
        };
        conn.send_request(now, &req, &mut out).expect("idle client");
        conn.send_end(now).expect("empty body");
    }
    let (mut log, mut data) = (Vec::new(), Vec::new());
    let mut start = 0;
    let mut done = false;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(start, input.len());
        conn.receive(now, &input[start..cut]);
        start = cut;
        if drain(&mut conn, &mut log, &mut data, &mut out) {
            done = true;
            break;
        }
    }
    if !done {
        conn.receive_eof(now);
        drain(&mut conn, &mut log, &mut data, &mut out);
    }
    if !data.is_empty() {
        log.push(format!("data {:?}", data));
    }
    log
}

/// A plausible request stream: valid requests (some chunked) with occasional damage.
fn request_stream() -> impl Strategy<Value = Vec<u8>> {
    let one = (
        prop_oneof![Just("GET"), Just("POST"), Just("HEAD")],
        target(),
        prop_oneof![Just("1.0"), Just("1.1")],
        headers(),
        proptest::collection::vec(any::<u8>(), 0..40),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(m, t, v, hs, body, chunked, lf)| {
            let eol: &[u8] = if lf { b"\n" } else { b"\r\n" };
            let mut out = format!("{m} {t} HTTP/{v}").into_bytes();
            out.extend_from_slice(eol);
            for (n, val) in &hs {
                out.extend_from_slice(n.as_bytes());
                out.extend_from_slice(b": ");
                out.extend_from_slice(val);
                out.extend_from_slice(eol);
            }
            if v == "1.1" && chunked {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for piece in body.chunks(7) {
                    out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                    out.extend_from_slice(piece);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            } else {
                out.extend_from_slice(format!("Content-Length: {}", body.len()).as_bytes());
                out.extend_from_slice(eol);
                out.extend_from_slice(b"Connection: keep-alive");
                out.extend_from_slice(eol);
                out.extend_from_slice(eol);
                out.extend_from_slice(&body);
            }
            out
        });
    (
        proptest::collection::vec(one, 1..4),
        proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
    )
        .prop_map(|(msgs, damage)| {
            let mut all: Vec<u8> = msgs.concat();
            if let Some((i, b)) = damage {
                let i = i.index(all.len());
                all[i] = b;
            }
            all
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn request_write_then_parse_is_identity(
        method in token(),
        target in target(),
        hs in headers(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        keep_alive in any::<bool>(),
    ) {
        let now = Time::ZERO;
        let fields: Vec<(&str, &[u8])> = hs.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        let mut client = Connection::new(Role::Client, Config::default(), now);
        let mut wire = Vec::new();
        let req = Request { method: &method, target: &target, headers: &fields, body: BodyLength::Known(body.len() as u64), keep_alive };
        client.send_request(now, &req, &mut wire).unwrap();
        client.send_data(now, &body, &mut wire).unwrap();
        client.send_end(now).unwrap();

        let mut server = Connection::new(Role::Server, Config::default(), now);
        server.receive(now, &wire);
        let Ok(Progress::Event(Event::Request(r))) = server.poll_event() else { panic!("no request") };
        prop_assert_eq!(r.method_str(), method.as_str());
        prop_assert_eq!(&r.target[..], target.as_bytes());
        prop_assert_eq!(r.version, Version::Http10);
        prop_assert_eq!(r.keep_alive, keep_alive);
        let got: Vec<(Vec<u8>, Vec<u8>)> = r.headers.iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(b"content-length") && !n.eq_ignore_ascii_case(b"connection"))
            .map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> = hs.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.clone())).collect();
        prop_assert_eq!(got, want);
        let mut got_body = Vec::new();
        loop {
            match server.poll_event() {
                Ok(Progress::Event(Event::Data(d))) => got_body.extend_from_slice(&d),
                Ok(Progress::Event(Event::EndOfMessage)) => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        prop_assert_eq!(got_body, body);
        prop_assert_eq!(server.poll_event(), Ok(Progress::Paused));
    }

    #[test]
    fn response_write_then_parse_is_identity(
        status in 200u16..=599,
        reason in "[A-Za-z ]{0,20}",
        hs in headers(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        known in any::<bool>(),
    ) {
        let now = Time::ZERO;
        let mut client = Connection::new(Role::Client, Config::default(), now);
        let mut wire = Vec::new();
        let req = Request { method: "GET", target: "/", headers: &[], body: BodyLength::Known(0), keep_alive: true };
        client.send_request(now, &req, &mut wire).unwrap();
        client.send_end(now).unwrap();
        let mut server = Connection::new(Role::Server, Config::default(), now);
        server.receive(now, &wire);
        prop_assert!(matches!(server.poll_event(), Ok(Progress::Event(Event::Request(_)))));
        prop_assert_eq!(server.poll_event(), Ok(Progress::Event(Event::EndOfMessage)));

        let fields: Vec<(&str, &[u8])> = hs.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        let length = if known { BodyLength::Known(body.len() as u64) } else { BodyLength::Unknown };
        let resp = Response { status, reason: &reason, headers: &fields, body: length };
        let mut back = Vec::new();
        server.send_response(now, &resp, &mut back).unwrap();
        server.send_data(now, &body, &mut back).unwrap();
        server.send_end(now).unwrap();

        client.receive(now, &back);
        client.receive_eof(now);
        let Ok(Progress::Event(Event::Response(r))) = client.poll_event() else { panic!("no response") };
        prop_assert_eq!(r.status, status);
        prop_assert_eq!(&r.reason[..], reason.as_bytes());
        let got: Vec<(Vec<u8>, Vec<u8>)> = r.headers.iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(b"content-length") && !n.eq_ignore_ascii_case(b"connection"))
            .map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> = hs.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.clone())).collect();
        prop_assert_eq!(got, want);
        let no_body = status == 204 || status == 304;
        let mut got_body = Vec::new();
        loop {
            match client.poll_event() {
                Ok(Progress::Event(Event::Data(d))) => got_body.extend_from_slice(&d),
                Ok(Progress::Event(Event::EndOfMessage)) => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        prop_assert_eq!(got_body, if no_body { Vec::new() } else { body });
    }

    #[test]
    fn any_split_of_a_request_stream_gives_the_same_events(
        input in request_stream(),
        mut cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let whole = events(Role::Server, &input, &[], 0);
        let mut offsets: Vec<usize> = cuts.drain(..).map(|i| i.index(input.len() + 1)).collect();
        offsets.sort_unstable();
        let split = events(Role::Server, &input, &offsets, 0);
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn any_split_of_arbitrary_bytes_gives_the_same_events(
        input in proptest::collection::vec(any::<u8>(), 0..200),
        server in any::<bool>(),
        mut cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let role = if server { Role::Server } else { Role::Client };
        let n = usize::from(!server) * 2;
        let whole = events(role, &input, &[], n);
        let mut offsets: Vec<usize> = cuts.drain(..).map(|i| i.index(input.len() + 1)).collect();
        offsets.sort_unstable();
        let split = events(role, &input, &offsets, n);
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn any_split_of_a_response_stream_gives_the_same_events(
        bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..30), 1..3),
        chunked in any::<bool>(),
        mut cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut input = Vec::new();
        for b in &bodies {
            if chunked {
                input.extend_from_slice(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                for piece in b.chunks(5) {
                    input.extend_from_slice(format!("{:X}\r\n", piece.len()).as_bytes());
                    input.extend_from_slice(piece);
                    input.extend_from_slice(b"\r\n");
                }
                input.extend_from_slice(b"0\r\n\r\n");
            } else {
                input.extend_from_slice(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", b.len()).as_bytes());
                input.extend_from_slice(b);
            }
        }
        // A final read-until-close response.
        input.extend_from_slice(b"HTTP/1.0 200 OK\r\n\r\ntail bytes");
        let n = bodies.len() + 1;
        let whole = events(Role::Client, &input, &[], n);
        prop_assert!(whole.last().is_some_and(|l| l == "closed"), "{whole:?}");
        let mut offsets: Vec<usize> = cuts.drain(..).map(|i| i.index(input.len() + 1)).collect();
        offsets.sort_unstable();
        prop_assert_eq!(events(Role::Client, &input, &offsets, n), whole);
    }
}
