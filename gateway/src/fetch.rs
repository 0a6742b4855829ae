//! Fetching a page for an operator (`docent doctor`, the console's "Check my site") and posting
//! a notice to a webhook ([`post`]): bounded in size, time and redirects, and refusing private
//! addresses unless allowed, so a URL typed by a user never turns the gateway into a way into
//! its own network.
//!
//! Each host is resolved here and the connection goes to the address that was checked, so a
//! name cannot resolve to a public address for the check and a private one for the connection.
//! Every redirect hop is checked again.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What one fetch may cost.
#[derive(Debug, Clone, Copy)]
pub struct FetchLimits {
    /// Bytes of body kept; the rest is not read.
    pub max_body_bytes: usize,
    /// The whole fetch, redirects included.
    pub timeout: Duration,
    pub max_redirects: usize,
    /// Whether loopback, private, link-local and other non-public addresses may be fetched.
    pub allow_private: bool,
}

impl Default for FetchLimits {
    fn default() -> FetchLimits {
        FetchLimits {
            max_body_bytes: 2 * 1024 * 1024,
            timeout: Duration::from_secs(15),
            max_redirects: 5,
            allow_private: false,
        }
    }
}

/// A response, after redirects.
#[derive(Debug)]
pub struct Fetched {
    /// The address that answered, after redirects.
    pub url: Uri,
    /// Every address that redirected, in order.
    pub redirects: Vec<Uri>,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The body was longer than [`FetchLimits::max_body_bytes`] and was cut there.
    pub truncated: bool,
    /// Over HTTPS: when the server's certificate stops being valid (Unix seconds).
    pub certificate_expires_at: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("`{0}` is not an http or https address")]
    BadUrl(String),
    #[error(
        "{host} resolves to {address}, a private or local address; refused (allow private addresses to check a local site)"
    )]
    PrivateAddress { host: String, address: IpAddr },
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("cannot connect to {address}: {reason}")]
    Connect { address: SocketAddr, reason: String },
    #[error("TLS with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("HTTP with {host} failed: {reason}")]
    Http { host: String, reason: String },
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("a redirect from {from} has no usable Location")]
    BadRedirect { from: Uri },
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
}

/// GETs `url` with `headers`, following redirects, within `limits`.
pub async fn fetch(
    url: &str,
    headers: &[(HeaderName, HeaderValue)],
    limits: FetchLimits,
) -> Result<Fetched, FetchError> {
    let uri = parse_url(url)?;
    tokio::time::timeout(limits.timeout, follow(uri, headers, limits))
        .await
        .unwrap_or(Err(FetchError::Timeout(limits.timeout)))
}

/// GETs `url` once: a redirect comes back as it is, for a caller that decides where it may go.
pub async fn fetch_no_redirect(
    url: &str,
    headers: &[(HeaderName, HeaderValue)],
    limits: FetchLimits,
) -> Result<Fetched, FetchError> {
    let uri = parse_url(url)?;
    let once = async { fetch_once(&uri, headers, None, limits).await };
    tokio::time::timeout(limits.timeout, once).await.unwrap_or(Err(FetchError::Timeout(limits.timeout)))
}

async fn follow(
    mut uri: Uri,
    headers: &[(HeaderName, HeaderValue)],
    limits: FetchLimits,
) -> Result<Fetched, FetchError> {
    let mut redirects = Vec::new();
    loop {
        let fetched = fetch_once(&uri, headers, None, limits).await?;
        if fetched.status.is_redirection() && fetched.status != StatusCode::NOT_MODIFIED {
            if redirects.len() >= limits.max_redirects {
                return Err(FetchError::TooManyRedirects(limits.max_redirects));
            }
            let next = fetched
                .headers
                .get(header::LOCATION)
                .and_then(|location| location.to_str().ok())
                .and_then(|location| resolve_reference(&uri, location))
                .ok_or_else(|| FetchError::BadRedirect { from: uri.clone() })?;
            redirects.push(std::mem::replace(&mut uri, next));
            continue;
        }
        return Ok(Fetched { redirects, ..fetched });
    }
}

/// A body to POST.
#[derive(Debug, Clone)]
pub struct Payload {
    pub content_type: HeaderValue,
    pub bytes: Bytes,
}

/// POSTs `payload` to `url` once, within `limits`: a redirect comes back as it is, never followed
/// (a webhook that moved is a configuration to fix, and a body must not be replayed elsewhere).
pub async fn post(
    url: &str,
    headers: &[(HeaderName, HeaderValue)],
    payload: Payload,
    limits: FetchLimits,
) -> Result<Fetched, FetchError> {
    let uri = parse_url(url)?;
    let once = async { fetch_once(&uri, headers, Some(payload), limits).await };
    tokio::time::timeout(limits.timeout, once).await.unwrap_or(Err(FetchError::Timeout(limits.timeout)))
}

