//! Drives headless Chromium through chromedriver's W3C WebDriver HTTP API.
//!
//! Only the handful of commands the widget tests need, shadow roots included.
//! A WebDriver crate would bring two HTTP stacks and an ICU build with it; these
//! few JSON calls over the test HTTP client cost nothing to build.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use hyper::Method;
use serde_json::{Value, json};

use crate::http::send;

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
const SHADOW_KEY: &str = "shadow-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session.
pub struct Browser {
    driver: Child,
    address: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

/// A reference to a DOM element.
#[derive(Clone, Debug)]
pub struct Element(String);

/// A reference to an element's shadow root.
#[derive(Clone, Debug)]
pub struct ShadowRoot(String);

fn tool(env: &str, default: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os(env).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default));
    if !path.exists() {
        bail!(
            "{} not found: install it with `apt-get install chromium chromium-driver` (or run `cargo xtask test`, which does), or set {env}",
            path.display()
        );
    }
    Ok(path)
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium profile.
    pub async fn start() -> anyhow::Result<Browser> {
        let chromium = tool("DOCENT_CHROMIUM", "/usr/bin/chromium")?;
        let chromedriver = tool("DOCENT_CHROMEDRIVER", "/usr/bin/chromedriver")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", chromedriver.display()))?;
        let profile = tempfile::tempdir()?;
        let mut browser = Browser {
            driver,
            address: SocketAddr::from(([127, 0, 0, 1], port)),
            session: String::new(),
            _profile: profile,
        };
        browser.wait_until_ready().await?;
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let session = browser.command(Method::POST, "/session", capabilities).await?;
        browser.session =
            session.get("sessionId").and_then(Value::as_str).context("chromedriver returned no session id")?.to_owned();
        Ok(browser)
    }

    async fn wait_until_ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(reply) = send(self.address, Method::GET, "/status", &[], "").await
                && reply.json().pointer("/value/ready") == Some(&Value::Bool(true))
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not become ready within 15 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn command(&self, method: Method, path: &str, body: Value) -> anyhow::Result<Value> {
        let body = if body.is_null() { String::new() } else { body.to_string() };
        let reply = send(self.address, method, path, &[("content-type", "application/json")], body).await?;
        let json = reply.json();
        if reply.status != 200 {
            bail!("webdriver {path} failed with {}: {}", reply.status, json);
        }
        Ok(json.get("value").cloned().unwrap_or(Value::Null))
    }

    async fn session_command(&self, method: Method, path: &str, body: Value) -> anyhow::Result<Value> {
        self.command(method, &format!("/session/{}{path}", self.session), body).await
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.session_command(Method::POST, "/url", json!({"url": url})).await.map(drop)
    }

    /// The first element of the document matching `css`, if any.
    pub async fn find(&self, css: &str) -> anyhow::Result<Option<Element>> {
        let found =
            self.session_command(Method::POST, "/elements", json!({"using": "css selector", "value": css})).await?;
        Ok(first_reference(&found, ELEMENT_KEY).map(Element))
    }

    pub async fn shadow_root(&self, host: &Element) -> anyhow::Result<ShadowRoot> {
        let root = self.session_command(Method::GET, &format!("/element/{}/shadow", host.0), Value::Null).await?;
        root.get(SHADOW_KEY).and_then(Value::as_str).map(|id| ShadowRoot(id.to_owned())).context("no shadow root")
    }

    /// Every element inside `root` matching `css`.
    pub async fn find_all_in(&self, root: &ShadowRoot, css: &str) -> anyhow::Result<Vec<Element>> {
        let found = self
            .session_command(
                Method::POST,
                &format!("/shadow/{}/elements", root.0),
                json!({"using": "css selector", "value": css}),
            )
            .await?;
        Ok(found
            .as_array()
            .map(|all| {
                all.iter().filter_map(|e| e.get(ELEMENT_KEY)?.as_str().map(|id| Element(id.to_owned()))).collect()
            })
            .unwrap_or_default())
    }

    /// Waits up to `timeout` for an element matching `css` inside `root`.
    pub async fn wait_in(&self, root: &ShadowRoot, css: &str, timeout: Duration) -> anyhow::Result<Element> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(element) = self.find_all_in(root, css).await?.into_iter().next() {
                return Ok(element);
            }
            if Instant::now() > deadline {
                bail!("no element matches `{css}` in the shadow root after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits up to `timeout` for the document element matching `css`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> anyhow::Result<Element> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(element) = self.find(css).await? {
                return Ok(element);
            }
            if Instant::now() > deadline {
                bail!("no element matches `{css}` after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Makes the document of the `<iframe>` `frame` the context of the commands that follow.
    pub async fn enter_frame(&self, frame: &Element) -> anyhow::Result<()> {
        self.session_command(Method::POST, "/frame", json!({"id": {ELEMENT_KEY: frame.0}})).await.map(drop)
    }

    /// Makes the top-level document the context of the commands that follow.
    pub async fn leave_frames(&self) -> anyhow::Result<()> {
        self.session_command(Method::POST, "/frame", json!({"id": null})).await.map(drop)
    }

    pub async fn click(&self, element: &Element) -> anyhow::Result<()> {
        self.session_command(Method::POST, &format!("/element/{}/click", element.0), json!({})).await.map(drop)
    }

    pub async fn type_text(&self, element: &Element, text: &str) -> anyhow::Result<()> {
        self.session_command(Method::POST, &format!("/element/{}/value", element.0), json!({"text": text}))
            .await
            .map(drop)
    }

    pub async fn text(&self, element: &Element) -> anyhow::Result<String> {
        let text = self.session_command(Method::GET, &format!("/element/{}/text", element.0), Value::Null).await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    pub async fn attribute(&self, element: &Element, name: &str) -> anyhow::Result<Option<String>> {
        let value =
            self.session_command(Method::GET, &format!("/element/{}/attribute/{name}", element.0), Value::Null).await?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        let encoded = self.session_command(Method::GET, "/screenshot", Value::Null).await?;
        let encoded = encoded.as_str().context("the screenshot is not a string")?;
        Ok(base64::engine::general_purpose::STANDARD.decode(encoded)?)
    }

    /// Runs `script` in the page and returns its JSON result.
    pub async fn execute(&self, script: &str) -> anyhow::Result<Value> {
        self.session_command(Method::POST, "/execute/sync", json!({"script": script, "args": []})).await
    }

    /// Resizes the window so that the page's viewport is `width`×`height` CSS pixels.
    pub async fn set_viewport(&self, width: u32, height: u32) -> anyhow::Result<()> {
        let inner = self
            .execute("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]")
            .await?;
        let extra = |index: usize| inner.get(index).and_then(Value::as_u64).unwrap_or(0);
        let rect = json!({"width": u64::from(width) + extra(0), "height": u64::from(height) + extra(1)});
        self.session_command(Method::POST, "/window/rect", rect).await.map(drop)
    }

    /// The browser console's messages since the last call, one string each.
    pub async fn console_messages(&self) -> anyhow::Result<Vec<String>> {
        let entries = self.session_command(Method::POST, "/se/log", json!({"type": "browser"})).await?;
        Ok(entries
            .as_array()
            .map(|all| all.iter().filter_map(|entry| entry.get("message")?.as_str().map(str::to_owned)).collect())
            .unwrap_or_default())
    }

    /// Ends the session and chromedriver.
    pub async fn quit(mut self) -> anyhow::Result<()> {
        let ended = self.command(Method::DELETE, &format!("/session/{}", self.session), Value::Null).await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        ended.map(drop)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn first_reference(found: &Value, key: &str) -> Option<String> {
    found.as_array()?.first()?.get(key)?.as_str().map(str::to_owned)
}
