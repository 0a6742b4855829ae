//! The tantivy index behind a knowledge base (in RAM or an artifact on disk): schema,
//! analyzer, ranked search, the hybrid ranking with the dense leg, and the tiers of replies.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use docent_protocol::{ReplyKind, Source};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, StopWordFilter, TextAnalyzer, TokenStream,
};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::artifact::{self, INDEX_DIR, MANIFEST, Manifest, ROWS, RowsFile, VECTORS, artifact_error};
use crate::dense::{self, Vectors};
use crate::embed::Embedder;
use crate::knowledge::{self, Knowledge};
use crate::settings::{AUTO_SEMANTIC_MAX_CHUNKS, Language, SemanticMode, Thresholds};
use crate::stem::MemoStemmer;
use crate::util::collapse_whitespace;
use crate::{Answer, BuildEvent, BuildOptions, Error, Hit, HitKind, IndexStats, Item, Outcome, Result};

/// Name under which the text analyzer (of the bot's language) is registered with the index.
const ANALYZER: &str = "docent_text";

/// Reply thresholds on the hybrid score (cosine similarity plus
/// 0.25 times the lexical coverage), used unless a bot sets its own.
///
/// Calibrated with `cargo xtask eval` (see BENCHMARKS.md): on the two dev
/// sets, off-topic questions score at most 0.65 ("Do you sell cars?" against
/// "Do you sell gift cards?"), on-topic questions the knowledge does not
/// answer at most 0.53, while 78-90 % of the questions it answers score
/// their right source above 0.67. Far-off questions score below 0.45.
pub const DEFAULT_THRESHOLDS: Thresholds = Thresholds { answer: 0.67, suggest: 0.45 };

/// Weight of the lexical coverage (0 to 1) added to an item's cosine
/// similarity: it lifts an exact match of the question's rare words (codes,
/// names, commands) over a looser paraphrase without outvoting the dense
/// leg. Tuned on the dev sets: 0, 0.1, 0.15, 0.2, 0.25 and 0.3 gave top-1
/// 0.86/0.86/0.88/0.90/0.90/0.84 on the Debian FAQ set; 0.25 was also the
/// best on the demo set (0.93).
const LEXICAL_WEIGHT: f32 = 0.25;

/// Items taken from the dense leg's ranking before re-ranking.
const DENSE_CANDIDATES: usize = 20;

/// Most sources offered as suggestions.
const MAX_SUGGESTIONS: usize = 3;

/// `kind` field values.
const KIND_FAQ: &str = "faq";
const KIND_PASSAGE: &str = "passage";

/// Ranking weight of a match in a Q&A question or passage title, and in a
/// Q&A's other phrasings, relative to a match in the body.
const TITLE_BOOST: f32 = 2.0;
const ALTERNATES_BOOST: f32 = 2.0;

/// Lowest confidence at which a Q&A pair is given as the answer.
///
/// Tuned on `demo/eval/brightwater.toml`: the pairs that should answer its
/// paraphrased questions score 0.68 and up, while the best pair for a
/// question it should not answer scores at most 0.60 (a document question
/// sharing two of its three words with a pair). 0.65 splits that gap.
const FAQ_THRESHOLD: f32 = 0.65;

/// Lowest confidence at which a passage is given as the answer.
///
/// Tuned on `demo/eval/brightwater.toml`: passages that should answer its
/// document questions score 0.78 and up, and the best passage for an
/// off-topic question at most 0.50 (long passages cover stray words more
/// easily than a Q&A question does). 0.65 sits in the middle of that gap.
const PASSAGE_THRESHOLD: f32 = 0.65;

/// Share of a word's weight counted when a Q&A pair has it only in its
/// answer, not in its question or other phrasings.
const ANSWER_ONLY_CREDIT: f32 = 0.5;

/// Candidates of each kind whose confidence is measured per question.
const CANDIDATES: usize = 10;

/// Distinct query words looked at; the rest of a long message is ignored.
const MAX_QUERY_TERMS: usize = 64;

/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 200;

/// Memory each of the index writer's threads may use while building.
const WRITER_MEMORY_PER_THREAD: usize = 40_000_000;

/// Knowledge below this much text is indexed by one thread into one segment.
const ONE_THREAD_MAX_BYTES: usize = 8 * 1024 * 1024;

/// Most threads the index writer uses: one per core up to this.
const MAX_WRITER_THREADS: usize = 4;

/// Words that shape a question but say nothing about its topic, per language. They count
/// neither for nor against an answer ("how do I" alone is not a question the knowledge base
/// can answer). Stop words proper are removed by the analyzer.
fn filler_words(language: Language) -> &'static [&'static str] {
    match language {
        Language::En => ENGLISH_FILLERS,
        Language::Fr => FRENCH_FILLERS,
        Language::De => GERMAN_FILLERS,
        Language::Es => SPANISH_FILLERS,
    }
}

