//! TLS for the gRPC servers and for the clients that call the aggregator (rustls on ring).
//!
//! Certificates come from a directory in cert-manager's Secret layout: `tls.crt` (the certificate
//! chain, PEM), `tls.key` (its private key, PEM) and `ca.crt` (the CA that signs the services'
//! certificates). A server given `P06_TLS_DIR` serves TLS only. A client whose URL is `https://`
//! trusts the CA in `P06_TLS_CA` (a PEM file) or else `P06_TLS_DIR/ca.crt`; an `http://` URL stays
//! plaintext.

use std::path::{Path, PathBuf};

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig};

/// The directory with `tls.crt`, `tls.key` and `ca.crt` (a mounted cert-manager Secret).
pub const TLS_DIR_VAR: &str = "P06_TLS_DIR";
/// A PEM file with the CA a client trusts for `https://` URLs (overrides `P06_TLS_DIR/ca.crt`).
pub const TLS_CA_VAR: &str = "P06_TLS_CA";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{var}={dir}: {file}: {reason}")]
    File {
        var: &'static str,
        dir: String,
        file: String,
        reason: String,
    },
    #[error(
        "{url}: an https:// URL needs a CA to trust: set P06_TLS_CA or P06_TLS_DIR (with ca.crt)"
    )]
    NoCa { url: String },
    #[error("{url}: {reason}")]
    Url { url: String, reason: String },
}

/// Where a process finds its TLS material; read once from the environment.
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    /// The server's certificate directory (cert-manager layout).
    pub dir: Option<PathBuf>,
    /// The CA file clients trust (else `dir/ca.crt`).
    pub ca: Option<PathBuf>,
}

impl TlsSettings {
    pub fn from_env() -> Self {
        let var = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            dir: var(TLS_DIR_VAR),
            ca: var(TLS_CA_VAR),
        }
    }

    /// The server's TLS configuration, when a directory is set.
    pub fn server(&self) -> Result<Option<ServerTlsConfig>, TlsError> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let cert = read(TLS_DIR_VAR, dir, "tls.crt")?;
        let key = read(TLS_DIR_VAR, dir, "tls.key")?;
        check_pem(TLS_DIR_VAR, dir, "tls.crt", &cert, "CERTIFICATE")?;
        check_pem(TLS_DIR_VAR, dir, "tls.key", &key, "PRIVATE KEY")?;
        Ok(Some(
            ServerTlsConfig::new().identity(Identity::from_pem(cert, key)),
        ))
    }

    /// The CA clients trust, if any is configured: `P06_TLS_CA`, else `P06_TLS_DIR/ca.crt`.
    fn client_ca(&self) -> Result<Option<Certificate>, TlsError> {
        let (var, dir, file) = match (&self.ca, &self.dir) {
            (Some(ca), _) => {
                let dir = ca.parent().unwrap_or(Path::new("")).to_path_buf();
                let file = ca.file_name().map(|f| f.to_string_lossy().into_owned());
                (TLS_CA_VAR, dir, file.unwrap_or_default())
            }
            (None, Some(dir)) => (TLS_DIR_VAR, dir.clone(), "ca.crt".to_owned()),
            (None, None) => return Ok(None),
        };
        let pem = read(var, &dir, &file)?;
        check_pem(var, &dir, &file, &pem, "CERTIFICATE")?;
        Ok(Some(Certificate::from_pem(pem)))
    }

    /// An endpoint for `url`: TLS with the configured CA for `https://`, plaintext for `http://`.
    pub fn endpoint(&self, url: &str) -> Result<Endpoint, TlsError> {
        let bad = |reason: String| TlsError::Url {
            url: url.to_owned(),
            reason,
        };
        let endpoint = Endpoint::from_shared(url.to_owned()).map_err(|e| bad(e.to_string()))?;
        if !url.starts_with("https://") {
            return Ok(endpoint);
        }
        let ca = self.client_ca()?.ok_or_else(|| TlsError::NoCa {
            url: url.to_owned(),
        })?;
        let host = endpoint.uri().host().unwrap_or_default().to_owned();
        endpoint
            .tls_config(ClientTlsConfig::new().ca_certificate(ca).domain_name(host))
            .map_err(|e| bad(format!("TLS: {e}")))
    }
}

/// An endpoint for `url` with the TLS settings of this process's environment.
pub fn endpoint(url: &str) -> Result<Endpoint, TlsError> {
    TlsSettings::from_env().endpoint(url)
}

fn read(var: &'static str, dir: &Path, file: &str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(dir.join(file)).map_err(|e| TlsError::File {
        var,
        dir: dir.display().to_string(),
        file: file.to_owned(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "not found".to_owned(),
            _ => e.to_string(),
        },
    })
}

fn check_pem(
    var: &'static str,
    dir: &Path,
    file: &str,
    pem: &[u8],
    label: &str,
) -> Result<(), TlsError> {
    let text = String::from_utf8_lossy(pem);
    if text.contains("-----BEGIN ") && text.contains(label) {
        return Ok(());
    }
    Err(TlsError::File {
        var,
        dir: dir.display().to_string(),
        file: file.to_owned(),
        reason: format!("not a PEM {label}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_variable_and_the_file() {
        let settings = TlsSettings {
            dir: Some(PathBuf::from("/nonexistent/p06")),
            ca: None,
        };
        let err = settings.server().unwrap_err().to_string();
        assert_eq!(err, "P06_TLS_DIR=/nonexistent/p06: tls.crt: not found");
        let err = TlsSettings::default()
            .endpoint("https://aggregator:50051")
            .unwrap_err()
            .to_string();
        assert!(err.contains("P06_TLS_CA"), "{err}");
        assert!(TlsSettings::default().endpoint("http://a:1").is_ok());
    }
}
