//! Index artifacts: `build_into` then `open` answers as `build` does; incomplete or
//! foreign folders are refused with errors naming them.

use std::path::Path;

use super::{build_lexical, fixture_dir};
use crate::{ARTIFACT_FORMAT, BuildEvent, BuildOptions, KnowledgeBase, SearchSettings};

const QUESTIONS: &[&str] = &[
    "How many days until the parcel arrives?",
    "How long should I brew green tea?",
    "How do I descale my kettle?",
    "gift cards?",
    "What's the weather like in Paris?",
];

/// Builds the fixture knowledge into `out`, lexical only, recording the events.
fn build_fixture_into(out: &Path) -> (crate::Manifest, Vec<BuildEvent>) {
    let settings = SearchSettings::default();
    let options = BuildOptions { settings: &settings, embedder: None, embedding_cache: None };
    let mut events = Vec::new();
    let manifest = KnowledgeBase::build_into(&fixture_dir(), out, &options, &mut |event| events.push(event))
        .unwrap_or_else(|e| panic!("{e}"));
    (manifest, events)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn an_opened_artifact_answers_like_a_fresh_build() {
    let dir = tempdir();
    let out = dir.path().join("artifact");
    let (manifest, events) = build_fixture_into(&out);
    assert_eq!(manifest.format, ARTIFACT_FORMAT);
    assert_eq!(manifest.model, None);
    assert!(manifest.inventory.files.contains_key("guides/brewing.md"), "{manifest:?}");
    assert_eq!(manifest.inventory.qa.len(), 3, "{manifest:?}");
    assert_eq!(events.first(), Some(&BuildEvent::ReadingFiles { total: manifest.inventory.files.len() as u64 }));
    assert_eq!(events.last(), Some(&BuildEvent::Done));
    assert!(out.join("manifest.json").is_file() && out.join("index/meta.json").is_file());

    let fresh = build_lexical(&fixture_dir()).unwrap_or_else(|e| panic!("{e}"));
    let opened = KnowledgeBase::open(&out, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(opened.manifest(), &manifest);
    assert_eq!(opened.stats(), fresh.stats());
    for question in QUESTIONS {
        let want = fresh.answer(question).unwrap_or_else(|e| panic!("{e}"));
        let got = opened.answer(question).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, want, "{question}");
        let want: Vec<_> =
            fresh.search(question, 5).unwrap_or_else(|e| panic!("{e}")).into_iter().map(|h| h.source).collect();
        let got: Vec<_> =
            opened.search(question, 5).unwrap_or_else(|e| panic!("{e}")).into_iter().map(|h| h.source).collect();
        assert_eq!(got, want, "{question}");
    }
}

#[test]
fn build_into_refuses_a_folder_that_is_not_empty() {
    let dir = tempdir();
    std::fs::write(dir.path().join("old.txt"), "x").unwrap_or_else(|e| panic!("{e}"));
    let settings = SearchSettings::default();
    let options = BuildOptions { settings: &settings, embedder: None, embedding_cache: None };
    let err = KnowledgeBase::build_into(&fixture_dir(), dir.path(), &options, &mut |_| {})
        .err()
        .unwrap_or_else(|| panic!("a full folder was accepted"));
    assert_eq!(err.to_string(), format!("index artifact {}: the output folder is not empty", dir.path().display()));
}

/// Damages a good artifact with `damage`, then expects `open` to fail with `message`
/// (`{dir}` stands for the artifact folder).
fn check_refused(damage: &dyn Fn(&Path), message: &str) {
    let dir = tempdir();
    let out = dir.path().join("artifact");
    build_fixture_into(&out);
    damage(&out);
    match KnowledgeBase::open(&out, None) {
        Ok(_) => panic!("a damaged artifact opened; expected: {message}"),
        Err(e) => assert_eq!(e.to_string(), message.replace("{dir}", &out.display().to_string())),
    }
}

#[test]
fn open_refuses_incomplete_or_foreign_artifacts() {
    let write = |name: &'static str, text: &'static str| {
        move |out: &Path| std::fs::write(out.join(name), text).unwrap_or_else(|e| panic!("{e}"))
    };
    // An interrupted build: everything but the manifest.
    check_refused(
        &|out| std::fs::remove_file(out.join("manifest.json")).unwrap_or_else(|e| panic!("{e}")),
        "index artifact {dir}: no manifest.json: not a complete index artifact (an interrupted build?)",
    );
    check_refused(
        &write("manifest.json", "{\"format\": 1"),
        "index artifact {dir}/manifest.json: not a valid manifest: EOF while parsing an object at line 1 column 12",
    );
    check_refused(
        &write("manifest.json", "{\"format\": 99}"),
        "index artifact {dir}/manifest.json: artifact format 99 is not the format 1 this version reads: train again",
    );
    check_refused(
        &write("manifest.json", "{\"format\": 1}"),
        "index artifact {dir}/manifest.json: not a valid manifest: missing field `inventory` at line 1 column 13",
    );
    check_refused(
        &|out| std::fs::remove_dir_all(out.join("index")).unwrap_or_else(|e| panic!("{e}")),
        "index artifact {dir}: no index folder: not a complete index artifact",
    );
    let missing = Path::new("/nonexistent/docent-artifact");
    let err = KnowledgeBase::open(missing, None).err().unwrap_or_else(|| panic!("opened a missing folder"));
    assert_eq!(err.to_string(), "index artifact /nonexistent/docent-artifact: no such folder");
}
