//! Reports: the real `docent report` binary on a data directory with the demo month, and the
//! console's downloads, each file read back (calamine for Excel, pdf-extract for PDF) and
//! compared with the Analytics page's figures for the same store; `docent report --send` to a
//! real webhook receiver and SMTP server, the e-mail parsed back with its attachments; a due
//! report schedule sent once while two gateways look for it.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use calamine::{Data, Reader, Xlsx};
use docent_analytics::Dashboard;
use docent_analytics::report::{Format, Period, Report, date};
use docent_lifecycle::store::events::day_of;
use docent_lifecycle::when::now;
use docent_lifecycle::{Lifecycle, LifecycleOptions};
use docent_tests::http::send;
use docent_tests::receivers::{SmtpServer, webhook_receiver};
use docent_tests::{Stack, copy_tree, private_stack, workspace_root};
use hyper::Method;
use mail_parser::MimeHeaders;

use crate::restart::docent_binary;

/// The KPIs sheet's "This period" column, by figure name.
fn kpi_column(bytes: Vec<u8>) -> Vec<(String, Option<f64>)> {
    let mut workbook = Xlsx::new(std::io::Cursor::new(bytes)).expect("an xlsx workbook");
    let sheet = workbook.worksheet_range("KPIs").expect("a KPIs sheet");
    sheet
        .rows()
        .skip(1)
        .map(|row| {
            let value = match row.get(1) {
                Some(Data::Float(value)) => Some(*value),
                Some(Data::Int(value)) => Some(*value as f64),
                _ => None,
            };
            (row[0].to_string(), value)
        })
        .collect()
}

fn expect_figures(figures: &[(String, Option<f64>)], board: &Dashboard) {
    let kpis = &board.kpis;
    for (name, expected) in [
        ("Conversations", Some(kpis.conversations as f64)),
        ("Questions asked", Some(kpis.asked as f64)),
        ("Success rate", kpis.success_rate),
        ("Satisfaction", kpis.satisfaction),
        ("Error rate", kpis.error_rate),
        ("Response time", kpis.response_ms.map(|ms| ms / 1000.0)),
    ] {
        let got = figures.iter().find(|(figure, _)| figure == name).map(|(_, value)| *value);
        let same = match (got.flatten(), expected) {
            (Some(got), Some(expected)) => (got - expected).abs() < 1e-9 * expected.abs().max(1.0),
            (got, expected) => got == expected,
        };
        assert!(same, "{name}: the report says {got:?}, the dashboard {expected:?}");
    }
}

/// A data directory with the public demo bot deployed and a month of demo conversations.
fn demo_data_dir(bots: &Path, data: &Path) -> anyhow::Result<Lifecycle> {
    copy_tree(&workspace_root().join("demo/bots/brightwater"), &bots.join("brightwater"))?;
    let lifecycle = Lifecycle::open(LifecycleOptions::new(data, bots))?;
    lifecycle.deploy("brightwater", "e2e", &mut |_| {})?;
    let questions = vec!["How long does delivery take?".to_owned(), "What is your return policy?".to_owned()];
    let seeded = docent_analytics::demo::seed(lifecycle.store(), "brightwater", &questions, Some(1), now(), 40)?;
    anyhow::ensure!(seeded > 0, "demo conversations seeded");
    Ok(lifecycle)
}

