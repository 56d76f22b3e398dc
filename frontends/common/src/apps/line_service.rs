//! Line services (`portline_core::line`) wired to the frontends' [`Session`] and
//! [`DatagramService`].
//!
//! The core's services are pure state machines; this module gives them the world: the host name
//! and addresses and the services table (gathered once, when the factory or UDP service is
//! made, and shared by every connection), the wall clock (`SystemTime::now()` read here, at each
//! input), and a monotonic `Time` measured from the process-wide origin of [`crate::driver::clock`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use portline_core::line::{self, Config, TcpService, TelnetMode, UdpConfig, UdpService, World};

use crate::cli::tools::{info, table};
use crate::driver::clock;
use crate::driver::session::{DatagramService, Session, SessionFactory};

/// Which line service to run.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServiceKind {
    /// The `info` command service (docs/LINE.md).
    #[default]
    Info,
    /// RFC 862.
    Echo,
    /// RFC 863.
    Discard,
    /// RFC 867.
    Daytime,
    /// RFC 864.
    Chargen,
}

impl From<ServiceKind> for line::ServiceKind {
    fn from(kind: ServiceKind) -> line::ServiceKind {
        match kind {
            ServiceKind::Info => line::ServiceKind::Info,
            ServiceKind::Echo => line::ServiceKind::Echo,
            ServiceKind::Discard => line::ServiceKind::Discard,
            ServiceKind::Daytime => line::ServiceKind::Daytime,
            ServiceKind::Chargen => line::ServiceKind::Chargen,
        }
    }
}

/// How to run a line service.
#[derive(Debug, Clone)]
pub struct LineOptions {
    /// The service.
    pub service: ServiceKind,
    /// Telnet mode (RFC 854 negotiation refused, IAC handling).
    pub telnet: bool,
    /// Longest line accepted (docs/LINE.md: 8 KiB).
    pub max_line: usize,
}

impl Default for LineOptions {
    fn default() -> LineOptions {
        LineOptions {
            service: ServiceKind::default(),
            telnet: false,
            max_line: line::DEFAULT_MAX_LINE,
        }
    }
}

impl LineOptions {
    /// The core codec's settings: telnet from the first byte with `--telnet`, otherwise never
    /// (docs/LINE.md: "on only by option"), so a 0xFF data byte is data, not a command.
    fn codec_config(&self) -> Config {
        Config {
            max_line: self.max_line,
            telnet: if self.telnet {
                TelnetMode::On
            } else {
                TelnetMode::Off
            },
        }
    }
}

/// The world of this machine for the services: host name and addresses (as `info` finds them)
/// and the services table (`/etc/services` or the built-in one). This blocks on the resolver;
/// call it once per server.
pub fn gather_world() -> Arc<World> {
    let host = info::gather();
    let addresses = host.ips();
    Arc::new(World {
        hostname: host.name,
        addresses,
        services: table::load_default(),
    })
}

/// A factory of TCP sessions for the service. Gathers the world once (see [`gather_world`]).
pub fn tcp_factory(opts: &LineOptions) -> Arc<dyn SessionFactory> {
    tcp_factory_with(opts, gather_world())
}

/// [`tcp_factory`] with a given world (tests use a fixed one).
pub fn tcp_factory_with(opts: &LineOptions, world: Arc<World>) -> Arc<dyn SessionFactory> {
    // Fix the origin before the first connection, so every Time is measured from server start.
    let _ = clock::origin();
    Arc::new(LineFactory {
        kind: opts.service.into(),
        config: opts.codec_config(),
        world,
    })
}

/// The UDP form of the service. Gathers the world once (see [`gather_world`]).
pub fn udp_service(opts: &LineOptions) -> Box<dyn DatagramService> {
    udp_service_with(opts, gather_world())
}

/// [`udp_service`] with a given world (tests use a fixed one).
pub fn udp_service_with(opts: &LineOptions, world: Arc<World>) -> Box<dyn DatagramService> {
    let _ = clock::origin();
    let config = UdpConfig {
        max_line: opts.max_line,
        ..UdpConfig::default()
    };
    Box::new(LineDatagrams {
        service: UdpService::new(opts.service.into(), world, config),
    })
}

struct LineFactory {
    kind: line::ServiceKind,
    config: Config,
    world: Arc<World>,
}

impl SessionFactory for LineFactory {
    fn session(&self, _now: Instant, _peer: SocketAddr, _local: SocketAddr) -> Box<dyn Session> {
        let mut service = TcpService::new(self.kind, Arc::clone(&self.world), self.config);
        service.on_connect(SystemTime::now());
        Box::new(LineSession { service })
    }
}

/// One TCP connection: the core's [`TcpService`] with the wall clock supplied.
struct LineSession {
    service: TcpService,
}

impl Session for LineSession {
    fn receive(&mut self, _now: Instant, data: &[u8]) {
        self.service.receive(SystemTime::now(), data);
    }

    fn receive_eof(&mut self, _now: Instant) {
        self.service.receive_eof(SystemTime::now());
    }

    fn handle_timeout(&mut self, _now: Instant) {
        // Line services set no timers.
    }

    fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>, budget: usize) {
        self.service.poll_transmit(out, budget);
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn wants_read(&self) -> bool {
        self.service.wants_read()
    }

    fn is_done(&self) -> bool {
        self.service.is_done()
    }

    fn release_idle(&mut self) {
        self.service.release_idle();
    }
}

/// The UDP service: the core's [`UdpService`] (source-port filter, per-source budget) with the
/// clocks supplied.
struct LineDatagrams {
    service: UdpService,
}

impl DatagramService for LineDatagrams {
    fn handle_datagram(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        self.service
            .handle_datagram(clock::to_time(now), SystemTime::now(), peer, data, out)
    }
}
