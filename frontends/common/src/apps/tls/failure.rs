//! [`TlsFailure`]: why TLS failed, in words a person understands, and which of `get`'s two TLS
//! exit statuses it is.

use std::fmt;
use std::time::{Duration, SystemTime};

use rustls::{AlertDescription, CertificateError, Error};

/// The two kinds of TLS failure `get` tells apart by exit status (docs/CLI.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailureKind {
    /// The handshake failed: the peer does not speak TLS, sent an alert, closed or stalled.
    /// Exit status 10.
    Handshake,
    /// The peer's certificate is not trusted: unknown issuer, another name, expired, not yet
    /// valid. Exit status 11.
    Certificate,
    /// TLS could not be set up before connecting (e.g. an unreadable `--cacert` file): exit
    /// status 1, as another local I/O failure.
    Setup,
}

impl TlsFailureKind {
    /// `get`'s exit status: 10 for the handshake, 11 for the certificate, 1 for the setup.
    pub fn exit_status(self) -> i32 {
        match self {
            TlsFailureKind::Handshake => 10,
            TlsFailureKind::Certificate => 11,
            TlsFailureKind::Setup => 1,
        }
    }
}

/// A TLS failure: its kind and one line saying what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFailure {
    /// Handshake or certificate.
    pub kind: TlsFailureKind,
    /// What happened, e.g. `the certificate is not trusted: it was issued by an unknown
    /// authority (add it with --cacert FILE, or skip the check with -k)`.
    pub message: String,
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TlsFailure {}

fn handshake(message: impl Into<String>) -> TlsFailure {
    TlsFailure {
        kind: TlsFailureKind::Handshake,
        message: message.into(),
    }
}

fn certificate(message: impl Into<String>) -> TlsFailure {
    TlsFailure {
        kind: TlsFailureKind::Certificate,
        message: format!("the certificate is not trusted: {}", message.into()),
    }
}

/// The first bytes of `data` as printable text, for "it answered in plain text: ...".
fn preview(data: &[u8]) -> Option<String> {
    let line = data.split(|&b| b == b'\n').next().unwrap_or(data);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = &line[..line.len().min(60)];
    let printable = !line.is_empty() && line.iter().all(|b| (0x20..0x7f).contains(b));
    printable.then(|| String::from_utf8_lossy(line).into_owned())
}

