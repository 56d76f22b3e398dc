//! The services table: names of ports, as in `/etc/services` (docs/LINE.md "Services table").
//!
//! [`Services::parse`] reads the `/etc/services` text (the caller reads the file); when there is
//! no file, [`Services::builtin`] gives the well-known ports. Lookups follow
//! `getservbyport(3)`/`getservbyname(3)` over the files backend: the first entry in file order
//! whose port (or name or alias) and protocol match; names are compared exactly. When no protocol
//! is given, `tcp` is assumed. Errors read like Python's `socket.getservby*`:
//! `port/proto not found`, `service/proto not found`.
//!
//! ```
//! use portline_core::services::{Query, Services};
//! let table = Services::parse("http 80/tcp www # web\nhttp 80/udp\n");
//! assert_eq!(table.by_port(80, "tcp").unwrap().name, "http");
//! assert_eq!(table.by_name("www", "tcp").unwrap().port, 80);
//! assert_eq!(table.lookup(Query::parse("81").unwrap()).unwrap_err().to_string(), "port/proto not found");
//! ```

use core::fmt;

use nom::branch::alt;
use nom::bytes::complete::take_till1;
use nom::character::complete::{char, digit1, space0, space1};
use nom::combinator::{all_consuming, map_res};
use nom::multi::many0;
use nom::sequence::preceded;
use nom::{IResult, Parser};

/// One line of the table: `name port/proto [aliases...]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// The official name, e.g. `http`.
    pub name: String,
    /// The port number.
    pub port: u16,
    /// The protocol, e.g. `tcp` or `udp`.
    pub proto: String,
    /// Other names, e.g. `www`.
    pub aliases: Vec<String>,
}

impl Entry {
    /// Whether `name` is the official name or one of the aliases (exact comparison).
    pub fn has_name(&self, name: &str) -> bool {
        self.name == name || self.aliases.iter().any(|a| a == name)
    }
}

impl fmt::Display for Entry {
    /// `name port/proto aliases...`, one space apart.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.name, self.port, self.proto)?;
        for alias in &self.aliases {
            write!(f, " {alias}")?;
        }
        Ok(())
    }
}

/// A lookup that found nothing. The texts are those of Python's `socket.getservbyport` and
/// `socket.getservbyname`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookupError {
    /// No entry has this port and protocol.
    PortNotFound,
    /// No entry has this name (or alias) and protocol.
    ServiceNotFound,
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LookupError::PortNotFound => "port/proto not found",
            LookupError::ServiceNotFound => "service/proto not found",
        })
    }
}

impl std::error::Error for LookupError {}

/// A query that cannot be looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryError {
    /// Nothing before the `/`.
    Empty,
    /// A `/` with nothing after it.
    EmptyProto,
    /// Digits that are not a port number (over 65535).
    BadPort,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueryError::Empty => "missing port or service name",
            QueryError::EmptyProto => "missing protocol after /",
            QueryError::BadPort => "port number out of range (0-65535)",
        })
    }
}

impl std::error::Error for QueryError {}

/// What to look up: `PORT[/PROTO]` or `NAME[/PROTO]`, as typed on a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query<'a> {
    /// By port number (`getservbyport`).
    Port {
        /// The port.
        port: u16,
        /// The protocol (`tcp` when none was given).
        proto: &'a str,
    },
    /// By name or alias (`getservbyname`).
    Name {
        /// The name.
        name: &'a str,
        /// The protocol (`tcp` when none was given).
        proto: &'a str,
    },
}

impl<'a> Query<'a> {
    /// Parse `80`, `80/udp`, `http` or `http/tcp`. All digits means a port.
    pub fn parse(text: &'a str) -> Result<Query<'a>, QueryError> {
        let (key, proto) = match text.split_once('/') {
            Some((_, "")) => return Err(QueryError::EmptyProto),
            Some((key, proto)) => (key, proto),
            None => (text, "tcp"),
        };
        if key.is_empty() {
            return Err(QueryError::Empty);
        }
        if key.bytes().all(|b| b.is_ascii_digit()) {
            let port = key.parse().map_err(|_| QueryError::BadPort)?;
            Ok(Query::Port { port, proto })
        } else {
            Ok(Query::Name { name: key, proto })
        }
    }
}

/// A services table: entries in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Services {
    entries: Vec<Entry>,
}

impl Services {
    /// Parse `/etc/services` text: `name port/proto [aliases...]`, `#` starts a comment, blank
    /// and malformed lines are skipped (as glibc does).
    pub fn parse(text: &str) -> Services {
        Services {
            entries: text.lines().filter_map(parse_line).collect(),
        }
    }

    /// The built-in table of well-known ports, for when there is no `/etc/services`.
    pub fn builtin() -> Services {
        Services::parse(BUILTIN)
    }

