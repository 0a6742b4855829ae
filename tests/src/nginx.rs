//! Debian's nginx as the CDN stand-in: a caching reverse proxy in front of a gateway, started in
//! a temporary folder in the foreground and stopped when dropped.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NGINX: &str = "/usr/sbin/nginx";

/// nginx in a temporary folder, in the foreground, stopped when dropped.
pub struct Nginx {
    child: Child,
    pub address: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx on a free port, caching in front of `gateway`.
    pub fn start(gateway: SocketAddr) -> Nginx {
        Nginx::start_with(gateway, None, "")
    }

    /// Starts nginx on `address` (a free port when `None`) in front of `gateway`, with
    /// `directives` added to the proxy's settings (e.g. a rule that strips a header).
    pub fn start_with(gateway: SocketAddr, address: Option<SocketAddr>, directives: &str) -> Nginx {
        assert!(Path::new(NGINX).exists(), "these tests need nginx: apt-get install nginx (cargo xtask test does)");
        let dir = tempfile::tempdir().unwrap();
        let address =
            address.unwrap_or_else(|| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap());
        let path = dir.path().display();
        let proxy = format!(
            "proxy_pass http://{gateway}; proxy_http_version 1.1; proxy_set_header Connection \"\";\n\
             proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
             proxy_cache edge; proxy_cache_revalidate on;\n\
             add_header X-Cache-Status $upstream_cache_status always; {directives}"
        );
        let config = format!(
            "daemon off; master_process off; worker_processes 1; pid {path}/nginx.pid; error_log {path}/error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
               access_log off;\n\
               client_body_temp_path {path}/body; proxy_temp_path {path}/proxy; fastcgi_temp_path {path}/fastcgi;\n\
               uwsgi_temp_path {path}/uwsgi; scgi_temp_path {path}/scgi;\n\
               proxy_cache_path {path}/cache levels=1:2 keys_zone=edge:1m max_size=64m inactive=10m use_temp_path=off;\n\
               server {{\n\
                 listen {address};\n\
                 location / {{ {proxy} }}\n\
                 # The same files with a one-second lifetime, to see nginx revalidate them.\n\
                 location /short/ {{ rewrite ^/short(/.*)$ $1 break; {proxy}\n\
                   proxy_ignore_headers Cache-Control Expires; proxy_cache_valid 200 1s; }}\n\
               }}\n\
             }}\n"
        );
        Nginx::run(dir, address, &config)
    }

    /// Starts nginx on a free port as a caching reverse proxy in front of several gateway
    /// `replicas` (an `upstream` with keep-alive connections). A replica that refuses or cuts
    /// a connection is skipped for `fail_timeout`, and the request, chat messages included
    /// (`non_idempotent`), goes to the next one: a replica killed mid-answer costs no request.
    pub fn start_balancing(replicas: &[SocketAddr]) -> Nginx {
        assert!(Path::new(NGINX).exists(), "these tests need nginx: apt-get install nginx (cargo xtask test does)");
        let dir = tempfile::tempdir().unwrap();
        let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let config = balancing_config(dir.path(), address, replicas, 256);
        Nginx::run(dir, address, &config)
    }

    fn run(dir: tempfile::TempDir, address: SocketAddr, config: &str) -> Nginx {
        std::fs::write(dir.path().join("nginx.conf"), config).unwrap();
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdout(Stdio::null())
            .spawn()
            .expect("cannot start nginx");
        let mut nginx = Nginx { child, address, _dir: dir };
        let started = Instant::now();
        while std::net::TcpStream::connect(address).is_err() {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                let log = std::fs::read_to_string(nginx._dir.path().join("error.log")).unwrap_or_default();
                panic!("nginx exited with {status}: {log}");
            }
            assert!(started.elapsed() < Duration::from_secs(20), "nginx does not listen on {address}");
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }
}

/// nginx's configuration for [`Nginx::start_balancing`] (`tests/nginx/balancing.conf`, which
/// `cargo xtask bench scale` proxies with too), in the folder `dir`, listening on `address`;
/// `worker_connections` bounds the connections nginx holds at once (clients and upstreams).
pub fn balancing_config(dir: &Path, address: SocketAddr, replicas: &[SocketAddr], worker_connections: u32) -> String {
    let servers: String =
        replicas.iter().map(|replica| format!("server {replica} max_fails=1 fail_timeout=2s; ")).collect();
    include_str!("../nginx/balancing.conf")
        .replace("{dir}", &dir.display().to_string())
        .replace("{worker_connections}", &worker_connections.to_string())
        .replace("{servers}", &servers)
        .replace("{address}", &address.to_string())
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
