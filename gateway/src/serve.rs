//! `docent serve`: loads the bots, binds the listener (shared with a newer `docent serve` on the
//! same address, for restarts without downtime), and runs the gateway until Ctrl-C or SIGTERM,
//! with the store follower, the schedule runner and the alert evaluator beside it.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
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
use crate::server::{ConnectionLimits, ServerOptions};
use crate::tls::{ReloadingCert, TlsFiles};
use crate::{alerts, demo_page, report_delivery, server};

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
    /// Behind a CDN or proxy: which proxies are trusted, and the rate limits per client.
    #[command(flatten)]
    pub client: crate::http::client::ClientArgs,
    /// Serve HTTPS (HTTP/2 and HTTP/1.1) with this PEM certificate chain; needs --tls-key. The
    /// files are read again when they change and on SIGHUP. Without it, plain HTTP.
    #[arg(long, env = "DOCENT_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "DOCENT_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Open connections at once; further ones are closed when accepted.
    #[arg(long, env = "DOCENT_MAX_CONNECTIONS", default_value_t = ConnectionLimits::default().max_connections)]
    pub max_connections: usize,
    /// Open connections at once from one client address (IPv6: per /64); 0 turns this off.
    /// Behind a CDN, every connection comes from the CDN: raise it or set 0.
    #[arg(long, env = "DOCENT_MAX_CONNECTIONS_PER_CLIENT", default_value_t = ConnectionLimits::default().max_connections_per_client)]
    pub max_connections_per_client: usize,
    /// Days visitors' (redacted) questions are kept; older texts are forgotten, counts stay.
    #[arg(long, env = "DOCENT_TEXT_RETENTION_DAYS", default_value_t = crate::recorder::DEFAULT_TEXT_RETENTION_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub text_retention_days: u32,
    /// Let the console's "Check my site" and "Import from website" fetch loopback and private
    /// addresses (a site on this machine or the office network). Off: a URL typed into the
    /// console never reaches the gateway's own network.
    #[arg(long, env = "DOCENT_FETCH_PRIVATE")]
    pub fetch_private: bool,
    /// How often alert rules are evaluated (10s, 1m…); incidents open and resolve within it.
    #[arg(long, env = "DOCENT_ALERT_INTERVAL", default_value = "60s", value_parser = crate::watch::parse_interval)]
    pub alert_interval: Duration,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let assets = args.widget.load()?;
    let mut options = args.data.lifecycle_options()?;
    options.public_url = args.public_url.clone().unwrap_or_else(|| format!("http://{}", args.listen));
    options.widget_bundle = assets.get("bundle.js").map(|bundle| Arc::new(bundle.plain.to_vec()));
    let location = options.location();
    let lifecycle = Arc::new(Lifecycle::open(options).with_context(|| format!("cannot open {location}"))?);
    let mut state = app_state(lifecycle, assets)?;
    args.client.apply(&mut state)?;
    state.recorder.set_text_retention_days(args.text_retention_days);
    state.fetch_private = args.fetch_private;
    state.alert_interval = args.alert_interval;
    if args.max_connections == 0 {
        anyhow::bail!("--max-connections must be at least 1");
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(ReloadingCert::load(TlsFiles { cert: cert.clone(), key: key.clone() })?),
        _ => None,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = bind(args.listen).with_context(|| format!("cannot listen on {}", args.listen))?;
        let options = ServerOptions {
            limits: ConnectionLimits {
                max_connections: args.max_connections,
                max_connections_per_client: args.max_connections_per_client,
                ..ConnectionLimits::default()
            },
            tls: tls.as_ref().map(ReloadingCert::acceptor).transpose()?,
        };
        let _reloader = tls.map(|cert| AbortOnDrop(tokio::spawn(cert.watch())));
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
        let scheme = if options.tls.is_some() { "https" } else { "http" };
        println!("docent is listening on {scheme}://{} (Ctrl-C stops it)", listener.local_addr()?);
        run_gateway_with(listener, Arc::new(state), options, shutdown_signal()).await;
        anyhow::Ok(())
    })
}

/// The gateway's state with every live bot opened. Blocking: opens artifacts from disk.
pub fn app_state(lifecycle: Arc<Lifecycle>, assets: WidgetAssets) -> anyhow::Result<AppState> {
    let live = Arc::new(LiveBots::default());
    live.refresh(&lifecycle).context("cannot read the live bots from the store")?;
    Ok(AppState::new(live, lifecycle, assets))
}

/// A listener on `address` that a newer `docent serve` may bind too (`SO_REUSEPORT`): the kernel
/// spreads new connections over both until this one stops and drains.
pub fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(address), socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// Serves `state` on `listener` with the default [`ConnectionLimits`] and plain HTTP until `shutdown` resolves.
pub async fn run_gateway(listener: TcpListener, state: Arc<AppState>, shutdown: impl Future<Output = ()>) {
    run_gateway_with(listener, state, ServerOptions::default(), shutdown).await;
}

/// Serves `state` on `listener` until `shutdown` resolves, while following the store (changes
/// are live within a second), running due schedules and continuous tests, evaluating alert rules and sending
/// the deploy notices of changes made through it.
pub async fn run_gateway_with(
    listener: TcpListener,
    state: Arc<AppState>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) {
    crate::deploy_notices::install(&state.lifecycle, state.fetch_private);
    let _follower = AbortOnDrop(tokio::spawn(Arc::clone(&state.live).follow(Arc::clone(&state.lifecycle))));
    let _scheduler = AbortOnDrop(tokio::spawn(run_schedules(Arc::clone(&state.lifecycle))));
    let _alerts =
        AbortOnDrop(tokio::spawn(alerts::run(Arc::clone(&state.lifecycle), state.alert_interval, state.fetch_private)));
    let _monitor = AbortOnDrop(tokio::spawn(crate::monitor::run(Arc::clone(&state.lifecycle), state.fetch_private)));
    let _reports = AbortOnDrop(tokio::spawn(report_delivery::run(
        Arc::clone(&state.lifecycle),
        report_delivery::SCHEDULE_INTERVAL,
        state.fetch_private,
    )));
    server::serve(listener, state, options, shutdown).await;
}

/// A background task that stops with its owner.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
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
