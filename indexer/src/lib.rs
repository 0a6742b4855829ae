//! Docent's knowledge base: reads a bot's knowledge files, indexes them with
//! tantivy in memory, and answers visitors' questions — or says it does not know.
//!
//! No HTTP, no sockets, no async: the gateway builds one [`KnowledgeBase`] per
//! bot at start-up and shares it across threads behind an `Arc`.
//!
//! # The knowledge folder
//!
//! [`KnowledgeBase::build`] reads every file below the folder, recursively and
//! in sorted path order, skipping hidden files and folders (names starting
//! with `.`). Sources, titles and errors name files by their path relative to
//! the folder, with `/` separators.
//!
//! Ingest is lenient, so that one bad file never stops a bot: a bad optional
//! value (a url that is not `http(s)`, an unknown key or column, an empty
//! `also` phrasing, a heading with no text) is a warning and the file is
//! read without it; a file that cannot be read (over 10 MiB, not UTF-8, bad
//! TOML/CSV/JSON syntax, not a readable PDF) is left out and reported with
//! the reason. Both are in the [`LoadReport`] (each [`Warning`] reads
//! `file:line: message`). Only a knowledge folder that cannot be listed is
//! an error. [`inventory`] gives that report and a SHA-256 per file and per
//! Q&A pair without building an index; [`Inventory::diff`] says which files
//! and pairs changed. What a file is depends on its extension:
//!
//! - `*.toml` — curated questions and answers:
//!
//!   ```toml
//!   [[qa]]
//!   question = "How long does delivery take?"
//!   also = ["shipping time", "when will my order arrive"]   # optional other phrasings
//!   answer = "Orders ship within 1 business day; delivery takes 2-5 business days."
//!   url = "https://shop.example/support.html#shipping"     # optional
//!   ```
//!
//!   A pair without a `question` or `answer` (or with an empty one) is left
//!   out with a warning; other keys are ignored with a warning. A pair's
//!   source is `faq.toml#how-long-does-delivery-take` (the question's slug;
//!   a repeated slug in one file gets `-2`, `-3`, ...).
//!
//! - `*.csv` — the same pairs, one per row, under a header row naming the
//!   columns `question`, `answer` and optionally `also` (phrasings separated
//!   by `|`) and `url`; other columns are ignored with a warning, and a file
//!   without a `question` or `answer` column is left out. Warnings name the
//!   line and the row.
//!
//! - `*.json` — the same pairs as an array of objects with those keys
//!   (`also` a list of strings), or an object whose `qa` key holds the array.
//!   Sources are `faq.csv#slug` and `faq.json#slug` like TOML's.
//!
//! - `*.md`, `*.markdown` — Markdown. An optional front matter block at the
//!   very top sets the title and the public address:
//!
//!   ```text
//!   ---
//!   title: Shipping
//!   url: https://shop.example/support.html
//!   ---
//!   ```
//!
//!   Only `title` and `url` are read (`key: value`, one per line; other keys
//!   are warnings). The
//!   title is the front matter's, else the first `#` heading, else the file
//!   name without extension. Headings split the text into sections whose
//!   anchors are GitHub-style slugs (`## Returns & refunds` →
//!   `returns--refunds`; repeats get `-1`, `-2`, ...). Code blocks, HTML
//!   blocks and images are left out.
//!
//! - `*.html`, `*.htm` — HTML. The title is `<title>`, else the first `<h1>`,
//!   else the file name; the public address is `<link rel="canonical">`.
//!   When the page marks its content with `<main>` or `role="main"`, only
//!   that is read. Page chrome and code are ignored: `nav`, `aside`,
//!   `footer`, a `header` outside `main`/`article`/`section`, `script`,
//!   `style`, `noscript`, `template`, `svg`, `iframe`, `button`, `select`,
//!   `textarea`, elements with a navigation/banner/contentinfo/complementary/
//!   search role or `hidden`, and `form` (unless forms hold the whole page).
//!   `<h1>`–`<h6>` split sections; a heading's anchor is its `id` attribute,
//!   else the `id`/`name` of a link in it, else its permalink's `#target`,
//!   else the slug of its text. Permalink marks (`¶`, `#`, `🔗`, `§` links)
//!   are dropped.
//!
//! - `*.pdf` — the text of each page is a section anchored `page=N`, so
//!   sources read `manual.pdf#page=3`; a PDF without any text (scanned) is
//!   read with a warning.
//!
//! - `*.txt` — plain text: one section titled with the file name, paragraphs
//!   split at blank lines.
//!
//! - anything else is skipped and listed in [`IndexStats::skipped`].
//!
//! Every URL (front matter, canonical link, Q&A `url`) must be an absolute
//! `http://` or `https://` address; anything else (say `javascript:` or
//! `file://`) is left out with a warning. A section's URL is the document's with `#anchor` in place of any
//! fragment, so documents should point at the page that has those anchors.
//!
//! # Passages
//!
//! Sections are cut into passages of whole paragraphs of at most about 800
//! characters (a longer paragraph is cut at sentence ends). A passage's
//! source is `path#anchor` (just `path` for text before the first heading).
//! Its title is the section's heading alone, or `Document title › Heading`
//! when another section of the knowledge has the same heading (and always
//! for PDF pages: `manual › Page 3`); text before the first heading is
//! titled with the document title.
//!
//! # Answers
//!
//! [`KnowledgeBase::reply`] answers in three tiers ([`Outcome`]). With an
//! embedding model ([`Embedder`], `semantic` in [`SearchSettings`]), items
//! are ranked by a hybrid score, the cosine similarity of the question to
//! the item (a Q&A pair's best phrasing; a passage's "title. text" and
//! title) plus a quarter of its lexical coverage (below); the best score
//! decides between an answer, 2-3 suggested sources and "I don't know"
//! ([`DEFAULT_THRESHOLDS`], or the bot's own).
//!
//! Without a model, the lexical leg alone prefers a Q&A pair, then a
//! passage, and answers only when one of them covers the question well
//! enough: see [`Answer::confidence`]. Words that only shape a question
//! ("how do I", "what", "my", "please") are ignored when judging coverage,
//! so a question made only of such words, stop words or punctuation gets no
//! answer. A Q&A pair is judged on its question and other phrasings (words
//! found only in its answer count half); a passage on its title and text.
//!
//! # Lint
//!
//! [`lint`] checks a knowledge folder for near-duplicate and conflicting Q&A
//! pairs, empty answers and sections over [`MAX_SECTION_CHARS`]: see [`LintReport`].
//!
//! # Artifacts
//!
//! [`KnowledgeBase::build_into`] writes the index, the vectors and a
//! [`Manifest`] (last) into a folder that [`KnowledgeBase::open`] maps back
//! in milliseconds; an interrupted build has no manifest and is refused.

