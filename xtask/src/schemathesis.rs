//! schemathesis, the OpenAPI fuzzer the API test runs, installed from PyPI into a virtualenv
//! in the cache folder (`$XDG_CACHE_HOME/docent/tools/schemathesis-VERSION`).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

use crate::{model, run};

const VERSION: &str = "4.32.5";

/// The `st` command, installed first when missing. `DOCENT_SCHEMATHESIS`, when set, wins as is.
pub(crate) fn ensure_schemathesis() -> anyhow::Result<PathBuf> {
    if let Some(st) = std::env::var_os("DOCENT_SCHEMATHESIS").filter(|path| !path.is_empty()) {
        return Ok(PathBuf::from(st));
    }
    let venv = model::cache_dir()?.join("tools").join(format!("schemathesis-{VERSION}"));
    let st = venv.join("bin/st");
    // Written last: a folder without it is an interrupted install, redone from scratch.
    let complete = venv.join(".complete");
    if complete.is_file() && st.is_file() {
        return Ok(st);
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).with_context(|| format!("cannot remove the incomplete {}", venv.display()))?;
    }
    if Command::new("python3").args(["-c", "import venv, ensurepip"]).output().map_or(true, |out| !out.status.success())
    {
        bail!("python3 with venv is needed to install schemathesis: apt-get install python3-venv");
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", &format!("schemathesis=={VERSION}")]))?;
    std::fs::write(&complete, VERSION).with_context(|| format!("cannot write {}", complete.display()))?;
    Ok(st)
}
