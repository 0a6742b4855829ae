//! Sentence embeddings on CPU: a sentence-transformers BERT model (all-MiniLM-L6-v2 by
//! default) run with candle, mean-pooled and L2-normalised, with a small cache of queries.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::report::hex;
use crate::{Error, Result};

/// Files a model folder must hold.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Longest input, in tokens; longer texts are truncated.
pub(crate) const MAX_TOKENS: usize = 256;

/// Passages embedded per forward pass.
pub(crate) const BATCH_SIZE: usize = 32;

/// Query embeddings kept in the cache.
const QUERY_CACHE_ENTRIES: usize = 512;

/// Folder name of the default model in the cache.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";

/// Where the model is looked for when none is given: `$DOCENT_MODEL`, else
/// `$XDG_CACHE_HOME/docent/models/all-MiniLM-L6-v2`, else
/// `~/.cache/docent/models/all-MiniLM-L6-v2` (where `cargo xtask model` puts it).
pub fn default_model_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCENT_MODEL").filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(cache.join("docent/models").join(DEFAULT_MODEL))
}

/// A loaded sentence-embedding model. Shareable across threads.
pub struct Embedder {
    model: BertModel,
    /// Unpadded, truncated: for single queries.
    query_tokenizer: Tokenizer,
    /// Padded to the longest text of each batch, truncated: for passages.
    batch_tokenizer: Tokenizer,
    device: Device,
    dimensions: usize,
    id: String,
    queries: Mutex<QueryCache>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("id", &self.id).field("dimensions", &self.dimensions).finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads the model in `dir`: `config.json`, `tokenizer.json` and `model.safetensors`.
    pub fn load(dir: &Path) -> Result<Embedder> {
        if !dir.is_dir() {
            return Err(Error::Model {
                path: dir.display().to_string(),
                reason: "no such model folder (it must hold config.json, tokenizer.json and model.safetensors)"
                    .to_owned(),
            });
        }
        let file = |name: &str| -> Result<(PathBuf, Vec<u8>)> {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|err| Error::Model {
                path: path.display().to_string(),
                reason: format!("cannot read model file: {err}"),
            })?;
            Ok((path, bytes))
        };
        let bad = |path: &Path, reason: String| Error::Model { path: path.display().to_string(), reason };

        let (config_path, config) = file("config.json")?;
        let config: Config =
            serde_json::from_slice(&config).map_err(|err| bad(&config_path, format!("not a BERT config: {err}")))?;
        let dimensions = config.hidden_size;

        let (tokenizer_path, tokenizer) = file("tokenizer.json")?;
        let tokenizer =
            Tokenizer::from_bytes(&tokenizer).map_err(|err| bad(&tokenizer_path, format!("not a tokenizer: {err}")))?;
        let truncation = TruncationParams { max_length: MAX_TOKENS, ..TruncationParams::default() };
        let mut query_tokenizer = tokenizer.clone();
        query_tokenizer.with_padding(None);
        query_tokenizer
            .with_truncation(Some(truncation.clone()))
            .map_err(|err| bad(&tokenizer_path, err.to_string()))?;
        let mut batch_tokenizer = tokenizer;
        batch_tokenizer
            .with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..PaddingParams::default() }));
        batch_tokenizer.with_truncation(Some(truncation)).map_err(|err| bad(&tokenizer_path, err.to_string()))?;

        let (weights_path, weights) = file("model.safetensors")?;
        let digest = hex(&Sha256::digest(&weights));
        let device = Device::Cpu;
        let vars = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|err| bad(&weights_path, format!("not a safetensors file: {err}")))?;
        let model = BertModel::load(vars, &config)
            .map_err(|err| bad(&weights_path, format!("weights do not fit config.json: {err}")))?;

        let name =
            dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "model".to_owned());
        let id = format!("{name}@{}", &digest[..12]);
        tracing::debug!(model = %id, dimensions, "embedding model loaded");
        Ok(Embedder {
            model,
            query_tokenizer,
            batch_tokenizer,
            device,
            dimensions,
            id,
            queries: Mutex::new(QueryCache::default()),
        })
    }

    /// The model's name (its folder's) and the first 12 hex digits of the
    /// SHA-256 of its weights: `all-MiniLM-L6-v2@53aa51172d14`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Length of every vector.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// The unit vector of one query (cached: repeated questions are free).
    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        if let Some(vector) = self.queries.lock().ok().and_then(|mut cache| cache.get(text)) {
            return Ok(vector);
        }
        let encoding = self.query_tokenizer.encode(text, true).map_err(|err| self.failed(err.to_string()))?;
        let len = encoding.get_ids().len();
        let ids = Tensor::from_slice(encoding.get_ids(), (1, len), &self.device).map_err(|err| self.failed(err))?;
        let mask = Tensor::from_slice(encoding.get_attention_mask(), (1, len), &self.device)
            .map_err(|err| self.failed(err))?;
        let vector = self.forward(&ids, &mask)?.pop().unwrap_or_default();
        if let Ok(mut cache) = self.queries.lock() {
            cache.put(text, vector.clone());
        }
        Ok(vector)
    }

    /// Unit vectors of passages, in batches of 32, each padded to
    /// its longest text.
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH_SIZE) {
            let encodings =
                self.batch_tokenizer.encode_batch(batch.to_vec(), true).map_err(|err| self.failed(err.to_string()))?;
            let len = encodings.first().map_or(0, |e| e.get_ids().len());
            let ids: Vec<u32> = encodings.iter().flat_map(|e| e.get_ids().iter().copied()).collect();
            let mask: Vec<u32> = encodings.iter().flat_map(|e| e.get_attention_mask().iter().copied()).collect();
            let ids = Tensor::from_vec(ids, (batch.len(), len), &self.device).map_err(|err| self.failed(err))?;
            let mask = Tensor::from_vec(mask, (batch.len(), len), &self.device).map_err(|err| self.failed(err))?;
            out.extend(self.forward(&ids, &mask)?);
        }
        Ok(out)
    }

    /// Runs the model and mean-pools the token vectors under `mask`, then L2-normalises.
    fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Vec<Vec<f32>>> {
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let types = ids.zeros_like()?;
            let hidden = self.model.forward(ids, &types, Some(mask))?;
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
            let counts = mask.sum(1)?.clamp(1e-9, f32::MAX)?;
            let mean = summed.broadcast_div(&counts)?;
            let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f32::MAX)?;
            mean.broadcast_div(&norms)?.to_vec2::<f32>()
        };
        run().map_err(|err| self.failed(err))
    }

    fn failed(&self, err: impl std::fmt::Display) -> Error {
        Error::Embed { model: self.id.clone(), reason: err.to_string() }
    }
}

/// Dot product of two unit vectors: their cosine similarity.
pub(crate) fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A small least-recently-used map from query text to its vector.
#[derive(Debug, Default)]
struct QueryCache {
    entries: HashMap<String, (Vec<f32>, u64)>,
    clock: u64,
}

impl QueryCache {
    fn get(&mut self, text: &str) -> Option<Vec<f32>> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(text).map(|(vector, used)| {
            *used = clock;
            vector.clone()
        })
    }

    fn put(&mut self, text: &str, vector: Vec<f32>) {
        self.clock += 1;
        if self.entries.len() >= QUERY_CACHE_ENTRIES && !self.entries.contains_key(text) {
            let oldest = self.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(text.to_owned(), (vector, self.clock));
    }
}
