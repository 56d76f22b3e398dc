//! The client: a session over one connection (`get`, `connect --tls`), driven by the same
//! task body as a server's connection, on the calling thread.

use std::net::SocketAddr;
use std::time::Duration;

use portline_common::driver::dial;
use portline_common::{ClientError, Session};
use smol::Async;

use crate::conn::{self, Conn};

/// Drive `session` over a new connection to `addr`; see [`Runtime::run_client`].
///
/// [`Runtime::run_client`]: portline_common::Runtime::run_client
pub(crate) fn run_client(
    addr: SocketAddr,
    connect_timeout: Duration,
    session: &mut dyn Session,
) -> Result<(), ClientError> {
    // Dialling blocks this thread, which has nothing else to do until the connection is made.
    let stream = dial::tcp(addr, connect_timeout).map_err(ClientError::Connect)?;
    let stream = Async::new(stream).map_err(ClientError::Connect)?;
    smol::block_on(async {
        match conn::drive(Conn::new(&stream, session, None), None, None).await {
            Ok(_) => Ok(()),
            Err(failure) => Err(failure.into()),
        }
    })
}
