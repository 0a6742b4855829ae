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
  --docent-a: var(--docent-accent, var(--docent-bot-accent, #2563eb));
  --docent-on-a: var(--docent-on-accent, var(--docent-bot-on-accent, #ffffff));
  --docent-bg: #ffffff; --docent-log: #f6f7f9; --docent-fg: #1f2937; --docent-muted: #4b5563;
  --docent-line: #e3e6ea; --docent-field: #6b7280; --docent-link: #1d4ed8; --docent-code: #eef0f3;
  --docent-ring: #111827; --docent-error: #b91c1c;
  --docent-stack: 0;
  --docent-lift: calc(var(--docent-stack) * 64px);
  font-family: var(--docent-font, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif);
  font-size: 15px;
  line-height: 1.45;
  color: var(--docent-fg);
  -webkit-text-size-adjust: 100%;
  text-size-adjust: 100%;
}
.docent-root *, .docent-root *::before, .docent-root *::after { box-sizing: border-box; }
:where(.docent-root) :where(button, input, textarea) { font: inherit; color: inherit; margin: 0; }
.docent-root :focus-visible { outline: 3px solid var(--docent-ring); outline-offset: 2px; box-shadow: 0 0 0 5px var(--docent-bg); }
.docent-sr {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
}
.docent-launcher {
  position: fixed; bottom: calc(20px + var(--docent-lift)); right: 20px; z-index: var(--docent-z-index, 2147483646);
  display: flex; align-items: center; gap: 10px;
  min-height: 48px; max-width: calc(100vw - 40px); padding: 0 20px;
  border: 0; border-radius: 24px; cursor: pointer;
  background: var(--docent-a); color: var(--docent-on-a);
  font-weight: 600; white-space: nowrap; overflow: hidden;
  box-shadow: 0 6px 20px rgba(0, 0, 0, .22);
}
.docent-launcher-label { overflow: hidden; text-overflow: ellipsis; }
.docent-launcher-icon {
  flex: none; position: relative; width: 20px; height: 16px; border-radius: 5px; background: currentColor;
}
.docent-launcher-icon::after {
  content: ""; position: absolute; left: 4px; bottom: -5px;
  border: 5px solid transparent; border-top-color: currentColor; border-bottom: 0;
}
.docent-launcher:hover { filter: brightness(1.08); }
.docent-panel {
  position: fixed; bottom: calc(84px + var(--docent-lift)); right: 20px; z-index: calc(var(--docent-z-index, 2147483646) + 1);
  display: flex; flex-direction: column;
  width: 360px; height: 520px; max-width: calc(100vw - 40px); max-height: calc(100vh - 104px - var(--docent-lift));
  overflow: hidden; border-radius: 14px; background: var(--docent-bg);
  box-shadow: 0 12px 40px rgba(0, 0, 0, .28);
}
.docent-panel[hidden], .docent-root [hidden] { display: none; }
.docent-root[data-position="left"] .docent-launcher,
.docent-root[data-position="left"] .docent-panel { left: 20px; right: auto; }
.docent-header {
  display: flex; align-items: center; gap: 4px;
  padding: 8px 8px 8px 16px; background: var(--docent-a); color: var(--docent-on-a);
}
.docent-title { flex: 1; font-size: 16px; font-weight: 600; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.docent-close, .docent-new {
  flex: none; width: 36px; height: 36px; padding: 0; border: 0; border-radius: 8px;
  background: transparent; font-size: 24px; line-height: 1; cursor: pointer;
}
.docent-close:hover, .docent-new:hover { background: rgba(127, 127, 127, .25); }
.docent-body { flex: 1; min-height: 0; display: flex; flex-direction: column; }
.docent-chat, .docent-login-view { display: none; flex: 1; min-height: 0; flex-direction: column; }
.docent-panel[data-state="chat"] .docent-chat,
.docent-panel[data-state="login"] .docent-login-view { display: flex; }
.docent-messages {
  flex: 1; min-height: 0; overflow-y: auto; overscroll-behavior: contain;
  display: flex; flex-direction: column; gap: 10px; padding: 16px; background: var(--docent-log);
}
.docent-msg { max-width: 85%; padding: 9px 12px; border-radius: 12px; overflow-wrap: anywhere; }
.docent-msg-text > :first-child { margin-top: 0; }
.docent-msg-text > :last-child { margin-bottom: 0; }
.docent-msg p { margin: 0 0 8px; white-space: pre-line; }
.docent-msg ul, .docent-msg ol { margin: 0 0 8px; padding-left: 22px; }
.docent-msg code { padding: 1px 4px; border-radius: 4px; background: var(--docent-code); font-size: .92em; }
.docent-msg a { color: var(--docent-link); text-decoration: underline; }
.docent-msg-user .docent-msg-text { white-space: pre-wrap; }
.docent-msg-bot { align-self: flex-start; background: var(--docent-bg); border: 1px solid var(--docent-line); }
.docent-msg-user { align-self: flex-end; background: var(--docent-a); color: var(--docent-on-a); }
.docent-msg-error {
  align-self: stretch; max-width: none; font-size: 14px;
  display: flex; align-items: center; justify-content: space-between; gap: 8px;
  background: #fef2f2; color: #991b1b; border: 1px solid #fecaca;
}
.docent-retry {
  flex: none; padding: 4px 10px; border: 1px solid #991b1b; border-radius: 8px; background: var(--docent-bg); cursor: pointer;
}
.docent-sources { margin-top: 8px; padding-top: 8px; border-top: 1px solid var(--docent-line); font-size: 13px; }
.docent-sources-label { margin: 0 0 2px; color: var(--docent-muted); font-weight: 600; }
.docent-sources ul { margin: 0; padding: 0; list-style: none; }
.docent-sources li { margin: 2px 0; }
span.docent-source { color: var(--docent-muted); }
.docent-msg a.docent-handoff {
  display: inline-block; margin-top: 10px; padding: 6px 12px; border-radius: 8px;
  background: var(--docent-a); color: var(--docent-on-a); font-weight: 600; text-decoration: none;
}
.docent-feedback { display: flex; gap: 4px; margin-top: 6px; }
.docent-feedback button, .docent-rating button {
  min-width: 32px; height: 32px; padding: 0 6px; border: 1px solid var(--docent-line); border-radius: 8px;
  background: var(--docent-bg); cursor: pointer;
}
.docent-feedback button[aria-pressed="true"] { border-color: var(--docent-a); background: var(--docent-log); }
.docent-rating { align-self: stretch; max-width: none; display: flex; flex-wrap: wrap; align-items: center; gap: 6px; background: var(--docent-bg); border: 1px solid var(--docent-line); }
.docent-rating p { flex-basis: 100%; margin: 0; font-weight: 600; }
.docent-typing {
  align-self: flex-start; display: flex; gap: 4px; padding: 12px 14px;
  background: var(--docent-bg); border: 1px solid var(--docent-line); border-radius: 12px;
}
.docent-dot { width: 7px; height: 7px; border-radius: 50%; background: var(--docent-field); animation: docent-blink 1.2s infinite ease-in-out; }
.docent-dot:nth-child(3) { animation-delay: .2s; }
.docent-dot:nth-child(4) { animation-delay: .4s; }
@keyframes docent-blink { 0%, 80%, 100% { opacity: .3; } 40% { opacity: 1; } }
.docent-form { display: flex; align-items: flex-end; gap: 8px; padding: 10px; border-top: 1px solid var(--docent-line); background: var(--docent-bg); }
.docent-input, .docent-password {
  min-width: 0; padding: 9px 11px; border: 1px solid var(--docent-field); border-radius: 10px; background: var(--docent-bg); font-size: 16px;
}
.docent-input { flex: 1; height: 60px; resize: none; }
.docent-send, .docent-login {
  flex: none; height: 40px; padding: 0 16px; border: 0; border-radius: 10px; cursor: pointer;
  background: var(--docent-a); color: var(--docent-on-a); font-weight: 600;
}
.docent-send:disabled, .docent-login:disabled { opacity: .55; cursor: default; }
.docent-login-view { gap: 10px; padding: 20px; }
.docent-login-view p { margin: 0; }
.docent-label { font-weight: 600; margin-bottom: -4px; }
.docent-login { align-self: flex-start; }
.docent-login-error { min-height: 1.45em; color: var(--docent-error); font-size: 14px; }
.docent-state-message {
  flex: 1; display: flex; align-items: center; justify-content: center;
  margin: 0; padding: 24px; text-align: center; color: var(--docent-muted);
}
@media (max-width: 480px), (max-height: 500px) {
  .docent-root .docent-panel {
    top: 0; right: 0; bottom: 0; left: 0; width: auto; height: auto;
    max-width: none; max-height: none; border-radius: 0;
  }
  .docent-input { height: 44px; }
  .docent-messages { padding: 10px 12px; }
}
@media (max-width: 480px) {
  .docent-launcher { width: 56px; height: 56px; padding: 0; border-radius: 50%; justify-content: center; }
  .docent-launcher-label { display: none; }
  .docent-launcher { bottom: calc(16px + var(--docent-lift)); right: 16px; }
  .docent-root[data-position="left"] .docent-launcher { left: 16px; }
}
.docent-root[data-theme="dark"] {
  --docent-bg: #1f2329; --docent-log: #15181c; --docent-fg: #e5e7eb; --docent-muted: #aeb4bd;
  --docent-line: #3a4049; --docent-field: #8b929c; --docent-link: #93c5fd; --docent-code: #2b3038;
  --docent-ring: #ffffff; --docent-error: #fca5a5;
}
@media (prefers-color-scheme: dark) {
  .docent-root[data-theme="auto"] {
    --docent-bg: #1f2329; --docent-log: #15181c; --docent-fg: #e5e7eb; --docent-muted: #aeb4bd;
    --docent-line: #3a4049; --docent-field: #8b929c; --docent-link: #93c5fd; --docent-code: #2b3038;
    --docent-ring: #ffffff; --docent-error: #fca5a5;
  }
}
@media (prefers-reduced-motion: reduce) {
  .docent-dot { animation: none; }
}
"#;

/// [`SHEET`] without its indentation, line breaks and the spaces around `{`, `}`, `;`, `,`
/// and after `:`, computed when the widget compiles: readable source, fewer bytes to download.
const MINIFIED_SHEET: &str = {
    const MINIFIED: ([u8; SHEET.len()], usize) = minify(SHEET);
    match core::str::from_utf8(MINIFIED.0.split_at(MINIFIED.1).0) {
        Ok(css) => css,
        Err(_) => panic!("the minified stylesheet is not UTF-8"),
    }
};

/// `css` with every run of white space cut to one space, or to none next to punctuation that
/// needs none. A space before `:` stays: `.a :focus` and `.a:focus` are different selectors.
const fn minify<const N: usize>(css: &str) -> ([u8; N], usize) {
    const fn tight_after(byte: u8) -> bool {
        matches!(byte, b'{' | b'}' | b';' | b',' | b':')
    }
    const fn tight_before(byte: u8) -> bool {
        matches!(byte, b'{' | b'}' | b';' | b',')
    }
    let bytes = css.as_bytes();
    let mut out = [0u8; N];
    let mut len = 0;
    let mut space = false;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte.is_ascii_whitespace() {
            space = true;
        } else {
            if space && len > 0 && !tight_after(out[len - 1]) && !tight_before(byte) {
                out[len] = b' ';
                len += 1;
            }
            out[len] = byte;
            len += 1;
            space = false;
        }
        index += 1;
    }
    (out, len)
}

/// Gives `shadow` the widget's stylesheet, as a constructable stylesheet.
pub(crate) fn adopt(shadow: &ShadowRoot) -> Result<(), JsValue> {
    let sheet = CssStyleSheet::new()?;
    sheet.replace_sync(MINIFIED_SHEET)?;
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
    style.set_property("--docent-bot-accent", accent)?;
    style.set_property("--docent-bot-on-accent", on_accent(rgb))
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
    fn minifies_without_changing_selectors() {
        let (bytes, len) = minify::<80>(".a :focus { color: red; }\n.b, .c {\n  margin: 0 4px;\n}\n");
        assert_eq!(std::str::from_utf8(&bytes[..len]), Ok(".a :focus{color:red;}.b,.c{margin:0 4px;}"));
        assert!(MINIFIED_SHEET.len() < SHEET.len() * 9 / 10);
        assert!(MINIFIED_SHEET.contains(".docent-root :focus-visible{"));
    }

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
