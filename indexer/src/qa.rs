//! Reads Q&A knowledge files: `*.toml` (`[[qa]]` tables), `*.csv` (a header
//! row naming the columns) and `*.json` (an array of objects, or `{"qa": [...]}`).
//!
//! Each format is parsed into [`RawPair`]s that remember where each value
//! was, then one set of rules turns them into [`QaPair`]s: an entry without
//! its question or answer is left out with a warning, a bad optional value
//! (an empty `also` phrasing, a url that is not `http(s)`, an unknown key or
//! column) is dropped with a warning. Only a file that cannot be parsed at
//! all is an error.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::report::Notes;
use crate::util::{Anchors, Repeat, check_url, collapse_whitespace, line_of};
use crate::{Error, Result};

/// One curated question and its answer, ready for indexing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QaPair {
    /// `relpath#slug-of-question`.
    pub(crate) source: String,
    pub(crate) question: String,
    /// Other phrasings of the question.
    pub(crate) also: Vec<String>,
    pub(crate) answer: String,
    pub(crate) url: Option<String>,
}

/// The syntax of a Q&A file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QaFormat {
    Toml,
    Csv,
    Json,
}

/// The keys (TOML, JSON) or columns (CSV) a Q&A entry may have.
const KEYS: &str = "`question`, `also`, `answer`, `url`";

/// Separates the other phrasings in a CSV `also` cell.
const CSV_ALSO_SEPARATOR: char = '|';

/// Parses `text`, the content of the Q&A file `relpath`, noting dropped values in `notes`.
pub(crate) fn read(format: QaFormat, relpath: &str, text: &str, notes: &mut Notes<'_>) -> Result<Vec<QaPair>> {
    let (raws, noun) = match format {
        QaFormat::Toml => (parse_toml(relpath, text, notes)?, "field"),
        QaFormat::Csv => (parse_csv(relpath, text, notes)?, "column"),
        QaFormat::Json => (parse_json(relpath, text, notes)?, "field"),
    };
    let pairs = finish(relpath, raws, noun, notes);
    notes.sort_by_line();
    Ok(pairs)
}

/// Whether a load-report warning says an entry was left out for a missing or empty answer.
pub(crate) fn lacks_answer(message: &str) -> bool {
    message.contains(" left out: ")
        && (message.ends_with(" `answer` is empty")
            || message.ends_with(" `answer`") && message.contains(" left out: missing "))
}

/// A value and the line it is on.
#[derive(Debug, Clone)]
struct Located {
    text: String,
    line: Option<usize>,
}

/// One entry as written, before the rules are applied.
#[derive(Debug, Default)]
struct RawPair {
    /// `entry 3`, `row 3`: how warnings name the entry.
    label: String,
    line: Option<usize>,
    question: Option<Located>,
    answer: Option<Located>,
    also: Vec<Located>,
    url: Option<Located>,
    /// A required value had the wrong type (already warned about).
    broken: bool,
}

/// Applies the rules shared by every format and hands out unique sources.
fn finish(relpath: &str, raws: Vec<RawPair>, noun: &str, notes: &mut Notes<'_>) -> Vec<QaPair> {
    let mut anchors = Anchors::new(Repeat::FromTwo);
    let mut pairs = Vec::with_capacity(raws.len());
    for raw in raws {
        if raw.broken {
            continue;
        }
        let label = &raw.label;
        let mut required = |value: Option<Located>, name: &str, clean: fn(&str) -> String| match value {
            None => {
                notes.warn(raw.line, format!("{label} left out: missing {noun} `{name}`"));
                None
            }
            Some(value) => {
                let text = clean(&value.text);
                if text.is_empty() {
                    notes.warn(value.line.or(raw.line), format!("{label} left out: {noun} `{name}` is empty"));
                    return None;
                }
                Some(text)
            }
        };
        let question = required(raw.question, "question", collapse_whitespace);
        let answer = required(raw.answer, "answer", |text| text.trim().to_owned());
        let (Some(question), Some(answer)) = (question, answer) else {
            continue;
        };
        let mut also = Vec::with_capacity(raw.also.len());
        for phrasing in raw.also {
            let text = collapse_whitespace(&phrasing.text);
            if text.is_empty() {
                notes.warn(phrasing.line.or(raw.line), format!("{label}: empty phrasing in {noun} `also` left out"));
            } else {
                also.push(text);
            }
        }
        let url = raw.url.and_then(|url| match check_url(&url.text) {
            Ok(url) => Some(url),
            Err(reason) => {
                notes.warn(url.line.or(raw.line), format!("{label}: {reason}; left out"));
                None
            }
        });
        let anchor = anchors.unique_slug(&question);
        pairs.push(QaPair { source: format!("{relpath}#{anchor}"), question, also, answer, url });
    }
    pairs
}