mod artifact;
mod dense;
mod document;
mod embed;
mod error;
mod faq;
mod html;
mod index;
mod knowledge;
mod lint;
mod markdown;
mod pdf;
mod qa;
mod report;
mod settings;
mod stem;
#[cfg(test)]
mod tests;
mod util;

pub use artifact::{ARTIFACT_FORMAT, Manifest};
pub use embed::{DEFAULT_MODEL, Embedder, MODEL_FILES, default_model_dir};
pub use error::{Error, Result};
pub use index::{DEFAULT_THRESHOLDS, KnowledgeBase};
pub use knowledge::inventory;
pub use lint::{CONFLICT_COSINE, DUPLICATE_COSINE, LintReport, LongSection, MAX_SECTION_CHARS, SimilarQas, lint};
pub use report::{Changes, Inventory, LoadReport, SourceChanges, Warning};
pub use settings::{
    AUTO_SEMANTIC_MAX_CHUNKS, BuildEvent, BuildOptions, Language, SearchSettings, SemanticMode, Thresholds,
};

use docent_protocol::{ReplyKind, Source};
use serde::{Deserialize, Serialize};

/// The bot's reply to a question, in three tiers.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The knowledge answers the question with confidence.
    Answer(Answer),
    /// Sections that may help (two or three), when none answers it for sure.
    Suggestions(Vec<Source>),
    /// Nothing relevant: "I don't know", with the handoff.
    Unknown,
}

/// What went into a [`KnowledgeBase`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStats {
    /// Markdown, HTML, PDF and text files read (Q&A files are not counted here).
    pub documents: usize,
    /// Question-and-answer pairs from `*.toml`, `*.csv` and `*.json` files.
    pub qa_pairs: usize,
    /// Passages cut from the documents.
    pub passages: usize,
    /// Relative paths of files ignored because of their extension.
    pub skipped: Vec<String>,
    /// Vectors in the dense leg (Q&A phrasings, passages and their titles); 0 when lexical only.
    #[serde(default)]
    pub embedded: usize,
    /// Distinct texts this build embedded (the rest came from the embedding cache).
    #[serde(default)]
    pub newly_embedded: usize,
}

/// One search result, for an operator debugging the knowledge base.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub kind: HitKind,
    /// `path#anchor` of the Q&A pair or passage.
    pub source: String,
    /// The Q&A question, or the passage's title (its heading, or `Document › Heading`).
    pub title: String,
    pub url: Option<String>,
    /// Relevance: BM25 (unbounded) without the dense leg; with it, the hybrid
    /// score the reply thresholds apply to (cosine + 0.25 × lexical coverage).
    pub score: f32,
    /// Plain text around the matched words, at most 200 characters.
    pub snippet: String,
}

/// A Q&A pair or passage as indexed, for tools that look at the whole knowledge.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub kind: HitKind,
    /// `path#anchor` of the Q&A pair or passage (passages of one section share it).
    pub source: String,
    /// The Q&A question, or the passage's `Document › Heading` title.
    pub title: String,
    /// The Q&A other phrasings (empty for passages).
    pub also: Vec<String>,
    /// The Q&A answer, or the passage text.
    pub text: String,
    pub url: Option<String>,
}

/// What a [`Hit`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    /// A curated question-and-answer pair.
    Faq,
    /// A passage of a knowledge document.
    Passage,
}

/// The bot's reply to a question the knowledge base covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// [`ReplyKind::Faq`] or [`ReplyKind::Document`].
    pub kind: ReplyKind,
    /// The Q&A answer verbatim, or the passage text.
    pub text: String,
    /// The matched Q&A pair or passage.
    pub sources: Vec<Source>,
    /// Lexical-only: share, from 0 to 1, of the question's words (weighted
    /// by rarity) that the matched item contains; words found nowhere in the
    /// knowledge base weigh the most, so an off-topic word pulls confidence
    /// down. With the dense leg: the hybrid score, capped at 1.
    pub confidence: f32,
}
