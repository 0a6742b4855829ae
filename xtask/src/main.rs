//! `cargo xtask`: builds, demos, tests and benchmarks Docent from a fresh machine.
//!
//! - `dist`: the widget, then a release `docent` with the widget embedded.
//! - `widget`: the widget alone into `target/widget-dist`, printing its sizes.
//! - `demo`: the widget and debug binaries, then the gateway on :8080 and the demo site on :8081.
//! - `test`: fmt, clippy (native and wasm), the widget build, every test incl. headless Chromium.
//! - `bench [deploy | widget | gateway | monitoring | import | scale]`: widget size, answer latency, HTTP load;
//!   deploys; the launcher in Chromium; the cost of recording events and the analytics query over a million;
//!   site import; replicas on PostgreSQL behind nginx.
//! - `eval`: retrieval and reply quality on the dev sets, beside a reference BM25.
//! - `model`: fetches the default embedding model into the cache (test, demo and eval do it too).

mod bench;
mod bench_monitoring;
mod bench_scale;
mod dist;
mod eval;
mod gateway_bench;
mod model;
mod schemathesis;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

const USAGE: &str = "usage: cargo xtask <dist | widget | demo | test | bench [deploy | widget | gateway | monitoring | import | scale] | eval | model>";

fn main() -> std::process::ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = workspace_root();
    let result = match task.as_str() {
        "dist" => release(&root),
        "widget" => dist::build_widget(&root).map(drop),
        "demo" => demo(&root),
        "test" => test(&root),
        "bench" => bench::run(&root, std::env::args().nth(2).as_deref()),
        "eval" => eval::run_eval(&root),
        "model" => model::ensure_model().map(|dir| println!("{}", dir.display())),
        _ => {
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask {task} failed: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `cargo` as invoked by the user (`$CARGO`), run from the workspace root.
fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root);
    command
}

/// Runs `command` to completion, failing on a non-zero exit.
fn run(command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    eprintln!("$ {shown}");
    let status = command.status().with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} exited with {status}");
    }
    Ok(())
}

fn release(root: &Path) -> anyhow::Result<()> {
    let widget = dist::build_widget(root)?;
    run(cargo(root)
        .args(["build", "--release", "-p", "docent-gateway", "--features", "embed-widget"])
        .env("DOCENT_WIDGET_DIST", &widget.dir))?;
    println!("widget:  {} ({} bytes, {} gzipped)", widget.dir.display(), widget.raw_bytes, widget.gzip_bytes);
    println!("gateway: {} (widget embedded)", root.join("target/release/docent").display());
    Ok(())
}

/// The demo's fixed addresses, as written in the demo pages and bot configs.
const DEMO_GATEWAY: &str = "127.0.0.1:8080";
const DEMO_SITE: &str = "127.0.0.1:8081";
/// The demo bots, deployed before the gateway starts.
const DEMO_BOTS: [&str; 2] = ["brightwater", "handbook"];
/// The demo `handbook` bot's password; `demo/bots/handbook/bot.toml` holds its argon2 hash.
const DEMO_STAFF_PASSWORD: &str = "brightwater-staff";

