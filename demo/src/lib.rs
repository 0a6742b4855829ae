//! A static file server for `demo/site`, the fictional customer website that embeds the widget.
//!
//! The pages carry the snippet pointing at `http://127.0.0.1:8080`. When the
//! gateway runs elsewhere (tests bind random ports), [`Site::gateway`] rewrites
//! that address in the HTML it serves, as a customer would edit their snippet.

use std::convert::Infallible;
use std::future::Future;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The gateway address written in the demo pages' snippets.
pub const SNIPPET_GATEWAY: &str = "http://127.0.0.1:8080";

/// What to serve.
#[derive(Clone, Debug)]
pub struct Site {
    pub root: PathBuf,
    /// Replaces [`SNIPPET_GATEWAY`] in HTML pages when set.
    pub gateway: Option<String>,
}

/// Serves `site` on `listener` until `shutdown` resolves.
pub async fn serve(listener: TcpListener, site: Site, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
            () = &mut shutdown => return,
        };
        let site = site.clone();
        let service = service_fn(move |request: Request<hyper::body::Incoming>| {
            let site = site.clone();
            async move { Ok::<_, Infallible>(respond(&site, request.method(), request.uri().path()).await) }
        });
        tokio::spawn(async move {
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn respond(site: &Site, method: &Method, path: &str) -> Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    let file = if path == AXE_CORE_URL { axe_core_file() } else { resolve(&site.root, path) };
    let Some(file) = file else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    let Ok(content) = tokio::fs::read(&file).await else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    let content_type = content_type(&file);
    let body = match (&site.gateway, content_type.starts_with("text/html")) {
        (Some(gateway), true) => {
            Bytes::from(String::from_utf8_lossy(&content).replace(SNIPPET_GATEWAY, gateway.trim_end_matches('/')))
        }
        _ => Bytes::from(content),
    };
    let mut response = Response::new(Full::new(body));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Where the site serves axe-core, so that accessibility checks load it from the page's own
/// origin and a strict CSP stays in force.
pub const AXE_CORE_URL: &str = "/vendor/axe.min.js";

/// The npm package axe-core in Docent's cache (`$XDG_CACHE_HOME/docent/axe-core`, else under
/// `~/.cache`), where the accessibility tests install it: `npm install axe-core --prefix DIR`.
pub fn axe_core_dir() -> Option<PathBuf> {
    let cache = match std::env::var_os("XDG_CACHE_HOME").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(cache.join("docent/axe-core"))
}

fn axe_core_file() -> Option<PathBuf> {
    Some(axe_core_dir()?.join("node_modules/axe-core/axe.min.js"))
}

/// Maps a URL path to a file under `root`, refusing anything that could leave it.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let mut file = root.to_path_buf();
    for segment in path.split('/').filter(|segment| !segment.is_empty()) {
        let safe = !segment.starts_with('.') && !segment.contains(['\\', '%', ':', '\0']);
        if !safe {
            return None;
        }
        file.push(segment);
    }
    if path.ends_with('/') || file == root {
        file.push("index.html");
    }
    Some(file)
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|ext| ext.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_leave_the_site_folder() {
        let root = Path::new("/site");
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/site/index.html")));
        assert_eq!(resolve(root, "/support.html"), Some(PathBuf::from("/site/support.html")));
        assert_eq!(resolve(root, "/docs/"), Some(PathBuf::from("/site/docs/index.html")));
        for bad in ["/../etc/passwd", "/%2e%2e/x", "/.git/config", "/a\\..\\b", "/C:/x"] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
    }
}
