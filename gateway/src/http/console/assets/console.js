// The operator console's only script: copy buttons, and live progress of a deploy and
// of an import from the owner's site, read from server-sent events. Without it every form
// still works.
"use strict";

document.querySelectorAll("button[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = "Copied";
    } catch (_) {
      button.textContent = "Select and copy by hand";
    }
  });
});

// Posts `form` asking for server-sent events and hands each event's name and JSON to
// `onEvent`; resolves to false when the stream could not start or broke off.
async function streamForm(form, url, onEvent) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/event-stream" },
    body: new URLSearchParams(new FormData(form)),
    credentials: "same-origin",
  });
  if (!response.ok || !response.body) {
    onEvent("failed", { text: "It could not start (HTTP " + response.status + ")." });
    return false;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return true;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const lines = buffer.slice(0, end).split("\n");
      buffer = buffer.slice(end + 2);
      const name = lines.find((line) => line.startsWith("event: "));
      const data = lines.find((line) => line.startsWith("data: "));
      if (data) onEvent(name ? name.slice(7) : "message", JSON.parse(data.slice(6)));
    }
  }
}

// Appends a line to the list `log`.
function sayIn(log, text) {
  const item = document.createElement("li");
  item.textContent = text;
  log.appendChild(item);
}

const deployForm = document.querySelector("form[data-deploy]");
if (deployForm) {
  deployForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const log = document.getElementById("deploy-log");
    const button = deployForm.querySelector("button");
    log.replaceChildren();
    button.disabled = true;
    try {
      if (await streamForm(deployForm, deployForm.dataset.deploy, (_, data) => sayIn(log, data.text))) {
        sayIn(log, "Reloading…");
        window.location.reload();
      }
    } catch (error) {
      sayIn(log, "The connection was lost: " + error);
    } finally {
      button.disabled = false;
    }
  });
}

// The import keeps its log on the page: the pages it left out stay readable, and a link
// reloads the page to show what changed.
const importForm = document.querySelector("form[data-import]");
if (importForm) {
  importForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = document.getElementById("import-status");
    const log = document.getElementById("import-log");
    const button = importForm.querySelector("button");
    log.replaceChildren();
    status.textContent = "Starting the import…";
    button.disabled = true;
    try {
      await streamForm(importForm, importForm.action, (name, data) => {
        if (name === "page") {
          status.textContent = data.text;
        } else if (name === "skipped") {
          sayIn(log, data.text);
        } else {
          status.textContent = data.text;
          if (name === "done") {
            const link = document.createElement("a");
            link.href = window.location.pathname;
            link.textContent = "Review the changes";
            status.append(" ", link);
          }
        }
      });
    } catch (error) {
      status.textContent = "The connection was lost: " + error;
    } finally {
      button.disabled = false;
    }
  });
}
