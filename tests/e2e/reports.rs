//! Reports: the real `docent report` binary on a data directory with the demo month, and the
//! console's downloads, each file read back (calamine for Excel, pdf-extract for PDF) and
//! compared with the Analytics page's figures for the same store.

use std::path::Path;
use std::process::Command;

use calamine::{Data, Reader, Xlsx};
use docent_analytics::Dashboard;
use docent_analytics::report::{Period, date};
use docent_lifecycle::store::events::day_of;
use docent_lifecycle::when::now;
use docent_lifecycle::{Lifecycle, LifecycleOptions};
use docent_tests::http::send;
use docent_tests::{copy_tree, private_stack, workspace_root};
use hyper::Method;

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

#[tokio::test]
async fn the_console_offers_each_report_as_a_download() {
    let stack = private_stack().unwrap();
    let questions = ["How long does delivery take?".to_owned()];
    docent_analytics::demo::seed(stack.lifecycle.store(), "brightwater", &questions, None, now(), 40).unwrap();
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let signed_in = send(stack.gateway, Method::POST, "/admin/sign-in", &form, format!("token={}", stack.admin_token))
        .await
        .unwrap();
    let cookie = signed_in.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let get = |path: String| {
        let cookie = cookie.clone();
        async move { send(stack.gateway, Method::GET, &path, &[("cookie", cookie.as_str())], "").await.unwrap() }
    };

    let page = get("/admin/bots/brightwater/analytics".into()).await;
    let page = String::from_utf8_lossy(&page.body).into_owned();
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