#[rustfmt::skip]
const ENGLISH_FILLERS: &[&str] = &[
    "what", "whats", "which", "who", "whom", "whose", "when", "where", "why", "how", "do", "does",
    "did", "doing", "done", "can", "could", "would", "should", "shall", "may", "might", "must", "i",
    "im", "ive", "me", "my", "mine", "we", "us", "our", "ours", "you", "your", "yours", "he", "she",
    "him", "her", "his", "its", "them", "those", "am", "been", "being", "have", "has", "had", "get",
    "got", "please", "tell", "know", "want", "need", "like", "about", "any", "some", "here", "from",
    "so", "than", "too", "very", "just", "also", "many", "much", "long", "often", "until", "under",
    "over", "after", "during", "within", "without", "between", "around", "through", "via", "per",
    "myself", "yourself", "ourselves", "someone", "something", "anyone", "anything", "everyone",
    "everything", "happen", "today", "now", "hi", "hello", "hey", "thanks", "thank", "ll", "re",
    "ve", "don", "doesn", "didn", "isn", "aren", "won",
];

#[rustfmt::skip]
const FRENCH_FILLERS: &[&str] = &[
    "comment", "pourquoi", "quand", "où", "quel", "quelle", "quels", "quelles", "combien", "qui",
    "quoi", "lequel", "laquelle", "puis", "peux", "peut", "pouvez", "pouvons", "peuvent", "pourrais",
    "pourriez", "dois", "doit", "devez", "devons", "faut", "faire", "fais", "besoin", "voudrais",
    "veux", "voulez", "savoir", "sais", "connaître", "dire", "merci", "bonjour", "salut", "svp",
    "plaît", "quelqu", "quelque", "chose", "aujourd", "hui", "maintenant", "est-ce", "ya", "avoir",
];

#[rustfmt::skip]
const GERMAN_FILLERS: &[&str] = &[
    "wie", "was", "warum", "wieso", "weshalb", "wann", "wo", "woher", "wohin", "welche", "welcher",
    "welches", "welchen", "wer", "wen", "wem", "kann", "kannst", "können", "könnte", "könnten", "muss",
    "musst", "müssen", "soll", "sollte", "sollten", "darf", "dürfen", "möchte", "möchten", "will",
    "wollen", "bitte", "danke", "hallo", "gibt", "geht", "machen", "mache", "brauche", "brauchen",
    "wissen", "weiß", "sagen", "etwas", "jemand", "heute", "jetzt", "gerne", "mal",
];

#[rustfmt::skip]
const SPANISH_FILLERS: &[&str] = &[
    "cómo", "como", "qué", "que", "por", "porqué", "cuándo", "cuando", "dónde", "donde", "cuál",
    "cuáles", "quién", "quiénes", "cuánto", "cuánta", "cuántos", "cuántas", "puedo", "puede",
    "podemos", "pueden", "podría", "debo", "debe", "tengo", "tiene", "hay", "hacer", "hago",
    "necesito", "quiero", "quisiera", "saber", "sé", "decir", "gracias", "hola", "favor", "algo",
    "alguien", "hoy", "ahora",
];

/// The schema's fields.
#[derive(Debug, Clone, Copy)]
struct Fields {
    /// `faq` or `passage`.
    kind: Field,
    /// Q&A question, or passage title.
    title: Field,
    /// Q&A other phrasings, one value each.
    alternates: Field,
    /// Q&A answer, or passage text.
    body: Field,
    /// `path#anchor`.
    source: Field,
    url: Field,
    /// Every text of the item, only to count in how many items a word occurs.
    all: Field,
    /// Position of the item in the build (Q&A pairs, then passages): its rows in the vector matrix.
    ordinal: Field,
}

/// A knowledge base: the index of one bot's knowledge folder.
pub struct KnowledgeBase {
    reader: IndexReader,
    fields: Fields,
    analyzer: TextAnalyzer,
    /// Analyzed forms of the language's [`filler_words`].
    fillers: HashSet<String>,
    /// Analyzed word -> the other words of its synonym groups.
    synonyms: Synonyms,
    manifest: Manifest,
    dense: Option<Dense>,
}

/// The dense leg of a knowledge base.
struct Dense {
    vectors: Vectors,
    /// Index address of each item, by ordinal.
    addresses: Vec<DocAddress>,
}

impl std::fmt::Debug for KnowledgeBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeBase").field("manifest", &self.manifest).finish_non_exhaustive()
    }
}

/// A source (Q&A pair or section) ranked by the hybrid score.
#[derive(Debug)]
struct Ranked {
    candidate: Candidate,
    score: f32,
}

/// A stored Q&A pair or passage with its confidence for one question.
#[derive(Debug)]
struct Candidate {
    kind: HitKind,
    title: String,
    body: String,
    source: String,
    url: Option<String>,
    ordinal: u32,
    confidence: f32,
}

impl KnowledgeBase {
    /// Reads every knowledge file below `dir` (recursively, sorted, skipping
    /// hidden files and folders) and builds the index in RAM, embedding the
    /// knowledge when `options` give a model and the settings allow it.
    pub fn build(dir: &Path, options: &BuildOptions) -> Result<KnowledgeBase> {
        let (manifest, knowledge, vectors) = prepare(dir, options, &mut |_| {})?;
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        register_analyzer(&index, manifest.settings.language);
        write_documents(&index, fields, &knowledge)?;
        KnowledgeBase::from_index(&index, manifest, vectors)
    }

