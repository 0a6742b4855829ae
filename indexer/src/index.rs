//! The in-memory tantivy index behind a knowledge base: schema, analyzer,
//! ranked search, and the confidence measure that decides whether to answer.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use docent_protocol::{ReplyKind, Source};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    TokenStream,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::knowledge::{self, Knowledge};
use crate::util::collapse_whitespace;
use crate::{Answer, Hit, HitKind, IndexStats, Result};

/// Name under which the English analyzer is registered with the index.
const ANALYZER: &str = "docent_en";

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

/// Memory the index writer may use while building.
const WRITER_MEMORY_BYTES: usize = 32_000_000;

/// Words that shape a question but say nothing about its topic. They count
/// neither for nor against an answer ("how do I" alone is not a question the
/// knowledge base can answer). Stop words proper are removed by the analyzer.
#[rustfmt::skip]
const FILLER_WORDS: &[&str] = &[
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
}

/// A knowledge base: the index of one bot's knowledge folder.
pub struct KnowledgeBase {
    reader: IndexReader,
    fields: Fields,
    analyzer: TextAnalyzer,
    /// Analyzed forms of [`FILLER_WORDS`].
    fillers: HashSet<String>,
    stats: IndexStats,
}

impl std::fmt::Debug for KnowledgeBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeBase").field("stats", &self.stats).finish_non_exhaustive()
    }
}

/// A stored Q&A pair or passage with its confidence for one question.
#[derive(Debug)]
struct Candidate {
    kind: HitKind,
    title: String,
    body: String,
    source: String,
    url: Option<String>,
    confidence: f32,
}

impl KnowledgeBase {
    /// Reads every knowledge file below `dir` (recursively, sorted, skipping
    /// hidden files and folders) and builds an in-memory tantivy index.
    pub fn build(dir: &Path) -> Result<KnowledgeBase> {
        let knowledge = knowledge::read_folder(dir)?;
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        let analyzer = english_analyzer();
        index.tokenizers().register(ANALYZER, analyzer.clone());
        write_documents(&index, fields, &knowledge)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let fillers = FILLER_WORDS.iter().flat_map(|word| analyze(&analyzer, word)).collect();
        let stats = IndexStats {
            documents: knowledge.documents,
            qa_pairs: knowledge.qa.len(),
            passages: knowledge.passages.len(),
            skipped: knowledge.skipped,
        };
        tracing::debug!(
            documents = stats.documents,
            qa_pairs = stats.qa_pairs,
            passages = stats.passages,
            skipped = stats.skipped.len(),
            "knowledge base built"
        );
        Ok(KnowledgeBase { reader, fields, analyzer, fillers, stats })
    }

    /// What went into the index.
    pub fn stats(&self) -> &IndexStats {
        &self.stats
    }

    /// Ranked hits for an operator debugging search. Any text is accepted:
    /// no query syntax is interpreted, the words are simply looked up.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>> {
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

    /// The answer the bot gives, or `None` when the knowledge base does not
    /// answer the question ("I don't know").
    pub fn answer(&self, question: &str) -> Result<Option<Answer>> {
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
    fn terms(&self, text: &str, meaningful_only: bool) -> Vec<String> {
        let mut seen = HashSet::new();
        analyze(&self.analyzer, text)
            .into_iter()
            .filter(|term| !meaningful_only || !self.is_filler(term))
            .filter(|term| seen.insert(term.clone()))
            .take(MAX_QUERY_TERMS)
            .collect()
    }

    /// Filler words and lone letters (`s` of "what's") carry no topic.
    fn is_filler(&self, term: &str) -> bool {
        let mut chars = term.chars();
        let single_letter = matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic());
        single_letter || self.fillers.contains(term)
    }

    /// Each term with its inverse document frequency over the whole index
    /// (BM25's form). A term found nowhere gets the highest weight.
    fn weights(&self, searcher: &Searcher, terms: &[String]) -> Result<Vec<(String, f32)>> {
        let items = searcher.num_docs() as f32;
        terms
            .iter()
            .map(|term| {
                let df = searcher.doc_freq(&Term::from_field_text(self.fields.all, term))? as f32;
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
        for term in terms {
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
            confidence: coverage(weights, &primary, &secondary),
        })
    }

    fn snippet_generator(&self, weights: &[(String, f32)]) -> SnippetGenerator {
        let terms: BTreeMap<String, f32> = weights.iter().cloned().collect();
        SnippetGenerator::new(terms, self.analyzer.clone(), self.fields.body, SNIPPET_CHARS)
    }
}

/// Weighted share of the query terms found in `primary`, with terms found
/// only in `secondary` counting [`ANSWER_ONLY_CREDIT`] of their weight.
fn coverage(weights: &[(String, f32)], primary: &HashSet<String>, secondary: &HashSet<String>) -> f32 {
    let total: f32 = weights.iter().map(|(_, weight)| weight).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let found: f32 = weights
        .iter()
        .map(|(term, weight)| {
            if primary.contains(term) {
                *weight
            } else if secondary.contains(term) {
                weight * ANSWER_ONLY_CREDIT
            } else {
                0.0
            }
        })
        .sum();
    (found / total).clamp(0.0, 1.0)
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

/// SimpleTokenizer, long-token removal, lowercasing, ASCII folding, English
/// stop words and English stemming: used for indexing and for queries.
fn english_analyzer() -> TextAnalyzer {
    let stop_words = StopWordFilter::new(Language::English).unwrap_or_else(|| StopWordFilter::remove(Vec::new()));
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(stop_words)
        .filter(Stemmer::new(Language::English))
        .build()
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
    };
    (builder.build(), fields)
}

fn write_documents(index: &Index, fields: Fields, knowledge: &Knowledge) -> Result<()> {
    let mut writer: IndexWriter<TantivyDocument> = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
    for pair in &knowledge.qa {
        let mut doc = TantivyDocument::new();
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