fn date(secs: u64) -> String {
    httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

impl TlsFailure {
    /// The peer's first bytes are not a TLS record (e.g. plain HTTP sent to an HTTPS port).
    pub fn not_tls(data: &[u8]) -> TlsFailure {
        match preview(data) {
            Some(text) => handshake(format!(
                "the peer does not speak TLS (it sent plain text: {text:?})"
            )),
            None => handshake("the peer does not speak TLS (its first bytes are not a TLS record)"),
        }
    }

    /// The peer closed the connection before the handshake was done.
    pub fn closed_in_handshake() -> TlsFailure {
        handshake(
            "the peer closed the connection during the TLS handshake (does it speak TLS on this \
             port?)",
        )
    }

    /// The handshake did not finish in time.
    pub fn handshake_timeout() -> TlsFailure {
        handshake("the TLS handshake did not finish in time")
    }

    /// rustls refused more input (its buffers are bounded).
    pub fn from_io(e: &std::io::Error) -> TlsFailure {
        handshake(format!("TLS: {e}"))
    }

    /// What an error from `process_new_packets` means; `data` is the input that caused it
    /// (shown when the peer answered in plain text).
    pub fn from_rustls(e: &Error, handshaking: bool, data: &[u8]) -> TlsFailure {
        match e {
            Error::InvalidCertificate(c) => certificate_failure(c),
            Error::AlertReceived(alert) => alert_failure(*alert),
            Error::InvalidMessage(_) | Error::InappropriateMessage { .. }
                if handshaking && data.first() != Some(&0x16) && data.first() != Some(&0x15) =>
            {
                TlsFailure::not_tls(data)
            }
            Error::PeerIncompatible(p) => handshake(format!(
                "the peer's TLS is incompatible with ours (no common version or cipher suite: \
                 {p:?})"
            )),
            Error::NoCertificatesPresented => handshake("the peer presented no certificate"),
            Error::DecryptError => handshake("a TLS record failed to decrypt (corrupted data)"),
            Error::NoApplicationProtocol => {
                handshake("the peer offers no application protocol we speak (ALPN)")
            }
            e if handshaking => handshake(format!("the TLS handshake failed: {e}")),
            e => handshake(format!("TLS error after the handshake: {e}")),
        }
    }
}

fn certificate_failure(c: &CertificateError) -> TlsFailure {
    match c {
        CertificateError::UnknownIssuer => certificate(
            "it was issued by an unknown authority (unknown issuer; add the CA with --cacert \
             FILE, or skip the check with -k)",
        ),
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => certificate(format!(
            "it is for {}, not for {} (name mismatch)",
            if presented.is_empty() {
                "no host name".to_string()
            } else {
                presented
                    .iter()
                    .map(|p| presented_name(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            expected.to_str()
        )),
        CertificateError::NotValidForName => {
            certificate("it is not valid for this host name (name mismatch)")
        }
        CertificateError::ExpiredContext { not_after, .. } => certificate(format!(
            "it expired on {} (expired certificate)",
            date(not_after.as_secs())
        )),
        CertificateError::Expired => certificate("it has expired (expired certificate)"),
        CertificateError::NotValidYetContext { not_before, .. } => certificate(format!(
            "it is not valid before {} (check the clocks)",
            date(not_before.as_secs())
        )),
        CertificateError::NotValidYet => certificate("it is not valid yet (check the clocks)"),
        CertificateError::Revoked => certificate("it has been revoked"),
        CertificateError::BadSignature => certificate("its signature does not verify"),
        CertificateError::BadEncoding => certificate("it is malformed"),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            certificate("it is not meant for TLS servers (extended key usage)")
        }
        other => certificate(format!("{other:?}")),
    }
}

/// rustls names a certificate's names as `DnsName("example.com")` or `IpAddress(1.2.3.4)`:
/// keep the name only.
fn presented_name(text: &str) -> &str {
    let inner = text
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(text);
    inner.trim_matches('"')
}

fn alert_failure(alert: AlertDescription) -> TlsFailure {
    let why = match alert {
        AlertDescription::HandshakeFailure => "it found no TLS version or cipher suite in common",
        AlertDescription::ProtocolVersion => "it does not support our TLS versions",
        AlertDescription::BadCertificate
        | AlertDescription::UnknownCA
        | AlertDescription::CertificateUnknown => "it did not accept a certificate",
        AlertDescription::UnrecognisedName => "it does not know the host name we asked for (SNI)",
        AlertDescription::NoApplicationProtocol => "no application protocol in common (ALPN)",
        _ => "",
    };
    let alert = format!("{alert:?}");
    if why.is_empty() {
        handshake(format!(
            "the peer refused the TLS handshake (alert {alert})"
        ))
    } else {
        handshake(format!(
            "the peer refused the TLS handshake: {why} (alert {alert})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_answers_are_quoted_and_binary_is_not() {
        let f = TlsFailure::not_tls(b"HTTP/1.1 400 Bad Request\r\nServer: x\r\n");
        assert_eq!(f.kind, TlsFailureKind::Handshake);
        assert!(
            f.message
                .contains("plain text: \"HTTP/1.1 400 Bad Request\""),
            "{f}"
        );
        let f = TlsFailure::not_tls(&[0, 1, 2, 0xff]);
        assert!(f.message.contains("not a TLS record"), "{f}");
    }

    #[test]
    fn certificate_failures_are_kind_certificate_with_plain_words() {
        let cases: &[(CertificateError, &str)] = &[
            (CertificateError::UnknownIssuer, "unknown issuer"),
            (CertificateError::Expired, "expired"),
            (CertificateError::NotValidForName, "name mismatch"),
            (CertificateError::Revoked, "revoked"),
        ];
        for (e, words) in cases {
            let f = TlsFailure::from_rustls(&Error::InvalidCertificate(e.clone()), true, b"");
            assert_eq!(f.kind, TlsFailureKind::Certificate, "{e:?}");
            assert_eq!(f.kind.exit_status(), 11);
            assert!(f.message.starts_with("the certificate is not trusted: "));
            assert!(f.message.contains(words), "{e:?}: {f}");
        }
        assert_eq!(
            presented_name("DnsName(\"wrong.example\")"),
            "wrong.example"
        );
        assert_eq!(presented_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(presented_name("plain"), "plain");
        let alert = TlsFailure::from_rustls(
            &Error::AlertReceived(AlertDescription::HandshakeFailure),
            true,
            b"",
        );
        assert_eq!(alert.kind.exit_status(), 10);
        assert!(alert.message.contains("HandshakeFailure"), "{alert}");
    }
}
