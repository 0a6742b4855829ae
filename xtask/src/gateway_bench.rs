//! `cargo xtask bench gateway`: the gateway at the edge, against release builds, in one run:
//! 1. HTTP answers at 1, 16 and 64 connections (wrk), beside in-process answering;
//! 2. bundle.js over TLS, beside nginx serving the same file over TLS;
//! 3. a restart onto a new process under 64 connections: failed requests;
//! 4. chat during a flood of wrong staff passwords from 400 connections, each request from an
//!    address of its own behind a trusted proxy: chat p99 against its baseline, peak memory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::{Service, cargo, dist, ensure_packages, run as run_command, wait_for_port};

const LOAD_SECONDS: u32 = 10;
const CONNECTIONS: [u32; 3] = [1, 16, 64];
/// Chat messages per client and minute for the benchmark's gateways: wrk is one client.
const UNLIMITED_MESSAGES: &str = "1000000000";

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    ensure_packages("the gateway benchmark", &[("wrk", "/usr/bin/wrk"), ("nginx", "/usr/sbin/nginx")])?;
    let widget = dist::build_widget(root)?;
    let in_process = in_process_answering(root)?;
    run_command(cargo(root).args(["build", "--release", "-p", "docent-gateway"]))?;
    let docent = target_dir(root).join("release/docent");
    let work = target_dir(root).join("bench-gateway");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("cannot empty {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)?;
    let bench = Bench { root, docent: &docent, work: &work, widget_dir: &widget.dir };
    for bot in ["brightwater", "handbook"] {
        run_command(
            Command::new(&docent)
                .args(["deploy", bot, "--bots"])
                .arg(root.join("demo/bots"))
                .arg("--data")
                .arg(work.join("data")),
        )?;
    }

    let mut answers = Vec::new();
    {
        let address = free_address()?;
        let _gateway = bench.serve(&address, &[])?;
        let script = work.join("post.lua");
        std::fs::write(&script, crate::bench::wrk_script(&crate::bench::eval_questions(root)?))?;
        for connections in CONNECTIONS {
            let url = format!("http://{address}/v1/bots/brightwater/messages");
            let report = wrk(connections, LOAD_SECONDS, Some(&script), &url)?;
            answers.push((connections, report));
        }
    }
    let tls = bench.tls_comparison()?;
    let restart = bench.restart_under_load()?;
    let flood = bench.chat_during_a_sign_in_flood()?;

    println!();
    println!("== HTTP answers (wrk, {LOAD_SECONDS} s each) against in-process answering ==");
    println!(
        "in-process: {:.0} answers/s on 1 thread, {:.0} on {} threads",
        in_process.one_thread, in_process.every_core, in_process.cores
    );
    for (connections, report) in &answers {
        let in_process = if *connections == 1 { in_process.one_thread } else { in_process.every_core };
        println!(
            "{connections:>2} connections: {:.0} requests/s, p50 {}, p99 {}, {} failed; in-process {:.0}/s: {:.2}x",
            report.requests_per_second,
            report.p50,
            report.p99,
            report.failed,
            in_process,
            report.requests_per_second / in_process
        );
    }
    println!("== bundle.js over TLS (16 connections, {LOAD_SECONDS} s) ==");
    println!(
        "docent {:.0} requests/s (p99 {}), nginx {:.0} requests/s (p99 {}): {:.2}x",
        tls.0.requests_per_second,
        tls.0.p99,
        tls.1.requests_per_second,
        tls.1.p99,
        tls.0.requests_per_second / tls.1.requests_per_second
    );
    println!("== restart onto a new process under 64 connections ==");
    println!("{} requests, {} failed", restart.requests, restart.failed);
    println!("== chat (16 connections) during a sign-in flood (400 connections, {FLOOD_SECONDS} s) ==");
    println!(
        "chat p99 {} alone, {} during the flood: {:.2}x; {} chat requests failed; {} sign-in attempts \
         (401 or 429), {} other; gateway peak memory {} MiB",
        flood.baseline.p99,
        flood.during.p99,
        seconds(&flood.during.p99)? / seconds(&flood.baseline.p99)?,
        flood.during.failed,
        flood.attempts.requests,
        flood.attempts_other,
        flood.peak_kib / 1024
    );
    Ok(())
}

/// How long the sign-in flood lasts; chat is measured within it.
const FLOOD_SECONDS: u32 = 14;

