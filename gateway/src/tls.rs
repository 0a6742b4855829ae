//! TLS at the gateway: rustls (ring) with the certificate and key read from PEM files, offering
//! HTTP/2 and HTTP/1.1 by ALPN, and reloading the files when they change or on SIGHUP.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

/// How often the certificate and key files are checked for changes.
pub const RELOAD_POLL: Duration = Duration::from_secs(2);

/// The PEM files TLS is served with.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The certificate in use, swapped in place when the files change.
#[derive(Debug)]
pub struct ReloadingCert {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' modification times when they were last read.
    loaded_at: RwLock<(Option<SystemTime>, Option<SystemTime>)>,
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner())))
    }
}

impl ReloadingCert {
    /// Reads the files; fails with the file and the reason when they do not hold a matching pair.
    pub fn load(files: TlsFiles) -> anyhow::Result<Arc<ReloadingCert>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let stamps = modified(&files);
        let key = certified_key(&files, &provider)?;
        Ok(Arc::new(ReloadingCert {
            files,
            provider,
            current: RwLock::new(Arc::new(key)),
            loaded_at: RwLock::new(stamps),
        }))
    }

    /// An acceptor that serves the current certificate and offers h2 and http/1.1.
    pub fn acceptor(self: &Arc<Self>) -> anyhow::Result<TlsAcceptor> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .context("cannot choose the TLS versions")?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// Reads the files again and serves them from the next handshake on. On failure the
    /// certificate in use stays, and the error says why.
    pub fn reload(&self) -> anyhow::Result<()> {
        let stamps = modified(&self.files);
        let key = certified_key(&self.files, &self.provider)?;
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(key);
        *self.loaded_at.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = stamps;
        tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
        Ok(())
    }

    /// Reloads on SIGHUP, and whenever a file's modification time changes (checked every
    /// [`RELOAD_POLL`]). SIGHUP is caught from this call on; the future runs until dropped.
    pub fn watch(self: Arc<Self>) -> impl Future<Output = ()> + Send + 'static {
        #[cfg(unix)]
        let mut hangups = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(signal) => Some(signal),
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGHUP; the certificate reloads on file changes only");
                None
            }
        };
        async move {
            let mut ticks = tokio::time::interval(RELOAD_POLL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                #[cfg(unix)]
                let hangup = async {
                    match hangups.as_mut() {
                        Some(signal) => signal.recv().await,
                        None => std::future::pending().await,
                    }
                };
                #[cfg(not(unix))]
                let hangup = std::future::pending::<Option<()>>();
                let forced = tokio::select! {
                    _ = ticks.tick() => false,
                    _ = hangup => true,
                };
                let changed =
                    modified(&self.files) != *self.loaded_at.read().unwrap_or_else(|poison| poison.into_inner());
                if (forced || changed)
                    && let Err(err) = self.reload()
                {
                    tracing::error!("cannot reload the TLS certificate, serving the previous one: {err:#}");
                    // Do not retry an unchanged broken file at every poll.
                    *self.loaded_at.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = modified(&self.files);
                }
            }
        }
    }
}

fn modified(files: &TlsFiles) -> (Option<SystemTime>, Option<SystemTime>) {
    let stamp = |path: &Path| std::fs::metadata(path).and_then(|meta| meta.modified()).ok();
    (stamp(&files.cert), stamp(&files.key))
}

fn certified_key(files: &TlsFiles, provider: &CryptoProvider) -> anyhow::Result<CertifiedKey> {
    let cert_path = files.cert.display();
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .with_context(|| format!("cannot read the TLS certificate {cert_path}"))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot parse the TLS certificate {cert_path}"))?;
    if certs.is_empty() {
        bail!("the TLS certificate file {cert_path} holds no CERTIFICATE block");
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("cannot read a private key from {}", files.key.display()))?;
    CertifiedKey::from_der(certs, key, provider)
        .with_context(|| format!("the TLS key {} does not fit the certificate {cert_path}", files.key.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_or_mismatched_files_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let empty = write("empty.pem", "");
        let not_pem = write("junk.pem", "not a certificate");
        let missing = dir.path().join("missing.pem");
        for (cert, key, expect) in [
            (&missing, &empty, "cannot read the TLS certificate"),
            (&empty, &empty, "holds no CERTIFICATE block"),
            (&not_pem, &empty, "holds no CERTIFICATE block"),
        ] {
            let files = TlsFiles { cert: cert.clone(), key: key.clone() };
            let err = format!("{:#}", ReloadingCert::load(files).unwrap_err());
            assert!(err.contains(expect) && err.contains(&cert.display().to_string()), "{err}");
        }
    }
}
