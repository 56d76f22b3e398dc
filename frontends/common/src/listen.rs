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
}
