//! Addresses as typed on the command line: `HOST:PORT`, `[IPV6]:PORT`, and a service name in
//! place of the port (`localhost:http`), resolved with the system resolver (`ToSocketAddrs`).

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;

/// A host (name or IP literal) and a port, not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// The host name or IP literal, without the brackets of an IPv6 literal.
    pub host: String,
    /// The port (a service name has been looked up already).
    pub port: u16,
}

impl HostPort {
    /// Every address the resolver gives for this host and port, in its order of preference.
    pub fn resolve(&self) -> io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port).to_socket_addrs()?.collect();
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no address found", self.host),
            ));
        }
        Ok(addrs)
    }

    /// The first resolved address (what a server binds to).
    pub fn resolve_first(&self) -> io::Result<SocketAddr> {
        Ok(self.resolve()?[0])
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for HostPort {
    type Err = String;

    fn from_str(s: &str) -> Result<HostPort, String> {
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("`{s}`: missing `]` after the IPv6 address"))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| format!("`{s}`: expected `[IPV6]:PORT`"))?;
            (host, port)
        } else {
            let (host, port) = s
                .rsplit_once(':')
                .ok_or_else(|| format!("`{s}`: expected HOST:PORT"))?;
            if host.contains(':') {
                return Err(format!(
                    "`{s}`: write an IPv6 address in brackets: [IPV6]:PORT"
                ));
            }
            (host, port)
        };
        if host.is_empty() {
            return Err(format!("`{s}`: the host is empty"));
        }
        if port.is_empty() {
            return Err(format!("`{s}`: the port is empty"));
        }
        let port = parse_port(port, "tcp")?;
        Ok(HostPort {
            host: host.to_string(),
            port,
        })
    }
}

/// A port number, or a service name looked up in the services table (`http` is 80).
pub fn parse_port(s: &str, proto: &str) -> Result<u16, String> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u16>()
            .map_err(|_| format!("port `{s}` is out of range (0-65535)"));
    }
    port_by_name(s, proto).ok_or_else(|| format!("{s}/{proto} not found"))
}

/// The port of the service `name` over `proto` (getservbyname), from /etc/services or the
/// built-in table.
///
/// (A small reader of its own until `portline_core`'s services table is in: the first
/// `name port/proto [aliases]` line whose name or alias matches, else a few well-known ports.)
pub fn port_by_name(name: &str, proto: &str) -> Option<u16> {
    if let Ok(text) = std::fs::read_to_string("/etc/services") {
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(first), Some(port_proto)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, p)) = port_proto.split_once('/') else {
                continue;
            };
            let named = first.eq_ignore_ascii_case(name)
                || words.any(|alias| alias.eq_ignore_ascii_case(name));
            if named && p.eq_ignore_ascii_case(proto) {
                if let Ok(port) = port.parse() {
                    return Some(port);
                }
            }
        }
    }
    const BUILT_IN: &[(&str, u16)] = &[
        ("echo", 7),
        ("discard", 9),
        ("daytime", 13),
        ("chargen", 19),
        ("ftp", 21),
        ("ssh", 22),
        ("telnet", 23),
        ("smtp", 25),
        ("domain", 53),
        ("http", 80),
        ("pop3", 110),
        ("nntp", 119),
        ("imap", 143),
        ("https", 443),
    ];
    BUILT_IN
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let cases: &[(&str, Option<(&str, u16)>)] = &[
            ("127.0.0.1:8080", Some(("127.0.0.1", 8080))),
            ("localhost:0", Some(("localhost", 0))),
            ("[::1]:7070", Some(("::1", 7070))),
            ("localhost:http", Some(("localhost", 80))),
            ("example.org:https", Some(("example.org", 443))),
            ("::1:80", None),
            ("localhost", None),
            ("localhost:", None),
            (":80", None),
            ("[::1]", None),
            ("[::1:80", None),
            ("host:65536", None),
            ("host:no-such-service-xyz", None),
        ];
        for (input, want) in cases {
            let got = input.parse::<HostPort>();
            match want {
                Some((h, p)) => {
                    let hp = got.unwrap_or_else(|e| panic!("{input}: {e}"));
                    assert_eq!((hp.host.as_str(), hp.port), (*h, *p), "{input}");
                }
                None => assert!(got.is_err(), "{input} should be rejected: {got:?}"),
            }
        }
    }

    #[test]
    fn resolves_loopback_and_displays_brackets() {
        let hp: HostPort = "[::1]:8080".parse().unwrap();
        assert_eq!(hp.to_string(), "[::1]:8080");
        let v4: HostPort = "127.0.0.1:9".parse().unwrap();
        assert_eq!(
            v4.resolve_first().unwrap(),
            "127.0.0.1:9".parse::<SocketAddr>().unwrap()
        );
    }
}