    /// Builds a complete artifact into `out_dir`, which must not exist or be
    /// empty: the tantivy index, the vectors (with a model), and
    /// `manifest.json` last. Every file is fsynced; a folder without
    /// `manifest.json` is an unfinished build that [`KnowledgeBase::open`] refuses.
    pub fn build_into(
        knowledge_dir: &Path,
        out_dir: &Path,
        options: &BuildOptions,
        progress: &mut dyn FnMut(BuildEvent),
    ) -> Result<Manifest> {
        artifact::prepare_out_dir(out_dir)?;
        let (manifest, knowledge, vectors) = prepare(knowledge_dir, options, progress)?;
        progress(BuildEvent::Writing);
        let index_dir = out_dir.join(INDEX_DIR);
        std::fs::create_dir(&index_dir).map_err(|err| artifact_error(&index_dir, format!("cannot create: {err}")))?;
        let directory = MmapDirectory::open(&index_dir).map_err(|err| artifact_error(&index_dir, err))?;
        let (schema, fields) = schema();
        let index = Index::create(directory, schema, tantivy::IndexSettings::default())?;
        register_analyzer(&index, manifest.settings.language);
        write_documents(&index, fields, &knowledge)?;
        drop(index);
        artifact::sync_tree(&index_dir)?;
        if let Some(vectors) = &vectors {
            artifact::write_synced(out_dir, VECTORS, &dense::bytes(&vectors.matrix))?;
            let rows = RowsFile { dimensions: vectors.dimensions, rows: vectors.rows.clone() };
            let rows = serde_json::to_vec(&rows).map_err(|err| artifact_error(&out_dir.join(ROWS), err))?;
            artifact::write_synced(out_dir, ROWS, &rows)?;
        }
        let json = serde_json::to_vec_pretty(&manifest).map_err(|err| artifact_error(&out_dir.join(MANIFEST), err))?;
        artifact::write_synced(out_dir, MANIFEST, &json)?;
        artifact::sync_dir(out_dir)?;
        progress(BuildEvent::Done);
        Ok(manifest)
    }

    /// Opens an artifact written by [`KnowledgeBase::build_into`]. Refuses a
    /// folder without a valid `manifest.json` or of another format version;
    /// an artifact with vectors needs the very model it was built with.
    pub fn open(dir: &Path, embedder: Option<&Arc<Embedder>>) -> Result<KnowledgeBase> {
        let manifest = artifact::read_manifest(dir)?;
        let vectors = match (&manifest.model, embedder) {
            (None, _) => None,
            (Some(model), None) => {
                return Err(artifact_error(
                    dir,
                    format!("built with embedding model {model}: open it with that model"),
                ));
            }
            (Some(model), Some(embedder)) if embedder.id() != model => {
                return Err(artifact_error(
                    dir,
                    format!("built with embedding model {model}, not {}: train again", embedder.id()),
                ));
            }
            (Some(_), Some(embedder)) => Some(read_vectors(dir, embedder)?),
        };
        let index_dir = dir.join(INDEX_DIR);
        if !index_dir.is_dir() {
            return Err(artifact_error(dir, "no index folder: not a complete index artifact"));
        }
        let directory = MmapDirectory::open(&index_dir).map_err(|err| artifact_error(&index_dir, err))?;
        let index = Index::open(directory).map_err(|err| artifact_error(&index_dir, err))?;
        KnowledgeBase::from_index(&index, manifest, vectors)
    }

    fn from_index(index: &Index, manifest: Manifest, vectors: Option<Vectors>) -> Result<KnowledgeBase> {
        let analyzer = register_analyzer(index, manifest.settings.language);
        let schema = index.schema();
        let field = |name: &str| schema.get_field(name);
        let fields = Fields {
            kind: field("kind")?,
            title: field("title")?,
            alternates: field("alternates")?,
            body: field("body")?,
            source: field("source")?,
            url: field("url")?,
            all: field("all")?,
            ordinal: field("ordinal")?,
        };
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let fillers =
            filler_words(manifest.settings.language).iter().flat_map(|word| analyze(&analyzer, word)).collect();
        let synonyms = synonyms(&analyzer, &manifest.settings.synonyms)?;
        let dense = match vectors {
            Some(vectors) => Some(Dense { addresses: addresses(&reader.searcher())?, vectors }),
            None => None,
        };
        let stats = &manifest.stats;
        tracing::debug!(
            documents = stats.documents,
            qa_pairs = stats.qa_pairs,
            passages = stats.passages,
            embedded = stats.embedded,
            "knowledge base ready"
        );
        Ok(KnowledgeBase { reader, fields, analyzer, fillers, synonyms, manifest, dense })
    }

    /// What went into the index.
    pub fn stats(&self) -> &IndexStats {
        &self.manifest.stats
    }

    /// What the knowledge base was built from and with.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Whether the dense (semantic) leg is on.
    pub fn is_semantic(&self) -> bool {
        self.dense.is_some()
    }

    /// The reply thresholds in force (semantic search only).
    pub fn thresholds(&self) -> Thresholds {
        self.manifest.settings.thresholds.unwrap_or(DEFAULT_THRESHOLDS)
    }

