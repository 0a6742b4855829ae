//! `docent doctor`: the checklist on real pages served over loopback (the demo site, and pages
//! with one known fault each), and the bounded fetcher against hostile servers.

use std::sync::Arc;
use std::time::Duration;

use docent_gateway::doctor::{self, Report};
use docent_gateway::fetch::{self, FetchError, FetchLimits};
use docent_lifecycle::Lifecycle;
use docent_tests::pages::{Page, pages, serve};
use docent_tests::{Stack, private_stack};

fn local() -> FetchLimits {
    FetchLimits { allow_private: true, timeout: Duration::from_secs(20), ..FetchLimits::default() }
}

async fn check(url: String, lifecycle: Option<Arc<Lifecycle>>) -> Report {
    doctor::diagnose(&url, lifecycle, local()).await
}

/// The ids of the failed checks.
fn failures(report: &Report) -> Vec<&'static str> {
    report.checks.iter().filter(|check| !check.ok).map(|check| check.id).collect()
}

fn fix_of<'a>(report: &'a Report, id: &str) -> &'a str {
    report.checks.iter().find(|check| check.id == id && !check.ok).and_then(|check| check.fix.as_deref()).unwrap_or("")
}

/// A page with `head` in `<head>` and `body` in `<body>`.
fn html(head: &str, body: &str) -> String {
    format!("<!doctype html><html><head><title>Shop</title>{head}</head><body><h1>Shop</h1>{body}</body></html>")
}

