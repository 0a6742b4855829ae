//! Q&A drafts: an unresolved visitor question written into the bot's sources as a `[[qa]]`
//! with an empty answer, in `knowledge/drafts.toml`, for the owner to answer before a deploy.
//!
//! Ingest leaves a pair without an answer out (with a warning), so a draft changes nothing
//! live; it only makes `docent check` show the sources changed. The question is visitor text:
//! it is cut to [`MAX_DRAFT_CHARS`], stripped of control characters and written as an escaped
//! TOML string; only `drafts.toml` is ever written, appended to, never replaced, and only
//! while it stays under [`MAX_DRAFTS_BYTES`].

use std::io::Write;
use std::path::PathBuf;

use crate::{Error, Lifecycle, Result, io_error};

/// The file drafts go to, in the bot's `knowledge/` folder.
pub const DRAFTS_FILE: &str = "drafts.toml";

/// The longest question kept, in characters.
pub const MAX_DRAFT_CHARS: usize = 300;

/// The largest `drafts.toml` still appended to.
pub const MAX_DRAFTS_BYTES: u64 = 256 * 1024;

/// What a draft request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drafted {
    /// A new `[[qa]]` was appended to `file` with this question.
    Added { file: PathBuf, question: String },
    /// `drafts.toml` already holds a pair with this question.
    AlreadyThere { file: PathBuf, question: String },
}

/// The question as it is written: control characters out, whitespace runs made one space,
/// cut to [`MAX_DRAFT_CHARS`] characters.
pub fn clean_question(text: &str) -> String {
    let words: Vec<&str> =
        text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect();
    words.join(" ").chars().take(MAX_DRAFT_CHARS).collect::<String>().trim_end().to_owned()
}

impl Lifecycle {
    /// Appends a draft pair for `question` to the bot's `knowledge/drafts.toml`, unless one
    /// with the same question is there. `today` (`2026-12-06`) goes in the entry's comment.
    pub fn draft_qa(&self, bot: &str, question: &str, today: &str) -> Result<Drafted> {
        self.require_bot(bot)?;
        let question = clean_question(question);
        if question.is_empty() {
            return Err(Error::Refused("the question to draft is empty".into()));
        }
        let knowledge = self.bot_dir(bot).join("knowledge");
        let file = knowledge.join(DRAFTS_FILE);
        std::fs::create_dir_all(&knowledge).map_err(io_error(&knowledge))?;
        let existing = match std::fs::symlink_metadata(&file) {
            Ok(meta) if !meta.file_type().is_file() => {
                return Err(Error::Refused(format!(
                    "{} is not a plain file; drafts are not written there",
                    file.display()
                )));
            }
            Ok(meta) if meta.len() >= MAX_DRAFTS_BYTES => {
                return Err(Error::Refused(format!(
                    "{} holds {} KiB of drafts already; answer or remove some first",
                    file.display(),
                    meta.len() / 1024
                )));
            }
            Ok(_) => std::fs::read_to_string(&file).map_err(io_error(&file))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(err) => return Err(Error::Io { path: file, source: err }),
        };
        let parsed: toml::Table = toml::from_str(&existing).map_err(|err| {
            Error::Refused(format!("{} is not valid TOML; fix it first: {}", file.display(), err.message()))
        })?;
        let drafted = parsed
            .get("qa")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .any(|entry| entry.get("question").and_then(toml::Value::as_str) == Some(question.as_str()));
        if drafted {
            return Ok(Drafted::AlreadyThere { file, question });
        }
        let mut entry = String::new();
        if existing.is_empty() {
            entry.push_str("# Questions visitors asked that the bot could not answer, drafted from the console.\n");
            entry.push_str("# Write each answer (pairs with an empty answer are left out), then deploy.\n");
        } else if !existing.ends_with('\n') {
            entry.push('\n');
        }
        let quoted = toml::Value::String(question.clone()).to_string();
        entry.push_str(&format!(
            "\n[[qa]]\n# drafted {today} from an unresolved question\nquestion = {quoted}\nanswer = \"\"\n"
        ));
        let mut out = std::fs::OpenOptions::new().create(true).append(true).open(&file).map_err(io_error(&file))?;
        out.write_all(entry.as_bytes()).and_then(|()| out.sync_all()).map_err(io_error(&file))?;
        Ok(Drafted::Added { file, question })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_cleaned_and_cut() {
        for (text, expected) in
            [("  Where is\tmy   order? ", "Where is my order?"), ("a\u{0}b\r\nc", "a b c"), ("\n\t ", "")]
        {
            assert_eq!(clean_question(text), expected, "{text:?}");
        }
        assert_eq!(clean_question(&"é".repeat(400)).chars().count(), MAX_DRAFT_CHARS);
    }
}