    /// Every Q&A pair and passage, in build order.
    pub fn items(&self) -> Result<Vec<Item>> {
        let searcher = self.reader.searcher();
        let mut items: Vec<(u64, Item)> = Vec::new();
        for (segment, reader) in searcher.segment_readers().iter().enumerate() {
            for doc in reader.doc_ids_alive() {
                let address = DocAddress::new(u32::try_from(segment).unwrap_or(u32::MAX), doc);
                let doc: TantivyDocument = searcher.doc(address)?;
                let text = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                let kind = if text(self.fields.kind) == KIND_FAQ { HitKind::Faq } else { HitKind::Passage };
                let also = doc.get_all(self.fields.alternates).filter_map(|v| v.as_str().map(str::to_owned)).collect();
                let ordinal = doc.get_first(self.fields.ordinal).and_then(|v| v.as_u64()).unwrap_or(u64::MAX);
                let url = Some(text(self.fields.url)).filter(|url| !url.is_empty());
                let item = Item {
                    kind,
                    source: text(self.fields.source),
                    title: text(self.fields.title),
                    also,
                    text: text(self.fields.body),
                    url,
                };
                items.push((ordinal, item));
            }
        }
        items.sort_by_key(|(ordinal, _)| *ordinal);
        Ok(items.into_iter().map(|(_, item)| item).collect())
    }

