//! The client side of a connection, opened the same way for every driver: `get` (each
//! runtime's [`Runtime::run_client`](crate::Runtime::run_client) dials here, then drives the
//! session on its own loop) and `connect`.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Connect to `addr`, giving up after `timeout` with an error of kind `TimedOut` (`get` tells
/// it apart: exit 9). A blocking socket with `TCP_NODELAY`: a client writes a request or a
/// typed line at once and waits for the answer, so Nagle's delay would only add latency. A
/// driver that wants it non-blocking sets that itself (mio: `from_std`; smol: `Async::new`).
pub fn tcp(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let timed_out = || {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no answer within {timeout:?}"),
        )
    };
    if timeout.is_zero() {
        // std refuses a zero timeout (InvalidInput); no time left means the time is up.
        return Err(timed_out());
    }
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| match e.kind() {
        io::ErrorKind::TimedOut => timed_out(),
        _ => e,
    })?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_keeps_its_cause_and_no_time_is_a_timeout() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap();
        let e = tcp(closed, Duration::from_secs(5)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        let e = tcp(closed, Duration::ZERO).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(e.to_string(), "no answer within 0ns");
    }

    #[test]
    fn a_connection_is_made_without_nagle() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = tcp(listener.local_addr().unwrap(), Duration::from_secs(5)).unwrap();
        assert!(stream.nodelay().unwrap());
        assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    }
}
