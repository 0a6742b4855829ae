//! `cargo xtask eval`: retrieval and reply quality on the dev sets in `demo/eval/`,
//! beside a reference BM25 (PyPI `bm25s` + `PyStemmer`) run on the same sections.

use std::path::Path;
use std::process::Command;

use crate::{cargo, model, run};

/// The dev sets, relative to the workspace root.
const SETS: [&str; 7] = [
    "demo/eval/brightwater.toml",
    "demo/eval/debian-faq.toml",
    "demo/eval/debian-faq-answers.toml",
    "demo/eval/pool-faq-bold.toml",
    "demo/eval/pool-faq-details.toml",
    "demo/eval/dental-faq.toml",
    "demo/eval/bike-faq.toml",
];

pub(crate) fn run_eval(root: &Path) -> anyhow::Result<()> {
    let model = model::ensure_model()?;
    ensure_reference_bm25()?;
    run(cargo(root)
        .args(["run", "--quiet", "-p", "docent-indexer", "--example", "eval", "--"])
        .args(SETS)
        .env("DOCENT_MODEL", &model))
}

/// Installs `bm25s` and `PyStemmer` with pip when Python lacks them (or says how).
fn ensure_reference_bm25() -> anyhow::Result<()> {
    let has = |code: &str| Command::new("python3").args(["-c", code]).output().is_ok_and(|out| out.status.success());
    if has("import bm25s, Stemmer") {
        return Ok(());
    }
    if !has("import pip") {
        eprintln!("the reference BM25 needs: python3 -m pip install bm25s PyStemmer (pip is missing)");
        return Ok(());
    }
    run(Command::new("python3").args(["-m", "pip", "install", "--quiet", "bm25s", "PyStemmer"]))
}
