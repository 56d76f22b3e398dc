//! `info`: the host name and its addresses, merged, ordered and marked.

use std::net::IpAddr;

use portline_common::cli::tools::info::{self, HostInfo};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn live_output_has_the_host_name_and_an_address() {
    let info = info::gather();
    let expected = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| info.name.clone());
    assert_eq!(info.name, expected);
    assert!(!info.addresses.is_empty(), "{info:?}");
    let text = info.render();
    assert_eq!(text.lines().next(), Some(expected.as_str()), "{text}");
    // Every machine with a loopback interface lists 127.0.0.1, marked.
    if info.ips().contains(&ip("127.0.0.1")) {
        assert!(text.contains("  127.0.0.1 (loopback) ["), "{text}");
    }
    assert!(text.lines().count() > 1, "{text}");
}

#[test]
fn merges_sorts_and_marks() {
    let info = HostInfo::from_parts(
        "box".into(),
        [ip("10.0.0.5"), ip("127.0.1.1"), ip("10.0.0.5")],
        [
            ("eth0".to_string(), ip("fe80::1")),
            ("lo".to_string(), ip("::1")),
            ("lo".to_string(), ip("127.0.0.1")),
            ("eth0".to_string(), ip("10.0.0.5")),
        ],
    );
    assert_eq!(
        info.ips(),
        [
            ip("10.0.0.5"),
            ip("127.0.0.1"),
            ip("127.0.1.1"),
            ip("::1"),
            ip("fe80::1")
        ]
    );
    assert_eq!(
        info.render(),
        "box\n  10.0.0.5 [eth0, resolver]\n  127.0.0.1 (loopback) [lo]\n  127.0.1.1 (loopback) [resolver]\n  ::1 (loopback) [lo]\n  fe80::1 [eth0]\n"
    );
}

#[test]
fn run_succeeds() {
    assert_eq!(info::run(&info::Args {}), 0);
}
