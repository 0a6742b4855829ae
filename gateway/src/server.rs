//! The socket side: accepts connections (plain or TLS), serves HTTP/1.1 and HTTP/2 on each within
//! [`ConnectionLimits`], and on shutdown stops accepting, then drains what is open.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use docent_protocol::ErrorCode;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Sleep;
use tokio_rustls::TlsAcceptor;

use crate::error::ApiError;
use crate::http::{AppState, HttpResponse, ResponseBody, error_response, handle};

/// What one connection and one request may take. Defaults suit a gateway on the open internet.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Open connections at once; further ones are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Open connections at once from one client address (IPv6: one /64); 0 turns the cap off.
    pub max_connections_per_client: usize,
    /// How long a client may take to send a request's headers (and the TLS handshake).
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body, from its headers on.
    pub body_read_timeout: Duration,
    /// How long a request may take from its headers to the response's headers.
    pub request_timeout: Duration,
    /// How long a write may wait for a client that does not read.
    pub write_timeout: Duration,
    /// A connection with no request in flight and no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// Request header fields, at most.
    pub max_headers: usize,
    /// Bytes of an HTTP/1.1 request head (or an HTTP/2 header list), at most.
    pub max_header_bytes: usize,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            max_connections: 4096,
            max_connections_per_client: 256,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_headers: 64,
            max_header_bytes: 16 * 1024,
        }
    }
}

/// How the server runs: its limits, and TLS when it terminates TLS itself.
#[derive(Clone, Default)]
pub struct ServerOptions {
    pub limits: ConnectionLimits,
    pub tls: Option<TlsAcceptor>,
}

/// Once draining, an idle connection is closed after this much quiet; each HTTP/1.1 response
/// meanwhile says `Connection: close`, so busy clients move to the new process on their own.
const DRAIN_QUIET: Duration = Duration::from_millis(500);
/// How long open connections get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a connection checks whether it is idle.
const IDLE_CHECK: Duration = Duration::from_millis(250);

/// Serves `state` on `listener` until `shutdown` resolves. Then it takes the connections
/// already queued on the listener, closes it, and drains every open connection.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) {
    let shared = Arc::new(Shared {
        connections: Arc::new(Semaphore::new(options.limits.max_connections)),
        per_client: Mutex::new(HashMap::new()),
        options,
        state,
    });
    let (drain, draining) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        start_connection(&shared, stream, peer, &draining);
    }
    // Connections already in the listener's queue were promised service: take them before the
    // listener closes (closing it resets them). The socket is asked directly, not the reactor,
    // which may not have seen the latest arrivals yet.
    let _ = drain.send(true);
    match listener.into_std() {
        Ok(listener) => loop {
            match listener.accept() {
                Ok((stream, peer)) => match stream.set_nonblocking(true).and_then(|()| TcpStream::from_std(stream)) {
                    Ok(stream) => start_connection(&shared, stream, peer, &draining),
                    Err(err) => tracing::warn!(%err, %peer, "cannot take a queued connection"),
                },
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(err) => {
                    tracing::warn!(%err, "cannot take the queued connections");
                    break;
                }
            }
        },
        Err(err) => tracing::warn!(%err, "cannot take the queued connections"),
    }
    drop(draining);
    tokio::select! {
        () = drain.closed() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("gave up waiting for open connections"),
    }
}

