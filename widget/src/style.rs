//! The widget's look: one stylesheet adopted by the shadow root, and the accent colour.
//!
//! No `<style>` element and no `style` attribute string is ever written, so the
//! widget keeps working on pages whose CSP says `style-src 'self'`.

use wasm_bindgen::JsValue;
use web_sys::{CssStyleSheet, HtmlElement, ShadowRoot};

/// The accent used when the bot's configuration has none we can use.
const DEFAULT_ACCENT: &str = "#2563eb";

/// Everything inside the shadow root. `:host` resets whatever the page's CSS
/// says about the host element; nothing here reaches outside the shadow root.
const SHEET: &str = r#"
:host { all: initial !important; }
.docent-root {
  --docent-accent: #2563eb;
  --docent-on-accent: #ffffff;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px;
  line-height: 1.45;
  color: #1f2937;
  -webkit-text-size-adjust: 100%;
  text-size-adjust: 100%;
}
.docent-root *, .docent-root *::before, .docent-root *::after { box-sizing: border-box; }
:where(.docent-root) :where(button, input, textarea) { font: inherit; color: inherit; margin: 0; }
.docent-root :focus-visible { outline: 3px solid #93c5fd; outline-offset: 2px; }
.docent-launcher {
  position: fixed; bottom: 20px; right: 20px; z-index: 2147483646;
  min-height: 48px; max-width: calc(100vw - 40px); padding: 0 22px;
  border: 0; border-radius: 24px; cursor: pointer;
  background: var(--docent-accent); color: var(--docent-on-accent);
  font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  box-shadow: 0 6px 20px rgba(0, 0, 0, .22);
}
.docent-launcher:hover { filter: brightness(1.08); }
.docent-panel {
  position: fixed; bottom: 84px; right: 20px; z-index: 2147483647;
  display: flex; flex-direction: column;
  width: 360px; height: 520px; max-width: calc(100vw - 40px); max-height: calc(100vh - 104px);
  overflow: hidden; border-radius: 14px; background: #ffffff;
  box-shadow: 0 12px 40px rgba(0, 0, 0, .28);
}
.docent-panel[hidden] { display: none; }
.docent-root[data-position="left"] .docent-launcher,
.docent-root[data-position="left"] .docent-panel { left: 20px; right: auto; }
.docent-header {
  display: flex; align-items: center; justify-content: space-between; gap: 8px;
  padding: 10px 10px 10px 16px; background: var(--docent-accent); color: var(--docent-on-accent);
}
.docent-title { font-size: 16px; font-weight: 600; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.docent-close {
  flex: none; width: 34px; height: 34px; padding: 0; border: 0; border-radius: 8px;
  background: transparent; font-size: 24px; line-height: 1; cursor: pointer;
}
.docent-close:hover { background: rgba(127, 127, 127, .25); }
.docent-chat, .docent-login-view { display: none; flex: 1; min-height: 0; flex-direction: column; }
.docent-panel[data-state="chat"] .docent-chat,
.docent-panel[data-state="login"] .docent-login-view { display: flex; }
.docent-messages {
  flex: 1; min-height: 0; overflow-y: auto; overscroll-behavior: contain;
  display: flex; flex-direction: column; gap: 10px; padding: 16px; background: #f6f7f9;
}
.docent-msg { max-width: 85%; padding: 9px 12px; border-radius: 12px; overflow-wrap: anywhere; }
.docent-msg-text { white-space: pre-wrap; }
.docent-msg-bot { align-self: flex-start; background: #ffffff; border: 1px solid #e3e6ea; }
.docent-msg-user { align-self: flex-end; background: var(--docent-accent); color: var(--docent-on-accent); }
.docent-msg-error {
  align-self: stretch; max-width: none; font-size: 14px;
  background: #fef2f2; color: #991b1b; border: 1px solid #fecaca;
}
.docent-sources { margin: 8px 0 0; padding: 8px 0 0; list-style: none; border-top: 1px solid #eceef1; font-size: 13px; }
.docent-sources li { margin: 2px 0; }
a.docent-source { color: #1d4ed8; text-decoration: underline; }
span.docent-source { color: #4b5563; }
.docent-handoff {
  display: inline-block; margin-top: 10px; padding: 6px 12px; border-radius: 8px;
  background: var(--docent-accent); color: var(--docent-on-accent); font-weight: 600; text-decoration: none;
}
.docent-typing {
  align-self: flex-start; display: flex; gap: 4px; padding: 12px 14px;
  background: #ffffff; border: 1px solid #e3e6ea; border-radius: 12px;
}
.docent-typing span { width: 7px; height: 7px; border-radius: 50%; background: #9ca3af; animation: docent-blink 1.2s infinite ease-in-out; }
.docent-typing span:nth-child(2) { animation-delay: .2s; }
.docent-typing span:nth-child(3) { animation-delay: .4s; }
@keyframes docent-blink { 0%, 80%, 100% { opacity: .3; } 40% { opacity: 1; } }
.docent-form { display: flex; align-items: flex-end; gap: 8px; padding: 10px; border-top: 1px solid #e3e6ea; background: #ffffff; }
.docent-input, .docent-password {
  flex: 1; min-width: 0; padding: 9px 11px; border: 1px solid #cfd4da; border-radius: 10px; background: #ffffff;
}
.docent-input { height: 60px; resize: none; }
.docent-input:focus, .docent-password:focus { outline: 2px solid var(--docent-accent); outline-offset: -1px; }
.docent-send, .docent-login {
  flex: none; height: 40px; padding: 0 16px; border: 0; border-radius: 10px; cursor: pointer;
  background: var(--docent-accent); color: var(--docent-on-accent); font-weight: 600;
}
.docent-send:disabled, .docent-login:disabled { opacity: .55; cursor: default; }
.docent-login-view { gap: 12px; padding: 20px; }
.docent-login-view p { margin: 0; }
.docent-login-error { min-height: 1.45em; color: #b91c1c; font-size: 14px; }
.docent-state-message {
  flex: 1; display: flex; align-items: center; justify-content: center;
  margin: 0; padding: 24px; text-align: center; color: #4b5563;
}
@media (max-width: 480px) {
  .docent-root[data-position] .docent-panel {
    top: 0; right: 0; bottom: 0; left: 0; width: auto; height: auto;
    max-width: none; max-height: none; border-radius: 0;
  }
}
@media (prefers-reduced-motion: reduce) {
  .docent-typing span { animation: none; }
}
"#;

/// Gives `shadow` the widget's stylesheet, as a constructable stylesheet.
pub(crate) fn adopt(shadow: &ShadowRoot) -> Result<(), JsValue> {
    let sheet = CssStyleSheet::new()?;
    sheet.replace_sync(SHEET)?;
    shadow.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
    Ok(())
}

/// Paints `root` in the bot's accent colour through the CSSOM, with a text
/// colour that stays readable on it. Anything but `#rrggbb` falls back to the default.
pub(crate) fn set_accent(root: &HtmlElement, accent: &str) -> Result<(), JsValue> {
    let (accent, rgb) = match parse_hex(accent) {
        Some(rgb) => (accent, rgb),
        None => (DEFAULT_ACCENT, [0x25, 0x63, 0xeb]),
    };
    let style = root.style();
    style.set_property("--docent-accent", accent)?;
    style.set_property("--docent-on-accent", on_accent(rgb))
}

/// The red, green and blue of a `#rrggbb` colour.
fn parse_hex(color: &str) -> Option<[u8; 3]> {
    let digits = color.strip_prefix('#')?.as_bytes();
    if digits.len() != 6 {
        return None;
    }
    let mut rgb = [0u8; 3];
    for (channel, pair) in rgb.iter_mut().zip(digits.chunks(2)) {
        let mut value = 0u8;
        for &digit in pair {
            value = value * 16 + char::from(digit).to_digit(16).and_then(|d| u8::try_from(d).ok())?;
        }
        *channel = value;
    }
    Some(rgb)
}

/// Dark text on light accents, white text on dark ones (by perceived brightness).
fn on_accent([red, green, blue]: [u8; 3]) -> &'static str {
    let brightness = 299 * u32::from(red) + 587 * u32::from(green) + 114 * u32::from(blue);
    if brightness > 160_000 { "#111827" } else { "#ffffff" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_six_digit_hex_colours() {
        assert_eq!(parse_hex("#2563eb"), Some([0x25, 0x63, 0xeb]));
        assert_eq!(parse_hex("#FFFFFF"), Some([255, 255, 255]));
        for bad in ["", "#", "#fff", "2563eb", "#2563eg", "#2563eb0", "#ééé", "red"] {
            assert_eq!(parse_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn picks_a_readable_text_colour() {
        assert_eq!(on_accent([0x25, 0x63, 0xeb]), "#ffffff");
        assert_eq!(on_accent([0, 0, 0]), "#ffffff");
        assert_eq!(on_accent([0xfa, 0xcc, 0x15]), "#111827");
        assert_eq!(on_accent([255, 255, 255]), "#111827");
    }
}
