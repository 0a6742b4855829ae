//! Support for the end-to-end tests: a running gateway and demo site, an HTTP client, and a WebDriver client.
//!
//! [`stack`] starts, once per test binary, the real `docent` gateway on the
//! demo bots and the demo website, each on its own random loopback port, on a
//! background runtime that outlives every test. The bots are deployed into a fresh
//! data directory exactly as `docent deploy` does, and copies of the public bot
//! (the [`LAB_BOTS`]) give tests that change a bot's state one of their own.

pub mod alerting;
pub mod http;
pub mod nginx;
pub mod pages;
pub mod postgres;
pub mod receivers;
pub mod webdriver;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use docent_demo_site::Site;
use docent_gateway::assets::WidgetAssets;
use docent_gateway::options::load_model;
use docent_lifecycle::{Lifecycle, LifecycleOptions};

/// The gateway and the demo site, running.
pub struct Stack {
    pub gateway: SocketAddr,
    /// The demo site's port. It is allowlisted as `http://localhost:{port}`;
    /// the same pages at `http://127.0.0.1:{port}` are an origin that is not.
    pub site_port: u16,
    /// The same lifecycle the gateway serves from, for tests that deploy, deactivate or limit.
    pub lifecycle: Arc<Lifecycle>,
    /// An admin token for the admin API and the console.
    pub admin_token: String,
    bots: tempfile::TempDir,
    _data: tempfile::TempDir,
}

impl Stack {
    pub fn gateway_url(&self) -> String {
        format!("http://{}", self.gateway)
    }

    /// The bots folder the gateway was deployed from (a copy of `demo/bots`).
    pub fn bots_dir(&self) -> &Path {
        self.bots.path()
    }

    /// The demo site's origin that the demo bots allow.
    pub fn allowed_origin(&self) -> String {
        format!("http://localhost:{}", self.site_port)
    }

    /// The same site on an origin that no bot allows.
    pub fn other_origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.site_port)
    }
}

/// Copies of the public `brightwater` bot, one per test that changes a bot's state, so tests
/// running in parallel never see each other's changes.
pub const LAB_BOTS: &[&str] = &["lab-offline", "lab-quota", "lab-rollback", "lab-console"];

/// The password of the demo `handbook` bot, as printed by `cargo xtask demo`.
pub const HANDBOOK_PASSWORD: &str = "brightwater-staff";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shared stack, started on first use.
pub fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| start(true).unwrap_or_else(|err| panic!("cannot start the gateway and demo site: {err:#}")))
}

/// A stack of its own, with only the two demo bots, for a test that may change them at will.
pub fn private_stack() -> anyhow::Result<Stack> {
    start(false)
}

fn start(with_lab_bots: bool) -> anyhow::Result<Stack> {
    let root = workspace_root();
    let site_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let gateway_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let site_port = site_listener.local_addr()?.port();
    let gateway = gateway_listener.local_addr()?;

    // The demo bots allow the demo site at localhost:8081; point them at this run's port.
    let bots = tempfile::tempdir()?;
    copy_tree(&root.join("demo/bots"), bots.path())?;
    for entry in std::fs::read_dir(bots.path())? {
        let config = entry?.path().join("bot.toml");
        let text = std::fs::read_to_string(&config).with_context(|| config.display().to_string())?;
        std::fs::write(&config, text.replace("http://localhost:8081", &format!("http://localhost:{site_port}")))?;
    }
    let labs = if with_lab_bots { LAB_BOTS } else { &[] };
    for lab in labs {
        copy_tree(&bots.path().join("brightwater"), &bots.path().join(lab))?;
    }
    let data = tempfile::tempdir()?;
    let mut options = LifecycleOptions::new(data.path(), bots.path());
    options.embedder = std::env::var_os("DOCENT_MODEL").map(|dir| load_model(Path::new(&dir))).transpose()?;
    let assets = WidgetAssets::from_dir(&root.join("target/widget-dist")).map_err(anyhow::Error::msg)?;
    options.public_url = format!("http://{gateway}");
    options.widget_bundle = assets.get("bundle.js").map(|bundle| Arc::new(bundle.plain.to_vec()));
    let lifecycle = Arc::new(Lifecycle::open(options)?);
    let bot_ids = ["brightwater", "handbook"].iter().chain(labs);
    for bot in bot_ids {
        lifecycle.deploy(bot, "e2e", &mut |_| {}).with_context(|| format!("cannot deploy {bot}"))?;
    }
    let admin_token = lifecycle.create_admin_token("e2e", None, "e2e")?;
    let state = Arc::new(docent_gateway::serve::app_state(Arc::clone(&lifecycle), assets)?);
    let site = Site { root: root.join("demo/site"), gateway: Some(format!("http://{gateway}")) };

    site_listener.set_nonblocking(true)?;
    gateway_listener.set_nonblocking(true)?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime for the test servers");
        runtime.block_on(async move {
            let site_listener = tokio::net::TcpListener::from_std(site_listener).expect("site listener");
            let gateway_listener = tokio::net::TcpListener::from_std(gateway_listener).expect("gateway listener");
            tokio::spawn(docent_demo_site::serve(site_listener, site, std::future::pending()));
            let _ = ready_tx.send(());
            docent_gateway::serve::run_gateway(gateway_listener, state, std::future::pending()).await;
        });
    });
    ready_rx.recv().context("the test server thread died")?;
    Ok(Stack { gateway, site_port, lifecycle, admin_token, bots, _data: data })
}

/// Copies a folder recursively.
pub fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
