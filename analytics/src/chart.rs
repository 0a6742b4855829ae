//! The dashboard's charts as standalone SVG documents, drawn with plotters (no script, no web font).

use plotters::coord::Shift;
use plotters::coord::types::{RangedCoordu64, RangedCoordusize};
use plotters::prelude::*;

use crate::{Bucket, Heatmap};

/// Every chart's size in pixels.
pub const WIDTH: u32 = 760;
pub const HEIGHT: u32 = 260;
const FONT: &str = "sans-serif";
const ANSWER: RGBColor = RGBColor(46, 125, 50);
const SUGGESTIONS: RGBColor = RGBColor(249, 168, 37);
const UNKNOWN: RGBColor = RGBColor(198, 40, 40);
const LATENCY: RGBColor = RGBColor(21, 101, 192);
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// What can go wrong while drawing: only the SVG text writer, which does not fail in memory.
pub type ChartResult = Result<String, String>;

/// Replies per bucket, stacked by tier: answers, suggestions, "I don't know".
pub fn replies(series: &[Bucket], bucket_seconds: i64) -> ChartResult {
    draw(|root| paint_replies(root, series, bucket_seconds))
}

/// [`replies`] on any plotters backend (the PDF report draws it too).
pub(crate) fn paint_replies<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[Bucket],
    bucket_seconds: i64,
) -> Result<(), String> {
    let top = series.iter().map(|bucket| bucket.sums.replies()).max().unwrap_or(0).max(1);
    let mut chart = time_chart(root, "Replies by tier", 44, series, bucket_seconds, top + top / 10 + 1)?;
    for (tier, color) in [("Answer", ANSWER), ("Suggestions", SUGGESTIONS), ("I don't know", UNKNOWN)] {
        let bars = series.iter().enumerate().map(|(index, bucket)| {
            let sums = &bucket.sums;
            let (below, height) = match tier {
                "Answer" => (0, sums.answers),
                "Suggestions" => (sums.answers, sums.suggestions),
                _ => (sums.answers + sums.suggestions, sums.unknowns),
            };
            Rectangle::new([(index, below), (index + 1, below + height)], color.filled())
        });
        chart
            .draw_series(bars)
            .map_err(text)?
            .label(tier)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

/// Mean reply latency per bucket, in milliseconds, with the 2 s target as a line.
pub fn latency(series: &[Bucket], bucket_seconds: i64) -> ChartResult {
    draw(|root| paint_latency(root, series, bucket_seconds))
}

/// [`latency`] on any plotters backend.
pub(crate) fn paint_latency<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[Bucket],
    bucket_seconds: i64,
) -> Result<(), String> {
    let points: Vec<(usize, u64)> = series
        .iter()
        .enumerate()
        .filter(|(_, bucket)| bucket.sums.replies() > 0)
        .map(|(index, bucket)| (index, bucket.sums.latency_ms_sum / bucket.sums.replies()))
        .collect();
    let top = points.iter().map(|(_, ms)| *ms).max().unwrap_or(0).max(2_200);
    let mut chart = time_chart(root, "Mean response time (ms)", 52, series, bucket_seconds, top + top / 10)?;
    chart
        .draw_series(LineSeries::new([(0, 2_000), (series.len().max(1), 2_000)], UNKNOWN.stroke_width(1)))
        .map_err(text)?
        .label("target: 2 s")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], UNKNOWN));
    chart
        .draw_series(LineSeries::new(points, LATENCY.stroke_width(2)))
        .map_err(text)?
        .label("mean")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], LATENCY));
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// Visitor messages per weekday and UTC hour: darker is busier.
pub fn heatmap(cells: &Heatmap) -> ChartResult {
    let top = cells.iter().flatten().copied().max().unwrap_or(0).max(1);
    draw(|root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .caption("Messages by weekday and hour (UTC)", (FONT, 16))
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d((0..23usize).into_segmented(), (0..6usize).into_segmented())
            .map_err(text)?;
        // Labels sit in the middle of their cell; rows run Monday (top) to Sunday.
        let centered = |value: &SegmentValue<usize>| match value {
            SegmentValue::CenterOf(index) => Some(*index),
            _ => None,
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(24)
            .y_labels(7)
            .x_label_formatter(&|value| {
                centered(value).filter(|hour| hour % 3 == 0).map_or_else(String::new, |hour| format!("{hour:02}h"))
            })
            .y_label_formatter(&|value| {
                centered(value)
                    .and_then(|row| DAYS.get(6usize.saturating_sub(row)))
                    .copied()
                    .unwrap_or_default()
                    .to_owned()
            })
            .label_style((FONT, 12))
            .draw()
            .map_err(text)?;
        let squares = cells.iter().enumerate().flat_map(|(day, hours)| {
            hours.iter().enumerate().map(move |(hour, count)| {
                let shade = 0.08 + 0.92 * (*count as f64 / top as f64);
                let row = 6 - day;
                let corner = |hour, row| (SegmentValue::Exact(hour), SegmentValue::Exact(row));
                Rectangle::new([corner(hour, row), corner(hour + 1, row + 1)], LATENCY.mix(shade).filled())
            })
        });
        chart.draw_series(squares).map_err(text)?;
        Ok(())
    })
}

/// A chart with one x step per [`crate::Bucket`] and counts up the side.
type TimeChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordusize, RangedCoordu64>>;

/// A [`TimeChart`] with its mesh drawn: each step labelled with its bucket's start, and
/// `0..y_end` up the side, in an area `y_label_width` pixels wide.
fn time_chart<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    caption: &str,
    y_label_width: u32,
    series: &[Bucket],
    bucket_seconds: i64,
    y_end: u64,
) -> Result<TimeChart<'a, DB>, String> {
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .caption(caption, (FONT, 16))
        .x_label_area_size(28)
        .y_label_area_size(y_label_width)
        .build_cartesian_2d(0..series.len().max(1), 0..y_end)
        .map_err(text)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(8)
        .x_label_formatter(&|index| series.get(*index).map_or_else(String::new, |b| label(b.start, bucket_seconds)))
        .label_style((FONT, 12))
        .draw()
        .map_err(text)?;
    Ok(chart)
}

/// The series' legend, in a half-transparent box at `position`.
fn draw_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut TimeChart<'a, DB>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(text)
}

/// A bucket's axis label: `24 Nov` for days, `14h` for hours.
fn label(start: i64, bucket_seconds: i64) -> String {
    if bucket_seconds >= 86_400 {
        let (_, month, day) = civil_date(start);
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        format!("{day} {}", MONTHS[(month - 1) as usize % 12])
    } else {
        format!("{:02}h", start.rem_euclid(86_400) / 3600)
    }
}

/// The UTC (year, month, day) of a Unix time (Howard Hinnant's days-to-civil).
pub fn civil_date(at: i64) -> (i64, u32, u32) {
    let days = at.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn draw(paint: impl FnOnce(&Area<'_>) -> Result<(), String>) -> ChartResult {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(text)?;
        paint(&root)?;
        root.present().map_err(text)?;
    }
    Ok(svg)
}

fn text(err: impl std::fmt::Display) -> String {
    format!("cannot draw the chart: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc_dates() {
        for (at, date) in [
            (0, (1970, 1, 1)),
            (951_782_400, (2000, 2, 29)),
            (1_795_996_800, (2026, 11, 30)),
            (-86_400, (1969, 12, 31)),
        ] {
            assert_eq!(civil_date(at), date, "{at}");
        }
    }
}
