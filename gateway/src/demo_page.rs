//! `GET /demo/{bot}`: the gateway's own test page for a bot, with the snippet and a strict CSP.

use hyper::Response;
use hyper::header::{self, HeaderValue};

use crate::assets::WIDGET_VERSION;
use crate::html::escape;
use crate::http::{HttpResponse, full_body};
use docent_lifecycle::config::BotConfig;

/// The policy the demo page runs under: the widget must work with nothing looser.
const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; \
                   style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

/// The snippet a website owner pastes into `<head>`, for a gateway at `gateway_url`.
pub fn snippet(gateway_url: &str, bot: &str) -> String {
    format!(
        r#"<script async src="{}/widget/{WIDGET_VERSION}/bundle.js" data-bot="{bot}"></script>"#,
        gateway_url.trim_end_matches('/')
    )
}

pub fn render(config: &BotConfig) -> HttpResponse {
    let name = escape(&config.name);
    let snippet_tag = snippet("", &config.id);
    let shown_snippet = escape(&snippet("https://YOUR-GATEWAY", &config.id));
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} · Docent demo</title>
{snippet_tag}
</head>
<body>
<main>
<h1>{name}</h1>
<p>This is the gateway's demo page for the bot <code>{id}</code>. Open the chat with the button in the corner.</p>
<p>To add this bot to a website, paste this line into the page's <code>&lt;head&gt;</code>, with your gateway's address:</p>
<pre><code>{shown_snippet}</code></pre>
</main>
</body>
</html>
"#,
        id = escape(&config.id),
    );
    let mut response = Response::new(full_body(html));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped() {
        assert_eq!(escape(r#"<b>"Tom" & 'Jerry'</b>"#), "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;");
    }

    #[test]
    fn the_snippet_points_at_this_widget_version() {
        assert_eq!(
            snippet("http://127.0.0.1:8080/", "acme"),
            format!(
                r#"<script async src="http://127.0.0.1:8080/widget/{WIDGET_VERSION}/bundle.js" data-bot="acme"></script>"#
            )
        );
    }
}
