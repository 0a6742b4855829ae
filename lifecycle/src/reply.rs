//! What a bot says to a question: the same function serves visitors and deploy tests.

use docent_indexer::{KnowledgeBase, Outcome};
use docent_protocol::{Reply, ReplyKind};

use crate::config::BotConfig;

/// The text before suggested sources.
pub const SUGGESTIONS_TEXT: &str = "These pages may help:";

/// The reply to `question`: an answer with its sources, sources that may help, or the
/// configured "I don't know" with the way to reach a person.
pub fn reply(config: &BotConfig, knowledge: &KnowledgeBase, question: &str) -> docent_indexer::Result<Reply> {
    Ok(match knowledge.reply(question)? {
        Outcome::Answer(answer) => {
            Reply { kind: answer.kind, text: answer.text, sources: answer.sources, handoff: None }
        }
        Outcome::Suggestions(sources) => Reply {
            kind: ReplyKind::Suggestions,
            text: SUGGESTIONS_TEXT.to_owned(),
            sources,
            handoff: config.handoff.clone(),
        },
        Outcome::Unknown => Reply {
            kind: ReplyKind::Unknown,
            text: config.unknown_answer.clone(),
            sources: Vec::new(),
            handoff: config.handoff.clone(),
        },
    })
}