    /// Ranked hits for an operator debugging search. Any text is accepted:
    /// no query syntax is interpreted, the words are simply looked up.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>> {
        if self.dense.is_some() {
            return self.hybrid_search(query, limit);
        }
        let terms = self.terms(query, false);
        let searcher = self.reader.searcher();
        let limit = limit.min(usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX));
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let weights = self.weights(&searcher, &terms)?;
        let query = self.terms_query(&terms);
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let snippets = self.snippet_generator(&weights);
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let candidate = self.candidate(&searcher, address, &weights)?;
            hits.push(Hit {
                kind: candidate.kind,
                snippet: snippet(&snippets, &candidate.body),
                source: candidate.source,
                title: candidate.title,
                url: candidate.url,
                score,
            });
        }
        Ok(hits)
    }

    /// The bot's reply in three tiers: a confident answer, a few sources
    /// that may help, or "I don't know". Without the dense leg there are
    /// only two: [`KnowledgeBase::answer`]'s answer or `Unknown`.
    pub fn reply(&self, question: &str) -> Result<Outcome> {
        if self.dense.is_none() {
            return Ok(self.lexical_answer(question)?.map_or(Outcome::Unknown, Outcome::Answer));
        }
        let ranked = self.ranked(question)?;
        let thresholds = self.thresholds();
        let Some(best) = ranked.first() else {
            return Ok(Outcome::Unknown);
        };
        tracing::trace!(source = %best.candidate.source, score = best.score, "best source");
        if best.score >= thresholds.answer {
            let best = &best.candidate;
            return Ok(Outcome::Answer(Answer {
                kind: match best.kind {
                    HitKind::Faq => ReplyKind::Faq,
                    HitKind::Passage => ReplyKind::Document,
                },
                text: best.body.clone(),
                sources: vec![source_of(best)],
                confidence: ranked[0].score.clamp(0.0, 1.0),
            }));
        }
        if best.score < thresholds.suggest {
            return Ok(Outcome::Unknown);
        }
        let floor = thresholds.suggest - (thresholds.answer - thresholds.suggest) / 2.0;
        let suggestions = ranked
            .iter()
            .take(MAX_SUGGESTIONS)
            .enumerate()
            .filter(|(i, ranked)| *i < 2 || ranked.score >= floor)
            .map(|(_, ranked)| source_of(&ranked.candidate))
            .collect();
        Ok(Outcome::Suggestions(suggestions))
    }

    /// The confident answer the bot gives, or `None` when it would not answer
    /// (suggestions or "I don't know").
    pub fn answer(&self, question: &str) -> Result<Option<Answer>> {
        Ok(match self.reply(question)? {
            Outcome::Answer(answer) => Some(answer),
            Outcome::Suggestions(_) | Outcome::Unknown => None,
        })
    }

    /// Sources ranked by the hybrid score: the dense leg's best items and the
    /// lexical leg's, each scored by its cosine similarity plus
    /// [`LEXICAL_WEIGHT`] times its lexical coverage; one entry per source.
    fn ranked(&self, question: &str) -> Result<Vec<Ranked>> {
        let Some(dense) = &self.dense else {
            return Ok(Vec::new());
        };
        if !question.chars().any(char::is_alphanumeric) {
            return Ok(Vec::new());
        }
        let query = dense.vectors.embedder.embed_query(question)?;
        let scores = dense::item_scores(&dense.vectors, &query);
        let mut order: Vec<(u32, f32)> = scores.iter().map(|(item, score)| (*item, *score)).collect();
        order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let items: Vec<u32> = order.iter().take(DENSE_CANDIDATES).map(|(item, _)| *item).collect();

        let terms = self.terms(question, true);
        let searcher = self.reader.searcher();
        let weights = self.weights(&searcher, &terms)?;
        let mut addresses: Vec<DocAddress> =
            items.iter().filter_map(|item| dense.addresses.get(*item as usize).copied()).collect();
        if !terms.is_empty() {
            let top = searcher.search(&self.terms_query(&terms), &TopDocs::with_limit(CANDIDATES).order_by_score())?;
            addresses.extend(top.into_iter().map(|(_, address)| address));
        }
        let mut by_source: HashMap<String, Ranked> = HashMap::new();
        let mut seen = HashSet::new();
        for address in addresses {
            if !seen.insert(address) {
                continue;
            }
            let candidate = self.candidate(&searcher, address, &weights)?;
            let cosine = scores.get(&candidate.ordinal).copied().unwrap_or(0.0);
            let score = cosine + LEXICAL_WEIGHT * candidate.confidence;
            if by_source.get(&candidate.source).is_none_or(|known| score > known.score) {
                by_source.insert(candidate.source.clone(), Ranked { candidate, score });
            }
        }
        let mut ranked: Vec<Ranked> = by_source.into_values().collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.candidate.source.cmp(&b.candidate.source)));
        Ok(ranked)
    }

    /// Hybrid hits, one per source, best first.
    fn hybrid_search(&self, query: &str, limit: usize) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        let weights = self.weights(&searcher, &self.terms(query, false))?;
        let snippets = self.snippet_generator(&weights);
        Ok(self
            .ranked(query)?
            .into_iter()
            .take(limit)
            .map(|ranked| Hit {
                kind: ranked.candidate.kind,
                snippet: snippet(&snippets, &ranked.candidate.body),
                source: ranked.candidate.source,
                title: ranked.candidate.title,
                url: ranked.candidate.url,
                score: ranked.score,
            })
            .collect())
    }

    /// The lexical leg's answer: the best-covered Q&A pair, else passage, above its threshold.
    fn lexical_answer(&self, question: &str) -> Result<Option<Answer>> {
        let terms = self.terms(question, true);
        if terms.is_empty() {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        let weights = self.weights(&searcher, &terms)?;
        let thresholds = [(HitKind::Faq, FAQ_THRESHOLD), (HitKind::Passage, PASSAGE_THRESHOLD)];
        for (kind, threshold) in thresholds {
            let Some(best) = self.best(&searcher, kind, &terms, &weights)? else {
                continue;
            };
            tracing::trace!(
                source = %best.source,
                confidence = best.confidence,
                threshold,
                "best candidate"
            );
            if best.confidence >= threshold {
                return Ok(Some(Answer {
                    kind: match kind {
                        HitKind::Faq => ReplyKind::Faq,
                        HitKind::Passage => ReplyKind::Document,
                    },
                    text: best.body,
                    sources: vec![Source { title: best.title, source: best.source, url: best.url }],
                    confidence: best.confidence,
                }));
            }
        }
        Ok(None)
    }

    /// Distinct analyzed words of `text`, in order, at most
    /// [`MAX_QUERY_TERMS`]; without filler words when `meaningful_only`.
    /// With the dense leg on, a word unknown to the index is replaced by the
    /// most frequent indexed word within [`typo_distance`] of it (typo
    /// tolerance for longer words). The lexical-only mode keeps unknown words
    /// as they are: they weigh the most in its confidence and are what keeps
    /// off-topic questions from being answered there.
    pub(crate) fn terms(&self, text: &str, meaningful_only: bool) -> Vec<String> {
        let mut seen = HashSet::new();
        let searcher = self.reader.searcher();
        analyze(&self.analyzer, text)
            .into_iter()
            .filter(|term| !meaningful_only || !self.is_filler(term))
            .take(MAX_QUERY_TERMS)
            .map(|term| self.correct_typo(&searcher, term))
            .filter(|term| seen.insert(term.clone()))
            .collect()
    }

    /// `term`, or the indexed word it is most likely a typo of.
    fn correct_typo(&self, searcher: &Searcher, term: String) -> String {
        let max_distance = typo_distance(&term);
        let known = |term: &str| searcher.doc_freq(&Term::from_field_text(self.fields.all, term)).unwrap_or(0) > 0;
        if self.dense.is_none() || max_distance == 0 || known(&term) || self.synonyms.contains_key(&term) {
            return term;
        }
        let target: Vec<char> = term.chars().collect();
        let mut best: Option<(usize, u32, String)> = None; // (distance, doc freq, word)
        for segment in searcher.segment_readers() {
            let Ok(index) = segment.inverted_index(self.fields.all) else {
                continue;
            };
            let Ok(mut stream) = index.terms().stream() else {
                continue;
            };
            while stream.advance() {
                let Ok(word) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                let word: Vec<char> = word.chars().collect();
                let Some(distance) = edit_distance(&target, &word, max_distance) else {
                    continue;
                };
                let doc_freq = stream.value().doc_freq;
                if best
                    .as_ref()
                    .is_none_or(|(d, f, _)| (distance, std::cmp::Reverse(doc_freq)) < (*d, std::cmp::Reverse(*f)))
                {
                    best = Some((distance, doc_freq, word.into_iter().collect()));
                }
            }
        }
        best.map_or(term, |(_, _, word)| word)
    }

    /// Filler words and lone letters (`s` of "what's") carry no topic.
    fn is_filler(&self, term: &str) -> bool {
        let mut chars = term.chars();
        let single_letter = matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic());
        single_letter || self.fillers.contains(term)
    }

    /// `term` and its synonyms.
    fn alternatives<'t>(&'t self, term: &'t str) -> impl Iterator<Item = &'t str> {
        std::iter::once(term).chain(self.synonyms.get(term).into_iter().flatten().map(String::as_str))
    }

    /// Each term with its inverse document frequency over the whole index
    /// (BM25's form; with synonyms, that of the most common one). A term
    /// found nowhere gets the highest weight.
    fn weights(&self, searcher: &Searcher, terms: &[String]) -> Result<Vec<(String, f32)>> {
        let items = searcher.num_docs() as f32;
        terms
            .iter()
            .map(|term| {
                let mut df = 0u64;
                for alternative in self.alternatives(term) {
                    df = df.max(searcher.doc_freq(&Term::from_field_text(self.fields.all, alternative))?);
                }
                let df = df as f32;
                let idf = (1.0 + (items - df + 0.5) / (df + 0.5)).ln();
                Ok((term.clone(), idf))
            })
            .collect()
    }

    /// Any of `terms` in a question/title (boosted), other phrasing (boosted)
    /// or body; scored by BM25.
    fn terms_query(&self, terms: &[String]) -> BooleanQuery {
        let fields =
            [(self.fields.title, TITLE_BOOST), (self.fields.alternates, ALTERNATES_BOOST), (self.fields.body, 1.0)];
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in terms.iter().flat_map(|term| self.alternatives(term)) {
            for (field, boost) in fields {
                let query = TermQuery::new(Term::from_field_text(field, term), IndexRecordOption::WithFreqs);
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(query), boost))));
            }
        }
        BooleanQuery::new(clauses)
    }

    /// The candidate of `kind` that covers the question best (the higher
    /// BM25 score breaks ties).
    fn best(
        &self,
        searcher: &Searcher,
        kind: HitKind,
        terms: &[String],
        weights: &[(String, f32)],
    ) -> Result<Option<Candidate>> {
        let kind_term = Term::from_field_text(self.fields.kind, kind_value(kind));
        let only_kind = ConstScoreQuery::new(Box::new(TermQuery::new(kind_term, IndexRecordOption::Basic)), 0.0);
        let query = BooleanQuery::new(vec![
            (Occur::Must, Box::new(only_kind) as Box<dyn Query>),
            (Occur::Must, Box::new(self.terms_query(terms))),
        ]);
        let top = searcher.search(&query, &TopDocs::with_limit(CANDIDATES).order_by_score())?;
        let mut best: Option<Candidate> = None;
        for (_, address) in top {
            let candidate = self.candidate(searcher, address, weights)?;
            if best.as_ref().is_none_or(|best| candidate.confidence > best.confidence) {
                best = Some(candidate);
            }
        }
        Ok(best)
    }

    /// Loads a stored item and measures how well it covers the question.
    fn candidate(
        &self,
        searcher: &Searcher,
        address: tantivy::DocAddress,
        weights: &[(String, f32)],
    ) -> Result<Candidate> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field: Field| doc.get_first(field).and_then(|value| value.as_str()).unwrap_or_default().to_owned();
        let kind = if text(self.fields.kind) == KIND_FAQ { HitKind::Faq } else { HitKind::Passage };
        let title = text(self.fields.title);
        let body = text(self.fields.body);
        let url = Some(text(self.fields.url)).filter(|url| !url.is_empty());
        let ordinal = doc.get_first(self.fields.ordinal).and_then(|value| value.as_u64()).unwrap_or(u64::MAX);
        let mut primary: HashSet<String> = analyze(&self.analyzer, &title).into_iter().collect();
        let secondary: HashSet<String> = match kind {
            HitKind::Faq => {
                for phrasing in doc.get_all(self.fields.alternates) {
                    primary.extend(analyze(&self.analyzer, phrasing.as_str().unwrap_or_default()));
                }
                analyze(&self.analyzer, &body).into_iter().collect()
            }
            HitKind::Passage => {
                primary.extend(analyze(&self.analyzer, &body));
                HashSet::new()
            }
        };
        Ok(Candidate {
            kind,
            title,
            source: text(self.fields.source),
            url,
            body,
            ordinal: u32::try_from(ordinal).unwrap_or(u32::MAX),
            confidence: coverage(weights, &primary, &secondary, &self.synonyms),
        })
    }

    fn snippet_generator(&self, weights: &[(String, f32)]) -> SnippetGenerator {
        let terms: BTreeMap<String, f32> = weights.iter().cloned().collect();
        SnippetGenerator::new(terms, self.analyzer.clone(), self.fields.body, SNIPPET_CHARS)
    }
}

