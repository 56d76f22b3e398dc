//! Conversations with each line service, in memory, over TCP and UDP.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use portline_core::Time;
use portline_core::line::{
    Config, MAX_PENDING, ServiceKind, TcpService, TelnetMode, UDP_REFUSED_PORTS, UdpConfig,
    UdpService, World,
};
use portline_core::services::Services;

fn wall() -> SystemTime {
    humantime::parse_rfc3339("2026-11-26T06:15:53Z").expect("valid")
}

fn world() -> Arc<World> {
    Arc::new(World {
        hostname: "testhost".into(),
        addresses: vec!["192.0.2.7".parse().unwrap(), "2001:db8::7".parse().unwrap()],
        services: Services::parse(include_str!("fixtures/services")),
    })
}

fn tcp(kind: ServiceKind) -> TcpService {
    tcp_with(kind, Config::default())
}

fn tcp_with(kind: ServiceKind, config: Config) -> TcpService {
    let mut s = TcpService::new(kind, world(), config);
    s.on_connect(wall());
    s
}

/// Everything the service has to send now (large budget).
fn take(s: &mut TcpService) -> String {
    let mut out = Vec::new();
    s.poll_transmit(&mut out, 1 << 20);
    String::from_utf8(out).expect("replies are UTF-8 here")
}

/// Send `input` (whole, or one byte at a time) and collect the output.
fn say(s: &mut TcpService, input: &[u8], bytewise: bool) -> String {
    if bytewise {
        for b in input {
            s.receive(wall(), std::slice::from_ref(b));
        }
    } else {
        s.receive(wall(), input);
    }
    take(s)
}

const INFO_CONVERSATION: &[(&str, &str)] = &[
    ("", "220 testhost portline info service ready\r\n"),
    (
        "HELP\r\n",
        "214-commands (case-insensitive, arguments separated by spaces):\r\n\
         214-HELP                           this list\r\n\
         214-ECHO <text>                    reply with <text>\r\n\
         214-HOST                           the host name and its addresses\r\n\
         214-SERVICE <port>[/<proto>]       the service name of a port (proto defaults to tcp)\r\n\
         214-SERVICE <name>[/<proto>]       the port of a service name or alias\r\n\
         214-TIME                           the current time, RFC 3339 UTC\r\n\
         214-QUIT                           close the connection\r\n\
         214 end of help\r\n",
    ),
    ("ECHO hello  world\r\n", "250 hello  world\r\n"),
    ("echo lower case\n", "250 lower case\r\n"),
    ("ECHO\r\n", "501 ECHO needs some text\r\n"),
    ("HOST\r\n", "250 testhost 192.0.2.7 2001:db8::7\r\n"),
    ("HOST x\r\n", "501 HOST takes no argument\r\n"),
    ("SERVICE 80\r\n", "250 http\r\n"),
    ("service 22/tcp\r\n", "250 ssh\r\n"),
    ("SERVICE 53/udp\r\n", "250 domain\r\n"),
    ("SERVICE www\r\n", "250 80\r\n"),
    ("SERVICE bootps/udp\r\n", "250 67\r\n"),
    ("SERVICE 67\r\n", "550 port/proto not found\r\n"),
    ("SERVICE nope/tcp\r\n", "550 service/proto not found\r\n"),
    (
        "SERVICE\r\n",
        "501 SERVICE needs a port or a name, e.g. SERVICE 80/tcp\r\n",
    ),
    (
        "SERVICE 70000\r\n",
        "501 port number out of range (0-65535)\r\n",
    ),
    ("SERVICE 80/\r\n", "501 missing protocol after /\r\n"),
    ("SERVICE 80 81\r\n", "501 SERVICE takes one argument\r\n"),
    ("TIME\r\n", "250 2026-11-26T06:15:53Z\r\n"),
    ("TIME now\r\n", "501 TIME takes no argument\r\n"),
    ("FOO bar\r\n", "500 unknown command\r\n"),
    ("\r\n", "500 unknown command\r\n"),
    ("ECHO still here\r\n", "250 still here\r\n"),
    ("QUIT\r\nECHO ignored\r\n", "221 bye\r\n"),
];

