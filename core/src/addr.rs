//! Addresses as typed on the command line: `HOST:PORT`, `[IPV6]:PORT`, `HOST:SERVICE`, a bare
//! host with a default port, and `http://host[:port]/path?query` URLs.
//!
//! The result is a description, not a socket address: a host name stays a name, and resolving it
//! (DNS) is the frontend's job. Service names are looked up in a [`Services`] table the caller
//! passes in.
//!
//! ```
//! use portline_core::addr::{Host, HostPort, HttpUrl};
//! use portline_core::services::Services;
//! let table = Services::builtin();
//! let a = HostPort::parse("localhost:http", None, &table, "tcp").unwrap();
//! assert_eq!((a.host, a.port), (Host::Name("localhost".into()), 80));
//! let b = HostPort::parse("[::1]:8080", None, &table, "tcp").unwrap();
//! assert_eq!(b.to_string(), "[::1]:8080");
//! let u = HttpUrl::parse("http://example.com:8080/a?b=c#frag").unwrap();
//! assert_eq!((u.port, u.target.as_str()), (8080, "/a?b=c"));
//! ```

use core::fmt;
use core::net::{IpAddr, Ipv6Addr, SocketAddr};

use crate::services::Services;

/// A host: an IP address, or a name to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// An IPv4 or IPv6 address literal.
    Ip(IpAddr),
    /// A host name (letters, digits, `-`, `.`, `_`), resolved by the frontend.
    Name(String),
}

impl fmt::Display for Host {
    /// The name, or the address without brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => ip.fmt(f),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// What is wrong with an address or URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddrError {
    /// The text is empty.
    Empty,
    /// Nothing before the `:` (or an empty host in a URL).
    MissingHost,
    /// No port, and no default for this use.
    MissingPort,
    /// A number that is not a port (0 to 65535).
    BadPort(String),
    /// A port name that the services table does not know for this protocol.
    UnknownService(String),
    /// A host that is neither an IP address nor a valid name.
    BadHost(String),
    /// An IPv6 address with a port must be in brackets: `[::1]:80`.
    Ipv6NeedsBrackets(String),
    /// `[` without `]`, or something other than `:PORT` after `]`.
    BadBrackets(String),
    /// A URL the URL parser rejects (its message).
    BadUrl(String),
    /// A URL scheme other than `http` and `https`.
    UnsupportedScheme(String),
    /// `user:password@` in a URL (not supported).
    UserInfo,
    /// A URL where `HOST:PORT` is wanted (`connect http://example.com/`); holds the
    /// `HOST:PORT` the URL names, when it names one.
    UrlNotAddress(Option<String>),
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrError::Empty => f.write_str("empty address"),
            AddrError::MissingHost => f.write_str("missing host"),
            AddrError::MissingPort => f.write_str("missing port (use HOST:PORT)"),
            AddrError::BadPort(p) => write!(f, "bad port {p:?} (expected 0-65535 or a name)"),
            AddrError::UnknownService(s) => write!(f, "unknown service name {s:?}"),
            AddrError::BadHost(h) => write!(f, "bad host {h:?}"),
            AddrError::Ipv6NeedsBrackets(a) => {
                write!(f, "{a:?}: put an IPv6 address in brackets, e.g. [::1]:8080")
            }
            AddrError::BadBrackets(a) => {
                write!(f, "{a:?}: expected [IPV6] or [IPV6]:PORT")
            }
            AddrError::BadUrl(e) => write!(f, "bad URL: {e}"),
            AddrError::UnsupportedScheme(s) => {
                write!(
                    f,
                    "unsupported URL scheme {s:?} (only http:// and https:// are supported)"
                )
            }
            AddrError::UserInfo => f.write_str("user:password@ in URLs is not supported"),
            AddrError::UrlNotAddress(Some(hp)) => {
                write!(f, "a URL, not an address: give HOST:PORT ({hp})")
            }
            AddrError::UrlNotAddress(None) => f.write_str("a URL, not an address: give HOST:PORT"),
        }
    }
}

