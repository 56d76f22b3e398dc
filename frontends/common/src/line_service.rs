//! Line services (core/src/line) wired to the frontends' [`Session`] and [`DatagramService`].
//! (Stub fixing the interface; the tools work fills it in.)

use std::sync::Arc;

use crate::session::{DatagramService, SessionFactory};

/// Which line service to run.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServiceKind {
    /// The `info` command service (LINE.md).
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

/// How to run a line service.
#[derive(Debug, Clone)]
pub struct LineOptions {
    /// The service.
    pub service: ServiceKind,
    /// Telnet mode (RFC 854 negotiation refused, IAC handling).
    pub telnet: bool,
    /// Longest line accepted (LINE.md: 8 KiB).
    pub max_line: usize,
}

/// A factory of TCP sessions for the service.
pub fn tcp_factory(opts: &LineOptions) -> Arc<dyn SessionFactory> {
    let _ = opts;
    unimplemented!("line services over TCP are not wired yet")
}

/// The UDP form of the service.
pub fn udp_service(opts: &LineOptions) -> Box<dyn DatagramService> {
    let _ = opts;
    unimplemented!("line services over UDP are not wired yet")
}
