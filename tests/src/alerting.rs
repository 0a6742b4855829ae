//! Shared part of the alerting tests: an in-process gateway that evaluates alerts often and may
//! post to loopback (the receivers of its notices are in `receivers.rs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use docent_gateway::serve::{app_state, run_gateway};
use docent_lifecycle::Lifecycle;
use tokio::sync::oneshot;

use crate::workspace_root;

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
