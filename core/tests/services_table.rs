//! The services table: the parser on the Debian file (a fixture copy), malformed lines, the
//! built-in table, lookups, and a comparison of every entry with `getent services` on this
//! machine.

// A test may read the machine's file and run getent; core/src stays pure.
#![allow(clippy::disallowed_methods)]

use std::process::Command;

use portline_core::services::{Entry, LookupError, Query, QueryError, Services};

const FIXTURE: &str = include_str!("fixtures/services");

fn entry(name: &str, port: u16, proto: &str, aliases: &[&str]) -> Entry {
    Entry {
        name: name.into(),
        port,
        proto: proto.into(),
        aliases: aliases.iter().map(|a| (*a).into()).collect(),
    }
}

#[test]
fn parses_the_debian_file() {
    let table = Services::parse(FIXTURE);
    // Every non-comment, non-blank line of the Debian file is a well-formed entry.
    let expected = FIXTURE
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .count();
    assert!(expected > 100);
    assert_eq!(table.entries().len(), expected);
    assert_eq!(table.entries()[0], entry("tcpmux", 1, "tcp", &[]));
    assert_eq!(
        table.by_port(80, "tcp"),
        Ok(&entry("http", 80, "tcp", &["www"]))
    );
    assert_eq!(
        table.by_name("krb5", "tcp"),
        Ok(&entry(
            "kerberos",
            88,
            "tcp",
            &["kerberos5", "krb5", "kerberos-sec"]
        ))
    );
    assert_eq!(
        table.by_port(19, "udp"),
        Ok(&entry("chargen", 19, "udp", &["ttytst", "source"]))
    );
}

#[test]
fn malformed_lines_are_skipped() {
    let cases: &[(&str, Option<Entry>)] = &[
        ("", None),
        ("   \t ", None),
        ("# just a comment", None),
        ("foo", None),
        ("foo 80", None),
        ("foo 80/", None),
        ("foo /tcp", None),
        ("foo x/tcp", None),
        ("foo 80tcp", None),
        ("foo 65536/tcp", None),
        ("foo -1/tcp", None),
        ("foo 80/tcp", Some(entry("foo", 80, "tcp", &[]))),
        (
            "foo\t\t80/udp\t\tbar baz",
            Some(entry("foo", 80, "udp", &["bar", "baz"])),
        ),
        (
            "foo 80/tcp bar # comment",
            Some(entry("foo", 80, "tcp", &["bar"])),
        ),
        (
            "foo 80/tcp bar# comment",
            Some(entry("foo", 80, "tcp", &["bar"])),
        ),
        ("foo 80/tcp#comment", Some(entry("foo", 80, "tcp", &[]))),
        ("foo 80/tcp \r", Some(entry("foo", 80, "tcp", &[]))),
        ("  foo 0/tcp", Some(entry("foo", 0, "tcp", &[]))),
        ("foo 65535/sctp", Some(entry("foo", 65535, "sctp", &[]))),
    ];
    for (line, want) in cases {
        let table = Services::parse(line);
        assert_eq!(table.entries().first(), want.as_ref(), "{line:?}");
        assert!(table.entries().len() <= 1);
        // The same line among good ones does not disturb them.
        let text = format!("a 1/tcp\n{line}\nb 2/tcp\n");
        let table = Services::parse(&text);
        assert_eq!(
            table.entries().len(),
            2 + usize::from(want.is_some()),
            "{line:?}"
        );
        assert_eq!(table.entries().last(), Some(&entry("b", 2, "tcp", &[])));
    }
}

#[test]
fn builtin_table_is_a_subset_of_debian_and_has_the_common_ports() {
    let builtin = Services::builtin();
    let debian = Services::parse(FIXTURE);
    for e in builtin.entries() {
        assert!(debian.entries().contains(e), "{e} differs from Debian's");
    }
    for (name, port) in [
        ("ftp", 21),
        ("ssh", 22),
        ("telnet", 23),
        ("smtp", 25),
        ("domain", 53),
        ("http", 80),
        ("pop3", 110),
        ("nntp", 119),
        ("https", 443),
        ("echo", 7),
        ("discard", 9),
        ("daytime", 13),
        ("chargen", 19),
    ] {
        assert_eq!(builtin.by_name(name, "tcp").map(|e| e.port), Ok(port));
        assert_eq!(
            builtin.by_port(port, "tcp").map(|e| e.name.as_str()),
            Ok(name)
        );
    }
}

