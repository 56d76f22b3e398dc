//! The line services as frontends see them: sessions and datagram services driven in memory,
//! with a fixed world.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use portline_common::apps::line_service::{
    LineOptions, ServiceKind, gather_world, tcp_factory_with, udp_service_with,
};
use portline_common::{Session, TRANSMIT_BUDGET};
use portline_core::line::World;
use portline_core::services::Services;

fn world() -> Arc<World> {
    Arc::new(World {
        hostname: "testhost".into(),
        addresses: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
        services: Services::builtin(),
    })
}

fn opts(service: ServiceKind) -> LineOptions {
    LineOptions {
        service,
        ..LineOptions::default()
    }
}

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn session(service: ServiceKind) -> Box<dyn Session> {
    session_with(opts(service))
}

fn session_with(o: LineOptions) -> Box<dyn Session> {
    let factory = tcp_factory_with(&o, world());
    factory.session(Instant::now(), peer(), "127.0.0.1:7070".parse().unwrap())
}

/// Everything the session has to send now (as a frontend's loop would collect it).
fn drain(s: &mut dyn Session) -> String {
    let mut out = Vec::new();
    loop {
        let before = out.len();
        s.poll_transmit(Instant::now(), &mut out, TRANSMIT_BUDGET);
        if out.len() == before {
            break;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn info_conversation() {
    let mut s = session(ServiceKind::Info);
    assert_eq!(
        drain(&mut *s),
        "220 testhost portline info service ready\r\n"
    );
    assert!(!s.is_done() && s.wants_read());
    assert_eq!(s.poll_timeout(), None);

    s.receive(Instant::now(), b"SERVICE 80\r\n");
    assert_eq!(drain(&mut *s), "250 http\r\n");
    // Split across reads, lower case, LF only.
    s.receive(Instant::now(), b"serv");
    assert_eq!(drain(&mut *s), "");
    s.receive(Instant::now(), b"ice http\nSERVICE 53/udp\nSERVICE 65000\n");
    assert_eq!(
        drain(&mut *s),
        "250 80\r\n250 domain\r\n550 port/proto not found\r\n"
    );
    s.receive(Instant::now(), b"ECHO hello world\r\nHOST\r\n");
    assert_eq!(
        drain(&mut *s),
        "250 hello world\r\n250 testhost 127.0.0.1 ::1\r\n"
    );
    s.receive(Instant::now(), b"TIME\r\n");
    let time = drain(&mut *s);
    assert!(
        time.starts_with("250 2") && time.ends_with("Z\r\n"),
        "{time}"
    );

    s.receive(Instant::now(), b"QUIT\r\n");
    assert_eq!(drain(&mut *s), "221 bye\r\n");
    assert!(s.is_done());
    assert!(!s.wants_read());
}

#[test]
fn info_over_long_line_then_good_one() {
    let mut s = session_with(LineOptions {
        max_line: 16,
        ..opts(ServiceKind::Info)
    });
    drain(&mut *s);
    s.receive(Instant::now(), &[b'x'; 40]);
    s.receive(Instant::now(), b"\r\nECHO ok\r\n");
    assert_eq!(drain(&mut *s), "500 line too long\r\n250 ok\r\n");
    assert!(!s.is_done());
}

#[test]
fn echo_bytes_then_eof() {
    let mut s = session(ServiceKind::Echo);
    assert_eq!(drain(&mut *s), "");
    s.receive(Instant::now(), b"one\ntwo\r\nthr");
    assert_eq!(drain(&mut *s), "one\ntwo\r\nthr");
    // Without --telnet a 0xFF byte is data (it once switched telnet on by itself).
    s.receive(Instant::now(), &[255, 253, 1]);
    let mut out = Vec::new();
    s.poll_transmit(Instant::now(), &mut out, TRANSMIT_BUDGET);
    assert_eq!(out, [255, 253, 1]);
    s.receive_eof(Instant::now());
    assert_eq!(drain(&mut *s), "");
    assert!(s.is_done());
}

#[test]
fn telnet_option_refuses_negotiation() {
    let mut s = session_with(LineOptions {
        telnet: true,
        ..opts(ServiceKind::Echo)
    });
    // IAC DO ECHO(1) -> IAC WONT ECHO; the line is echoed.
    s.receive(Instant::now(), &[255, 253, 1, b'h', b'i', b'\r', b'\n']);
    let mut out = Vec::new();
    s.poll_transmit(Instant::now(), &mut out, TRANSMIT_BUDGET);
    s.poll_transmit(Instant::now(), &mut out, TRANSMIT_BUDGET);
    assert!(out.windows(3).any(|w| w == [255, 252, 1]), "{out:?}");
    // (The core queues the telnet answer behind replies already made from the same read.)
    assert!(out.windows(4).any(|w| w == b"hi\r\n"), "{out:?}");
    assert_eq!(out.len(), 7, "{out:?}");
}

#[test]
fn daytime_says_the_time_and_is_done() {
    let mut s = session(ServiceKind::Daytime);
    let text = drain(&mut *s);
    assert!(
        text.ends_with(" GMT\r\n") && text.len() == "Thu, 26 Nov 2026 06:15:53 GMT\r\n".len(),
        "{text}"
    );
    assert!(s.is_done());
}

#[test]
fn discard_sends_nothing() {
    let mut s = session(ServiceKind::Discard);
    s.receive(Instant::now(), b"anything\r\nat all\n");
    assert_eq!(drain(&mut *s), "");
    assert!(!s.is_done());
    s.receive_eof(Instant::now());
    assert!(s.is_done());
}

#[test]
fn chargen_is_bounded_by_the_budget() {
    let mut s = session(ServiceKind::Chargen);
    let mut out = Vec::new();
    for budget in [1, 73, 100, 1000] {
        out.clear();
        s.poll_transmit(Instant::now(), &mut out, budget);
        assert_eq!(out.len(), budget);
    }
    // Lines are 72 printable characters and CRLF, rotating by one.
    let mut s = session(ServiceKind::Chargen);
    let mut out = Vec::new();
    s.poll_transmit(Instant::now(), &mut out, 74 * 3);
    let lines: Vec<&[u8]> = out.split(|b| *b == b'\n').take(3).collect();
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l.len(), 73, "{i}");
        assert!(l[..72].iter().all(|b| (32..127).contains(b)));
    }
    assert_eq!(lines[0][1], lines[1][0]);
    assert!(!s.is_done());
    s.receive_eof(Instant::now());
    out.clear();
    s.poll_transmit(Instant::now(), &mut out, 1000);
    assert!(out.is_empty());
    assert!(s.is_done());
}

#[test]
fn udp_echo_and_no_reply_to_refused_ports() {
    let mut u = udp_service_with(&opts(ServiceKind::Echo), world());
    let mut out = Vec::new();
    assert!(u.handle_datagram(Instant::now(), peer(), b"ping", &mut out));
    assert_eq!(out, b"ping");
    for port in [0, 7, 13, 17, 19] {
        let mut out = Vec::new();
        let from = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port);
        assert!(
            !u.handle_datagram(Instant::now(), from, b"ping", &mut out),
            "{port}"
        );
        assert!(out.is_empty());
    }
}