fn demo(root: &Path) -> anyhow::Result<()> {
    let model = model::ensure_model()?;
    let widget = dist::build_widget(root)?;
    run(cargo(root).args(["build", "-p", "docent-gateway", "-p", "docent-demo-site"]))?;
    let docent = root.join("target/debug/docent");
    let data = root.join("target/demo-data");
    // The lifecycle commands and the gateway share these: the demo's sources, data and widget.
    let with_demo = |command: &mut Command| {
        command.arg("--bots").arg(root.join("demo/bots")).arg("--data").arg(&data).arg("--widget-dir").arg(&widget.dir);
    };
    for bot in DEMO_BOTS {
        let mut deploy = Command::new(&docent);
        deploy.args(["deploy", bot]).env("DOCENT_MODEL", &model);
        with_demo(&mut deploy);
        run(&mut deploy)?;
    }
    // A month of sample conversations (once per data directory), shown as "demo data" in the console.
    let mut demo_data = Command::new(&docent);
    demo_data.arg("demo-data").args(DEMO_BOTS);
    with_demo(&mut demo_data);
    run(&mut demo_data)?;
    let admin_token = demo_admin_token(&docent, &data)?;

    let mut serve = Command::new(&docent);
    // The demo site is on localhost: let the console check and import it.
    serve.arg("serve").args(["--listen", DEMO_GATEWAY, "--fetch-private"]).env("DOCENT_MODEL", &model);
    with_demo(&mut serve);
    let mut gateway = Service::spawn(&mut serve)?;
    let site = Service::spawn(
        Command::new(root.join("target/debug/demo-site"))
            .arg("--site")
            .arg(root.join("demo/site"))
            .args(["--listen", DEMO_SITE]),
    )?;
    wait_for_port(DEMO_GATEWAY, &mut gateway)?;
    println!();
    println!("Docent demo is running. Ctrl-C stops it.");
    println!();
    println!("  Customer website (another origin):  http://localhost:8081/");
    println!("  Staff intranet page (internal bot): http://localhost:8081/staff.html  password: {DEMO_STAFF_PASSWORD}");
    println!("  Gateway demo pages:                 http://{DEMO_GATEWAY}/demo/brightwater");
    println!("                                      http://{DEMO_GATEWAY}/demo/handbook");
    println!("  Operator console:                   http://{DEMO_GATEWAY}/admin/  admin token: {admin_token}");
    println!();
    println!("  Snippet for a page's <head>:");
    println!(
        "    <script async src=\"http://{DEMO_GATEWAY}/widget/{}/bundle.js\" data-bot=\"brightwater\"></script>",
        env!("CARGO_PKG_VERSION")
    );
    println!();
    let status = gateway.child.wait()?;
    drop(site);
    if !status.success() {
        bail!("the gateway exited with {status}");
    }
    Ok(())
}

/// A fresh admin token named `demo` for the console (the previous one is revoked).
fn demo_admin_token(docent: &Path, data: &Path) -> anyhow::Result<String> {
    // The first run has no token to revoke, so its failure is ignored: a broken data
    // directory fails the create below, with its message.
    Command::new(docent).args(["admin", "--data"]).arg(data).args(["token", "revoke", "demo"]).output()?;
    let created = Command::new(docent)
        .args(["admin", "--data"])
        .arg(data)
        .args(["token", "create", "demo"])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run docent admin token create")?;
    if !created.status.success() {
        bail!("docent admin token create exited with {}", created.status);
    }
    String::from_utf8_lossy(&created.stdout)
        .split_whitespace()
        .find(|word| word.starts_with("dca_"))
        .map(str::to_owned)
        .context("docent admin token create printed no token")
}

/// A child process that is killed when dropped, so no server outlives xtask.
struct Service {
    child: Child,
}