/// `[[qa]]` tables, read with spans so every warning has its line.
fn parse_toml(relpath: &str, text: &str, notes: &mut Notes<'_>) -> Result<Vec<RawPair>> {
    let line = |span: std::ops::Range<usize>| Some(line_of(text, span.start));
    let doc = DeTable::parse(text)
        .map_err(|err| Error::invalid(relpath, err.span().and_then(line), err.message().trim().to_owned()))?;
    let mut raws = Vec::new();
    for (key, value) in doc.get_ref() {
        if key.get_ref() != "qa" {
            notes
                .warn(line(key.span()), format!("unknown key `{}` (expected `[[qa]]` tables); ignored", key.get_ref()));
            continue;
        }
        let Some(entries) = value.get_ref().as_array() else {
            return Err(Error::invalid(relpath, line(value.span()), "`qa` must be an array of tables (`[[qa]]`)"));
        };
        for (index, entry) in entries.iter().enumerate() {
            let mut raw =
                RawPair { label: format!("entry {}", index + 1), line: line(entry.span()), ..RawPair::default() };
            let Some(table) = entry.get_ref().as_table() else {
                notes.warn(raw.line, format!("{} left out: not a table", raw.label));
                continue;
            };
            for (key, value) in table {
                let at = line(value.span());
                let string = |value: &Spanned<DeValue<'_>>| {
                    value.get_ref().as_str().map(|text| Located { text: text.to_owned(), line: line(value.span()) })
                };
                match key.get_ref().as_ref() {
                    "also" => match value.get_ref() {
                        DeValue::String(text) => raw.also.push(Located { text: text.to_string(), line: at }),
                        DeValue::Array(items) => {
                            for item in items.iter() {
                                match string(item) {
                                    Some(phrasing) => raw.also.push(phrasing),
                                    None => notes.warn(
                                        line(item.span()),
                                        format!("{}: field `also` holds a non-string; left out", raw.label),
                                    ),
                                }
                            }
                        }
                        _ => notes.warn(at, format!("{}: field `also` must be a list of strings; left out", raw.label)),
                    },
                    name @ ("question" | "answer" | "url") => {
                        let Some(found) = string(value) else {
                            let what = value.get_ref().type_str();
                            if name == "url" {
                                notes.warn(
                                    at,
                                    format!("{}: field `url` must be a string, not {what}; left out", raw.label),
                                );
                            } else {
                                notes.warn(
                                    at,
                                    format!("{} left out: field `{name}` must be a string, not {what}", raw.label),
                                );
                                raw.broken = true;
                            }
                            continue;
                        };
                        *raw.slot(name) = Some(found);
                    }
                    other => notes.warn(
                        line(key.span()),
                        format!("{}: unknown field `{other}` (expected one of {KEYS}); ignored", raw.label),
                    ),
                }
            }
            raws.push(raw);
        }
    }
    Ok(raws)
}

impl RawPair {
    /// The slot of a single-valued key: `question`, `answer` or `url`.
    fn slot(&mut self, name: &str) -> &mut Option<Located> {
        match name {
            "question" => &mut self.question,
            "answer" => &mut self.answer,
            _ => &mut self.url,
        }
    }
}

/// What a CSV column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Question,
    Answer,
    Also,
    Url,
    Ignored,
}