impl std::error::Error for AddrError {}

/// A host and a port, e.g. from `--listen 127.0.0.1:8080` or `connect localhost:echo`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// The host.
    pub host: Host,
    /// The port (0 means "any free port" when listening).
    pub port: u16,
}

impl HostPort {
    /// Parse `HOST:PORT`, `HOST:SERVICE`, `[IPV6]:PORT`, `[IPV6]`, a bare IPv6 address, or a
    /// bare host. A service name is looked up in `services` for protocol `proto` (`"tcp"` or
    /// `"udp"`); without a port, `default_port` is used, or [`AddrError::MissingPort`].
    pub fn parse(
        text: &str,
        default_port: Option<u16>,
        services: &Services,
        proto: &str,
    ) -> Result<HostPort, AddrError> {
        if text.is_empty() {
            return Err(AddrError::Empty);
        }
        if text.contains("://") {
            // Its colons would otherwise read as an IPv6 address without brackets.
            let named = HttpUrl::parse(text).ok().map(|u| u.host_port().to_string());
            return Err(AddrError::UrlNotAddress(named));
        }
        let (host, port) = if let Some(inner) = text.strip_prefix('[') {
            let Some((v6, after)) = inner.split_once(']') else {
                return Err(AddrError::BadBrackets(text.to_owned()));
            };
            let ip: Ipv6Addr = v6.parse().map_err(|_| AddrError::BadHost(v6.to_owned()))?;
            let port = match after {
                "" => None,
                _ => match after.strip_prefix(':') {
                    Some(port) => Some(port),
                    None => return Err(AddrError::BadBrackets(text.to_owned())),
                },
            };
            (Host::Ip(IpAddr::V6(ip)), port)
        } else {
            match text.matches(':').count() {
                0 => (parse_host(text)?, None),
                1 => {
                    let (host, port) = text.split_once(':').expect("one colon counted");
                    (parse_host(host)?, Some(port))
                }
                _ => match text.parse::<Ipv6Addr>() {
                    Ok(ip) => (Host::Ip(IpAddr::V6(ip)), None),
                    Err(_) => return Err(AddrError::Ipv6NeedsBrackets(text.to_owned())),
                },
            }
        };
        let port = match port {
            None => default_port.ok_or(AddrError::MissingPort)?,
            Some(port) => parse_port(port, services, proto)?,
        };
        Ok(HostPort { host, port })
    }

    /// The socket address, when the host is an IP address (no resolution needed).
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match &self.host {
            Host::Ip(ip) => Some(SocketAddr::new(*ip, self.port)),
            Host::Name(_) => None,
        }
    }
}

impl fmt::Display for HostPort {
    /// `host:port`, `[v6]:port`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            host => write!(f, "{host}:{}", self.port),
        }
    }
}

/// A port: digits, or a service name from the table.
fn parse_port(text: &str, services: &Services, proto: &str) -> Result<u16, AddrError> {
    if text.is_empty() {
        return Err(AddrError::MissingPort);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map_err(|_| AddrError::BadPort(text.to_owned()));
    }
    services
        .by_name(text, proto)
        .map(|e| e.port)
        .map_err(|_| AddrError::UnknownService(text.to_owned()))
}

/// `http` or `https` when `text` starts with that scheme and a colon that is not followed by
/// `//`: `http:/x`, `https:example.com` (a port cannot follow a scheme name).
fn scheme_without_slashes(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once(':')?;
    ["http", "https"]
        .into_iter()
        .find(|s| s.eq_ignore_ascii_case(scheme))
        .map(|_| scheme)
}

/// The longest host name (RFC 1035: 255 octets on the wire, 253 characters as text).
const MAX_HOST_NAME: usize = 253;

