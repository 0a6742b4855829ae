//! `docent kb import`: a local site with an FAQ page in each structure, a sitemap, robots.txt,
//! an off-site redirect, a huge and a slow page, imported twice into a bot's knowledge; and the
//! console's import, which streams its progress as server-sent events.

use std::sync::Arc;
use std::time::Duration;

use docent_gateway::fetch::FetchLimits;
use docent_gateway::import::{ImportOptions, import, read_meta};
use docent_lifecycle::{Lifecycle, LifecycleOptions};
use docent_tests::alerting::Gateway;
use docent_tests::http::send;
use docent_tests::pages::{Page, pages, serve};
use docent_tests::{copy_tree, workspace_root};
use hyper::Method;
use serde_json::Value;

fn page(body: &str) -> Page {
    (
        200,
        Vec::new(),
        format!("<!doctype html><html><head><title>Pool</title></head><body><main>{body}</main></body></html>"),
    )
}

fn tagged(body: &str, etag: &str) -> Page {
    let (status, _, html) = page(body);
    (status, vec![("ETag".to_owned(), etag.to_owned())], html)
}

const BOLD: &str = "<p><strong>When do you open?</strong></p><p>At 6:30 am.</p><p><strong>Is there a sauna?</strong></p><p>Yes, for adults.</p>";
const DETAILS: &str = "<details id=\"towels\"><summary>Can I rent a towel?</summary><p>For 2 EUR.</p></details>\
                       <details><summary>Are there lockers?</summary><p>Coin lockers.</p></details>";
const DL: &str = "<dl><dt>Is there parking?</dt><dd>Behind the building.</dd><dt>Can I cycle there?</dt><dd>Racks at the door.</dd></dl>";
const MICRODATA: &str = "<div itemscope itemtype=\"https://schema.org/Question\"><h3 itemprop=\"name\">How warm is the water?</h3>\
    <div itemprop=\"acceptedAnswer\" itemscope itemtype=\"https://schema.org/Answer\"><p itemprop=\"text\">28 degrees.</p></div></div>\
    <div itemscope itemtype=\"https://schema.org/Question\"><h3 itemprop=\"name\">Is there a café?</h3>\
    <div itemprop=\"acceptedAnswer\" itemscope itemtype=\"https://schema.org/Answer\"><p itemprop=\"text\">On the first floor.</p></div></div>";
const JSON_LD: &str = "<script type=\"application/ld+json\">{\"@type\":\"FAQPage\",\"mainEntity\":[\
    {\"@type\":\"Question\",\"name\":\"Can I bring food?\",\"acceptedAnswer\":{\"@type\":\"Answer\",\"text\":\"Only water on the deck.\"}},\
    {\"@type\":\"Question\",\"name\":\"Are you open at Christmas?\",\"acceptedAnswer\":{\"@type\":\"Answer\",\"text\":\"Closed on 25 December.\"}}]}</script><p>Visitor rules.</p>";