/// An absolute `http://` or `https://` address.
pub fn parse_url(url: &str) -> Result<Uri, FetchError> {
    let uri: Uri = url.trim().parse().map_err(|_| FetchError::BadUrl(url.to_owned()))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(uri),
        _ => Err(FetchError::BadUrl(url.to_owned())),
    }
}

/// `reference` (a `Location` or a `src`) resolved against `base`: absolute, scheme-relative
/// (`//host/x`), absolute-path (`/x`) or relative (`x`, `../x`) references.
pub fn resolve_reference(base: &Uri, reference: &str) -> Option<Uri> {
    let reference = reference.trim();
    let has_scheme = reference.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    });
    if has_scheme && !reference.starts_with("http://") && !reference.starts_with("https://") {
        return None;
    }
    let scheme = base.scheme_str()?;
    let authority = base.authority()?.as_str();
    let text = if reference.starts_with("http://") || reference.starts_with("https://") {
        reference.to_owned()
    } else if let Some(rest) = reference.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if reference.starts_with('/') {
        format!("{scheme}://{authority}{}", normalize_path(reference))
    } else {
        let base_path = base.path();
        let directory = &base_path[..base_path.rfind('/').map_or(0, |slash| slash + 1)];
        let directory = if directory.is_empty() { "/" } else { directory };
        format!("{scheme}://{authority}{}", normalize_path(&format!("{directory}{reference}")))
    };
    parse_url(&text).ok()
}

/// `path` without `.` and `..` segments (RFC 3986, 5.2.4); the query is kept as is.
fn normalize_path(path: &str) -> String {
    let (path, query) = match path.find(['?', '#']) {
        Some(at) => path.split_at(at),
        None => (path, ""),
    };
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let trailing = if path.ends_with("/.") || path.ends_with("/..") { "/" } else { "" };
    format!("/{}{trailing}{query}", segments.join("/"))
}

/// Whether a fetch for a user may reach `address`: only public unicast addresses.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)
                || (first == 0x64 && v6.segments()[1] == 0xff9b))
        }
    }
}

async fn fetch_once(
    uri: &Uri,
    headers: &[(HeaderName, HeaderValue)],
    payload: Option<Payload>,
    limits: FetchLimits,
) -> Result<Fetched, FetchError> {
    let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|err| FetchError::Resolve { host: host.clone(), reason: err.to_string() })?
        .collect();
    let address = match addresses.iter().find(|address| limits.allow_private || is_public(address.ip())) {
        Some(address) => *address,
        None => {
            return Err(match addresses.first() {
                Some(refused) => FetchError::PrivateAddress { host, address: refused.ip() },
                None => FetchError::Resolve { host, reason: "no address".into() },
            });
        }
    };
    let stream =
        TcpStream::connect(address).await.map_err(|err| FetchError::Connect { address, reason: err.to_string() })?;
    let request =
        build_request(uri, headers, payload).map_err(|reason| FetchError::Http { host: host.clone(), reason })?;
    if https {
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|err| FetchError::Tls { host: host.clone(), reason: err.to_string() })?;
        let tls = tokio_rustls::TlsConnector::from(tls_config())
            .connect(name, stream)
            .await
            .map_err(|err| FetchError::Tls { host: host.clone(), reason: err.to_string() })?;
        let expires_at = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|cert| not_after(cert.as_ref()));
        let (status, headers, body, truncated) =
            exchange(TokioIo::new(tls), request, &host, limits.max_body_bytes).await?;
        Ok(Fetched {
            url: uri.clone(),
            redirects: Vec::new(),
            status,
            headers,
            body,
            truncated,
            certificate_expires_at: expires_at,
        })
    } else {
        let (status, headers, body, truncated) =
            exchange(TokioIo::new(stream), request, &host, limits.max_body_bytes).await?;
        Ok(Fetched {
            url: uri.clone(),
            redirects: Vec::new(),
            status,
            headers,
            body,
            truncated,
            certificate_expires_at: None,
        })
    }
}

