//! Whole-crate tests: build knowledge bases from fixtures and check search and answers.

use std::path::{Path, PathBuf};

use docent_protocol::ReplyKind;
use serde::Deserialize;

use crate::{BuildOptions, HitKind, KnowledgeBase, Result, SearchSettings};

/// Builds a lexical-only knowledge base in RAM with the default settings.
pub(crate) fn build_lexical(dir: &Path) -> Result<KnowledgeBase> {
    let settings = SearchSettings::default();
    KnowledgeBase::build(dir, &BuildOptions { settings: &settings, embedder: None, embedding_cache: None })
}

fn fixture_kb() -> KnowledgeBase {
    build_lexical(&fixture_dir()).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/fixtures/kb")
}

/// The source `kb` answers `question` from, or `none`.
fn answered_source(kb: &KnowledgeBase, question: &str) -> String {
    match kb.answer(question) {
        Ok(Some(answer)) => answer.sources.first().map_or_else(|| "<no source>".to_owned(), |s| s.source.clone()),
        Ok(None) => "none".to_owned(),
        Err(e) => format!("error: {e}"),
    }
}

fn check_answer(kb: &KnowledgeBase, question: &str, expected: &str) {
    assert_eq!(answered_source(kb, question), expected, "question {question:?}");
}

#[test]
fn knowledge_base_is_shareable_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<KnowledgeBase>();
}

#[test]
fn stats_count_what_was_read() {
    let kb = fixture_kb();
    let stats = kb.stats();
    assert_eq!((stats.documents, stats.qa_pairs, stats.passages), (3, 3, 7), "{stats:?}");
    assert_eq!(stats.skipped, ["logo.png"]);
}

#[test]
fn paraphrased_questions_hit_the_right_pair() {
    let kb = fixture_kb();
    check_answer(&kb, "How many days until the parcel arrives?", "faq.toml#how-long-does-delivery-take");
    check_answer(&kb, "Will you refund tea I've opened?", "faq.toml#can-i-return-opened-tea");
    check_answer(&kb, "gift cards?", "faq.toml#do-you-sell-gift-cards");
}

#[test]
fn document_questions_hit_the_right_passage() {
    let kb = fixture_kb();
    check_answer(&kb, "How long should I brew green tea?", "guides/brewing.md#green-tea");
    check_answer(&kb, "How long do tea leaves stay fresh?", "guides/brewing.md#storing-tea");
    check_answer(&kb, "How do I descale my kettle?", "guides/kettles.html#descale");
    check_answer(&kb, "When are you open on weekdays?", "hours.txt");
}

#[test]
fn answers_carry_text_kind_and_url() {
    let kb = fixture_kb();
    let answer = kb
        .answer("how should I brew black tea")
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no answer"));
    assert_eq!(answer.kind, ReplyKind::Document);
    assert_eq!(answer.text, "Brew black tea with boiling water (95 °C) for 4 minutes.");
    assert_eq!(answer.sources.len(), 1);
    assert_eq!(answer.sources[0].title, "Black tea");
    assert_eq!(answer.sources[0].url.as_deref(), Some("https://tea.example/brewing#black-tea"));
    assert!((0.0..=1.0).contains(&answer.confidence), "{}", answer.confidence);

    let answer = kb.answer("shipping time").unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("no answer"));
    assert_eq!(answer.kind, ReplyKind::Faq);
    assert_eq!(answer.text, "Parcels arrive within 3 days.");
    assert_eq!(answer.sources[0].title, "How long does delivery take?");
    assert_eq!(answer.sources[0].url.as_deref(), Some("https://tea.example/help#delivery"));
}

#[test]
fn off_topic_and_empty_questions_get_no_answer() {
    let kb = fixture_kb();
    for question in [
        "What's the weather like in Paris?",
        "Who won the election?",
        "zebra giraffe",
        "",
        "   ",
        "?!... ---",
        "the and of to",
        "how do I?",
    ] {
        check_answer(&kb, question, "none");
    }
}

#[test]
fn query_syntax_is_just_text() {
    let kb = fixture_kb();
    for query in
        ["title:foo AND (", "\"unbalanced", "body:[a TO *] OR -tea^3 ~2", "*", "\u{0}\u{feff}🚲", &"tea ".repeat(5000)]
    {
        if let Err(e) = kb.search(query, 10) {
            panic!("search {query:?}: {e}");
        }
        if let Err(e) = kb.answer(query) {
            panic!("answer {query:?}: {e}");
        }
    }
    let hits = kb.search("title:green AND (tea", 3).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(hits.first().map(|h| h.source.as_str()), Some("guides/brewing.md#green-tea"));
}

