//! Reads a Q&A knowledge file (`*.toml` with `[[qa]]` tables).

use serde::Deserialize;
use toml::Spanned;

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QaFile {
    #[serde(default)]
    qa: Vec<Spanned<QaEntry>>,
}

/// A `[[qa]]` table. Required fields are optional here so that a missing
/// one is reported at its table's line rather than the file's first line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QaEntry {
    question: Option<Spanned<String>>,
    #[serde(default)]
    also: Vec<Spanned<String>>,
    answer: Option<Spanned<String>>,
    #[serde(default)]
    url: Option<Spanned<String>>,
}

/// Parses `text`, the content of the Q&A file `relpath`.
pub(crate) fn read(relpath: &str, text: &str) -> Result<Vec<QaPair>> {
    let file: QaFile = toml::from_str(text).map_err(|err| {
        let line = err.span().map(|span| line_of(text, span.start));
        Error::invalid(relpath, line, err.message().trim().to_owned())
    })?;
    let line = |spanned_start: usize| Some(line_of(text, spanned_start));
    let mut anchors = Anchors::new(Repeat::FromTwo);
    let mut pairs = Vec::with_capacity(file.qa.len());
    for spanned in file.qa {
        let table_line = line(spanned.span().start);
        let entry = spanned.into_inner();
        let required = |field: Option<Spanned<String>>, name: &str| {
            field.ok_or_else(|| Error::invalid(relpath, table_line, format!("missing field `{name}`")))
        };
        let question_field = required(entry.question, "question")?;
        let answer_field = required(entry.answer, "answer")?;
        let question = collapse_whitespace(question_field.get_ref());
        if question.is_empty() {
            return Err(Error::invalid(relpath, line(question_field.span().start), "field `question` is empty"));
        }
        let answer = answer_field.get_ref().trim().to_owned();
        if answer.is_empty() {
            return Err(Error::invalid(relpath, line(answer_field.span().start), "field `answer` is empty"));
        }
        let mut also = Vec::with_capacity(entry.also.len());
        for phrasing in &entry.also {
            let text = collapse_whitespace(phrasing.get_ref());
            if text.is_empty() {
                return Err(Error::invalid(relpath, line(phrasing.span().start), "field `also` has an empty phrasing"));
            }
            also.push(text);
        }
        let url = match &entry.url {
            Some(url) => Some(
                check_url(url.get_ref()).map_err(|reason| Error::invalid(relpath, line(url.span().start), reason))?,
            ),
            None => None,
        };
        let anchor = anchors.unique_slug(&question);
        pairs.push(QaPair { source: format!("{relpath}#{anchor}"), question, also, answer, url });
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_error(toml: &str, message: &str) {
        match read("faq.toml", toml) {
            Ok(pairs) => panic!("expected an error, got {pairs:?}"),
            Err(e) => assert_eq!(e.to_string(), message),
        }
    }

    #[test]
    fn pairs_get_unique_sources() {
        let pairs = read(
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
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<_> = pairs.iter().map(|p| (p.source.as_str(), p.also.clone(), p.url.as_deref())).collect();
        assert_eq!(
            got,
            [
                (
                    "help/faq.toml#how-long-does-delivery-take",
                    vec!["shipping time".to_owned()],
                    Some("http://localhost:8081/support.html#shipping"),
                ),
                ("help/faq.toml#how-long-does-delivery-take-2", vec![], None),
            ]
        );
        assert_eq!(read("empty.toml", "").map(|p| p.len()).ok(), Some(0));
    }

    #[test]
    fn parse_errors_name_file_and_line() {
        check_error(
            "[[qa]]\nquestion = \"Q?\"\nanswer = \"A\"\n\n[[qa]]\nquestion = \"Where?\"\n",
            "cannot read knowledge file faq.toml: line 5: missing field `answer`",
        );
        check_error(
            "[[qa]]\nanswer = \"A\"\n",
            "cannot read knowledge file faq.toml: line 1: missing field `question`",
        );
        check_error(
            "[qa]\nquestion = \"Q?\"\n",
            "cannot read knowledge file faq.toml: line 1: invalid type: map, expected a sequence",
        );
        check_error(
            "[[qa]]\nquestion = \"Q?\"\nanswer = \"A\"\nanser = \"typo\"\n",
            "cannot read knowledge file faq.toml: line 4: unknown field `anser`, expected one of `question`, `also`, `answer`, `url`",
        );
        check_error(
            "[[qa]]\nquestion = \"Q?\"\nanswer = \"unterminated\n",
            "cannot read knowledge file faq.toml: line 3: invalid basic string, expected `\"`",
        );
        check_error(
            "[[qa]]\nquestion = \"Q?\"\nanswer = \"  \"\n",
            "cannot read knowledge file faq.toml: line 3: field `answer` is empty",
        );
        check_error(
            "[[qa]]\nquestion = \"\"\nanswer = \"A\"\n",
            "cannot read knowledge file faq.toml: line 2: field `question` is empty",
        );
        check_error(
            "[[qa]]\nquestion = \"Q?\"\nanswer = \"A\"\nurl = \"javascript:alert(1)\"\n",
            "cannot read knowledge file faq.toml: line 4: url `javascript:alert(1)` must be an absolute http:// or https:// address",
        );
    }
}