/// A header row naming the columns, then one pair per row.
fn parse_csv(relpath: &str, text: &str, notes: &mut Notes<'_>) -> Result<Vec<RawPair>> {
    let csv_error = |err: csv::Error| {
        let line = err.position().map(|at| usize::try_from(at.line()).unwrap_or(usize::MAX));
        let reason = match err.kind() {
            csv::ErrorKind::Utf8 { err, .. } => format!("not valid UTF-8 in field {}", err.field() + 1),
            _ => err.to_string(),
        };
        Error::invalid(relpath, line, reason)
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header_line = Some(reader.position().line().try_into().unwrap_or(1).max(1));
    let headers = reader.headers().map_err(csv_error)?.clone();
    let mut columns = Vec::with_capacity(headers.len());
    for name in &headers {
        let key = name.trim().to_lowercase();
        let column = match key.as_str() {
            "question" => Column::Question,
            "answer" => Column::Answer,
            "also" => Column::Also,
            "url" => Column::Url,
            _ => {
                notes.warn(header_line, format!("unknown column `{}` (expected {KEYS}); ignored", name.trim()));
                Column::Ignored
            }
        };
        if column != Column::Ignored && columns.contains(&column) {
            notes.warn(header_line, format!("column `{key}` appears twice; the second one is ignored"));
            columns.push(Column::Ignored);
        } else {
            columns.push(column);
        }
    }
    for (required, name) in [(Column::Question, "question"), (Column::Answer, "answer")] {
        if !columns.contains(&required) {
            return Err(Error::invalid(
                relpath,
                header_line,
                format!("the header row has no `{name}` column (it names the columns: {KEYS})"),
            ));
        }
    }
    let mut raws = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let label = format!("row {}", index + 1);
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let failure = csv_error(err);
                let (line, reason) = match &failure {
                    Error::Invalid { line, reason, .. } => (*line, reason.clone()),
                    other => (None, other.to_string()),
                };
                notes.warn(line, format!("{label} left out: {reason}"));
                continue;
            }
        };
        let line = record.position().map(|at| usize::try_from(at.line()).unwrap_or(usize::MAX));
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if record.len() > columns.len() {
            notes.warn(
                line,
                format!(
                    "{label} has {} cells but the header names {} columns; extra cells ignored",
                    record.len(),
                    columns.len()
                ),
            );
        }
        let mut raw = RawPair { label, line, ..RawPair::default() };
        for (column, cell) in columns.iter().zip(record.iter()) {
            let located = |text: &str| Located { text: text.to_owned(), line };
            match column {
                Column::Question => raw.question = Some(located(cell)),
                Column::Answer => raw.answer = Some(located(cell)),
                Column::Url if !cell.trim().is_empty() => raw.url = Some(located(cell)),
                Column::Also if !cell.trim().is_empty() => {
                    raw.also.extend(cell.split(CSV_ALSO_SEPARATOR).map(located));
                }
                _ => {}
            }
        }
        raws.push(raw);
    }
    Ok(raws)
}

