"use strict";
// The widget in a frame, for pages whose CSP does not allow WebAssembly: bundle.js on the page
// covers the viewport with this frame and lets clicks through everywhere but the area reported here.
(() => {
  // The embedding page's origin, from its first message; the browser enforced frame-ancestors.
  let host = "";
  const tell = (message) => host && parent.postMessage(message, host);
  // The viewport area the widget draws on (its launcher and open panel), as insets from each edge;
  // measured after the current task's changes (a close event comes before the panel hides), and
  // not at an animation frame, which Chrome holds back in a frame nothing of which is shown yet.
  const report = () => queueMicrotask(() => {
    const root = document.querySelector("[data-docent-bot]")?.shadowRoot;
    const shown = root ? [...root.querySelectorAll(".docent-launcher, .docent-panel:not([hidden])")] : [];
    let [top, left, bottom, right] = [innerHeight, innerWidth, 0, 0];
    for (const element of shown) {
      const box = element.getBoundingClientRect();
      if (box.width && box.height) {
        [top, left] = [Math.min(top, box.top), Math.min(left, box.left)];
        [bottom, right] = [Math.max(bottom, box.bottom), Math.max(right, box.right)];
      }
    }
    // Room for the shadows and the focus ring around them.
    const margin = 24;
    tell({
      docent: "area",
      top: Math.max(0, top - margin),
      left: Math.max(0, left - margin),
      bottom: Math.max(0, innerHeight - bottom - margin),
      right: Math.max(0, innerWidth - right - margin),
      modal: Boolean(root?.querySelector(".docent-panel[aria-modal]")),
    });
  });
  const commands = ["open", "close", "toggle", "reset", "destroy", "identify", "goal", "end"];
  addEventListener("message", (event) => {
    const data = event.data || {};
    if (parent === window || event.source !== parent) return;
    if (!host && data.docent === "hello") {
      host = event.origin;
      tell({ docent: "ready" });
      report();
    } else if (host && event.origin === host && data.docent === "command") {
      if (commands.includes(data.action)) window.Docent.bot(String(data.bot))[data.action](data.argument);
    }
  });
  for (const name of ["open", "close", "message", "answer", "rating"]) {
    window.Docent.on(name, (detail, bot) => {
      tell({ docent: "event", event: name, bot, detail });
      report();
    });
  }
  addEventListener("resize", report);
  new MutationObserver(report).observe(document.body, { childList: true });
})();
