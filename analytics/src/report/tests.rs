//! Reports over a real SQLite store seeded with the demo month, read back from each format:
//! the workbook with calamine, the PDF with pdf-extract, the HTML as text.

use calamine::{Data, Reader, Xlsx};
use docent_store::{Event, EventKind, EventStore, SqliteStore, Tier};

use super::*;
use crate::demo;

/// 2026-12-01 00:00 UTC, a Tuesday.
const DECEMBER: i64 = 1_796_083_200;

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("docent.sqlite")).unwrap();
    (dir, store)
}

/// Two months of demo conversations before `DECEMBER` for `acme`.
fn seeded() -> (tempfile::TempDir, SqliteStore) {
    let (dir, store) = store();
    let questions = vec!["What is your return policy?".to_owned(), "How long does delivery take?".to_owned()];
    assert!(demo::seed(&store, "acme", &questions, Some(1), DECEMBER, 61).unwrap() > 0);
    (dir, store)
}

#[test]
fn periods_end_at_their_instant() {
    for (period, until, from) in [
        (Period::Day, DECEMBER, DECEMBER - 86_400),
        (Period::Week, DECEMBER, DECEMBER - 7 * 86_400),
        // 2026-12-01 → 2026-11-01: November has 30 days.
        (Period::Month, DECEMBER, DECEMBER - 30 * 86_400),
        // 2027-03-31 12:00 → 2027-02-28 12:00: the shorter month's last day, same time.
        (Period::Month, 1_806_494_400, 1_806_494_400 - 31 * 86_400),
        // 2028-03-31 → 2028-02-29, a leap year.
        (Period::Month, 1_838_073_600, 1_838_073_600 - 31 * 86_400),
        // 2027-01-15 → 2026-12-15, across a year.
        (Period::Month, 1_799_971_200, 1_799_971_200 - 31 * 86_400),
    ] {
        assert_eq!(period.range(until), Range { from, to: until }, "{period:?} until {}", date(until));
    }
    assert_eq!(date(DECEMBER), "2026-12-01");
    assert_eq!(
        (date(1_806_494_400), date(1_838_073_600), date(1_799_971_200)),
        ("2027-03-31".to_owned(), "2028-03-31".to_owned(), "2027-01-15".to_owned())
    );
}

#[test]
fn schedules_fall_due_at_the_next_whole_period() {
    const DAY: i64 = 86_400;
    // 2026-12-01 is a Tuesday; 2026-12-07 a Monday.
    for (period, after, due) in [
        (Period::Day, DECEMBER - 1, DECEMBER),
        (Period::Day, DECEMBER, DECEMBER + DAY),
        (Period::Week, DECEMBER, DECEMBER + 6 * DAY),
        (Period::Week, DECEMBER + 6 * DAY, DECEMBER + 13 * DAY),
        (Period::Week, DECEMBER + 6 * DAY - 1, DECEMBER + 6 * DAY),
        (Period::Month, DECEMBER - 1, DECEMBER),
        (Period::Month, DECEMBER, DECEMBER + 31 * DAY),
        (Period::Month, DECEMBER + 20 * DAY, DECEMBER + 31 * DAY),
    ] {
        assert_eq!(period.next_boundary(after), due, "{period:?} after {}", date(after));
    }
    assert_eq!(date(DECEMBER + 31 * DAY), "2027-01-01");
}

#[test]
fn changes_carry_their_sign_and_unit() {
    for (unit, change, shown) in [
        (Unit::Count, 12.0, "+12"),
        (Unit::Count, -3.0, "−3"),
        (Unit::Count, 0.0, "±0"),
        (Unit::Percent, 0.021, "+2.1 pt"),
        (Unit::Percent, -0.0004, "±0.0 pt"),
        (Unit::Seconds, -0.001, "±0.00 s"),
        (Unit::Seconds, -0.25, "−0.25 s"),
        (Unit::Duration, 65.4, "+65 s"),
        (Unit::Rating, 0.2, "+0.20"),
    ] {
        assert_eq!(unit.show_change(change), shown, "{unit:?} {change}");
    }
}