#[test]
fn info_conversation_whole_and_bytewise() {
    for bytewise in [false, true] {
        let mut s = tcp(ServiceKind::Info);
        for (input, want) in INFO_CONVERSATION {
            assert!(!s.is_done());
            assert_eq!(say(&mut s, input.as_bytes(), bytewise), *want, "{input:?}");
        }
        assert!(s.is_done(), "QUIT closes");
        assert!(!s.wants_read());
        s.receive(wall(), b"ECHO late\r\n");
        assert_eq!(take(&mut s), "");
    }
}

#[test]
fn info_all_commands_in_one_read() {
    let mut s = tcp(ServiceKind::Info);
    let input: String = INFO_CONVERSATION.iter().map(|(i, _)| *i).collect();
    let want: String = INFO_CONVERSATION.iter().map(|(_, w)| *w).collect();
    s.receive(wall(), input.as_bytes());
    assert_eq!(take(&mut s), want);
    assert!(s.is_done());
}

#[test]
fn nothing_after_quit_is_looked_at() {
    for telnet in [TelnetMode::Auto, TelnetMode::On] {
        let mut s = tcp_with(
            ServiceKind::Info,
            Config {
                telnet,
                ..Config::default()
            },
        );
        take(&mut s);
        // A telnet DO after QUIT in the same read gets no refusal: it was never read.
        s.receive(wall(), b"QUIT\r\n\xff\xfd\x01ECHO x\r\n");
        assert_eq!(take(&mut s), "221 bye\r\n");
        assert!(s.is_done());
    }
}

#[test]
fn info_line_too_long_keeps_the_connection_usable() {
    let mut s = tcp_with(
        ServiceKind::Info,
        Config {
            max_line: 16,
            telnet: TelnetMode::Off,
        },
    );
    take(&mut s);
    // Reported as soon as the limit is passed, before the line ends.
    assert_eq!(say(&mut s, &[b'x'; 40], false), "500 line too long\r\n");
    assert_eq!(say(&mut s, &[b'x'; 4000], false), "");
    assert_eq!(say(&mut s, b"xx\r\nECHO ok\r\n", false), "250 ok\r\n");
    assert!(s.wants_read());
    // The unterminated last command is answered at end of stream.
    s.receive(wall(), b"ECHO last");
    s.receive_eof(wall());
    assert_eq!(take(&mut s), "250 last\r\n");
    assert!(s.is_done());
}

#[test]
fn info_over_telnet() {
    let mut s = tcp_with(
        ServiceKind::Info,
        Config {
            telnet: TelnetMode::Auto,
            ..Config::default()
        },
    );
    take(&mut s);
    // A telnet client's opening negotiation, then a command with an escaped 0xFF.
    s.receive(wall(), b"\xff\xfd\x03\xff\xfb\x18");
    s.receive(wall(), b"ECHO a\xff\xffb\r\n");
    let mut out = Vec::new();
    s.poll_transmit(&mut out, 1 << 20);
    assert_eq!(out, b"\xff\xfc\x03\xff\xfe\x18250 a\xff\xffb\r\n");
}

#[test]
fn echo_sends_back_exactly_the_bytes_received() {
    let mut s = tcp_with(
        ServiceKind::Echo,
        Config {
            max_line: 8,
            telnet: TelnetMode::Off,
        },
    );
    assert_eq!(take(&mut s), "", "no greeting");
    // RFC 862: no line framing, no CRLF conversion, no line limit, and 0xFF is data.
    let mut sent = Vec::new();
    for piece in [
        &b"one\ntwo\r\nthr"[..],
        b"ee",
        b"\xff\xfd\x03",
        b"0123456789abcdef\n",
    ] {
        s.receive(wall(), piece);
        sent.extend_from_slice(piece);
    }
    let mut out = Vec::new();
    s.poll_transmit(&mut out, 1 << 20);
    assert_eq!(out, sent);
    s.receive_eof(wall());
    assert!(s.is_done());
}

