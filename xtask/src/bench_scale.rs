//! `cargo xtask bench scale`: gateway replicas on one PostgreSQL behind nginx, against a release
//! build, in one run:
//! 1. chat answers through nginx with 1 and with 2 replicas (wrk);
//! 2. what the PostgreSQL store adds to chat latency over SQLite at p50 and p99, events recorded,
//!    for a bot without a monthly quota (one read per message) and with one (one write);
//! 3. the time from a deploy (the CLI's exit) to every replica serving the new generation.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::gateway_bench::{free_address, seconds, target_dir, wrk};
use crate::{Service, cargo, dist, ensure_packages, run as run_command, wait_for_port};

const LOAD_SECONDS: u32 = 10;
/// Connections wrk holds to nginx for the throughput figures.
const PROXY_CONNECTIONS: u32 = 32;
/// Connections wrk holds to one gateway for the latency figures: a light load.
const LATENCY_CONNECTIONS: u32 = 4;
/// Deploys timed for the propagation figure.
const DEPLOYS: usize = 5;
/// Chat messages per client and minute for the benchmark's gateways: wrk and nginx are one client.
const UNLIMITED_MESSAGES: &str = "1000000000";
/// The demo bot's greeting, rewritten by each timed deploy.
const GREETING: &str = "Hi! I'm the Brightwater assistant.";
/// Where Debian installs each major version's PostgreSQL binaries.
const POSTGRES_ROOT: &str = "/usr/lib/postgresql";

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    ensure_packages(
        "the scale benchmark",
        &[("wrk", "/usr/bin/wrk"), ("nginx", "/usr/sbin/nginx"), ("postgresql", POSTGRES_ROOT)],
    )?;
    let widget_dir = root.join("target/widget-dist");
    // The widget is served, not measured: any build of it will do.
    if !widget_dir.join("bundle.js").exists() {
        dist::build_widget(root)?;
    }
    run_command(cargo(root).args(["build", "--release", "-p", "docent-gateway"]))?;
    let work = target_dir(root).join("bench-scale");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("cannot empty {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)?;
    run_command(Command::new("cp").arg("-r").arg(root.join("demo/bots")).arg(work.join("bots")))?;
    let script = work.join("post.lua");
    std::fs::write(&script, crate::bench::wrk_script(&crate::bench::eval_questions(root)?))?;
    let postgres = Postgres::start()?;
    let scale = Scale {
        docent: target_dir(root).join("release/docent"),
        bots: work.join("bots"),
        widget_dir,
        work,
        postgres: postgres.create_database("docent")?,
        script,
    };
    scale.cli(&Store::Postgres, &["deploy", "brightwater"])?;
    scale.cli(&Store::Sqlite, &["deploy", "brightwater"])?;

    let (through_nginx, propagation) = {
        let replicas = [free_address()?, free_address()?];
        let _gateways =
            replicas.iter().map(|address| scale.serve(&Store::Postgres, address)).collect::<Result<Vec<_>, _>>()?;
        let mut through_nginx = Vec::new();
        for count in [1, 2] {
            let nginx = scale.nginx(&replicas[..count])?;
            let url = format!("http://{}/v1/bots/brightwater/messages", nginx.address);
            through_nginx.push((count, wrk(PROXY_CONNECTIONS, LOAD_SECONDS, Some(&scale.script), &url)?));
        }
        (through_nginx, scale.propagation(&replicas)?)
    };
    let mut latency = Vec::new();
    for quota in [false, true] {
        for store in [Store::Sqlite, Store::Postgres] {
            if quota {
                scale.cli(&store, &["plan", "brightwater", "set", "--messages", UNLIMITED_MESSAGES])?;
            }
            let address = free_address()?;
            let _gateway = scale.serve(&store, &address)?;
            let url = format!("http://{address}/v1/bots/brightwater/messages");
            latency.push((quota, store.name(), wrk(LATENCY_CONNECTIONS, LOAD_SECONDS, Some(&scale.script), &url)?));
        }
    }

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!();
    println!(
        "== chat through nginx on PostgreSQL ({PROXY_CONNECTIONS} connections, {LOAD_SECONDS} s, {cores} cores) =="
    );
    for (replicas, report) in &through_nginx {
        println!(
            "{replicas} replica(s): {:.0} answers/s, p50 {}, p99 {}, {} failed",
            report.requests_per_second, report.p50, report.p99, report.failed
        );
    }
    println!(
        "== chat latency by store, one gateway ({LATENCY_CONNECTIONS} connections, {LOAD_SECONDS} s, events on) =="
    );
    for pair in latency.chunks(2) {
        let [(quota, _, sqlite), (_, _, postgres)] = pair else { bail!("latency figures come in pairs") };
        let quota = if *quota { "with a monthly quota" } else { "without a quota" };
        for (name, report) in [("sqlite", sqlite), ("postgres", postgres)] {
            println!(
                "{quota}, {name}: {:.0} answers/s, p50 {}, p99 {}, {} failed",
                report.requests_per_second, report.p50, report.p99, report.failed
            );
        }
        println!(
            "{quota}: PostgreSQL adds {:+.2} ms at p50, {:+.2} ms at p99",
            added_ms(&sqlite.p50, &postgres.p50)?,
            added_ms(&sqlite.p99, &postgres.p99)?
        );
    }
    println!("== deploy to every replica serving it (2 replicas, {DEPLOYS} deploys, idle) ==");
    for (round, (deploy, seen)) in propagation.iter().enumerate() {
        println!(
            "deploy {}: the CLI took {:.0} ms, then both replicas served it after {:.0} ms",
            round + 1,
            ms(*deploy),
            ms(*seen)
        );
    }
    let slowest = propagation.iter().map(|(_, seen)| *seen).max().unwrap_or_default();
    println!("slowest propagation: {:.0} ms", ms(slowest));
    drop(postgres);
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// `postgres` minus `sqlite`, two wrk latencies, in milliseconds.
fn added_ms(sqlite: &str, postgres: &str) -> anyhow::Result<f64> {
    Ok((seconds(postgres)? - seconds(sqlite)?) * 1e3)
}

/// Which store a command or gateway uses.
enum Store {
    Sqlite,
    Postgres,
}

impl Store {
    fn name(&self) -> &'static str {
        match self {
            Store::Sqlite => "sqlite",
            Store::Postgres => "postgres",
        }
    }
}