/// The figure named `name` as the dashboard computes it, in the report's unit.
fn expected(board: &Dashboard, name: &str) -> Option<f64> {
    let kpis = &board.kpis;
    match name {
        "Response time" => kpis.response_ms.map(|ms| ms / 1000.0),
        "Uptime" => None,
        "Success rate" => kpis.success_rate,
        "Satisfaction" => kpis.satisfaction,
        "Error rate" => kpis.error_rate,
        "Conversations" => Some(kpis.conversations as f64),
        "Questions asked" => Some(kpis.asked as f64),
        "Resolved" => Some(kpis.resolved as f64),
        "Ratings" => Some(kpis.ratings as f64),
        "Bounce rate" => kpis.bounce_rate,
        "Conversion rate" => kpis.conversion_rate,
        "Average session" => kpis.average_session_seconds,
        "Slow replies" => Some(kpis.slow_replies as f64),
        "Errors" => Some(kpis.errors as f64),
        other => panic!("the report has a figure the test does not know: {other}"),
    }
}

fn close(actual: Option<f64>, expected: Option<f64>) -> bool {
    match (actual, expected) {
        (Some(actual), Some(expected)) => (actual - expected).abs() < 1e-9 * expected.abs().max(1.0),
        (actual, expected) => actual == expected,
    }
}

