/*! Docent chat widget: its frames, for pages whose CSP forbids WebAssembly. Built by `cargo xtask dist` from xtask/src/frames.js. */
(() => {
"use strict";
// bundle.js inserted this script, with its helpers on the element.
const { script, emit, define, snippets, language } = (document.currentScript && document.currentScript.docent) || {};
if (!define) {
  console.error("docent: frames.js is loaded by bundle.js, not by a page");
  return;
}
console.warn("docent: this page's Content-Security-Policy does not allow WebAssembly, so the chat runs in a frame from " +
  new URL(script.src).origin + "; add 'wasm-unsafe-eval' to its script-src to run it in the page");
// Each bot's frame covers the viewport, so that the widget inside sees the page's viewport, and
// a clip-path cuts it down to the area the widget draws on, which alone is drawn and takes clicks.
const frames = new Map();
const mount = () => {
  if (!document.body) return new Promise((done) => addEventListener("DOMContentLoaded", done, { once: true })).then(mount);
  for (const tag of snippets()) {
    const bot = tag.getAttribute("data-bot");
    if (!frames.has(bot)) {
      const frame = document.createElement("iframe");
      frame.src = new URL("frame.html?bot=" + encodeURIComponent(bot) + "&" + language(tag), tag.src).href;
      frame.title = "Chat";
      frame.setAttribute("data-docent-frame", bot);
      for (const [name, value] of [["position", "fixed"], ["inset", "0"], ["width", "100%"], ["height", "100%"],
        ["border", "0"], ["z-index", "2147483646"], ["clip-path", "inset(50%)"]]) {
        frame.style.setProperty(name, value);
      }
      const gateway = new URL(tag.src).origin;
      frames.set(bot, { frame, gateway, ready: false });
      // The frame learns the page's origin from this message; it answers "ready" only if the
      // browser let the page embed it (frame-ancestors, from the bot's allowlist).
      frame.addEventListener("load", () => {
        frame.contentWindow.postMessage({ docent: "hello" }, gateway);
        setTimeout(() => frames.get(bot).ready || console.error("docent: the bot \"" + bot + "\" does not allow this page's origin " +
          location.origin + " to embed its frame; add it to allowed_origins in the bot's bot.toml"), 5000);
      });
    }
    const { frame } = frames.get(bot);
    if (!frame.isConnected) document.body.append(frame);
  }
  return Promise.resolve();
};
addEventListener("message", (event) => {
  const data = event.data || {};
  const found = [...frames.values()].find(({ frame, gateway }) => frame.contentWindow === event.source && event.origin === gateway);
  if (!found) return;
  if (data.docent === "ready") found.ready = true;
  if (data.docent === "event") emit(String(data.event), String(data.bot), data.detail);
  if (data.docent === "area") {
    const insets = [data.top, data.right, data.bottom, data.left].map((px) => Number(px) + "px");
    found.frame.style.setProperty("clip-path", "inset(" + insets.join(" ") + ")");
    // A full-screen panel is modal: the page behind it stops scrolling.
    if (data.modal) document.documentElement.style.setProperty("overflow", "hidden");
    else document.documentElement.style.removeProperty("overflow");
  }
});
// The page's Docent calls go to the frame of the bot named, or of the first bot.
define((bot, action, argument) => {
  const [name, found] = [...frames].find(([name]) => !bot || name === bot) || [];
  if (found) found.frame.contentWindow.postMessage({ docent: "command", bot: name, action, argument }, found.gateway);
  return Promise.resolve();
}, mount);
})();
