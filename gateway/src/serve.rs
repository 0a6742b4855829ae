//! `docent serve`: loads the bots, binds the listener, and runs the gateway until Ctrl-C or SIGTERM.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use docent_lifecycle::Lifecycle;
use docent_lifecycle::when::now;
use tokio::net::TcpListener;

use crate::assets::WidgetAssets;
use crate::http::AppState;
use crate::live::LiveBots;
use crate::options::{DataArgs, WidgetArgs};
use crate::{demo_page, server};

/// How often due schedules (deploys, activations) are looked for: they run within this time.
const SCHEDULE_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub widget: WidgetArgs,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "DOCENT_LISTEN")]
    pub listen: SocketAddr,
    /// The gateway's public base URL, as pages and operators reach it (behind a CDN, the CDN's
    /// address). Used in integration codes and console links; defaults to http://LISTEN.
    #[arg(long, env = "DOCENT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Behind a CDN or proxy: the request header whose last address is the visitor's
    /// (e.g. X-Forwarded-For). Without it, the socket's peer address is used.
    #[arg(long, env = "DOCENT_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<hyper::header::HeaderName>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let assets = args.widget.load()?;
    let mut options = args.data.lifecycle_options()?;
    options.public_url = args.public_url.clone().unwrap_or_else(|| format!("http://{}", args.listen));
    options.widget_bundle = assets.get("bundle.js").map(|bundle| Arc::new(bundle.plain.to_vec()));
    let lifecycle = Arc::new(Lifecycle::open(options).context("cannot open the data directory")?);
    let mut state = app_state(lifecycle, assets)?;
    state.client_ip_header = args.client_ip_header;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener =
            TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
        let base = state.lifecycle.options().public_url.clone();
        for bot in state.live.all() {
            let stats = bot.knowledge.stats();
            tracing::info!(
                bot = %bot.id(),
                generation = bot.generation,
                visibility = ?bot.visibility(),
                qa_pairs = stats.qa_pairs,
                passages = stats.passages,
                "bot live"
            );
            println!("bot {:<12} demo page {base}/demo/{}", bot.id(), bot.id());
            println!("  snippet: {}", demo_page::snippet(&base, bot.id()));
        }
        for (bot, problem) in state.live.problems() {
            println!("bot {bot:<12} NOT SERVED: {problem}");
        }
        println!("console: {base}/admin/ (sign in with a token from `docent admin token create`)");
        println!("docent is listening on {} (Ctrl-C stops it)", listener.local_addr()?);
        run_gateway(listener, Arc::new(state), shutdown_signal()).await;
        anyhow::Ok(())
    })
}

/// The gateway's state with every live bot opened. Blocking: opens artifacts from disk.
pub fn app_state(lifecycle: Arc<Lifecycle>, assets: WidgetAssets) -> anyhow::Result<AppState> {
    let live = Arc::new(LiveBots::default());
    live.refresh(&lifecycle).context("cannot read the live bots from the store")?;
    Ok(AppState::new(live, lifecycle, assets))
}

/// Serves `state` on `listener` until `shutdown` resolves, while following the store (changes
/// are live within a second) and running due schedules.
pub async fn run_gateway(listener: TcpListener, state: Arc<AppState>, shutdown: impl Future<Output = ()>) {
    let follower = tokio::spawn(Arc::clone(&state.live).follow(Arc::clone(&state.lifecycle)));
    let scheduler = tokio::spawn(run_schedules(Arc::clone(&state.lifecycle)));
    server::serve(listener, state, shutdown).await;
    follower.abort();
    scheduler.abort();
}

/// Runs every due schedule, once a [`SCHEDULE_INTERVAL`]. Several gateways may do this at
/// once: the store hands each schedule to one of them.
async fn run_schedules(lifecycle: Arc<Lifecycle>) {
    let mut ticks = tokio::time::interval(SCHEDULE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let lifecycle = Arc::clone(&lifecycle);
        match tokio::task::spawn_blocking(move || lifecycle.run_due_schedules(now(), &mut |_| {})).await {
            Ok(Ok(runs)) => {
                for run in runs {
                    let (bot, action) = (&run.schedule.bot, run.schedule.action);
                    if run.ok {
                        tracing::info!(%bot, ?action, result = %run.result, "schedule ran");
                    } else {
                        tracing::error!(%bot, ?action, result = %run.result, "schedule failed");
                    }
                }
            }
            Ok(Err(err)) => tracing::error!(%err, "cannot run due schedules"),
            Err(err) => tracing::error!(%err, "the schedule task failed"),
        }
    }
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
