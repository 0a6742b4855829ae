//! A tiny website for tests, on a raw loopback socket: pages by path that a test may change
//! between requests (with `ETag`s honoured by `If-None-Match`), `/slow` that never answers and
//! `/endless` whose body never ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A page: status, extra headers, body.
pub type Page = (u16, Vec<(String, String)>, String);

/// The site's pages by path, shared with the server.
pub type Pages = Arc<Mutex<HashMap<String, Page>>>;

/// Serves `pages` on a random loopback port, returned. Pages default to `text/html`; a page's
/// own `Content-Type` header wins.
pub async fn serve(pages: Pages) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { continue };
            let pages = Arc::clone(&pages);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                match path.as_str() {
                    "/slow" => tokio::time::sleep(Duration::from_secs(60)).await,
                    "/endless" => {
                        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n").await;
                        let chunk = vec![b'a'; 64 * 1024];
                        while stream.write_all(&chunk).await.is_ok() {}
                    }
                    _ => {
                        let page = pages.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&path).cloned();
                        let (mut status, headers, mut body) = page.unwrap_or((404, Vec::new(), "not found".into()));
                        // A conditional request for an unchanged page: 304 without a body.
                        let etag = headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("etag")).map(|(_, v)| v);
                        let asked = text.lines().find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.trim().eq_ignore_ascii_case("if-none-match").then(|| value.trim().to_owned())
                        });
                        if etag.is_some() && etag == asked.as_ref() {
                            (status, body) = (304, String::new());
                        }
                        let has_type = headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
                        let mut head =
                            format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
                        if !has_type {
                            head.push_str("Content-Type: text/html\r\n");
                        }
                        for (name, value) in headers {
                            head.push_str(&format!("{name}: {value}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = stream.write_all(head.as_bytes()).await;
                        let _ = stream.write_all(body.as_bytes()).await;
                    }
                }
            });
        }
    });
    port
}

/// Pages from `(path, page)` pairs.
pub fn pages(list: impl IntoIterator<Item = (&'static str, Page)>) -> Pages {
    Arc::new(Mutex::new(list.into_iter().map(|(path, page)| (path.to_owned(), page)).collect()))
}