#[test]
fn search_ranks_hits_with_plain_snippets() {
    let kb = fixture_kb();
    let hits = kb.search("tea", 100).unwrap_or_else(|e| panic!("{e}"));
    assert!(hits.len() >= 4, "{hits:?}");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "{hits:?}");
    for hit in &hits {
        assert!(hit.snippet.chars().count() <= 200, "{hit:?}");
        assert!(!hit.snippet.contains('<'), "{hit:?}");
        assert!(!hit.snippet.is_empty(), "{hit:?}");
    }
    assert!(kb.search("tea", 0).unwrap_or_else(|e| panic!("{e}")).is_empty());
    assert_eq!(kb.search("tea", 2).map(|h| h.len()).ok(), Some(2));

    let hits = kb.search("gift", 5).unwrap_or_else(|e| panic!("{e}"));
    let first = hits.first().unwrap_or_else(|| panic!("no hit"));
    assert_eq!(first.kind, HitKind::Faq);
    assert_eq!(first.title, "Do you sell gift cards?");
    assert_eq!(first.snippet, "Yes, from $10 to $100.");
    // Code blocks and scripts are not indexed.
    assert!(kb.search("zebra giraffe", 5).unwrap_or_else(|e| panic!("{e}")).is_empty());
}

#[test]
fn hits_serialize_for_the_gateway() {
    let kb = fixture_kb();
    let hits = kb.search("descale", 1).unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_value(&hits).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json[0]["kind"], "passage");
    assert_eq!(json[0]["source"], "guides/kettles.html#descale");
    assert_eq!(json[0]["url"], "https://tea.example/kettles#descale");
}

/// Lenient ingest: bad optional values are left out with a warning and
/// the rest of the file is still indexed.
#[test]
fn bad_knowledge_values_do_not_fail_the_build() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let write = |name: &str, content: &str| {
        std::fs::write(dir.path().join(name), content).unwrap_or_else(|e| panic!("{e}"));
    };
    write("faq.toml", "[[qa]]\nquestion = \"Q\"\nanswer = \"A\"\nurl = \"javascript:alert(1)\"\n");
    write("guide.md", "---\nurl: ftp://files.example/x\n---\nText.\n");
    let kb = build_lexical(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let stats = kb.stats();
    assert_eq!((stats.qa_pairs, stats.documents, stats.passages), (1, 1, 1), "{stats:?}");
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvalSet {
    pub(crate) case: Vec<EvalCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvalCase {
    pub(crate) question: String,
    pub(crate) expect: String,
}

pub(crate) fn demo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// Every case of the demo evaluation set is answered from the expected
/// source, or not answered when it expects `none`.
#[test]
fn demo_eval_set_passes() {
    let eval_file = demo_path("demo/eval/brightwater.toml");
    let text = std::fs::read_to_string(&eval_file).unwrap_or_else(|e| panic!("{}: {e}", eval_file.display()));
    let eval: EvalSet = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(eval.case.len() >= 20, "only {} cases", eval.case.len());
    assert!(eval.case.iter().filter(|c| c.expect == "none").count() >= 4);

    let kb = build_lexical(&demo_path("demo/bots/brightwater/knowledge")).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for case in &eval.case {
        let got = answered_source(&kb, &case.question);
        if got != case.expect {
            failures.push(format!("{:?}: expected {}, got {got}", case.question, case.expect));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} eval cases failed:\n{}",
        failures.len(),
        eval.case.len(),
        failures.join("\n")
    );
}

/// The handbook bot's knowledge builds, and a staff question finds its answer.
#[test]
fn demo_handbook_builds() {
    let kb = build_lexical(&demo_path("demo/bots/handbook/knowledge")).unwrap_or_else(|e| panic!("{e}"));
    let stats = kb.stats();
    assert!(stats.qa_pairs >= 8 && stats.documents >= 2, "{stats:?}");
    assert!(stats.skipped.is_empty(), "{stats:?}");
}

/// Every address in the demo knowledge points at a page of the demo site
/// that has an element with the address's `#anchor` as its id.
#[test]
fn demo_knowledge_links_land_on_the_demo_site() {
    const SITE: &str = "http://localhost:8081/";
    for bot in ["brightwater", "handbook"] {
        let dir = demo_path(&format!("demo/bots/{bot}/knowledge"));
        let knowledge = crate::knowledge::read_folder(&dir).unwrap_or_else(|e| panic!("{e}"));
        let urls = knowledge
            .qa
            .iter()
            .filter_map(|pair| pair.url.clone())
            .chain(knowledge.passages.iter().filter_map(|p| p.url.clone()));
        let mut checked = 0;
        for url in urls {
            let Some(target) = url.strip_prefix(SITE) else {
                panic!("{bot}: {url} is not on the demo site");
            };
            let (page, anchor) = target.split_once('#').unwrap_or((target, ""));
            let path = demo_path(&format!("demo/site/{page}"));
            let html =
                std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{bot}: {url}: {}: {e}", path.display()));
            assert!(
                anchor.is_empty() || html.contains(&format!("id=\"{anchor}\"")),
                "{bot}: {url}: no element with id {anchor:?} in {page}"
            );
            checked += 1;
        }
        assert!(checked > 20, "{bot}: only {checked} links");
    }
}

mod artifact;
mod semantic;

fn build_with(dir: &Path, settings: &SearchSettings) -> Result<KnowledgeBase> {
    KnowledgeBase::build(dir, &BuildOptions { settings, embedder: None, embedding_cache: None })
}

#[test]
fn synonyms_match_in_the_lexical_leg() {
    let question = "How do I decalcify my kettle?";
    check_answer(&fixture_kb(), question, "none");
    let settings =
        SearchSettings { synonyms: vec![vec!["descale".into(), "decalcify".into()]], ..SearchSettings::default() };
    let kb = build_with(&fixture_dir(), &settings).unwrap_or_else(|e| panic!("{e}"));
    check_answer(&kb, question, "guides/kettles.html#descale");
    check_answer(&kb, "How do I descale my kettle?", "guides/kettles.html#descale");

    for (entry, message) in [
        (
            "gift card",
            "search settings: synonym \"gift card\" must be one word that is not a stop word (phrases are matched by meaning with semantic search)",
        ),
        (
            "the",
            "search settings: synonym \"the\" must be one word that is not a stop word (phrases are matched by meaning with semantic search)",
        ),
    ] {
        let settings =
            SearchSettings { synonyms: vec![vec!["voucher".into(), entry.into()]], ..SearchSettings::default() };
        match build_with(&fixture_dir(), &settings) {
            Ok(_) => panic!("synonym {entry:?} was accepted"),
            Err(e) => assert_eq!(e.to_string(), message),
        }
    }
}

#[test]
fn the_language_sets_stop_words_and_stemming() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("livraison.md"),
        "# Livraison\n\nLes colis sont expédiés sous trois jours ouvrés.\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let sources = |language: crate::Language, query: &str| -> Vec<String> {
        let settings = SearchSettings { language, ..SearchSettings::default() };
        let kb = build_with(dir.path(), &settings).unwrap_or_else(|e| panic!("{e}"));
        kb.search(query, 5).unwrap_or_else(|e| panic!("{e}")).into_iter().map(|hit| hit.source).collect()
    };
    // "les" is a French stop word, not an English one.
    assert_eq!(sources(crate::Language::En, "les"), ["livraison.md#livraison"]);
    assert!(sources(crate::Language::Fr, "les").is_empty());
    // French stemming: "livraisons" and "expédié" find "Livraison" and "expédiés".
    assert_eq!(sources(crate::Language::Fr, "livraisons expédié"), ["livraison.md#livraison"]);
}