/// A wrk script: wrong passwords for the internal `handbook` bot, each request from a random
/// address of 10.0.0.0/8 in `X-Forwarded-For`, which the gateway trusts from loopback.
const FLOOD_SCRIPT: &str = r#"
wrk.method = "POST"
wrk.body = '{"password":"a wrong guess"}'
request = function()
  local address = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format(nil, nil, { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = address })
end
local other = 0
response = function(status)
  if status ~= 401 and status ~= 429 then other = other + 1 end
end
done = function()
  io.write("other statuses: " .. other .. "\n")
end
"#;

struct Bench<'a> {
    root: &'a Path,
    docent: &'a Path,
    work: &'a Path,
    widget_dir: &'a Path,
}

impl Bench<'_> {
    /// `docent serve` on the deployed demo bot, on `address`, with `extra` arguments.
    fn serve_command(&self, address: &str, extra: &[&str]) -> Command {
        let mut command = Command::new(self.docent);
        command
            .arg("serve")
            .arg("--bots")
            .arg(self.root.join("demo/bots"))
            .arg("--data")
            .arg(self.work.join("data"))
            .args(["--listen", address, "--messages-per-client", UNLIMITED_MESSAGES])
            .arg("--widget-dir")
            .arg(self.widget_dir)
            .args(extra)
            .env("DOCENT_LOG", "warn")
            .stdout(Stdio::null());
        command
    }

    fn serve(&self, address: &str, extra: &[&str]) -> anyhow::Result<Service> {
        let mut gateway = Service::spawn(&mut self.serve_command(address, extra))?;
        wait_for_port(address, &mut gateway)?;
        Ok(gateway)
    }

    /// wrk on bundle.js over TLS: from `docent serve --tls-cert`, then from nginx with the same
    /// certificate serving the same file from disk.
    fn tls_comparison(&self) -> anyhow::Result<(WrkReport, WrkReport)> {
        let (cert, key) = (self.work.join("cert.pem"), self.work.join("key.pem"));
        run_command(
            Command::new("openssl")
                .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
                .args(["-days", "2", "-subj", "/CN=localhost", "-keyout"])
                .arg(&key)
                .arg("-out")
                .arg(&cert)
                .stderr(Stdio::null()),
        )?;
        let version = env!("CARGO_PKG_VERSION");
        let path = format!("/widget/{version}/bundle.js");
        let docent = {
            let address = free_address()?;
            let tls = [
                "--tls-cert",
                cert.to_str().context("a UTF-8 path")?,
                "--tls-key",
                key.to_str().context("a UTF-8 path")?,
            ];
            let _gateway = self.serve(&address, &tls)?;
            wrk(16, LOAD_SECONDS, None, &format!("https://{address}{path}"))?
        };
        let nginx = {
            let address = free_address()?;
            let dir = self.work.join("nginx");
            std::fs::create_dir_all(dir.join(format!("www/widget/{version}")))?;
            std::fs::copy(self.widget_dir.join("bundle.js"), dir.join(format!("www/widget/{version}/bundle.js")))?;
            let d = dir.display();
            let config = format!(
                "daemon off; worker_processes auto; pid {d}/nginx.pid; error_log {d}/error.log warn;\n\
                 events {{ worker_connections 1024; }}\n\
                 http {{ access_log off; sendfile on; keepalive_requests 100000;\n\
                   client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;\n\
                   uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
                   types {{ text/javascript js; }}\n\
                   server {{ listen {address} ssl; ssl_certificate {}; ssl_certificate_key {}; root {d}/www; }}\n\
                 }}\n",
                cert.display(),
                key.display()
            );
            std::fs::write(dir.join("nginx.conf"), config)?;
            let mut nginx = Service::spawn(crate::nginx_in(&dir).args(["-g", "user root;"]))?;
            wait_for_port(&address, &mut nginx)?;
            let report = wrk(16, LOAD_SECONDS, None, &format!("https://{address}{path}"))?;
            // SIGTERM, not the SIGKILL of a dropped `Service`: the master then stops its workers,
            // which would otherwise outlive it and take CPU from the steps that follow.
            run_command(Command::new("kill").args(["-TERM", &nginx.child.id().to_string()]))?;
            nginx.child.wait()?;
            report
        };
        Ok((docent, nginx))
    }

    /// Chat p99 at 16 connections alone, then while 400 connections post wrong staff passwords
    /// from as many addresses (behind a trusted proxy, so the brake lets each through to the
    /// argon2 bound), and the gateway's peak resident memory.
    fn chat_during_a_sign_in_flood(&self) -> anyhow::Result<FloodReport> {
        let address = free_address()?;
        let gateway =
            self.serve(&address, &["--trusted-proxies", "127.0.0.1/32", "--max-connections-per-client", "0"])?;
        let chat_script = self.work.join("post.lua");
        let chat_url = format!("http://{address}/v1/bots/brightwater/messages");
        let baseline = wrk(16, LOAD_SECONDS, Some(&chat_script), &chat_url)?;
        let flood_script = self.work.join("flood.lua");
        std::fs::write(&flood_script, FLOOD_SCRIPT)?;
        let flood_url = format!("http://{address}/v1/bots/handbook/sessions");
        let flood = std::thread::spawn(move || wrk_output(400, FLOOD_SECONDS, Some(&flood_script), &flood_url));
        std::thread::sleep(Duration::from_secs(2));
        let during = wrk(16, LOAD_SECONDS, Some(&chat_script), &chat_url)?;
        let flood_text = flood.join().map_err(|_| anyhow::anyhow!("the flood's wrk thread panicked"))??;
        let attempts = parse_wrk(&flood_text).with_context(|| format!("cannot read wrk's report: {flood_text}"))?;
        let attempts_other = flood_text
            .lines()
            .find_map(|line| line.strip_prefix("other statuses: "))
            .and_then(|count| count.trim().parse().ok())
            .context("the flood script printed no count")?;
        let status = std::fs::read_to_string(format!("/proc/{}/status", gateway.child.id()))?;
        let peak_kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|kib| kib.split_whitespace().next()?.parse().ok())
            .context("no VmHWM in the gateway's status")?;
        Ok(FloodReport { baseline, during, attempts, attempts_other, peak_kib })
    }

    /// wrk with 64 connections on `/healthz`; meanwhile a second gateway binds the same port
    /// and the first gets SIGTERM.
    fn restart_under_load(&self) -> anyhow::Result<RestartReport> {
        let address = free_address()?;
        let mut old = self.serve(&address, &[])?;
        let url = format!("http://{address}/healthz");
        let load = std::thread::spawn(move || wrk(64, 8, None, &url));
        std::thread::sleep(Duration::from_secs(2));
        let mut command = self.serve_command(&address, &[]);
        let mut new = Service::spawn(command.stdout(Stdio::piped()))?;
        let stdout = new.child.stdout.take().context("the new gateway's output")?;
        let mut lines = BufReader::new(stdout).lines();
        if !lines.any(|line| line.is_ok_and(|line| line.starts_with("docent is listening"))) {
            bail!("the new gateway exited before listening");
        }
        std::thread::spawn(move || lines.for_each(drop));
        std::thread::sleep(Duration::from_secs(1));
        run_command(Command::new("kill").args(["-TERM", &old.child.id().to_string()]))?;
        let status = old.child.wait()?;
        if !status.success() {
            bail!("the old gateway exited with {status}");
        }
        let report = load.join().map_err(|_| anyhow::anyhow!("the wrk thread panicked"))??;
        drop(new);
        Ok(RestartReport { requests: report.requests, failed: report.failed })
    }
}

