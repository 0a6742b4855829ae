//! Notification channels: where alerts (and reports) are sent, and how.
//!
//! A [`Channel`] is a validated destination: a generic JSON webhook, a Slack- or
//! Teams-compatible incoming webhook, e-mail over SMTP (lettre, rustls), or an HTTP SMS
//! gateway, which only critical notices reach. [`send`] delivers one [`Notice`] to one channel
//! within [`SEND_TIMEOUT`]. Webhooks go through [`crate::fetch::post`], so they get the same
//! address checks as every URL an operator gives. A channel's [`Channel::label`] names it
//! without its secrets (tokens in URLs, SMTP passwords): only labels are logged.

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use hyper::header::{self, HeaderName, HeaderValue};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use serde_json::json;

use crate::fetch::{self, FetchLimits, Payload};

/// The longest one notice may take to one channel.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes of a channel's answer kept (only its status matters).
const ANSWER_BYTES: usize = 16 * 1024;

/// How an SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain, then STARTTLS, required (port 587).
    StartTls,
    /// No encryption: only for a relay on this machine or a trusted network.
    None,
}

/// Where an SMTP channel sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smtp {
    pub server: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// User name and password, when the server wants them.
    pub login: Option<(String, String)>,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
}

/// One validated destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// POSTs the notice as Docent's own JSON.
    Webhook {
        url: String,
    },
    /// A Slack incoming webhook (`{"text": …}`); Mattermost and Rocket.Chat take it too.
    Slack {
        url: String,
    },
    /// A Microsoft Teams incoming webhook (a workflow taking an Adaptive Card message).
    Teams {
        url: String,
    },
    Email(Box<Smtp>),
    /// An HTTP SMS gateway: one POST per number, JSON `{"to", "text"}`; `{to}` and `{text}`
    /// in the URL are replaced, URL-encoded. Critical notices only.
    Sms {
        url: String,
        to: Vec<String>,
        token: Option<String>,
    },
}

impl Channel {
    /// The channel's kind and host, never a secret: what logs and pages show.
    pub fn label(&self) -> String {
        let host = |url: &str| fetch::parse_url(url).ok().and_then(|uri| uri.host().map(str::to_owned));
        match self {
            Channel::Webhook { url } => format!("webhook {}", host(url).unwrap_or_default()),
            Channel::Slack { url } => format!("slack {}", host(url).unwrap_or_default()),
            Channel::Teams { url } => format!("teams {}", host(url).unwrap_or_default()),
            Channel::Email(smtp) => format!("email via {}:{}", smtp.server, smtp.port),
            Channel::Sms { url, to, .. } => {
                let plural = if to.len() == 1 { "" } else { "s" };
                format!("sms {} to {} number{plural}", host(url).unwrap_or_default(), to.len())
            }
        }
    }

    /// Whether the channel takes notices of this importance: SMS only critical ones.
    pub fn takes(&self, critical: bool) -> bool {
        critical || !matches!(self, Channel::Sms { .. })
    }
}

