//! Tidy checks: the docs, the demo pages and the source tree agree with the code.

use std::path::{Path, PathBuf};

use docent_tests::http::send;
use docent_tests::{stack, workspace_root};
use hyper::Method;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_doc_line() {
    let mut files = Vec::new();
    rust_files(&workspace_root(), &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<_> = files
        .iter()
        .filter(|file| !std::fs::read_to_string(file).unwrap().starts_with("//! "))
        .map(|file| file.strip_prefix(workspace_root()).unwrap_or(file).display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a leading `//!` line: {missing:?}");
}

#[test]
fn the_readme_shows_the_two_commands_and_the_snippet() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    for needle in ["cargo xtask demo", "cargo xtask test", r#"<script async src="#, "data-bot="] {
        assert!(readme.contains(needle), "README.md lacks {needle:?}");
    }
    let ci = std::fs::read_to_string(workspace_root().join(".ci/run")).unwrap();
    assert!(ci.contains("cargo xtask test"), ".ci/run must run the README's test command");
}

#[test]
fn demo_pages_embed_this_widget_version() {
    let expected = format!("/widget/{}/bundle.js", env!("CARGO_PKG_VERSION"));
    let site = workspace_root().join("demo/site");
    let mut pages = 0;
    for entry in std::fs::read_dir(&site).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "html") {
            let html = std::fs::read_to_string(&path).unwrap();
            let head = html.split("</head>").next().unwrap_or_default();
            assert!(head.contains(&expected), "{} lacks the snippet {expected} in <head>", path.display());
            pages += 1;
        }
    }
    assert!(pages >= 3, "the demo site has {pages} pages");
}

/// Every path in docs/openapi.yaml, as written there (`/v1/bots/{bot}/config`).
fn documented_paths() -> Vec<String> {
    let spec = std::fs::read_to_string(workspace_root().join("docs/openapi.yaml")).unwrap();
    let mut in_paths = false;
    let mut paths = Vec::new();
    for line in spec.lines() {
        if line.starts_with("paths:") {
            in_paths = true;
        } else if in_paths && !line.starts_with(' ') && !line.trim().is_empty() {
            in_paths = false;
        } else if in_paths && line.starts_with("  /") {
            paths.push(line.trim().trim_end_matches(':').to_owned());
        }
    }
    paths
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_served() {
    let documented = documented_paths();
    let served = [
        "/healthz",
        "/readyz",
        "/widget/{version}/{file}",
        "/widget/{version}/frame.html",
        "/demo/{bot}",
        "/v1/bots/{bot}/config",
        "/v1/bots/{bot}/messages",
        "/v1/bots/{bot}/sessions",
        "/v1/bots/{bot}/events",
        "/v1/admin/bots",
        "/v1/admin/bots/{bot}",
        "/v1/admin/bots/{bot}/check",
        "/v1/admin/bots/{bot}/deploys",
        "/v1/admin/bots/{bot}/schedules",
        "/v1/admin/bots/{bot}/rollback",
        "/v1/admin/bots/{bot}/activate",
        "/v1/admin/bots/{bot}/deactivate",
        "/v1/admin/bots/{bot}/visibility",
        "/v1/admin/bots/{bot}/password",
        "/v1/admin/bots/{bot}/tokens",
        "/v1/admin/bots/{bot}/tokens/{name}",
        "/v1/admin/bots/{bot}/plan",
        "/v1/admin/bots/{bot}/integration",
        "/v1/admin/metrics",
    ];
    assert_eq!(documented, served, "docs/openapi.yaml paths");
    for path in documented {
        let concrete = path
            .replace("{version}", env!("CARGO_PKG_VERSION"))
            .replace("{file}", "bundle.js")
            .replace("{bot}", "brightwater")
            .replace("{name}", "nobody");
        // With the admin token, so that admin routes are reached rather than refused.
        let bearer = format!("Bearer {}", stack().admin_token);
        let reply = send(stack().gateway, Method::GET, &concrete, &[("authorization", &bearer)], "").await.unwrap();
        let unrouted = reply.status == 404 && reply.json()["error"]["code"] == "not_found";
        assert!(!unrouted, "{path} is documented but not served");
    }
}
