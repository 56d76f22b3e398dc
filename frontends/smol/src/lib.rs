//! portline on [smol]: every connection is one async task that runs the loop of
//! docs/ARCHITECTURE.md over an `Async<TcpStream>`, on an executor shared by `--threads` threads.
//!
//! ```text
//! cargo run -p portline-smol -- serve http --listen 127.0.0.1:8080
//! ```
//!
//! - **One task per connection**, the socket's only reader and only writer: read until the
//!   socket would block and feed [`Session::receive`] (a read of 0: [`Session::receive_eof`],
//!   then flush and close); gather every ready response into one buffer with
//!   [`Session::poll_transmit`] and write all of it before asking for more (a slow reader
//!   blocks the write, so memory stays at one [`TRANSMIT_BUDGET`]); race the read against
//!   the connection's one alarm for [`Session::poll_timeout`], moved only when the deadline
//!   comes earlier (a later one is found when it rings), so a request does not re-arm it;
//!   close once [`Session::is_done`] and flushed. A server's alarms (and lingering closes) are
//!   entries of one heap, rung by one task with one reactor timer set 5 ms after the earliest
//!   deadline (so that deadlines close together ring in one wake-up): async-io splits its
//!   whole timer map at every reactor turn, which with 3,000 slow clients cost 1,866
//!   instructions a turn instead of 684 (a client's connection keeps a timer of its own).
//!   A write that makes no progress for 60 s ends the connection, as in portline-std. A task
//!   yields after a few turns in a row that did not wait: smol does not preempt, and an
//!   always-ready socket would otherwise starve the other connections of its thread.
//!   Every open connection holds its task's future, idle ones included, and a future is as
//!   large as its largest state: each wait is therefore a `poll_fn` over one connection state
//!   (`Async::poll_readable`/`poll_writable` and the timer polled in place), not a
//!   combination of `read_with`/`write_with` and timer futures (432 bytes, not 1,160; about
//!   1.2 KB per idle connection in all, the reactor's and executor's entries included).
//! - **Threads**: one `Executor` run by `--threads` threads (`easy-parallel`); one acceptor
//!   with a backlog of 1024 that accepts until the listener would block, then waits for
//!   readiness, and backs off on EMFILE instead of spinning. `--max-connections`
//!   is a counter: over it, the factory's overload reply, then close.
//! - **Shutdown** ([`portline_common::driver::shutdown::Shutdown`], set by SIGINT/SIGTERM): stop
//!   accepting (the listener is closed), close idle connections, give the busy ones the grace
//!   period, then drop what is left and return `Ok`.
//! - **Files**: the shared file server reads a file in bounded chunks (at most one transmit
//!   budget, 64 KiB) inside `poll_transmit`, on the executor thread. Such a read is short and
//!   bounded (usually from the page cache), so it is not moved to a blocking pool.
//! - **Clients**: `get` and `connect --tls` drive their session with the same task body on
//!   the calling thread (plain `connect` is common code on blocking sockets).
//!
//! ```no_run
//! use portline_common::Runtime;
//! use portline_smol::SmolRuntime;
//! # use std::sync::Arc;
//! # fn factory() -> Arc<dyn portline_common::SessionFactory> { unimplemented!() }
//! let opts = portline_common::ServerOptions {
//!     listen: "127.0.0.1:0".parse().unwrap(),
//!     threads: 2,
//!     max_connections: 1000,
//!     grace: std::time::Duration::from_secs(5),
//! };
//! SmolRuntime::new()
//!     .serve_tcp(&opts, factory(), &mut |addr| eprintln!("listening on {addr}"))
//!     .unwrap();
//! ```
//!
//! [smol]: https://docs.rs/smol
//! [`Session::receive`]: portline_common::Session::receive
//! [`Session::poll_transmit`]: portline_common::Session::poll_transmit
//! [`Session::poll_timeout`]: portline_common::Session::poll_timeout
//! [`Session::is_done`]: portline_common::Session::is_done
//! [`TRANSMIT_BUDGET`]: portline_common::TRANSMIT_BUDGET

mod bench;
mod client;
mod conn;
mod deadlines;
mod server;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use portline_common::apps::bench::{Live, Plan, Stats};
use portline_common::driver::shutdown::Shutdown;
use portline_common::{
    ClientError, DatagramService, Runtime, ServerOptions, Session, SessionFactory,
};

/// The smol runtime: async tasks on a multi-threaded executor.
#[derive(Debug)]
pub struct SmolRuntime {
    shutdown: Shutdown,
}

impl SmolRuntime {
    /// The runtime of the `portline-smol` binary: servers stop on SIGINT or SIGTERM.
    pub fn new() -> Self {
        SmolRuntime {
            shutdown: Shutdown::on_signals(),
        }
    }

    /// A runtime whose servers stop when `shutdown` is requested, and never touch the process's
    /// signal handlers (for tests and embedding).
    pub fn with_shutdown(shutdown: Shutdown) -> Self {
        SmolRuntime { shutdown }
    }

    /// The shutdown flag this runtime's servers watch.
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }
}

impl Default for SmolRuntime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime for SmolRuntime {
    fn name(&self) -> &'static str {
        "portline-smol"
    }

    fn serve_tcp(
        &self,
        opts: &ServerOptions,
        factory: Arc<dyn SessionFactory>,
        ready: &mut dyn FnMut(SocketAddr),
    ) -> io::Result<()> {
        self.shutdown.serving(opts.grace, || {
            server::serve_tcp(opts, factory, ready, &self.shutdown)
        })
    }

    fn serve_udp(
        &self,
        opts: &ServerOptions,
        service: Box<dyn DatagramService>,
        ready: &mut dyn FnMut(SocketAddr),
    ) -> io::Result<()> {
        self.shutdown.serving(opts.grace, || {
            server::serve_udp(opts, service, ready, &self.shutdown)
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

    /// A task per connection on `plan.threads` executor threads.
    fn bench(&self, plan: &Plan, live: &Live) -> Stats {
        bench::run(plan, live)
    }
}
