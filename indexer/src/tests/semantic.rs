//! The dense leg with the real model (all-MiniLM-L6-v2 from `cargo xtask model`):
//! model loading and its errors, the three reply tiers, vectors in artifacts, and
//! the embedding cache.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::{EvalSet, build_lexical, demo_path, fixture_dir};
use crate::{
    BuildOptions, DEFAULT_MODEL, Embedder, Error, KnowledgeBase, Outcome, SearchSettings, SemanticMode,
    default_model_dir,
};

/// The fetched model's folder: `DOCENT_MODEL`, else the default cache path.
fn model_dir() -> PathBuf {
    let dir = default_model_dir().unwrap_or_else(|| panic!("no HOME, XDG_CACHE_HOME or DOCENT_MODEL"));
    assert!(
        dir.join("model.safetensors").is_file(),
        "no embedding model in {}: run `cargo xtask model` (or `cargo xtask test`) to fetch it, or set DOCENT_MODEL",
        dir.display()
    );
    dir
}

fn embedder() -> &'static Arc<Embedder> {
    static EMBEDDER: OnceLock<Arc<Embedder>> = OnceLock::new();
    EMBEDDER.get_or_init(|| Arc::new(Embedder::load(&model_dir()).unwrap_or_else(|e| panic!("{e}"))))
}

/// Embeddings cached across test runs, so only the first run pays for them.
fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("docent-test-embeddings")
}

fn semantic_settings() -> SearchSettings {
    SearchSettings { semantic: SemanticMode::On, ..SearchSettings::default() }
}

fn build_semantic(dir: &Path) -> KnowledgeBase {
    let settings = semantic_settings();
    let options = BuildOptions { settings: &settings, embedder: Some(embedder()), embedding_cache: Some(&cache_dir()) };
    KnowledgeBase::build(dir, &options).unwrap_or_else(|e| panic!("{e}"))
}

fn brightwater() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| build_semantic(&demo_path("demo/bots/brightwater/knowledge")))
}

#[test]
fn the_fetched_model_loads_and_embeds() {
    let embedder = embedder();
    assert!(embedder.id().starts_with(&format!("{DEFAULT_MODEL}@")) || std::env::var_os("DOCENT_MODEL").is_some());
    assert_eq!(embedder.dimensions(), 384);
    let query = embedder.embed_query("How long does delivery take?").unwrap_or_else(|e| panic!("{e}"));
    let norm: f32 = query.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-3, "{norm}");
    let passages = embedder
        .embed_batch(&["Shipping. Parcels arrive within 3 days.", "Brewing. Steep green tea for 2 minutes."])
        .unwrap_or_else(|e| panic!("{e}"));
    let cosine = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    assert!(cosine(&query, &passages[0]) > cosine(&query, &passages[1]) + 0.2);
    // A repeated query comes from the cache, identical.
    assert_eq!(embedder.embed_query("How long does delivery take?").ok(), Some(query));
}

#[test]
fn a_missing_or_corrupt_model_is_a_clear_error() {
    let check = |dir: &Path, message: &str| match Embedder::load(dir) {
        Ok(_) => panic!("loaded a broken model from {}", dir.display()),
        Err(e) => {
            assert!(matches!(e, Error::Model { .. }), "{e:?}");
            assert!(e.to_string().starts_with(message), "{e}\nexpected: {message}");
        }
    };
    let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = temp.path();
    check(&dir.join("absent"), &format!("embedding model {}: no such model folder", dir.join("absent").display()));
    let model = model_dir();
    let missing = dir.join("config.json");
    check(dir, &format!("embedding model {}: cannot read model file", missing.display()));
    std::fs::write(&missing, "{\"hidden_size\": ").unwrap_or_else(|e| panic!("{e}"));
    check(dir, &format!("embedding model {}: not a BERT config", missing.display()));
    std::fs::copy(model.join("config.json"), &missing).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("tokenizer.json"), "not json").unwrap_or_else(|e| panic!("{e}"));
    check(dir, &format!("embedding model {}: not a tokenizer", dir.join("tokenizer.json").display()));
    std::fs::copy(model.join("tokenizer.json"), dir.join("tokenizer.json")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("model.safetensors"), b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
        .unwrap_or_else(|e| panic!("{e}"));
    check(dir, &format!("embedding model {}: not a safetensors file", dir.join("model.safetensors").display()));
}

/// What a reply is, in one comparable string: `answer SOURCE`,
/// `suggestions SOURCE SOURCE...` or `unknown`.
fn tier(kb: &KnowledgeBase, question: &str) -> String {
    match kb.reply(question).unwrap_or_else(|e| panic!("{question}: {e}")) {
        Outcome::Answer(answer) => format!("answer {}", answer.sources[0].source),
        Outcome::Suggestions(sources) => {
            let sources: Vec<_> = sources.iter().map(|s| s.source.as_str()).collect();
            format!("suggestions {}", sources.join(" "))
        }
        Outcome::Unknown => "unknown".to_owned(),
    }
}

