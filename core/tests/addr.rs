//! Address and URL parsing: a table of inputs with the description or the error expected.

use std::net::IpAddr;

use portline_core::addr::{AddrError, Host, HostPort, HttpUrl, Scheme};
use portline_core::services::Services;

fn ip(s: &str) -> Host {
    Host::Ip(s.parse::<IpAddr>().unwrap())
}

fn name(s: &str) -> Host {
    Host::Name(s.into())
}

#[test]
fn host_port_table() {
    let table = Services::parse("http 80/tcp www\nhttp 80/udp\necho 7/tcp\nonlyudp 99/udp\n");
    type Want = Result<(Host, u16), AddrError>;
    let cases: Vec<(&str, Option<u16>, &str, Want)> = vec![
        ("127.0.0.1:8080", None, "tcp", Ok((ip("127.0.0.1"), 8080))),
        ("localhost:80", None, "tcp", Ok((name("localhost"), 80))),
        ("localhost:http", None, "tcp", Ok((name("localhost"), 80))),
        ("localhost:www", None, "tcp", Ok((name("localhost"), 80))),
        ("host:onlyudp", None, "udp", Ok((name("host"), 99))),
        (
            "host:onlyudp",
            None,
            "tcp",
            Err(AddrError::UnknownService("onlyudp".into())),
        ),
        ("[::1]:7070", None, "tcp", Ok((ip("::1"), 7070))),
        ("[::1]", Some(7), "tcp", Ok((ip("::1"), 7))),
        ("[::1]", None, "tcp", Err(AddrError::MissingPort)),
        ("::1", Some(9), "tcp", Ok((ip("::1"), 9))),
        ("fe80::1:2", Some(9), "tcp", Ok((ip("fe80::1:2"), 9))),
        (
            "[2001:db8::1]:echo",
            None,
            "tcp",
            Ok((ip("2001:db8::1"), 7)),
        ),
        (
            "example.com",
            Some(8080),
            "tcp",
            Ok((name("example.com"), 8080)),
        ),
        ("10.0.0.1", Some(1), "tcp", Ok((ip("10.0.0.1"), 1))),
        ("0.0.0.0:0", None, "tcp", Ok((ip("0.0.0.0"), 0))),
        (
            "my_host-1.lan:65535",
            None,
            "tcp",
            Ok((name("my_host-1.lan"), 65535)),
        ),
        ("example.com", None, "tcp", Err(AddrError::MissingPort)),
        ("", Some(1), "tcp", Err(AddrError::Empty)),
        (":80", None, "tcp", Err(AddrError::MissingHost)),
        ("host:", Some(1), "tcp", Err(AddrError::MissingPort)),
        (
            "host:65536",
            None,
            "tcp",
            Err(AddrError::BadPort("65536".into())),
        ),
        (
            "host:99999999999999999999",
            None,
            "tcp",
            Err(AddrError::BadPort("99999999999999999999".into())),
        ),
        (
            "host:nosuch",
            None,
            "tcp",
            Err(AddrError::UnknownService("nosuch".into())),
        ),
        (
            "host:-1",
            None,
            "tcp",
            Err(AddrError::UnknownService("-1".into())),
        ),
        (
            "::1:80x",
            None,
            "tcp",
            Err(AddrError::Ipv6NeedsBrackets("::1:80x".into())),
        ),
        (
            "a:b:c",
            None,
            "tcp",
            Err(AddrError::Ipv6NeedsBrackets("a:b:c".into())),
        ),
        (
            "[::1",
            None,
            "tcp",
            Err(AddrError::BadBrackets("[::1".into())),
        ),
        (
            "[::1]80",
            None,
            "tcp",
            Err(AddrError::BadBrackets("[::1]80".into())),
        ),
        (
            "[nothex]:80",
            None,
            "tcp",
            Err(AddrError::BadHost("nothex".into())),
        ),
        (
            "[127.0.0.1]:80",
            None,
            "tcp",
            Err(AddrError::BadHost("127.0.0.1".into())),
        ),
        (
            "bad host:80",
            None,
            "tcp",
            Err(AddrError::BadHost("bad host".into())),
        ),
        (
            "a..b:80",
            None,
            "tcp",
            Err(AddrError::BadHost("a..b".into())),
        ),
        (
            "héllo:80",
            None,
            "tcp",
            Err(AddrError::BadHost("héllo".into())),
        ),
    ];
    for (text, default, proto, want) in cases {
        let got = HostPort::parse(text, default, &table, proto).map(|hp| (hp.host, hp.port));
        assert_eq!(got, want, "{text:?}");
        if let Err(e) = got {
            assert!(!e.to_string().is_empty());
        }
    }
    // A URL given for HOST:PORT is named as one, not taken for an IPv6 address.
    let url = HostPort::parse("http://127.0.0.1:8080/", None, &table, "tcp").unwrap_err();
    assert_eq!(url, AddrError::UrlNotAddress(Some("127.0.0.1:8080".into())));
    assert_eq!(
        url.to_string(),
        "a URL, not an address: give HOST:PORT (127.0.0.1:8080)"
    );
    assert_eq!(
        HostPort::parse("ftp://x/", None, &table, "tcp"),
        Err(AddrError::UrlNotAddress(None))
    );
    let long = format!("{}:80", "a".repeat(254));
    assert!(matches!(
        HostPort::parse(&long, None, &table, "tcp"),
        Err(AddrError::BadHost(_))
    ));
}

