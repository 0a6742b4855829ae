//! TLS at the gateway: a client that trusts only a CA made here checks the certificate over
//! HTTP/1.1 and HTTP/2 (chosen by ALPN), then sees a new certificate after the files change
//! (the file watcher) and after SIGHUP.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use docent_gateway::server::ServerOptions;
use docent_gateway::tls::{ReloadingCert, TlsFiles};
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsConnector;

use crate::limits::gateway_with;

/// How long the test waits for a reload; the gateway polls the files every 2 s.
const PATIENCE: Duration = Duration::from_secs(20);

pub(crate) struct TestCa {
    pub(crate) issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    pub(crate) fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "Docent test CA");
        TestCa { issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap() }
    }

    /// A new certificate and key for `localhost`, written to `dir` as cert.pem and key.pem
    /// with the given modification time. Returns the certificate.
    fn issue(&self, dir: &Path, modified: SystemTime) -> CertificateDer<'static> {
        self.issue_until(dir, modified, None)
    }

    /// [`TestCa::issue`], valid until the end of `not_after` (year, month, day) when given.
    pub(crate) fn issue_until(
        &self,
        dir: &Path,
        modified: SystemTime,
        not_after: Option<(i32, u8, u8)>,
    ) -> CertificateDer<'static> {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        if let Some((year, month, day)) = not_after {
            params.not_after = rcgen::date_time_ymd(year, month, day);
        }
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        for (name, pem) in [("cert.pem", cert.pem()), ("key.pem", key.serialize_pem())] {
            let path = dir.join(name);
            std::fs::write(&path, pem).unwrap();
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(modified).unwrap();
        }
        cert.der().clone()
    }

    fn connector(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.issuer.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        // A resumed session shows the certificate of the session it resumes: every handshake is full.
        config.resumption = rustls::client::Resumption::disabled();
        TlsConnector::from(Arc::new(config))
    }
}

/// One verified GET /healthz over TLS, offering only `alpn`. Returns the status, the
/// negotiated protocol and the server's certificate.
async fn get_healthz(
    address: SocketAddr,
    connector: &TlsConnector,
    alpn: &[u8],
) -> (u16, Vec<u8>, CertificateDer<'static>) {
    let mut config = (*connector.config().clone()).clone();
    config.alpn_protocols = vec![alpn.to_vec()];
    let connector = TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let tls = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
    let (_, session) = tls.get_ref();
    let negotiated = session.alpn_protocol().unwrap_or_default().to_vec();
    let served = session.peer_certificates().unwrap()[0].clone().into_owned();
    let request = Request::get("https://localhost/healthz").body(Empty::<Bytes>::new()).unwrap();
    let status = if negotiated == b"h2" {
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await.unwrap();
        tokio::spawn(connection);
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.version(), hyper::Version::HTTP_2);
        let status = response.status().as_u16();
        response.into_body().collect().await.unwrap();
        status
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.unwrap();
        tokio::spawn(connection);
        let response = sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        response.into_body().collect().await.unwrap();
        status
    };
    (status, negotiated, served)
}

/// Handshakes until the gateway serves `expected`, failing after [`PATIENCE`].
async fn wait_for_certificate(
    address: SocketAddr,
    connector: &TlsConnector,
    expected: &CertificateDer<'_>,
    what: &str,
) {
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        if get_healthz(address, connector, b"http/1.1").await.2 == *expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what}: the new certificate is not served after {PATIENCE:?}");
}

#[tokio::test]
async fn tls_serves_http1_and_http2_and_reloads_the_certificate() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let first_stamp = SystemTime::now() - Duration::from_secs(3600);
    let first = ca.issue(dir.path(), first_stamp);
    let cert =
        ReloadingCert::load(TlsFiles { cert: dir.path().join("cert.pem"), key: dir.path().join("key.pem") }).unwrap();
    let options = ServerOptions { tls: Some(cert.acceptor().unwrap()), ..ServerOptions::default() };
    tokio::spawn(Arc::clone(&cert).watch());
    let address = gateway_with(options);
    let connector = ca.connector();

    for alpn in [&b"http/1.1"[..], b"h2"] {
        let (status, negotiated, served) = get_healthz(address, &connector, alpn).await;
        assert_eq!((status, negotiated.as_slice()), (200, alpn));
        assert_eq!(served, first);
    }

    // Rotated files are picked up by the watcher.
    let second = ca.issue(dir.path(), first_stamp + Duration::from_secs(60));
    wait_for_certificate(address, &connector, &second, "after the files changed").await;

    // Files rotated with their old modification time are only seen on SIGHUP.
    let third = ca.issue(dir.path(), first_stamp + Duration::from_secs(60));
    let hup = std::process::Command::new("kill").args(["-HUP", &std::process::id().to_string()]).status().unwrap();
    assert!(hup.success());
    wait_for_certificate(address, &connector, &third, "after SIGHUP").await;
    let (status, negotiated, _) = get_healthz(address, &connector, b"h2").await;
    assert_eq!((status, negotiated.as_slice()), (200, &b"h2"[..]));
}