#[test]
fn echo_with_telnet_on_is_line_based() {
    let mut s = tcp_with(
        ServiceKind::Echo,
        Config {
            max_line: 8,
            telnet: TelnetMode::On,
        },
    );
    assert_eq!(take(&mut s), "", "no greeting");
    assert_eq!(say(&mut s, b"one\ntwo\r\nthr", true), "one\r\ntwo\r\n");
    assert_eq!(say(&mut s, b"ee\n", false), "three\r\n");
    // An over-long line is not a line: nothing comes back for it.
    assert_eq!(say(&mut s, b"0123456789\nok\n", false), "ok\r\n");
    s.receive(wall(), b"tail");
    assert!(!s.is_done());
    s.receive_eof(wall());
    assert!(!s.is_done(), "not before the reply is taken");
    assert_eq!(take(&mut s), "tail\r\n");
    assert!(s.is_done());
}

#[test]
fn echo_stops_reading_when_the_peer_does_not_read() {
    let mut s = tcp(ServiceKind::Echo);
    let chunk = b"0123456789012345678901234567890123456789\n".repeat(100);
    let mut fed = 0;
    while s.wants_read() {
        s.receive(wall(), &chunk);
        fed += chunk.len();
        assert!(fed < 4 * MAX_PENDING, "wants_read never turned false");
    }
    // Pending output is bounded by the limit plus one read.
    let mut out = Vec::new();
    s.poll_transmit(&mut out, usize::MAX);
    assert!(out.len() <= MAX_PENDING + chunk.len() + chunk.len() / 41 * 2);
    assert!(s.wants_read(), "reading resumes once the output is taken");
}

#[test]
fn discard_drops_everything() {
    let mut s = tcp(ServiceKind::Discard);
    assert_eq!(say(&mut s, b"whatever\n\xff\xfd\x01", false), "");
    assert!(s.wants_read());
    s.receive_eof(wall());
    assert_eq!(take(&mut s), "");
    assert!(s.is_done());
}

#[test]
fn daytime_says_the_time_and_closes() {
    let mut s = tcp(ServiceKind::Daytime);
    assert!(!s.is_done(), "the line is not taken yet");
    assert!(!s.wants_read());
    let mut out = Vec::new();
    s.poll_transmit(&mut out, 10);
    assert_eq!(out, b"Thu, 26 No");
    s.poll_transmit(&mut out, 100);
    assert_eq!(out, b"Thu, 26 Nov 2026 06:15:53 GMT\r\n");
    assert!(s.is_done());
}

/// The RFC 864 pattern, naively: line k is 72 characters starting at printable k mod 95.
fn chargen_model(n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    let mut k = 0;
    while v.len() < n {
        for i in 0..72 {
            v.push(b' ' + ((k + i) % 95) as u8);
        }
        v.extend_from_slice(b"\r\n");
        k += 1;
    }
    v.truncate(n);
    v
}

#[test]
fn chargen_only_as_fast_as_the_reader() {
    let mut s = tcp(ServiceKind::Chargen);
    let mut all = Vec::new();
    // Odd budgets, so lines are cut anywhere; each call gives exactly the budget.
    for budget in [1usize, 73, 74, 75, 1000, 0, 7, 7000, 95 * 74] {
        let mut out = Vec::new();
        s.poll_transmit(&mut out, budget);
        assert_eq!(out.len(), budget);
        all.extend_from_slice(&out);
    }
    assert_eq!(all, chargen_model(all.len()));
    // Input is ignored, the stream wraps after 95 lines.
    s.receive(wall(), b"ignored\n");
    let mut out = Vec::new();
    s.poll_transmit(&mut out, 74 * 95 * 2);
    all.extend_from_slice(&out);
    assert_eq!(all, chargen_model(all.len()));
    assert!(!s.is_done());
    s.receive_eof(wall());
    assert!(s.is_done());
    let mut out = Vec::new();
    s.poll_transmit(&mut out, 100);
    assert!(out.is_empty(), "no more after the peer closed");
}

