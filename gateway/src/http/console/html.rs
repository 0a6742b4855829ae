//! HTML for the console: escaping and the page frame. Every dynamic text goes through [`escape`].

use std::fmt::Write;

/// Escapes text for HTML element content and double-quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A whole page: the frame, a sign-out button when signed in, and `body`.
pub(super) fn page(title: &str, signed_in_as: Option<(&str, &str)>, body: &str) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Docent console</title>\
         <link rel=\"stylesheet\" href=\"/admin/assets/console.css\">\
         <script defer src=\"/admin/assets/console.js\"></script></head><body>\
         <header class=\"top\"><a class=\"brand\" href=\"/admin/\">Docent console</a>",
        escape(title)
    );
    if let Some((name, csrf)) = signed_in_as {
        let _ = write!(
            html,
            "<span class=\"muted\">signed in as {}</span>\
             <form method=\"post\" action=\"/admin/sign-out\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button>Sign out</button></form>",
            escape(name),
            escape(csrf)
        );
    }
    let _ = write!(html, "</header><main>{body}</main></body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            escape(r#"<img src=x onerror="a('1')">&"#),
            "&lt;img src=x onerror=&quot;a(&#39;1&#39;)&quot;&gt;&amp;"
        );
    }
}