struct Scale {
    docent: PathBuf,
    bots: PathBuf,
    widget_dir: PathBuf,
    work: PathBuf,
    /// The PostgreSQL store's URL.
    postgres: String,
    /// The wrk script posting the demo eval questions.
    script: PathBuf,
}

impl Scale {
    /// `docent` with the bots, the data directory and the store of `store`.
    fn docent(&self, store: &Store) -> Command {
        let mut command = Command::new(&self.docent);
        command
            .env("DOCENT_BOTS", &self.bots)
            .env("DOCENT_DATA", self.work.join(format!("data-{}", store.name())))
            .env("DOCENT_LOG", "error")
            .stdout(Stdio::null());
        if let Store::Postgres = store {
            command.env("DOCENT_STORE", &self.postgres);
        }
        command
    }

    fn cli(&self, store: &Store, arguments: &[&str]) -> anyhow::Result<()> {
        run_command(self.docent(store).args(arguments))
    }

    /// `docent serve` on `address`, without per-client limits (every request comes from one address).
    fn serve(&self, store: &Store, address: &str) -> anyhow::Result<Service> {
        let mut command = self.docent(store);
        command
            .args(["serve", "--listen", address, "--messages-per-client", UNLIMITED_MESSAGES])
            .args(["--messages-per-conversation", UNLIMITED_MESSAGES, "--max-connections-per-client", "0"])
            .arg("--widget-dir")
            .arg(&self.widget_dir);
        let mut gateway = Service::spawn(&mut command)?;
        wait_for_port(address, &mut gateway)?;
        Ok(gateway)
    }

    /// nginx in front of `replicas`, configured from `tests/nginx/balancing.conf` as the replica tests are.
    fn nginx(&self, replicas: &[String]) -> anyhow::Result<Proxy> {
        let address = free_address()?;
        let dir = self.work.join(format!("nginx-{}", replicas.len()));
        std::fs::create_dir_all(&dir)?;
        let servers: String =
            replicas.iter().map(|replica| format!("server {replica} max_fails=1 fail_timeout=2s; ")).collect();
        let config = include_str!("../../tests/nginx/balancing.conf")
            .replace("{dir}", &dir.display().to_string())
            .replace("{worker_connections}", "1024")
            .replace("{servers}", &servers)
            .replace("{address}", &address);
        std::fs::write(dir.join("nginx.conf"), config)?;
        let mut nginx = Service::spawn(&mut crate::nginx_in(&dir))?;
        wait_for_port(&address, &mut nginx)?;
        Ok(Proxy { address, _nginx: nginx })
    }

