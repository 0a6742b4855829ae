// Benchmark probe, loaded before the snippet: when does the widget's launcher show, counted from `load`?
// `cargo xtask bench widget` reads window.docentTiming; nothing else uses this file.
(() => {
  const timing = (window.docentTiming = { longTasks: 0 });
  try {
    new PerformanceObserver((list) => { timing.longTasks += list.getEntries().length; })
      .observe({ type: "longtask", buffered: true });
  } catch (err) {
    timing.longTasks = -1;
  }
  new MutationObserver((changes, observer) => {
    const host = document.querySelector("[data-docent-bot]");
    const launcher = host && host.shadowRoot && host.shadowRoot.querySelector(".docent-launcher");
    if (!launcher) return;
    observer.disconnect();
    requestAnimationFrame(() => {
      timing.shown = performance.now();
      timing.requests = performance.getEntriesByType("resource")
        .filter((entry) => entry.startTime < timing.shown && !entry.name.startsWith(location.origin))
        .map((entry) => entry.name);
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