/// A file sent with a notice: attached to e-mails, inlined (base64) in generic webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeFile {
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// What is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub subject: String,
    /// Plain text: the whole message for chat and SMS channels.
    pub text: String,
    /// An HTML version, for e-mail.
    pub html: Option<String>,
    pub attachments: Vec<NoticeFile>,
    /// Structured facts for generic webhooks (`null` when none).
    pub data: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{0}")]
    Fetch(#[from] fetch::FetchError),
    #[error("the webhook answered {0}")]
    Refused(hyper::StatusCode),
    #[error("cannot build the e-mail: {0}")]
    Message(String),
    #[error("the SMTP server refused or failed: {0}")]
    Smtp(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the sending task stopped before it finished")]
    Stopped,
}

/// Sends `notice` to `channel`. `allow_private`: whether webhooks may reach loopback and private
/// addresses (`--fetch-private`).
pub async fn send(channel: &Channel, notice: &Notice, allow_private: bool) -> Result<(), NotifyError> {
    let limits = FetchLimits { max_body_bytes: ANSWER_BYTES, timeout: SEND_TIMEOUT, max_redirects: 0, allow_private };
    match channel {
        Channel::Webhook { url } => post_json(url, &webhook_body(notice), &[], limits).await,
        Channel::Slack { url } => post_json(url, &slack_body(notice), &[], limits).await,
        Channel::Teams { url } => post_json(url, &teams_body(notice), &[], limits).await,
        Channel::Sms { url, to, token } => {
            let auth: Vec<(HeaderName, HeaderValue)> = token
                .as_ref()
                .and_then(|token| HeaderValue::from_str(&format!("Bearer {token}")).ok())
                .map(|value| (header::AUTHORIZATION, value))
                .into_iter()
                .collect();
            let text = sms_text(notice);
            for number in to {
                let address = sms_url(url, number, &text);
                post_json(&address, &json!({"to": number, "text": text}), &auth, limits).await?;
            }
            Ok(())
        }
        Channel::Email(smtp) => {
            let message = email(smtp, notice)?;
            let smtp = smtp.clone();
            let sending = tokio::task::spawn_blocking(move || send_email(&smtp, &message));
            match tokio::time::timeout(SEND_TIMEOUT + Duration::from_secs(1), sending).await {
                Ok(Ok(result)) => result,
                Ok(Err(err)) => Err(NotifyError::Smtp(format!("the sending task failed: {err}"))),
                Err(_) => Err(NotifyError::Timeout(SEND_TIMEOUT)),
            }
        }
    }
}

async fn post_json(
    url: &str,
    body: &serde_json::Value,
    headers: &[(HeaderName, HeaderValue)],
    limits: FetchLimits,
) -> Result<(), NotifyError> {
    let payload = Payload {
        content_type: HeaderValue::from_static("application/json"),
        bytes: Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
    };
    let answer = fetch::post(url, headers, payload, limits).await?;
    if answer.status.is_success() { Ok(()) } else { Err(NotifyError::Refused(answer.status)) }
}

/// Docent's own webhook body: subject, text, the structured facts and the files.
pub fn webhook_body(notice: &Notice) -> serde_json::Value {
    let files: Vec<serde_json::Value> = notice
        .attachments
        .iter()
        .map(|file| {
            json!({
                "name": file.name,
                "mime": file.mime,
                "base64": base64::engine::general_purpose::STANDARD.encode(&file.bytes),
            })
        })
        .collect();
    json!({"subject": notice.subject, "text": notice.text, "data": notice.data, "attachments": files})
}

/// Slack's incoming-webhook message: one `text` in its markup, the subject in bold.
pub fn slack_body(notice: &Notice) -> serde_json::Value {
    let escape = |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    json!({"text": format!("*{}*\n{}", escape(&notice.subject), escape(&notice.text))})
}

/// A Teams message with one Adaptive Card: the subject as its title, the text below.
pub fn teams_body(notice: &Notice) -> serde_json::Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": notice.subject, "weight": "Bolder", "size": "Medium", "wrap": true},
                    {"type": "TextBlock", "text": notice.text, "wrap": true},
                ],
            },
        }],
    })
}

/// An SMS: the subject alone, cut to one message's 160 characters.
fn sms_text(notice: &Notice) -> String {
    notice.subject.chars().take(160).collect()
}

fn sms_url(template: &str, number: &str, text: &str) -> String {
    let encode = |value: &str| form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    template.replace("{to}", &encode(number)).replace("{text}", &encode(text))
}

