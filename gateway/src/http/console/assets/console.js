// The operator console's only script: copy buttons, and live deploy progress
// read from the admin API's server-sent events. Without it every form still works.
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

const deployForm = document.querySelector("form[data-deploy]");
if (deployForm) {
  deployForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const log = document.getElementById("deploy-log");
    const button = deployForm.querySelector("button");
    const say = (text) => {
      const item = document.createElement("li");
      item.textContent = text;
      log.appendChild(item);
    };
    log.replaceChildren();
    button.disabled = true;
    try {
      const response = await fetch(deployForm.dataset.deploy, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/event-stream" },
        body: new URLSearchParams(new FormData(deployForm)),
        credentials: "same-origin",
      });
      if (!response.ok || !response.body) {
        say("The deploy could not start (HTTP " + response.status + ").");
        return;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").find((line) => line.startsWith("data: "));
          if (data) say(JSON.parse(data.slice(6)).text);
        }
      }
      say("Reloading…");
      window.location.reload();
    } catch (error) {
      say("The connection was lost: " + error);
    } finally {
      button.disabled = false;
    }
  });
}