#[test]
fn udp_budget_per_source_recovers_after_a_second() {
    let mut u = udp_service_with(&opts(ServiceKind::Echo), world());
    let t0 = Instant::now();
    let other: SocketAddr = "127.0.0.2:40000".parse().unwrap();
    let mut replies = 0;
    for _ in 0..100 {
        let mut out = Vec::new();
        replies += usize::from(u.handle_datagram(t0, peer(), b"x", &mut out));
    }
    assert!((1..100).contains(&replies), "{replies}");
    let mut out = Vec::new();
    assert!(
        u.handle_datagram(t0, other, b"x", &mut out),
        "another source has its own budget"
    );
    assert!(u.handle_datagram(t0 + Duration::from_millis(1001), peer(), b"x", &mut out));
}

#[test]
fn udp_info_and_daytime() {
    let mut u = udp_service_with(&opts(ServiceKind::Info), world());
    let mut out = Vec::new();
    assert!(u.handle_datagram(Instant::now(), peer(), b"SERVICE 80\r\n", &mut out));
    assert_eq!(out, b"250 http\r\n");
    let mut u = udp_service_with(&opts(ServiceKind::Daytime), world());
    let mut out = Vec::new();
    assert!(u.handle_datagram(Instant::now(), peer(), b"", &mut out));
    assert!(out.ends_with(b" GMT\r\n"));
}

#[test]
fn the_gathered_world_has_this_host() {
    let w = gather_world();
    assert!(!w.hostname.is_empty());
    assert!(!w.addresses.is_empty());
    assert!(!w.services.entries().is_empty());
}

#[test]
fn the_real_factory_greets_with_this_host_name() {
    let factory = portline_common::apps::line_service::tcp_factory(&opts(ServiceKind::Info));
    let mut s = factory.session(Instant::now(), peer(), "127.0.0.1:7070".parse().unwrap());
    let greeting = drain(&mut *s);
    let host = gather_world().hostname.clone();
    assert_eq!(
        greeting,
        format!("220 {host} portline info service ready\r\n")
    );
    assert!(factory.overload_reply().is_none());
}