// ----- UDP -----

fn udp(kind: ServiceKind) -> UdpService {
    UdpService::new(kind, world(), UdpConfig::default())
}

fn peer(port: u16) -> SocketAddr {
    SocketAddr::new("127.0.0.1".parse().unwrap(), port)
}

fn datagram(s: &mut UdpService, now: Time, from: SocketAddr, data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let replied = s.handle_datagram(now, wall(), from, data, &mut out);
    if !replied {
        assert!(out.is_empty(), "nothing appended without a reply");
    }
    replied.then_some(out)
}

#[test]
fn udp_services_answer_one_datagram_each() {
    let p = peer(40000);
    let t = Time::ZERO;
    let mut echo = udp(ServiceKind::Echo);
    assert_eq!(
        datagram(&mut echo, t, p, b"ping\xff\n"),
        Some(b"ping\xff\n".to_vec())
    );
    let mut discard = udp(ServiceKind::Discard);
    assert_eq!(datagram(&mut discard, t, p, b"x"), None);
    let mut daytime = udp(ServiceKind::Daytime);
    assert_eq!(
        datagram(&mut daytime, t, p, b""),
        Some(b"Thu, 26 Nov 2026 06:15:53 GMT\r\n".to_vec())
    );
    let mut chargen = udp(ServiceKind::Chargen);
    let first = datagram(&mut chargen, t, p, b"").unwrap();
    assert!(first.len() <= 512 && first.len() >= 400);
    assert_eq!(first, chargen_model(first.len()));
    let second = datagram(&mut chargen, t, p, b"").unwrap();
    assert_eq!(second[..72], chargen_model(74 * 2)[74..146], "rotates");

    let mut info = udp(ServiceKind::Info);
    let cases: &[(&[u8], &str)] = &[
        (b"ECHO hi", "250 hi\r\n"),
        (b"ECHO hi\r\n", "250 hi\r\n"),
        (b"SERVICE 443\n", "250 https\r\n"),
        (b"service https/udp", "250 443\r\n"),
        (b"TIME", "250 2026-11-26T06:15:53Z\r\n"),
        (b"HOST", "250 testhost 192.0.2.7 2001:db8::7\r\n"),
        (b"ECHO one\nECHO two\n", "250 one\r\n"),
        (b"nope", "500 unknown command\r\n"),
        (b"QUIT", "221 bye\r\n"),
    ];
    for (input, want) in cases {
        let got = datagram(&mut info, t, p, input).expect("info always answers");
        assert_eq!(String::from_utf8(got).unwrap(), *want, "{input:?}");
    }
    let help = String::from_utf8(datagram(&mut info, t, p, b"help").unwrap()).unwrap();
    assert!(help.starts_with("214-") && help.ends_with("214 end of help\r\n"));
    let long = vec![b'x'; UdpConfig::default().max_line + 1];
    assert_eq!(
        datagram(&mut info, t, p, &long),
        Some(b"500 line too long\r\n".to_vec())
    );
}

#[test]
fn udp_never_answers_service_ports() {
    for kind in ServiceKind::ALL {
        let mut s = udp(kind);
        for port in UDP_REFUSED_PORTS {
            assert_eq!(
                datagram(&mut s, Time::ZERO, peer(port), b"ECHO loop"),
                None,
                "{kind} from port {port}"
            );
        }
        // The rule is about source ports only; other ports get an answer (except discard).
        assert_eq!(
            datagram(&mut s, Time::ZERO, peer(8), b"ECHO x").is_some(),
            kind != ServiceKind::Discard
        );
    }
}

