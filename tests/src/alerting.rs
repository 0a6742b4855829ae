//! Shared parts of the alerting tests: a webhook receiver that keeps what it gets, and an
//! in-process gateway that evaluates alerts often and may post to loopback.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use docent_gateway::serve::{app_state, run_gateway};
use docent_lifecycle::Lifecycle;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use crate::workspace_root;

/// What the webhook receiver got: the path and the JSON body of each POST, in order.
pub type Received = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

/// An HTTP server on loopback that answers 200 to every POST and keeps what it got.
pub async fn webhook_receiver() -> anyhow::Result<(SocketAddr, Received)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let received: Received = Arc::default();
    let keep = Arc::clone(&received);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let keep = Arc::clone(&keep);
            let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                let keep = Arc::clone(&keep);
                async move {
                    let path = request.uri().to_string();
                    let body = request.into_body().collect().await?.to_bytes();
                    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    keep.lock().unwrap().push((path, json));
                    Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                }
            });
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    Ok((address, received))
}

/// An in-process gateway on a fixed address, evaluating alerts every 200 ms, that can be
/// stopped and started again on the same port.
pub struct Gateway {
    pub lifecycle: Arc<Lifecycle>,
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Gateway {
    pub async fn start(lifecycle: Arc<Lifecycle>, address: SocketAddr) -> anyhow::Result<Gateway> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let assets = docent_gateway::assets::WidgetAssets::from_dir(&workspace_root().join("target/widget-dist"))
            .map_err(anyhow::Error::msg)?;
        let opening = Arc::clone(&lifecycle);
        let mut state = tokio::task::spawn_blocking(move || app_state(opening, assets)).await??;
        state.alert_interval = Duration::from_millis(200);
        state.fetch_private = true;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run_gateway(listener, Arc::new(state), async move {
            let _ = stopped.await;
        }));
        Ok(Gateway { lifecycle, address, stop: Some(stop), task: Some(task) })
    }

    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}
