//! The console's page frame. Every dynamic text in it goes through [`escape`].

use std::fmt::Write;

use crate::html::escape;

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
            "<a href=\"/admin/logs\">Logs</a><span class=\"muted\">signed in as {}</span>\
             <form method=\"post\" action=\"/admin/sign-out\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button>Sign out</button></form>",
            escape(name),
            escape(csrf)
        );
    }
    let _ = write!(html, "</header><main>{body}</main></body></html>");
    html
}
