//! # portline-std
//!
//! The blocking runtime of portline: [`StdRuntime`] implements [`Runtime`] with `std::net`
//! sockets and a thread per connection. Each thread runs the one loop of docs/ARCHITECTURE.md over
//! its [`Session`] ([`driver::drive`]): write everything the session
//! has ready, then one blocking read with the socket's read timeout set to the session's next
//! deadline, then feed the bytes (or the end of stream, or the timeout) back.
//!
//! ```text
//! cargo run -p portline-std -- serve http --listen 127.0.0.1:0
//! ```

#![deny(missing_docs)]

pub mod client;
pub mod driver;
pub mod pool;
pub mod server;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use portline_common::driver::shutdown::Shutdown;
use portline_common::{
    ClientError, DatagramService, Runtime, ServerOptions, Session, SessionFactory,
};

/// The blocking runtime.
#[derive(Debug, Clone)]
pub struct StdRuntime {
    shutdown: Shutdown,
}

impl StdRuntime {
    /// The runtime of the binary: servers stop on SIGINT and SIGTERM.
    pub fn new() -> StdRuntime {
        StdRuntime {
            shutdown: Shutdown::on_signals(),
        }
    }

    /// A runtime whose servers stop when `shutdown` is requested (no signal handlers: for
    /// tests and embedding).
    pub fn with_shutdown(shutdown: Shutdown) -> StdRuntime {
        StdRuntime { shutdown }
    }
}

impl Default for StdRuntime {
    fn default() -> StdRuntime {
        StdRuntime::new()
    }
}

impl Runtime for StdRuntime {
    fn name(&self) -> &'static str {
        "portline-std"
    }

    fn serve_tcp(
        &self,
        opts: &ServerOptions,
        factory: Arc<dyn SessionFactory>,
        ready: &mut dyn FnMut(SocketAddr),
    ) -> io::Result<()> {
        self.shutdown.serving(opts.grace, || {
            server::serve_tcp(&self.shutdown, opts, factory, ready)
        })
    }

    fn serve_udp(
        &self,
        opts: &ServerOptions,
        service: Box<dyn DatagramService>,
        ready: &mut dyn FnMut(SocketAddr),
    ) -> io::Result<()> {
        self.shutdown.serving(opts.grace, || {
            server::serve_udp(&self.shutdown, opts, service, ready)
        })
    }

    fn run_client(
        &self,
        addr: SocketAddr,
        connect_timeout: Duration,
        session: &mut dyn Session,
    ) -> Result<(), ClientError> {
        client::run_client(addr, connect_timeout, session)
    }
}
