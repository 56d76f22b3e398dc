//! Addresses as typed on the command line: `HOST:PORT`, `[IPV6]:PORT`, and a service name in
//! place of the port (`localhost:http`), resolved with the system resolver (`ToSocketAddrs`).

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::sync::OnceLock;

use portline_core::services::Services;

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
            return Err(io::Error::new(io::ErrorKind::NotFound, "no address found"));
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

    /// `HOST:PORT`, `[IPV6]:PORT`, or a service name as the port (parsed by
    /// [`portline_core::addr::HostPort::parse`]; names from [`services`]).
    fn from_str(s: &str) -> Result<HostPort, String> {
        let hp = portline_core::addr::HostPort::parse(s, None, services(), "tcp")
            .map_err(|e| format!("`{s}`: {e}"))?;
        Ok(HostPort {
            host: hp.host.to_string(),
            port: hp.port,
        })
    }
}

/// The services table of this machine: `/etc/services`, or the built-in table when it cannot
/// be read. Read once per process.
pub fn services() -> &'static Services {
    static TABLE: OnceLock<Services> = OnceLock::new();
    TABLE.get_or_init(|| match std::fs::read_to_string("/etc/services") {
        Ok(text) => {
            let table = Services::parse(&text);
            if table.entries().is_empty() {
                Services::builtin()
            } else {
                table
            }
        }
        Err(_) => Services::builtin(),
    })
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
            ("[::1]:0", Some(("::1", 0))),
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
