//! The widget's sentences in English, French, German and Spanish, resolved per request with the
//! bot's `[appearance.strings]` and served with its configuration, so no visitor downloads the
//! languages the page does not speak.

use std::collections::BTreeMap;

use docent_protocol::{TextDirection, WIDGET_TEXT_KEYS};

/// One language's sentences, in the order of [`WIDGET_TEXT_KEYS`].
type Sentences = [&'static str; WIDGET_TEXT_KEYS.len()];

/// English, in the order of [`WIDGET_TEXT_KEYS`].
const EN: Sentences = [
    "Assistant",
    "Chat",
    "Close chat",
    "New conversation",
    "This assistant is not available on this site.",
    "The assistant can't be reached right now. Please try again later.",
    "Conversation",
    "Your message",
    "Ask a question\u{2026}",
    "Send",
    "You said: ",
    "Assistant: ",
    "The assistant is typing\u{2026}",
    "Source",
    "Sources",
    "A page of our help",
    "Contact us",
    "Try again",
    "That message is too long.",
    "Too many messages, please wait a moment.",
    "The assistant is offline right now. Please try again later.",
    "The assistant can't take more questions this month. Please contact us another way.",
    "Your message was not sent. Check your connection.",
    "Something went wrong. Please try again.",
    "This assistant is for staff. Enter the password.",
    "Password",
    "Sign in",
    "Enter the password.",
    "Wrong password. Please try again.",
    "Too many attempts. Please wait a moment.",
    "Your session has ended. Please sign in again.",
    "Helpful",
    "Not helpful",
    "How was this conversation?",
    "Rate the conversation from 1 (poor) to 5 (great)",
    "\u{20}out of 5",
    "Thanks for your feedback!",
];

/// French, in the order of [`WIDGET_TEXT_KEYS`].
const FR: Sentences = [
    "Assistant",
    "Discuter",
    "Fermer la discussion",
    "Nouvelle conversation",
    "Cet assistant n'est pas disponible sur ce site.",
    "L'assistant est injoignable pour le moment. Merci de réessayer plus tard.",
    "Conversation",
    "Votre message",
    "Posez une question\u{2026}",
    "Envoyer",
    "Vous avez dit\u{a0}: ",
    "Assistant\u{a0}: ",
    "L'assistant écrit\u{2026}",
    "Source",
    "Sources",
    "Une page de notre aide",
    "Nous contacter",
    "Réessayer",
    "Ce message est trop long.",
    "Trop de messages, merci de patienter un instant.",
    "L'assistant est hors ligne pour le moment. Merci de réessayer plus tard.",
    "L'assistant ne peut plus répondre ce mois-ci. Merci de nous contacter autrement.",
    "Votre message n'a pas été envoyé. Vérifiez votre connexion.",
    "Une erreur s'est produite. Merci de réessayer.",
    "Cet assistant est réservé au personnel. Saisissez le mot de passe.",
    "Mot de passe",
    "Se connecter",
    "Saisissez le mot de passe.",
    "Mot de passe incorrect. Merci de réessayer.",
    "Trop de tentatives. Patientez un instant.",
    "Votre session a expiré. Merci de vous reconnecter.",
    "Utile",
    "Pas utile",
    "Comment s'est passée cette conversation\u{a0}?",
    "Notez la conversation de 1 (mauvaise) à 5 (excellente)",
    "\u{20}sur 5",
    "Merci pour votre avis\u{a0}!",
];

/// German, in the order of [`WIDGET_TEXT_KEYS`].
const DE: Sentences = [
    "Assistent",
    "Chat",
    "Chat schließen",
    "Neue Unterhaltung",
    "Dieser Assistent ist auf dieser Website nicht verfügbar.",
    "Der Assistent ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut.",
    "Unterhaltung",
    "Ihre Nachricht",
    "Stellen Sie eine Frage\u{2026}",
    "Senden",
    "Sie schrieben: ",
    "Assistent: ",
    "Der Assistent schreibt\u{2026}",
    "Quelle",
    "Quellen",
    "Eine Seite unserer Hilfe",
    "Kontakt",
    "Erneut versuchen",
    "Diese Nachricht ist zu lang.",
    "Zu viele Nachrichten, bitte warten Sie einen Moment.",
    "Der Assistent ist gerade offline. Bitte versuchen Sie es später erneut.",
    "Der Assistent kann diesen Monat keine Fragen mehr beantworten. Bitte kontaktieren Sie uns anders.",
    "Ihre Nachricht wurde nicht gesendet. Prüfen Sie Ihre Verbindung.",
    "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",
    "Dieser Assistent ist für Mitarbeitende. Bitte Passwort eingeben.",
    "Passwort",
    "Anmelden",
    "Geben Sie das Passwort ein.",
    "Falsches Passwort. Bitte versuchen Sie es erneut.",
    "Zu viele Versuche. Bitte warten Sie einen Moment.",
    "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.",
    "Hilfreich",
    "Nicht hilfreich",
    "Wie war diese Unterhaltung?",
    "Bewerten Sie die Unterhaltung von 1 (schlecht) bis 5 (sehr gut)",
    "\u{20}von 5",
    "Danke für Ihre Rückmeldung!",
];

/// Spanish, in the order of [`WIDGET_TEXT_KEYS`].
const ES: Sentences = [
    "Asistente",
    "Chat",
    "Cerrar el chat",
    "Nueva conversación",
    "Este asistente no está disponible en este sitio.",
    "No se puede contactar con el asistente ahora. Inténtalo de nuevo más tarde.",
    "Conversación",
    "Tu mensaje",
    "Haz una pregunta\u{2026}",
    "Enviar",
    "Dijiste: ",
    "Asistente: ",
    "El asistente está escribiendo\u{2026}",
    "Fuente",
    "Fuentes",
    "Una página de nuestra ayuda",
    "Contáctanos",
    "Reintentar",
    "Ese mensaje es demasiado largo.",
    "Demasiados mensajes, espera un momento.",
    "El asistente no está disponible ahora. Inténtalo de nuevo más tarde.",
    "El asistente no puede responder más este mes. Contáctanos por otra vía.",
    "No se envió tu mensaje. Revisa tu conexión.",
    "Algo salió mal. Inténtalo de nuevo.",
    "Este asistente es para el personal. Introduce la contraseña.",
    "Contraseña",
    "Iniciar sesión",
    "Introduce la contraseña.",
    "Contraseña incorrecta. Inténtalo de nuevo.",
    "Demasiados intentos. Espera un momento.",
    "Tu sesión ha terminado. Vuelve a iniciar sesión.",
    "Útil",
    "No útil",
    "¿Qué tal fue esta conversación?",
    "Valora la conversación de 1 (mala) a 5 (excelente)",
    "\u{20}de 5",
    "¡Gracias por tu opinión!",
];

/// What the widget says, and in which language and direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetText {
    /// The primary language subtag, lowercased: `fr` for `fr-CA`; `en` when nothing usable was asked for.
    pub language: String,
    pub dir: TextDirection,
    /// Every sentence by key: the language's wording (English without one) under the bot's overrides.
    pub strings: BTreeMap<String, String>,
}

