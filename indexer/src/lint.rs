//! Checks a knowledge folder for what makes answers worse: near-duplicate and
//! conflicting Q&A pairs, empty answers, and sections too long to be a good answer.

use std::path::Path;

use serde::Serialize;

use crate::embed::{Embedder, cosine};
use crate::knowledge::{Knowledge, read_folder};
use crate::report::Warning;
use crate::{Result, qa};

/// Two Q&A questions whose best-matching phrasings have at least this
/// cosine similarity ask the same thing.
pub const DUPLICATE_COSINE: f32 = 0.90;

/// The answers of two near-duplicate questions conflict below this cosine similarity.
pub const CONFLICT_COSINE: f32 = 0.80;

/// Longest section, in characters of its text, that still makes a good
/// answer: about two passages; a visitor shown a passage of a longer one
/// misses the rest.
pub const MAX_SECTION_CHARS: usize = 1_500;

/// What [`lint`] found in a knowledge folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LintReport {
    /// The embedding model that compared questions and answers (`name@digest`);
    /// `None` when none was given, and they were compared as normalized text
    /// (lowercase words, punctuation dropped) instead.
    pub model: Option<String>,
    /// Q&A pairs read.
    pub qa_pairs: usize,
    /// Document sections with text.
    pub sections: usize,
    /// Pairs that ask the same thing and answer it alike: one is enough.
    pub duplicates: Vec<SimilarQas>,
    /// Pairs that ask the same thing but answer it differently: which is right?
    pub conflicts: Vec<SimilarQas>,
    /// Pairs left out of the knowledge for a missing or empty answer (the
    /// load report's warnings), and pairs whose answer has no words.
    pub empty_answers: Vec<Warning>,
    /// Sections longer than [`MAX_SECTION_CHARS`].
    pub long_sections: Vec<LongSection>,
}

impl LintReport {
    /// How many problems were found.
    pub fn findings(&self) -> usize {
        self.duplicates.len() + self.conflicts.len() + self.empty_answers.len() + self.long_sections.len()
    }
}

/// Two Q&A pairs whose questions are near-duplicates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimilarQas {
    /// `faq.toml#slug` of the pair read first.
    pub first: String,
    pub second: String,
    /// The two phrasings (question or `also`) that are most alike, in that order.
    pub phrasings: [String; 2],
    /// Cosine similarity of those phrasings; 1 for identical normalized text without a model.
    pub similarity: f32,
    /// Cosine similarity of the two answers; `None` without a model, where
    /// answers conflict when their normalized texts differ.
    pub answer_similarity: Option<f32>,
}

/// A section over [`MAX_SECTION_CHARS`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongSection {
    /// `path#anchor` (just `path` for text before the first heading).
    pub source: String,
    pub title: String,
    /// Characters of the section's text (of its passages, without what joins them).
    pub chars: usize,
    /// Passages it is cut into.
    pub passages: usize,
}

/// Reads the knowledge folder as [`crate::KnowledgeBase::build`] does and
/// checks it. With an `embedder`, questions (with their `also` phrasings) and
/// answers are compared by cosine similarity ([`DUPLICATE_COSINE`],
/// [`CONFLICT_COSINE`]); without one, by normalized text.
///
/// Fails only when the folder cannot be listed or the model fails.
pub fn lint(knowledge_dir: &Path, embedder: Option<&Embedder>) -> Result<LintReport> {
    let knowledge = read_folder(knowledge_dir)?;
    let (duplicates, conflicts) = similar_qas(&knowledge, embedder)?;
    let (sections, long_sections) = long_sections(&knowledge);
    Ok(LintReport {
        model: embedder.map(|embedder| embedder.id().to_owned()),
        qa_pairs: knowledge.qa.len(),
        sections,
        duplicates,
        conflicts,
        empty_answers: empty_answers(&knowledge),
        long_sections,
    })
}