/// Weighted share of the query terms (or their synonyms) found in
/// `primary`, with terms found only in `secondary` counting
/// [`ANSWER_ONLY_CREDIT`] of their weight.
fn coverage(
    weights: &[(String, f32)],
    primary: &HashSet<String>,
    secondary: &HashSet<String>,
    synonyms: &Synonyms,
) -> f32 {
    let total: f32 = weights.iter().map(|(_, weight)| weight).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let found_in = |set: &HashSet<String>, term: &String| {
        set.contains(term) || synonyms.get(term).is_some_and(|others| others.iter().any(|other| set.contains(other)))
    };
    let found: f32 = weights
        .iter()
        .map(|(term, weight)| {
            if found_in(primary, term) {
                *weight
            } else if found_in(secondary, term) {
                weight * ANSWER_ONLY_CREDIT
            } else {
                0.0
            }
        })
        .sum();
    (found / total).clamp(0.0, 1.0)
}

/// Edits tolerated in an analyzed word unknown to the index: none up to 5
/// letters (short words have too many neighbours), 1 up to 8, then 2.
fn typo_distance(term: &str) -> usize {
    match term.chars().count() {
        0..=5 => 0,
        6..=8 => 1,
        _ => 2,
    }
}

/// Optimal string alignment distance (Levenshtein plus adjacent swaps)
/// between `a` and `b`, or `None` when it is over `max`.
pub(crate) fn edit_distance(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    let mut rows = vec![vec![0usize; width]; a.len() + 1];
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i][0] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = value;
            row_min = row_min.min(value);
        }
        if row_min > max {
            return None;
        }
    }
    Some(rows[a.len()][b.len()]).filter(|distance| *distance <= max)
}