#[test]
fn replies_come_in_three_tiers() {
    let kb = brightwater();
    let check = |question: &str, want: &str| {
        let got = tier(kb, question);
        assert!(got.starts_with(want), "{question:?}: got {got}, expected {want}...");
    };
    check("I'd like to cancel my order", "answer faq.toml#can-i-change-or-cancel-my-order");
    check("I forgot my login password", "answer faq.toml#how-do-i-reset-my-password");
    check("How do I measure my inseam?", "answer sizing-guide.html#inseam");
    check("Can I return a helmet that has been worn?", "suggestions ");
    check("Who won the football game last night?", "unknown");
    check("Give me a recipe for banana bread", "unknown");
    check("", "unknown");
    check("?!... ---", "unknown");
    match kb.reply("Can I return a helmet that has been worn?").unwrap_or_else(|e| panic!("{e}")) {
        Outcome::Suggestions(sources) => {
            assert!((2..=3).contains(&sources.len()), "{sources:?}");
            assert!(sources.iter().any(|s| s.source == "returns.md#items-that-cannot-be-returned"), "{sources:?}");
            assert!(sources.iter().all(|s| s.url.is_some() && !s.title.is_empty()), "{sources:?}");
        }
        other => panic!("expected suggestions, got {other:?}"),
    }
}

/// On the demo eval set, semantic replies never answer an off-topic question
/// and answer few questions from the wrong source.
#[test]
fn demo_eval_set_with_semantic_search() {
    let text = std::fs::read_to_string(demo_path("demo/eval/brightwater.toml")).unwrap_or_else(|e| panic!("{e}"));
    let eval: EvalSet = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let kb = brightwater();
    let (mut right, mut wrong, mut answerable) = (0, Vec::new(), 0);
    for case in &eval.case {
        let got = tier(kb, &case.question);
        if case.expect == "none" {
            assert!(!got.starts_with("answer"), "{:?} is off-topic, got {got}", case.question);
        } else {
            answerable += 1;
            if got == format!("answer {}", case.expect) {
                right += 1;
            } else if got.starts_with("answer") {
                wrong.push(format!("{:?}: {got}", case.question));
            }
        }
    }
    assert!(right * 100 >= answerable * 80, "{right} of {answerable} answered right");
    assert!(wrong.len() <= 2, "wrong answers:\n{}", wrong.join("\n"));
}

