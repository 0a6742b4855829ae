//! Every sentence the widget shows or announces, in English, French, German and Spanish, with
//! the bot's own overrides (`[appearance.strings]` in bot.toml, keyed by [`WIDGET_TEXT_KEYS`]).

use docent_protocol::WIDGET_TEXT_KEYS;
use wasm_bindgen::JsValue;

use crate::api::string;

/// One sentence; its number is its place in [`WIDGET_TEXT_KEYS`] and in each table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Text {
    Assistant,
    Launcher,
    Close,
    NewConversation,
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
    NotAvailable,
    Unreachable,
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

const EN: &str = "\
Assistant\n\
Chat\n\
Close chat\n\
New conversation\n\
Conversation\n\
Your message\n\
Ask a question\u{2026}\n\
Send\n\
You said: \n\
Assistant: \n\
The assistant is typing\u{2026}\n\
Source\n\
Sources\n\
A page of our help\n\
Contact us\n\
Try again\n\
That message is too long.\n\
Too many messages, please wait a moment.\n\
The assistant is offline right now. Please try again later.\n\
The assistant can't take more questions this month. Please contact us another way.\n\
Your message was not sent. Check your connection.\n\
Something went wrong. Please try again.\n\
This assistant is not available on this site.\n\
The assistant can't be reached right now. Please try again later.\n\
This assistant is for staff. Enter the password.\n\
Password\n\
Sign in\n\
Enter the password.\n\
Wrong password. Please try again.\n\
Too many attempts. Please wait a moment.\n\
Your session has ended. Please sign in again.\n\
Helpful\n\
Not helpful\n\
How was this conversation?\n\
Rate the conversation from 1 (poor) to 5 (great)\n\
\u{20}out of 5\n\
Thanks for your feedback!";

const FR: &str = "\
Assistant\n\
Discuter\n\
Fermer la discussion\n\
Nouvelle conversation\n\
Conversation\n\
Votre message\n\
Posez une question\u{2026}\n\
Envoyer\n\
Vous avez dit\u{a0}: \n\
Assistant\u{a0}: \n\
L'assistant écrit\u{2026}\n\
Source\n\
Sources\n\
Une page de notre aide\n\
Nous contacter\n\
Réessayer\n\
Ce message est trop long.\n\
Trop de messages, merci de patienter un instant.\n\
L'assistant est hors ligne pour le moment. Merci de réessayer plus tard.\n\
L'assistant ne peut plus répondre ce mois-ci. Merci de nous contacter autrement.\n\
Votre message n'a pas été envoyé. Vérifiez votre connexion.\n\
Une erreur s'est produite. Merci de réessayer.\n\
Cet assistant n'est pas disponible sur ce site.\n\
L'assistant est injoignable pour le moment. Merci de réessayer plus tard.\n\
Cet assistant est réservé au personnel. Saisissez le mot de passe.\n\
Mot de passe\n\
Se connecter\n\
Saisissez le mot de passe.\n\
Mot de passe incorrect. Merci de réessayer.\n\
Trop de tentatives. Patientez un instant.\n\
Votre session a expiré. Merci de vous reconnecter.\n\
Utile\n\
Pas utile\n\
Comment s'est passée cette conversation\u{a0}?\n\
Notez la conversation de 1 (mauvaise) à 5 (excellente)\n\
\u{20}sur 5\n\
Merci pour votre avis\u{a0}!";

const DE: &str = "\
Assistent\n\
Chat\n\
Chat schließen\n\
Neue Unterhaltung\n\
Unterhaltung\n\
Ihre Nachricht\n\
Stellen Sie eine Frage\u{2026}\n\
Senden\n\
Sie schrieben: \n\
Assistent: \n\
Der Assistent schreibt\u{2026}\n\
Quelle\n\
Quellen\n\
Eine Seite unserer Hilfe\n\
Kontakt\n\
Erneut versuchen\n\
Diese Nachricht ist zu lang.\n\
Zu viele Nachrichten, bitte warten Sie einen Moment.\n\
Der Assistent ist gerade offline. Bitte versuchen Sie es später erneut.\n\
Der Assistent kann diesen Monat keine Fragen mehr beantworten. Bitte kontaktieren Sie uns anders.\n\
Ihre Nachricht wurde nicht gesendet. Prüfen Sie Ihre Verbindung.\n\
Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.\n\
Dieser Assistent ist auf dieser Website nicht verfügbar.\n\
Der Assistent ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut.\n\
Dieser Assistent ist für Mitarbeitende. Bitte Passwort eingeben.\n\
Passwort\n\
Anmelden\n\
Geben Sie das Passwort ein.\n\
Falsches Passwort. Bitte versuchen Sie es erneut.\n\
Zu viele Versuche. Bitte warten Sie einen Moment.\n\
Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.\n\
Hilfreich\n\
Nicht hilfreich\n\
Wie war diese Unterhaltung?\n\
Bewerten Sie die Unterhaltung von 1 (schlecht) bis 5 (sehr gut)\n\
\u{20}von 5\n\
Danke für Ihre Rückmeldung!";

