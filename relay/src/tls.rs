//! HTTPS: the certificate chain and key read from PEM files into a rustls configuration, with
//! rustls's default provider (aws-lc-rs, post-quantum key exchange preferred) and safe
//! protocol versions (TLS 1.2 and 1.3), HTTP/1.1 over ALPN.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The server configuration for `cert` (a PEM chain, the leaf first) and `key` (a PEM private
/// key: PKCS#8, PKCS#1 or SEC1); or one line saying which file cannot be used, and why.
pub(crate) fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let fail = |what: &str, path: &Path, reason: &dyn std::fmt::Display| {
        format!("cannot use the TLS {what} {}: {reason}", path.display())
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| fail("certificate", cert, &e))?;
    if chain.is_empty() {
        return Err(fail("certificate", cert, &"no certificate in it"));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => fail("key", key, &"no private key in it"),
        other => fail("key", key, &other),
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("certificate", cert, &e))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| fail("key", key, &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
