//! Periodic reports: one bot's day, week or month gathered from the store ([`Report::build`]),
//! then written as an HTML summary, an Excel workbook or a PDF executive summary.
//!
//! The figures are the Analytics page's ([`Dashboard`]), for the period and for the one before
//! it, so a report always agrees with the console. Rendering does no IO: each format gives a
//! [`ReportFile`] (file name, MIME type, bytes) that a caller writes, serves or sends, with
//! [`Report::subject`] and [`Report::summary`] for a message around it.

mod html;
mod pdf;
mod xlsx;

pub use html::escape;

use docent_store::{HourlyRollup, Store, Timestamp};
use serde::Serialize;

use crate::chart::civil_date;
use crate::{Bucket, Dashboard, Goal, Kpis, Range, Standing, Target};

/// What a report covers: the day, the week (7 days) or the calendar month before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|period| period.as_str() == text)
    }

    /// `Daily`, `Weekly`, `Monthly`.
    pub fn adjective(self) -> &'static str {
        match self {
            Period::Day => "Daily",
            Period::Week => "Weekly",
            Period::Month => "Monthly",
        }
    }

    /// The period that ends at `until` (excluded). A month goes back to the same time on the
    /// same day of the month before, or that month's last day when it is shorter (31 March →
    /// 28 or 29 February).
    pub fn range(self, until: Timestamp) -> Range {
        let from = match self {
            Period::Day => until - 86_400,
            Period::Week => until - 7 * 86_400,
            Period::Month => {
                let (year, month, day) = civil_date(until);
                let (year, month) = if month == 1 { (year - 1, 12) } else { (year, month - 1) };
                let day = day.min(days_in_month(year, month));
                days_from_civil(year, month, day) * 86_400 + until.rem_euclid(86_400)
            }
        };
        Range { from, to: until }
    }

    /// The first end of a whole period strictly after `after`: the next 00:00 UTC for a day,
    /// the next Monday 00:00 UTC for a week, the next 1st of a month 00:00 UTC for a month.
    /// A scheduled report is due then, for the period that ends there.
    pub fn next_boundary(self, after: Timestamp) -> Timestamp {
        let today = after.div_euclid(86_400);
        let day = match self {
            Period::Day => today + 1,
            // 1970-01-01 was a Thursday: Monday is the day whose (days + 3) mod 7 is 0.
            Period::Week => today + 7 - (today + 3).rem_euclid(7),
            Period::Month => {
                let (year, month, _) = civil_date(after);
                let (year, month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
                days_from_civil(year, month, 1)
            }
        };
        day * 86_400
    }
}

/// Days since 1970-01-01 of a UTC date (Howard Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// A date as `2026-11-30`.
pub fn date(at: Timestamp) -> String {
    let (year, month, day) = civil_date(at);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The three file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A self-contained HTML summary with inline SVG charts.
    Html,
    /// An Excel workbook with the detail.
    Xlsx,
    /// A one-page PDF executive summary.
    Pdf,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Html, Format::Xlsx, Format::Pdf];

    /// The file extension, also the format's name.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
        }
    }

    pub fn parse(text: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|format| format.extension() == text)
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf => "application/pdf",
        }
    }
}

/// A rendered report, ready to be written, served or attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile {
    /// `brightwater-monthly-2026-11-01.pdf`: the bot, the period and its first day.
    pub name: String,
    pub mime_type: &'static str,
    pub bytes: Vec<u8>,
}

/// What can fail while writing a report's file: the data is already read.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot draw the {chart} chart for the report: {reason}")]
    Chart { chart: &'static str, reason: String },
    #[error("cannot write the Excel workbook of the report: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("cannot write the PDF of the report: {0}")]
    Pdf(#[from] lopdf::Error),
}

/// How a figure is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    /// A fraction, shown as a percentage.
    Percent,
    /// Seconds with two decimals (response time).
    Seconds,
    /// Minutes and seconds (session length).
    Duration,
    /// A mean on the 1–5 scale.
    Rating,
}

impl Unit {
    pub fn show(self, value: f64) -> String {
        match self {
            Unit::Count => format!("{value:.0}"),
            Unit::Percent => format!("{:.1} %", value * 100.0),
            Unit::Seconds => format!("{value:.2} s"),
            Unit::Duration => {
                let seconds = value.round() as u64;
                if seconds >= 60 { format!("{} min {} s", seconds / 60, seconds % 60) } else { format!("{seconds} s") }
            }
            Unit::Rating => format!("{value:.2} / 5"),
        }
    }