    /// [`DEPLOYS`] deploys of a new greeting: for each, how long the CLI took, and from its exit
    /// until every replica served the new greeting (polled every 5 ms).
    fn propagation(&self, replicas: &[String]) -> anyhow::Result<Vec<(Duration, Duration)>> {
        let toml = self.bots.join("brightwater/bot.toml");
        let original = std::fs::read_to_string(&toml).with_context(|| format!("cannot read {}", toml.display()))?;
        if !original.contains(GREETING) {
            bail!("{} no longer greets with {GREETING:?}", toml.display());
        }
        let mut rounds = Vec::new();
        for round in 1..=DEPLOYS {
            let marker = format!("Scale benchmark, deploy {round}.");
            std::fs::write(&toml, original.replace(GREETING, &marker))?;
            let started = Instant::now();
            self.cli(&Store::Postgres, &["deploy", "brightwater"])?;
            let deployed = Instant::now();
            for replica in replicas {
                while !greeting(replica)?.contains(&marker) {
                    if deployed.elapsed() > Duration::from_secs(30) {
                        bail!("{replica} does not serve deploy {round} after 30 s");
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            rounds.push((deployed - started, deployed.elapsed()));
        }
        Ok(rounds)
    }
}

/// The demo bot's configuration response from `replica`, whole.
fn greeting(replica: &str) -> anyhow::Result<String> {
    let mut stream = std::net::TcpStream::connect(replica).with_context(|| format!("cannot connect to {replica}"))?;
    write!(
        stream,
        "GET /v1/bots/brightwater/config HTTP/1.1\r\nHost: {replica}\r\nOrigin: http://localhost:8081\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// nginx, stopped when dropped.
struct Proxy {
    address: String,
    _nginx: Service,
}

/// A PostgreSQL cluster of its own in a temporary folder, with Debian's binaries and default
/// durability (fsync on), on a free loopback port; stopped and removed when dropped. Under
/// root its tools run as the `postgres` user, which PostgreSQL requires.
struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

impl Postgres {
    fn start() -> anyhow::Result<Postgres> {
        let bin = std::fs::read_dir(POSTGRES_ROOT)
            .with_context(|| format!("cannot list {POSTGRES_ROOT}"))?
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| Some((entry.file_name().to_str()?.parse::<u32>().ok()?, entry.path().join("bin"))))
            .filter(|(_, bin)| bin.join("postgres").is_file())
            .max_by_key(|(version, _)| *version)
            .map(|(_, bin)| bin)
            .with_context(|| format!("no PostgreSQL server below {POSTGRES_ROOT}"))?;
        let dir = std::env::temp_dir().join(format!("docent-bench-scale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let as_postgres_user = Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"));
        if as_postgres_user {
            run_command(Command::new("chown").arg("postgres:").arg(&dir))?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let server = Postgres { bin, dir, port, as_postgres_user };
        run_command(server.tool("initdb").arg("--pgdata").arg(server.dir.join("data")).args([
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ]))?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=200",
            server.port,
            server.dir.display()
        );
        run_command(
            server
                .tool("pg_ctl")
                .arg("start")
                .arg("--pgdata")
                .arg(server.dir.join("data"))
                .arg("--log")
                .arg(server.dir.join("server.log"))
                .args(["--wait", "-o", &options]),
        )?;
        Ok(server)
    }

    /// Creates `name` and returns its URL.
    fn create_database(&self, name: &str) -> anyhow::Result<String> {
        let url = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        run_command(self.tool("psql").args(["-X", "-q", "-c", &format!("CREATE DATABASE \"{name}\"")]).arg(url))?;
        Ok(format!("postgres://postgres@127.0.0.1:{}/{name}", self.port))
    }

    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        let mut command = if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.current_dir(&self.dir).stdout(Stdio::null());
        command
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let stopped = self
            .tool("pg_ctl")
            .arg("stop")
            .arg("--pgdata")
            .arg(self.dir.join("data"))
            .args(["--mode=fast", "--wait"])
            .status();
        if !stopped.is_ok_and(|status| status.success()) {
            eprintln!("cannot stop the benchmark's PostgreSQL in {}", self.dir.display());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
