//! portline on mio: the loop of docs/ARCHITECTURE.md over edge-triggered, non-blocking sockets.
//!
//! ```text
//! cargo run --release -p portline-mio -- serve http --listen 127.0.0.1:8080
//! ```
//!
//! Each of `--threads` event loops owns an `SO_REUSEPORT` listener on the same address, a slab
//! of connections, a timer heap fed by every session's `poll_timeout`, and a pool of output
//! buffers (an idle connection holds none). A connection is driven by one rule: read until
//! `WouldBlock` into its [`Session`], gather its output into one
//! buffer once the previous one is written, write, and ask for writability only while a tail
//! is left, so a slow reader stops the session from producing more.
//!
//! Around that rule:
//! - accept runs until `WouldBlock`; out of descriptors (EMFILE/ENFILE) it pauses 100 ms instead
//!   of spinning, and says so once for all loops; over `--max-connections` a connection gets the
//!   factory's overload reply and is closed;
//! - a session that panics (a bug) is caught, said once, and its connection reset; the loop
//!   serves its other connections on;
//! - a finished connection whose peer has not ended its side half-closes and discards input for
//!   up to 2 s before closing, so that unread input cannot turn the close into a reset that
//!   destroys the last response;
//! - SIGINT/SIGTERM (or [`Shutdown::request`](portline_common::Shutdown::request)) closes the
//!   listeners and every connection with nothing left to write; the others finish within the
//!   grace period, then the server returns `Ok(())`. A second signal exits at once.
//!
//! The app (command line, file server, line services, clients) is `portline_common`; this crate
//! is only [`MioRuntime`], its [`Runtime`] implementation.
//!
//! ```no_run
//! use portline_common::Shutdown;
//! use portline_mio::MioRuntime;
//!
//! // A runtime that stops when `shutdown.request()` is called, not on signals.
//! let shutdown = Shutdown::new();
//! let runtime = MioRuntime::with_shutdown(shutdown.clone());
//! # let _ = runtime;
//! ```

mod bench;
mod client;
mod conn;
mod pool;
mod server;
mod timers;
mod udp;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use portline_common::apps::bench::{Live, Plan, Stats};
use portline_common::{
    ClientError, DatagramService, Runtime, ServerOptions, Session, SessionFactory, Shutdown,
};

/// The mio [`Runtime`]: event loops for servers, a small loop for each client.
#[derive(Debug)]
pub struct MioRuntime {
    shutdown: Shutdown,
}

impl Default for MioRuntime {
    fn default() -> Self {
        Self::new()
    }
}

impl MioRuntime {
    /// The binary's runtime: servers stop on SIGINT or SIGTERM.
    pub fn new() -> Self {
        MioRuntime {
            shutdown: Shutdown::on_signals(),
        }
    }

    /// A runtime whose servers stop when `shutdown` is requested; signals are left alone.
    pub fn with_shutdown(shutdown: Shutdown) -> Self {
        MioRuntime { shutdown }
    }

    /// The flag that stops this runtime's servers.
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }
}

impl Runtime for MioRuntime {
    fn name(&self) -> &'static str {
        "portline-mio"
    }

    fn serve_tcp(
        &self,
        opts: &ServerOptions,
        factory: Arc<dyn SessionFactory>,
        ready: &mut dyn FnMut(SocketAddr),
    ) -> io::Result<()> {
        self.shutdown.serving(opts.grace, || {
            server::serve(opts, factory, &self.shutdown, ready)
        })
    }

    fn serve_udp(
        &self,
        opts: &ServerOptions,
        service: Box<dyn DatagramService>,
        ready: &mut dyn FnMut(SocketAddr),
    ) -> io::Result<()> {
        self.shutdown.serving(opts.grace, || {
            udp::serve(opts.listen, service, &self.shutdown, ready)
        })
    }

    fn run_client(
        &self,
        addr: SocketAddr,
        connect_timeout: Duration,
        session: &mut dyn Session,
    ) -> Result<(), ClientError> {
        client::run(addr, connect_timeout, session)
    }

    /// An event loop per thread, each with its share of the connections, as wrk.
    fn bench(&self, plan: &Plan, live: &Live) -> Stats {
        bench::run(plan, live)
    }
}
