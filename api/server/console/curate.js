// "Add to dataset" on the calls list (writers): the ticked calls, or every call the filters
// select, become items of a new dataset version (POST …/versions/from-generations). A dry run
// comes first and says what would be added and what skipped, and why; only then can it be
// confirmed, with exactly the selection that was previewed.

import { api, can, fail, h, link, note, table } from "./core.js";
import { datasetApi, datasetPath } from "./datasets.js";
import { callLink, timeParams } from "./obs.js";

// What the API can select calls by; a call's model or source cannot narrow a curation.
const UNSUPPORTED = [
  ["model", "model"],
  ["source", "source"],
];

/** Return a tick box for a call's row (writers only), else null. */
export function tickBox(call) {
  if (!can("datasets.curate")) return null;
  return h("input", { type: "checkbox", class: "call-tick", value: call.id, "aria-label": `Select call ${call.id}` });
}

/** Return why the filters cannot select calls to add (null: they can). */
function filtersProblem(filters) {
  if (!filters.prompt) return "Filter by a prompt first: calls are added by prompt, or tick them.";
  const unsupported = UNSUPPORTED.filter(([name]) => filters[name]).map(([, text]) => text);
  if (unsupported.length) return `The ${unsupported.join(" and ")} filter cannot select calls to add: clear it, or tick the calls.`;
  return null;
}

/** Return the curation body of the current filters (what /v1/generations was asked with). */
function filtersBody(filters) {
  const body = { prompt: filters.prompt, ...timeParams(filters) };
  if (filters.version) body.version = /^\d{1,9}$/.test(filters.version) ? Number(filters.version) : filters.version;
  if (filters.label) body.label = filters.label;
  if (filters.errors) body.errors = filters.errors === "true";
  return body;
}

function skippedView(result) {
  if (!result.skipped.length) return null;
  const rows = result.skipped.map((s) =>
    h("tr", { "data-call": s.generation_id }, h("td", {}, callLink(s.generation_id, `Call #${s.generation_id}`)), h("td", { text: s.reason })),
  );
  return h("div", {}, h("h3", { text: `Skipped (${result.skipped.length})` }), table("Skipped calls", ["Call", "Why"], rows, { id: "curate-skipped" }));
}

function summary(result, name) {
  const into = result.version == null ? `a new dataset ${name}` : `${name} (now v${result.version})`;
  if (result.dry_run) {
    return result.added
      ? `Would add ${result.added} of ${result.selected} selected call(s) to ${into} as a new version.`
      : `Nothing to add: none of the ${result.selected} selected call(s) can be added to ${into}.`;
  }
  return result.created ? `Added ${result.added} item(s): ${name} v${result.version}.` : "Nothing was added.";
}

function field(id, text, control, hint) {
  return h("div", { class: "field" }, h("label", { for: id, text }), control, hint ? h("span", { class: "hint", text: hint }) : null);
}

/**
 * Return the "Add to dataset" panel of the calls list, or null for keys that may not add;
 * `results` is the element holding the calls table (its tick boxes are read).
 */
export function curatePanel(filters, results) {
  if (!can("datasets.curate")) return null;
  const why = filtersProblem(filters);
  const dataset = h("input", { id: "curate-dataset", name: "dataset", required: true, maxlength: 200, spellcheck: "false", autocomplete: "off", placeholder: "support/regressions" });
  const by = h(
    "select",
    { id: "curate-by", name: "by" },
    h("option", { value: "ticked", text: "the calls ticked on this page" }),
    h("option", { value: "filters", disabled: Boolean(why), text: "every call the filters select (100 newest at most)" }),
  );
  const message = h("input", { id: "curate-message", name: "message", maxlength: 2000, placeholder: "optional commit message" });
  const preview = h("button", { type: "submit", id: "curate-preview", text: "Preview (dry run)" });
  const output = h("div", { id: "curate-output", role: "status", "aria-live": "polite" });
  const selectAll = h("button", {
    type: "button",
    id: "curate-tick-all",
    class: "secondary",
    text: "Tick every call on this page",
    onclick: () => {
      for (const box of results.querySelectorAll(".call-tick")) box.checked = true;
      stale();
    },
  });
  let previewed = null; // the exact body of the dry run shown, which a confirmation sends

  const post = (name, body) => api(datasetApi(name, "/versions/from-generations"), { method: "POST", body });

  async function confirm(name, body, button) {
    button.disabled = true;
    try {
      const result = await post(name, { ...body, dry_run: false });
      previewed = null;
      const version = result.created ? link(datasetPath(name, { version: result.version }), `Open ${name} v${result.version}`, { id: "curate-dataset-link" }) : null;
      output.replaceChildren(h("p", { class: "notice info", id: "curate-summary", text: summary(result, name) }), version ? h("p", {}, version) : null, skippedView(result));
    } catch (error) {
      button.disabled = false;
      fail(output, error);
    }
  }

  function showPreview(name, body, result) {
    previewed = body;
    const add = result.added
      ? h("button", { type: "button", id: "curate-confirm", text: `Add ${result.added} call(s) as a new version` })
      : null;
    add?.addEventListener("click", () => previewed === body && confirm(name, body, add));
    const cancel = h("button", { type: "button", id: "curate-cancel", class: "secondary", text: "Cancel", onclick: () => output.replaceChildren() });
    output.replaceChildren(
      h("p", { class: "notice info", id: "curate-summary", text: summary(result, name) }),
      result.added ? h("p", { class: "hint", text: "Each call's input variables are recovered from its messages; its answer becomes the expected output, marked a candidate for review." }) : null,
      skippedView(result),
      h("div", { class: "row actions" }, add, cancel),
    );
    add?.focus();
  }

  const form = h(
    "form",
    { id: "curate-form", class: "render-form" },
    h("div", { class: "filters" }, field("curate-dataset", "Dataset", dataset, "an existing dataset, or a new name"), field("curate-by", "Add", by, why), field("curate-message", "Message", message)),
    h("div", { class: "row actions" }, preview, selectAll),
    output,
  );
  // Any change after a preview makes it stale: a confirmation must add what was shown.
  function stale() {
    if (previewed) output.replaceChildren();
    previewed = null;
  }
  form.addEventListener("input", stale);
  results.addEventListener("change", stale);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = dataset.value.trim();
    let body;
    if (by.value === "filters") {
      body = filtersBody(filters);
    } else {
      const ids = [...results.querySelectorAll(".call-tick:checked")].map((box) => Number(box.value));
      if (!ids.length) {
        output.replaceChildren(note("Tick the calls to add first (or choose every call the filters select).", "warning"));
        return;
      }
      body = { ids };
    }
    if (message.value.trim()) body.message = message.value.trim();
    preview.disabled = true;
    output.replaceChildren(note("Checking what would be added…", "loading"));
    try {
      showPreview(name, body, await post(name, { ...body, dry_run: true }));
    } catch (error) {
      fail(output, error);
    } finally {
      preview.disabled = false;
    }
  });
  return h(
    "details",
    { id: "curate", class: "curate" },
    h("summary", { text: "Add calls to a dataset" }),
    h("p", { class: "hint", text: "Calls that kept their messages become items: a new version of the dataset with its current items and these." }),
    form,
  );
}
