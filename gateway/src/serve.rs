//! `docent serve`: loads the bots, binds the listener, and runs the gateway until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use tokio::net::TcpListener;

use crate::assets::WidgetAssets;
use crate::http::AppState;
use crate::registry::Registry;
use crate::{demo_page, server};

#[derive(Args)]
pub struct ServeArgs {
    /// The bots folder: one folder per bot, named by its id.
    #[arg(long = "bots", default_value = "bots", env = "DOCENT_BOTS")]
    pub bots: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "DOCENT_LISTEN")]
    pub listen: SocketAddr,
    /// Serve the widget from this folder instead of the build embedded in the binary.
    #[arg(long, env = "DOCENT_WIDGET_DIR")]
    pub widget_dir: Option<PathBuf>,
    /// Behind a CDN or proxy: the request header whose last address is the visitor's
    /// (e.g. X-Forwarded-For). Without it, the socket's peer address is used.
    #[arg(long, env = "DOCENT_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<hyper::header::HeaderName>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let assets = match (&args.widget_dir, WidgetAssets::embedded()) {
        (Some(dir), _) => WidgetAssets::from_dir(dir),
        (None, Some(embedded)) => Ok(embedded),
        (None, None) => WidgetAssets::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/widget-dist")),
    }
    .map_err(anyhow::Error::msg)?;
    let registry = load_registry(&args.bots)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener =
            TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        let base = format!("http://{address}");
        for bot in registry.iter() {
            let stats = bot.knowledge.stats();
            tracing::info!(
                bot = %bot.config.id,
                visibility = ?bot.config.visibility,
                qa_pairs = stats.qa_pairs,
                passages = stats.passages,
                "bot loaded"
            );
            println!("bot {:<12} demo page {base}/demo/{}", bot.config.id, bot.config.id);
            println!("  snippet: {}", demo_page::snippet(&base, &bot.config.id));
        }
        println!("docent is listening on {base} (Ctrl-C stops it)");
        let mut state = AppState::new(registry, assets);
        state.client_ip_header = args.client_ip_header;
        let state = Arc::new(state);
        server::serve(listener, state, shutdown_signal()).await;
        anyhow::Ok(())
    })
}

/// Loads every bot in `dir`, or fails listing each broken bot.
pub fn load_registry(dir: &Path) -> anyhow::Result<Registry> {
    Registry::load(dir).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|err| format!("  {err}")).collect();
        anyhow::anyhow!("cannot load the bots in {}:\n{}", dir.display(), list.join("\n"))
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
