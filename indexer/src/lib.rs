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
//! the folder, with `/` separators. A file larger than 10 MiB, or one that is
//! not UTF-8, is an error. What a file is depends on its extension:
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
//!   Other keys are errors, as are an empty `question`, `answer` or `also`
//!   entry; errors give the file and line. A pair's source is
//!   `faq.toml#how-long-does-delivery-take` (the question's slug; a repeated
//!   slug in one file gets `-2`, `-3`, ...).
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
//!   Only `title` and `url` are allowed (`key: value`, one per line). The
//!   title is the front matter's, else the first `#` heading, else the file
//!   name without extension. Headings split the text into sections whose
//!   anchors are GitHub-style slugs (`## Returns & refunds` →
//!   `returns--refunds`; repeats get `-1`, `-2`, ...). Code blocks, HTML
//!   blocks and images are left out.
//!
//! - `*.html`, `*.htm` — HTML. The title is `<title>`, else the first `<h1>`,
//!   else the file name; the public address is `<link rel="canonical">`.
//!   `<h1>`–`<h6>` split sections; a heading's anchor is its `id` attribute,
//!   else the slug of its text. Text inside `script`, `style`, `noscript`,
//!   `template`, `nav`, `header`, `footer` and `svg` is ignored.
//!
//! - `*.txt` — plain text: one section titled with the file name, paragraphs
//!   split at blank lines.
//!
//! - anything else is skipped and listed in [`IndexStats::skipped`].
//!
//! Every URL (front matter, canonical link, Q&A `url`) must be an absolute
//! `http://` or `https://` address; anything else (say `javascript:`) is an
//! error. A section's URL is the document's with `#anchor` in place of any
//! fragment, so documents should point at the page that has those anchors.
//!
//! # Passages
//!
//! Sections are cut into passages of whole paragraphs of at most about 800
//! characters (a longer paragraph is cut at sentence ends). A passage's
//! source is `path#anchor` (just `path` for text before the first heading)
//! and its title `Document title › Heading`.
//!
//! # Answers
//!
//! [`KnowledgeBase::answer`] prefers a Q&A pair, then a passage, and returns
//! `None` unless one of them covers the question well enough: see
//! [`Answer::confidence`]. Words that only shape a question ("how do I",
//! "what", "my", "please") are ignored when judging coverage, so a question
//! made only of such words, stop words or punctuation gets no answer. A Q&A
//! pair is judged on its question and other phrasings (words found only in
//! its answer count half); a passage on its title and text.

mod document;
mod error;
mod html;
mod index;
mod knowledge;
mod markdown;
mod qa;
#[cfg(test)]
mod tests;
mod util;

pub use error::{Error, Result};
pub use index::KnowledgeBase;

use docent_protocol::{ReplyKind, Source};
use serde::Serialize;

/// What went into a [`KnowledgeBase`].
#[derive(Debug, Clone, Serialize)]
pub struct IndexStats {
    /// Markdown, HTML and text files read (Q&A files are not counted here).
    pub documents: usize,
    /// Question-and-answer pairs from `*.toml` files.
    pub qa_pairs: usize,
    /// Passages cut from the documents.
    pub passages: usize,
    /// Relative paths of files ignored because of their extension.
    pub skipped: Vec<String>,
}

/// One search result, for an operator debugging the knowledge base.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub kind: HitKind,
    /// `path#anchor` of the Q&A pair or passage.
    pub source: String,
    /// The Q&A question, or the passage's `Document › Heading` title.
    pub title: String,
    pub url: Option<String>,
    /// The search engine's relevance score (BM25; unbounded, only for ordering).
    pub score: f32,
    /// Plain text around the matched words, at most 200 characters.
    pub snippet: String,
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
    /// Share, from 0 to 1, of the question's words (weighted by rarity) that
    /// the matched item contains. Words found nowhere in the knowledge base
    /// weigh the most, so an off-topic word pulls confidence down.
    pub confidence: f32,
}
