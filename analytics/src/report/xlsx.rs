//! The Excel workbook: the detail behind the summary, as numbers a spreadsheet can sum.
//!
//! Sheets: `Summary` (bot, period), `KPIs` (each figure, the previous period, the target),
//! `Daily` (or `Hourly` for a daily report), `Most asked`, `Unresolved` and `Peak hours`
//! (messages per weekday and UTC hour). Rates are fractions formatted as percentages.

use docent_store::QuestionCount;
use rust_xlsxwriter::{Format as CellFormat, Workbook, Worksheet, XlsxError};

use super::{RenderError, Report, Unit, WEEKDAYS};

/// The workbook's bytes.
pub(super) fn render(report: &Report) -> Result<Vec<u8>, RenderError> {
    let mut workbook = Workbook::new();
    let bold = CellFormat::new().set_bold();
    summary(workbook.add_worksheet(), report, &bold)?;
    kpis(workbook.add_worksheet(), report, &bold)?;
    series(workbook.add_worksheet(), report, &bold)?;
    questions(workbook.add_worksheet(), "Most asked", &report.dashboard.top_questions, &bold)?;
    questions(workbook.add_worksheet(), "Unresolved", &report.dashboard.unresolved, &bold)?;
    peak_hours(workbook.add_worksheet(), report, &bold)?;
    Ok(workbook.save_to_buffer()?)
}

fn header(sheet: &mut Worksheet, titles: &[&str], bold: &CellFormat) -> Result<(), XlsxError> {
    for (column, title) in titles.iter().enumerate() {
        sheet.write_string_with_format(0, column as u16, *title, bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn summary(sheet: &mut Worksheet, report: &Report, bold: &CellFormat) -> Result<(), XlsxError> {
    sheet.set_name("Summary")?;
    sheet.set_column_width(0, 24)?;
    sheet.set_column_width(1, 40)?;
    let range = report.range();
    let rows = [
        ("Bot", report.bot().to_owned()),
        ("Report", format!("{} report", report.period.adjective())),
        ("From (UTC)", super::date(range.from)),
        ("Until (UTC, excluded)", super::date(range.to)),
        (
            "Compared with",
            format!("{} – {}", super::date(report.previous_range.from), super::date(report.previous_range.to - 1)),
        ),
        ("Note", if report.is_empty() { "No conversations in this period.".to_owned() } else { String::new() }),
    ];
    for (row, (name, value)) in rows.iter().enumerate() {
        sheet.write_string_with_format(row as u32, 0, *name, bold)?;
        sheet.write_string(row as u32, 1, value)?;
    }
    sheet.write_string_with_format(rows.len() as u32, 0, "Demo conversations", bold)?;
    sheet.write_number(rows.len() as u32, 1, report.dashboard.demo_conversations as f64)?;
    Ok(())
}

fn kpis(sheet: &mut Worksheet, report: &Report, bold: &CellFormat) -> Result<(), XlsxError> {
    sheet.set_name("KPIs")?;
    header(sheet, &["Figure", "This period", "Previous period", "Change", "Target", "Standing"], bold)?;
    sheet.set_column_width(0, 20)?;
    sheet.set_column_range_width(1, 3, 16)?;
    sheet.set_column_width(4, 12)?;
    let percent = CellFormat::new().set_num_format("0.0%");
    let seconds = CellFormat::new().set_num_format("0.00\" s\"");
    let plain = CellFormat::new().set_num_format("0.##");
    for (index, figure) in report.figures().iter().enumerate() {
        let row = index as u32 + 1;
        let format = match figure.unit {
            Unit::Percent => &percent,
            Unit::Seconds | Unit::Duration => &seconds,
            Unit::Count | Unit::Rating => &plain,
        };
        sheet.write_string(row, 0, figure.name)?;
        for (column, value) in [(1, figure.value), (2, figure.previous), (3, figure.change())] {
            if let Some(value) = value {
                sheet.write_number_with_format(row, column, value, format)?;
            }
        }
        sheet.write_string(row, 4, figure.shown_target())?;
        sheet.write_string(row, 5, figure.standing())?;
    }
    Ok(())
}

fn series(sheet: &mut Worksheet, report: &Report, bold: &CellFormat) -> Result<(), XlsxError> {
    let hourly = report.dashboard.bucket_seconds < 86_400;
    sheet.set_name(if hourly { "Hourly" } else { "Daily" })?;
    header(
        sheet,
        &[
            if hourly { "Hour (UTC)" } else { "Day" },
            "Conversations",
            "Messages",
            "Questions",
            "Answers",
            "Suggestions",
            "I don't know",
            "Errors",
            "Mean response (s)",
            "Slow replies",
            "Thumbs up",
            "Thumbs down",
            "Ratings",
            "Mean rating",
            "Goals",
        ],
        bold,
    )?;
    sheet.set_column_width(0, 18)?;
    sheet.set_column_range_width(1, 14, 13)?;
    for (index, bucket) in report.dashboard.series.iter().enumerate() {
        let row = index as u32 + 1;
        let sums = &bucket.sums;
        sheet.write_string(row, 0, report.bucket_label(bucket))?;
        let counts = [
            sums.conversations,
            sums.messages,
            sums.replies(),
            sums.answers,
            sums.suggestions,
            sums.unknowns,
            sums.errors,
        ];
        for (column, count) in counts.into_iter().enumerate() {
            sheet.write_number(row, column as u16 + 1, count as f64)?;
        }
        if sums.replies() > 0 {
            sheet.write_number(row, 8, sums.latency_ms_sum as f64 / sums.replies() as f64 / 1000.0)?;
        }
        for (column, count) in
            [(9, sums.slow_replies), (10, sums.thumbs_up), (11, sums.thumbs_down), (12, sums.ratings)]
        {
            sheet.write_number(row, column, count as f64)?;
        }
        if sums.ratings > 0 {
            sheet.write_number(row, 13, sums.rating_sum as f64 / sums.ratings as f64)?;
        }
        sheet.write_number(row, 14, sums.goals as f64)?;
    }
    Ok(())
}

fn questions(sheet: &mut Worksheet, name: &str, rows: &[QuestionCount], bold: &CellFormat) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    header(sheet, &["Question", "Asked as", "Asked", "Unresolved"], bold)?;
    sheet.set_column_width(0, 40)?;
    sheet.set_column_width(1, 40)?;
    for (index, question) in rows.iter().enumerate() {
        let row = index as u32 + 1;
        sheet.write_string(row, 0, &question.question)?;
        sheet.write_string(row, 1, &question.example)?;
        sheet.write_number(row, 2, question.asked as f64)?;
        sheet.write_number(row, 3, question.unresolved as f64)?;
    }
    Ok(())
}

fn peak_hours(sheet: &mut Worksheet, report: &Report, bold: &CellFormat) -> Result<(), XlsxError> {
    sheet.set_name("Peak hours")?;
    sheet.write_string_with_format(0, 0, "Messages (UTC)", bold)?;
    sheet.set_column_width(0, 16)?;
    for hour in 0..24u16 {
        sheet.write_string_with_format(0, hour + 1, format!("{hour:02}h"), bold)?;
    }
    for (day, hours) in report.dashboard.heatmap.iter().enumerate() {
        let row = day as u32 + 1;
        sheet.write_string_with_format(row, 0, WEEKDAYS[day], bold)?;
        for (hour, count) in hours.iter().enumerate() {
            sheet.write_number(row, hour as u16 + 1, *count as f64)?;
        }
    }
    Ok(())
}