struct FloodReport {
    baseline: WrkReport,
    during: WrkReport,
    attempts: WrkReport,
    /// Sign-in answers other than 401 (wrong) and 429 (braked or every argon2 permit taken).
    attempts_other: u64,
    peak_kib: u64,
}

struct RestartReport {
    requests: u64,
    failed: u64,
}

/// What one wrk run reported.
pub(crate) struct WrkReport {
    pub(crate) requests_per_second: f64,
    pub(crate) requests: u64,
    pub(crate) p50: String,
    pub(crate) p99: String,
    /// Socket errors (connect, read, write, timeout) and non-2xx/3xx answers.
    pub(crate) failed: u64,
}

pub(crate) fn wrk(connections: u32, seconds: u32, script: Option<&Path>, url: &str) -> anyhow::Result<WrkReport> {
    let text = wrk_output(connections, seconds, script, url)?;
    parse_wrk(&text).with_context(|| format!("cannot read wrk's report: {text}"))
}

/// wrk's whole report (what its script printed included).
fn wrk_output(connections: u32, seconds: u32, script: Option<&Path>, url: &str) -> anyhow::Result<String> {
    let mut command = Command::new("wrk");
    command.args([
        format!("-t{}", connections.min(2)),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
        "--latency".to_owned(),
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).output().context("cannot run wrk")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(text)
}

/// A wrk latency (`612.00us`, `7.60ms`, `1.20s`) in seconds.
pub(crate) fn seconds(latency: &str) -> anyhow::Result<f64> {
    let split = latency.find(|c: char| c.is_ascii_alphabetic()).context("a latency with a unit")?;
    let (number, unit) = latency.split_at(split);
    let number: f64 = number.parse().with_context(|| format!("cannot read the latency {latency:?}"))?;
    let scale = match unit {
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        _ => bail!("unknown latency unit in {latency:?}"),
    };
    Ok(number * scale)
}

fn parse_wrk(text: &str) -> Option<WrkReport> {
    let after = |label: &str| text.lines().find_map(|line| line.trim().strip_prefix(label).map(str::trim));
    let requests_per_second = after("Requests/sec:")?.parse().ok()?;
    let requests = text.lines().find(|line| line.contains("requests in"))?.split_whitespace().next()?.parse().ok()?;
    let socket_errors: u64 = after("Socket errors:").map_or(0, |errors| {
        errors.split(',').filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok()).sum()
    });
    let non_2xx: u64 = after("Non-2xx or 3xx responses:").and_then(|n| n.parse().ok()).unwrap_or(0);
    Some(WrkReport {
        requests_per_second,
        requests,
        p50: after("50%")?.to_owned(),
        p99: after("99%")?.to_owned(),
        failed: socket_errors + non_2xx,
    })
}