#[test]
fn question_words_of_each_language_count_neither_for_nor_against_an_answer() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pages = [
        (
            "fr",
            crate::Language::Fr,
            "# Livraison\n\nLes colis sont expédiés sous trois jours.\n",
            "Comment puis-je savoir quand mon colis est expédié ?",
        ),
        (
            "de",
            crate::Language::De,
            "# Versand\n\nPakete werden innerhalb von drei Tagen versandt.\n",
            "Wie kann ich wissen, wann mein Paket versandt wird?",
        ),
        (
            "es",
            crate::Language::Es,
            "# Envío\n\nLos paquetes se envían en tres días.\n",
            "¿Cómo puedo saber cuándo se envían los paquetes?",
        ),
        (
            "en",
            crate::Language::En,
            "# Shipping\n\nParcels are shipped within three days.\n",
            "How can I know when my parcels are shipped?",
        ),
    ];
    for (name, language, page, question) in pages {
        let folder = dir.path().join(name);
        std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(folder.join("page.md"), page).unwrap_or_else(|e| panic!("{e}"));
        let settings = SearchSettings { language, ..SearchSettings::default() };
        let kb = build_with(&folder, &settings).unwrap_or_else(|e| panic!("{e}"));
        let answer = kb.answer(question).unwrap_or_else(|e| panic!("{e}"));
        assert!(answer.is_some(), "{name}: {question:?} got no answer");
    }
}

#[test]
fn edit_distances_for_typo_tolerance() {
    for (a, b, max, want) in [
        ("kettle", "kettle", 1, Some(0)),
        ("kettle", "ketlte", 1, Some(1)),
        ("kettle", "kettles", 1, Some(1)),
        ("kettle", "kitten", 1, None),
        ("descaling", "descalign", 2, Some(1)),
        ("tea", "teapots", 2, None),
    ] {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(crate::index::edit_distance(&chars(a), &chars(b), max), want, "{a} {b}");
    }
}