impl Service {
    fn spawn(command: &mut Command) -> anyhow::Result<Service> {
        let child = command.spawn().with_context(|| format!("cannot start {command:?}"))?;
        Ok(Service { child })
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's nginx with `dir` as its prefix, `dir/nginx.conf` as its config and its errors in
/// `dir/error.log`, for the benchmarks that run one beside Docent.
fn nginx_in(dir: &Path) -> Command {
    let mut nginx = Command::new("/usr/sbin/nginx");
    nginx.arg("-p").arg(dir).arg("-c").arg(dir.join("nginx.conf")).arg("-e").arg(dir.join("error.log"));
    nginx
}

/// Waits until something accepts connections on `address`, or the service exits.
fn wait_for_port(address: &str, service: &mut Service) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(address).is_ok() {
            return Ok(());
        }
        if let Some(status) = service.child.try_wait()? {
            bail!("the server for {address} exited with {status} before listening");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on {address} after 120 s")
}

fn test(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    run(cargo(root).args(["fmt", "--all", "--check"]))?;
    ensure_packages(
        "the browser, CDN, PostgreSQL and alert tests",
        &[
            ("chromium", "/usr/bin/chromium"),
            ("chromium-driver", "/usr/bin/chromedriver"),
            ("nginx", "/usr/sbin/nginx"),
            // The server's binaries live in a folder per major version; the package's own
            // documentation folder is there whatever the version.
            ("postgresql", "/usr/share/doc/postgresql"),
            ("python3-aiosmtpd", "/usr/lib/python3/dist-packages/aiosmtpd"),
        ],
    )?;
    let widget = dist::build_widget(root)?;
    run(cargo(root).args([
        "clippy",
        "--workspace",
        "--exclude",
        "docent-widget",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo(root)
        .args(["clippy", "-p", "docent-widget", "--target", dist::WASM_TARGET, "--", "-D", "warnings"])
        .env("CARGO_TARGET_DIR", root.join("target/wasm")))?;
    let model = model::ensure_model()?;
    let schemathesis = schemathesis::ensure_schemathesis()?;
    // The restart tests run real `docent serve` processes: built here, before the tests, so no
    // test builds it while others run (the binary alone has other features than the tests' build).
    run(cargo(root).args(["build", "-p", "docent-gateway", "--bin", "docent"]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |dir| root.join(dir));
    let (passed, failed) = run_tests(
        cargo(root)
            .args(["test", "--workspace", "--exclude", "docent-widget"])
            .env("DOCENT_MODEL", &model)
            .env("DOCENT_SCHEMATHESIS", &schemathesis)
            .env("DOCENT_BIN", target.join("debug/docent")),
    )?;
    println!(
        "xtask test: fmt, clippy and every test passed in {:.0} s (widget {} bytes gzipped)",
        started.elapsed().as_secs_f64(),
        widget.gzip_bytes
    );
    println!("tests: {passed} passed, {failed} failed");
    Ok(())
}

/// Runs `cargo test`, echoing its output, and adds up its `test result:` lines.
fn run_tests(command: &mut Command) -> anyhow::Result<(u64, u64)> {
    eprintln!("$ {command:?}");
    let mut child = command.stdout(Stdio::piped()).spawn().context("cannot start cargo test")?;
    let (mut passed, mut failed) = (0, 0);
    for line in BufReader::new(child.stdout.take().context("cargo test's output")?).lines() {
        let line = line?;
        println!("{line}");
        if let Some(summary) = line.strip_prefix("test result: ") {
            passed += count_before(summary, " passed");
            failed += count_before(summary, " failed");
        }
    }
    let status = child.wait()?;
    if !status.success() || failed > 0 {
        bail!("cargo test failed ({status}): {passed} passed, {failed} failed");
    }
    if passed == 0 {
        bail!("cargo test ran no test");
    }
    Ok((passed, failed))
}

/// The number just before `label` in a `test result:` summary.
fn count_before(summary: &str, label: &str) -> u64 {
    summary
        .split(';')
        .filter_map(|part| part.trim().strip_suffix(label))
        .find_map(|rest| rest.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

/// Installs the Debian packages whose files are missing, or names the exact command when not root.
fn ensure_packages(purpose: &str, needed: &[(&str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> =
        needed.iter().filter(|(_, path)| !Path::new(path).exists()).map(|(package, _)| *package).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let install = format!("apt-get install -y {}", missing.join(" "));
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"));
    if !is_root {
        bail!("{purpose} need {}; run: sudo apt-get update && sudo {install}", missing.join(" "));
    }
    eprintln!("installing {} for {purpose}", missing.join(" "));
    run(Command::new("apt-get").arg("update").arg("-q"))?;
    run(Command::new("apt-get").args(["install", "-y", "-q"]).args(&missing).env("DEBIAN_FRONTEND", "noninteractive"))
}
