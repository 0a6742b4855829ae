//! `demo-site`: serves the demo company website on its own origin.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use docent_demo_site::{Site, serve};

#[derive(Parser)]
#[command(about = "Serve the Docent demo website")]
struct Args {
    /// The site's folder.
    #[arg(long, default_value = "demo/site")]
    site: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// The gateway's URL, when it is not http://127.0.0.1:8080.
    #[arg(long)]
    gateway: Option<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let site = Site { root: args.site, gateway: args.gateway };
    serve(listener, site, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}
