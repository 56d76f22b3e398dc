//! The UDP server: one socket, `recv_from` until `WouldBlock`, one reply per datagram.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};
use portline_common::DatagramService;
use portline_common::driver::shutdown::Shutdown;

const SOCKET: Token = Token(0);
const WAKER: Token = Token(1);

/// The largest UDP payload.
const MAX_DATAGRAM: usize = portline_common::driver::policy::DATAGRAM_BUFFER;

/// Answer datagrams on `listen` with `service` until shutdown is requested.
pub(crate) fn serve(
    listen: SocketAddr,
    mut service: Box<dyn DatagramService>,
    shutdown: &Shutdown,
    ready: &mut dyn FnMut(SocketAddr),
) -> io::Result<()> {
    let mut socket = UdpSocket::bind(listen)?;
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut socket, SOCKET, Interest::READABLE)?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let _registration = shutdown.on_request(move || {
        let _ = waker.wake();
    });
    ready(socket.local_addr()?);

    let mut events = Events::with_capacity(16);
    let mut buf = vec![0; MAX_DATAGRAM];
    let mut out = Vec::with_capacity(MAX_DATAGRAM);
    while !shutdown.is_requested() {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        // Whatever woke us, drain the socket: a spurious wake-up costs one WouldBlock.
        let mut errors = 0;
        while errors < 16 {
            match socket.recv_from(&mut buf) {
                Ok((n, peer)) => {
                    errors = 0;
                    out.clear();
                    if service.handle_datagram(Instant::now(), peer, &buf[..n], &mut out) {
                        // UDP may drop a datagram anywhere; a full send buffer drops this reply.
                        let _ = socket.send_to(&out, peer);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // An ICMP error for an earlier reply (e.g. port unreachable) is consumed by the
                // read that reports it; a run of errors means something else: wait for an event.
                Err(_) => errors += 1,
            }
        }
    }
    Ok(())
}
