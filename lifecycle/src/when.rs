//! Times as the operator types and reads them: UTC, to the second.
//!
//! Accepted: RFC 3339 (`2026-11-25T02:00:00Z`, `2026-11-25T03:00:00+01:00`),
//! `2026-11-25 02:00[:00]` (UTC), a date `2026-11-25` (00:00 UTC), and a delay
//! from now: `+90s`, `+15m`, `+2h`, `+7d`.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use docent_store::Timestamp;

/// Now, in Unix seconds.
pub fn now() -> Timestamp {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Parses a time as documented in this module; `now` anchors `+` delays.
pub fn parse(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Some(delay) = text.strip_prefix('+') {
        let (number, unit) = delay.split_at(delay.find(|c: char| !c.is_ascii_digit()).unwrap_or(delay.len()));
        let count: i64 =
            number.parse().map_err(|_| format!("`{text}`: a delay is a number and a unit: +90s, +15m, +2h, +7d"))?;
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(format!("`{text}`: the unit of a delay is s, m, h or d")),
        };
        return Ok(now + count * seconds);
    }
    if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(time.unix_timestamp());
    }
    for format in [
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ] {
        if let Ok(time) = PrimitiveDateTime::parse(text, format) {
            return Ok(time.assume_utc().unix_timestamp());
        }
    }
    if let Ok(date) = Date::parse(text, format_description!("[year]-[month]-[day]")) {
        return Ok(date.midnight().assume_utc().unix_timestamp());
    }
    Err(format!(
        "`{text}` is not a time: use 2026-11-25T02:00:00Z, \"2026-11-25 02:00\" (UTC), 2026-11-25, or a delay like +15m"
    ))
}

/// `2026-11-25 02:00:00 UTC`.
pub fn format(at: Timestamp) -> String {
    match OffsetDateTime::from_unix_timestamp(at) {
        Ok(time) => time
            .format(format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC"))
            .unwrap_or_else(|_| at.to_string()),
        Err(_) => at.to_string(),
    }
}

/// The usage month of `at`: `2026-11`.
pub fn month(at: Timestamp) -> String {
    match OffsetDateTime::from_unix_timestamp(at) {
        Ok(time) => format!("{:04}-{:02}", time.year(), u8::from(time.month())),
        Err(_) => "0000-00".to_owned(),
    }
}

/// Hours of heavy traffic, `start..end` in UTC, during which scheduled changes are warned about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeakHours {
    pub start: u8,
    pub end: u8,
}

impl Default for PeakHours {
    /// 08:00 to 20:00 UTC; the quiet window suggested instead is 02:00 to 05:00.
    fn default() -> PeakHours {
        PeakHours { start: 8, end: 20 }
    }
}

impl PeakHours {
    /// Parses `8-20`.
    pub fn parse(text: &str) -> Result<PeakHours, String> {
        let bad = || format!("`{text}`: peak hours are two UTC hours like 8-20");
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        let start: u8 = start.trim().parse().map_err(|_| bad())?;
        let end: u8 = end.trim().parse().map_err(|_| bad())?;
        if start > 23 || end > 24 || start == end {
            return Err(bad());
        }
        Ok(PeakHours { start, end })
    }

    /// Whether `at` falls inside the peak hours (a range may wrap past midnight).
    pub fn contains(&self, at: Timestamp) -> bool {
        let hour = OffsetDateTime::from_unix_timestamp(at).map(|t| t.hour()).unwrap_or(0);
        if self.start < self.end {
            (self.start..self.end).contains(&hour)
        } else {
            hour >= self.start || hour < self.end
        }
    }

    /// The warning for a change scheduled at `at`, if it falls in peak hours.
    pub fn warning(&self, at: Timestamp) -> Option<String> {
        self.contains(at).then(|| {
            format!(
                "{} is inside the peak hours ({:02}:00-{:02}:00 UTC); quiet hours such as 02:00-05:00 UTC are safer",
                format(at),
                self.start,
                self.end
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = 1_795_000_000; // 2026-11-18 11:06:40 UTC

    #[test]
    fn times_parse_in_every_documented_form() {
        let cases = [
            ("2026-11-25T02:00:00Z", Ok("2026-11-25 02:00:00 UTC")),
            ("2026-11-25T03:00:00+01:00", Ok("2026-11-25 02:00:00 UTC")),
            ("2026-11-25 02:00", Ok("2026-11-25 02:00:00 UTC")),
            ("2026-11-25 02:00:30", Ok("2026-11-25 02:00:30 UTC")),
            ("2026-11-25", Ok("2026-11-25 00:00:00 UTC")),
            ("+15m", Ok("2026-11-18 11:21:40 UTC")),
            ("+2d", Ok("2026-11-20 11:06:40 UTC")),
            ("+5y", Err("`+5y`: the unit of a delay is s, m, h or d")),
            (
                "tomorrow",
                Err(
                    "`tomorrow` is not a time: use 2026-11-25T02:00:00Z, \"2026-11-25 02:00\" (UTC), 2026-11-25, or a delay like +15m",
                ),
            ),
        ];
        for (text, expect) in cases {
            let got = parse(text, NOW).map(format);
            assert_eq!(got.as_deref().map_err(String::as_str), expect, "{text}");
        }
        assert_eq!(month(NOW), "2026-11");
    }

    #[test]
    fn peak_hours_warn_inside_and_wrap_past_midnight() {
        let day = PeakHours::default();
        let at = |hour: i64| parse("2026-11-25", NOW).unwrap() + hour * 3600;
        assert!(day.contains(at(8)) && day.contains(at(19)));
        assert!(!day.contains(at(20)) && !day.contains(at(3)));
        assert!(day.warning(at(12)).unwrap().contains("02:00-05:00"));
        let night = PeakHours::parse("22-6").unwrap();
        assert!(night.contains(at(23)) && night.contains(at(2)) && !night.contains(at(12)));
        assert!(PeakHours::parse("9").is_err() && PeakHours::parse("25-3").is_err());
    }
}