struct Shared {
    options: ServerOptions,
    state: Arc<AppState>,
    connections: Arc<Semaphore>,
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

/// Starts serving an accepted connection, or closes it at once when a cap is reached.
fn start_connection(shared: &Arc<Shared>, stream: TcpStream, peer: SocketAddr, draining: &watch::Receiver<bool>) {
    let Ok(permit) = Arc::clone(&shared.connections).try_acquire_owned() else {
        tracing::debug!(%peer, "connection cap reached: closing a new connection");
        return;
    };
    let Some(slot) = ClientSlot::take(shared, peer.ip()) else {
        tracing::debug!(%peer, "per-client connection cap reached: closing a new connection");
        return;
    };
    let _ = stream.set_nodelay(true);
    let shared = Arc::clone(shared);
    let draining = draining.clone();
    tokio::spawn(async move {
        let activity = Arc::new(Activity::new());
        let stream = Watched::new(stream, Arc::clone(&activity), shared.options.limits.write_timeout);
        match shared.options.tls.clone() {
            None => serve_connection(&shared, stream, peer, activity, draining).await,
            Some(acceptor) => {
                let handshake =
                    tokio::time::timeout(shared.options.limits.header_read_timeout, acceptor.accept(stream));
                match handshake.await {
                    Ok(Ok(tls)) => serve_connection(&shared, tls, peer, activity, draining).await,
                    Ok(Err(err)) => tracing::debug!(%err, %peer, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            }
        }
        drop((permit, slot));
    });
}

/// Serves HTTP/1.1 or HTTP/2 (by ALPN or the HTTP/2 preface) on one connection until it ends,
/// it has been idle too long, or draining closes it.
async fn serve_connection<I>(
    shared: &Arc<Shared>,
    io: I,
    peer: SocketAddr,
    activity: Arc<Activity>,
    mut draining: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = &shared.options.limits;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(limits.max_headers)
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .max_concurrent_streams(100)
        .keep_alive_interval(limits.idle_timeout / 2)
        .keep_alive_timeout(limits.write_timeout);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let service = {
        let shared = Arc::clone(shared);
        let in_flight = Arc::clone(&in_flight);
        let draining = draining.clone();
        service_fn(move |request: Request<Incoming>| {
            let shared = Arc::clone(&shared);
            let guard = InFlight::enter(&in_flight);
            let closing = *draining.borrow();
            async move {
                let response = answer(&shared, request, peer.ip(), closing).await;
                Ok::<_, Infallible>(response.map(|body| TrackedBody { body, _guard: guard }))
            }
        })
    };
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut checks = tokio::time::interval(IDLE_CHECK);
    let mut closing = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%err, %peer, "connection ended with an error");
                }
                return;
            }
            _ = checks.tick(), if !closing => {
                let quiet = if *draining.borrow_and_update() { DRAIN_QUIET } else { limits.idle_timeout };
                if in_flight.load(Ordering::Acquire) == 0 && activity.quiet_for() >= quiet {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Runs one request within the request and body timeouts.
async fn answer(shared: &Shared, request: Request<Incoming>, peer: IpAddr, draining: bool) -> HttpResponse {
    let limits = &shared.options.limits;
    let is_http1 = request.version() < Version::HTTP_2;
    let request = request.map(|body| TimedBody::new(body, limits.body_read_timeout));
    let mut response = match tokio::time::timeout(limits.request_timeout, handle(&shared.state, request, peer)).await {
        Ok(response) => response,
        Err(_) => error_response(&ApiError::new(
            ErrorCode::RequestTimeout,
            format!("the request took longer than {} s", limits.request_timeout.as_secs()),
        )),
    };
    // After a timeout the rest of the body may still be on its way: the connection cannot be reused.
    if is_http1 && (draining || response.status() == StatusCode::REQUEST_TIMEOUT) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The key a client's connections are counted under: its address, or for IPv6 its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !(u128::MAX >> 64)).into()),
        v4 => v4,
    }
}

/// One open connection counted against its client's cap; released when dropped.
struct ClientSlot {
    shared: Arc<Shared>,
    key: IpAddr,
}

impl ClientSlot {
    fn take(shared: &Arc<Shared>, ip: IpAddr) -> Option<ClientSlot> {
        let cap = shared.options.limits.max_connections_per_client;
        let key = client_key(ip);
        let mut counts = shared.per_client.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(key).or_default();
        if cap > 0 && *count >= cap {
            return None;
        }
        *count += 1;
        Some(ClientSlot { shared: Arc::clone(shared), key })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut counts = self.shared.per_client.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// The body of a request whose client took longer than the body read timeout: an error that
/// [`crate::http`] answers with 408 `request_timeout`.
#[derive(Debug)]
pub struct BodyReadTimeout;

impl std::fmt::Display for BodyReadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyReadTimeout {}

/// A request body that fails with [`BodyReadTimeout`] once its deadline passes.
pub struct TimedBody {
    body: Incoming,
    deadline: Pin<Box<Sleep>>,
}

impl TimedBody {
    fn new(body: Incoming, limit: Duration) -> TimedBody {
        TimedBody { body, deadline: Box::pin(tokio::time::sleep(limit)) }
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        ready!(this.deadline.as_mut().poll(cx));
        Poll::Ready(Some(Err(Box::new(BodyReadTimeout))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Counts a request as in flight until its response body is dropped.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(count: &Arc<AtomicUsize>) -> InFlight {
        count.fetch_add(1, Ordering::AcqRel);
        InFlight(Arc::clone(count))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight while it streams.
struct TrackedBody {
    body: ResponseBody,
    _guard: InFlight,
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// When a connection last moved bytes.
struct Activity {
    started: Instant,
    last_millis: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity { started: Instant::now(), last_millis: AtomicU64::new(0) }
    }

    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(now, Ordering::Release);
    }

    fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_millis.load(Ordering::Acquire));
        self.started.elapsed().saturating_sub(last)
    }
}

/// A socket that records its traffic in [`Activity`] and fails a write that the client leaves
/// blocked for longer than the write timeout.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
    write_timeout: Duration,
    /// Running while a write is blocked on the client.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl Watched {
    fn new(stream: TcpStream, activity: Arc<Activity>, write_timeout: Duration) -> Watched {
        Watched { stream, activity, write_timeout, stalled: None }
    }

    /// Tracks a write's progress: resets the stall timer on progress, fails once it expires.
    /// Only bytes written count as traffic (a flush with nothing to send is not).
    fn on_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<std::io::Result<T>>,
        wrote: impl Fn(&T) -> bool,
    ) -> Poll<std::io::Result<T>> {
        if let Poll::Ready(outcome) = &result {
            self.stalled = None;
            if outcome.as_ref().is_ok_and(wrote) {
                self.activity.touch();
            }
            return result;
        }
        let limit = self.write_timeout;
        let stalled = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        ready!(stalled.as_mut().poll(cx));
        Poll::Ready(Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the client stopped reading")))
    }
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.on_write(cx, result, |written| *written > 0)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.on_write(cx, result, |written| *written > 0)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_flush(cx);
        this.on_write(cx, result, |()| false)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_counted_by_address_and_ipv6_by_its_64_prefix() {
        for (address, key) in [
            ("203.0.113.9", "203.0.113.9"),
            ("::ffff:203.0.113.9", "203.0.113.9"),
            ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"),
            ("2001:db8:1:2::1", "2001:db8:1:2::"),
            ("2001:db8:1:3::1", "2001:db8:1:3::"),
        ] {
            assert_eq!(client_key(address.parse().unwrap()), key.parse::<IpAddr>().unwrap(), "{address}");
        }
    }
}
