//! The client side: which certificates `get` and `connect --tls` trust, and what `-v` shows.
//!
//! Trust anchors, as curl builds them: the Mozilla roots bundled at build time
//! (`webpki-roots`, so a machine without a CA bundle still verifies), the system's store where
//! there is one (`rustls-native-certs`: `/etc/ssl/certs` and friends, or `SSL_CERT_FILE`), and
//! every certificate of each `--cacert FILE`. `rustls-native-certs` rather than
//! `rustls-platform-verifier`: on Linux both read the same files, and only the former lets the
//! three sources be merged into one root store checked by one webpki verifier.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, Connection, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::layer::TlsSession;
use crate::driver::session::Session;

/// The ALPN protocol the client offers: HTTP/1.x (RFC 7301's `http/1.1` names the HTTP/1
/// family; portline sends HTTP/1.0 requests, which every `http/1.1` server reads).
pub const ALPN_HTTP1: &[u8] = b"http/1.1";

/// How long the client's handshake may take, counted from the connection: curl's
/// `--connect-timeout` also covers its handshake; 10 s as `get`'s connect timeout.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the client trusts.
#[derive(Debug, Clone, Default)]
pub struct ClientTlsOptions {
    /// `--cacert FILE`: extra trust anchors (PEM), added to the bundled and system roots.
    pub cacert: Vec<PathBuf>,
    /// `-k/--insecure`: accept any certificate (the handshake's signatures are still checked).
    pub insecure: bool,
    /// ALPN protocols to offer, most preferred first (none for `connect --tls`).
    pub alpn: Vec<Vec<u8>>,
}

/// The provider every portline TLS config uses: `ring` (it builds with a C compiler alone).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration from `opts`, or a one-line reason (`--cacert FILE: ...`).
pub fn client_config(opts: &ClientTlsOptions) -> Result<Arc<ClientConfig>, String> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let mut config = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(root_store(&opts.cacert)?)
            .with_no_client_auth()
    };
    config.alpn_protocols = opts.alpn.clone();
    Ok(Arc::new(config))
}

/// The bundled Mozilla roots, the system's store, and each `--cacert` file's certificates.
fn root_store(cacert: &[PathBuf]) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // A missing or partly unreadable system store is not an error: the bundled roots remain.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    for path in cacert {
        let shown = path.display();
        let pem = std::fs::read(path).map_err(|e| format!("--cacert {shown}: {e}"))?;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("--cacert {shown}: not a PEM file ({e})"))?;
        if certs.is_empty() {
            return Err(format!(
                "--cacert {shown}: no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)"
            ));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("--cacert {shown}: a certificate cannot be used ({e})"))?;
        }
    }
    Ok(roots)
}

/// The name to verify and send as SNI: a host name, or an IP address (sent without SNI,
/// checked against the certificate's IP names).
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string())
        .map_err(|e| format!("{host}: not a TLS server name ({e})"))
}

/// Wrap `inner` in a client TLS session for `host`; with `verbose`, the handshake's outcome is
/// printed on stderr as `*` lines before the request.
pub fn session<S: Session>(
    config: &Arc<ClientConfig>,
    host: &str,
    inner: S,
    verbose: bool,
) -> Result<TlsSession<S>, String> {
    let conn = rustls::ClientConnection::new(config.clone(), server_name(host)?)
        .map_err(|e| format!("TLS setup: {e}"))?;
    let session = TlsSession::client(Instant::now(), conn, inner, HANDSHAKE_TIMEOUT);
    Ok(if verbose {
        session.on_handshake(|conn| {
            for line in describe(conn) {
                eprintln!("* {line}");
            }
        })
    } else {
        session
    })
}

/// What `-v` prints once the handshake is done: the version and cipher suite, the ALPN
/// protocol, and the peer certificate's subject, issuer, expiry and the names it is valid for.
pub fn describe(conn: &Connection) -> Vec<String> {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".to_string(),
        Some(v) => format!("{v:?}"),
        None => "?".into(),
    };
    let suite = conn
        .negotiated_cipher_suite()
        .map_or("?".into(), |s| format!("{:?}", s.suite()));
    let alpn = conn
        .alpn_protocol()
        .map_or("none".into(), |p| String::from_utf8_lossy(p).into_owned());
    let mut lines = vec![format!(
        "TLS handshake done: {version}, cipher suite {suite}, ALPN {alpn}"
    )];
    if let Some(cert) = conn.peer_certificates().and_then(|c| c.first()) {
        lines.extend(describe_certificate(cert));
    }
    lines
}

/// Subject, issuer, expiry and names of a certificate, one line each.
pub fn describe_certificate(der: &[u8]) -> Vec<String> {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return vec!["certificate: (could not be decoded)".into()];
    };
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => names.push(format!("DNS:{d}")),
                GeneralName::IPAddress(ip) => {
                    let ip: Option<std::net::IpAddr> = match ip.len() {
                        4 => <[u8; 4]>::try_from(*ip).ok().map(Into::into),
                        16 => <[u8; 16]>::try_from(*ip).ok().map(Into::into),
                        _ => None,
                    };
                    names.push(ip.map_or("IP:?".into(), |ip| format!("IP:{ip}")));
                }
                other => names.push(format!("{other}")),
            }
        }
    }
    vec![
        format!("certificate subject: {}", cert.subject()),
        format!("certificate issuer: {}", cert.issuer()),
        format!(
            "certificate valid until: {}",
            cert.validity()
                .not_after
                .to_rfc2822()
                .unwrap_or_else(|e| e.to_string())
        ),
        format!(
            "certificate names: {}",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        ),
    ]
}

/// `-k`: any certificate is accepted; the handshake signatures are still verified, so the
/// peer must hold the key of the certificate it shows.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