#[test]
fn docent_report_writes_each_format_with_the_dashboards_figures() {
    let (bots, data, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lifecycle = demo_data_dir(bots.path(), data.path()).unwrap();
    let docent = docent_binary().unwrap();
    let until = day_of(now());
    let report = |args: &[&str]| {
        Command::new(&docent)
            .args(["report"])
            .args(args)
            .arg("--bots")
            .arg(bots.path())
            .arg("--data")
            .arg(data.path())
            .current_dir(out.path())
            .output()
            .unwrap()
    };

    for (period, format) in [("month", "xlsx"), ("week", "pdf"), ("day", "html")] {
        let done = report(&["brightwater", "--period", period, "--format", format]);
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(done.status.success(), "{period} {format}: {stderr}");
        let range = Period::parse(period).unwrap().range(until);
        let name = format!(
            "brightwater-{}-{}.{format}",
            match period {
                "day" => "daily",
                "week" => "weekly",
                _ => "monthly",
            },
            date(range.from)
        );
        let bytes = std::fs::read(out.path().join(&name)).unwrap_or_else(|err| panic!("{name}: {err}; {stderr}"));
        let board = Dashboard::load(lifecycle.store(), "brightwater", range).unwrap();
        assert!(board.kpis.conversations > 0, "{period}: the demo data covers it");
        match format {
            "xlsx" => expect_figures(&kpi_column(bytes), &board),
            "pdf" => {
                let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
                assert!(text.contains("Weekly report: brightwater"), "{text}");
                let success = format!("{:.1} %", board.kpis.success_rate.unwrap() * 100.0);
                assert!(text.contains(&success), "the success rate {success} in {text}");
            }
            _ => {
                let html = String::from_utf8(bytes).unwrap();
                assert!(html.starts_with("<!DOCTYPE html>") && html.contains("Daily report: brightwater"));
                assert!(html.contains(&format!("<td class=\"n\">{}</td>", board.kpis.conversations)));
            }
        }
    }

    // An explicit end, to standard output; a period without conversations is still a report.
    let empty = report(&["brightwater", "--period", "week", "--format", "html", "--until", "2020-01-01", "--out", "-"]);
    assert!(empty.status.success(), "{}", String::from_utf8_lossy(&empty.stderr));
    let html = String::from_utf8(empty.stdout).unwrap();
    assert!(html.contains("2019-12-25 – 2019-12-31") && html.contains("No conversations in this period."), "{html}");
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no conversations in this period"));

    for (args, error) in [
        (&["nobody", "--period", "day", "--format", "pdf"][..], "nobody"),
        (&["brightwater", "--period", "day", "--format", "pdf", "--until", "someday"][..], "bad --until"),
    ] {
        let failed = report(args);
        let stderr = String::from_utf8_lossy(&failed.stderr);
        assert_eq!(failed.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(error), "{args:?}: {stderr}");
    }
    let unknown_period = report(&["brightwater", "--period", "year", "--format", "pdf"]);
    assert_eq!(unknown_period.status.code(), Some(2), "clap refuses an unknown period");
}

/// A private stack whose `brightwater` has 40 days of demo conversations, and a console
/// session cookie on it.
async fn seeded_and_signed_in() -> (Stack, String) {
    let stack = private_stack().unwrap();
    let questions = ["How long does delivery take?".to_owned()];
    docent_analytics::demo::seed(stack.lifecycle.store(), "brightwater", &questions, None, now(), 40).unwrap();
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let signed_in = send(stack.gateway, Method::POST, "/admin/sign-in", &form, format!("token={}", stack.admin_token))
        .await
        .unwrap();
    let cookie = signed_in.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    (stack, cookie)
}

#[tokio::test]
async fn the_console_offers_each_report_as_a_download() {
    let (stack, cookie) = seeded_and_signed_in().await;
    let get = |path: String| {
        let cookie = cookie.clone();
        async move { send(stack.gateway, Method::GET, &path, &[("cookie", cookie.as_str())], "").await.unwrap() }
    };

    docent_gateway::report_delivery::set_schedule(
        &stack.lifecycle,
        "brightwater",
        Period::Month,
        &[Format::Xlsx],
        "e2e",
        now(),
    )
    .unwrap();
    let page = get("/admin/bots/brightwater/analytics".into()).await;
    let page = String::from_utf8_lossy(&page.body).into_owned();
    let schedules = page.split("id=\"report-schedules\"").nth(1).unwrap_or_default();
    assert!(
        schedules.contains("<tr data-period=\"month\"><th scope=\"row\">Monthly</th><td>xlsx</td>"),
        "the schedule listed: {schedules}"
    );
    for file in ["day.html", "week.xlsx", "month.pdf"] {
        assert!(page.contains(&format!("href=\"/admin/bots/brightwater/reports/{file}\"")), "{file} linked");
    }

    let until = day_of(now());
    let range = Period::Week.range(until);
    let xlsx = get("/admin/bots/brightwater/reports/week.xlsx".into()).await;
    assert_eq!(xlsx.status, 200);
    assert_eq!(xlsx.header("content-type"), Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
    assert_eq!(
        xlsx.header("content-disposition").unwrap(),
        format!("attachment; filename=\"brightwater-weekly-{}.xlsx\"", date(range.from))
    );
    let board = Dashboard::load(stack.lifecycle.store(), "brightwater", range).unwrap();
    expect_figures(&kpi_column(xlsx.body.to_vec()), &board);

    let pdf = get("/admin/bots/brightwater/reports/month.pdf".into()).await;
    assert_eq!((pdf.status, pdf.header("content-type")), (200, Some("application/pdf")));
    let text = pdf_extract::extract_text_from_mem(&pdf.body).unwrap();
    assert!(text.contains("Monthly report: brightwater"), "{text}");
    let html = get("/admin/bots/brightwater/reports/day.html".into()).await;
    assert_eq!((html.status, html.header("content-type")), (200, Some("text/html; charset=utf-8")));

    for (path, status) in [
        ("/admin/bots/brightwater/reports/year.pdf", 404),
        ("/admin/bots/brightwater/reports/week.docx", 404),
        ("/admin/bots/nobody/reports/week.pdf", 404),
    ] {
        assert_eq!(get(path.into()).await.status, status, "{path}");
    }
    let anonymous =
        send(stack.gateway, Method::GET, "/admin/bots/brightwater/reports/week.pdf", &[], "").await.unwrap();
    assert!(
        anonymous.header("content-type").is_some_and(|kind| kind.starts_with("text/html")),
        "signed out: the sign-in page, not the report"
    );
}

/// Alert channels of every kind on the test's receivers: reports go to all but the SMS gateway.
fn channels(receiver: std::net::SocketAddr, smtp_port: u16) -> String {
    format!(
        r#"[[channel]]
kind = "webhook"
url = "http://{receiver}/webhook"

[[channel]]
kind = "slack"
url = "http://{receiver}/slack/T000/B000/secret"

[[channel]]
kind = "email"
server = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "Docent <reports@brightwater.example>"
to = ["owner@brightwater.example"]

[[channel]]
kind = "sms"
url = "http://{receiver}/sms?to={{to}}"
to = ["+15550100"]
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docent_report_send_delivers_the_files_to_the_bots_channels() {
    let (bots, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let opening = (bots.path().to_owned(), data.path().to_owned());
    let lifecycle = tokio::task::spawn_blocking(move || demo_data_dir(&opening.0, &opening.1)).await.unwrap().unwrap();
    let (receiver, received) = webhook_receiver().await.unwrap();
    let smtp = tokio::task::spawn_blocking(SmtpServer::start).await.unwrap().unwrap();
    docent_gateway::alerts::store_settings(&lifecycle, "brightwater", Some(&channels(receiver, smtp.port)), "e2e")
        .unwrap();

    let (bots_dir, data_dir) = (bots.path().to_owned(), data.path().to_owned());
    let sent = tokio::task::spawn_blocking(move || {
        Command::new(docent_binary()?)
            .args(["report", "brightwater", "--period", "week", "--format", "pdf,xlsx", "--send", "--fetch-private"])
            .arg("--bots")
            .arg(bots_dir)
            .arg("--data")
            .arg(data_dir)
            .output()
            .map_err(anyhow::Error::from)
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&sent.stdout);
    assert!(sent.status.success(), "{stdout}{}", String::from_utf8_lossy(&sent.stderr));
    assert!(stdout.contains("sent to 3 channels"), "every channel but SMS: {stdout}");

    let report = Report::build(lifecycle.store(), "brightwater", Period::Week, day_of(now())).unwrap();
    let pdf = report.render(Format::Pdf).unwrap();
    let xlsx_name = report.render(Format::Xlsx).unwrap().name;

    // The e-mail, parsed back: the summary as its text, both files attached with their types.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while smtp.messages().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "one e-mail");
    let mail = mail_parser::MessageParser::default().parse(messages[0].as_bytes()).expect("a MIME message");
    assert_eq!(mail.subject(), Some(report.subject().as_str()));
    let body = mail.body_text(0).unwrap();
    assert!(body.contains(&report.summary().lines().nth(2).unwrap().to_owned()), "the summary in {body}");
    let attachments: Vec<(String, String, Vec<u8>)> = mail
        .attachments()
        .map(|part| {
            let kind = part.content_type().map(|kind| format!("{}/{}", kind.ctype(), kind.subtype().unwrap_or("")));
            (part.attachment_name().unwrap_or("").to_owned(), kind.unwrap_or_default(), part.contents().to_vec())
        })
        .collect();
    assert_eq!(
        attachments.len(),
        2,
        "{:?}",
        attachments.iter().map(|(name, kind, _)| (name, kind)).collect::<Vec<_>>()
    );
    assert_eq!((attachments[0].0.as_str(), attachments[0].1.as_str()), (pdf.name.as_str(), "application/pdf"));
    assert_eq!(attachments[0].2, pdf.bytes, "the PDF attached byte for byte");
    assert_eq!(
        (attachments[1].0.as_str(), attachments[1].1.as_str()),
        (xlsx_name.as_str(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let board = Dashboard::load(lifecycle.store(), "brightwater", report.range()).unwrap();
    expect_figures(&kpi_column(attachments[1].2.clone()), &board);

    // The generic webhook carries the same files in base64, Slack the subject; SMS nothing.
    let received = received.lock().unwrap().clone();
    let paths: Vec<&str> = received.iter().map(|(path, _)| path.split('/').nth(1).unwrap_or_default()).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["slack", "webhook"], "{received:?}");
    let webhook = &received.iter().find(|(path, _)| path == "/webhook").unwrap().1;
    assert_eq!(webhook["subject"], report.subject());
    assert_eq!(webhook["data"]["kind"], "report");
    let files = webhook["attachments"].as_array().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD.decode(files[0]["base64"].as_str().unwrap()).unwrap();
    assert_eq!(
        (files[0]["name"].as_str(), files[0]["mime"].as_str()),
        (Some(pdf.name.as_str()), Some("application/pdf"))
    );
    assert_eq!(decoded, pdf.bytes);
    assert_eq!(files[1]["name"].as_str(), Some(xlsx_name.as_str()));
    let slack = &received.iter().find(|(path, _)| path.starts_with("/slack/")).unwrap().1;
    assert!(slack["text"].as_str().unwrap().contains(&report.subject()), "{slack}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_schedule_is_sent_once_by_two_gateways() {
    let (bots, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let opening = (bots.path().to_owned(), data.path().to_owned());
    let lifecycle = tokio::task::spawn_blocking(move || demo_data_dir(&opening.0, &opening.1)).await.unwrap().unwrap();
    let (receiver, received) = webhook_receiver().await.unwrap();
    let settings = format!("[[channel]]\nkind = \"webhook\"\nurl = \"http://{receiver}/webhook\"\n");
    docent_gateway::alerts::store_settings(&lifecycle, "brightwater", Some(&settings), "e2e").unwrap();

    // The CLI makes the schedule, due at the next Monday 00:00 UTC.
    let docent = tokio::task::spawn_blocking(docent_binary).await.unwrap().unwrap();
    let reports = |args: &[&str]| {
        Command::new(&docent)
            .args(["reports", "brightwater", "--bots"])
            .arg(bots.path())
            .arg("--data")
            .arg(data.path())
            .args(args)
            .output()
            .unwrap()
    };
    let scheduled = reports(&["schedule", "--period", "week", "--format", "pdf,html,pdf"]);
    assert!(scheduled.status.success(), "{}", String::from_utf8_lossy(&scheduled.stderr));
    let at = now();
    let listed = lifecycle.store().report_schedules(Some("brightwater")).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].period.as_str(), listed[0].formats.clone()), ("week", vec!["pdf".into(), "html".into()]));
    assert_eq!(listed[0].next_at, Period::Week.next_boundary(at));
    let list = String::from_utf8(reports(&["list"]).stdout).unwrap();
    assert!(list.contains("week") && list.contains("pdf,html") && list.contains("last never"), "{list}");

    // Due since today 00:00: two gateways on the same store look at once; one sends it.
    let due = day_of(at);
    let mut made_due = listed[0].clone();
    made_due.next_at = due;
    let audit = docent_lifecycle::store::AuditEntry::new(at, "e2e", Some("brightwater"), "reports.schedule", "due");
    lifecycle.store().set_report_schedule(&made_due, &audit).unwrap();
    let (data_dir, bots_dir) = (data.path().to_owned(), bots.path().to_owned());
    let second = tokio::task::spawn_blocking(move || Lifecycle::open(LifecycleOptions::new(&data_dir, &bots_dir)))
        .await
        .unwrap()
        .unwrap();
    let (first, second) = (std::sync::Arc::new(lifecycle), std::sync::Arc::new(second));
    let (one, two) = tokio::join!(
        docent_gateway::report_delivery::run_due(std::sync::Arc::clone(&first), at, true),
        docent_gateway::report_delivery::run_due(std::sync::Arc::clone(&second), at, true),
    );
    assert_eq!(one.unwrap() + two.unwrap(), 1, "one of the two gateways claims the due report");
    assert_eq!(docent_gateway::report_delivery::run_due(std::sync::Arc::clone(&first), at + 1, true).await.unwrap(), 0);

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "one notice: {received:?}");
    let report = Report::build(first.store(), "brightwater", Period::Week, due).unwrap();
    let body = &received[0].1;
    assert_eq!(body["subject"], report.subject(), "the week that ended at the due time");
    let names: Vec<&str> =
        body["attachments"].as_array().unwrap().iter().filter_map(|file| file["name"].as_str()).collect();
    assert_eq!(names, [report.render(Format::Pdf).unwrap().name, report.render(Format::Html).unwrap().name]);
    let moved = first.store().report_schedules(Some("brightwater")).unwrap().remove(0);
    assert_eq!((moved.next_at, moved.last_sent_at), (Period::Week.next_boundary(at), Some(at)));
    let list = String::from_utf8(reports(&["list"]).stdout).unwrap();
    assert!(!list.contains("last never"), "{list}");

    let removed = reports(&["unschedule", "--period", "week"]);
    assert!(removed.status.success(), "{}", String::from_utf8_lossy(&removed.stderr));
    assert!(first.store().report_schedules(Some("brightwater")).unwrap().is_empty());
    let again = reports(&["unschedule", "--period", "week"]);
    assert_eq!(again.status.code(), Some(1), "nothing to remove");
}

#[tokio::test]
async fn an_unresolved_question_becomes_a_qa_draft_in_the_knowledge() {
    let (stack, cookie) = seeded_and_signed_in().await;
    let page =
        send(stack.gateway, Method::GET, "/admin/bots/brightwater/analytics", &[("cookie", cookie.as_str())], "")
            .await
            .unwrap();
    let page = String::from_utf8_lossy(&page.body).into_owned();
    let unresolved = page.split("id=\"unresolved\"").nth(1).unwrap_or_default();
    assert!(unresolved.contains("action=\"/admin/bots/brightwater/draft\""), "a draft button per group: {unresolved}");
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    let post = |fields: Vec<(&str, String)>| {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let cookie = cookie.clone();
        let origin = stack.gateway_url();
        async move {
            let headers = [
                ("content-type", "application/x-www-form-urlencoded"),
                ("cookie", cookie.as_str()),
                ("origin", origin.as_str()),
            ];
            send(stack.gateway, Method::POST, "/admin/bots/brightwater/draft", &headers, body).await.unwrap()
        }
    };
    // Visitor text that tries to close the string and add a pair of its own, and runs long.
    let hostile = format!("Do you ship to \"Mars\"? \\\n[[qa]]\nanswer = \"yes\" {}", "very ".repeat(100));
    let drafts = stack.bots_dir().join("brightwater/knowledge/drafts.toml");
    let faq_before = std::fs::read(stack.bots_dir().join("brightwater/knowledge/faq.toml")).unwrap();
    for expected in ["drafted=added", "drafted=exists"] {
        let done = post(vec![("csrf", csrf.clone()), ("question", hostile.clone())]).await;
        assert_eq!(done.status, 303, "{}", String::from_utf8_lossy(&done.body));
        assert_eq!(
            done.header("location"),
            Some(format!("/admin/bots/brightwater/analytics?{expected}#unresolved").as_str())
        );
    }
    let text = std::fs::read_to_string(&drafts).unwrap();
    let parsed: toml::Table = toml::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"));
    let pairs = parsed["qa"].as_array().unwrap();
    assert_eq!(pairs.len(), 1, "one draft, not two, and nothing injected: {text}");
    let question = pairs[0]["question"].as_str().unwrap();
    assert_eq!(question, docent_lifecycle::drafts::clean_question(&hostile));
    assert!(question.starts_with("Do you ship to \"Mars\"? \\ [[qa]] answer = \"yes\" very"), "{question}");
    assert_eq!(question.chars().count(), docent_lifecycle::drafts::MAX_DRAFT_CHARS);
    assert_eq!(pairs[0]["answer"].as_str(), Some(""), "the owner writes the answer");
    assert_eq!(std::fs::read(stack.bots_dir().join("brightwater/knowledge/faq.toml")).unwrap(), faq_before);

    let page = send(
        stack.gateway,
        Method::GET,
        "/admin/bots/brightwater/analytics?drafted=added",
        &[("cookie", cookie.as_str())],
        "",
    )
    .await
    .unwrap();
    assert!(String::from_utf8_lossy(&page.body).contains("id=\"drafted\""));

    // The draft changes the sources, but its empty answer keeps it out of the bot until written.
    let check = stack.lifecycle.check("brightwater").unwrap();
    assert_eq!(check.state, docent_lifecycle::check::CheckState::Outdated, "{check:?}");
    assert!(check.warnings.iter().any(|warning| warning.contains("drafts.toml")), "{:?}", check.warnings);

    for (fields, status) in [
        (vec![("question", "Where is my order?".to_owned())], 403),
        (vec![("csrf", csrf.clone()), ("question", " \n ".to_owned())], 400),
    ] {
        assert_eq!(post(fields).await.status, status);
    }
}
