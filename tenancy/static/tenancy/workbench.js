// The Workbench's small conveniences: the environment switches as soon as one is chosen (the form works without
// JavaScript), and Ctrl-K (or "Go to…" in the header) opens a command palette over pages and the environment's objects.
(function () {
  "use strict";
  const choice = document.getElementById("environment-choice");
  if (choice) choice.addEventListener("change", () => choice.form.submit());

  const opener = document.getElementById("palette-open");
  if (!opener) return;
  let entries = null;
  let shown = [];
  let selected = 0;
  const dialog = document.createElement("dialog");
  dialog.id = "palette";
  dialog.setAttribute("aria-label", "Go to a page or an object");
  const input = document.createElement("input");
  input.type = "search";
  input.id = "palette-input";
  input.placeholder = "Type a page or a name: webhook credentials, new subscription, request log…";
  input.setAttribute("aria-controls", "palette-results");
  const list = document.createElement("ul");
  list.id = "palette-results";
  list.setAttribute("role", "listbox");
  dialog.append(input, list);
  document.body.appendChild(dialog);

  function matches(entry, words) {
    const text = `${entry.label} ${entry.kind} ${entry.words}`.toLowerCase();
    return words.every((word) => text.includes(word));
  }

  function render() {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    shown = (entries || []).filter((entry) => matches(entry, words)).slice(0, 12);
    selected = Math.min(selected, Math.max(shown.length - 1, 0));
    list.replaceChildren(...shown.map((entry, index) => {
      const item = document.createElement("li");
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", String(index === selected));
      const link = document.createElement("a");
      link.href = entry.url;
      link.textContent = entry.label;
      const kind = document.createElement("span");
      kind.className = "palette-kind";
      kind.textContent = entry.kind;
      item.append(link, kind);
      return item;
    }));
    if (entries !== null && !shown.length) {
      const none = document.createElement("li");
      none.className = "palette-none";
      none.textContent = "Nothing by that name.";
      list.appendChild(none);
    }
  }

  async function open() {
    if (!dialog.open) dialog.showModal();
    input.value = "";
    selected = 0;
    input.focus();
    if (entries === null) {
      const response = await fetch(opener.dataset.entries, { credentials: "same-origin" });
      entries = response.ok ? (await response.json()).entries : [];
    }
    render();
  }

  opener.addEventListener("click", (click) => { click.preventDefault(); open(); });
  document.addEventListener("keydown", (key) => {
    if ((key.ctrlKey || key.metaKey) && key.key.toLowerCase() === "k") {
      key.preventDefault();
      open();
    }
  });
  input.addEventListener("input", () => { selected = 0; render(); });
  input.addEventListener("keydown", (key) => {
    if (key.key === "ArrowDown" || key.key === "ArrowUp") {
      key.preventDefault();
      selected = (selected + (key.key === "ArrowDown" ? 1 : shown.length - 1)) % Math.max(shown.length, 1);
      render();
    } else if (key.key === "Enter" && shown[selected]) {
      key.preventDefault();
      window.location.assign(shown[selected].url);
    }
  });
  dialog.addEventListener("click", (click) => { if (click.target === dialog) dialog.close(); });
})();