/// An array of objects, or an object whose `qa` key holds that array.
fn parse_json(relpath: &str, text: &str, notes: &mut Notes<'_>) -> Result<Vec<RawPair>> {
    let json_error = |err: serde_json::Error| {
        let message = err.to_string();
        let suffix = format!(" at line {} column {}", err.line(), err.column());
        let reason = message.strip_suffix(&suffix).unwrap_or(&message);
        Error::invalid(relpath, Some(err.line()).filter(|&line| line > 0), format!("column {}: {reason}", err.column()))
    };
    // Raw values borrow from `text`, so where each starts gives its line.
    let line = |raw: &RawValue| {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        Some(line_of(text, offset))
    };
    let top: &RawValue = serde_json::from_str(text).map_err(json_error)?;
    let entries: Vec<&RawValue> = if top.get().starts_with('{') {
        let object: BTreeMap<String, &RawValue> = serde_json::from_str(top.get()).map_err(json_error)?;
        let mut entries = None;
        for (key, value) in object {
            if key == "qa" {
                entries = Some(value);
            } else {
                notes.warn(line(value), format!("unknown key `{key}` (expected `qa`); ignored"));
            }
        }
        let Some(entries) = entries else {
            return Err(Error::invalid(
                relpath,
                Some(1),
                "expected an array of Q&A objects, or an object with a `qa` array",
            ));
        };
        serde_json::from_str(entries.get())
            .map_err(|_| Error::invalid(relpath, line(entries), "`qa` must be an array of objects"))?
    } else {
        serde_json::from_str(top.get()).map_err(|_| {
            Error::invalid(relpath, Some(1), "expected an array of Q&A objects, or an object with a `qa` array")
        })?
    };
    let mut raws = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let mut raw = RawPair { label: format!("entry {}", index + 1), line: line(entry), ..RawPair::default() };
        let Ok(object) = serde_json::from_str::<BTreeMap<String, &RawValue>>(entry.get()) else {
            notes.warn(raw.line, format!("{} left out: not an object", raw.label));
            continue;
        };
        for (key, value) in object {
            let at = line(value);
            let located = |text: String| Located { text, line: at };
            match key.as_str() {
                "also" => {
                    if let Ok(text) = serde_json::from_str::<String>(value.get()) {
                        raw.also.push(located(text));
                    } else if let Ok(list) = serde_json::from_str::<Vec<String>>(value.get()) {
                        raw.also.extend(list.into_iter().map(located));
                    } else if value.get() != "null" {
                        notes.warn(at, format!("{}: field `also` must be a list of strings; left out", raw.label));
                    }
                }
                name @ ("question" | "answer" | "url") => match serde_json::from_str::<Option<String>>(value.get()) {
                    Ok(Some(text)) => *raw.slot(name) = Some(located(text)),
                    Ok(None) => {}
                    Err(_) if name == "url" => {
                        notes.warn(at, format!("{}: field `url` must be a string; left out", raw.label));
                    }
                    Err(_) => {
                        notes.warn(at, format!("{} left out: field `{name}` must be a string", raw.label));
                        raw.broken = true;
                    }
                },
                other => {
                    notes.warn(at, format!("{}: unknown field `{other}` (expected one of {KEYS}); ignored", raw.label))
                }
            }
        }
        raws.push(raw);
    }
    Ok(raws)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Warning;

    /// What reading a file gave: `(source, also, url)` of each pair, and the warnings as text.
    type Outcome = (Vec<(String, Vec<String>, Option<String>)>, Vec<String>);

    fn outcome(format: QaFormat, relpath: &str, text: &str) -> std::result::Result<Outcome, String> {
        let mut warnings: Vec<Warning> = Vec::new();
        let pairs = read(format, relpath, text, &mut Notes::new(relpath, &mut warnings)).map_err(|e| e.to_string())?;
        let pairs = pairs.into_iter().map(|p| (p.source, p.also, p.url)).collect();
        Ok((pairs, warnings.iter().map(Warning::to_string).collect()))
    }

    /// Reads `text` and compares the pairs' `(source, also, url)` and the warnings.
    fn check(format: QaFormat, relpath: &str, text: &str, pairs: &[(&str, &[&str], Option<&str>)], warnings: &[&str]) {
        let got = outcome(format, relpath, text).unwrap_or_else(|e| panic!("{e}"));
        let want: Vec<_> = pairs
            .iter()
            .map(|(s, a, u)| (s.to_string(), a.iter().map(|x| x.to_string()).collect(), u.map(str::to_owned)))
            .collect();
        assert_eq!(got.0, want, "pairs of {text:?}");
        assert_eq!(got.1, warnings, "warnings of {text:?}");
    }

    fn check_error(format: QaFormat, relpath: &str, text: &str, message: &str) {
        match outcome(format, relpath, text) {
            Ok(got) => panic!("expected an error, got {got:?}"),
            Err(e) => assert_eq!(e, message),
        }
    }

    const SHIP: &str = "http://localhost:8081/support.html#shipping";

    #[test]
    fn toml_pairs_get_unique_sources() {
        check(
            QaFormat::Toml,
            "help/faq.toml",
            r#"
[[qa]]
question = "How long does delivery take?"
also = ["shipping  time"]
answer = "2-5 business days."
url = "http://localhost:8081/support.html#shipping"

[[qa]]
question = "How long does delivery take"
answer = "Still 2-5 days."
"#,
            &[
                ("help/faq.toml#how-long-does-delivery-take", &["shipping time"], Some(SHIP)),
                ("help/faq.toml#how-long-does-delivery-take-2", &[], None),
            ],
            &[],
        );
        check(QaFormat::Toml, "empty.toml", "", &[], &[]);
    }

    #[test]
    fn toml_bad_values_are_dropped_with_warnings() {
        check(
            QaFormat::Toml,
            "faq.toml",
            "[[qa]]\nquestion = \"Q?\"\nanswer = \"A\"\n\n[[qa]]\nquestion = \"Where?\"\n",
            &[("faq.toml#q", &[], None)],
            &["faq.toml:5: entry 2 left out: missing field `answer`"],
        );
        check(
            QaFormat::Toml,
            "faq.toml",
            "title = \"FAQ\"\n[[qa]]\nquestion = \"Q?\"\nanswer = \"A\"\nanser = \"typo\"\nalso = [\"\", \"q\", 3]\nurl = \"file:///home/x.html\"\n",
            &[("faq.toml#q", &["q"], None)],
            &[
                "faq.toml:1: unknown key `title` (expected `[[qa]]` tables); ignored",
                "faq.toml:5: entry 1: unknown field `anser` (expected one of `question`, `also`, `answer`, `url`); ignored",
                "faq.toml:6: entry 1: field `also` holds a non-string; left out",
                "faq.toml:6: entry 1: empty phrasing in field `also` left out",
                "faq.toml:7: entry 1: url `file:///home/x.html` must be an absolute http:// or https:// address; left out",
            ],
        );
        check(
            QaFormat::Toml,
            "faq.toml",
            "[[qa]]\nquestion = \"\"\nanswer = \"A\"\n[[qa]]\nquestion = \"Q\"\nanswer = \"  \"\n[[qa]]\nquestion = 5\nanswer = \"A\"\n[[qa]]\nquestion = \"Ok\"\nanswer = \"A\"\nalso = \"one\"\nurl = 3\n",
            &[("faq.toml#ok", &["one"], None)],
            &[
                "faq.toml:2: entry 1 left out: field `question` is empty",
                "faq.toml:6: entry 2 left out: field `answer` is empty",
                "faq.toml:8: entry 3 left out: field `question` must be a string, not integer",
                "faq.toml:14: entry 4: field `url` must be a string, not integer; left out",
            ],
        );
    }

    #[test]
    fn toml_syntax_errors_fail_the_file() {
        check_error(
            QaFormat::Toml,
            "faq.toml",
            "[[qa]]\nquestion = \"Q?\"\nanswer = \"unterminated\n",
            "cannot read knowledge file faq.toml: line 3: invalid basic string, expected `\"`",
        );
        check_error(
            QaFormat::Toml,
            "faq.toml",
            "[qa]\nquestion = \"Q?\"\n",
            "cannot read knowledge file faq.toml: line 1: `qa` must be an array of tables (`[[qa]]`)",
        );
    }

    #[test]
    fn csv_rows_become_pairs() {
        check(
            QaFormat::Csv,
            "faq.csv",
            "Question,Answer,also,url\n\"How long does delivery take?\",\"2-5 days,\nusually.\",shipping time| when will it arrive |,http://localhost:8081/support.html#shipping\nGift cards?,Yes.,,\n\n",
            &[
                ("faq.csv#how-long-does-delivery-take", &["shipping time", "when will it arrive"], Some(SHIP)),
                ("faq.csv#gift-cards", &[], None),
            ],
            &["faq.csv:2: row 1: empty phrasing in column `also` left out"],
        );
        check(
            QaFormat::Csv,
            "faq.csv",
            "question,answer,notes\nQ1,,x\nQ2,A2,y,extra\n,A3\nQ4,A4\n",
            &[("faq.csv#q2", &[], None), ("faq.csv#q4", &[], None)],
            &[
                "faq.csv:1: unknown column `notes` (expected `question`, `also`, `answer`, `url`); ignored",
                "faq.csv:2: row 1 left out: column `answer` is empty",
                "faq.csv:3: row 2 has 4 cells but the header names 3 columns; extra cells ignored",
                "faq.csv:4: row 3 left out: column `question` is empty",
            ],
        );
        check(
            QaFormat::Csv,
            "faq.csv",
            "question,answer,url\nQ,A,javascript:alert(1)\nR\n",
            &[("faq.csv#q", &[], None)],
            &[
                "faq.csv:2: row 1: url `javascript:alert(1)` must be an absolute http:// or https:// address; left out",
                "faq.csv:3: row 2 left out: missing column `answer`",
            ],
        );
    }

    #[test]
    fn csv_without_required_columns_fails() {
        check_error(
            QaFormat::Csv,
            "faq.csv",
            "q,answer\nQ,A\n",
            "cannot read knowledge file faq.csv: line 1: the header row has no `question` column (it names the columns: `question`, `also`, `answer`, `url`)",
        );
        check_error(
            QaFormat::Csv,
            "faq.csv",
            "",
            "cannot read knowledge file faq.csv: line 1: the header row has no `question` column (it names the columns: `question`, `also`, `answer`, `url`)",
        );
    }

    #[test]
    fn json_arrays_and_qa_objects_become_pairs() {
        let array = r#"[
  {"question": "How long does delivery take?", "also": ["shipping time"], "answer": "2-5 days.",
   "url": "http://localhost:8081/support.html#shipping"},
  {"question": "Gift cards?", "answer": "Yes.", "also": "vouchers", "url": null}
]"#;
        check(
            QaFormat::Json,
            "faq.json",
            array,
            &[
                ("faq.json#how-long-does-delivery-take", &["shipping time"], Some(SHIP)),
                ("faq.json#gift-cards", &["vouchers"], None),
            ],
            &[],
        );
        check(
            QaFormat::Json,
            "faq.json",
            "{\"version\": 2,\n \"qa\": [\n  {\"question\": \"Q\", \"answer\": \"A\", \"anser\": 1},\n  {\"question\": \"R\"},\n  \"S\",\n  {\"question\": [1], \"answer\": \"A\"},\n  {\"question\": \"T\", \"answer\": \"A\", \"also\": [1], \"url\": \"ftp://x.example/\"}\n]}",
            &[("faq.json#q", &[], None), ("faq.json#t", &[], None)],
            &[
                "faq.json:1: unknown key `version` (expected `qa`); ignored",
                "faq.json:3: entry 1: unknown field `anser` (expected one of `question`, `also`, `answer`, `url`); ignored",
                "faq.json:4: entry 2 left out: missing field `answer`",
                "faq.json:5: entry 3 left out: not an object",
                "faq.json:6: entry 4 left out: field `question` must be a string",
                "faq.json:7: entry 5: field `also` must be a list of strings; left out",
                "faq.json:7: entry 5: url `ftp://x.example/` must be an absolute http:// or https:// address; left out",
            ],
        );
    }

    #[test]
    fn unreadable_json_fails_with_line_and_column() {
        check_error(
            QaFormat::Json,
            "faq.json",
            "[\n  {\"question\": \"Q\",}\n]",
            "cannot read knowledge file faq.json: line 2: column 20: key must be a string",
        );
        check_error(
            QaFormat::Json,
            "faq.json",
            "{\"name\": \"package\"}",
            "cannot read knowledge file faq.json: line 1: expected an array of Q&A objects, or an object with a `qa` array",
        );
        check_error(
            QaFormat::Json,
            "faq.json",
            "\"just a string\"",
            "cannot read knowledge file faq.json: line 1: expected an array of Q&A objects, or an object with a `qa` array",
        );
    }
}
