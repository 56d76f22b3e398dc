//! Servers: a TCP accept loop with a thread per connection (kept for the next connection when
//! its own ends: [`crate::pool`]), and a UDP loop.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use portline_common::driver::admission::{Admission, Admitted, Closer};
use portline_common::driver::listen::{ListenOptions, listen_tcp, local_address};
use portline_common::driver::policy::{
    ACCEPT_BACKOFF, AcceptError, AcceptFailures, DATAGRAM_BUFFER, LINGER, LINGER_BYTES,
    reset_on_close, session_panicked,
};
use portline_common::driver::shutdown::Shutdown;
use portline_common::{DatagramService, ServerOptions, SessionFactory};

use crate::driver;
use crate::pool::Pool;

/// Stack size of a connection thread: sessions keep their buffers on the heap.
const STACK_SIZE: usize = 256 * 1024;

/// How long a shutdown waits for the threads of cut connections to end (each only has to see
/// its socket fail and drop its session).
const CUT_WAIT: Duration = Duration::from_secs(1);

/// Where to reach our own listener to wake a blocked `accept`/`recv_from`: the bound address,
/// with the unspecified address replaced by loopback.
fn wake_address(local: SocketAddr) -> SocketAddr {
    let ip = match local.ip() {
        IpAddr::V4(a) if a.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(a) if a.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, local.port())
}

/// The connections open now, reachable so that a shutdown can end their reading (the limit is
/// [`Admission`]'s).
#[derive(Default)]
struct Registry {
    conns: Mutex<(u64, HashMap<u64, Arc<TcpStream>>)>,
    emptied: Condvar,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, (u64, HashMap<u64, Arc<TcpStream>>)> {
        // Only inserts and removes happen under the lock; a panic cannot leave it inconsistent.
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, stream: &Arc<TcpStream>) -> u64 {
        let mut g = self.lock();
        g.0 += 1;
        let id = g.0;
        g.1.insert(id, stream.clone());
        id
    }

    fn remove(&self, id: u64) {
        let mut g = self.lock();
        g.1.remove(&id);
        if g.1.is_empty() {
            self.emptied.notify_all();
        }
    }

    fn len(&self) -> usize {
        self.lock().1.len()
    }

    /// End every connection's input: its blocked read returns 0, so the session answers what
    /// it has already received and closes.
    fn shutdown_reads(&self) {
        for s in self.lock().1.values() {
            let _ = s.shutdown(std::net::Shutdown::Read);
        }
    }

    /// Cut every connection (both directions): a thread blocked writing to a peer that does
    /// not read fails at once, ends its session and leaves.
    fn cut(&self) {
        for s in self.lock().1.values() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Wait until no connection is left, or `grace` has passed. True if none is left.
    fn wait_empty(&self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        let mut g = self.lock();
        while !g.1.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            g = self
                .emptied
                .wait_timeout(g, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}

/// Removes a connection from the registry when its thread ends, even by a panic.
struct Leave(u64, Arc<Registry>);

impl Drop for Leave {
    fn drop(&mut self) {
        self.1.remove(self.0);
    }
}

/// A lingering close (`policy::LINGER`): send our FIN, then read and drop what the peer still
/// sends, for at most [`LINGER`] and [`LINGER_BYTES`].
fn linger(stream: &TcpStream) {
    if stream.shutdown(std::net::Shutdown::Write).is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER;
    let mut buf = [0u8; 4096];
    let mut dropped = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match (&*stream).read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                dropped += n;
                if dropped > LINGER_BYTES {
                    return;
                }
            }
        }
    }
}

