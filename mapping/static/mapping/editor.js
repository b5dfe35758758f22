// The mapping editor: previews the draft script as it is typed (debounced) on the chosen example event (a type's
// latest real event or catalog example, or a pasted one), checks it on every type (Check all), saves it, and asks
// before leaving with unsaved changes.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("mapping-config").textContent);
  const textarea = document.getElementById("mapping-script");
  const editable = !textarea.readOnly;
  const editor = CodeMirror.fromTextArea(textarea, {
    mode: "javascript", lineNumbers: true, matchBrackets: true, autoCloseBrackets: true, indentUnit: 2, tabSize: 2,
    readOnly: !editable,
  });
  const source = document.getElementById("mapping-source");
  const pasteBox = document.getElementById("mapping-paste");
  const pasted = document.getElementById("mapping-pasted");
  const sourceNote = document.getElementById("mapping-source-note");
  const checkResults = document.getElementById("mapping-check-results");
  let saved = editor.getValue();
  const output = document.getElementById("mapping-output");
  const errorBox = document.getElementById("mapping-error");
  const logs = document.getElementById("mapping-logs");
  const status = document.getElementById("mapping-status");
  const example = document.getElementById("mapping-example");
  const filterVerdict = document.getElementById("mapping-filter");
  let errorLine = null;
  let timer = null;
  let latest = 0;
  let shownExample = null;

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": config.csrfToken },
      body: JSON.stringify(body),
    });
  }

  function pathLabel(path) {
    return path.reduce((label, key) => (typeof key === "number" ? `${label}[${key}]` :
      /^[A-Za-z_$][\w$]*$/.test(key) ? `${label}.${key}` : `${label}[${JSON.stringify(key)}]`), "event");
  }

  function tree(value, path) {
    const list = document.createElement("ul");
    const entries = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
    for (const [key, item] of entries) {
      const itemPath = path.concat([key]);
      const row = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "mapping-path";
      button.textContent = pathLabel(itemPath);
      button.title = "Insert this path into the script";
      button.disabled = !editable;
      button.addEventListener("click", () => { editor.replaceSelection(button.textContent); editor.focus(); });
      row.appendChild(button);
      if (item !== null && typeof item === "object") {
        row.appendChild(tree(item, itemPath));
      } else {
        const shown = document.createElement("span");
        shown.className = "mapping-value";
        shown.textContent = ` = ${JSON.stringify(item)}`;
        row.appendChild(shown);
      }
      list.appendChild(row);
    }
    return list;
  }

  function render(result) {
    filterVerdict.textContent = result.matches_filter ? "Passes the subscription's filter." :
      "Fails the subscription's filter: an event like this gets no delivery.";
    filterVerdict.className = result.matches_filter ? "mapping-filter-passes" : "mapping-filter-fails";
    const exampleText = JSON.stringify(result.example);
    if (exampleText !== shownExample) {
      shownExample = exampleText;
      example.replaceChildren(tree(result.example, []));
    }
    if (errorLine !== null) {
      editor.removeLineClass(errorLine, "background", "mapping-error-line");
      errorLine = null;
    }
    if (result.error) {
      errorBox.hidden = false;
      errorBox.textContent = result.error.line ? `Line ${result.error.line}: ${result.error.message}` : result.error.message;
      if (result.error.line) {
        errorLine = result.error.line - 1;
        editor.addLineClass(errorLine, "background", "mapping-error-line");
      }
      output.textContent = "";
    } else {
      errorBox.hidden = true;
      errorBox.textContent = "";
      output.textContent = result.skipped ? "null: nothing would be sent" : JSON.stringify(result.output, null, 2);
    }
    logs.replaceChildren(...result.logs.map((line) => { const item = document.createElement("li"); item.textContent = line; return item; }));
  }

  // The preview's input for the chosen example, or null (with a note) when the pasted text is not an event.
  function chosenExample() {
    const [kind, name] = source.value.split(/:(.*)/s);
    pasteBox.hidden = kind !== "pasted";
    if (kind === "example") return { event: config.examples[name] };
    if (kind === "latest") return { event_type: name };
    try {
      const event = JSON.parse(pasted.value);
      if (event !== null && typeof event === "object" && !Array.isArray(event)) return { event };
    } catch (error) { /* reported below */ }
    sourceNote.textContent = pasted.value.trim() ? "The pasted text is not a JSON object." : "Paste an event to run the script on it.";
    return null;
  }

  function describeSource(result) {
    const name = source.value.split(/:(.*)/s)[1];
    if (source.value.startsWith("latest:")) {
      sourceNote.textContent = result.source === "latest" ? `The latest ${name} event received (${result.example.id}).`
        : `No ${name} event received yet: the catalog example instead.`;
    } else {
      sourceNote.textContent = source.value === "pasted" ? "Your pasted event." : `The catalog's example of ${name}.`;
    }
  }

  async function preview() {
    const request = ++latest;
    const example = chosenExample();
    if (example === null) return;
    const response = await post(config.previewUrl, { script: editor.getValue(), ...example });
    if (request !== latest) return;  // a newer keystroke's preview is on its way
    if (response.ok) {
      const result = await response.json();
      describeSource(result);
      render(result);
    } else {
      status.textContent = `Preview not run: ${(await response.json()).error.message}`;
    }
  }

  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  }

  function showUnsaved() {
    if (editable) status.textContent = editor.getValue() === saved ? "" : "Unsaved changes";
  }

  async function checkAll() {
    const button = document.getElementById("mapping-check");
    button.disabled = true;
    status.textContent = "Checking every event type…";
    const response = await post(config.checkUrl, { script: editor.getValue() });
    button.disabled = false;
    const answer = await response.json();
    if (!response.ok) {
      status.textContent = `Not checked: ${answer.error.message}`;
      return;
    }
    const failures = answer.results.filter((run) => run.error);
    status.textContent = failures.length ? `Fails on ${failures.length} of ${answer.results.length} events.`
      : `Runs on all ${answer.results.length} events.`;
    checkResults.hidden = false;
    checkResults.querySelector("ul").replaceChildren(...answer.results.map((run) => {
      const item = document.createElement("li");
      item.className = run.error ? "mapping-check-failed" : "mapping-check-passed";
      item.dataset.eventType = run.event_type;
      const what = run.source === "latest" ? `latest real event ${run.event_id}` : "catalog example";
      const outcome = run.error ? `fails${run.error.line ? ` at line ${run.error.line}` : ""}: ${run.error.message}` : "runs";
      item.textContent = `${run.error ? "✗" : "✓"} ${run.event_type} (${what}) ${outcome}`;
      return item;
    }));
  }

  editor.on("change", () => {
    showUnsaved();
    schedulePreview();
  });
  source.addEventListener("change", () => { sourceNote.textContent = ""; preview(); });
  pasted.addEventListener("input", schedulePreview);
  document.getElementById("mapping-check").addEventListener("click", checkAll);

  if (editable) {
    document.getElementById("mapping-save").addEventListener("click", async () => {
      const script = editor.getValue();
      const response = await post(config.saveUrl, { script });
      const answer = await response.json();
      if (response.ok) saved = script;
      status.textContent = response.ok ? "Saved." : `Not saved: ${answer.error.message}`;
    });
    // The browser's own question before leaving the page with a draft not saved.
    window.addEventListener("beforeunload", (leaving) => {
      if (editor.getValue() !== saved) leaving.preventDefault();
    });
  }

  preview();
})();
