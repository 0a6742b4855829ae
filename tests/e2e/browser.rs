//! The widget in headless Chromium, embedded in the demo site on another origin than the gateway's.

use std::time::Duration;

use docent_tests::webdriver::{Browser, ShadowRoot};
use docent_tests::{HANDBOOK_PASSWORD, stack};

const WAIT: Duration = Duration::from_secs(20);

/// Opens `url`, waits for the widget of `bot`, and opens its panel.
async fn open_widget(browser: &Browser, url: &str, bot: &str) -> ShadowRoot {
    browser.goto(url).await.unwrap();
    let host = browser.wait_for(&format!(r#"[data-docent-bot="{bot}"]"#), WAIT).await.unwrap();
    let root = browser.shadow_root(&host).await.unwrap();
    let launcher = browser.wait_in(&root, "button.docent-launcher", WAIT).await.unwrap();
    browser.click(&launcher).await.unwrap();
    root
}

/// Types `question`, sends it, and returns the bot's reply element's text and kind.
async fn ask(browser: &Browser, root: &ShadowRoot, question: &str) -> (String, String) {
    let before = browser.find_all_in(root, ".docent-msg-bot[data-kind]").await.unwrap().len();
    let input = browser.wait_in(root, "textarea.docent-input", WAIT).await.unwrap();
    browser.type_text(&input, question).await.unwrap();
    browser.click(&browser.wait_in(root, "button.docent-send", WAIT).await.unwrap()).await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let replies = browser.find_all_in(root, ".docent-msg-bot[data-kind]").await.unwrap();
        if let Some(reply) = replies.get(before) {
            let kind = browser.attribute(reply, "data-kind").await.unwrap().unwrap_or_default();
            return (browser.text(reply).await.unwrap(), kind);
        }
        assert!(std::time::Instant::now() < deadline, "no reply to {question:?} within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_visitor_asks_on_a_strict_csp_page_and_gets_an_answer_with_its_source() {
    let browser = Browser::start().await.unwrap();
    let page = format!("{}/support.html", stack().allowed_origin());
    let root = open_widget(&browser, &page, "brightwater").await;
    let panel = browser.wait_in(&root, r#".docent-panel[data-state="chat"]"#, WAIT).await.unwrap();
    assert!(browser.text(&panel).await.unwrap().contains("Brightwater"), "the panel shows the bot's name");

    let (text, kind) = ask(&browser, &root, "how long will delivery take").await;
    assert_eq!(kind, "faq");
    assert!(text.contains("business day"), "{text}");
    let source = browser.wait_in(&root, "a.docent-source", WAIT).await.unwrap();
    let href = browser.attribute(&source, "href").await.unwrap().unwrap_or_default();
    assert!(href.starts_with("http://localhost:8081/"), "{href}");

    let (text, kind) = ask(&browser, &root, "What is the weather in Lisbon tomorrow?").await;
    assert_eq!(kind, "unknown", "{text}");
    let handoff = browser.wait_in(&root, "a.docent-handoff", WAIT).await.unwrap();
    assert!(browser.attribute(&handoff, "href").await.unwrap().unwrap_or_default().starts_with("mailto:"));

    // Nothing leaked onto the customer's page.
    let globals = browser.execute("return typeof window.wasm_bindgen").await.unwrap();
    assert_eq!(globals, "undefined");
    browser.quit().await.unwrap();
}

#[tokio::test]
async fn a_page_on_an_origin_not_allowlisted_shows_not_available() {
    let browser = Browser::start().await.unwrap();
    let root = open_widget(&browser, &format!("{}/", stack().other_origin()), "brightwater").await;
    browser.wait_in(&root, r#".docent-panel[data-state="not-available"]"#, WAIT).await.unwrap();
    let message = browser.wait_in(&root, ".docent-state-message", WAIT).await.unwrap();
    assert!(browser.text(&message).await.unwrap().contains("not available on this site"));
    assert!(browser.find_all_in(&root, "textarea.docent-input").await.unwrap().is_empty(), "no chat input");
    browser.quit().await.unwrap();
}

#[tokio::test]
async fn staff_sign_in_to_the_internal_bot_then_chat() {
    let browser = Browser::start().await.unwrap();
    let root = open_widget(&browser, &format!("{}/staff.html", stack().allowed_origin()), "handbook").await;
    browser.wait_in(&root, r#".docent-panel[data-state="login"]"#, WAIT).await.unwrap();
    let password = browser.wait_in(&root, "input.docent-password", WAIT).await.unwrap();
    browser.type_text(&password, HANDBOOK_PASSWORD).await.unwrap();
    browser.click(&browser.wait_in(&root, "button.docent-login", WAIT).await.unwrap()).await.unwrap();
    browser.wait_in(&root, r#".docent-panel[data-state="chat"]"#, WAIT).await.unwrap();
    let (text, kind) = ask(&browser, &root, "How many vacation days do I get?").await;
    assert_ne!(kind, "unknown", "{text}");
    browser.quit().await.unwrap();
}
