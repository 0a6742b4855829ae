//! A restart without downtime, with real `docent serve` processes: under steady load, a second
//! gateway binds the same port, the first gets SIGTERM, stops accepting and drains — and not one
//! request fails.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;

use docent_tests::{copy_tree, workspace_root};

/// Client tasks sending requests back to back during the restart.
const CLIENTS: usize = 16;

/// The `docent` binary of this build (`target/{profile}/docent`), built first when needed:
/// another package's binary is not built for these tests on its own.
pub(crate) fn docent_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("DOCENT_BIN") {
        return Ok(PathBuf::from(path));
    }
    let test_binary = std::env::current_exe()?;
    let profile_dir = test_binary.parent().and_then(Path::parent).context("the test binary's target folder")?;
    let target_dir = profile_dir.parent().context("the target folder")?;
    let mut build = Command::new(env!("CARGO"));
    build.current_dir(workspace_root()).args(["build", "-p", "docent-gateway", "--bin", "docent", "--target-dir"]);
    build.arg(target_dir);
    // Cargo's variables for this test (its package, its manifest) would read as a changed
    // environment to build scripts and rebuild their crates: the inner build gets the user's.
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(|name| name.starts_with("CARGO_") && name != "CARGO_HOME") {
            build.env_remove(name);
        }
    }
    if profile_dir.file_name().is_some_and(|name| name == "release") {
        build.arg("--release");
    }
    let status = build.status().context("cannot run cargo build for the docent binary")?;
    if !status.success() {
        bail!("cargo build -p docent-gateway failed ({status})");
    }
    Ok(profile_dir.join("docent"))
}

/// A `docent serve` child, killed when dropped.
pub(crate) struct Gateway {
    child: Child,
}

impl Gateway {
    /// Starts `docent serve` and waits until it says it listens.
    fn start(docent: &Path, bots: &Path, data: &Path, address: SocketAddr) -> anyhow::Result<Gateway> {
        Gateway::start_with(docent, bots, data, address, |_| {})
    }

    /// Starts `docent serve` with options of the caller's (`extra` adds arguments or environment).
    pub(crate) fn start_with(
        docent: &Path,
        bots: &Path,
        data: &Path,
        address: SocketAddr,
        extra: impl FnOnce(&mut Command),
    ) -> anyhow::Result<Gateway> {
        let mut command = Command::new(docent);
        command
            .arg("serve")
            .arg("--bots")
            .arg(bots)
            .arg("--data")
            .arg(data)
            .args(["--listen", &address.to_string()])
            .arg("--widget-dir")
            .arg(workspace_root().join("target/widget-dist"))
            .env("DOCENT_LOG", "warn")
            .stdout(Stdio::piped());
        extra(&mut command);
        let mut child = command.spawn().context("cannot start docent serve")?;
        let stdout = child.stdout.take().context("docent serve's output")?;
        let mut gateway = Gateway { child };
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.starts_with("docent is listening") => break,
                Some(Ok(_)) => {}
                _ => bail!("docent serve exited before listening: {:?}", gateway.child.try_wait()),
            }
        }
        // Keep reading so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(gateway)
    }

    fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        assert!(status.is_ok_and(|status| status.success()), "cannot send SIGTERM");
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Counts of one client's requests.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
    /// Answered after the old gateway had exited: by the new one.
    after_exit: AtomicU64,
}

/// Sends requests back to back over keep-alive connections until `stop`, opening a new
/// connection whenever the gateway closed the last one (as a draining gateway does).
async fn load(address: SocketAddr, stop: Arc<AtomicBool>, old_exited: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut sender: Option<hyper::client::conn::http1::SendRequest<Empty<Bytes>>> = None;
    while !stop.load(Ordering::Relaxed) {
        let ready = match sender.as_mut() {
            Some(open) => open.ready().await.is_ok(),
            None => false,
        };
        if !ready {
            sender = match tokio::net::TcpStream::connect(address).await {
                Ok(stream) => match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
                    Ok((sender, connection)) => {
                        tokio::spawn(connection);
                        Some(sender)
                    }
                    Err(err) => {
                        eprintln!("handshake failed: {err}");
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                        None
                    }
                },
                Err(err) => {
                    eprintln!("connect failed: {err}");
                    tally.failed.fetch_add(1, Ordering::Relaxed);
                    None
                }
            };
            continue;
        }
        let Some(open) = sender.as_mut() else { continue };
        let request = Request::get("/healthz").header("host", address.to_string()).body(Empty::new()).unwrap();
        let answered = match open.send_request(request).await {
            Ok(response) => response.status() == 200 && response.into_body().collect().await.is_ok(),
            Err(err) => {
                eprintln!("request failed: {err}");
                false
            }
        };
        if answered {
            tally.ok.fetch_add(1, Ordering::Relaxed);
            if old_exited.load(Ordering::Relaxed) {
                tally.after_exit.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            tally.failed.fetch_add(1, Ordering::Relaxed);
            sender = None;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_gateway_takes_over_the_port_and_the_old_one_drains_without_a_failed_request() {
    let docent = tokio::task::spawn_blocking(docent_binary).await.unwrap().unwrap();
    let bots = tempfile::tempdir().unwrap();
    copy_tree(&workspace_root().join("demo/bots"), bots.path()).unwrap();
    let data = tempfile::tempdir().unwrap();
    let deployed = Command::new(&docent)
        .args(["deploy", "brightwater", "--bots"])
        .arg(bots.path())
        .arg("--data")
        .arg(data.path())
        .env("DOCENT_LOG", "error")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(deployed.success(), "docent deploy failed");
    let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();

    let old = Gateway::start(&docent, bots.path(), data.path(), address).unwrap();
    let (stop, old_exited, tally) = (Arc::default(), Arc::new(AtomicBool::new(false)), Arc::new(Tally::default()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(load(address, Arc::clone(&stop), Arc::clone(&old_exited), Arc::clone(&tally))))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (docent_new, bots_dir, data_dir) = (docent.clone(), bots.path().to_owned(), data.path().to_owned());
    let new = tokio::task::spawn_blocking(move || Gateway::start(&docent_new, &bots_dir, &data_dir, address))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    old.terminate();
    let old_status = tokio::task::spawn_blocking(move || {
        let mut old = old;
        old.child.wait()
    })
    .await
    .unwrap()
    .unwrap();
    old_exited.store(true, Ordering::Relaxed);
    assert!(old_status.success(), "the old gateway exited with {old_status}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    drop(new);

    let (ok, failed, after_exit) = (
        tally.ok.load(Ordering::Relaxed),
        tally.failed.load(Ordering::Relaxed),
        tally.after_exit.load(Ordering::Relaxed),
    );
    assert_eq!(failed, 0, "{failed} failed requests ({ok} answered)");
    assert!(after_exit > 0, "the new gateway answered nothing after the old one exited ({ok} answered)");
}
