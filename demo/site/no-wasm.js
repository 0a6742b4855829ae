// The page's own script, under the same CSP as the chat: a button beside the chat's frame.
document.getElementById("beside-the-chat").addEventListener("click", () => {
  document.getElementById("holiday-hours").hidden = false;
});
