//! Real receivers for notices, started by the tests on loopback: an HTTP server keeping each
//! webhook's JSON, and Debian's `python3-aiosmtpd` keeping each e-mail it accepts.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// The longest the SMTP server may take to listen.
const START: Duration = Duration::from_secs(30);

/// What the webhook receiver got: the path and the JSON body of each POST, in order.
pub type Received = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

/// An HTTP server on loopback that answers 200 to every POST and keeps what it got.
pub async fn webhook_receiver() -> anyhow::Result<(SocketAddr, Received)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let received: Received = Arc::default();
    let keep = Arc::clone(&received);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let keep = Arc::clone(&keep);
            let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                let keep = Arc::clone(&keep);
                async move {
                    let path = request.uri().to_string();
                    let body = request.into_body().collect().await?.to_bytes();
                    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    keep.lock().unwrap().push((path, json));
                    Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                }
            });
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    Ok((address, received))
}

/// A real SMTP server (Debian's `python3-aiosmtpd`) keeping each message it accepts, as the
/// raw text it printed; killed when dropped.
pub struct SmtpServer {
    child: Child,
    messages: Arc<Mutex<Vec<String>>>,
    pub port: u16,
}

impl SmtpServer {
    pub fn start() -> anyhow::Result<SmtpServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        // Debian's interpreter, which the package is installed for (another `python3` may come first on PATH).
        let mut child = Command::new("/usr/bin/python3")
            .args(["-u", "-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start /usr/bin/python3 -m aiosmtpd (apt-get install python3-aiosmtpd)")?;
        let stdout = child.stdout.take().context("aiosmtpd's output")?;
        let messages: Arc<Mutex<Vec<String>>> = Arc::default();
        let keep = Arc::clone(&messages);
        std::thread::spawn(move || {
            // The debugging handler prints each message between two marker lines, after the
            // MAIL options (and a blank line) when the client gave any.
            let mut current: Option<String> = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                match (&mut current, line.as_str()) {
                    (None, "---------- MESSAGE FOLLOWS ----------") => current = Some(String::new()),
                    (Some(message), "------------ END MESSAGE ------------") => {
                        keep.lock().unwrap().push(std::mem::take(message));
                        current = None;
                    }
                    (Some(message), line) => {
                        let options = message.is_empty() && (line.starts_with("mail options:") || line.is_empty());
                        if !options {
                            message.push_str(line);
                            message.push_str("\r\n");
                        }
                    }
                    (None, _) => {}
                }
            }
        });
        let deadline = Instant::now() + START;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("aiosmtpd did not listen on port {port} within {START:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(SmtpServer { child, messages, port })
    }

    /// The raw text of each message received so far, in order.
    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    /// The subject of each message received so far, in order.
    pub fn subjects(&self) -> Vec<String> {
        self.messages()
            .iter()
            .filter_map(|message| {
                message.lines().take_while(|line| !line.is_empty()).find_map(|line| line.strip_prefix("Subject: "))
            })
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
