//! The bots folder: one folder per bot, each with `bot.toml` and `knowledge/`, loaded and indexed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use docent_indexer::{BuildOptions, KnowledgeBase, SearchSettings};
use docent_protocol::{Reply, ReplyKind};

use docent_lifecycle::config::{self, BotConfig};

/// A bot ready to answer: its settings and its indexed knowledge.
pub struct Bot {
    pub config: BotConfig,
    pub knowledge: KnowledgeBase,
}

impl Bot {
    /// Loads the bot in `dir`, whose folder name is its id.
    pub fn load(dir: &Path) -> Result<Bot, LoadError> {
        let id = dir.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        if !config::is_valid_bot_id(id) {
            return Err(LoadError::at(
                dir,
                "a bot folder's name is its id: 1 to 64 lowercase letters, digits or '-', starting with a letter or digit",
            ));
        }
        let config = config::load(&dir.join("bot.toml"), id)?;
        let knowledge_dir = dir.join("knowledge");
        if !knowledge_dir.is_dir() {
            return Err(LoadError::at(&knowledge_dir, "missing knowledge folder"));
        }
        let settings = SearchSettings::default();
        let options = BuildOptions { settings: &settings, embedder: None, embedding_cache: None };
        let knowledge = KnowledgeBase::build(&knowledge_dir, &options)
            .map_err(|err| LoadError::at(&knowledge_dir, &err.to_string()))?;
        Ok(Bot { config, knowledge })
    }

    /// What the bot says to `question`: an answer with its sources, or an honest
    /// "I don't know" with the way to reach a person.
    pub fn reply(&self, question: &str) -> Result<Reply, docent_indexer::Error> {
        Ok(match self.knowledge.answer(question)? {
            Some(answer) => Reply { kind: answer.kind, text: answer.text, sources: answer.sources, handoff: None },
            None => Reply {
                kind: ReplyKind::Unknown,
                text: self.config.unknown_answer.clone(),
                sources: Vec::new(),
                handoff: self.config.handoff.clone(),
            },
        })
    }
}

/// Every loaded bot, by id.
#[derive(Default)]
pub struct Registry {
    bots: BTreeMap<String, Arc<Bot>>,
}

impl Registry {
    /// Loads every bot folder in `bots_dir`. All problems are collected, so an
    /// operator sees every broken bot at once; any problem fails the load.
    pub fn load(bots_dir: &Path) -> Result<Registry, Vec<LoadError>> {
        let entries = std::fs::read_dir(bots_dir)
            .map_err(|err| vec![LoadError::at(bots_dir, &format!("cannot read bots folder: {err}"))])?;
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.is_dir() && !is_hidden(path))
            .collect();
        dirs.sort();
        let mut bots = BTreeMap::new();
        let mut errors = Vec::new();
        for dir in dirs {
            match Bot::load(&dir) {
                Ok(bot) => {
                    bots.insert(bot.config.id.clone(), Arc::new(bot));
                }
                Err(err) => errors.push(err),
            }
        }
        if bots.is_empty() && errors.is_empty() {
            errors.push(LoadError::at(bots_dir, "no bot folders found"));
        }
        if errors.is_empty() { Ok(Registry { bots }) } else { Err(errors) }
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Bot>> {
        self.bots.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Bot>> {
        self.bots.values()
    }

    pub fn len(&self) -> usize {
        self.bots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bots.is_empty()
    }
}

fn is_hidden(path: &Path) -> bool {
    path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with('.'))
}

/// Why a bot could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("{}: {message}", path.display())]
    Other { path: PathBuf, message: String },
}

impl LoadError {
    fn at(path: &Path, message: &str) -> LoadError {
        LoadError::Other { path: path.to_owned(), message: message.to_owned() }
    }
}
