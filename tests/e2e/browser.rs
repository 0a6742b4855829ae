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

/// Runs `script` with `root` bound to the shadow root of `bot`'s widget and returns its result.
async fn in_widget(browser: &Browser, bot: &str, script: &str) -> serde_json::Value {
    let wrapped = format!(
        r#"const root = document.querySelector('[data-docent-bot="{bot}"]')?.shadowRoot; if (!root) return null; {script}"#
    );
    browser.execute(&wrapped).await.unwrap()
}

/// Waits until `script` (run as in [`in_widget`]) returns `true`.
async fn wait_until(browser: &Browser, bot: &str, script: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    while in_widget(browser, bot, script).await != serde_json::Value::Bool(true) {
        assert!(std::time::Instant::now() < deadline, "still false after {WAIT:?}: {script}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Regression (issue 8, finding 1): the password field was stretched to 286 px by `flex: 1` and had no visible label.
#[tokio::test]
async fn staff_sign_in_has_a_visible_label_and_a_one_line_password_field() {
    let browser = Browser::start().await.unwrap();
    for (width, height) in [(1280, 900), (390, 844)] {
        browser.set_viewport(width, height).await.unwrap();
        open_widget(&browser, &format!("{}/staff.html", stack().allowed_origin()), "handbook").await;
        wait_until(
            &browser,
            "handbook",
            "return !!root.querySelector('.docent-panel[data-state=login]:not([hidden])')",
        )
        .await;
        let field = in_widget(
            &browser,
            "handbook",
            "return root.querySelector('.docent-password').getBoundingClientRect().height",
        )
        .await;
        let height = field.as_f64().unwrap();
        assert!((30.0..60.0).contains(&height), "password field is {height} px tall at {width}x{height}");
        let label = in_widget(
            &browser,
            "handbook",
            "const l = root.querySelector('label[for=docent-password]'); \
             return l && l.getBoundingClientRect().height > 0 ? l.textContent : null",
        )
        .await;
        assert_eq!(label, "Password");
    }
    browser.quit().await.unwrap();
}

/// Regression (findings 2 and 12): two bots' launchers sat on one spot; a second `src` fetched the wasm again.
#[tokio::test]
async fn two_bots_on_one_page_stack_their_launchers_and_share_one_wasm() {
    let browser = Browser::start().await.unwrap();
    browser.goto(&format!("{}/store-desk.html", stack().allowed_origin())).await.unwrap();
    for bot in ["brightwater", "handbook"] {
        wait_until(&browser, bot, "return !!root.querySelector('.docent-launcher')").await;
    }
    let mut tops = Vec::new();
    for bot in ["brightwater", "handbook"] {
        let script = "return root.querySelector('.docent-launcher').getBoundingClientRect().top";
        tops.push(in_widget(&browser, bot, script).await.as_f64().unwrap());
    }
    let (first, second) = (tops[0], tops[1]);
    assert!((first - second).abs() >= 48.0, "launchers overlap: tops {first} and {second}");
    for bot in ["handbook", "brightwater"] {
        in_widget(&browser, bot, "root.querySelector('.docent-launcher').click(); return true").await;
        wait_until(&browser, bot, "return !root.querySelector('.docent-panel').hidden").await;
    }
    let wasm_fetches = browser
        .execute("return performance.getEntriesByType('resource').filter(e => e.name.endsWith('.wasm')).length")
        .await
        .unwrap();
    assert_eq!(wasm_fetches, 1);
    assert_eq!(
        browser.execute("return Object.keys(window).filter(k => /docent|wasm/i.test(k))").await.unwrap(),
        serde_json::json!(["Docent"])
    );
    browser.quit().await.unwrap();
}

/// Regression (finding 3): a Turbo-style `<body>` swap removed the widget for good.
#[tokio::test]
async fn a_body_swap_then_docent_mount_brings_the_widget_back() {
    let browser = Browser::start().await.unwrap();
    browser.goto(&format!("{}/shop.html", stack().allowed_origin())).await.unwrap();
    wait_until(&browser, "brightwater", "return !!root.querySelector('.docent-launcher')").await;
    browser.execute("document.body.replaceWith(document.createElement('body')); return true").await.unwrap();
    assert_eq!(in_widget(&browser, "brightwater", "return true").await, serde_json::Value::Null);
    browser.execute("window.Docent.mount(); return true").await.unwrap();
    wait_until(&browser, "brightwater", "return !!root.querySelector('.docent-launcher')").await;
    browser.quit().await.unwrap();
}

/// Regression (finding 4): every reload and page change lost the conversation.
#[tokio::test]
async fn the_conversation_survives_reload_and_navigation_until_a_new_one_starts() {
    let browser = Browser::start().await.unwrap();
    let site = stack().allowed_origin();
    let root = open_widget(&browser, &format!("{site}/index.html"), "brightwater").await;
    ask(&browser, &root, "how long will delivery take").await;
    for page in ["index.html", "about.html"] {
        browser.goto(&format!("{site}/{page}")).await.unwrap();
        wait_until(
            &browser,
            "brightwater",
            "return [...root.querySelectorAll('.docent-msg-user')].some(m => m.textContent.includes('how long will delivery take')) \
             && !!root.querySelector('.docent-msg-bot[data-kind=faq]')",
        )
        .await;
    }
    let stored = browser.execute("return sessionStorage.getItem('docent:brightwater')").await.unwrap();
    assert!(stored.as_str().unwrap_or_default().contains("conversation_id"), "{stored}");
    let root = open_widget(&browser, &format!("{site}/about.html"), "brightwater").await;
    browser.click(&browser.wait_in(&root, "button.docent-new", WAIT).await.unwrap()).await.unwrap();
    assert!(browser.find_all_in(&root, ".docent-msg-user").await.unwrap().is_empty());
    browser.goto(&format!("{site}/index.html")).await.unwrap();
    wait_until(&browser, "brightwater", "return !!root.querySelector('.docent-launcher')").await;
    assert_eq!(in_widget(&browser, "brightwater", "return root.querySelectorAll('.docent-msg-user').length").await, 0);
    browser.quit().await.unwrap();
}

/// Regression (finding 4): the bearer token of an internal bot never reaches storage.
#[tokio::test]
async fn an_internal_bots_token_never_touches_storage() {
    let browser = Browser::start().await.unwrap();
    let root = open_widget(&browser, &format!("{}/staff.html", stack().allowed_origin()), "handbook").await;
    let password = browser.wait_in(&root, "input.docent-password", WAIT).await.unwrap();
    browser.type_text(&password, HANDBOOK_PASSWORD).await.unwrap();
    browser.click(&browser.wait_in(&root, "button.docent-login", WAIT).await.unwrap()).await.unwrap();
    browser.wait_in(&root, r#".docent-panel[data-state="chat"]"#, WAIT).await.unwrap();
    ask(&browser, &root, "How many vacation days do I get?").await;
    // The handbook keeps its conversations in localStorage (`conversation_storage = "local"`).
    let kept = browser.execute("return localStorage.getItem('docent:handbook')").await.unwrap();
    assert!(kept.as_str().unwrap_or_default().contains("vacation"), "the conversation is kept: {kept}");
    let storage = browser
        .execute("return JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)])")
        .await
        .unwrap();
    let storage = storage.as_str().unwrap_or_default();
    assert!(!storage.contains("token"), "{storage}");
    browser.quit().await.unwrap();
}

/// Regression (findings 6 and 7): Markdown showed raw, sources looked like suggestions.
#[tokio::test]
async fn answers_render_markdown_and_label_their_sources() {
    let browser = Browser::start().await.unwrap();
    let root = open_widget(&browser, &format!("{}/support.html", stack().allowed_origin()), "brightwater").await;
    ask(&browser, &root, "how long will delivery take").await;
    let label = browser.wait_in(&root, ".docent-msg-bot[data-kind] .docent-sources-label", WAIT).await.unwrap();
    assert_eq!(browser.text(&label).await.unwrap(), "Source");
    // A list answer, no longer bare "- " lines.
    // A list answer with the model and without (lexical only).
    let (text, _) = ask(&browser, &root, "which items cannot be returned?").await;
    assert!(!text.contains("\n- "), "{text}");
    let items = in_widget(
        &browser,
        "brightwater",
        "return [...root.querySelectorAll('.docent-msg-bot[data-kind]')].pop().querySelectorAll('.docent-msg-text ul > li').length",
    )
    .await;
    assert!(items.as_u64().unwrap_or(0) >= 3, "{text}");
    browser.quit().await.unwrap();
}

/// The Markdown shapes of hostile answers (a reply as the gateway would send it, restored from storage):
/// no element but the subset's, no script run, no link but http(s)/mailto, no internal source id.
#[tokio::test]
async fn hostile_markdown_stays_text_and_unsafe_links_stay_inert() {
    let browser = Browser::start().await.unwrap();
    let page = format!("{}/support.html", stack().allowed_origin());
    browser.goto(&page).await.unwrap();
    let reply = serde_json::json!({
        "kind": "document",
        "text": "**<img src=x onerror=\"window.pwned=1\">** and *<script>window.pwned=2</script>*\n\n\
                 - [click](javascript:window.pwned=3)\n- [data](data:text/html,<b>x</b>)\n- see https://example.com/a.\n\n\
                 `<svg onload=window.pwned=4>` [ok](mailto:help@example.com)",
        "sources": [{"title": "", "source": "faq.toml#secret-id", "url": "javascript:window.pwned=5"}],
    });
    let memory = serde_json::json!({"conversation_id": "c1", "log": [{"user": "<b>hi</b>"}, {"reply": reply}]});
    let script = format!(
        "sessionStorage.setItem('docent:brightwater', {}); return true",
        serde_json::to_string(&memory.to_string()).unwrap()
    );
    browser.execute(&script).await.unwrap();
    browser.goto(&page).await.unwrap();
    wait_until(&browser, "brightwater", "return !!root.querySelector('.docent-msg-bot[data-kind=document]')").await;
    let shape = in_widget(
        &browser,
        "brightwater",
        "const m = root.querySelector('.docent-msg-bot[data-kind=document]'); \
         return { tags: [...m.querySelectorAll('*')].filter(e => !e.closest('.docent-feedback')).map(e => e.tagName.toLowerCase()).filter(t => !['div','span','p','ul','li','strong','em','code','a'].includes(t)), \
           links: [...m.querySelectorAll('a')].map(a => [a.getAttribute('href'), a.rel]), \
           text: m.textContent, pwned: window.pwned ?? null }",
    )
    .await;
    assert_eq!(shape["tags"], serde_json::json!([]), "{shape}");
    assert_eq!(shape["pwned"], serde_json::Value::Null);
    assert_eq!(
        shape["links"],
        serde_json::json!([
            ["https://example.com/a", "noopener noreferrer"],
            ["mailto:help@example.com", "noopener noreferrer"]
        ]),
        "{shape}"
    );
    let text = shape["text"].as_str().unwrap();
    assert!(text.contains("<img src=x") && text.contains("<svg onload"), "{text}");
    assert!(!text.contains("faq.toml"), "no internal id: {text}");
    browser.quit().await.unwrap();
}

/// Regression (finding 8): a network failure said "Something went wrong", lost the question and offered no retry.
#[tokio::test]
async fn a_network_failure_keeps_the_question_and_offers_a_retry() {
    let browser = Browser::start().await.unwrap();
    let root = open_widget(&browser, &format!("{}/support.html", stack().allowed_origin()), "brightwater").await;
    browser.wait_in(&root, r#".docent-panel[data-state="chat"]"#, WAIT).await.unwrap();
    browser.execute("window.realFetch = window.fetch; window.fetch = () => Promise.reject(new TypeError('offline')); return true").await.unwrap();
    let input = browser.wait_in(&root, "textarea.docent-input", WAIT).await.unwrap();
    browser.type_text(&input, "how long will delivery take").await.unwrap();
    browser.click(&browser.wait_in(&root, "button.docent-send", WAIT).await.unwrap()).await.unwrap();
    let retry = browser.wait_in(&root, ".docent-msg-error[role=alert] button.docent-retry", WAIT).await.unwrap();
    let kept = in_widget(&browser, "brightwater", "return root.querySelector('textarea.docent-input').value").await;
    assert_eq!(kept, "how long will delivery take");
    browser.execute("window.fetch = window.realFetch; return true").await.unwrap();
    browser.click(&retry).await.unwrap();
    browser.wait_in(&root, ".docent-msg-bot[data-kind=faq]", WAIT).await.unwrap();
    assert!(browser.find_all_in(&root, ".docent-msg-error").await.unwrap().is_empty());
    browser.quit().await.unwrap();
}

/// Regression (finding 8): a refused origin left the site owner without a hint.
#[tokio::test]
async fn a_refused_origin_names_the_origin_and_the_bot_in_the_console() {
    let browser = Browser::start().await.unwrap();
    let origin = stack().other_origin();
    open_widget(&browser, &format!("{origin}/"), "brightwater").await;
    wait_until(&browser, "brightwater", "return !!root.querySelector('.docent-panel[data-state=not-available]')").await;
    let hints: Vec<String> = browser
        .console_messages()
        .await
        .unwrap()
        .into_iter()
        .filter(|message| message.contains("allowed_origins"))
        .collect();
    assert_eq!(hints.len(), 1, "{hints:?}");
    assert!(hints[0].contains(&origin) && hints[0].contains("\\\"brightwater\\\""), "{hints:?}");
    browser.quit().await.unwrap();
}

/// Regression (finding 9): on a phone the panel was not modal, the page scrolled behind it, the
/// input was 15 px and the launcher a 181×48 pill; in landscape the log was 151 px tall.
#[tokio::test]
async fn on_a_phone_the_panel_is_modal_and_the_launcher_is_round() {
    let browser = Browser::start().await.unwrap();
    browser.set_viewport(390, 844).await.unwrap();
    let page = format!("{}/index.html", stack().allowed_origin());
    browser.goto(&page).await.unwrap();
    wait_until(&browser, "brightwater", "return !!root.querySelector('.docent-launcher')").await;
    let launcher = in_widget(
        &browser,
        "brightwater",
        "const r = root.querySelector('.docent-launcher').getBoundingClientRect(); return [r.width, r.height]",
    )
    .await;
    assert_eq!(launcher[0], launcher[1], "round launcher: {launcher}");
    assert!(launcher[0].as_f64().unwrap() <= 60.0, "{launcher}");
    let root = open_widget(&browser, &page, "brightwater").await;
    browser.wait_in(&root, r#".docent-panel[aria-modal="true"]"#, WAIT).await.unwrap();
    assert_eq!(browser.execute("return document.documentElement.style.overflow").await.unwrap(), "hidden");
    let font =
        in_widget(&browser, "brightwater", "return getComputedStyle(root.querySelector('.docent-input')).fontSize")
            .await;
    assert_eq!(font, "16px");
    // Tab and Shift+Tab never leave the panel.
    for key in ["\u{E004}", "\u{E008}\u{E004}"] {
        for _ in 0..6 {
            let active =
                browser.execute("return document.activeElement.getAttribute('data-docent-bot')").await.unwrap();
            assert_eq!(active, "brightwater", "the focus left the panel");
            let focused = in_widget(&browser, "brightwater", "return !!root.activeElement").await;
            assert_eq!(focused, true);
            let element = browser.wait_in(&root, ":focus", WAIT).await.unwrap();
            browser.type_text(&element, key).await.unwrap();
        }
    }
    browser.type_text(&browser.wait_in(&root, ":focus", WAIT).await.unwrap(), "\u{E00C}").await.unwrap();
    assert_eq!(browser.execute("return document.documentElement.style.overflow").await.unwrap(), "");

    browser.set_viewport(844, 390).await.unwrap();
    let root = open_widget(&browser, &page, "brightwater").await;
    browser.wait_in(&root, r#".docent-panel[data-state="chat"]"#, WAIT).await.unwrap();
    let log = in_widget(
        &browser,
        "brightwater",
        "return root.querySelector('.docent-messages').getBoundingClientRect().height",
    )
    .await;
    assert!(log.as_f64().unwrap() >= 220.0, "message area {log} px tall in landscape");
    browser.quit().await.unwrap();
}

/// Regression (finding 10): speakers were not named, typing was silent, the focus ring had 1.73:1 contrast.
#[tokio::test]
async fn screen_readers_hear_who_speaks_and_the_focus_ring_contrasts() {
    let browser = Browser::start().await.unwrap();
    let root = open_widget(&browser, &format!("{}/support.html", stack().allowed_origin()), "brightwater").await;
    ask(&browser, &root, "how long will delivery take").await;
    let speakers = in_widget(
        &browser,
        "brightwater",
        "return [...root.querySelectorAll('.docent-msg')].map(m => m.querySelector('.docent-sr')?.textContent)",
    )
    .await;
    assert_eq!(speakers, serde_json::json!(["Assistant: ", "You said: ", "Assistant: "]));
    // While a reply is on its way, the typing indicator says so in words.
    browser
        .execute(
            "const real = window.fetch; \
             window.fetch = (...args) => new Promise(done => setTimeout(() => done(real(...args)), 1500)); return true",
        )
        .await
        .unwrap();
    let input = browser.wait_in(&root, "textarea.docent-input", WAIT).await.unwrap();
    browser.type_text(&input, "do you ship to Canada\n").await.unwrap();
    browser.wait_in(&root, ".docent-typing[role=status]", WAIT).await.unwrap();
    let typing = in_widget(&browser, "brightwater", "return root.querySelector('.docent-typing').textContent").await;
    assert!(typing.as_str().unwrap_or_default().contains("typing"), "the indicator has text to announce: {typing}");
    // The ring is drawn in the outline colour around a white halo: it must contrast 3:1 with white.
    let outline = in_widget(
        &browser,
        "brightwater",
        "const i = root.querySelector('.docent-input'); i.focus(); return getComputedStyle(i).outlineColor",
    )
    .await;
    let channels: Vec<f64> = outline
        .as_str()
        .unwrap()
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .map(|c| c.trim().parse().unwrap())
        .collect();
    let luminance = |c: &[f64]| {
        let lin = |v: f64| {
            let v = v / 255.0;
            if v <= 0.03928 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
    };
    let contrast = 1.05 / (luminance(&channels) + 0.05);
    assert!(contrast >= 3.0, "focus ring {outline} has {contrast:.2}:1 against white");
    browser.quit().await.unwrap();
}

/// Regression (finding 5): `window.Docent` was undefined, so a site could not drive the widget.
#[tokio::test]
async fn the_page_drives_the_widget_through_window_docent() {
    let browser = Browser::start().await.unwrap();
    browser.goto(&format!("{}/store-desk.html", stack().allowed_origin())).await.unwrap();
    for bot in ["brightwater", "handbook"] {
        wait_until(&browser, bot, "return !!root.querySelector('.docent-launcher')").await;
    }
    browser
        .execute(
            "window.seen = []; for (const e of ['open', 'close', 'message', 'answer']) \
             Docent.on(e, (detail, bot) => seen.push(e + ':' + bot)); \
             Docent.bot('handbook').on('open', () => seen.push('handbook-only')); return true",
        )
        .await
        .unwrap();
    // The page's own "Chat with us" button.
    browser.click(&browser.wait_for("#chat-with-us", WAIT).await.unwrap()).await.unwrap();
    wait_until(&browser, "brightwater", "return !root.querySelector('.docent-panel').hidden").await;
    let root = browser
        .shadow_root(&browser.wait_for(r#"[data-docent-bot="brightwater"]"#, WAIT).await.unwrap())
        .await
        .unwrap();
    ask(&browser, &root, "how long will delivery take").await;
    // With two bots, the bare `Docent.close()` acts on whichever widget loaded first: name it.
    browser.execute("Docent.bot('brightwater').close(); return true").await.unwrap();
    wait_until(&browser, "brightwater", "return root.querySelector('.docent-panel').hidden").await;
    browser.execute("Docent.bot('handbook').toggle(); return true").await.unwrap();
    wait_until(&browser, "handbook", "return !root.querySelector('.docent-panel').hidden").await;
    let seen = browser.execute("return seen").await.unwrap();
    assert_eq!(
        seen,
        serde_json::json!([
            "open:brightwater",
            "message:brightwater",
            "answer:brightwater",
            "close:brightwater",
            "open:handbook",
            "handbook-only"
        ])
    );
    browser.execute("Docent.bot('brightwater').reset(); return true").await.unwrap();
    wait_until(&browser, "brightwater", "return root.querySelectorAll('.docent-msg-user').length === 0").await;
    browser.execute("Docent.bot('brightwater').destroy(); return true").await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while browser.find(r#"[data-docent-bot="brightwater"]"#).await.unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "destroy() left the widget on the page");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A destroyed widget's listeners are gone too: mount() starts it afresh, with one launcher.
    browser.execute("Docent.mount(); return true").await.unwrap();
    wait_until(&browser, "brightwater", "return root.querySelectorAll('.docent-launcher').length === 1").await;
    assert_eq!(
        browser.execute("return document.querySelectorAll('[data-docent-bot=brightwater]').length").await.unwrap(),
        1
    );
    browser.quit().await.unwrap();
}

/// Thumbs on every answer and a 1–5 rating when the visitor leaves reach the events endpoint,
/// which checks the origin and validates what it gets.
#[tokio::test]
async fn answers_take_thumbs_and_the_conversation_a_rating_sent_as_events() {
    let browser = Browser::start().await.unwrap();
    let page = format!("{}/support.html", stack().allowed_origin());
    let root = open_widget(&browser, &page, "brightwater").await;
    browser
        .execute(
            "window.sent = []; const real = window.fetch; \
             window.fetch = (url, init) => { if (String(url).endsWith('/events')) sent.push(JSON.parse(init.body).events[0]); \
             return real(url, init).then(r => { if (String(url).endsWith('/events')) sent.push(r.status); return r; }); }; \
             window.ratings = []; Docent.on('rating', d => ratings.push(d)); return true",
        )
        .await
        .unwrap();
    ask(&browser, &root, "how long will delivery take").await;
    let thumbs = browser.wait_in(&root, r#".docent-feedback button[aria-label="Helpful"]"#, WAIT).await.unwrap();
    browser.click(&thumbs).await.unwrap();
    assert_eq!(browser.attribute(&thumbs, "aria-pressed").await.unwrap().as_deref(), Some("true"));
    browser.click(&browser.wait_in(&root, "button.docent-close", WAIT).await.unwrap()).await.unwrap();
    // Closing after an answer leaves the rating in the log for the visitor's return.
    browser.click(&browser.wait_in(&root, "button.docent-launcher", WAIT).await.unwrap()).await.unwrap();
    browser
        .click(&browser.wait_in(&root, r#".docent-rating button[data-score="4"]"#, WAIT).await.unwrap())
        .await
        .unwrap();
    let thanks = browser.wait_in(&root, ".docent-rating[role=status]", WAIT).await.unwrap();
    assert_eq!(browser.text(&thanks).await.unwrap(), "Thanks for your feedback!");
    let deadline = std::time::Instant::now() + WAIT;
    let sent = loop {
        let sent = browser.execute("return sent").await.unwrap();
        if sent.as_array().is_some_and(|all| all.len() >= 8) || std::time::Instant::now() > deadline {
            break sent;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let events: Vec<&serde_json::Value> = sent.as_array().unwrap().iter().filter(|e| e.is_object()).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["feedback", "close", "open", "rating"], "{sent}");
    assert_eq!(events[0]["answer"], 1);
    assert_eq!(events[0]["helpful"], true);
    assert_eq!(events[3]["score"], 4);
    assert!(events[3]["conversation_id"].as_str().unwrap().starts_with("c_"), "{sent}");
    let statuses: Vec<&serde_json::Value> = sent.as_array().unwrap().iter().filter(|e| e.is_number()).collect();
    assert!(statuses.iter().all(|status| *status == 202), "{sent}");
    let ratings = browser.execute("return ratings").await.unwrap();
    assert_eq!(ratings, serde_json::json!([{"answer": 1, "helpful": true}, {"score": 4}]));

    // The endpoint, from the page itself: bad events are refused with a reason, other origins refused.
    let gateway = stack().gateway_url();
    let status = |body: &str| {
        format!(
            "return fetch('{gateway}/v1/bots/brightwater/events', {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, body: '{body}'}}) \
             .then(r => r.text().then(t => [r.status, t]))"
        )
    };
    for (body, expected, says) in [
        (r#"{"events":[{"type":"goal","name":"signup"}]}"#, 202, ""),
        (r#"{"events":[{"type":"rating","conversation_id":"c_1","score":9}]}"#, 400, "`score` must be 1 to 5"),
        (r#"{"events":[{"type":"open","text":"hi"}]}"#, 400, "invalid JSON body"),
        (r#"{"events":[]}"#, 400, "1 to 20 events"),
    ] {
        // A script returning a promise: WebDriver waits for it.
        let reply = browser.execute(&status(body)).await.unwrap();
        assert_eq!(reply[0], expected, "{body}: {reply}");
        assert!(reply[1].as_str().unwrap_or_default().contains(says), "{body}: {reply}");
    }
    browser.goto(&format!("{}/", stack().other_origin())).await.unwrap();
    let refused = browser
        .execute(
            &status(r#"{"events":[{"type":"open"}]}"#)
                .replace(".then(r => r.text().then(t => [r.status, t]))", ".then(() => 'allowed', () => 'refused')"),
        )
        .await
        .unwrap();
    assert_eq!(refused, "refused");
    browser.quit().await.unwrap();
}

/// axe-core from npm in Docent's cache, installed on first use; the demo site serves it.
fn ensure_axe_core() {
    static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = docent_demo_site::axe_core_dir().expect("HOME or XDG_CACHE_HOME is set");
        if !dir.join("node_modules/axe-core/axe.min.js").is_file() {
            std::fs::create_dir_all(&dir).unwrap();
            let status = std::process::Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "axe-core@4", "--prefix"])
                .arg(&dir)
                .status()
                .expect("npm is needed to install axe-core for the accessibility tests");
            assert!(status.success(), "npm install axe-core failed ({status})");
        }
    });
}

/// The axe-core violations inside `bot`'s widget, loaded from the page's own origin.
async fn axe_violations(browser: &Browser, bot: &str) -> Vec<String> {
    let script = format!(
        "const load = window.axe ? Promise.resolve() : new Promise((done, fail) => {{ \
           const s = document.createElement('script'); s.src = '{}'; s.onload = done; s.onerror = fail; \
           document.head.append(s); }}); \
         return load.then(() => axe.run({{ include: [['[data-docent-bot=\"{bot}\"]']] }}, {{ resultTypes: ['violations'] }})) \
           .then(r => r.violations.map(v => v.id + ': ' + v.nodes.map(n => JSON.stringify(n.target)).join(' ')))",
        docent_demo_site::AXE_CORE_URL
    );
    let found = browser.execute(&script).await.unwrap();
    found.as_array().unwrap().iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}

/// Saves the viewport as `target/screenshots/widget-{name}.png`.
async fn screenshot(browser: &Browser, name: &str) {
    let shot = browser.screenshot().await.unwrap();
    let dir = docent_tests::workspace_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("widget-{name}.png")), shot).unwrap();
}

/// 0 axe-core violations in every state of the widget, on the strict-CSP page, at desktop,
/// phone and landscape sizes; each state's screenshot is kept under target/screenshots.
#[tokio::test]
async fn every_state_has_no_axe_violations() {
    ensure_axe_core();
    let browser = Browser::start().await.unwrap();
    let site = stack().allowed_origin();
    let page = format!("{site}/support.html");
    for (size, width, height) in [("desktop", 1280, 900), ("phone", 390, 844), ("landscape", 844, 390)] {
        browser.set_viewport(width, height).await.unwrap();
        browser.goto(&page).await.unwrap();
        browser.execute("sessionStorage.clear(); return true").await.unwrap();
        let root = open_widget(&browser, &page, "brightwater").await;
        browser.wait_in(&root, r#".docent-panel[data-state="chat"]"#, WAIT).await.unwrap();
        let mut states = vec![("open", axe_violations(&browser, "brightwater").await)];
        screenshot(&browser, &format!("{size}-open")).await;
        ask(&browser, &root, "how long will delivery take").await;
        states.push(("answer", axe_violations(&browser, "brightwater").await));
        screenshot(&browser, &format!("{size}-answer")).await;
        browser.click(&browser.wait_in(&root, "button.docent-close", WAIT).await.unwrap()).await.unwrap();
        browser.click(&browser.wait_in(&root, "button.docent-launcher", WAIT).await.unwrap()).await.unwrap();
        browser.wait_in(&root, ".docent-rating", WAIT).await.unwrap();
        states.push(("rating", axe_violations(&browser, "brightwater").await));
        browser.execute("window.realFetch = window.fetch; window.fetch = () => Promise.reject(new TypeError('offline')); return true").await.unwrap();
        let input = browser.wait_in(&root, "textarea.docent-input", WAIT).await.unwrap();
        browser.type_text(&input, "and to Canada?\n").await.unwrap();
        browser.wait_in(&root, ".docent-msg-error", WAIT).await.unwrap();
        states.push(("error", axe_violations(&browser, "brightwater").await));
        screenshot(&browser, &format!("{size}-error")).await;
        for (state, violations) in states {
            assert!(violations.is_empty(), "{size} {state}: {violations:#?}");
        }
    }
    // The suggestions reply kind, as the gateway sends it.
    browser.set_viewport(1280, 900).await.unwrap();
    let reply = serde_json::json!({
        "kind": "suggestions",
        "text": "I'm not sure. These pages may help:",
        "sources": [
            {"title": "Returns and refunds", "source": "returns.md#returns", "url": format!("{site}/support.html#returns")},
            {"title": "Warranty", "source": "warranty.html#warranty", "url": format!("{site}/support.html#warranty")},
        ],
        "handoff": {"label": "Email our support team", "url": "mailto:help@brightwater.example"},
    });
    let memory = serde_json::json!({"conversation_id": "c_axe", "log": [{"user": "my bike broke"}, {"reply": reply}]});
    let store = format!(
        "sessionStorage.setItem('docent:brightwater', {}); return true",
        serde_json::to_string(&memory.to_string()).unwrap()
    );
    browser.execute(&store).await.unwrap();
    let root = open_widget(&browser, &page, "brightwater").await;
    browser.wait_in(&root, ".docent-msg-bot[data-kind=suggestions] a.docent-source", WAIT).await.unwrap();
    assert_eq!(axe_violations(&browser, "brightwater").await, Vec::<String>::new(), "suggestions");
    screenshot(&browser, "suggestions").await;
    // The staff sign-in.
    let root = open_widget(&browser, &format!("{site}/staff.html"), "handbook").await;
    browser.wait_in(&root, r#".docent-panel[data-state="login"]"#, WAIT).await.unwrap();
    assert_eq!(axe_violations(&browser, "handbook").await, Vec::<String>::new(), "login");
    screenshot(&browser, "login").await;
    browser.quit().await.unwrap();
}

/// The widget speaks the page's language (`<html lang="fr">`) in everything it says itself.
#[tokio::test]
async fn the_widget_speaks_the_pages_language() {
    let browser = Browser::start().await.unwrap();
    let root = open_widget(&browser, &format!("{}/a-propos.html", stack().allowed_origin()), "brightwater").await;
    browser.wait_in(&root, r#".docent-panel[data-state="chat"]"#, WAIT).await.unwrap();
    let said = in_widget(
        &browser,
        "brightwater",
        "return [root.querySelector('.docent-root').lang, root.querySelector('.docent-root').dir, \
         root.querySelector('.docent-send').textContent, root.querySelector('.docent-input').placeholder, \
         root.querySelector('.docent-close').getAttribute('aria-label')]",
    )
    .await;
    assert_eq!(said, serde_json::json!(["fr", "ltr", "Envoyer", "Posez une question\u{2026}", "Fermer la discussion"]));
    browser.quit().await.unwrap();
}

/// `Docent.identify(token)`: a token the intranet signed for its staff member opens the internal bot
/// without the password form, and reaches no storage.
#[tokio::test]
async fn identify_signs_staff_in_with_a_site_signed_token() {
    let lifecycle = std::sync::Arc::clone(&stack().lifecycle);
    let secret =
        tokio::task::spawn_blocking(move || lifecycle.create_site_secret("handbook", "e2e")).await.unwrap().unwrap();
    let browser = Browser::start().await.unwrap();
    let root = open_widget(&browser, &format!("{}/staff.html", stack().allowed_origin()), "handbook").await;
    browser.wait_in(&root, r#".docent-panel[data-state="login"]"#, WAIT).await.unwrap();
    // The intranet's server would sign this; WebCrypto's HMAC does the same here (HS256).
    let sign_and_identify = format!(
        "const b64 = bytes => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/=+$/, '').replace(/\\+/g, '-').replace(/\\//g, '_'); \
         const part = value => b64(new TextEncoder().encode(JSON.stringify(value))); \
         const data = part({{alg: 'HS256', typ: 'JWT'}}) + '.' + part({{bot: 'handbook', sub: 'ana', exp: Math.floor(Date.now() / 1000) + 300}}); \
         window.siteToken = data; \
         return crypto.subtle.importKey('raw', new TextEncoder().encode({secret:?}), {{name: 'HMAC', hash: 'SHA-256'}}, false, ['sign']) \
           .then(key => crypto.subtle.sign('HMAC', key, new TextEncoder().encode(data))) \
           .then(signature => {{ window.siteToken = data + '.' + b64(signature); return Docent.bot('handbook').identify(window.siteToken); }}) \
           .then(() => true)"
    );
    assert_eq!(browser.execute(&sign_and_identify).await.unwrap(), true);
    browser.wait_in(&root, r#".docent-panel[data-state="chat"]"#, WAIT).await.unwrap();
    let (text, kind) = ask(&browser, &root, "How many vacation days do I get?").await;
    assert_ne!(kind, "unknown", "{text}");
    let stored = browser
        .execute("return JSON.stringify([Object.values(sessionStorage), Object.values(localStorage)]).includes(window.siteToken)")
        .await
        .unwrap();
    assert_eq!(stored, false);
    browser.quit().await.unwrap();
}

/// The `clip-path` bundle.js gives the fallback frame of `bot`: the area the widget draws on.
async fn frame_clip(browser: &Browser, bot: &str) -> String {
    let script = format!(r#"return document.querySelector('iframe[data-docent-frame="{bot}"]')?.style.clipPath ?? """#);
    browser.execute(&script).await.unwrap().as_str().unwrap_or_default().to_owned()
}

/// Collects the console's messages until one contains `needle`, and returns them all.
async fn console_until(browser: &Browser, needle: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + WAIT;
    let mut messages = Vec::new();
    while !messages.iter().any(|message: &String| message.contains(needle)) {
        assert!(std::time::Instant::now() < deadline, "no console message with {needle:?} in {messages:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        messages.extend(browser.console_messages().await.unwrap());
    }
    messages
}

/// A page whose CSP forbids WebAssembly but allows a frame from the gateway gets the chat in a
/// frame: one console line tells the owner what to add, clicks beside the widget reach the page,
/// a visitor opens the launcher, asks and gets an answer, which the page's `Docent.on` hears, and
/// the page's `Docent.close()` closes the panel in the frame.
#[tokio::test]
async fn on_a_page_that_forbids_wasm_the_chat_runs_in_a_frame_from_the_gateway() {
    let browser = Browser::start().await.unwrap();
    browser.goto(&format!("{}/no-wasm.html", stack().allowed_origin())).await.unwrap();
    let frame = browser.wait_for(r#"iframe[data-docent-frame="brightwater"]"#, WAIT).await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while frame_clip(&browser, "brightwater").await == "inset(50%)" {
        assert!(
            std::time::Instant::now() < deadline,
            "the frame never reported the launcher's area: {:?}",
            browser.console_messages().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hints: Vec<String> = console_until(&browser, "runs in a frame")
        .await
        .into_iter()
        .filter(|message| message.contains("docent:"))
        .collect();
    assert_eq!(hints.len(), 1, "{hints:?}");
    assert!(hints[0].contains("'wasm-unsafe-eval'") && hints[0].contains("script-src"), "{hints:?}");

    // The frame covers the viewport, but only the launcher's corner takes clicks.
    browser.click(&browser.wait_for("#beside-the-chat", WAIT).await.unwrap()).await.unwrap();
    assert_eq!(browser.execute("return document.getElementById('holiday-hours').hidden").await.unwrap(), false);
    let closed = frame_clip(&browser, "brightwater").await;
    browser
        .execute("window.answers = []; Docent.on('answer', (reply, bot) => answers.push([bot, reply.kind]))")
        .await
        .unwrap();

    browser.enter_frame(&frame).await.unwrap();
    let host = browser.wait_for(r#"[data-docent-bot="brightwater"]"#, WAIT).await.unwrap();
    let root = browser.shadow_root(&host).await.unwrap();
    browser.click(&browser.wait_in(&root, "button.docent-launcher", WAIT).await.unwrap()).await.unwrap();
    browser.wait_in(&root, r#".docent-panel[data-state="chat"]"#, WAIT).await.unwrap();
    let (text, kind) = ask(&browser, &root, "how long will delivery take").await;
    assert_eq!(kind, "faq", "{text}");
    assert!(text.contains("business day"), "{text}");
    browser.leave_frames().await.unwrap();

    let open = frame_clip(&browser, "brightwater").await;
    assert_ne!(open, closed, "the frame's area grows with the panel");
    let heard = browser.execute("return window.answers").await.unwrap();
    assert_eq!(heard, serde_json::json!([["brightwater", "faq"]]));
    // The page's Docent calls reach the frame: closing gives the page back all but the launcher.
    browser.execute("Docent.bot('brightwater').close()").await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while frame_clip(&browser, "brightwater").await != closed {
        assert!(std::time::Instant::now() < deadline, "Docent.close() did not reach the frame");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.quit().await.unwrap();
}

/// The frame's `frame-ancestors` is the bot's allowlist: a page on another origin gets no chat,
/// the browser says why, and bundle.js tells the owner which origin to allow.
#[tokio::test]
async fn a_page_on_an_origin_not_allowlisted_cannot_embed_the_frame() {
    let browser = Browser::start().await.unwrap();
    let origin = stack().other_origin();
    browser.goto(&format!("{origin}/no-wasm.html")).await.unwrap();
    browser.wait_for(r#"iframe[data-docent-frame="brightwater"]"#, WAIT).await.unwrap();
    let messages = console_until(&browser, "allowed_origins").await;
    assert!(messages.iter().any(|message| message.contains("frame-ancestors")), "{messages:?}");
    let hint = messages.iter().find(|message| message.contains("allowed_origins")).unwrap();
    assert!(hint.contains(&origin) && hint.contains("\\\"brightwater\\\""), "{hint}");
    assert_eq!(frame_clip(&browser, "brightwater").await, "inset(50%)", "nothing of the frame is shown");
    browser.quit().await.unwrap();
}
