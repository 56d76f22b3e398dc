//! The `info` subcommand: this machine's host name and every address it has, IPv4 and IPv6,
//! from the resolver (getaddrinfo on the host name) and from the network interfaces
//! (getifaddrs), loopback ones marked.
//!
//! [`gather`] is also what the `info` line service answers `HOST` with.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::net::{IpAddr, ToSocketAddrs};

/// Command-line arguments of `info`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Args {}

/// One address of this host and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddress {
    /// The address.
    pub ip: IpAddr,
    /// The interfaces that carry it (from getifaddrs), in the order found.
    pub interfaces: Vec<String>,
    /// Whether the resolver gives it for the host name.
    pub resolver: bool,
}

impl HostAddress {
    /// A loopback address (127.0.0.0/8, `::1`).
    pub fn is_loopback(&self) -> bool {
        self.ip.is_loopback()
    }
}

/// The host name and its addresses: IPv4 first, then IPv6, each in address order, no duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    /// The host name (gethostname).
    pub name: String,
    /// Every address found.
    pub addresses: Vec<HostAddress>,
    /// What could not be looked up (e.g. the resolver failed), for a note on stderr.
    pub errors: Vec<String>,
}

impl HostInfo {
    /// Merge resolver answers and `(interface, address)` pairs into one sorted, deduplicated list.
    pub fn from_parts(
        name: String,
        resolved: impl IntoIterator<Item = IpAddr>,
        interfaces: impl IntoIterator<Item = (String, IpAddr)>,
    ) -> HostInfo {
        // IpAddr orders V4 before V6, then by address.
        let mut map: BTreeMap<IpAddr, HostAddress> = BTreeMap::new();
        let entry = |map: &mut BTreeMap<IpAddr, HostAddress>, ip: IpAddr| {
            // An IPv6 link-local address carries its scope elsewhere; the address is the key.
            map.entry(ip).or_insert_with(|| HostAddress {
                ip,
                interfaces: Vec::new(),
                resolver: false,
            });
        };
        for ip in resolved {
            entry(&mut map, ip);
            if let Some(a) = map.get_mut(&ip) {
                a.resolver = true;
            }
        }
        for (iface, ip) in interfaces {
            entry(&mut map, ip);
            if let Some(a) = map.get_mut(&ip) {
                if !a.interfaces.contains(&iface) {
                    a.interfaces.push(iface);
                }
            }
        }
        HostInfo {
            name,
            addresses: map.into_values().collect(),
            errors: Vec::new(),
        }
    }

    /// Just the addresses, in order.
    pub fn ips(&self) -> Vec<IpAddr> {
        self.addresses.iter().map(|a| a.ip).collect()
    }

    /// The text `info` prints: the host name, then one address per line with
    /// `(loopback)` where it applies and where the address was found.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.name);
        for a in &self.addresses {
            let mut sources: Vec<&str> = a.interfaces.iter().map(String::as_str).collect();
            if a.resolver {
                sources.push("resolver");
            }
            let loopback = if a.is_loopback() { " (loopback)" } else { "" };
            let _ = writeln!(out, "  {}{loopback} [{}]", a.ip, sources.join(", "));
        }
        out
    }
}

/// Look up the host name and its addresses now (this blocks on the resolver).
pub fn gather() -> HostInfo {
    let name = gethostname::gethostname().to_string_lossy().into_owned();
    let mut errors = Vec::new();
    let resolved: Vec<IpAddr> = if name.is_empty() {
        errors.push("gethostname: empty host name".to_string());
        Vec::new()
    } else {
        match (name.as_str(), 0).to_socket_addrs() {
            Ok(addrs) => addrs.map(|a| a.ip()).collect(),
            Err(e) => {
                errors.push(format!("resolve: {name}: {e}"));
                Vec::new()
            }
        }
    };
    let interfaces = match if_addrs::get_if_addrs() {
        Ok(ifaces) => ifaces
            .into_iter()
            .map(|i| (i.name.clone(), i.ip()))
            .collect(),
        Err(e) => {
            errors.push(format!("interfaces: {e}"));
            Vec::new()
        }
    };
    let mut info = HostInfo::from_parts(name, resolved, interfaces);
    info.errors = errors;
    info
}

/// Run `info`; returns the process exit status (1 when neither a name nor an address was found).
pub fn run(args: &Args) -> i32 {
    let Args {} = args;
    let info = gather();
    let found = !(info.name.is_empty() && info.addresses.is_empty());
    for e in &info.errors {
        // Errors when nothing was found (exit 1), warnings beside what was.
        if found {
            crate::cli::message::warning("", e);
        } else {
            crate::cli::message::error("", e);
        }
    }
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout
        .write_all(info.render().as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() != io::ErrorKind::BrokenPipe {
            crate::cli::message::error("stdout", e);
            return 1;
        }
    }
    if found { 0 } else { 1 }
}