#[test]
fn host_port_display_and_socket_addr() {
    let table = Services::builtin();
    for (text, shown) in [
        ("[::1]:80", "[::1]:80"),
        ("127.0.0.1:http", "127.0.0.1:80"),
        ("localhost:22", "localhost:22"),
    ] {
        let hp = HostPort::parse(text, None, &table, "tcp").unwrap();
        assert_eq!(hp.to_string(), shown);
        // Display parses back to the same thing.
        assert_eq!(HostPort::parse(shown, None, &table, "tcp").unwrap(), hp);
    }
    let hp = HostPort::parse("[::1]:80", None, &table, "tcp").unwrap();
    assert_eq!(hp.socket_addr(), Some("[::1]:80".parse().unwrap()));
    let hp = HostPort::parse("localhost:80", None, &table, "tcp").unwrap();
    assert_eq!(hp.socket_addr(), None);
}

#[test]
fn url_table() {
    type Want = Result<(Host, u16, &'static str, &'static str), AddrError>;
    let cases: Vec<(&str, Want)> = vec![
        (
            "http://example.com",
            Ok((name("example.com"), 80, "/", "example.com")),
        ),
        (
            "http://example.com/",
            Ok((name("example.com"), 80, "/", "example.com")),
        ),
        (
            "http://EXAMPLE.com:8080/a/b?x=1&y=2#frag",
            Ok((
                name("example.com"),
                8080,
                "/a/b?x=1&y=2",
                "example.com:8080",
            )),
        ),
        (
            "http://127.0.0.1:80/f.txt",
            Ok((ip("127.0.0.1"), 80, "/f.txt", "127.0.0.1")),
        ),
        (
            "http://[::1]:8080/",
            Ok((ip("::1"), 8080, "/", "[::1]:8080")),
        ),
        ("http://[::1]/", Ok((ip("::1"), 80, "/", "[::1]"))),
        (
            "localhost:8080/x",
            Ok((name("localhost"), 8080, "/x", "localhost:8080")),
        ),
        ("http://h/a b", Ok((name("h"), 80, "/a%20b", "h"))),
        ("http://h/?", Ok((name("h"), 80, "/?", "h"))),
        ("", Err(AddrError::Empty)),
        (
            "https://example.com/",
            Ok((name("example.com"), 443, "/", "example.com")),
        ),
        (
            "https://example.com:8443/a",
            Ok((name("example.com"), 8443, "/a", "example.com:8443")),
        ),
        (
            "https://example.com:80/",
            Ok((name("example.com"), 80, "/", "example.com:80")),
        ),
        (
            "ftp://example.com/",
            Err(AddrError::UnsupportedScheme("ftp".into())),
        ),
        ("http://user:pw@example.com/", Err(AddrError::UserInfo)),
        ("http://user@example.com/", Err(AddrError::UserInfo)),
        ("http:///path", Err(AddrError::MissingHost)),
        ("http://", Err(AddrError::MissingHost)),
        ("http://h:99999/", Err(AddrError::BadPort("99999".into()))),
        ("http://h:x/", Err(AddrError::BadPort("x".into()))),
    ];
    for (text, want) in cases {
        let got = HttpUrl::parse(text).map(|u| {
            let header = u.host_header();
            (u.host, u.port, u.target, header)
        });
        let want = want.map(|(h, p, t, hh)| (h, p, t.to_string(), hh.to_string()));
        assert_eq!(got, want, "{text:?}");
    }
    // A scheme without its slashes is a URL error, not a host named `http` to look up.
    for text in ["http:/127.0.0.1/", "https:example.com", "HTTP:/x"] {
        let bad = HttpUrl::parse(text).unwrap_err();
        assert!(matches!(bad, AddrError::BadUrl(_)), "{text}: {bad:?}");
        assert!(bad.to_string().contains("\"//\" missing"), "{text}: {bad}");
    }
    let bad = HttpUrl::parse("http://[::1/").unwrap_err();
    assert!(matches!(bad, AddrError::BadUrl(_)), "{bad:?}");
    assert!(bad.to_string().starts_with("bad URL: "));
    assert_eq!(HttpUrl::parse("h/").unwrap().scheme, Scheme::Http);
    assert_eq!(HttpUrl::parse("HTTPS://h/").unwrap().scheme, Scheme::Https);
    let u = HttpUrl::parse("http://[::1]:81/").unwrap();
    assert_eq!(u.host_port().to_string(), "[::1]:81");
}
