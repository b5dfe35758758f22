// The mapping editor: previews the draft script as it is typed (debounced) and saves it with one button.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("mapping-config").textContent);
  const editor = CodeMirror.fromTextArea(document.getElementById("mapping-script"), {
    mode: "javascript", lineNumbers: true, matchBrackets: true, autoCloseBrackets: true, indentUnit: 2, tabSize: 2,
  });
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

  async function preview() {
    const request = ++latest;
    const response = await post(config.previewUrl, { script: editor.getValue() });
    if (request !== latest) return;  // a newer keystroke's preview is on its way
    if (response.ok) render(await response.json());
    else status.textContent = `Preview not run: ${(await response.json()).error.message}`;
  }

  editor.on("change", () => {
    status.textContent = "";
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  });

  document.getElementById("mapping-save").addEventListener("click", async () => {
    const response = await post(config.saveUrl, { script: editor.getValue() });
    const answer = await response.json();
    status.textContent = response.ok ? "Saved." : `Not saved: ${answer.error.message}`;
  });

  preview();
})();
