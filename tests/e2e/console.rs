//! The operator console: sign-in, CSRF, and a deploy and an import with live progress in
//! headless Chromium.

use std::time::Duration;

use docent_tests::http::send;
use docent_tests::webdriver::Browser;
use docent_tests::{stack, workspace_root};
use hyper::Method;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn an_operator_signs_in_and_deploys_from_the_console() {
    let browser = Browser::start().await.unwrap();
    let console = format!("{}/admin/", stack().gateway_url());
    browser.goto(&console).await.unwrap();
    let token = browser.wait_for("input#token", WAIT).await.unwrap();
    browser.type_text(&token, &stack().admin_token).await.unwrap();
    browser.click(&browser.wait_for("form[action='/admin/sign-in'] button", WAIT).await.unwrap()).await.unwrap();

    let link = match browser.wait_for("a[href='/admin/bots/lab-console']", WAIT).await {
        Ok(link) => link,
        Err(err) => panic!(
            "{err}: {}",
            browser.execute("return document.location.href + ' ' + document.body.innerText").await.unwrap()
        ),
    };
    browser.click(&link).await.unwrap();
    let heading = browser.wait_for("h1", WAIT).await.unwrap();
    assert!(browser.text(&heading).await.unwrap().contains("Deployed"), "a freshly deployed bot is Deployed");
    let snippet = browser.text(&browser.wait_for("#snippet", WAIT).await.unwrap()).await.unwrap();
    assert!(snippet.contains("integrity=\"sha384-") && snippet.contains("data-bot=\"lab-console\""), "{snippet}");

    let deploys_before = history_rows(&browser).await;
    browser.click(&browser.wait_for("form[data-deploy] button", WAIT).await.unwrap()).await.unwrap();
    // The script streams the phases into the log, then reloads the page with the new history.
    let deadline = std::time::Instant::now() + WAIT;
    while history_rows(&browser).await <= deploys_before {
        assert!(std::time::Instant::now() < deadline, "no new deploy in the history within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let history = browser.text(&browser.wait_for("section.card table", WAIT).await.unwrap()).await.unwrap();
    assert!(history.contains("admin:e2e"), "the deploy is audited to the admin token: {history}");

    let shot = browser.screenshot().await.unwrap();
    let dir = workspace_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("console.png"), &shot).unwrap();
    assert!(shot.starts_with(b"\x89PNG"), "a PNG screenshot");

    // The import streams its progress into the page too. This gateway never fetches loopback,
    // where the demo site runs, and the page says so without a reload.
    let address = browser.wait_for("input#import-url", WAIT).await.unwrap();
    browser.type_text(&address, &format!("{}/index.html", stack().allowed_origin())).await.unwrap();
    browser.click(&browser.wait_for("form[data-import] button", WAIT).await.unwrap()).await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let status = browser.text(&browser.wait_for("#import-status", WAIT).await.unwrap()).await.unwrap();
        if status.starts_with("Import failed:") {
            assert!(status.contains("private or local address"), "{status}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no outcome of the import within {WAIT:?}: {status:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser.quit().await.unwrap();
}

/// Rows of the deploy history table (the first table of the History section).
async fn history_rows(browser: &Browser) -> usize {
    let rows = browser.execute(
        "const h = [...document.querySelectorAll('h2')].find(h => h.textContent === 'History');\
         return h ? h.parentElement.querySelectorAll('table')[0].tBodies[0].rows.length : 0;",
    );
    rows.await.unwrap().as_u64().unwrap_or(0) as usize
}

#[tokio::test]
async fn console_forms_need_the_session_and_its_csrf_token() {
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let anonymous =
        send(stack().gateway, Method::POST, "/admin/bots/lab-console/deactivate", &form, "csrf=x").await.unwrap();
    assert_eq!(anonymous.status, 303, "signed-out forms go back to the sign-in page");

    let body = format!("token={}", stack().admin_token);
    let signed_in = send(stack().gateway, Method::POST, "/admin/sign-in", &form, body).await.unwrap();
    assert_eq!(signed_in.status, 303);
    let cookie = signed_in.header("set-cookie").unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let cookie = cookie.split(';').next().unwrap().to_owned();

    let with_cookie = [("content-type", "application/x-www-form-urlencoded"), ("cookie", cookie.as_str())];
    let forged = send(stack().gateway, Method::POST, "/admin/bots/lab-console/deactivate", &with_cookie, "csrf=guess")
        .await
        .unwrap();
    assert_eq!(forged.status, 403, "a form without the session's CSRF token is refused");
    let cross_site = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("cookie", cookie.as_str()),
        ("origin", "https://evil.example"),
    ];
    let refused = send(stack().gateway, Method::POST, "/admin/bots/lab-console/deactivate", &cross_site, "csrf=guess")
        .await
        .unwrap();
    assert_eq!(refused.status, 403);

    let page = send(stack().gateway, Method::GET, "/admin/", &[("cookie", cookie.as_str())], "").await.unwrap();
    assert_eq!(page.status, 200);
    assert!(page.header("content-security-policy").is_some_and(|csp| csp.contains("script-src 'self'")));
    let status = stack().lifecycle.status(Some("lab-console")).unwrap();
    assert!(status[0].active, "nothing was deactivated by the refused forms");
}

#[tokio::test]
async fn a_wrong_admin_token_does_not_sign_in() {
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let reply = send(stack().gateway, Method::POST, "/admin/sign-in", &form, "token=dca_wrong").await.unwrap();
    assert_eq!(reply.status, 401);
    assert!(reply.header("set-cookie").is_none());
}

#[tokio::test]
async fn the_consoles_site_check_and_import_never_fetch_private_addresses() {
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let body = format!("token={}", stack().admin_token);
    let signed_in = send(stack().gateway, Method::POST, "/admin/sign-in", &form, body).await.unwrap();
    let cookie = signed_in.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let page = send(stack().gateway, Method::GET, "/admin/bots/lab-console", &[("cookie", cookie.as_str())], "")
        .await
        .unwrap();
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("Check my site") && html.contains("Import from website"), "{html}");
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap().to_owned();
    let with_cookie = [("content-type", "application/x-www-form-urlencoded"), ("cookie", cookie.as_str())];
    // The demo site runs on loopback, which a gateway without --fetch-private never fetches.
    let url = format!("{}/index.html", stack().allowed_origin());
    let query = |url: &str| {
        form_urlencoded::Serializer::new(String::new()).append_pair("csrf", &csrf).append_pair("url", url).finish()
    };
    let checked = send(stack().gateway, Method::POST, "/admin/bots/lab-console/check-site", &with_cookie, query(&url))
        .await
        .unwrap();
    assert_eq!(checked.status, 200);
    let checked = String::from_utf8_lossy(&checked.body);
    assert!(
        checked.contains("0 of 1 checks passed") && checked.contains("a private or local address; refused"),
        "{checked}"
    );
    let imported =
        send(stack().gateway, Method::POST, "/admin/bots/lab-console/import", &with_cookie, query(&url)).await.unwrap();
    assert_eq!(imported.status, 400, "{}", String::from_utf8_lossy(&imported.body));
    assert!(!stack().bots_dir().join("lab-console/knowledge/import").exists(), "nothing was written");
}