/// An IPv4 literal or a host name.
fn parse_host(text: &str) -> Result<Host, AddrError> {
    if text.is_empty() {
        return Err(AddrError::MissingHost);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    let valid = text.len() <= MAX_HOST_NAME
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && !text.starts_with('.')
        && !text.contains("..");
    if valid {
        Ok(Host::Name(text.to_owned()))
    } else {
        Err(AddrError::BadHost(text.to_owned()))
    }
}

/// The scheme of an [`HttpUrl`]: what the bytes travel in. The core only names it; the TLS
/// layer of `https` lives in the frontends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http://`: HTTP straight over TCP, port 80 by default.
    Http,
    /// `https://`: HTTP inside TLS, port 443 by default (RFC 9110 §4.2.2).
    Https,
}

impl Scheme {
    /// The port used when the URL names none: 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// An `http://` or `https://` URL, as the `get` command needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// The host (a name is lower-cased and IDNA-encoded by the URL parser).
    pub host: Host,
    /// The port: the one given, or the scheme's default (80, 443).
    pub port: u16,
    /// The request target: the path (at least `/`), and `?query` if there is one. The fragment
    /// is dropped, as it is never sent.
    pub target: String,
}

impl HttpUrl {
    /// Parse an `http://` or `https://` URL. Without a scheme (`example.com/x`), `http://` is assumed, as
    /// curl does.
    pub fn parse(text: &str) -> Result<HttpUrl, AddrError> {
        if text.is_empty() {
            return Err(AddrError::Empty);
        }
        let owned;
        let text = if text.contains("://") {
            text
        } else if let Some(scheme) = scheme_without_slashes(text) {
            // `http:/x` or `https:host`: WHATWG reads these as URLs, the default scheme here
            // would read `http` as a host name; either way it is not what was meant.
            return Err(AddrError::BadUrl(format!(
                "\"//\" missing after \"{scheme}:\" (write {scheme}://HOST/...)"
            )));
        } else {
            owned = format!("http://{text}");
            &owned
        };
        // WHATWG parsing reads `http:///path` as host `path`; a user who typed it gave no host.
        let after_scheme = text.split_once("://").map_or(text, |(_, rest)| rest);
        if after_scheme.is_empty() || after_scheme.starts_with(['/', '?', '#']) {
            return Err(AddrError::MissingHost);
        }
        let url = url::Url::parse(text).map_err(|e| match e {
            url::ParseError::EmptyHost => AddrError::MissingHost,
            url::ParseError::InvalidPort => AddrError::BadPort(port_text(text)),
            e => AddrError::BadUrl(e.to_string()),
        })?;
        let scheme = match url.scheme() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => return Err(AddrError::UnsupportedScheme(other.to_owned())),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(AddrError::UserInfo);
        }
        let host = match url.host() {
            None => return Err(AddrError::MissingHost),
            Some(url::Host::Domain("")) => return Err(AddrError::MissingHost),
            Some(url::Host::Domain(d)) => Host::Name(d.to_owned()),
            Some(url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
        };
        let port = url.port_or_known_default().unwrap_or(scheme.default_port());
        let mut target = url.path().to_owned();
        if target.is_empty() {
            target.push('/');
        }
        if let Some(query) = url.query() {
            target.push('?');
            target.push_str(query);
        }
        Ok(HttpUrl {
            scheme,
            host,
            port,
            target,
        })
    }

    /// The `Host:` header value: the host, with `:port` unless it is the scheme's default,
    /// IPv6 in brackets.
    pub fn host_header(&self) -> String {
        let host = match &self.host {
            Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
            host => host.to_string(),
        };
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The host and port to connect to.
    pub fn host_port(&self) -> HostPort {
        HostPort {
            host: self.host.clone(),
            port: self.port,
        }
    }
}

/// The text after the authority's last `:`, for the bad-port message.
fn port_text(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(after_scheme);
    authority
        .rsplit_once(':')
        .map_or(authority, |(_, port)| port)
        .to_owned()
}