/// Analyzed word -> the other words of its synonym groups.
type Synonyms = HashMap<String, Vec<String>>;

/// The synonym map of `[search] synonyms`. Each entry must analyze to one
/// word (stop words alone are refused too): the lexical leg matches words,
/// and the dense leg already relates phrases.
fn synonyms(analyzer: &TextAnalyzer, groups: &[Vec<String>]) -> Result<Synonyms> {
    let mut map: Synonyms = HashMap::new();
    for group in groups {
        let mut words = Vec::new();
        for entry in group {
            match analyze(analyzer, entry).as_slice() {
                [word] => words.push(word.clone()),
                _ => {
                    return Err(Error::Settings(format!(
                        "synonym {entry:?} must be one word that is not a stop word (phrases are matched by meaning \
                         with semantic search)"
                    )));
                }
            }
        }
        for word in &words {
            let others = map.entry(word.clone()).or_default();
            others.extend(words.iter().filter(|other| *other != word).cloned());
            others.sort();
            others.dedup();
        }
    }
    Ok(map)
}

fn kind_value(kind: HitKind) -> &'static str {
    match kind {
        HitKind::Faq => KIND_FAQ,
        HitKind::Passage => KIND_PASSAGE,
    }
}

/// Plain text around the matched words of `body`, or its beginning when
/// none matches; at most [`SNIPPET_CHARS`] characters.
fn snippet(generator: &SnippetGenerator, body: &str) -> String {
    let fragment = collapse_whitespace(generator.snippet(body).fragment());
    let text = if fragment.is_empty() { collapse_whitespace(body) } else { fragment };
    if text.chars().count() <= SNIPPET_CHARS {
        return text;
    }
    let limit = text.char_indices().nth(SNIPPET_CHARS - 1).map_or(text.len(), |(i, _)| i);
    let cut = text[..limit].rfind(' ').filter(|&i| i > 0).unwrap_or(limit);
    format!("{}…", text[..cut].trim_end())
}

/// SimpleTokenizer, long-token removal, lowercasing, ASCII folding, the
/// language's stop words and stemming (remembered, see `stem.rs`): used for indexing
/// and for queries.
fn analyzer(language: Language) -> TextAnalyzer {
    let (language, algorithm) = match language {
        Language::En => (tantivy::tokenizer::Language::English, frostem::Algorithm::English),
        Language::Fr => (tantivy::tokenizer::Language::French, frostem::Algorithm::French),
        Language::De => (tantivy::tokenizer::Language::German, frostem::Algorithm::German),
        Language::Es => (tantivy::tokenizer::Language::Spanish, frostem::Algorithm::Spanish),
    };
    let stop_words = StopWordFilter::new(language).unwrap_or_else(|| StopWordFilter::remove(Vec::new()));
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(stop_words)
        .filter(MemoStemmer::new(algorithm))
        .build()
}

/// Registers the analyzer of `language` with `index` and returns it.
fn register_analyzer(index: &Index, language: Language) -> TextAnalyzer {
    let analyzer = analyzer(language);
    index.tokenizers().register(ANALYZER, analyzer.clone());
    analyzer
}

/// The source of a ranked candidate, for a reply.
fn source_of(candidate: &Candidate) -> Source {
    Source { title: candidate.title.clone(), source: candidate.source.clone(), url: candidate.url.clone() }
}

/// Reads the knowledge, takes its inventory, and embeds it when the settings
/// and the options say so: everything a build needs but the index itself.
fn prepare(
    dir: &Path,
    options: &BuildOptions,
    progress: &mut dyn FnMut(BuildEvent),
) -> Result<(Manifest, Knowledge, Option<Vectors>)> {
    synonyms(&analyzer(options.settings.language), &options.settings.synonyms)?;
    let knowledge = knowledge::read_folder(dir)?;
    let inventory = knowledge.inventory();
    progress(BuildEvent::ReadingFiles { total: inventory.files.len() as u64 });
    for path in inventory.files.keys() {
        progress(BuildEvent::FileRead { path: path.clone() });
    }
    let texts = dense::texts(&knowledge);
    let embedder = match (options.settings.semantic, options.embedder) {
        (SemanticMode::Off, _) => None,
        (SemanticMode::On, None) => {
            return Err(Error::Settings(
                "semantic = \"on\" needs an embedding model (--model DIR or DOCENT_MODEL)".to_owned(),
            ));
        }
        (SemanticMode::On, Some(embedder)) => Some(embedder),
        (SemanticMode::Auto, embedder) => embedder.filter(|_| texts.len() <= AUTO_SEMANTIC_MAX_CHUNKS),
    };
    let (vectors, newly_embedded) = match embedder {
        Some(embedder) => {
            let (vectors, embedded) = dense::embed_all(embedder, texts, options.embedding_cache, progress)?;
            (Some(vectors), embedded)
        }
        None => (None, 0),
    };
    let stats = IndexStats {
        documents: knowledge.documents,
        qa_pairs: knowledge.qa.len(),
        passages: knowledge.passages.len(),
        skipped: knowledge.skipped.clone(),
        embedded: vectors.as_ref().map_or(0, |vectors| vectors.rows.len()),
        newly_embedded,
    };
    let manifest = Manifest {
        format: artifact::ARTIFACT_FORMAT,
        model: embedder.map(|embedder| embedder.id().to_owned()),
        inventory,
        stats,
        settings: options.settings.clone(),
    };
    Ok((manifest, knowledge, vectors))
}