#[test]
fn artifacts_keep_the_vectors_and_the_cache_saves_embedding() {
    let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cache = temp.path().join("embeddings");
    let settings = semantic_settings();
    let options = BuildOptions { settings: &settings, embedder: Some(embedder()), embedding_cache: Some(&cache) };
    let mut embedded = Vec::new();
    let first = KnowledgeBase::build_into(&fixture_dir(), &temp.path().join("one"), &options, &mut |event| {
        if let crate::BuildEvent::Embedding { total } = event {
            embedded.push(total);
        }
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.model.as_deref(), Some(embedder().id()));
    assert!(first.stats.newly_embedded > 0 && first.stats.embedded >= first.stats.newly_embedded, "{first:?}");
    assert_eq!(embedded, [first.stats.newly_embedded as u64]);

    let second = KnowledgeBase::build_into(&fixture_dir(), &temp.path().join("two"), &options, &mut |_| {})
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(second.stats.newly_embedded, 0, "{second:?}");
    assert_eq!(second.stats.embedded, first.stats.embedded);

    let fresh = KnowledgeBase::build(&fixture_dir(), &options).unwrap_or_else(|e| panic!("{e}"));
    let opened = KnowledgeBase::open(&temp.path().join("two"), Some(embedder())).unwrap_or_else(|e| panic!("{e}"));
    assert!(opened.is_semantic());
    for question in ["How many days until the parcel arrives?", "How do I descale my kettle?", "zebra giraffe"] {
        assert_eq!(tier(&opened, question), tier(&fresh, question), "{question}");
    }
    let err = KnowledgeBase::open(&temp.path().join("two"), None).err().unwrap_or_else(|| panic!("opened"));
    assert_eq!(
        err.to_string(),
        format!(
            "index artifact {}: built with embedding model {}: open it with that model",
            temp.path().join("two").display(),
            embedder().id()
        )
    );
}

#[test]
fn semantic_settings_decide_the_dense_leg() {
    let on = semantic_settings();
    let err =
        KnowledgeBase::build(&fixture_dir(), &BuildOptions { settings: &on, embedder: None, embedding_cache: None })
            .err()
            .unwrap_or_else(|| panic!("semantic = on built without a model"));
    assert_eq!(
        err.to_string(),
        "search settings: semantic = \"on\" needs an embedding model (--model DIR or DOCENT_MODEL)"
    );
    let off = SearchSettings { semantic: SemanticMode::Off, ..SearchSettings::default() };
    let options = BuildOptions { settings: &off, embedder: Some(embedder()), embedding_cache: Some(&cache_dir()) };
    let kb = KnowledgeBase::build(&fixture_dir(), &options).unwrap_or_else(|e| panic!("{e}"));
    assert!(!kb.is_semantic() && kb.manifest().model.is_none());
    let auto = SearchSettings::default();
    let options = BuildOptions { settings: &auto, embedder: Some(embedder()), embedding_cache: Some(&cache_dir()) };
    assert!(KnowledgeBase::build(&fixture_dir(), &options).unwrap_or_else(|e| panic!("{e}")).is_semantic());
    assert!(!build_lexical(&fixture_dir()).unwrap_or_else(|e| panic!("{e}")).is_semantic());
}

#[test]
fn search_settings_read_from_toml() {
    let settings: SearchSettings = toml::from_str(
        "language = \"fr\"\nsemantic = \"off\"\nsynonyms = [[\"vélo\", \"bicyclette\"]]\nthresholds = { answer = 0.7, suggest = 0.5 }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(settings.language, crate::Language::Fr);
    assert_eq!(settings.semantic, SemanticMode::Off);
    assert_eq!(settings.thresholds, Some(crate::Thresholds { answer: 0.7, suggest: 0.5 }));
    assert_eq!(toml::from_str::<SearchSettings>("").ok(), Some(SearchSettings::default()));
    assert!(toml::from_str::<SearchSettings>("semantic = \"maybe\"").is_err());
}

#[test]
fn typos_in_longer_words_are_corrected_with_semantic_search() {
    let settings = semantic_settings();
    let options = BuildOptions { settings: &settings, embedder: Some(embedder()), embedding_cache: Some(&cache_dir()) };
    let semantic = KnowledgeBase::build(&fixture_dir(), &options).unwrap_or_else(|e| panic!("{e}"));
    let lexical = build_lexical(&fixture_dir()).unwrap_or_else(|e| panic!("{e}"));
    for (question, corrected) in [
        // One swap from the indexed "descal" (descale) and "kettl" (kettle).
        ("How do I descael my kettel?", ["descal", "kettl"]),
        // Words of 5 letters or fewer are left alone.
        ("brwe tae", ["brwe", "tae"]),
        ("How do I descale my kettle?", ["descal", "kettl"]),
        ("zebra giraffe", ["zebra", "giraff"]),
    ] {
        assert_eq!(semantic.terms(question, true), corrected, "{question}");
    }
    // The lexical-only mode keeps unknown words: they keep off-topic questions unanswered.
    assert_eq!(lexical.terms("How do I descael my kettle?", true), ["descael", "kettl"]);
}

/// With the model, paraphrased questions are near-duplicates even when their words
/// differ; answers that say the same thing are duplicates, others conflicts.
#[test]
fn lint_compares_questions_and_answers_by_meaning() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let faq = r#"
[[qa]]
question = "How long does delivery take?"
answer = "Delivery takes three business days."

[[qa]]
question = "How long will delivery take?"
answer = "Delivery takes 3 business days."

[[qa]]
question = "Do you ship to Canada?"
answer = "Yes, to every province, with duties prepaid."

[[qa]]
question = "Can you ship to Canada?"
answer = "No: we only ship within the United States."

[[qa]]
question = "Where is your shop?"
answer = "In Lyon."
"#;
    std::fs::write(dir.path().join("faq.toml"), faq).unwrap_or_else(|e| panic!("{e}"));
    let report = crate::lint(dir.path(), Some(embedder())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.model.as_deref(), Some(embedder().id()));
    let found = |list: &[crate::SimilarQas]| -> Vec<String> {
        list.iter()
            .map(|qa| {
                assert!(qa.similarity >= crate::DUPLICATE_COSINE, "{qa:?}");
                format!("{} ~ {}", qa.first, qa.second)
            })
            .collect()
    };
    assert_eq!(
        found(&report.duplicates),
        ["faq.toml#how-long-does-delivery-take ~ faq.toml#how-long-will-delivery-take"],
        "{report:#?}"
    );
    assert_eq!(
        found(&report.conflicts),
        ["faq.toml#do-you-ship-to-canada ~ faq.toml#can-you-ship-to-canada"],
        "{report:#?}"
    );
    assert!(report.conflicts[0].answer_similarity.is_some_and(|s| s < crate::CONFLICT_COSINE), "{report:#?}");
}