/// Lets the fault server's origin use both demo bots, as an owner would in bot.toml.
async fn allow_origin(stack: &Stack, origin: &str) {
    let lifecycle = Arc::clone(&stack.lifecycle);
    let bots = stack.bots_dir().to_owned();
    let entry = origin.to_owned();
    tokio::task::spawn_blocking(move || {
        for bot in ["brightwater", "handbook"] {
            let config = bots.join(bot).join("bot.toml");
            let text = std::fs::read_to_string(&config).unwrap();
            std::fs::write(
                &config,
                text.replacen("allowed_origins = [", &format!("allowed_origins = [\"{entry}\", "), 1),
            )
            .unwrap();
            lifecycle.deploy(bot, "e2e", &mut |_| {}).unwrap();
        }
        lifecycle.deactivate("handbook", "e2e").unwrap();
    })
    .await
    .unwrap();
    // The gateway follows the store within a second: wait until it serves the new allowlist.
    let origin = hyper::header::HeaderValue::from_str(origin).unwrap();
    for bot in ["brightwater", "handbook"] {
        let url = format!("{}/v1/bots/{bot}/config", stack.gateway_url());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let fetched = fetch::fetch(&url, &[(hyper::header::ORIGIN, origin.clone())], local()).await.unwrap();
            if fetched.status != hyper::StatusCode::FORBIDDEN {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{bot} still refuses {origin:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_names_each_fault_and_its_fix() {
    let stack = tokio::task::spawn_blocking(private_stack).await.unwrap().expect("a private gateway");
    let gateway = stack.gateway_url();
    let snippet =
        |attributes: &str| format!("<script {attributes} src=\"{gateway}/widget/latest/bundle.js\"></script>");
    let good = snippet("async data-bot=\"brightwater\"");
    let site_pages: [(&'static str, Page); 8] = [
        ("/ok.html", (200, vec![], html(&good, ""))),
        ("/moved", (302, vec![("Location".into(), "/ok.html".into())], String::new())),
        ("/in-body.html", (200, vec![], html("", &good))),
        ("/spaced.html", (200, vec![], html(&snippet("async data-bot=\"brightwater \""), ""))),
        (
            "/csp-header.html",
            (
                200,
                vec![("Content-Security-Policy".into(), format!("script-src 'self' {gateway}; connect-src {gateway}"))],
                html(&good, ""),
            ),
        ),
        (
            "/csp-meta.html",
            (
                200,
                vec![],
                html(
                    &format!(
                        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src {gateway} 'wasm-unsafe-eval'\">{good}"
                    ),
                    "",
                ),
            ),
        ),
        (
            "/sri.html",
            (
                200,
                vec![],
                html(
                    &snippet("async data-bot=\"brightwater\" integrity=\"sha384-AAAA\" crossorigin=\"anonymous\""),
                    "",
                ),
            ),
        ),
        ("/offline.html", (200, vec![], html(&snippet("async data-bot=\"handbook\""), ""))),
    ];
    let port = serve(pages(site_pages)).await;
    let site = format!("http://localhost:{port}");
    allow_origin(&stack, &site).await;
    let lifecycle = Some(Arc::clone(&stack.lifecycle));
    let diagnose = |url: String| check(url, lifecycle.clone());

    // The demo site's pages pass every check, the strict-CSP one included, and so does the
    // gateway's own demo page (same origin: no CORS needed).
    let pages = ["index.html", "support.html"].map(|page| format!("{}/{page}", stack.allowed_origin()));
    for page in pages.into_iter().chain([format!("{gateway}/demo/brightwater")]) {
        let report = diagnose(page.clone()).await;
        assert_eq!(failures(&report), Vec::<&str>::new(), "{page}: {report:#?}");
        assert!(report.checks.len() >= 10, "{page}: {report:#?}");
    }
    let report = diagnose(format!("{site}/moved")).await;
    assert_eq!(failures(&report), Vec::<&str>::new(), "{report:#?}");
    assert!(report.checks[0].title.contains("after 1 redirect"), "{report:#?}");

    for (path, failed, fix) in [
        ("/in-body.html", vec!["snippet.head"], "into <head>".to_owned()),
        ("/spaced.html", vec!["snippet.bot"], "data-bot=\"brightwater\"".to_owned()),
        ("/csp-header.html", vec!["csp.script"], format!("script-src 'self' {gateway} 'wasm-unsafe-eval'")),
        ("/csp-meta.html", vec!["csp.connect"], format!("connect-src 'self' {gateway}")),
        ("/sri.html", vec!["widget.integrity"], "integrity=\"sha384-".to_owned()),
        ("/offline.html", vec!["bot", "status"], "docent activate handbook".to_owned()),
    ] {
        let report = diagnose(format!("{site}{path}")).await;
        assert_eq!(failures(&report), failed, "{path}: {report:#?}");
        assert!(fix_of(&report, failed[0]).contains(&fix), "{path}: the fix names {fix:?}: {report:#?}");
    }

    // The same page on an origin the bot does not allow.
    let other = format!("http://127.0.0.1:{port}");
    let report = diagnose(format!("{other}/ok.html")).await;
    assert_eq!(failures(&report), ["origin"], "{report:#?}");
    assert!(fix_of(&report, "origin").contains(&format!("add \"{other}\" to allowed_origins")), "{report:#?}");
}

#[tokio::test]
async fn the_fetcher_refuses_private_addresses_and_bounds_hostile_servers() {
    let port =
        serve(pages([("/hop", (302, vec![("Location".to_owned(), "http://127.0.0.1:9/".to_owned())], String::new()))]))
            .await;
    for url in [format!("http://127.0.0.1:{port}/"), format!("http://localhost:{port}/"), "http://[::1]:9/".to_owned()]
    {
        match fetch::fetch(&url, &[], FetchLimits::default()).await {
            Err(FetchError::PrivateAddress { .. }) => {}
            other => panic!("{url}: {other:?}"),
        }
    }
    for url in ["file:///etc/passwd", "gopher://127.0.0.1/", "http://"] {
        assert!(matches!(fetch::fetch(url, &[], FetchLimits::default()).await, Err(FetchError::BadUrl(_))), "{url}");
    }
    // A body that never ends is cut at the limit; a server that never answers times out.
    let limits = FetchLimits { max_body_bytes: 100_000, timeout: Duration::from_secs(3), ..local() };
    let endless = fetch::fetch(&format!("http://127.0.0.1:{port}/endless"), &[], limits).await.unwrap();
    assert!(endless.truncated && endless.body.len() == 100_000, "{} bytes", endless.body.len());
    let slow = fetch::fetch(&format!("http://127.0.0.1:{port}/slow"), &[], limits).await;
    assert!(matches!(slow, Err(FetchError::Timeout(_))), "{slow:?}");
    // Redirects are followed hop by hop, each within the limits.
    let hops = FetchLimits { max_redirects: 0, ..local() };
    let redirected = fetch::fetch(&format!("http://127.0.0.1:{port}/hop"), &[], hops).await;
    assert!(matches!(redirected, Err(FetchError::TooManyRedirects(0))), "{redirected:?}");
}