fn email(smtp: &Smtp, notice: &Notice) -> Result<Message, NotifyError> {
    let mut builder = Message::builder().from(smtp.from.clone()).subject(notice.subject.clone());
    for to in &smtp.to {
        builder = builder.to(to.clone());
    }
    let alternatives = match &notice.html {
        Some(html) => MultiPart::alternative_plain_html(notice.text.clone(), html.clone()),
        None => MultiPart::alternative().singlepart(SinglePart::plain(notice.text.clone())),
    };
    let body = if notice.attachments.is_empty() {
        alternatives
    } else {
        let mut mixed = MultiPart::mixed().multipart(alternatives);
        for file in &notice.attachments {
            let content_type = ContentType::parse(&file.mime).map_err(|err| {
                NotifyError::Message(format!("attachment {}: bad type {}: {err}", file.name, file.mime))
            })?;
            mixed = mixed.singlepart(Attachment::new(file.name.clone()).body(file.bytes.clone(), content_type));
        }
        mixed
    };
    builder.multipart(body).map_err(|err| NotifyError::Message(err.to_string()))
}

fn send_email(smtp: &Smtp, message: &Message) -> Result<(), NotifyError> {
    let failed = |err: lettre::transport::smtp::Error| NotifyError::Smtp(err.to_string());
    let builder = match smtp.security {
        SmtpSecurity::Tls => SmtpTransport::relay(&smtp.server).map_err(failed)?,
        SmtpSecurity::StartTls => SmtpTransport::starttls_relay(&smtp.server).map_err(failed)?,
        SmtpSecurity::None => SmtpTransport::builder_dangerous(&smtp.server),
    };
    let mut builder = builder.port(smtp.port).timeout(Some(SEND_TIMEOUT));
    if let Some((user, password)) = &smtp.login {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    builder.build().send(message).map(|_| ()).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        Notice {
            subject: "[docent] acme: error rate <high>".into(),
            text: "12 of 100 requests failed".into(),
            html: None,
            attachments: vec![NoticeFile { name: "a.txt".into(), mime: "text/plain".into(), bytes: b"hi".to_vec() }],
            data: json!({"kind": "error_rate"}),
        }
    }

    #[test]
    fn each_chat_service_gets_its_own_shape() {
        assert_eq!(
            webhook_body(&notice()),
            json!({
                "subject": "[docent] acme: error rate <high>",
                "text": "12 of 100 requests failed",
                "data": {"kind": "error_rate"},
                "attachments": [{"name": "a.txt", "mime": "text/plain", "base64": "aGk="}],
            })
        );
        assert_eq!(
            slack_body(&notice()),
            json!({"text": "*[docent] acme: error rate &lt;high&gt;*\n12 of 100 requests failed"})
        );
        let teams = teams_body(&notice());
        assert_eq!(teams["attachments"][0]["content"]["body"][0]["text"], "[docent] acme: error rate <high>");
        assert_eq!(teams["attachments"][0]["content"]["body"][1]["text"], "12 of 100 requests failed");
    }

    #[test]
    fn sms_urls_carry_encoded_values_and_labels_no_secret() {
        assert_eq!(
            sms_url("https://sms.example/send?to={to}&msg={text}", "+33 6 12", "a&b c"),
            "https://sms.example/send?to=%2B33+6+12&msg=a%26b+c"
        );
        let channel = Channel::Slack { url: "https://hooks.example/services/T0K3N".into() };
        assert_eq!(channel.label(), "slack hooks.example");
        let sms = Channel::Sms { url: "https://sms.example/k=SECRET".into(), to: vec!["1".into()], token: None };
        assert!(!sms.label().contains("SECRET") && !sms.takes(false) && sms.takes(true));
    }

    #[test]
    fn emails_carry_text_html_and_files() {
        let smtp = Smtp {
            server: "127.0.0.1".into(),
            port: 2525,
            security: SmtpSecurity::None,
            login: None,
            from: "Docent <alerts@acme.example>".parse().unwrap(),
            to: vec!["ops@acme.example".parse().unwrap()],
        };
        let message = email(&smtp, &Notice { html: Some("<p>12</p>".into()), ..notice() }).unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        for part in ["Subject: [docent] acme: error rate <high>", "text/html", "<p>12</p>", "filename=\"a.txt\""] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }
}