    /// A table of the given entries.
    pub fn from_entries(entries: Vec<Entry>) -> Services {
        Services { entries }
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// `getservbyport`: the first entry with this port and protocol.
    pub fn by_port(&self, port: u16, proto: &str) -> Result<&Entry, LookupError> {
        self.entries
            .iter()
            .find(|e| e.port == port && e.proto == proto)
            .ok_or(LookupError::PortNotFound)
    }

    /// `getservbyname`: the first entry with this name or alias and protocol.
    pub fn by_name(&self, name: &str, proto: &str) -> Result<&Entry, LookupError> {
        self.entries
            .iter()
            .find(|e| e.proto == proto && e.has_name(name))
            .ok_or(LookupError::ServiceNotFound)
    }

    /// [`Self::by_port`] or [`Self::by_name`], as the query says.
    pub fn lookup(&self, query: Query<'_>) -> Result<&Entry, LookupError> {
        match query {
            Query::Port { port, proto } => self.by_port(port, proto),
            Query::Name { name, proto } => self.by_name(name, proto),
        }
    }
}

/// A word: anything up to a space, tab or comment.
fn word(input: &str) -> IResult<&str, &str> {
    take_till1(|c: char| c == ' ' || c == '\t' || c == '#').parse(input)
}

/// `name port/proto aliases... [# comment]`, nothing else on the line.
fn entry(input: &str) -> IResult<&str, Entry> {
    let port = map_res(digit1, str::parse::<u16>);
    let comment = preceded(char('#'), nom::combinator::rest);
    let end = (space0, alt((comment, nom::combinator::eof)));
    let (rest, (_, name, _, port, _, proto, aliases, _)) = all_consuming((
        space0,
        word,
        space1,
        port,
        char('/'),
        word,
        many0(preceded(space1, word)),
        end,
    ))
    .parse(input)?;
    let entry = Entry {
        name: name.to_owned(),
        port,
        proto: proto.to_owned(),
        aliases: aliases.into_iter().map(str::to_owned).collect(),
    };
    Ok((rest, entry))
}

/// One line of the file: an entry, or `None` for comments, blank and malformed lines.
fn parse_line(line: &str) -> Option<Entry> {
    entry(line.trim_end_matches('\r')).ok().map(|(_, e)| e)
}

/// The well-known ports (a subset of Debian's `/etc/services`, same syntax), used when there is
/// no file.
const BUILTIN: &str = "\
tcpmux      1/tcp
echo        7/tcp
echo        7/udp
discard     9/tcp       sink null
discard     9/udp       sink null
systat      11/tcp      users
daytime     13/tcp
daytime     13/udp
netstat     15/tcp
qotd        17/tcp      quote
chargen     19/tcp      ttytst source
chargen     19/udp      ttytst source
ftp-data    20/tcp
ftp         21/tcp
fsp         21/udp      fspd
ssh         22/tcp
telnet      23/tcp
smtp        25/tcp      mail
time        37/tcp      timserver
time        37/udp      timserver
whois       43/tcp      nicname
tacacs      49/tcp
tacacs      49/udp
domain      53/tcp
domain      53/udp
bootps      67/udp
bootpc      68/udp
tftp        69/udp
gopher      70/tcp
finger      79/tcp
http        80/tcp      www
kerberos    88/tcp      kerberos5 krb5 kerberos-sec
kerberos    88/udp      kerberos5 krb5 kerberos-sec
iso-tsap    102/tcp     tsap
acr-nema    104/tcp     dicom
pop3        110/tcp     pop-3
sunrpc      111/tcp     portmapper
sunrpc      111/udp     portmapper
auth        113/tcp     authentication tap ident
nntp        119/tcp     readnews untp
ntp         123/udp
epmap       135/tcp     loc-srv
netbios-ns  137/udp
netbios-dgm 138/udp
netbios-ssn 139/tcp
imap2       143/tcp     imap
snmp        161/tcp
snmp        161/udp
snmp-trap   162/tcp     snmptrap
snmp-trap   162/udp     snmptrap
xdmcp       177/udp
bgp         179/tcp
ldap        389/tcp
ldap        389/udp
https       443/tcp
https       443/udp
microsoft-ds 445/tcp
kpasswd     464/tcp
submissions 465/tcp     ssmtp smtps urd
syslog      514/udp
printer     515/tcp     spooler
talk        517/udp
ntalk       518/udp
route       520/udp     router routed
uucp        540/tcp     uucpd
submission  587/tcp
ipp         631/tcp
ldaps       636/tcp
ldaps       636/udp
rsync       873/tcp
ftps-data   989/tcp
ftps        990/tcp
telnets     992/tcp
imaps       993/tcp
pop3s       995/tcp
socks       1080/tcp
openvpn     1194/tcp
openvpn     1194/udp
ms-sql-s    1433/tcp
ingreslock  1524/tcp
l2f         1701/udp    l2tp
radius      1812/tcp
radius      1812/udp
radius-acct 1813/tcp    radacct
radius-acct 1813/udp    radacct
nfs         2049/tcp
nfs         2049/udp
mysql       3306/tcp
ms-wbt-server 3389/tcp
sip         5060/tcp
sip         5060/udp
postgresql  5432/tcp    postgres
amqp        5672/tcp
x11         6000/tcp    x11-0
ircd        6667/tcp
http-alt    8080/tcp    webcache
";