/// The widget's text for the first usable locale of `requested` (the snippet's `data-locale`),
/// `configured` (the bot's `appearance.locale`) and `page` (the page's `<html lang>`), in that
/// order, under `overrides` (the bot's `[appearance.strings]`). A tag is usable when its primary
/// subtag is 2 to 8 ASCII letters; anything else is passed over.
pub fn resolve(requested: &str, configured: &str, page: &str, overrides: &BTreeMap<String, String>) -> WidgetText {
    let language =
        [requested, configured, page].into_iter().find_map(primary_subtag).unwrap_or_else(|| "en".to_owned());
    let table = match language.as_str() {
        "fr" => &FR,
        "de" => &DE,
        "es" => &ES,
        _ => &EN,
    };
    let strings = WIDGET_TEXT_KEYS
        .iter()
        .zip(table)
        .map(|(key, sentence)| {
            let custom = overrides.get(*key).filter(|custom| !custom.trim().is_empty());
            ((*key).to_owned(), custom.map_or(*sentence, String::as_str).to_owned())
        })
        .collect();
    let dir =
        if matches!(language.as_str(), "ar" | "he" | "fa" | "ur") { TextDirection::Rtl } else { TextDirection::Ltr };
    WidgetText { language, dir, strings }
}

/// The primary language subtag of `tag`, lowercased (`fr` of `fr-CA` or `fr_CA`), if it is one.
fn primary_subtag(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
    ((2..=8).contains(&primary.len()) && primary.bytes().all(|byte| byte.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sentence_is_worded_in_every_language() {
        for table in [&EN, &FR, &DE, &ES] {
            assert!(table.iter().all(|sentence| !sentence.trim().is_empty()), "{table:?}");
            // Shown right after the score, as in "4 out of 5".
            let out_of_five = WIDGET_TEXT_KEYS.iter().position(|key| *key == "out_of_five").unwrap();
            assert!(table[out_of_five].starts_with(' '), "{:?}", table[out_of_five]);
        }
    }

    #[test]
    fn the_language_follows_the_snippet_then_the_bot_then_the_page() {
        for (requested, configured, page, language, send, dir) in [
            ("fr-CA", "de", "es", "fr", "Envoyer", TextDirection::Ltr),
            ("", "DE", "es", "de", "Senden", TextDirection::Ltr),
            ("", "", "es_MX", "es", "Enviar", TextDirection::Ltr),
            ("en-GB", "fr", "", "en", "Send", TextDirection::Ltr),
            ("ar", "", "", "ar", "Send", TextDirection::Rtl),
            ("", "", "he-IL", "he", "Send", TextDirection::Rtl),
            ("", "", "", "en", "Send", TextDirection::Ltr),
            ("x", "fr", "", "fr", "Envoyer", TextDirection::Ltr),
            ("<script>", "12", "de-CH", "de", "Senden", TextDirection::Ltr),
        ] {
            let text = resolve(requested, configured, page, &BTreeMap::new());
            assert_eq!(
                (text.language.as_str(), text.strings["send"].as_str(), text.dir),
                (language, send, dir),
                "{requested:?} {configured:?} {page:?}"
            );
            assert_eq!(text.strings.len(), WIDGET_TEXT_KEYS.len());
        }
    }

    #[test]
    fn the_bots_wording_replaces_the_built_in_one() {
        let overrides =
            BTreeMap::from([("send".to_owned(), "Go".to_owned()), ("placeholder".to_owned(), "  ".to_owned())]);
        let text = resolve("fr", "", "", &overrides);
        assert_eq!(text.strings["send"], "Go");
        assert_eq!(text.strings["placeholder"], "Posez une question\u{2026}", "a blank override is no wording");
        assert_eq!(text.strings["close"], "Fermer la discussion");
    }
}