    /// A change from the previous period: percentage points for rates. A change that rounds
    /// to zero is `±0`, never `-0.00`.
    pub fn show_change(self, change: f64) -> String {
        let size = change.abs();
        let shown = match self {
            Unit::Count | Unit::Duration => format!("{size:.0}"),
            Unit::Percent => format!("{:.1}", size * 100.0),
            Unit::Seconds | Unit::Rating => format!("{size:.2}"),
        };
        let rounds_to_zero = shown.chars().all(|c| c == '0' || c == '.');
        let sign = if rounds_to_zero {
            "±"
        } else if change > 0.0 {
            "+"
        } else {
            "−"
        };
        let unit = match self {
            Unit::Count | Unit::Rating => "",
            Unit::Percent => " pt",
            Unit::Seconds | Unit::Duration => " s",
        };
        format!("{sign}{shown}{unit}")
    }
}

/// One line of a report's figures: this period, the one before, and the target if it has one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub name: &'static str,
    pub unit: Unit,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub target: Option<Target>,
}

impl Figure {
    pub fn shown(&self) -> String {
        self.value.map_or_else(|| "—".to_owned(), |value| self.unit.show(value))
    }

    pub fn shown_previous(&self) -> String {
        self.previous.map_or_else(|| "—".to_owned(), |value| self.unit.show(value))
    }

    pub fn change(&self) -> Option<f64> {
        Some(self.value? - self.previous?)
    }

    pub fn shown_change(&self) -> String {
        self.change().map_or_else(|| "—".to_owned(), |change| self.unit.show_change(change))
    }

    /// `< 2 s`, `> 85.0 %`, or empty without a target.
    pub fn shown_target(&self) -> String {
        self.target.as_ref().map_or_else(String::new, |target| {
            let goal = if target.goal == Goal::Below { "<" } else { ">" };
            let threshold = match self.unit {
                Unit::Seconds => format!("{} s", target.threshold),
                Unit::Rating => format!("{:.1} / 5", target.threshold),
                unit => unit.show(target.threshold),
            };
            format!("{goal} {threshold}")
        })
    }

    /// `met`, `missed`, `no data`, `no watcher`, or empty without a target.
    pub fn standing(&self) -> &'static str {
        match self.target.as_ref().map(|target| target.standing) {
            None => "",
            Some(Standing::Met) => "met",
            Some(Standing::Missed) => "missed",
            Some(Standing::NoData) => "no data",
            Some(Standing::NoWatcher) => "no watcher",
        }
    }
}

/// One of the busiest weekday hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeakHour {
    /// 0 for Monday … 6 for Sunday.
    pub weekday: usize,
    /// UTC.
    pub hour: usize,
    pub messages: u64,
}

/// Weekday names, Monday first.
pub const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Busiest hours listed in a report.
pub const PEAK_HOURS: usize = 3;

/// One bot's figures for a period, beside the period before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub period: Period,
    /// This period's dashboard: KPIs and targets, the series (hours for a day, days beyond),
    /// the heatmap, the most asked and unresolved questions.
    pub dashboard: Dashboard,
    pub previous_range: Range,
    pub previous: Kpis,
}

impl Report {
    /// Reads the bot's figures for the `period` ending at `until` and for the one before.
    pub fn build(store: &dyn Store, bot: &str, period: Period, until: Timestamp) -> crate::Result<Report> {
        let range = period.range(until);
        let previous_range = period.range(range.from);
        Ok(Report {
            period,
            dashboard: Dashboard::load(store, bot, range)?,
            previous_range,
            previous: Dashboard::load(store, bot, previous_range)?.kpis,
        })
    }

    pub fn bot(&self) -> &str {
        &self.dashboard.bot
    }

    pub fn range(&self) -> Range {
        self.dashboard.range
    }

    /// The first and last day covered, `2026-11-01 – 2026-11-30`, or one day.
    pub fn span(&self) -> String {
        let range = self.range();
        let (first, last) = (date(range.from), date(range.to - 1));
        if first == last { first } else { format!("{first} – {last}") }
    }