const ES: &str = "\
Asistente\n\
Chat\n\
Cerrar el chat\n\
Nueva conversación\n\
Conversación\n\
Tu mensaje\n\
Haz una pregunta\u{2026}\n\
Enviar\n\
Dijiste: \n\
Asistente: \n\
El asistente está escribiendo\u{2026}\n\
Fuente\n\
Fuentes\n\
Una página de nuestra ayuda\n\
Contáctanos\n\
Reintentar\n\
Ese mensaje es demasiado largo.\n\
Demasiados mensajes, espera un momento.\n\
El asistente no está disponible ahora. Inténtalo de nuevo más tarde.\n\
El asistente no puede responder más este mes. Contáctanos por otra vía.\n\
No se envió tu mensaje. Revisa tu conexión.\n\
Algo salió mal. Inténtalo de nuevo.\n\
Este asistente no está disponible en este sitio.\n\
No se puede contactar con el asistente ahora. Inténtalo de nuevo más tarde.\n\
Este asistente es para el personal. Introduce la contraseña.\n\
Contraseña\n\
Iniciar sesión\n\
Introduce la contraseña.\n\
Contraseña incorrecta. Inténtalo de nuevo.\n\
Demasiados intentos. Espera un momento.\n\
Tu sesión ha terminado. Vuelve a iniciar sesión.\n\
Útil\n\
No útil\n\
¿Qué tal fue esta conversación?\n\
Valora la conversación de 1 (mala) a 5 (excelente)\n\
\u{20}de 5\n\
¡Gracias por tu opinión!";

/// The sentences of one widget: a locale's table under the bot's overrides, resolved once.
pub(crate) struct Strings {
    sentences: Vec<String>,
    /// The primary language subtag the widget speaks, e.g. `fr`.
    pub(crate) language: String,
}

impl Strings {
    /// The strings for `locale` (a BCP 47 tag such as `fr-CA`; English for an unknown one), under
    /// `overrides` (`{key: sentence}` from the bot's configuration).
    pub(crate) fn new(locale: &str, overrides: &JsValue) -> Strings {
        let language = language(locale);
        let sentences = table(&language)
            .split('\n')
            .zip(WIDGET_TEXT_KEYS)
            .map(|(sentence, key)| {
                let custom = if overrides.is_object() { string(overrides, key) } else { String::new() };
                if custom.is_empty() { sentence.to_owned() } else { custom }
            })
            .collect();
        Strings { sentences, language }
    }

    /// The sentence for `text`.
    pub(crate) fn get(&self, text: Text) -> &str {
        self.sentences.get(text as usize).map_or("", String::as_str)
    }

    /// Whether the language is written right to left.
    pub(crate) fn rtl(&self) -> bool {
        is_rtl(&self.language)
    }
}

/// The primary language subtag of `locale`, lowercased: `fr` of `fr-CA`.
fn language(locale: &str) -> String {
    locale.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase()
}

/// Whether `language` (a primary subtag) is written right to left.
fn is_rtl(language: &str) -> bool {
    matches!(language, "ar" | "he" | "fa" | "ur")
}

/// The built-in sentences of `language`, one a line: English unless it is French, German or Spanish.
/// (One string per language: a table of `&str` would add eight bytes per sentence to the download.)
fn table(language: &str) -> &'static str {
    match language {
        "fr" => FR,
        "de" => DE,
        "es" => ES,
        _ => EN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_follows_the_keys() {
        assert_eq!(WIDGET_TEXT_KEYS[Text::Thanks as usize], "thanks");
        assert_eq!(WIDGET_TEXT_KEYS[Text::Send as usize], "send");
        assert_eq!(WIDGET_TEXT_KEYS[Text::NotAvailable as usize], "not_available");
        for table in [EN, FR, DE, ES] {
            let sentences: Vec<&str> = table.split('\n').collect();
            assert_eq!(sentences.len(), WIDGET_TEXT_KEYS.len());
            assert!(sentences.iter().all(|sentence| !sentence.is_empty()));
            assert!(sentences[Text::OutOfFive as usize].starts_with(' '), "{:?}", sentences[Text::OutOfFive as usize]);
        }
    }

    #[test]
    fn picks_the_language_of_the_locale() {
        for (locale, expected, send, rtl) in [
            ("fr-CA", "fr", "Envoyer", false),
            ("DE", "de", "Senden", false),
            ("es_MX", "es", "Enviar", false),
            ("en-GB", "en", "Send", false),
            ("ar", "ar", "Send", true),
            ("he-IL", "he", "Send", true),
            ("", "", "Send", false),
        ] {
            assert_eq!(language(locale), expected);
            assert_eq!(is_rtl(&language(locale)), rtl, "{locale}");
            assert_eq!(table(&language(locale)).split('\n').nth(Text::Send as usize), Some(send));
        }
    }
}
