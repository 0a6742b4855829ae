//! The dense leg: which texts of the knowledge are embedded, the vector matrix,
//! the embedding cache shared across builds, and scoring items against a query.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::embed::{Embedder, cosine};
use crate::knowledge::Knowledge;
use crate::report::hex;
use crate::{BuildEvent, Error, Result};

/// What an embedded text is, for an item (a Q&A pair or a passage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Role {
    /// A Q&A question or one of its other phrasings.
    Question,
    /// A passage as "title. text", or a Q&A pair as "question. answer".
    Passage,
    /// A passage's title alone (`Document › Heading`).
    Heading,
    /// A Q&A pair as "question. sentence", for each sentence of an answer that has several.
    Sentence,
}

/// One row of the matrix: the item (by its ordinal in the index) and what the text was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Row {
    pub(crate) item: u32,
    pub(crate) role: Role,
}

/// The embedded knowledge: one unit vector per row.
pub(crate) struct Vectors {
    pub(crate) embedder: Arc<Embedder>,
    pub(crate) dimensions: usize,
    pub(crate) rows: Vec<Row>,
    /// `rows.len() * dimensions` floats, row after row.
    pub(crate) matrix: Vec<f32>,
}

/// Per-item dense score: Q&A pairs take the best of their phrasings, of
/// "question. answer" and of "question. sentence" for each sentence of a longer
/// answer (a visitor may ask about what the answer says); passages the average
/// of "title. text" and the title alone.
pub(crate) fn item_scores(vectors: &Vectors, query: &[f32]) -> HashMap<u32, f32> {
    // (question max, passage, heading, sentence max)
    let mut parts: HashMap<u32, (f32, f32, f32, f32)> = HashMap::new();
    for (row, vector) in vectors.rows.iter().zip(vectors.matrix.chunks_exact(vectors.dimensions)) {
        let score = cosine(query, vector);
        let entry = parts.entry(row.item).or_insert((f32::MIN, f32::MIN, f32::MIN, f32::MIN));
        match row.role {
            Role::Question => entry.0 = entry.0.max(score),
            Role::Passage => entry.1 = score,
            Role::Heading => entry.2 = score,
            Role::Sentence => entry.3 = entry.3.max(score),
        }
    }
    parts
        .into_iter()
        .map(|(item, (question, passage, heading, sentence))| (item, item_score(question, passage, heading, sentence)))
        .collect()
}

/// One item's score from the cosines of its vectors by role (`f32::MIN` where it has none;
/// `question` and `sentence` are the best of their kind): see [`item_scores`].
fn item_score(question: f32, passage: f32, heading: f32, sentence: f32) -> f32 {
    if question > f32::MIN {
        question.max(passage).max(sentence)
    } else if heading > f32::MIN {
        (passage + heading) / 2.0
    } else {
        passage
    }
}

/// The texts to embed, in item order (Q&A pairs first, then passages, as
/// the index numbers them).
pub(crate) fn texts(knowledge: &Knowledge) -> Vec<(Row, String)> {
    let mut out = Vec::new();
    let mut item = 0u32;
    for pair in &knowledge.qa {
        out.push((Row { item, role: Role::Question }, pair.question.clone()));
        for phrasing in &pair.also {
            out.push((Row { item, role: Role::Question }, phrasing.clone()));
        }
        out.push((Row { item, role: Role::Passage }, format!("{}. {}", pair.question, pair.answer)));
        // A visitor often asks about one thing the answer says ("Can I leave my car near the
        // pool?" against a parking answer that also lists bicycle racks): each sentence of a
        // longer answer, behind its question, is matched on its own too.
        let sentences = crate::document::sentences(&pair.answer);
        if sentences.len() > 1 {
            for sentence in sentences {
                out.push((Row { item, role: Role::Sentence }, format!("{}. {sentence}", pair.question)));
            }
        }
        item += 1;
    }
    for passage in &knowledge.passages {
        out.push((Row { item, role: Role::Passage }, format!("{}. {}", passage.title, passage.text)));
        // A title without a letter (a file named `001.txt`) means nothing to the model: its
        // vector would only pull the passage's score towards noise.
        if passage.title.chars().any(char::is_alphabetic) {
            out.push((Row { item, role: Role::Heading }, passage.title.clone()));
        }
        item += 1;
    }
    out
}

/// Embeds every text (each distinct text once), taking what it can from
/// the cache folder and adding what it computed to it. Returns the vectors
/// and how many texts were embedded now.
pub(crate) fn embed_all(
    embedder: &Arc<Embedder>,
    texts: Vec<(Row, String)>,
    cache: Option<&Path>,
    progress: &mut dyn FnMut(BuildEvent),
) -> Result<(Vectors, usize)> {
    let dimensions = embedder.dimensions();
    let mut known: HashMap<String, Vec<f32>> = HashMap::new();
    let mut missing: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    for (_, text) in &texts {
        if !seen.insert(text.as_str()) {
            continue;
        }
        match cache.and_then(|dir| read_cached(dir, &cache_key(embedder, text), dimensions)) {
            Some(vector) => {
                known.insert(text.clone(), vector);
            }
            None => missing.push(text),
        }
    }
    // Similar lengths batch together, so short titles are not padded to the longest passage.
    missing.sort_by_key(|text| (text.len(), *text));
    progress(BuildEvent::Embedding { total: missing.len() as u64 });
    let mut done = 0u64;
    for batch in missing.chunks(crate::embed::BATCH_SIZE) {
        let vectors = embedder.embed_batch(batch)?;
        for (text, vector) in batch.iter().zip(vectors) {
            if let Some(dir) = cache {
                write_cached(dir, &cache_key(embedder, text), &vector)?;
            }
            known.insert((*text).to_owned(), vector);
        }
        done += batch.len() as u64;
        progress(BuildEvent::Embedded { done });
    }
    let embedded = missing.len();
    let mut rows = Vec::with_capacity(texts.len());
    let mut matrix = Vec::with_capacity(texts.len() * dimensions);
    for (row, text) in texts {
        if let Some(vector) = known.get(&text) {
            rows.push(row);
            matrix.extend_from_slice(vector);
        }
    }
    Ok((Vectors { embedder: embedder.clone(), dimensions, rows, matrix }, embedded))
}

