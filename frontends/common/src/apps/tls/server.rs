//! The server side: the certificate and key from files (or a self-signed pair made at start),
//! and [`TlsFactory`], which wraps any [`SessionFactory`] so that its sessions speak TLS.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::client::provider;
use super::layer::TlsSession;
use crate::driver::session::{Session, SessionFactory};

/// The ALPN protocols the file server accepts: HTTP/1.1 and HTTP/1.0 (RFC 7301's registry).
/// A client offering only `h2` is refused with the `no_application_protocol` alert.
pub const ALPN_HTTP: &[&[u8]] = &[b"http/1.1", b"http/1.0"];

/// The names a `--tls-self-signed` certificate is valid for.
pub const SELF_SIGNED_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// Where the server's certificate comes from.
#[derive(Debug, Clone)]
pub enum ServerCert {
    /// `--tls-cert FILE --tls-key FILE`: a PEM chain (leaf first) and its key (PKCS#8, RSA or EC).
    Files {
        /// The PEM certificate chain.
        cert: PathBuf,
        /// The PEM private key.
        key: PathBuf,
    },
    /// `--tls-self-signed`: a certificate for [`SELF_SIGNED_NAMES`] made at start and written
    /// (PEM) to this file, for `curl --cacert FILE`.
    SelfSigned(PathBuf),
}

/// The default file a self-signed certificate is written to: one per process in the temporary
/// folder, so that two servers never overwrite each other's.
pub fn self_signed_path() -> PathBuf {
    std::env::temp_dir().join(format!("portline-self-signed-{}.pem", std::process::id()))
}

/// A server configuration for `cert` offering `alpn`, or one line saying what is wrong with the
/// files (printed before listening).
pub fn server_config(cert: &ServerCert, alpn: &[&[u8]]) -> Result<Arc<ServerConfig>, String> {
    let (chain, key) = match cert {
        ServerCert::Files { cert, key } => (load_chain(cert)?, load_key(key)?),
        ServerCert::SelfSigned(path) => self_signed(path)?,
    };
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match (e, cert) {
            (rustls::Error::InconsistentKeys(_), ServerCert::Files { cert, key }) => format!(
                "--tls-key {} does not belong to the certificate in --tls-cert {} (their public \
                 keys differ)",
                key.display(),
                cert.display()
            ),
            (e, _) => format!("the certificate or key cannot be used: {e}"),
        })?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

fn read(flag: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{flag} {}: {e}", path.display()))
}

/// Every certificate of a PEM file, leaf first.
fn load_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read("--tls-cert", path)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--tls-cert {}: not a PEM file ({e})", path.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "--tls-cert {}: no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(chain)
}

/// The first private key of a PEM file: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = read("--tls-key", path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        format!(
            "--tls-key {}: no private key in it (expected PEM: PRIVATE KEY, RSA PRIVATE KEY or \
             EC PRIVATE KEY; {e})",
            path.display()
        )
    })
}

/// A new self-signed certificate for [`SELF_SIGNED_NAMES`], its PEM written to `path`.
fn self_signed(
    path: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let failed = |e: rcgen::Error| format!("making a self-signed certificate: {e}");
    let names: Vec<String> = SELF_SIGNED_NAMES.iter().map(|s| s.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names).map_err(failed)?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "localhost (portline self-signed)",
    );
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let cert = params.self_signed(&key).map_err(failed)?;
    std::fs::write(path, cert.pem()).map_err(|e| {
        format!(
            "writing the self-signed certificate to {}: {e}",
            path.display()
        )
    })?;
    let key = PrivateKeyDer::Pkcs8(key.serialize_der().into());
    Ok((vec![cert.der().clone()], key))
}

/// What the file server answers a plain-HTTP request on its TLS port, as nginx does ("400 The
/// plain HTTP request was sent to HTTPS port"), then it closes.
pub fn plain_http_reply() -> Vec<u8> {
    let body = "This port speaks HTTPS: use an https:// URL.\n";
    format!(
        "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Wraps a [`SessionFactory`]: every connection does the TLS handshake first (within
/// `handshake_timeout`), then the inner factory's session runs on the plaintext. No driver
/// knows the difference.
pub struct TlsFactory {
    config: Arc<ServerConfig>,
    inner: Arc<dyn SessionFactory>,
    handshake_timeout: Duration,
    plain_reply: Option<Vec<u8>>,
}

impl TlsFactory {
    /// TLS with `config` in front of `inner`. A peer whose first byte is not a TLS record gets
    /// `plain_reply` (unencrypted) and a close; `None`: just the close.
    pub fn new(
        config: Arc<ServerConfig>,
        inner: Arc<dyn SessionFactory>,
        handshake_timeout: Duration,
        plain_reply: Option<Vec<u8>>,
    ) -> Self {
        TlsFactory {
            config,
            inner,
            handshake_timeout,
            plain_reply,
        }
    }
}

impl SessionFactory for TlsFactory {
    fn session(&self, now: Instant, peer: SocketAddr, local: SocketAddr) -> Box<dyn Session> {
        match rustls::ServerConnection::new(self.config.clone()) {
            Ok(conn) => {
                let inner = self.inner.clone();
                Box::new(TlsSession::server(
                    now,
                    conn,
                    move |now| inner.session(now, peer, local),
                    self.handshake_timeout,
                    self.plain_reply.clone(),
                ))
            }
            // Only a broken configuration fails here, and it was built at start.
            Err(_) => Box::new(Closed),
        }
    }

    // The inner overload reply (an HTTP 503) is plaintext and cannot be sent before a
    // handshake: a refused TLS connection is simply closed.
}

/// A session that is over before it starts.
struct Closed;

impl Session for Closed {
    fn receive(&mut self, _now: Instant, _data: &[u8]) {}
    fn receive_eof(&mut self, _now: Instant) {}
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant, _out: &mut Vec<u8>, _budget: usize) {}
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn wants_read(&self) -> bool {
        false
    }
    fn is_done(&self) -> bool {
        true
    }
}