/// The cells of a sheet, by row.
fn sheet(workbook: &mut Xlsx<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<Data>> {
    let range = workbook.worksheet_range(name).unwrap_or_else(|err| panic!("sheet {name}: {err}"));
    range.rows().map(<[Data]>::to_vec).collect()
}

fn number(cell: Option<&Data>) -> Option<f64> {
    match cell? {
        Data::Float(value) => Some(*value),
        Data::Int(value) => Some(*value as f64),
        Data::Empty => None,
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn every_format_shows_the_dashboards_figures() {
    let (_dir, store) = seeded();
    for period in Period::ALL {
        let report = Report::build(&store, "acme", period, DECEMBER).unwrap();
        let board = Dashboard::load(&store, "acme", period.range(DECEMBER)).unwrap();
        let before = Dashboard::load(&store, "acme", period.range(period.range(DECEMBER).from)).unwrap();
        assert!(board.kpis.conversations > 0, "{period:?}: the demo month has conversations");

        // The workbook, read back with calamine: every figure equals the dashboard's.
        let file = report.render(Format::Xlsx).unwrap();
        assert_eq!(file.name, format!("acme-{}-{}.xlsx", period.adjective().to_lowercase(), date(board.range.from)));
        let mut workbook = Xlsx::new(std::io::Cursor::new(file.bytes)).unwrap();
        let rows = sheet(&mut workbook, "KPIs");
        assert_eq!(rows[0][0], Data::String("Figure".into()));
        assert_eq!(rows.len(), report.figures().len() + 1);
        for row in &rows[1..] {
            let Data::String(name) = &row[0] else { panic!("a figure's name: {:?}", row[0]) };
            let (now, previous) = (number(row.get(1)), number(row.get(2)));
            assert!(close(now, expected(&board, name)), "{period:?} {name}: {now:?} vs {:?}", expected(&board, name));
            assert!(close(previous, expected(&before, name)), "{period:?} previous {name}: {previous:?}");
        }
        let series = sheet(&mut workbook, if period == Period::Day { "Hourly" } else { "Daily" });
        assert_eq!(series.len(), board.series.len() + 1, "{period:?}: a row per bucket");
        let messages: f64 = series[1..].iter().map(|row| number(row.get(2)).unwrap()).sum();
        assert_eq!(messages as u64, board.kpis.messages, "{period:?}: the series sums to the period");
        let asked = sheet(&mut workbook, "Most asked");
        assert_eq!(asked.len(), board.top_questions.len() + 1);
        assert_eq!(asked[1][0], Data::String(board.top_questions[0].question.clone()));
        let unresolved = sheet(&mut workbook, "Unresolved");
        assert_eq!(number(unresolved[1].get(3)), Some(board.unresolved[0].unresolved as f64));
        let peak = sheet(&mut workbook, "Peak hours");
        let total: f64 = peak[1..].iter().flat_map(|row| row[1..].iter().map(|cell| number(Some(cell)).unwrap())).sum();
        assert_eq!(total as u64, board.kpis.messages);

        // The PDF, read back with pdf-extract: the targets' figures as the console shows them.
        let file = report.render(Format::Pdf).unwrap();
        assert!(file.bytes.starts_with(b"%PDF-"));
        let text = pdf_extract::extract_text_from_mem(&file.bytes).unwrap();
        assert!(text.contains(&format!("{} report: acme", period.adjective())), "{period:?}: {text}");
        for figure in report.figures() {
            assert!(close(figure.value, expected(&board, figure.name)), "{period:?} {}", figure.name);
            assert!(text.contains(figure.name), "{period:?}: {} in the PDF", figure.name);
            if figure.value.is_some() {
                assert!(text.contains(&figure.shown()), "{period:?}: {} = {} in {text}", figure.name, figure.shown());
            }
        }
        assert!(text.contains("Replies by tier"), "{period:?}: the chart's caption is PDF text");

        // The HTML: the same figures, the charts inline, nothing loaded from elsewhere.
        let html = String::from_utf8(report.render(Format::Html).unwrap().bytes).unwrap();
        for figure in report.figures() {
            assert!(html.contains(&figure.shown()), "{period:?}: {} in the HTML", figure.name);
        }
        assert_eq!(html.matches("<svg").count(), 3, "three inline charts");
        assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="), "self-contained");
    }
}

#[test]
fn an_empty_period_is_a_report_saying_so() {
    let (_dir, store) = store();
    let report = Report::build(&store, "quiet", Period::Week, DECEMBER).unwrap();
    assert!(report.is_empty());
    assert!(report.summary().contains("No conversations in this period."));
    let html = String::from_utf8(report.render(Format::Html).unwrap().bytes).unwrap();
    assert!(html.contains("No conversations in this period."));
    let pdf = pdf_extract::extract_text_from_mem(&report.render(Format::Pdf).unwrap().bytes).unwrap();
    assert!(pdf.contains("No conversations in this period."), "{pdf}");
    let mut workbook = Xlsx::new(std::io::Cursor::new(report.render(Format::Xlsx).unwrap().bytes)).unwrap();
    let summary = sheet(&mut workbook, "Summary");
    assert!(summary.iter().any(|row| row.get(1) == Some(&Data::String("No conversations in this period.".into()))));
}

#[test]
fn visitor_text_is_escaped_in_html_and_kept_in_the_pdf() {
    let (_dir, store) = store();
    let hostile = "<img src=x onerror=alert(1)> & \"café\"?";
    let reply = Event {
        tier: Some(Tier::Unknown),
        text: Some(hostile.into()),
        conversation: Some("c1".into()),
        ..Event::new("acme", DECEMBER - 3600, EventKind::Reply)
    };
    let message = Event { conversation: Some("c1".into()), ..Event::new("acme", DECEMBER - 3600, EventKind::Message) };
    store.record_events(&[message, reply]).unwrap();
    let report = Report::build(&store, "acme", Period::Day, DECEMBER).unwrap();
    let html = String::from_utf8(report.render(Format::Html).unwrap().bytes).unwrap();
    assert!(!html.contains("<img"), "markup from a visitor is escaped");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;café&quot;?"));
    let pdf = pdf_extract::extract_text_from_mem(&report.render(Format::Pdf).unwrap().bytes).unwrap();
    assert!(pdf.contains("café"), "Latin-1 letters survive WinAnsi: {pdf}");
}

#[test]
fn the_summary_and_subject_name_the_bot_period_and_targets() {
    let (_dir, store) = seeded();
    let report = Report::build(&store, "acme", Period::Month, DECEMBER).unwrap();
    assert_eq!(report.subject(), "Docent monthly report: acme, 2026-11-01 – 2026-11-30");
    let summary = report.summary();
    let board = &report.dashboard;
    assert!(
        summary.contains(&format!("{} conversations, {} questions asked.", board.kpis.conversations, board.kpis.asked))
    );
    for name in ["Response time", "Uptime", "Success rate", "Satisfaction", "Error rate"] {
        assert!(summary.contains(&format!("{name}: ")), "{name} in {summary}");
    }
    let busiest = report.busiest_bucket().unwrap();
    assert_eq!(busiest.sums.messages, board.series.iter().map(|bucket| bucket.sums.messages).max().unwrap());
    let peaks = report.peak_hours();
    assert_eq!(peaks.len(), PEAK_HOURS);
    assert_eq!(peaks[0].messages, board.heatmap.iter().flatten().copied().max().unwrap());
    assert!(peaks.windows(2).all(|pair| pair[0].messages >= pair[1].messages));
}
