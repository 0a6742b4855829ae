//! Command-line options shared by `docent serve` and the lifecycle commands: where the bots,
//! the data directory, the embedding model and the widget build are.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use docent_indexer::Embedder;
use docent_lifecycle::store::PgUrl;
use docent_lifecycle::{Artifacts, LifecycleOptions, PeakHours};

use crate::assets::WidgetAssets;

/// The owners' sources, the live state, and the model that embeds them.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// The bots folder: one folder per bot, named by its id.
    #[arg(long = "bots", default_value = "bots", env = "DOCENT_BOTS")]
    pub bots: PathBuf,
    /// The data directory: every generation's artifacts, and the store unless `--store` names one.
    #[arg(long = "data", default_value = "docent-data", env = "DOCENT_DATA")]
    pub data: PathBuf,
    /// A PostgreSQL store shared by several gateways: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.
    /// Without it, the store is SQLite in the data directory.
    #[arg(long = "store", env = "DOCENT_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// Where gateways on a PostgreSQL store find each generation: `store` (the default) publishes
    /// it into the database at deploy and each gateway fetches and verifies its own copy;
    /// `shared` means every gateway shares this data directory. Not for a SQLite store.
    #[arg(long = "artifacts", env = "DOCENT_ARTIFACTS", value_enum)]
    pub artifacts: Option<ArtifactsArg>,
    /// A sentence-transformers BERT folder (config.json, tokenizer.json, model.safetensors) for
    /// semantic search. Without it, bots use lexical search only.
    #[arg(long = "model", env = "DOCENT_MODEL")]
    pub model: Option<PathBuf>,
    /// Peak hours (UTC) in which scheduled changes are warned about.
    #[arg(long, env = "DOCENT_PEAK_HOURS", default_value = "8-20", value_parser = PeakHours::parse)]
    pub peak_hours: PeakHours,
    /// Generations kept per bot besides the live and previous ones.
    #[arg(long, env = "DOCENT_KEEP_GENERATIONS", default_value_t = 5)]
    pub keep: usize,
}

impl DataArgs {
    /// Lifecycle options for these folders, with the store URL checked and the model loaded.
    pub fn lifecycle_options(&self) -> anyhow::Result<LifecycleOptions> {
        let mut options = LifecycleOptions::new(&self.data, &self.bots);
        options.store = self.store.as_deref().map(PgUrl::parse).transpose().context("--store (or DOCENT_STORE)")?;
        options.artifacts = match (self.artifacts, &options.store) {
            (None | Some(ArtifactsArg::Store), Some(_)) => Artifacts::Store,
            (Some(ArtifactsArg::Shared), Some(_)) => Artifacts::Directory,
            (None, None) => Artifacts::Directory,
            (Some(_), None) => anyhow::bail!(
                "--artifacts (or DOCENT_ARTIFACTS) needs a PostgreSQL --store: a SQLite store keeps generations in its data directory"
            ),
        };
        options.peak_hours = self.peak_hours;
        options.keep_generations = self.keep;
        options.embedder = self.model.as_deref().map(load_model).transpose()?;
        Ok(options)
    }
}

/// The values of `--artifacts`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactsArg {
    Store,
    Shared,
}

impl DataArgs {
    /// Whether a store exists to be opened: a PostgreSQL one is named, or the data directory holds SQLite's.
    pub fn has_store(&self) -> bool {
        self.store.is_some() || self.data.join("docent.sqlite").is_file()
    }
}

/// Loads the embedding model in `dir`, naming the folder when it cannot.
pub fn load_model(dir: &Path) -> anyhow::Result<Arc<Embedder>> {
    let embedder = Embedder::load(dir).with_context(|| format!("cannot load the model in {}", dir.display()))?;
    tracing::info!(model = %embedder.id(), "embedding model loaded");
    Ok(Arc::new(embedder))
}

/// Where the widget build comes from.
#[derive(Args, Debug, Clone)]
pub struct WidgetArgs {
    /// Serve the widget from this folder instead of the build embedded in the binary.
    #[arg(long, env = "DOCENT_WIDGET_DIR")]
    pub widget_dir: Option<PathBuf>,
}

impl WidgetArgs {
    /// The widget build: the folder given, else the one embedded in the binary, else the
    /// workspace's `target/widget-dist` (development builds).
    pub fn load(&self) -> anyhow::Result<WidgetAssets> {
        match (&self.widget_dir, WidgetAssets::embedded()) {
            (Some(dir), _) => WidgetAssets::from_dir(dir),
            (None, Some(embedded)) => Ok(embedded),
            (None, None) => {
                WidgetAssets::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/widget-dist"))
            }
        }
        .map_err(anyhow::Error::msg)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        data: DataArgs,
    }

    /// Where generations are found, from the flags; `Err` holds the refusal's text.
    fn artifacts(flags: &[&str]) -> Result<Artifacts, String> {
        let parsed = Flags::try_parse_from(std::iter::once("docent").chain(flags.iter().copied()))
            .map_err(|err| err.to_string())?;
        parsed.data.lifecycle_options().map(|options| options.artifacts).map_err(|err| format!("{err:#}"))
    }

    #[test]
    fn artifacts_default_to_the_store_on_postgresql_and_are_refused_without_it() {
        let url = "postgres://docent@db.internal/docent";
        assert_eq!(artifacts(&[]), Ok(Artifacts::Directory));
        assert_eq!(artifacts(&["--store", url]), Ok(Artifacts::Store));
        assert_eq!(artifacts(&["--store", url, "--artifacts", "store"]), Ok(Artifacts::Store));
        assert_eq!(artifacts(&["--store", url, "--artifacts", "shared"]), Ok(Artifacts::Directory));
        for refused in [&["--artifacts", "store"][..], &["--artifacts", "shared"]] {
            let err = artifacts(refused).unwrap_err();
            assert!(err.contains("needs a PostgreSQL --store"), "{refused:?}: {err}");
        }
        let err = artifacts(&["--store", url, "--artifacts", "nfs"]).unwrap_err();
        assert!(err.contains("invalid value 'nfs'") && err.contains("store, shared"), "{err}");
    }
}