#[test]
fn udp_reply_budget_per_source_per_second() {
    let config = UdpConfig {
        replies_per_second: 3,
        max_sources: 2,
        ..UdpConfig::default()
    };
    let mut s = UdpService::new(ServiceKind::Echo, world(), config);
    let a = peer(1000);
    let a_other_port = peer(1001);
    let b = SocketAddr::new("127.0.0.2".parse::<IpAddr>().unwrap(), 1000);
    let c = SocketAddr::new("127.0.0.3".parse::<IpAddr>().unwrap(), 1000);
    let t0 = Time::ZERO;
    for _ in 0..3 {
        assert!(datagram(&mut s, t0, a, b"x").is_some());
    }
    assert_eq!(datagram(&mut s, t0, a, b"x"), None, "budget spent");
    assert_eq!(
        datagram(&mut s, t0 + Duration::from_millis(999), a_other_port, b"x"),
        None,
        "the budget is per address, not per port"
    );
    assert!(datagram(&mut s, t0, b, b"x").is_some(), "another source");
    assert_eq!(
        datagram(&mut s, t0, c, b"x"),
        None,
        "table full of fresh sources: new ones are refused"
    );
    let t1 = t0 + Duration::from_secs(1);
    assert!(datagram(&mut s, t1, a, b"x").is_some(), "a new second");
    assert!(
        datagram(&mut s, t1 + Duration::from_millis(1), c, b"x").is_some(),
        "b's entry expired and made room"
    );
}

#[test]
fn wall_clock_out_of_range_does_not_panic() {
    let before_epoch = UNIX_EPOCH - Duration::from_secs(10);
    let mut s = TcpService::new(ServiceKind::Info, world(), Config::default());
    s.receive(before_epoch, b"TIME\r\n");
    assert_eq!(take(&mut s), "250 1970-01-01T00:00:00Z\r\n");
    let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
    s.receive(far, b"TIME\r\n");
    assert_eq!(take(&mut s), "250 9999-12-31T23:59:59Z\r\n");
    let mut d = TcpService::new(ServiceKind::Daytime, world(), Config::default());
    d.on_connect(before_epoch);
    assert_eq!(take(&mut d), "Thu, 01 Jan 1970 00:00:00 GMT\r\n");
}

#[test]
fn service_names_round_trip() {
    for kind in ServiceKind::ALL {
        assert_eq!(kind.name().parse::<ServiceKind>(), Ok(kind));
        assert_eq!(kind.name().to_uppercase().parse::<ServiceKind>(), Ok(kind));
    }
    let err = "qotd".parse::<ServiceKind>().unwrap_err();
    assert!(err.to_string().contains("qotd"));
    assert_eq!(ServiceKind::default(), ServiceKind::Info);
}

/// `release_idle` between any two inputs (a driver calls it before each wait) changes nothing
/// the peer sees: a partial line, a telnet negotiation, replies not yet taken all survive it.
#[test]
fn releasing_idle_buffers_between_inputs_changes_no_reply() {
    for telnet in [TelnetMode::Off, TelnetMode::On] {
        let config = Config {
            telnet,
            ..Config::default()
        };
        let mut plain = tcp_with(ServiceKind::Info, config);
        let mut released = tcp_with(ServiceKind::Info, config);
        released.release_idle();
        let mut a = String::new();
        let mut b = String::new();
        for (input, _) in INFO_CONVERSATION {
            for byte in input.as_bytes() {
                plain.receive(wall(), std::slice::from_ref(byte));
                released.release_idle();
                released.receive(wall(), std::slice::from_ref(byte));
                released.release_idle();
                if *byte == b'\n' {
                    a.push_str(&take(&mut plain));
                    released.release_idle();
                    b.push_str(&take(&mut released));
                }
            }
        }
        assert!(!a.is_empty());
        assert_eq!(a, b, "telnet {telnet:?}");
        assert!(released.is_done());
    }
    let mut echo = tcp(ServiceKind::Echo);
    echo.receive(wall(), b"half a li");
    echo.release_idle();
    echo.receive(wall(), b"ne\r\n");
    assert_eq!(take(&mut echo), "half a line\r\n");
}