/// Cache file name: SHA-256 of the model id and the text.
fn cache_key(embedder: &Embedder, text: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(embedder.id().as_bytes());
    hasher.update([0]);
    hasher.update(text.as_bytes());
    hex(&hasher.finalize())
}

fn read_cached(dir: &Path, key: &str, dimensions: usize) -> Option<Vec<f32>> {
    let bytes = std::fs::read(dir.join(format!("{key}.f32"))).ok()?;
    (bytes.len() == dimensions * 4).then(|| floats(&bytes))
}

/// Writes a cache entry through a temporary file of its own and a rename, so
/// a reader never sees half a vector and concurrent builds do not collide.
fn write_cached(dir: &Path, key: &str, vector: &[f32]) -> Result<()> {
    let fail = |err: std::io::Error| Error::Artifact {
        path: dir.display().to_string(),
        reason: format!("cannot write the embedding cache: {err}"),
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let unique = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{key}.{}-{unique}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&tmp).map_err(fail)?;
    file.write_all(&bytes(vector)).map_err(fail)?;
    drop(file);
    std::fs::rename(&tmp, dir.join(format!("{key}.f32"))).map_err(fail)
}

/// Little-endian bytes of `values`.
pub(crate) fn bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Floats from little-endian bytes (a trailing partial float is ignored).
pub(crate) fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Passage;
    use crate::qa::QaPair;

    #[test]
    fn qa_phrasings_with_their_answer_and_passages_with_worded_titles_are_embedded() {
        let passage = |title: &str| Passage {
            source: format!("{title}.txt"),
            title: title.to_owned(),
            url: None,
            text: "Packages are upgraded with apt.".to_owned(),
        };
        let pair = |question: &str, also: &[&str], answer: &str| QaPair {
            source: "faq.toml#q".into(),
            question: question.into(),
            also: also.iter().map(|phrasing| (*phrasing).to_owned()).collect(),
            answer: answer.into(),
            url: None,
        };
        let qa = vec![
            pair("Is there parking?", &["Where do I park?"], "Behind the building."),
            pair("Can I rent a towel?", &[], "Towels cost 2 EUR. Hair dryers are free."),
        ];
        let knowledge = Knowledge { qa, passages: vec![passage("Upgrading"), passage("001")], ..Knowledge::default() };
        let rows: Vec<(u32, Role, String)> =
            texts(&knowledge).into_iter().map(|(row, text)| (row.item, row.role, text)).collect();
        let expected = [
            (0, Role::Question, "Is there parking?"),
            (0, Role::Question, "Where do I park?"),
            (0, Role::Passage, "Is there parking?. Behind the building."),
            (1, Role::Question, "Can I rent a towel?"),
            (1, Role::Passage, "Can I rent a towel?. Towels cost 2 EUR. Hair dryers are free."),
            // An answer of several sentences: each behind the question too.
            (1, Role::Sentence, "Can I rent a towel?. Towels cost 2 EUR."),
            (1, Role::Sentence, "Can I rent a towel?. Hair dryers are free."),
            (2, Role::Passage, "Upgrading. Packages are upgraded with apt."),
            (2, Role::Heading, "Upgrading"),
            // A title without a letter (`001.txt`) means nothing alone.
            (3, Role::Passage, "001. Packages are upgraded with apt."),
        ];
        assert_eq!(rows, expected.map(|(item, role, text)| (item, role, text.to_owned())));
    }

    #[test]
    fn an_items_score_combines_its_vectors_by_role() {
        const NONE: f32 = f32::MIN;
        // (question, passage, heading, sentence) cosines, and the item's score.
        let cases = [
            // Q&A pairs: the best of the question, "question. answer" and one sentence.
            ((0.5, 0.6, NONE, 0.7), 0.7),
            ((0.8, 0.6, NONE, 0.7), 0.8),
            ((0.5, 0.6, NONE, NONE), 0.6),
            // Passages: "title. text" and the title alone count alike; no title, the text.
            ((NONE, 0.6, 0.4, NONE), 0.5),
            ((NONE, 0.6, NONE, NONE), 0.6),
        ];
        for ((question, passage, heading, sentence), expected) in cases {
            let score = item_score(question, passage, heading, sentence);
            assert!((score - expected).abs() < 1e-6, "{:?}: {score}", (question, passage, heading, sentence));
        }
    }
}
