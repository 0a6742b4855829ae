//! `bot.toml`: parsed into raw serde shapes, then validated into a [`BotConfig`].
//!
//! Every mistake is reported at load time with the file, the line and the key,
//! never at the first request.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use docent_indexer::SearchSettings;
use docent_protocol::{Appearance, ConversationStorage, Handoff, Position, Theme, Visibility, WIDGET_TEXT_KEYS};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::origin::{Origin, OriginPattern};

/// A problem in a bot's configuration, located as precisely as possible.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

/// A bot's validated settings.
///
/// Settings are of three sorts, which decide the kind of an update (see [`differences`]):
/// chatroom settings (what the widget shows: name, greeting, unknown answer, handoff,
/// appearance, allowed origins, privacy text) change with a quick update that reuses the
/// index; `[search]` changes the index and needs a complete one; the rest (description,
/// profile, deploy rules, tests) is checked at deploy time. `visibility` and `[access]` only
/// seed the store at the bot's first deploy: afterwards the store's run-time values win.
#[derive(Debug, Clone, PartialEq)]
pub struct BotConfig {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub visibility: Visibility,
    pub allowed_origins: Vec<OriginPattern>,
    pub greeting: String,
    pub unknown_answer: String,
    pub handoff: Option<Handoff>,
    pub appearance: Appearance,
    /// Shown to visitors before they chat (chatroom setting).
    pub privacy_text: Option<String>,
    pub access: Access,
    /// The survey: who the bot speaks for, to whom and how.
    pub profile: Profile,
    pub search: SearchSettings,
    pub deploy: DeploySettings,
    /// Questions every deploy asks the new generation before it goes live.
    pub tests: Vec<TestCase>,
}

/// The survey (`[profile]`): every answer is needed to deploy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub company: Option<String>,
    pub purpose: Option<String>,
    pub audience: Option<String>,
    pub tone: Option<String>,
    pub escalation_contact: Option<String>,
    pub language: Option<String>,
}

impl Profile {
    /// The survey questions left unanswered, by key.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("company", &self.company),
            ("purpose", &self.purpose),
            ("audience", &self.audience),
            ("tone", &self.tone),
            ("escalation_contact", &self.escalation_contact),
            ("language", &self.language),
        ]
        .into_iter()
        .filter(|(_, value)| value.as_deref().is_none_or(|text| text.trim().is_empty()))
        .map(|(key, _)| key)
        .collect()
    }
}

/// `[deploy]`: rules a deploy enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploySettings {
    /// Fewest Q&A pairs the knowledge must hold.
    pub min_qa: usize,
}

/// Default of `[deploy] min_qa`.
pub const DEFAULT_MIN_QA: usize = 10;

/// One `[[test]]`: a question and what its reply must show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestCase {
    pub question: String,
    pub expect: Expect,
    /// Line of the `[[test]]` in bot.toml.
    pub line: usize,
    /// `critical = true`: one of the tests a hotfix deploy runs (`docent deploy --hotfix`).
    pub critical: bool,
}

/// What a test question's reply must show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "expect", content = "value")]
pub enum Expect {
    /// A source id (`faq.toml#slug`, `shipping.md#returns`) or a file (`shipping.md`) among the sources.
    Source(String),
    /// A substring of the reply text (case-insensitive).
    Text(String),
    /// The "I don't know" reply.
    Unknown,
}

/// A setting that differs between two configs, by its bot.toml key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingChange {
    pub key: &'static str,
    /// A chatroom setting: a quick update applies it without reindexing.
    pub chatroom: bool,
    /// It changes the index: a complete update is needed.
    pub reindex: bool,
}