/// Reads an artifact's vectors and checks them against the model and the row mapping.
fn read_vectors(dir: &Path, embedder: &Arc<Embedder>) -> Result<Vectors> {
    let rows_path = dir.join(ROWS);
    let rows = std::fs::read(&rows_path).map_err(|err| artifact_error(&rows_path, format!("cannot read: {err}")))?;
    let rows: RowsFile =
        serde_json::from_slice(&rows).map_err(|err| artifact_error(&rows_path, format!("not valid: {err}")))?;
    let vectors_path = dir.join(VECTORS);
    let bytes =
        std::fs::read(&vectors_path).map_err(|err| artifact_error(&vectors_path, format!("cannot read: {err}")))?;
    if rows.dimensions != embedder.dimensions() || bytes.len() != rows.rows.len() * rows.dimensions * 4 {
        return Err(artifact_error(
            &vectors_path,
            format!("{} bytes do not hold {} vectors of {} dimensions", bytes.len(), rows.rows.len(), rows.dimensions),
        ));
    }
    Ok(Vectors {
        embedder: embedder.clone(),
        dimensions: rows.dimensions,
        rows: rows.rows,
        matrix: dense::floats(&bytes),
    })
}

/// The index address of every item, by ordinal.
fn addresses(searcher: &Searcher) -> Result<Vec<DocAddress>> {
    let mut out = vec![DocAddress::new(u32::MAX, 0); usize::try_from(searcher.num_docs()).unwrap_or(0)];
    for (segment, reader) in searcher.segment_readers().iter().enumerate() {
        let ordinals = reader.fast_fields().u64("ordinal")?;
        for doc in reader.doc_ids_alive() {
            if let Some(slot) = ordinals.first(doc).and_then(|ordinal| out.get_mut(usize::try_from(ordinal).ok()?)) {
                *slot = DocAddress::new(u32::try_from(segment).unwrap_or(u32::MAX), doc);
            }
        }
    }
    Ok(out)
}

/// The analyzed words of `text`, in order, repeats included.
fn analyze(analyzer: &TextAnalyzer, text: &str) -> Vec<String> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    stream.process(&mut |token| out.push(token.text.clone()));
    out
}

fn schema() -> (Schema, Fields) {
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqs),
        )
        .set_stored();
    let all = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let mut builder = Schema::builder();
    let fields = Fields {
        kind: builder.add_text_field("kind", STRING | STORED),
        title: builder.add_text_field("title", text.clone()),
        alternates: builder.add_text_field("alternates", text.clone()),
        body: builder.add_text_field("body", text),
        source: builder.add_text_field("source", STRING | STORED),
        url: builder.add_text_field("url", STORED),
        all: builder.add_text_field("all", all),
        ordinal: builder.add_u64_field("ordinal", INDEXED | FAST | STORED),
    };
    (builder.build(), fields)
}

fn write_documents(index: &Index, fields: Fields, knowledge: &Knowledge) -> Result<()> {
    // Tokenizing and stemming are most of a large build: one writer thread per core. A small
    // knowledge base keeps one thread, hence one segment, which answers faster.
    let text_bytes: usize = knowledge.qa.iter().map(|pair| pair.question.len() + pair.answer.len()).sum::<usize>()
        + knowledge.passages.iter().map(|passage| passage.text.len()).sum::<usize>();
    let threads = if text_bytes < ONE_THREAD_MAX_BYTES {
        1
    } else {
        std::thread::available_parallelism().map_or(1, usize::from).min(MAX_WRITER_THREADS)
    };
    let mut writer: IndexWriter<TantivyDocument> =
        index.writer_with_num_threads(threads, threads * WRITER_MEMORY_PER_THREAD)?;
    let mut ordinal = 0u64;
    for pair in &knowledge.qa {
        let mut doc = TantivyDocument::new();
        doc.add_u64(fields.ordinal, ordinal);
        ordinal += 1;
        doc.add_text(fields.kind, KIND_FAQ);
        doc.add_text(fields.title, &pair.question);
        doc.add_text(fields.all, &pair.question);
        for phrasing in &pair.also {
            doc.add_text(fields.alternates, phrasing);
            doc.add_text(fields.all, phrasing);
        }
        doc.add_text(fields.body, &pair.answer);
        doc.add_text(fields.all, &pair.answer);
        doc.add_text(fields.source, &pair.source);
        if let Some(url) = &pair.url {
            doc.add_text(fields.url, url);
        }
        writer.add_document(doc)?;
    }
    for passage in &knowledge.passages {
        let mut doc = TantivyDocument::new();
        doc.add_u64(fields.ordinal, ordinal);
        ordinal += 1;
        doc.add_text(fields.kind, KIND_PASSAGE);
        doc.add_text(fields.title, &passage.title);
        doc.add_text(fields.all, &passage.title);
        doc.add_text(fields.body, &passage.text);
        doc.add_text(fields.all, &passage.text);
        doc.add_text(fields.source, &passage.source);
        if let Some(url) = &passage.url {
            doc.add_text(fields.url, url);
        }
        writer.add_document(doc)?;
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    Ok(())
}
