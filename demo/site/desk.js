// The page's own "Chat with us" button opens the Brightwater assistant through the widget's JS API.
document.getElementById("chat-with-us").addEventListener("click", () => window.Docent.bot("brightwater").open());
