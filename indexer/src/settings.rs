//! A bot's search settings (`[search]` in `bot.toml`) and the options of one index build.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::embed::Embedder;

/// How a bot searches its knowledge: `[search]` in `bot.toml`.
///
/// The default is English, `semantic = "auto"`, no synonyms and the
/// calibrated thresholds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchSettings {
    /// Language of the knowledge, for stemming and stop words in the lexical leg.
    pub language: Language,
    /// Groups of interchangeable words or phrases (`[["bike", "bicycle"]]`).
    pub synonyms: Vec<Vec<String>>,
    /// Whether the dense (sentence-embedding) leg is used.
    pub semantic: SemanticMode,
    /// Reply thresholds; `None` uses the calibrated defaults.
    pub thresholds: Option<Thresholds>,
}

/// Language of a bot's knowledge. The dense leg's model is English-only;
/// for other languages the lexical leg stems, drops stop words and knows the
/// question words ("comment", "wie", "cómo") correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Fr,
    De,
    Es,
}

/// Whether a bot uses dense retrieval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SemanticMode {
    /// On when an embedder is given and the knowledge has at most
    /// [`AUTO_SEMANTIC_MAX_CHUNKS`] chunks to embed; off otherwise.
    #[default]
    Auto,
    /// Always on; building without an embedder is an error.
    On,
    /// Lexical search only.
    Off,
}

/// Above this many chunks (the texts to embed: Q&A phrasings, answers and the
/// sentences of longer answers, passages and their titles), `semantic = "auto"`
/// builds a lexical-only index: embedding runs at about 8-18 chunks per
/// second on two cores, so 5,000 chunks take 5-10 minutes on a first build.
pub const AUTO_SEMANTIC_MAX_CHUNKS: usize = 5_000;

/// Score thresholds of the three reply tiers (semantic search only).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Lowest score at which the best match is given as the answer.
    pub answer: f32,
    /// Lowest score at which matches are offered as "these pages may help".
    pub suggest: f32,
}

/// What one index build uses besides the knowledge folder.
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions<'a> {
    pub settings: &'a SearchSettings,
    /// The sentence-embedding model; `None` builds a lexical-only index. A
    /// knowledge base built in RAM keeps it to embed questions.
    pub embedder: Option<&'a Arc<Embedder>>,
    /// A folder shared across builds where vectors are kept by the hash of
    /// the embedded text and the model, so a rebuild embeds only what changed.
    pub embedding_cache: Option<&'a Path>,
}

/// Progress of a build, reported as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildEvent {
    /// The knowledge folder holds `total` files.
    ReadingFiles {
        total: u64,
    },
    /// One file was read.
    FileRead {
        path: String,
    },
    /// `total` chunks need embedding (those not in the cache).
    Embedding {
        total: u64,
    },
    /// `done` of them are embedded so far.
    Embedded {
        done: u64,
    },
    /// The index is being written.
    Writing,
    Done,
}