/// In-process answering throughput, from `cargo bench -p docent-gateway --bench answer`.
struct InProcess {
    one_thread: f64,
    every_core: f64,
    cores: usize,
}

fn in_process_answering(root: &Path) -> anyhow::Result<InProcess> {
    let output = cargo(root)
        .args(["bench", "-p", "docent-gateway", "--bench", "answer"])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run the answer benchmark")?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    if !output.status.success() {
        bail!("the answer benchmark failed ({})", output.status);
    }
    let runs = throughput_lines(&text);
    match runs.as_slice() {
        [(1, one_thread), .., (cores, every_core)] => {
            Ok(InProcess { one_thread: *one_thread, every_core: *every_core, cores: *cores })
        }
        _ => bail!("the answer benchmark printed no throughput lines"),
    }
}

/// `(threads, answers per second)` of each "in-process throughput, N threads: X answers/s" line.
fn throughput_lines(text: &str) -> Vec<(usize, f64)> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("in-process throughput, ")?;
            let (threads, rest) = rest.split_once(" threads: ")?;
            let per_second = rest.strip_suffix(" answers/s")?;
            Some((threads.parse().ok()?, per_second.parse().ok()?))
        })
        .collect()
}

pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

pub(crate) fn free_address() -> anyhow::Result<String> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_in_process_throughput_lines() {
        let text = "answer latency (in-process, lexical only, 35 questions x 200 rounds): p50 120.0 µs, p99 300.0 µs\n\
                    in-process throughput, 1 threads: 6512 answers/s\n\
                    in-process throughput, 2 threads: 11804 answers/s\n";
        assert_eq!(throughput_lines(text), vec![(1, 6512.0), (2, 11804.0)]);
        assert!(throughput_lines("p50 120.0 µs").is_empty());
    }

    #[test]
    fn reads_wrk_reports() {
        let report = "Running 10s test @ http://127.0.0.1:1/healthz\n  Latency Distribution\n     50%  1.65ms\n     \
                      99%    7.60ms\n  86990 requests in 10.00s, 1.2MB read\n  Socket errors: connect 0, read 3, \
                      write 1, timeout 0\n  Non-2xx or 3xx responses: 2\nRequests/sec:   8699.12\n";
        let parsed = parse_wrk(report).unwrap();
        assert_eq!((parsed.requests, parsed.failed), (86990, 6));
        assert_eq!((parsed.p50.as_str(), parsed.p99.as_str()), ("1.65ms", "7.60ms"));
        assert!((parsed.requests_per_second - 8699.12).abs() < 1e-6);
        assert!(parse_wrk("wrk: connection refused").is_none());
    }

    #[test]
    fn reads_wrk_latencies() {
        for (latency, expected) in [("612.00us", 612e-6), ("7.60ms", 7.6e-3), ("1.20s", 1.2), ("2.00m", 120.0)] {
            assert!((seconds(latency).unwrap() - expected).abs() < 1e-12, "{latency}");
        }
        assert!(seconds("7.60").is_err());
        assert!(seconds("7.60h").is_err());
    }
}
