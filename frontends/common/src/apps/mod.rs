//! What the sessions do: the HTTP file server, `--echo`, the `get` client, the line services, the
//! interactive client, the load generator, and TLS around any of them.

pub mod bench;
pub mod connect;
pub mod echo;
pub mod files;
pub mod get;
pub mod http_server;
pub mod line_service;
pub mod log;
pub mod tls;
