// The runs list: filter by prompt, suite and status, page through, open a run.

import { api, comparePath, fail, go, h, link, money, note, pageNumber, pager, promptPath, runPath, table, when } from "./core.js";

export const PAGE_SIZE = 25;
export const STATUSES = ["queued", "running", "completed", "failed", "cancelled"];
const FILTERS = ["prompt", "suite", "status"];

/** Return a badge for a run's status or verdict (its value is also a CSS hook). */
export function badge(kind, value) {
  return h("span", { class: `badge ${kind}`, "data-value": value ?? "none", text: value ?? "–" });
}

/** Return a link to a prompt version's page, as `name@vN`. */
export function versionLink(name, version) {
  return link(promptPath(name, `?version=${version}`), `${name}@v${version}`);
}

function filterForm(filters) {
  const text = (name, label, placeholder) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: `filter-${name}`, text: label }),
      h("input", { id: `filter-${name}`, name, type: "search", value: filters[name], maxlength: 200, spellcheck: "false", placeholder }),
    );
  const status = h(
    "select",
    { id: "filter-status", name: "status" },
    h("option", { value: "", text: "any" }),
    ...STATUSES.map((s) => h("option", { value: s, selected: s === filters.status, text: s })),
  );
  const form = h(
    "form",
    { id: "run-filters", class: "filters", role: "search" },
    text("prompt", "Prompt", "exact name"),
    text("suite", "Suite", "exact name"),
    h("div", { class: "field" }, h("label", { for: "filter-status", text: "Status" }), status),
    h("button", { type: "submit", text: "Apply" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const name of FILTERS) {
      const value = form.elements[name].value.trim();
      if (value) query.set(name, value);
    }
    go(`/console/runs${query.size ? `?${query}` : ""}`);
  });
  return form;
}

function pageHref(filters, page) {
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  if (page > 1) query.set("page", String(page));
  return `/console/runs${query.size ? `?${query}` : ""}`;
}

function runRow(run) {
  return h(
    "tr",
    { "data-run": run.id },
    h("td", {}, link(runPath(run.id), `#${run.id}`)),
    h("td", {}, badge("status", run.status)),
    h("td", {}, badge("verdict", run.verdict)),
    h("td", {}, versionLink(run.prompt, run.version), run.label ? h("span", { class: "hint", text: ` (${run.label})` }) : null),
    h("td", { text: `${run.suite}@v${run.suite_version}` }),
    h("td", { class: "num", text: `${run.completed}/${run.total}` }),
    h("td", { class: "num", text: money(run.summary?.cost_usd) }),
    h("td", { text: when(run.started_at) }),
    h("td", { text: when(run.finished_at) }),
    h("td", {}, h("input", { type: "checkbox", class: "pick", value: run.id, "aria-label": `Compare run #${run.id}` })),
  );
}

// Two ticked runs make a link to their comparison, the older one as the base.
function comparePicker(results) {
  const status = h("p", { id: "compare-pick", "aria-live": "polite" });
  const update = () => {
    const ids = [...results.querySelectorAll("input.pick:checked")].map((box) => Number(box.value)).sort((x, y) => x - y);
    const hint = ids.length > 2 ? "Tick only two runs to compare them." : "Tick two runs to compare them (the older one is the base).";
    status.replaceChildren(
      ids.length === 2 ? link(comparePath(ids[0], ids[1]), `Compare run #${ids[0]} with run #${ids[1]}`, { id: "compare-link" }) : h("span", { class: "hint", text: hint }),
    );
  };
  results.addEventListener("change", update);
  update();
  return status;
}

/** Render /console/runs: one request for the page of runs. */
export async function runsPage(main, { query, isCurrent }) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) || ""]));
  if (filters.status && !STATUSES.includes(filters.status)) filters.status = ""; // a hand-edited URL
  const page = pageNumber(query);
  const results = h("div", { id: "run-results" }, note("Loading…", "loading"));
  main.replaceChildren(h("h1", { tabindex: "-1", text: "Runs" }), filterForm(filters), results);
  let result;
  try {
    result = await api("/v1/runs", { params: { ...filters, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } });
  } catch (error) {
    if (isCurrent()) fail(results, error);
    return;
  }
  if (!isCurrent()) return;
  const more = pager(result, PAGE_SIZE, page, (n) => pageHref(filters, n));
  if (!result.items.length) {
    const filtered = Object.values(filters).some(Boolean);
    const why = result.total ? "No runs on this page." : filtered ? "No runs match these filters." : "No runs yet: start one with `promptlane eval run`.";
    results.replaceChildren(...(result.total ? [note(why), more] : [note(why)]));
    return;
  }
  const headers = ["Run", "Status", "Verdict", "Prompt", "Suite", "Items", "Cost", "Started", "Finished", "Compare"];
  results.replaceChildren(table("Runs", headers, result.items.map(runRow), { id: "run-table" }), comparePicker(results), more);
}
