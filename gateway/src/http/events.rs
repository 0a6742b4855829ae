//! Server-sent events: a response body fed from a channel while a long operation (a deploy, an
//! import from the owner's site) runs.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use serde::Serialize;
use tokio::sync::mpsc;

use super::respond::HttpResponse;

/// Events buffered for a slow reader before the producer waits.
const BUFFERED_EVENTS: usize = 64;

/// The sending side: one `event:`/`data:` block per [`EventSender::send`].
#[derive(Clone)]
pub(super) struct EventSender {
    tx: mpsc::Sender<Bytes>,
}

impl EventSender {
    /// Sends one event from a blocking thread. A reader that went away does not stop the
    /// operation: its events are dropped.
    pub(super) fn send_blocking<T: Serialize>(&self, event: &str, data: &T) {
        let _ = self.tx.blocking_send(encode(event, data));
    }

    /// Sends one event from async code, waiting while the reader is behind. A reader that went
    /// away does not stop the operation: its events are dropped.
    pub(super) async fn send<T: Serialize>(&self, event: &str, data: &T) {
        let _ = self.tx.send(encode(event, data)).await;
    }
}

/// A `text/event-stream` response and the sender that feeds it; the stream ends when every
/// sender is dropped.
pub(super) fn event_stream() -> (EventSender, HttpResponse) {
    let (tx, rx) = mpsc::channel(BUFFERED_EVENTS);
    let mut response = Response::new(ChannelBody { rx }.boxed());
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies such as nginx buffer responses unless told not to.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    (EventSender { tx }, response)
}

/// One event in the wire format: `event: NAME`, `data: JSON`, a blank line.
fn encode<T: Serialize>(event: &str, data: &T) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|err| {
        tracing::error!(%err, "cannot serialize an event");
        "null".to_owned()
    });
    // JSON never contains a raw newline, so one `data:` line carries it.
    Bytes::from(format!("event: {event}\ndata: {json}\n\n"))
}

struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|event| event.map(|bytes| Ok(Frame::data(bytes))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_one_json_data_line_each() {
        let bytes = encode("phase", &serde_json::json!({"name": "testing", "text": "a\nb"}));
        assert_eq!(&bytes[..], b"event: phase\ndata: {\"name\":\"testing\",\"text\":\"a\\nb\"}\n\n");
    }

    #[tokio::test]
    async fn the_stream_carries_every_event_and_ends_with_the_senders() {
        let (sender, response) = event_stream();
        let producer = tokio::task::spawn_blocking(move || {
            sender.send_blocking("phase", &1);
            sender.send_blocking("done", &2);
        });
        producer.await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"event: phase\ndata: 1\n\nevent: done\ndata: 2\n\n");
    }
}
