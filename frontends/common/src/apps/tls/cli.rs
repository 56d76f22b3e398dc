//! The TLS flags of the command line (flattened into `serve http`, `serve line`, `get` and
//! `connect` by `cli.rs`) and what they turn into.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::client::{self, ClientTlsOptions};
use super::server::{self, ServerCert, TlsFactory};
use crate::driver::session::SessionFactory;

/// Server TLS flags (`serve http`, `serve line`).
#[derive(Args, Debug, Clone, Default)]
pub struct ServeTlsArgs {
    /// Serve over TLS (HTTPS for `serve http`); without --tls-cert, a self-signed certificate
    /// is made as with --tls-self-signed.
    #[arg(long)]
    pub tls: bool,
    /// TLS certificate chain, PEM, leaf first (turns TLS on; needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key, PEM: PKCS#8, RSA or EC (needs --tls-cert).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Make a certificate for localhost, 127.0.0.1 and ::1 at start and write it to a file
    /// named on stderr (for `curl --cacert FILE`); turns TLS on.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls_self_signed: bool,
}

impl ServeTlsArgs {
    /// The certificate to serve, or `None` for plain TCP.
    pub fn cert(&self) -> Option<ServerCert> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(ServerCert::Files {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ if self.tls || self.tls_self_signed => {
                Some(ServerCert::SelfSigned(server::self_signed_path()))
            }
            _ => None,
        }
    }

    /// `inner` as is without TLS; with TLS, wrapped in a [`TlsFactory`] (the certificate loaded
    /// or made now, a self-signed one's file named on stderr). `alpn` and `plain_reply` as in
    /// [`TlsFactory::new`]. The error is one line for the user.
    pub fn wrap(
        &self,
        inner: Arc<dyn SessionFactory>,
        handshake_timeout: Duration,
        alpn: &[&[u8]],
        plain_reply: Option<Vec<u8>>,
    ) -> Result<(Arc<dyn SessionFactory>, bool), String> {
        let Some(cert) = self.cert() else {
            return Ok((inner, false));
        };
        let config = server::server_config(&cert, alpn)?;
        if let ServerCert::SelfSigned(path) = &cert {
            crate::cli::message::note(
                "--tls-self-signed",
                format_args!(
                    "self-signed certificate for {} written to {} (trust it with: curl \
                     --cacert {})",
                    server::SELF_SIGNED_NAMES.join(", "),
                    path.display(),
                    path.display()
                ),
            );
        }
        let factory = TlsFactory::new(config, inner, handshake_timeout, plain_reply);
        Ok((Arc::new(factory), true))
    }
}

/// Client TLS flags (`get`, `connect`), with curl's names.
#[derive(Args, Debug, Clone, Default)]
pub struct ClientTlsArgs {
    /// Trust the CA certificates in FILE (PEM) too, beside the bundled Mozilla roots and the
    /// system's store (repeatable).
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,
    /// Do not verify the server's certificate (says so on stderr).
    #[arg(short = 'k', long)]
    pub insecure: bool,
}

impl ClientTlsArgs {
    /// The client configuration offering `alpn`; with -k, a warning goes to stderr first.
    pub fn config(&self, alpn: &[&[u8]]) -> Result<Arc<rustls::ClientConfig>, String> {
        if self.insecure {
            crate::cli::message::warning(
                "-k/--insecure",
                "the server's certificate is NOT verified; anyone on the path could read and \
                 change this exchange",
            );
        }
        client::client_config(&ClientTlsOptions {
            cacert: self.cacert.clone(),
            insecure: self.insecure,
            alpn: alpn.iter().map(|p| p.to_vec()).collect(),
        })
    }
}
