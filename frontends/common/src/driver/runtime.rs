//! What a frontend implements: sockets and a loop. Everything else is shared.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::apps::bench::{self, Live, Plan, Stats};
use crate::driver::session::{DatagramService, Session, SessionFactory};

/// Options every TCP or UDP server takes from the command line.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The address to bind (port 0: the OS picks one, and the ready line tells it).
    pub listen: SocketAddr,
    /// Worker threads / event loops (frontends that have one loop may ignore it).
    pub threads: usize,
    /// Most connections open at once; further ones wait or get the factory's overload reply.
    pub max_connections: usize,
    /// How long responses in flight may take to finish after SIGINT/SIGTERM.
    pub grace: Duration,
}

/// A way of driving sessions over real sockets: blocking std, mio, smol.
pub trait Runtime {
    /// The binary's name, e.g. `portline-std`, for `--help` and messages.
    fn name(&self) -> &'static str;

    /// Bind a TCP listener, call `ready` with its real address once it accepts, and drive one
    /// session per connection until SIGINT/SIGTERM; then stop accepting, let sessions in flight
    /// finish within `opts.grace`, and return `Ok(())`.
    fn serve_tcp(
        &self,
        opts: &ServerOptions,
        factory: Arc<dyn SessionFactory>,
        ready: &mut dyn FnMut(SocketAddr),
    ) -> io::Result<()>;

    /// Bind a UDP socket, call `ready`, and answer datagrams with `service` until SIGINT/SIGTERM.
    fn serve_udp(
        &self,
        opts: &ServerOptions,
        service: Box<dyn DatagramService>,
        ready: &mut dyn FnMut(SocketAddr),
    ) -> io::Result<()>;

    /// Connect to `addr` (within `connect_timeout`, with [`dial::tcp`](crate::driver::dial::tcp)) and
    /// drive `session` until it is done and its output is written. The session writes what it receives wherever it prints (stdout, a file).
    /// An error from `connect` itself is returned as is, so the caller can name the stage.
    fn run_client(
        &self,
        addr: SocketAddr,
        connect_timeout: Duration,
        session: &mut dyn Session,
    ) -> Result<(), ClientError>;

    /// Run the load of `bench` (see [`bench`](mod@crate::apps::bench)): `plan.connections` keep-alive connections to
    /// `plan.addr` until `plan.end`, each driving a [`bench::BenchConn`] and reconnecting after a
    /// close or a failure; counts go into one [`Stats`] per thread, merged into the one
    /// returned, and now and then into `live` for the progress line.
    ///
    /// The default is blocking `std::net`, a thread per connection ([`bench::run_blocking`]).
    fn bench(&self, plan: &Plan, live: &Live) -> Stats {
        bench::run_blocking(plan, live)
    }
}

/// A socket failure inside a driver's loop: which half of the socket failed, and how. Every
/// driver reports this one type, and a client maps it to [`ClientError`] with `From`.
#[derive(Debug)]
pub enum SocketFailure {
    /// Reading from the peer failed (a reset, a read timeout of the socket's own).
    Read(io::Error),
    /// Writing to the peer failed (a reset, a broken pipe, a write that stalled too long).
    Write(io::Error),
}

impl From<SocketFailure> for ClientError {
    fn from(f: SocketFailure) -> Self {
        match f {
            SocketFailure::Read(e) => ClientError::Receive(e),
            SocketFailure::Write(e) => ClientError::Send(e),
        }
    }
}

/// Where a client failed, for an error message that names the stage.
#[derive(Debug)]
pub enum ClientError {
    /// Connecting failed (refused, unreachable, timed out).
    Connect(io::Error),
    /// Writing the request failed.
    Send(io::Error),
    /// Reading the response failed.
    Receive(io::Error),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Connect(e) => write!(f, "connect: {e}"),
            ClientError::Send(e) => write!(f, "send: {e}"),
            ClientError::Receive(e) => write!(f, "receive: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_failure_names_the_client_stage_of_its_half() {
        let read = ClientError::from(SocketFailure::Read(io::ErrorKind::ConnectionReset.into()));
        assert!(
            matches!(&read, ClientError::Receive(e) if e.kind() == io::ErrorKind::ConnectionReset)
        );
        assert_eq!(read.to_string(), "receive: connection reset");
        let write = ClientError::from(SocketFailure::Write(io::ErrorKind::BrokenPipe.into()));
        assert!(matches!(&write, ClientError::Send(e) if e.kind() == io::ErrorKind::BrokenPipe));
        assert_eq!(write.to_string(), "send: broken pipe");
    }
}
