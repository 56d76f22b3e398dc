//! Test certificates made with `rcgen` at run time: a CA and, signed by it, a good certificate
//! for `localhost`/`127.0.0.1`/`::1`, an expired one, one for the wrong name; and a self-signed
//! one. Every file is PEM in a temporary folder that lives as long as the [`Pki`].

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// The names the good, expired and self-signed certificates are valid for.
pub const LOCAL_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// The name the wrong-name certificate is for.
pub const WRONG_NAME: &str = "wrong.example";

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM, PKCS#8).
    pub key: PathBuf,
}

/// A test CA and the certificates it issued.
pub struct Pki {
    dir: tempfile::TempDir,
    /// The CA certificate (PEM), for `--cacert`.
    pub ca: PathBuf,
    /// Valid now, for [`LOCAL_NAMES`].
    pub good: CertFiles,
    /// Expired in 2021, for [`LOCAL_NAMES`].
    pub expired: CertFiles,
    /// Valid now, for [`WRONG_NAME`] only.
    pub wrong_name: CertFiles,
    /// Self-signed (no CA) for [`LOCAL_NAMES`].
    pub self_signed: CertFiles,
    /// A key that belongs to no certificate here.
    pub other_key: PathBuf,
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test certificate file");
    path
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Pki {
    /// Make the CA and every certificate (well under a second with ECDSA P-256 keys).
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("temp dir for certificates");
        let d = dir.path();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "portline test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
            .expect("CA certificate");
        let ca_path = write(d, "ca.pem", &ca.pem());

        let issue = |file: &str, list: &[&str], expired: bool| {
            let mut params = CertificateParams::new(names(list)).expect("leaf params");
            params
                .distinguished_name
                .push(DnType::CommonName, list[0].to_string());
            if expired {
                params.not_before = rcgen::date_time_ymd(2020, 1, 1);
                params.not_after = rcgen::date_time_ymd(2021, 1, 1);
            }
            let key = KeyPair::generate().expect("leaf key");
            let cert = params.signed_by(&key, &ca).expect("sign a leaf");
            CertFiles {
                cert: write(d, &format!("{file}.pem"), &cert.pem()),
                key: write(d, &format!("{file}.key"), &key.serialize_pem()),
            }
        };
        let good = issue("good", LOCAL_NAMES, false);
        let expired = issue("expired", LOCAL_NAMES, true);
        let wrong_name = issue("wrong-name", &[WRONG_NAME], false);
        let own = rcgen::generate_simple_self_signed(names(LOCAL_NAMES)).expect("self-signed");
        let self_signed = CertFiles {
            cert: write(d, "self-signed.pem", &own.cert.pem()),
            key: write(d, "self-signed.key", &own.signing_key.serialize_pem()),
        };
        let other_key = write(
            d,
            "other.key",
            &KeyPair::generate().expect("key").serialize_pem(),
        );
        Pki {
            dir,
            ca: ca_path,
            good,
            expired,
            wrong_name,
            self_signed,
            other_key,
        }
    }

    /// The folder holding every file.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}
