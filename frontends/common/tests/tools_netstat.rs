//! `netstat`: the kernel tables decoded (fixture text, incl. IPv6 `::1`) and a live listener seen.

use std::net::{TcpListener, UdpSocket};

use portline_common::cli::tools::netstat::{self, Args, Table};

/// A little-endian kernel's `/proc/net/tcp6`: `[::1]:8080` listening, and a connected socket
/// between v4-mapped loopback addresses.
const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000100007F:D431 01 00000002:00000003 00:00000000 00000000  1000        0 12346 1 0000000000000000 20 4 30 10 -1
";

const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 1111 2 0000000000000000 0
  101: 0100007F:A000 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 1112 2 0000000000000000 0
";

#[test]
#[cfg(target_endian = "little")]
fn fixture_ipv6_loopback_decodes_to_colon_colon_1() {
    let s = netstat::parse_table(Table::Tcp6, TCP6).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].local, "[::1]:8080".parse().unwrap());
    assert_eq!(s[0].remote, "[::]:0".parse().unwrap());
    assert_eq!(s[0].state, "LISTEN");
    assert!(s[0].listening);
    assert_eq!(s[1].local, "[::ffff:127.0.0.1]:80".parse().unwrap());
    assert_eq!(s[1].remote, "[::ffff:127.0.0.1]:54321".parse().unwrap());
    assert_eq!((s[1].send_q, s[1].recv_q), (2, 3));
    assert!(!s[1].listening);
}

#[test]
#[cfg(target_endian = "little")]
fn fixture_udp_unconnected_is_listening() {
    let s = netstat::parse_table(Table::Udp, UDP).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].local, "127.0.0.1:53".parse().unwrap());
    assert!(s[0].listening);
    assert_eq!(s[0].state, "");
    assert_eq!(s[1].remote, "127.0.0.1:53".parse().unwrap());
    assert_eq!(s[1].state, "ESTABLISHED");
    assert!(!s[1].listening);
}

#[test]
fn selection_by_flags() {
    let mut all = netstat::parse_table(Table::Tcp6, TCP6).unwrap();
    all.extend(netstat::parse_table(Table::Udp, UDP).unwrap());
    let count = |args: Args| netstat::select(&args, all.clone()).len();
    let a = |t, u, l, a| Args {
        tcp: t,
        udp: u,
        listening: l,
        all: a,
        numeric: true,
    };
    assert_eq!(count(a(false, false, false, true)), 4);
    assert_eq!(count(a(false, false, true, false)), 2);
    assert_eq!(count(a(false, false, false, false)), 2);
    assert_eq!(count(a(true, false, false, true)), 2);
    assert_eq!(count(a(false, true, true, false)), 1);
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for text in [
        "header\n   0: zz:zz",
        "header\n 0: 0100007F:0035",
        "header\n   0: 0100007F:0035 00000000:0000 99 0:0 0:0 0 0 0 1",
    ] {
        assert!(netstat::parse_table(Table::Tcp, text).is_err(), "{text:?}");
    }
}

#[test]
fn live_listeners_appear_in_listening_output() {
    if !std::path::Path::new("/proc/net/tcp").exists() {
        eprintln!("notice: no /proc/net here; skipping");
        return;
    }
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tcp_addr = tcp.local_addr().unwrap().to_string();
    let udp_addr = udp.local_addr().unwrap().to_string();

    let listening = Args {
        listening: true,
        numeric: true,
        ..Args::default()
    };
    let out = netstat::report(&listening).unwrap();
    assert!(
        out.starts_with("Proto Recv-Q Send-Q Local Address"),
        "{out}"
    );
    let tcp_line = out
        .lines()
        .find(|l| l.contains(&tcp_addr))
        .unwrap_or_else(|| panic!("{tcp_addr} not in\n{out}"));
    assert!(
        tcp_line.starts_with("tcp ") && tcp_line.ends_with("LISTEN"),
        "{tcp_line}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("udp ") && l.contains(&udp_addr)),
        "{udp_addr} not in\n{out}"
    );

    let only_udp = Args {
        udp: true,
        ..listening.clone()
    };
    let out = netstat::report(&only_udp).unwrap();
    assert!(!out.contains(&tcp_addr) && out.contains(&udp_addr), "{out}");

    let not_listening = Args {
        numeric: true,
        ..Args::default()
    };
    let out = netstat::report(&not_listening).unwrap();
    assert!(!out.contains(&tcp_addr), "{out}");
}

#[test]
#[cfg(target_endian = "little")]
fn rendering_numeric_and_with_service_names() {
    let mut all = netstat::parse_table(Table::Tcp6, TCP6).unwrap();
    all.extend(netstat::parse_table(Table::Udp, UDP).unwrap());
    let numeric = netstat::render(&all, None);
    let lines: Vec<&str> = numeric.lines().collect();
    assert_eq!(
        lines,
        [
            "Proto Recv-Q Send-Q Local Address           Foreign Address         State",
            "tcp6       0      0 ::1:8080                :::*                    LISTEN",
            "tcp6       3      2 ::ffff:127.0.0.1:80     ::ffff:127.0.0.1:54321  ESTABLISHED",
            "udp        0      0 127.0.0.1:53            0.0.0.0:*",
            "udp        0      0 127.0.0.1:40960         127.0.0.1:53            ESTABLISHED",
        ]
    );
    let names = portline_core::services::Services::builtin();
    let named = netstat::render(&all, Some(&names));
    assert!(named.contains(" ::ffff:127.0.0.1:http "), "{named}");
    assert!(named.contains(" 127.0.0.1:domain "), "{named}");
    assert!(named.contains(" 127.0.0.1:40960 "), "{named}");
}

#[test]
fn run_succeeds_where_proc_net_exists() {
    let args = Args {
        listening: true,
        ..Args::default()
    };
    let expected = if std::path::Path::new("/proc/net/tcp").exists() {
        0
    } else {
        1
    };
    assert_eq!(netstat::run(&args), expected);
}

#[test]
fn live_ipv6_loopback_listener_is_decoded() {
    if !std::path::Path::new("/proc/net/tcp6").exists() {
        eprintln!("notice: no /proc/net/tcp6 (IPv6 off); skipping");
        return;
    }
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        eprintln!("notice: cannot bind [::1]; skipping");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let args = Args {
        tcp: true,
        listening: true,
        numeric: true,
        ..Args::default()
    };
    let out = netstat::report(&args).unwrap();
    let want = format!("tcp6       0      0 ::1:{port} ");
    assert!(
        out.lines()
            .any(|l| l.starts_with(&want) && l.ends_with("LISTEN")),
        "{want:?} not in\n{out}"
    );
}