#[tokio::test(flavor = "multi_thread")]
async fn an_owners_site_becomes_knowledge_and_a_reimport_keeps_it_in_step() {
    let site = pages([
        (
            "/robots.txt",
            (200, vec![("Content-Type".into(), "text/plain".into())], "User-agent: *\nDisallow: /private/\n".into()),
        ),
        (
            "/",
            page(
                "<h1>Lakeside pool</h1><p>Welcome.</p><a href=\"/about.html\">About</a> <a href=\"/faq-bold.html\">FAQ</a> \
                 <a href=\"/faq-micro.html#top\">More</a> <a href=\"/private/secret.html\">Staff</a> <a href=\"/away\">Partner</a> \
                 <a href=\"/huge.html\">Brochure</a> <a href=\"/slow\">Slow</a> <a href=\"mailto:a@b.example\">Mail</a> \
                 <a href=\"https://elsewhere.example/\">Elsewhere</a> <a rel=\"nofollow\" href=\"/login.html\">Log in</a>",
            ),
        ),
        (
            "/about.html",
            page("<h1>About</h1><p>A community pool since 1971.</p><a href=\"/faq-dl.html\">Getting here</a>"),
        ),
        ("/faq-bold.html", tagged(BOLD, "\"bold-1\"")),
        ("/faq-details.html", tagged(DETAILS, "\"details-1\"")),
        ("/faq-dl.html", page(DL)),
        ("/faq-micro.html", page(MICRODATA)),
        ("/faq-jsonld.html", page(JSON_LD)),
        ("/private/secret.html", page("<p>Staff only.</p>")),
        ("/login.html", page("<p>Log in.</p>")),
        ("/away", (302, vec![("Location".into(), "https://elsewhere.example/offer".into())], String::new())),
        ("/huge.html", page(&"<p>Brochure text.</p>".repeat(150_000))),
    ]);
    let port = serve(Arc::clone(&site)).await;
    let origin = format!("http://localhost:{port}");
    site.lock().unwrap().insert(
        "/sitemap.xml".into(),
        (
            200,
            vec![("Content-Type".into(), "application/xml".into())],
            format!("<urlset><url><loc>{origin}/faq-details.html</loc></url><url><loc>{origin}/faq-jsonld.html</loc></url></urlset>"),
        ),
    );

    let dir = tempfile::tempdir().unwrap();
    copy_tree(&workspace_root().join("demo/bots/brightwater"), &dir.path().join("bots/pool")).unwrap();
    let import_dir = dir.path().join("bots/pool/knowledge/import");
    let options = ImportOptions {
        start: format!("{origin}/"),
        max_pages: 50,
        depth: 3,
        include: Vec::new(),
        exclude: Vec::new(),
        delay: Duration::ZERO,
        limits: FetchLimits { allow_private: true, timeout: Duration::from_secs(2), ..FetchLimits::default() },
    };
    let site_dir = format!("localhost_{port}");
    let file = |name: &str| format!("{site_dir}/{name}");

    let report = import(&import_dir, &options, &mut |_| {}).await.unwrap();
    let mut written = report.written.clone();
    written.sort();
    let expected = [
        "about.html",
        "faq-bold.html",
        "faq-details.html",
        "faq-dl.html",
        "faq-jsonld.html",
        "faq-micro.html",
        "index.html",
    ];
    assert_eq!(written, expected.map(file), "{report:#?}");
    let reason = |path: &str| {
        report.skipped.iter().find(|(url, _)| url.ends_with(path)).map(|(_, reason)| reason.clone()).unwrap_or_default()
    };
    assert_eq!(reason("/private/secret.html"), "disallowed by robots.txt");
    assert!(reason("/away").contains("redirects off-site to https://elsewhere.example/offer"), "{report:#?}");
    assert!(reason("/huge.html").starts_with("larger than"), "{report:#?}");
    assert!(reason("/slow").contains("no complete answer"), "{report:#?}");
    assert!(
        !report.skipped.iter().any(|(url, _)| url.contains("login") || url.contains("elsewhere.example/\"")),
        "{report:#?}"
    );
    let faq = std::fs::read_to_string(import_dir.join(file("faq-bold.html"))).unwrap();
    let meta = read_meta(&faq).unwrap();
    assert_eq!(
        (meta.url.as_str(), meta.etag.as_deref()),
        (format!("{origin}/faq-bold.html").as_str(), Some("\"bold-1\""))
    );
    assert!(faq.contains(&format!("<link rel=\"canonical\" href=\"{origin}/faq-bold.html\">")));

    // The bot's check counts each page's Q&A items; the pages deploy.
    let bots = dir.path().join("bots");
    let lifecycle = Lifecycle::open(LifecycleOptions::new(dir.path().join("data"), &bots)).unwrap();
    let check = lifecycle.check("pool").unwrap();
    for page in ["faq-bold.html", "faq-details.html", "faq-dl.html", "faq-micro.html", "faq-jsonld.html"] {
        assert_eq!(check.faq_items.get(&format!("import/{}", file(page))), Some(&2), "{page}: {:?}", check.faq_items);
    }
    assert_eq!(check.faq_items.get(&format!("import/{}", file("about.html"))), Some(&0));
    lifecycle.deploy("pool", "e2e", &mut |_| {}).unwrap();

    // The site changes: one page is edited, one removed; an unchanged one answers 304.
    {
        let mut site = site.lock().unwrap();
        site.insert("/faq-bold.html".into(), tagged(&BOLD.replace("6:30 am", "7 am"), "\"bold-2\""));
        site.remove("/about.html");
    }
    let again = import(&import_dir, &options, &mut |_| {}).await.unwrap();
    assert_eq!(again.written, [file("faq-bold.html")], "{again:#?}");
    // Pages that answered 304 or the same bytes keep their files (and their fetch time).
    assert!(again.unchanged.contains(&file("faq-details.html")) && again.unchanged.len() == 5, "{again:#?}");
    assert_eq!(again.removed, [file("about.html")], "{again:#?}");
    assert!(!import_dir.join(file("about.html")).exists());
    let changes = lifecycle.check("pool").unwrap().changes.unwrap();
    assert_eq!(changes.files.changed, [format!("import/{}", file("faq-bold.html"))], "{changes:?}");
    assert_eq!(changes.files.removed, [format!("import/{}", file("about.html"))], "{changes:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_streams_an_imports_progress_and_what_it_left_out() {
    let site = pages([
        (
            "/robots.txt",
            (200, vec![("Content-Type".into(), "text/plain".into())], "User-agent: *\nDisallow: /private/\n".into()),
        ),
        (
            "/",
            page(
                "<h1>Lakeside pool</h1><a href=\"/faq-bold.html\">FAQ</a> <a href=\"/faq-dl.html\">Getting here</a> \
                 <a href=\"/private/staff.html\">Staff</a> <a href=\"/gone.html\">Old news</a>",
            ),
        ),
        ("/faq-bold.html", page(BOLD)),
        ("/faq-dl.html", page(DL)),
        ("/private/staff.html", page("<p>Staff only.</p>")),
    ]);
    let port = serve(Arc::clone(&site)).await;
    let origin = format!("http://localhost:{port}");
    let dir = tempfile::tempdir().unwrap();
    let bots = dir.path().join("bots");
    copy_tree(&workspace_root().join("demo/bots/brightwater"), &bots.join("pool")).unwrap();
    let lifecycle = Arc::new(Lifecycle::open(LifecycleOptions::new(dir.path().join("data"), &bots)).unwrap());
    lifecycle.deploy("pool", "e2e", &mut |_| {}).unwrap();
    let token = lifecycle.create_admin_token("importer", Some("pool"), "e2e").unwrap();
    // This gateway may fetch loopback addresses (`--fetch-private`), where the site runs.
    let mut gateway = Gateway::start(Arc::clone(&lifecycle), "127.0.0.1:0".parse().unwrap()).await.unwrap();

    let form = [("content-type", "application/x-www-form-urlencoded")];
    let signed_in =
        send(gateway.address, Method::POST, "/admin/sign-in", &form, format!("token={token}")).await.unwrap();
    let cookie = signed_in.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let page =
        send(gateway.address, Method::GET, "/admin/bots/pool", &[("cookie", cookie.as_str())], "").await.unwrap();
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("data-import") && html.contains("id=\"import-status\""), "{html}");
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap().to_owned();
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", &csrf)
        .append_pair("url", &format!("{origin}/"))
        .finish();
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("cookie", cookie.as_str()),
        ("accept", "text/event-stream"),
    ];
    let streamed = send(gateway.address, Method::POST, "/admin/bots/pool/import", &headers, body).await.unwrap();
    assert_eq!(streamed.status, 200);
    assert_eq!(streamed.header("content-type"), Some("text/event-stream"));

    let text = String::from_utf8_lossy(&streamed.body).into_owned();
    let events: Vec<(String, Value)> = text
        .split("\n\n")
        .filter(|block| !block.is_empty())
        .map(|block| {
            let name = block.lines().find_map(|line| line.strip_prefix("event: ")).unwrap_or_default().to_owned();
            let data = block.lines().find_map(|line| line.strip_prefix("data: ")).unwrap_or("null");
            (name, serde_json::from_str(data).unwrap())
        })
        .collect();
    let of = |wanted: &str| -> Vec<&Value> {
        events.iter().filter(|(name, _)| name == wanted).map(|(_, data)| data).collect()
    };
    // One `page` event before each fetch: how many were fetched, of how many known, and which.
    let steps: Vec<(u64, u64, String)> = of("page")
        .into_iter()
        .map(|data| {
            let event = &data["event"];
            (
                event["fetched"].as_u64().unwrap(),
                event["known"].as_u64().unwrap(),
                event["url"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(steps.len(), 4, "{text}");
    assert_eq!(steps[0], (0, 1, format!("{origin}/")), "{text}");
    for (i, (fetched, known, url)) in steps.iter().enumerate() {
        assert_eq!(*fetched, i as u64, "{text}");
        assert!(*known > *fetched && *known <= 5, "{text}");
        assert!(of("page").iter().any(|data| data["text"].as_str().unwrap().ends_with(url.as_str())), "{text}");
    }
    let skipped: Vec<&str> = of("skipped").into_iter().map(|data| data["text"].as_str().unwrap()).collect();
    assert_eq!(
        skipped,
        [
            format!("Left out {origin}/private/staff.html: disallowed by robots.txt"),
            format!("Left out {origin}/gone.html: answers 404 Not Found"),
        ],
        "{text}"
    );
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "done", "{text}");
    assert_eq!(done["report"]["written"].as_array().unwrap().len(), 3, "{text}");
    assert!(done["text"].as_str().unwrap().starts_with("Import completed: 3 pages written, 0 unchanged"), "{text}");
    let imported = bots.join(format!("pool/knowledge/import/localhost_{port}"));
    assert!(imported.join("faq-bold.html").exists() && imported.join("faq-dl.html").exists());

    // An import that cannot start says so as its one event.
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", &csrf)
        .append_pair("url", "http://localhost:1/")
        .finish();
    let failed = send(gateway.address, Method::POST, "/admin/bots/pool/import", &headers, body).await.unwrap();
    let text = String::from_utf8_lossy(&failed.body).into_owned();
    assert!(text.starts_with("event: failed\ndata: {\"text\":\"Import failed: "), "{text}");
    assert_eq!(text.matches("event: ").count(), 1, "{text}");
    gateway.stop().await;
}
