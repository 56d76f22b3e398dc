//! The client: a session over one connection (`get`, `connect --tls`), on the same loop as a
//! server's connection.

use std::net::SocketAddr;
use std::time::Duration;

use portline_common::driver::dial;
use portline_common::{ClientError, Session};

use crate::driver;

/// Connect to `addr` and drive `session` until it is done.
pub fn run_client(
    addr: SocketAddr,
    connect_timeout: Duration,
    session: &mut dyn Session,
) -> Result<(), ClientError> {
    let stream = dial::tcp(addr, connect_timeout).map_err(ClientError::Connect)?;
    driver::drive(&stream, session, None).map_err(ClientError::from)
}