/// The end of a DER certificate's validity (`tbsCertificate.validity.notAfter`), in Unix
/// seconds; `None` when it cannot be read. rustls has already verified the certificate.
pub fn not_after(certificate: &[u8]) -> Option<i64> {
    use der::asn1::{AnyRef, GeneralizedTime, UtcTime};
    use der::{Decode, Reader, SliceReader, Tag, TagNumber};

    fn time<'a, R: Reader<'a>>(reader: &mut R) -> der::Result<std::time::Duration> {
        match reader.peek_tag()? {
            Tag::UtcTime => Ok(UtcTime::decode(reader)?.to_unix_duration()),
            _ => Ok(GeneralizedTime::decode(reader)?.to_unix_duration()),
        }
    }
    let mut reader = SliceReader::new(certificate).ok()?;
    let expires = reader
        .sequence(|certificate| {
            let expires = certificate.sequence(|tbs| {
                let version = Tag::ContextSpecific { constructed: true, number: TagNumber::N0 };
                if tbs.peek_tag()? == version {
                    AnyRef::decode(tbs)?;
                }
                AnyRef::decode(tbs)?; // serialNumber
                AnyRef::decode(tbs)?; // signature
                AnyRef::decode(tbs)?; // issuer
                let expires = tbs.sequence(|validity| {
                    time(validity)?;
                    time(validity)
                })?;
                tbs.read_slice(tbs.remaining_len())?;
                Ok(expires)
            })?;
            certificate.read_slice(certificate.remaining_len())?;
            Ok(expires)
        })
        .ok()?;
    i64::try_from(expires.as_secs()).ok()
}

fn build_request(
    uri: &Uri,
    headers: &[(HeaderName, HeaderValue)],
    payload: Option<Payload>,
) -> Result<Request<Full<Bytes>>, String> {
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    let mut builder = Request::builder()
        .method(if payload.is_some() { Method::POST } else { Method::GET })
        .uri(path)
        .header(header::HOST, uri.authority().map_or("", |authority| authority.as_str()))
        .header(header::USER_AGENT, concat!("docent/", env!("CARGO_PKG_VERSION")))
        .header(header::ACCEPT, "*/*")
        .header(header::ACCEPT_ENCODING, "identity");
    if let Some(payload) = &payload {
        builder = builder.header(header::CONTENT_TYPE, payload.content_type.clone());
    }
    let mut request = builder
        .body(Full::new(payload.map(|payload| payload.bytes).unwrap_or_default()))
        .map_err(|err| err.to_string())?;
    for (name, value) in headers {
        request.headers_mut().insert(name.clone(), value.clone());
    }
    Ok(request)
}

/// Sends `request` on an HTTP/1.1 connection and reads at most `max_body` bytes of the answer.
async fn exchange<I>(
    io: I,
    request: Request<Full<Bytes>>,
    host: &str,
    max_body: usize,
) -> Result<(StatusCode, HeaderMap, Bytes, bool), FetchError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let http_error = |err: hyper::Error| FetchError::Http { host: host.to_owned(), reason: err.to_string() };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(http_error)?;
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(http_error)?;
    let (parts, mut body) = response.into_parts();
    let mut bytes = BytesMut::new();
    let mut truncated = false;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(http_error)?;
        if let Ok(data) = frame.into_data() {
            let room = max_body - bytes.len();
            if data.len() > room {
                bytes.extend_from_slice(&data[..room]);
                truncated = true;
                break;
            }
            bytes.extend_from_slice(&data);
        }
    }
    driver.abort();
    Ok((parts.status, parts.headers, bytes.freeze(), truncated))
}

/// TLS with the system's trusted roots, loaded once.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    Arc::clone(CONFIG.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::warn!(%error, "cannot load a system root certificate");
        }
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        tracing::debug!(added, ignored, "system root certificates loaded");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
            .unwrap_or_else(|err| panic!("the ring provider supports the default TLS versions: {err}"));
        Arc::new(config)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_are_fetched() {
        for (address, public) in [
            ("93.184.216.34", true),
            ("2606:2800:220:1:248:1893:25c8:1946", true),
            ("127.0.0.1", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("255.255.255.255", false),
            ("224.0.0.1", false),
            ("::1", false),
            ("::", false),
            ("fd00::1", false),
            ("fe80::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:10.0.0.1", false),
            ("64:ff9b::a00:1", false),
        ] {
            assert_eq!(is_public(address.parse().unwrap()), public, "{address}");
        }
    }

    #[test]
    fn references_resolve_against_their_page() {
        let base: Uri = "https://shop.example/help/faq.html?x=1".parse().unwrap();
        for (reference, resolved) in [
            ("https://other.example/a", "https://other.example/a"),
            ("//cdn.example/w/bundle.js", "https://cdn.example/w/bundle.js"),
            ("/widget/latest/bundle.js", "https://shop.example/widget/latest/bundle.js"),
            ("contact.html", "https://shop.example/help/contact.html"),
            ("../index.html?y=2", "https://shop.example/index.html?y=2"),
            ("./a/./b/../c", "https://shop.example/help/a/c"),
        ] {
            assert_eq!(resolve_reference(&base, reference).map(|uri| uri.to_string()).as_deref(), Some(resolved));
        }
        assert!(resolve_reference(&base, "javascript:alert(1)").is_none());
        assert!(resolve_reference(&base, "file:///etc/passwd").is_none());
        assert!(parse_url("ftp://shop.example/").is_err());
        assert!(parse_url("file:///etc/passwd").is_err());
    }
}