    /// The headline figures, the targets' first, in a fixed order every format shows.
    pub fn figures(&self) -> Vec<Figure> {
        let (now, before) = (&self.dashboard.kpis, &self.previous);
        let target = |name: &str| self.dashboard.targets.iter().find(|target| target.name == name).cloned();
        let count = |value: u64| Some(value as f64);
        let seconds = |ms: Option<f64>| ms.map(|ms| ms / 1000.0);
        let figure = |name, unit, value, previous, target| Figure { name, unit, value, previous, target };
        vec![
            figure(
                "Response time",
                Unit::Seconds,
                seconds(now.response_ms),
                seconds(before.response_ms),
                target("Response time"),
            ),
            figure("Uptime", Unit::Percent, None, None, target("Uptime")),
            figure("Success rate", Unit::Percent, now.success_rate, before.success_rate, target("Success rate")),
            figure("Satisfaction", Unit::Rating, now.satisfaction, before.satisfaction, target("Satisfaction")),
            figure("Error rate", Unit::Percent, now.error_rate, before.error_rate, target("Error rate")),
            figure("Conversations", Unit::Count, count(now.conversations), count(before.conversations), None),
            figure("Questions asked", Unit::Count, count(now.asked), count(before.asked), None),
            figure("Resolved", Unit::Count, count(now.resolved), count(before.resolved), None),
            figure("Ratings", Unit::Count, count(now.ratings), count(before.ratings), None),
            figure("Bounce rate", Unit::Percent, now.bounce_rate, before.bounce_rate, None),
            figure("Conversion rate", Unit::Percent, now.conversion_rate, before.conversion_rate, None),
            figure(
                "Average session",
                Unit::Duration,
                now.average_session_seconds,
                before.average_session_seconds,
                None,
            ),
            figure("Slow replies", Unit::Count, count(now.slow_replies), count(before.slow_replies), None),
            figure("Errors", Unit::Count, count(now.errors), count(before.errors), None),
        ]
    }

    /// The bucket of the series with the most visitor messages (a day, or an hour for a
    /// daily report), if any message came.
    pub fn busiest_bucket(&self) -> Option<&Bucket> {
        self.dashboard
            .series
            .iter()
            .filter(|bucket| bucket.sums.messages > 0)
            .max_by_key(|bucket| (bucket.sums.messages, std::cmp::Reverse(bucket.start)))
    }

    /// The busiest weekday hours, busiest first (ties: earlier in the week first).
    pub fn peak_hours(&self) -> Vec<PeakHour> {
        let mut hours: Vec<PeakHour> = (0..7)
            .flat_map(|weekday| (0..24).map(move |hour| (weekday, hour)))
            .map(|(weekday, hour)| PeakHour { weekday, hour, messages: self.dashboard.heatmap[weekday][hour] })
            .filter(|peak| peak.messages > 0)
            .collect();
        hours.sort_by_key(|peak| (std::cmp::Reverse(peak.messages), peak.weekday, peak.hour));
        hours.truncate(PEAK_HOURS);
        hours
    }

    /// A bucket's label: its date, plus the hour in a daily report.
    pub fn bucket_label(&self, bucket: &Bucket) -> String {
        if self.dashboard.bucket_seconds < 86_400 {
            format!("{} {:02}:00", date(bucket.start), bucket.start.rem_euclid(86_400) / 3600)
        } else {
            date(bucket.start)
        }
    }

    /// `Docent weekly report: brightwater, 2026-11-23 – 2026-11-29`.
    pub fn subject(&self) -> String {
        format!("Docent {} report: {}, {}", self.period.adjective().to_lowercase(), self.bot(), self.span())
    }

    /// A few lines of plain text: the targets and the period's volume, for a message body.
    pub fn summary(&self) -> String {
        let kpis = &self.dashboard.kpis;
        let mut text = format!("{}\n\n", self.subject());
        if self.is_empty() {
            text.push_str("No conversations in this period.\n");
        } else {
            text.push_str(&format!("{} conversations, {} questions asked.\n", kpis.conversations, kpis.asked));
        }
        for figure in self.figures().iter().filter(|figure| figure.target.is_some()) {
            text.push_str(&format!(
                "{}: {} (target {}, {})\n",
                figure.name,
                figure.shown(),
                figure.shown_target(),
                figure.standing()
            ));
        }
        text
    }

    /// The report as one file of `format`.
    pub fn render(&self, format: Format) -> Result<ReportFile, RenderError> {
        let bytes = match format {
            Format::Html => html::render(self)?.into_bytes(),
            Format::Xlsx => xlsx::render(self)?,
            Format::Pdf => pdf::render(self)?,
        };
        Ok(ReportFile {
            name: format!(
                "{}-{}-{}.{}",
                self.bot(),
                self.period.adjective().to_lowercase(),
                date(self.range().from),
                format.extension()
            ),
            mime_type: format.mime_type(),
            bytes,
        })
    }

    /// Whether nothing at all happened in the period.
    pub fn is_empty(&self) -> bool {
        let kpis = &self.dashboard.kpis;
        kpis.conversations == 0 && kpis.asked == 0 && kpis.messages == 0 && kpis.errors == 0
    }

    /// The sums of a bucket's replies that were not answers.
    fn unresolved_replies(sums: &HourlyRollup) -> u64 {
        sums.suggestions + sums.unknowns
    }
}

#[cfg(test)]
mod tests;
