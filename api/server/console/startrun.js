// Start a run of a suite from its page: prompt, version or label, suite version → POST /v1/runs.

import { api, can, fail, go, h, runPath } from "./core.js";

function field(id, text, control, hint) {
  return h("div", { class: "field" }, h("label", { for: id, text }), control, hint ? h("span", { class: "hint", text: hint }) : null);
}

/** The target as the API takes it: a version number, or a label (anything else is the server's to refuse). */
function target(by, text) {
  if (by === "label") return { label: text };
  return { version: /^\d{1,9}$/.test(text) ? Number(text) : text };
}

/**
 * Return the "Start a run" form of suite `name`, or null when the key may not start runs.
 * `versions` are the suite's version numbers, newest first; `selected` is preselected.
 */
export function startRunForm(name, versions, selected) {
  if (!can("runs.start")) return null;
  const prompt = h("input", { id: "start-prompt", name: "prompt", required: true, maxlength: 200, spellcheck: "false", autocomplete: "off", placeholder: "support/triage" });
  const by = h(
    "select",
    { id: "start-by", name: "by" },
    h("option", { value: "version", text: "version number" }),
    h("option", { value: "label", text: "label" }),
  );
  const what = h("input", { id: "start-target", name: "target", required: true, maxlength: 64, spellcheck: "false", autocomplete: "off", placeholder: "3 or production" });
  const suiteVersion = h(
    "select",
    { id: "start-suite-version", name: "suite_version" },
    ...versions.map((v) => h("option", { value: v, selected: v === selected, text: `v${v}` })),
  );
  const status = h("div", { id: "start-status", role: "status", "aria-live": "polite" });
  const submit = h("button", { type: "submit", id: "start-submit", text: "Start run" });

  async function start(event) {
    event.preventDefault();
    const body = { suite: name, suite_version: Number(suiteVersion.value), prompt: prompt.value.trim(), ...target(by.value, what.value.trim()) };
    submit.disabled = true;
    status.replaceChildren(h("p", { class: "state loading", text: "Starting the run…" }));
    let run;
    try {
      run = await api("/v1/runs", { method: "POST", body });
    } catch (error) {
      submit.disabled = false;
      fail(status, error);
      return;
    }
    go(runPath(run.id)); // the run page follows its progress live
  }

  return h(
    "form",
    { id: "start-run", class: "start-run", onsubmit: start },
    h(
      "div",
      { class: "filters" },
      field("start-prompt", "Prompt", prompt),
      field("start-by", "Run on", by),
      field("start-target", "Version or label", what),
      field("start-suite-version", "Suite version", suiteVersion),
      submit,
    ),
    status,
  );
}