#[test]
fn lookups_and_errors() {
    let table = Services::parse("a 5/udp x\nb 5/tcp y\nc 5/tcp x\n");
    assert_eq!(
        table.by_port(5, "tcp").unwrap().name,
        "b",
        "first match in file order"
    );
    assert_eq!(
        table.by_name("x", "tcp").unwrap().name,
        "c",
        "alias, right protocol"
    );
    assert_eq!(table.by_name("x", "udp").unwrap().name, "a");
    assert_eq!(table.by_name("X", "udp"), Err(LookupError::ServiceNotFound));
    assert_eq!(table.by_port(6, "tcp"), Err(LookupError::PortNotFound));
    assert_eq!(table.by_port(5, "sctp"), Err(LookupError::PortNotFound));
    assert_eq!(
        LookupError::PortNotFound.to_string(),
        "port/proto not found"
    );
    assert_eq!(
        LookupError::ServiceNotFound.to_string(),
        "service/proto not found"
    );

    let queries: &[(&str, Result<Query<'_>, QueryError>)] = &[
        (
            "5",
            Ok(Query::Port {
                port: 5,
                proto: "tcp",
            }),
        ),
        (
            "5/udp",
            Ok(Query::Port {
                port: 5,
                proto: "udp",
            }),
        ),
        (
            "x",
            Ok(Query::Name {
                name: "x",
                proto: "tcp",
            }),
        ),
        (
            "x/udp",
            Ok(Query::Name {
                name: "x",
                proto: "udp",
            }),
        ),
        (
            "5x",
            Ok(Query::Name {
                name: "5x",
                proto: "tcp",
            }),
        ),
        ("", Err(QueryError::Empty)),
        ("/tcp", Err(QueryError::Empty)),
        ("5/", Err(QueryError::EmptyProto)),
        ("70000", Err(QueryError::BadPort)),
    ];
    for (text, want) in queries {
        assert_eq!(&Query::parse(text), want, "{text:?}");
    }
    assert_eq!(
        table.lookup(Query::parse("x/udp").unwrap()).map(|e| e.port),
        Ok(5)
    );
    assert_eq!(
        table.lookup(Query::parse("nope").unwrap()),
        Err(LookupError::ServiceNotFound)
    );
}

/// Run `getent services KEYS...`; `None` when getent is not installed.
fn getent(keys: &[String]) -> Option<String> {
    match Command::new("getent").arg("services").args(keys).output() {
        Ok(out) => Some(String::from_utf8(out.stdout).expect("getent prints ASCII")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("PORTLINE_REQUIRE_PEERS").is_none_or(|v| v != "1"),
                "getent is missing and PORTLINE_REQUIRE_PEERS=1"
            );
            eprintln!("notice: getent not found, skipping the comparison with getent");
            None
        }
        Err(e) => panic!("running getent: {e}"),
    }
}

/// `getent` lines (`name   port/proto aliases`) normalised to single spaces.
fn normalise(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn every_entry_agrees_with_getent() {
    let Ok(text) = std::fs::read_to_string("/etc/services") else {
        eprintln!("notice: no /etc/services on this machine, skipping the getent comparison");
        return;
    };
    let table = Services::parse(&text);
    // The whole table, as enumerated by getent.
    let Some(all) = getent(&[]) else { return };
    let ours: Vec<String> = table.entries().iter().map(|e| e.to_string()).collect();
    assert_eq!(ours, normalise(&all));

    // Every port/proto and every name/proto and alias/proto, looked up both ways.
    let mut keys = Vec::new();
    let mut want = Vec::new();
    for e in table.entries() {
        keys.push(format!("{}/{}", e.port, e.proto));
        want.push(table.by_port(e.port, &e.proto).unwrap().to_string());
        for name in std::iter::once(&e.name).chain(&e.aliases) {
            keys.push(format!("{name}/{}", e.proto));
            want.push(table.by_name(name, &e.proto).unwrap().to_string());
        }
    }
    let got = getent(&keys).expect("getent ran above");
    assert_eq!(normalise(&got), want);

    // Keys that are not there give nothing, there and here.
    let missing = ["65000/tcp".to_string(), "no-such-service/tcp".to_string()];
    assert_eq!(getent(&missing).expect("getent ran above"), "");
    assert_eq!(table.by_port(65000, "tcp"), Err(LookupError::PortNotFound));
    assert_eq!(
        table.by_name("no-such-service", "tcp"),
        Err(LookupError::ServiceNotFound)
    );
}
