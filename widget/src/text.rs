//! The sentences the widget shows: the gateway sends them with the bot's configuration, in the
//! page's language under the bot's own wording; English is built in only for what the widget
//! says without a configuration.

use docent_protocol::WIDGET_TEXT_KEYS;
use wasm_bindgen::JsValue;

use crate::api::{field, string};

/// One sentence; its number is its place in [`WIDGET_TEXT_KEYS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Text {
    Assistant,
    Launcher,
    Close,
    NewConversation,
    NotAvailable,
    Unreachable,
    Conversation,
    YourMessage,
    Placeholder,
    Send,
    YouSaid,
    AssistantSaid,
    Typing,
    Source,
    Sources,
    UntitledSource,
    ContactUs,
    Retry,
    TooLong,
    TooMany,
    BotOffline,
    LimitReached,
    Network,
    SomethingWrong,
    StaffIntro,
    Password,
    SignIn,
    EnterPassword,
    WrongPassword,
    TooManyAttempts,
    SessionEnded,
    Helpful,
    NotHelpful,
    Rate,
    RatingScale,
    OutOfFive,
    Thanks,
}

/// The sentences shown without a configuration (the first of [`WIDGET_TEXT_KEYS`]), one a line.
const WITHOUT_CONFIG: &str = "\
Assistant\n\
Chat\n\
Close chat\n\
New conversation\n\
This assistant is not available on this site.\n\
The assistant can't be reached right now. Please try again later.";

/// The sentences of one widget, and the language and direction they are written in.
pub(crate) struct Strings {
    sentences: Vec<String>,
    /// The primary language subtag, e.g. `fr`.
    pub(crate) language: String,
    /// `ltr` or `rtl`.
    pub(crate) dir: String,
}

impl Strings {
    /// The sentences the gateway resolved for this page (`language`, `dir`, `strings` of the
    /// configuration), or the built-in English ones when there is no configuration.
    pub(crate) fn new(config: Option<&JsValue>) -> Strings {
        match config {
            Some(config) => {
                let strings = field(config, "strings");
                Strings {
                    sentences: WIDGET_TEXT_KEYS.iter().map(|key| string(&strings, key)).collect(),
                    language: string(config, "language"),
                    dir: string(config, "dir"),
                }
            }
            None => Strings {
                sentences: WITHOUT_CONFIG.split('\n').map(str::to_owned).collect(),
                language: "en".to_owned(),
                dir: "ltr".to_owned(),
            },
        }
    }

    /// The sentence for `text`.
    pub(crate) fn get(&self, text: Text) -> &str {
        self.sentences.get(text as usize).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_texts_follow_the_keys() {
        for (text, key) in [
            (Text::Assistant, "assistant"),
            (Text::NotAvailable, "not_available"),
            (Text::Unreachable, "unreachable"),
            (Text::Conversation, "conversation"),
            (Text::Send, "send"),
            (Text::StaffIntro, "staff_intro"),
            (Text::Thanks, "thanks"),
        ] {
            assert_eq!(WIDGET_TEXT_KEYS[text as usize], key);
        }
        assert_eq!(Text::Thanks as usize, WIDGET_TEXT_KEYS.len() - 1);
        assert_eq!(WITHOUT_CONFIG.split('\n').count(), Text::Conversation as usize);
    }
}