/// Lowercase words joined by single spaces: text compared without case, spacing or punctuation.
fn normalize(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Near-duplicate pairs, split into duplicates and conflicts.
fn similar_qas(knowledge: &Knowledge, embedder: Option<&Embedder>) -> Result<(Vec<SimilarQas>, Vec<SimilarQas>)> {
    let phrasings: Vec<Vec<&str>> = knowledge
        .qa
        .iter()
        .map(|pair| std::iter::once(pair.question.as_str()).chain(pair.also.iter().map(String::as_str)).collect())
        .collect();
    // Per pair: its phrasings' and its answer's vectors (with a model) or normalized texts.
    let (phrasing_keys, answer_keys) = match embedder {
        Some(embedder) => {
            let flat: Vec<&str> = phrasings.iter().flatten().copied().collect();
            let mut vectors = embedder.embed_batch(&flat)?.into_iter();
            let phrasing_keys: Vec<Vec<Key>> =
                phrasings.iter().map(|texts| vectors.by_ref().take(texts.len()).map(Key::Vector).collect()).collect();
            let answers: Vec<&str> = knowledge.qa.iter().map(|pair| pair.answer.as_str()).collect();
            let answer_keys = embedder.embed_batch(&answers)?.into_iter().map(Key::Vector).collect();
            (phrasing_keys, answer_keys)
        }
        None => (
            phrasings.iter().map(|texts| texts.iter().map(|text| Key::Text(normalize(text))).collect()).collect(),
            knowledge.qa.iter().map(|pair| Key::Text(normalize(&pair.answer))).collect::<Vec<_>>(),
        ),
    };
    let mut duplicates = Vec::new();
    let mut conflicts = Vec::new();
    for (i, first) in knowledge.qa.iter().enumerate() {
        for (j, second) in knowledge.qa.iter().enumerate().skip(i + 1) {
            let mut best: Option<(f32, usize, usize)> = None;
            for (a, key_a) in phrasing_keys[i].iter().enumerate() {
                for (b, key_b) in phrasing_keys[j].iter().enumerate() {
                    let similarity = key_a.similarity(key_b);
                    if best.is_none_or(|(most, _, _)| similarity > most) {
                        best = Some((similarity, a, b));
                    }
                }
            }
            let Some((similarity, a, b)) = best.filter(|(similarity, _, _)| *similarity >= DUPLICATE_COSINE) else {
                continue;
            };
            let answers = answer_keys[i].similarity(&answer_keys[j]);
            let found = SimilarQas {
                first: first.source.clone(),
                second: second.source.clone(),
                phrasings: [phrasings[i][a].to_owned(), phrasings[j][b].to_owned()],
                similarity,
                answer_similarity: embedder.map(|_| answers),
            };
            if answers < CONFLICT_COSINE { conflicts.push(found) } else { duplicates.push(found) }
        }
    }
    Ok((duplicates, conflicts))
}

/// What a text is compared by.
enum Key {
    Vector(Vec<f32>),
    Text(String),
}

impl Key {
    /// Cosine of two vectors; 1 or 0 for equal or different texts.
    fn similarity(&self, other: &Key) -> f32 {
        match (self, other) {
            (Key::Vector(a), Key::Vector(b)) => cosine(a, b),
            (Key::Text(a), Key::Text(b)) if a == b => 1.0,
            _ => 0.0,
        }
    }
}

/// Ingest's warnings about pairs left out without an answer, then pairs whose answer has no words.
fn empty_answers(knowledge: &Knowledge) -> Vec<Warning> {
    let left_out = knowledge.report.warnings.iter().filter(|warning| qa::lacks_answer(&warning.message)).cloned();
    let wordless = knowledge.qa.iter().filter(|pair| normalize(&pair.answer).is_empty()).map(|pair| {
        let file = pair.source.split_once('#').map_or(pair.source.as_str(), |(file, _)| file);
        Warning::new(file, None, format!("{}: the answer {:?} has no words", pair.source, pair.answer))
    });
    left_out.chain(wordless).collect()
}

/// How many sections have text, and those over [`MAX_SECTION_CHARS`]. A
/// section's passages are consecutive and share its source.
fn long_sections(knowledge: &Knowledge) -> (usize, Vec<LongSection>) {
    let sections: Vec<_> = knowledge.passages.chunk_by(|a, b| a.source == b.source).collect();
    let long = sections
        .iter()
        .filter_map(|passages| {
            let chars = passages.iter().map(|passage| passage.text.chars().count()).sum();
            (chars > MAX_SECTION_CHARS).then(|| LongSection {
                source: passages[0].source.clone(),
                title: passages[0].title.clone(),
                chars,
                passages: passages.len(),
            })
        })
        .collect();
    (sections.len(), long)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` (relative path, content) into a fresh folder and lints it without a model.
    fn lint_files(files: &[(&str, &str)]) -> LintReport {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for (path, content) in files {
            std::fs::write(dir.path().join(path), content).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        lint(dir.path(), None).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `first ~ second` of each pair.
    fn pairs(found: &[SimilarQas]) -> Vec<String> {
        found.iter().map(|qa| format!("{} ~ {}", qa.first, qa.second)).collect()
    }

    const FAQ: &str = r#"
[[qa]]
question = "How long does delivery take?"
also = ["shipping time"]
answer = "Three days."

[[qa]]
question = "Shipping time?"
answer = "three days"

[[qa]]
question = "how long does DELIVERY take"
answer = "A week."

[[qa]]
question = "Do you sell gift cards?"
answer = "  "

[[qa]]
question = "Can I pay by cheque?"
answer = "…"

[[qa]]
question = "Where are you?"
answer = "Lyon."
"#;

    #[test]
    fn lexical_lint_finds_each_kind() {
        let long = format!("# Guide\n\n## Everything\n\n{}\n\n## Short\n\nFine.\n", "Words here. ".repeat(150));
        let report = lint_files(&[("faq.toml", FAQ), ("guide.md", &long), ("more.csv", "question,answer\nWhy?,\n")]);
        assert_eq!(report.model, None);
        assert_eq!((report.qa_pairs, report.sections), (5, 2));
        assert_eq!(pairs(&report.duplicates), ["faq.toml#how-long-does-delivery-take ~ faq.toml#shipping-time"]);
        assert_eq!(report.duplicates[0].phrasings, ["shipping time", "Shipping time?"]);
        assert_eq!((report.duplicates[0].similarity, report.duplicates[0].answer_similarity), (1.0, None));
        assert_eq!(
            pairs(&report.conflicts),
            ["faq.toml#how-long-does-delivery-take ~ faq.toml#how-long-does-delivery-take-2"]
        );
        let empty: Vec<String> = report.empty_answers.iter().map(Warning::to_string).collect();
        assert_eq!(
            empty,
            [
                "faq.toml:17: entry 4 left out: field `answer` is empty",
                "more.csv:2: row 1 left out: column `answer` is empty",
                "faq.toml: faq.toml#can-i-pay-by-cheque: the answer \"…\" has no words",
            ]
        );
        assert_eq!(
            report.long_sections,
            [LongSection {
                source: "guide.md#everything".into(),
                title: "Everything".into(),
                chars: 1797,
                passages: 3
            }]
        );
        assert_eq!(report.findings(), 6);
    }

    #[test]
    fn clean_knowledge_has_no_findings() {
        let at_the_limit = "x".repeat(MAX_SECTION_CHARS);
        let cases: [&[(&str, &str)]; 3] = [
            &[],
            &[("faq.toml", "[[qa]]\nquestion = \"Q?\"\nanswer = \"A.\"\n[[qa]]\nquestion = \"R?\"\nanswer = \"A.\"\n")],
            &[("a.md", "# A\n\nShort.\n"), ("b.txt", &at_the_limit)],
        ];
        for files in cases {
            let report = lint_files(files);
            assert_eq!(report.findings(), 0, "{files:?}: {report:?}");
        }
    }

    #[test]
    fn normalized_text_ignores_case_spacing_and_punctuation() {
        for (text, want) in [
            ("How long does delivery take?", "how long does delivery take"),
            ("  Shipping—TIME!! ", "shipping time"),
            ("…", ""),
            ("Größe 42", "größe 42"),
        ] {
            assert_eq!(normalize(text), want, "{text:?}");
        }
    }
}
