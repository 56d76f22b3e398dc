//! The listening socket every frontend binds: one place for the backlog and socket options.

use std::io;
use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

/// The accept backlog. std's `TcpListener::bind` uses 128, which drops SYNs (and costs a 1 s
/// retransmit each) when a thousand clients connect at once; nginx uses 511, and Linux caps it at
/// `net.core.somaxconn` (4096 by default).
pub const BACKLOG: i32 = 1024;

/// How a frontend wants its listener.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListenOptions {
    /// `SO_REUSEPORT`, so that several event loops can each bind their own listener to the same
    /// address and let the kernel spread connections among them.
    pub reuse_port: bool,
    /// Non-blocking accepts (event loops and async runtimes).
    pub nonblocking: bool,
}

/// A TCP listener on `addr` with `SO_REUSEADDR` (a restarted server can bind while old
/// connections sit in TIME_WAIT, as std does), IPv6-only for IPv6 addresses, and a backlog of
/// [`BACKLOG`].
pub fn listen_tcp(addr: SocketAddr, opts: ListenOptions) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if opts.reuse_port {
        socket.set_reuse_port(true)?;
    }
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(opts.nonblocking)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// `count` listeners on `addr` with `SO_REUSEPORT`, one per event loop of this process, so the
/// kernel spreads connections among them; the first resolves port 0 for the rest.
///
/// `SO_REUSEPORT` alone would also let a *second process* of the same user join the group and
/// silently take half the traffic. So before binding a named port, a probe socket binds it with
/// `SO_REUSEADDR` but without `SO_REUSEPORT`: Linux refuses that bind (`EADDRINUSE`) while any
/// socket listens on the address, which is exactly the "already in use" that a plain server
/// (std, smol, nginx) reports. The probe is closed before the group binds.
pub fn listen_tcp_group(
    addr: SocketAddr,
    count: usize,
    nonblocking: bool,
) -> io::Result<Vec<TcpListener>> {
    if addr.port() != 0 {
        let probe = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        probe.set_reuse_address(true)?;
        if addr.is_ipv6() {
            probe.set_only_v6(true)?;
        }
        probe.bind(&addr.into())?;
    }
    let opts = ListenOptions {
        reuse_port: true,
        nonblocking,
    };
    let first = listen_tcp(addr, opts)?;
    let bound = first.local_addr()?;
    let mut group = vec![first];
    for _ in 1..count.max(1) {
        group.push(listen_tcp(bound, opts)?);
    }
    Ok(group)
}

/// The local address of a connection accepted by a listener on `listening`: that address,
/// unless it is a wildcard (0.0.0.0 or ::), and then the one the peer reached, which
/// `reached` asks the socket for (getsockname). One syscall less per connection in the usual
/// case; if the socket cannot tell, `listening`.
pub fn local_address(
    listening: SocketAddr,
    reached: impl FnOnce() -> io::Result<SocketAddr>,
) -> SocketAddr {
    if listening.ip().is_unspecified() {
        reached().unwrap_or(listening)
    } else {
        listening
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_reuse_port_listeners_share_an_address_and_plain_ones_do_not() {
        let shared = ListenOptions {
            reuse_port: true,
            nonblocking: true,
        };
        let first = listen_tcp("127.0.0.1:0".parse().unwrap(), shared).unwrap();
        let addr = first.local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        let second = listen_tcp(addr, shared).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);

        let plain = listen_tcp("127.0.0.1:0".parse().unwrap(), ListenOptions::default()).unwrap();
        let taken = plain.local_addr().unwrap();
        assert!(listen_tcp(taken, ListenOptions::default()).is_err());
    }

    #[test]
    fn a_second_group_on_a_taken_port_fails_as_address_in_use() {
        let group = listen_tcp_group("127.0.0.1:0".parse().unwrap(), 2, true).unwrap();
        let addr = group[0].local_addr().unwrap();
        assert_eq!(group[1].local_addr().unwrap(), addr);
        let err = listen_tcp_group(addr, 2, true).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        // A plain listener is refused too, and once the group is gone the port is free again.
        assert!(listen_tcp(addr, ListenOptions::default()).is_err());
        drop(group);
        let again = listen_tcp_group(addr, 3, true).unwrap();
        assert_eq!(again.len(), 3);
    }

    #[test]
    fn ipv6_loopback_listens_and_accepts() {
        let Ok(l) = listen_tcp("[::1]:0".parse().unwrap(), ListenOptions::default()) else {
            eprintln!("notice: no IPv6 loopback on this machine");
            return;
        };
        let addr = l.local_addr().unwrap();
        let _c = std::net::TcpStream::connect(addr).unwrap();
        let (_s, peer) = l.accept().unwrap();
        assert!(peer.is_ipv6());
    }

    #[test]
    fn a_connection_asks_its_socket_for_its_address_only_behind_a_wildcard() {
        let on = |s: &str| s.parse::<SocketAddr>().unwrap();
        let reached = on("10.0.0.7:8080");
        let unasked = || -> io::Result<SocketAddr> { panic!("asked the socket") };
        assert_eq!(
            local_address(on("127.0.0.1:8080"), unasked),
            on("127.0.0.1:8080")
        );
        assert_eq!(local_address(on("[::1]:80"), unasked), on("[::1]:80"));
        assert_eq!(local_address(on("0.0.0.0:8080"), || Ok(reached)), reached);
        assert_eq!(local_address(on("[::]:8080"), || Ok(reached)), reached);
        let failed = || Err(io::Error::other("gone"));
        assert_eq!(
            local_address(on("0.0.0.0:8080"), failed),
            on("0.0.0.0:8080")
        );
    }
}