/// The settings that differ from `old` to `new` (visibility and `[access]` are not compared:
/// the store holds their live values).
pub fn differences(old: &BotConfig, new: &BotConfig) -> Vec<SettingChange> {
    let chatroom = |key, same: bool| (!same).then_some(SettingChange { key, chatroom: true, reindex: false });
    let other = |key, same: bool, reindex| (!same).then_some(SettingChange { key, chatroom: false, reindex });
    [
        chatroom("name", old.name == new.name),
        chatroom("greeting", old.greeting == new.greeting),
        chatroom("unknown_answer", old.unknown_answer == new.unknown_answer),
        chatroom("handoff", old.handoff == new.handoff),
        chatroom("appearance", old.appearance == new.appearance),
        chatroom("allowed_origins", old.allowed_origins == new.allowed_origins),
        chatroom("privacy_text", old.privacy_text == new.privacy_text),
        other("description", old.description == new.description, false),
        other("profile", old.profile == new.profile, false),
        other("deploy", old.deploy == new.deploy, false),
        other("test", old.tests == new.tests, false),
        other("search", old.search == new.search, true),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// How staff prove they may use an internal bot. Empty for public bots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// An argon2 hash in PHC string form.
    pub password_hash: Option<String>,
    /// SHA-256 digests of the access tokens that are accepted as bearer tokens.
    pub token_digests: Vec<[u8; 32]>,
}

impl BotConfig {
    /// Whether a page on `origin` may use this bot.
    pub fn allows_origin(&self, origin: &Origin) -> bool {
        self.allowed_origins.iter().any(|pattern| pattern.matches(origin))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBotConfig {
    name: Spanned<String>,
    description: Option<String>,
    visibility: Visibility,
    #[serde(default)]
    allowed_origins: Vec<Spanned<String>>,
    greeting: Option<String>,
    unknown_answer: Option<String>,
    privacy_text: Option<String>,
    handoff: Option<RawHandoff>,
    #[serde(default)]
    appearance: RawAppearance,
    access: Option<Spanned<RawAccess>>,
    #[serde(default)]
    profile: Profile,
    #[serde(default)]
    search: SearchSettings,
    #[serde(default)]
    deploy: RawDeploy,
    #[serde(default)]
    test: Vec<Spanned<RawTest>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDeploy {
    min_qa: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    question: String,
    expect_source: Option<String>,
    expect_text: Option<String>,
    expect: Option<Spanned<String>>,
    critical: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHandoff {
    label: String,
    url: Spanned<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAppearance {
    accent_color: Option<Spanned<String>>,
    position: Option<Position>,
    launcher_label: Option<String>,
    #[serde(default)]
    conversation_storage: ConversationStorage,
    #[serde(default)]
    theme: Theme,
    locale: Option<Spanned<String>>,
    #[serde(default)]
    strings: BTreeMap<Spanned<String>, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccess {
    password_hash: Option<Spanned<String>>,
    #[serde(default)]
    token_sha256: Vec<Spanned<String>>,
}

const DEFAULT_ACCENT: &str = "#1f6feb";
const DEFAULT_UNKNOWN_ANSWER: &str = "Sorry, I don't know the answer to that. A person from our team can help you.";

/// Reads and validates `path`, the `bot.toml` of the bot named `id`.
pub fn load(path: &Path, id: &str) -> Result<BotConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
        path: path.to_owned(),
        line: None,
        message: format!("cannot read bot config: {err}"),
    })?;
    parse(path, id, &text)
}

/// Validates the text of a `bot.toml`; `path` is only used in errors.
pub fn parse(path: &Path, id: &str, text: &str) -> Result<BotConfig, ConfigError> {
    let error_at = |span: Option<std::ops::Range<usize>>, message: String| ConfigError {
        path: path.to_owned(),
        line: span.map(|span| line_of(text, span.start)),
        message,
    };
    // A syntax error that runs to the end (an unterminated string) points past the last line, or
    // nowhere: it is reported at the last line.
    let end = text.trim_end().len();
    let raw: RawBotConfig = toml::from_str(text).map_err(|err| {
        let span = err.span().map_or(end..end, |span| span.start.min(end)..span.end);
        error_at(Some(span), err.message().to_owned())
    })?;

    let name = raw.name.get_ref().trim().to_owned();
    if name.is_empty() {
        return Err(error_at(Some(raw.name.span()), "`name` must not be empty".into()));
    }

    let mut allowed_origins = Vec::with_capacity(raw.allowed_origins.len());
    for entry in &raw.allowed_origins {
        let pattern = OriginPattern::parse(entry.get_ref().trim())
            .map_err(|why| error_at(Some(entry.span()), format!("`allowed_origins`: {why}")))?;
        allowed_origins.push(pattern);
    }

    let handoff = match raw.handoff {
        Some(handoff) => {
            let url = handoff.url.get_ref().trim();
            if !["https://", "http://", "mailto:"].iter().any(|scheme| url.starts_with(scheme)) {
                return Err(error_at(
                    Some(handoff.url.span()),
                    format!("`handoff.url`: `{url}` must start with https://, http:// or mailto:"),
                ));
            }
            Some(Handoff { label: non_empty_or(handoff.label, "Contact us"), url: url.to_owned() })
        }
        None => None,
    };

    let accent_color = match raw.appearance.accent_color {
        Some(color) => {
            let value = color.get_ref().trim().to_ascii_lowercase();
            if !is_hex_color(&value) {
                return Err(error_at(
                    Some(color.span()),
                    format!("`appearance.accent_color`: `{value}` must be a #rrggbb color"),
                ));
            }
            value
        }
        None => DEFAULT_ACCENT.to_owned(),
    };

    let locale = match raw.appearance.locale {
        Some(locale) => {
            let value = locale.get_ref().trim().to_owned();
            let is_tag = (2..=35).contains(&value.len())
                && value.split('-').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
            if !is_tag {
                return Err(error_at(
                    Some(locale.span()),
                    format!("`appearance.locale`: `{value}` must be a language tag such as `fr` or `de-CH`"),
                ));
            }
            value
        }
        None => String::new(),
    };
    let mut strings = BTreeMap::new();
    for (key, sentence) in raw.appearance.strings {
        if !WIDGET_TEXT_KEYS.contains(&key.get_ref().as_str()) {
            return Err(error_at(
                Some(key.span()),
                format!(
                    "`appearance.strings`: no widget sentence is named `{}`; the names are {}",
                    key.get_ref(),
                    WIDGET_TEXT_KEYS.join(", ")
                ),
            ));
        }
        strings.insert(key.into_inner(), sentence);
    }

    let access = match (raw.visibility, raw.access) {
        (Visibility::Public, None) => Access::default(),
        (Visibility::Public, Some(access)) => {
            return Err(error_at(
                Some(access.span()),
                "`access` applies to internal bots only; remove it or set `visibility = \"internal\"`".into(),
            ));
        }
        (Visibility::Internal, None) => {
            return Err(error_at(
                None,
                "an internal bot needs an `[access]` table with `password_hash` or `token_sha256`".into(),
            ));
        }
        (Visibility::Internal, Some(access)) => {
            let span = access.span();
            let access = access.into_inner();
            let password_hash = match access.password_hash {
                Some(hash) => {
                    let value = hash.get_ref().trim();
                    crate::access::check_password_hash(value)
                        .map_err(|why| error_at(Some(hash.span()), format!("`access.password_hash` {why}")))?;
                    Some(value.to_owned())
                }
                None => None,
            };
            let mut token_digests = Vec::with_capacity(access.token_sha256.len());
            for digest in &access.token_sha256 {
                let bytes = decode_sha256_hex(digest.get_ref().trim()).ok_or_else(|| {
                    error_at(
                        Some(digest.span()),
                        "`access.token_sha256` entries must be 64 hex digits (the SHA-256 of a token)".into(),
                    )
                })?;
                token_digests.push(bytes);
            }
            if password_hash.is_none() && token_digests.is_empty() {
                return Err(error_at(
                    Some(span),
                    "`access` needs `password_hash` or at least one `token_sha256`".into(),
                ));
            }
            Access { password_hash, token_digests }
        }
    };

    let mut tests = Vec::with_capacity(raw.test.len());
    for test in raw.test {
        let span = test.span();
        let test = test.into_inner();
        let question = test.question.trim().to_owned();
        if question.is_empty() {
            return Err(error_at(Some(span), "`test.question` must not be empty".into()));
        }
        let expect = match (test.expect_source, test.expect_text, test.expect) {
            (Some(source), None, None) if !source.trim().is_empty() => Expect::Source(source.trim().to_owned()),
            (None, Some(text), None) if !text.trim().is_empty() => Expect::Text(text.trim().to_owned()),
            (None, None, Some(expect)) if expect.get_ref() == "unknown" => Expect::Unknown,
            (None, None, Some(expect)) => {
                return Err(error_at(
                    Some(expect.span()),
                    format!("`test.expect`: `{}` is not known; the only value is \"unknown\"", expect.get_ref()),
                ));
            }
            _ => {
                return Err(error_at(
                    Some(span),
                    format!(
                        "`test` \"{question}\" needs exactly one non-empty `expect_source`, `expect_text` or `expect = \"unknown\"`"
                    ),
                ));
            }
        };
        tests.push(TestCase {
            question,
            expect,
            line: line_of(text, span.start),
            critical: test.critical.unwrap_or(false),
        });
    }

    Ok(BotConfig {
        id: id.to_owned(),
        description: raw.description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()),
        privacy_text: raw.privacy_text.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()),
        profile: raw.profile,
        search: raw.search,
        deploy: DeploySettings { min_qa: raw.deploy.min_qa.unwrap_or(DEFAULT_MIN_QA) },
        tests,
        greeting: non_empty_or(raw.greeting.unwrap_or_default(), &format!("Hi! I'm {name}. How can I help?")),
        unknown_answer: non_empty_or(raw.unknown_answer.unwrap_or_default(), DEFAULT_UNKNOWN_ANSWER),
        appearance: Appearance {
            accent_color,
            position: raw.appearance.position.unwrap_or(Position::Right),
            launcher_label: non_empty_or(raw.appearance.launcher_label.unwrap_or_default(), "Chat"),
            conversation_storage: raw.appearance.conversation_storage,
            theme: raw.appearance.theme,
            locale,
            strings,
        },
        name,
        visibility: raw.visibility,
        allowed_origins,
        handoff,
        access,
    })
}

/// Whether `id` may name a bot: it appears in URLs and in the snippet's `data-bot`.
pub fn is_valid_bot_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn non_empty_or(value: String, default: &str) -> String {
    let value = value.trim();
    if value.is_empty() { default.to_owned() } else { value.to_owned() }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes().iter().take(offset).filter(|&&b| b == b'\n').count() + 1
}

fn is_hex_color(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].chars().all(|c| c.is_ascii_hexdigit())
}

fn decode_sha256_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Zb5CzZr2G2z5Wv6KQ3bJ3Fq8m0b6z1oV7l8xQ3r4s5A";

    fn check_error(text: &str, expect: &str) {
        let err = parse(Path::new("bots/acme/bot.toml"), "acme", text).unwrap_err();
        assert_eq!(err.to_string(), expect);
    }

    #[test]
    fn a_minimal_public_bot_gets_defaults() {
        let config = parse(
            Path::new("bot.toml"),
            "acme",
            "name = \"Acme\"\nvisibility = \"public\"\nallowed_origins = [\"https://ACME.example\"]\n",
        )
        .unwrap();
        assert_eq!(config.name, "Acme");
        assert_eq!(config.appearance.accent_color, DEFAULT_ACCENT);
        assert_eq!(config.appearance.position, Position::Right);
        assert_eq!(config.appearance.conversation_storage, ConversationStorage::Session);
        assert_eq!(config.appearance.theme, Theme::Auto);
        assert_eq!(config.allowed_origins[0].to_string(), "https://acme.example");
        assert!(config.allows_origin(&Origin::parse("https://acme.example").unwrap()));
        assert!(!config.allows_origin(&Origin::parse("https://other.example").unwrap()));
    }

    #[test]
    fn mistakes_are_reported_with_file_line_and_key() {
        check_error(
            "name = \"Acme\"\nvisibility = \"public\"\nallowed_origins = [\n  \"https://ok.example\",\n  \"acme.example\",\n]\n",
            "bots/acme/bot.toml:5: `allowed_origins`: `acme.example` must start with http:// or https://",
        );
        check_error(
            "name = \"Acme\"\nvisibility = \"secret\"\n",
            "bots/acme/bot.toml:2: unknown variant `secret`, expected `public` or `internal`",
        );
        check_error(
            "name = \"Acme\"\nvisibility = \"public\"\ncolour = \"red\"\n",
            "bots/acme/bot.toml:3: unknown field `colour`, expected one of `name`, `description`, `visibility`, `allowed_origins`, `greeting`, `unknown_answer`, `privacy_text`, `handoff`, `appearance`, `access`, `profile`, `search`, `deploy`, `test`",
        );
        check_error("name = \"  \"\nvisibility = \"public\"\n", "bots/acme/bot.toml:1: `name` must not be empty");
        // Regression (found by the property test below): an unterminated multi-line string had no line.
        assert_eq!(
            parse(Path::new("bots/acme/bot.toml"), "acme", "name = \"Acme\"\n_ = \"\"\"\n").unwrap_err().line,
            Some(2)
        );
        check_error(
            "name = \"Acme\"\nvisibility = \"public\"\n[appearance]\nlocale = \"fr CA\"\n",
            "bots/acme/bot.toml:4: `appearance.locale`: `fr CA` must be a language tag such as `fr` or `de-CH`",
        );
        check_error(
            "name = \"Acme\"\nvisibility = \"public\"\n[appearance.strings]\nsend = \"Go\"\nsned = \"Go\"\n",
            &format!(
                "bots/acme/bot.toml:5: `appearance.strings`: no widget sentence is named `sned`; the names are {}",
                WIDGET_TEXT_KEYS.join(", ")
            ),
        );
        check_error(
            "name = \"Acme\"\nvisibility = \"public\"\n[appearance]\nconversation_storage = \"cookie\"\n",
            "bots/acme/bot.toml:4: unknown variant `cookie`, expected `session` or `local`",
        );
        check_error(
            "name = \"Acme\"\nvisibility = \"public\"\n[appearance]\naccent_color = \"red\"\n",
            "bots/acme/bot.toml:4: `appearance.accent_color`: `red` must be a #rrggbb color",
        );
        check_error(
            "name = \"Acme\"\nvisibility = \"public\"\n[handoff]\nlabel = \"x\"\nurl = \"javascript:alert(1)\"\n",
            "bots/acme/bot.toml:5: `handoff.url`: `javascript:alert(1)` must start with https://, http:// or mailto:",
        );
        check_error(
            "name = \"Acme\"\nvisibility = \"internal\"\n",
            "bots/acme/bot.toml: an internal bot needs an `[access]` table with `password_hash` or `token_sha256`",
        );
        check_error(
            "name = \"Acme\"\nvisibility = \"internal\"\n[access]\npassword_hash = \"hunter2\"\n",
            "bots/acme/bot.toml:4: `access.password_hash` is not a PHC hash: password hash string missing field",
        );
        check_error(
            "name = \"Acme\"\nvisibility = \"internal\"\n[access]\ntoken_sha256 = [\"abc\"]\n",
            "bots/acme/bot.toml:4: `access.token_sha256` entries must be 64 hex digits (the SHA-256 of a token)",
        );
    }

    #[test]
    fn internal_bots_accept_argon2_hashes_and_token_digests() {
        let text = format!(
            "name = \"Staff\"\nvisibility = \"internal\"\n[access]\npassword_hash = \"{HASH}\"\ntoken_sha256 = [\"{}\"]\n",
            "ab".repeat(32)
        );
        let config = parse(Path::new("bot.toml"), "staff", &text).unwrap();
        assert_eq!(config.access.password_hash.as_deref(), Some(HASH));
        assert_eq!(config.access.token_digests, vec![[0xab; 32]]);
        let public_with_access = parse(
            Path::new("bot.toml"),
            "x",
            &format!("name = \"X\"\nvisibility = \"public\"\n[access]\npassword_hash = \"{HASH}\"\n"),
        );
        assert!(public_with_access.unwrap_err().message.contains("internal bots only"));
    }

    #[test]
    fn tests_profile_search_and_deploy_rules_are_validated() {
        let base = "name = \"Acme\"\nvisibility = \"public\"\n";
        check_error(
            &format!("{base}[[test]]\nquestion = \"a\"\nexpect_source = \"faq.toml#a\"\nexpect_text = \"b\"\n"),
            "bots/acme/bot.toml:3: `test` \"a\" needs exactly one non-empty `expect_source`, `expect_text` or `expect = \"unknown\"`",
        );
        check_error(
            &format!("{base}[[test]]\nquestion = \"a\"\nexpect = \"nothing\"\n"),
            "bots/acme/bot.toml:5: `test.expect`: `nothing` is not known; the only value is \"unknown\"",
        );
        check_error(
            &format!("{base}[[test]]\nquestion = \"a\"\nexpect = \"unknown\"\ncritical = \"yes\"\n"),
            "bots/acme/bot.toml:6: invalid type: string \"yes\", expected a boolean",
        );
        check_error(
            &format!("{base}[profile]\ncompany = \"Acme\"\nmood = \"happy\"\n"),
            "bots/acme/bot.toml:5: unknown field `mood`, expected one of `company`, `purpose`, `audience`, `tone`, `escalation_contact`, `language`",
        );
        check_error(
            &format!("{base}[search]\nlanguage = \"xx\"\n"),
            "bots/acme/bot.toml:4: unknown variant `xx`, expected one of `en`, `fr`, `de`, `es`",
        );
        check_error(
            &format!("{base}[deploy]\nmin_qa = -1\n"),
            "bots/acme/bot.toml:4: invalid value: integer `-1`, expected usize",
        );

        let text = format!(
            "{base}description = \"Answers\"\n[profile]\ncompany = \"Acme\"\ntone = \" \"\n[deploy]\nmin_qa = 3\n\
             [[test]]\nquestion = \"Delivery?\"\nexpect_source = \"faq.toml#delivery\"\n\
             [[test]]\nquestion = \"Weather?\"\nexpect = \"unknown\"\ncritical = true\n"
        );
        let config = parse(Path::new("bot.toml"), "acme", &text).unwrap();
        assert_eq!(config.description.as_deref(), Some("Answers"));
        assert_eq!(config.profile.missing(), vec!["purpose", "audience", "tone", "escalation_contact", "language"]);
        assert_eq!(config.deploy.min_qa, 3);
        assert_eq!(config.tests.len(), 2);
        assert_eq!(config.tests[0].expect, Expect::Source("faq.toml#delivery".into()));
        assert_eq!(config.tests[1].expect, Expect::Unknown);
        assert_eq!((config.tests[0].critical, config.tests[1].critical), (false, true), "critical only when marked");
        let defaults = parse(Path::new("bot.toml"), "acme", base).unwrap();
        assert_eq!(defaults.deploy.min_qa, DEFAULT_MIN_QA);
    }

    #[test]
    fn differences_tell_chatroom_settings_from_index_settings() {
        let base = "name = \"Acme\"\nvisibility = \"public\"\n";
        let old = parse(Path::new("bot.toml"), "acme", base).unwrap();
        // (extra bot.toml text, [(key, chatroom, reindex)])
        type Case<'a> = (&'a str, &'a [(&'a str, bool, bool)]);
        let cases: &[Case] = &[
            ("greeting = \"Yo\"\n", &[("greeting", true, false)]),
            ("privacy_text = \"We keep nothing\"\n", &[("privacy_text", true, false)]),
            ("[appearance]\naccent_color = \"#000000\"\n", &[("appearance", true, false)]),
            ("[search]\nlanguage = \"fr\"\n", &[("search", false, true)]),
            ("[profile]\ntone = \"warm\"\n", &[("profile", false, false)]),
            ("", &[]),
        ];
        for (extra, expect) in cases {
            let new = parse(Path::new("bot.toml"), "acme", &format!("{base}{extra}")).unwrap();
            let got: Vec<(&str, bool, bool)> =
                differences(&old, &new).iter().map(|c| (c.key, c.chatroom, c.reindex)).collect();
            assert_eq!(&got, expect, "{extra}");
        }
        let internal = parse(
            Path::new("bot.toml"),
            "acme",
            &format!("name = \"Acme\"\nvisibility = \"internal\"\n[access]\npassword_hash = \"{HASH}\"\n"),
        )
        .unwrap();
        assert!(differences(&old, &internal).is_empty(), "visibility and access live in the store");
    }

    #[test]
    fn bot_ids_are_url_safe() {
        for ok in ["acme", "acme-support", "a1", "9lives"] {
            assert!(is_valid_bot_id(ok), "{ok}");
        }
        for bad in ["", "-acme", "Acme", "acme_support", "acme/x", "..", &"a".repeat(65)] {
            assert!(!is_valid_bot_id(bad), "{bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const MINIMAL: &str = "name = \"Acme\"\nvisibility = \"public\"\nallowed_origins = [\"https://acme.example\"]\n";

    proptest! {
        /// Any text gives a config or an error that names the file: never a panic.
        #[test]
        fn any_text_parses_or_names_the_file(text in "\\PC{0,300}") {
            if let Err(err) = parse(Path::new("bots/acme/bot.toml"), "acme", &text) {
                prop_assert!(err.to_string().starts_with("bots/acme/bot.toml"), "{err}");
            }
        }

        /// Lines of TOML-looking text after a valid config: accepted, or refused at a line of
        /// the file with a reason.
        #[test]
        fn added_settings_are_accepted_or_refused_at_a_line(
            lines in prop::collection::vec("[a-z_]{1,12} = (\"[ -~]{0,20}\"|[0-9]{1,4}|true|\\[\\])", 1..4),
        ) {
            let text = format!("{MINIMAL}{}\n", lines.join("\n"));
            if let Err(err) = parse(Path::new("bots/acme/bot.toml"), "acme", &text) {
                let line = err.line.expect("a line for a setting's mistake");
                prop_assert!((1..=text.lines().count()).contains(&line), "{err}");
                prop_assert!(!err.message.is_empty());
            }
        }
    }
}