/// Accept connections until `shutdown` is requested; a thread per connection drives a session
/// from `factory`. Then stop accepting, end the connections' input and wait up to `opts.grace`
/// for their responses to finish.
pub fn serve_tcp(
    shutdown: &Shutdown,
    opts: &ServerOptions,
    factory: Arc<dyn SessionFactory>,
    ready: &mut dyn FnMut(SocketAddr),
) -> io::Result<()> {
    let listener = listen_tcp(opts.listen, ListenOptions::default())?;
    let local = listener.local_addr()?;
    let wake = wake_address(local);
    let _registration = shutdown.on_request(move || {
        // A connection to ourselves returns the blocked accept, which then sees the flag.
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
    });
    let registry = Arc::new(Registry::default());
    let admission = Admission::new(opts.max_connections);
    let overload = factory.overload_reply();
    let accept_failures = AcceptFailures::new();
    // A thread per connection, kept for the next one when its connection ends (`pool`).
    let pool = Pool::new("portline-conn", STACK_SIZE);
    ready(local);
    while !shutdown.is_requested() {
        let attempt = accept_failures.attempt();
        let (stream, peer) = match listener.accept() {
            Ok(c) => {
                accept_failures.succeeded(attempt);
                c
            }
            Err(e) => match accept_failures.failed(&e) {
                AcceptError::Skip => continue,
                // Out of descriptors, or anything unexpected (said once per run): the backlog
                // stays full, so retrying at once would spin.
                AcceptError::BackOff | AcceptError::Unexpected => {
                    std::thread::sleep(ACCEPT_BACKOFF);
                    continue;
                }
            },
        };
        if shutdown.is_requested() {
            break;
        }
        let stream = Arc::new(stream);
        let victim = stream.clone();
        let close: Closer = Box::new(move || {
            let _ = victim.shutdown(std::net::Shutdown::Both);
        });
        let Admitted::Yes(ticket) = admission.admit(Instant::now(), peer, close) else {
            // Full of busy connections: the factory's reply (an HTTP 503), without ever
            // blocking the accept loop on this peer, then close.
            if let Some(reply) = &overload {
                let _ = stream.set_nonblocking(true);
                let sent = (&*stream).write(reply).unwrap_or(0);
                let _ = stream.shutdown(std::net::Shutdown::Write);
                factory.refused(Instant::now(), peer, sent);
            }
            continue;
        };
        let leave = Leave(registry.add(&stream), registry.clone());
        let factory = factory.clone();
        let spawned = pool.run(Box::new(move || {
            let _leave = leave;
            let _ = stream.set_nodelay(true);
            // A panic (a bug in the app) would end this thread alone; caught, it is said in
            // the one message format and the connection reset, as the other runtimes do.
            let served = catch_unwind(AssertUnwindSafe(|| {
                let local = local_address(local, || stream.local_addr());
                let mut session = factory.session(Instant::now(), peer, local);
                driver::drive(&stream, &mut *session, Some(&ticket)).map(|()| session.lingers())
            }));
            match served {
                Ok(Ok(true)) => linger(&stream),
                // Owing the peer nothing (closed by its own timer), or a socket error.
                Ok(Ok(false) | Err(_)) => {}
                Err(panic) => {
                    session_panicked(Some(peer), panic.as_ref());
                    reset_on_close(&*stream);
                }
            }
        }));
        if spawned.is_err() {
            // Out of threads: the closure (and with it the registry entry) is dropped.
            std::thread::sleep(ACCEPT_BACKOFF);
        }
    }
    drop(listener);
    registry.shutdown_reads();
    if !registry.wait_empty(opts.grace) {
        shutdown.unfinished(registry.len());
        // What outlasts the grace period is cut, as in the other runtimes, so that an
        // embedder's server has dropped its sessions when this returns.
        registry.cut();
        registry.wait_empty(CUT_WAIT);
    }
    Ok(())
}

/// Answer datagrams with `service` until `shutdown` is requested.
pub fn serve_udp(
    shutdown: &Shutdown,
    opts: &ServerOptions,
    mut service: Box<dyn DatagramService>,
    ready: &mut dyn FnMut(SocketAddr),
) -> io::Result<()> {
    let socket = UdpSocket::bind(opts.listen)?;
    let local = socket.local_addr()?;
    let wake = wake_address(local);
    let _registration = shutdown.on_request(move || {
        // An empty datagram to ourselves returns the blocked recv_from.
        let any: SocketAddr = if wake.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        if let Ok(s) = UdpSocket::bind(any) {
            let _ = s.send_to(&[], wake);
        }
    });
    ready(local);
    let mut buf = vec![0u8; DATAGRAM_BUFFER];
    let mut out = Vec::with_capacity(1024);
    while !shutdown.is_requested() {
        let (n, peer) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            // ICMP errors from earlier replies, signals: not this loop's concern.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::WouldBlock
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        if shutdown.is_requested() {
            break;
        }
        out.clear();
        if service.handle_datagram(Instant::now(), peer, &buf[..n], &mut out) {
            let _ = socket.send_to(&out, peer);
        }
    }
    Ok(())
}
