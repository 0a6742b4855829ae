//! A throwaway PostgreSQL server for tests: Debian's binaries, a fresh cluster in a temporary
//! folder, listening on a free loopback port, stopped (even after a failed test) when dropped.
//!
//! PostgreSQL refuses to run as root, so under root every command runs as the `postgres` user
//! (`runuser`), and the folder is handed to that user first.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use anyhow::{Context, bail};

/// Where Debian installs each major version's server binaries.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// A running PostgreSQL cluster of its own. Databases are created with [`Postgres::create_database`].
pub struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres_user: bool,
}

impl Postgres {
    /// Creates a cluster (trust authentication for the `postgres` user, loopback only) and starts it.
    pub fn start() -> anyhow::Result<Postgres> {
        let bin = server_binaries()?;
        let as_postgres_user = std::fs::metadata("/proc/self").context("cannot read /proc/self")?.uid() == 0;
        let dir =
            tempfile::Builder::new().prefix("docent-pg-").tempdir().context("cannot create a folder for PostgreSQL")?;
        if as_postgres_user {
            run(Command::new("chown").arg("postgres:").arg(dir.path()))?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let server = Postgres { bin, dir, port, as_postgres_user };
        server.run_tool("initdb", |command| {
            command.arg("--pgdata").arg(server.data_dir()).args([
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]);
        })?;
        server.start_server()?;
        Ok(server)
    }

    /// The URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates an empty database and returns its URL.
    pub fn create_database(&self, name: &str) -> anyhow::Result<String> {
        self.sql("postgres", &format!("CREATE DATABASE \"{name}\""))?;
        Ok(self.url(name))
    }

    /// Runs SQL with `psql` on `database` and returns what it printed (unaligned, tuples only).
    pub fn sql(&self, database: &str, sql: &str) -> anyhow::Result<String> {
        let output = self.run_tool("psql", |command| {
            command.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]).arg(self.url(database));
        })?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Stops the server at once (connections are cut), as a crash or a failover would.
    pub fn stop(&self) -> anyhow::Result<()> {
        self.run_tool("pg_ctl", |command| {
            command.arg("stop").arg("--pgdata").arg(self.data_dir()).args(["--mode=immediate", "--wait"]);
        })?;
        Ok(())
    }

    /// Starts the server again on the same port and data, after [`Postgres::stop`].
    pub fn start_server(&self) -> anyhow::Result<()> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=200 -c fsync=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        self.run_tool("pg_ctl", |command| {
            command
                .arg("start")
                .arg("--pgdata")
                .arg(self.data_dir())
                .arg("--log")
                .arg(self.dir.path().join("server.log"))
                .args(["--wait", "--timeout=60", "-o", &options]);
        })
        .with_context(|| format!("PostgreSQL's log: {}", self.log()))?;
        Ok(())
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the server's tools (as the `postgres` user under root) and fails on a non-zero exit.
    fn run_tool(&self, tool: &str, arguments: impl FnOnce(&mut Command)) -> anyhow::Result<Output> {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        // The tools write into the working folder in places; keep them out of the caller's.
        command.current_dir(self.dir.path());
        arguments(&mut command);
        run(&mut command).with_context(|| format!("{} failed", program.display()))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Already stopped is fine: the folder goes either way.
        let _ = self.stop();
    }
}

/// The newest server version Debian's `postgresql` package installed.
fn server_binaries() -> anyhow::Result<PathBuf> {
    let versions = std::fs::read_dir(DEBIAN_ROOT).with_context(|| {
        format!("these tests need PostgreSQL in {DEBIAN_ROOT}: apt-get install postgresql (cargo xtask test does)")
    })?;
    let newest = versions
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse::<u32>().ok()?, entry.path())))
        .filter(|(_, path)| path.join("bin/postgres").is_file())
        .max_by_key(|(version, _)| *version)
        .with_context(|| format!("no PostgreSQL server below {DEBIAN_ROOT}: apt-get install postgresql"))?;
    Ok(newest.1.join("bin"))
}

fn run(command: &mut Command) -> anyhow::Result<Output> {
    let output = command.output().with_context(|| format!("cannot run {:?}", command.get_program()))?;
    if !output.status.success() {
        bail!(
            "{:?} exited with {}: {}{}",
            command.get_program(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(output)
}
