//! The services table as the tools and line services load it (adapter over
//! `portline_core::services`; temporary body until the core's table lands).

/// A transport protocol in the services table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    Tcp,
    Udp,
}

/// A loaded services table.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServicesTable {}

impl ServicesTable {
    /// `/etc/services`, or the built-in table when it cannot be read.
    pub(crate) fn load_default() -> ServicesTable {
        ServicesTable {}
    }

    /// The service name of `port`/`proto`.
    pub(crate) fn name_of(&self, port: u16, proto: Proto) -> Option<&str> {
        let _ = (port, proto);
        None
    }
}
