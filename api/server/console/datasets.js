// The datasets list: search by name or description, page through, open a dataset.

import { api, fail, go, h, link, note, pageNumber, pager, table, when } from "./core.js";

export const PAGE_SIZE = 25;

function encodedName(name) {
  return name.split("/").map(encodeURIComponent).join("/");
}

function withQuery(path, query) {
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v != null && v !== ""));
  return `${path}${search.size ? `?${search}` : ""}`;
}

/** Return the console URL of a dataset page, with an optional query (`{ version: 2 }`). */
export function datasetPath(name, query = {}) {
  return withQuery(`/console/datasets/${encodedName(name)}`, query);
}

/** Return the API path of a dataset (`/v1/datasets/<name><suffix>`). */
export function datasetApi(name, suffix = "") {
  return `/v1/datasets/${encodedName(name)}${suffix}`;
}

/** Return the console URL of a suite page, with an optional query (`{ version: 2 }`). */
export function suitePath(name, query = {}) {
  return withQuery(`/console/suites/${encodedName(name)}`, query);
}

/** Return the API path of a suite (`/v1/suites/<name><suffix>`). */
export function suiteApi(name, suffix = "") {
  return `/v1/suites/${encodedName(name)}${suffix}`;
}

/** Return a search form that goes to `path?q=…` (the datasets and suites lists share it). */
export function searchForm(id, path, q, placeholder) {
  const form = h(
    "form",
    { id, class: "filters", role: "search" },
    h(
      "div",
      { class: "field" },
      h("label", { for: `${id}-q`, text: "Search" }),
      h("input", { id: `${id}-q`, name: "q", type: "search", value: q, maxlength: 200, spellcheck: "false", placeholder }),
    ),
    h("button", { type: "submit", text: "Apply" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(withQuery(path, { q: form.elements.q.value.trim() }));
  });
  return form;
}

function datasetRow(dataset) {
  const current = dataset.current_version ? `v${dataset.current_version}` : "–";
  const newer = dataset.latest_version && dataset.latest_version !== dataset.current_version;
  return h(
    "tr",
    { "data-dataset": dataset.name },
    h("td", {}, link(datasetPath(dataset.name), dataset.name)),
    h("td", { text: dataset.description || "–" }),
    h("td", { class: "num" }, current, newer ? h("span", { class: "hint", text: ` (latest v${dataset.latest_version})` }) : null),
    h("td", { class: "num", text: dataset.item_count == null ? "–" : String(dataset.item_count) }),
    h("td", { text: when(dataset.updated_at) }),
  );
}

/** Render /console/datasets: one request for the page of datasets. */
export async function datasetsPage(main, { query, isCurrent }) {
  const q = query.get("q") || "";
  const page = pageNumber(query);
  const results = h("div", { id: "dataset-results" }, note("Loading…", "loading"));
  main.replaceChildren(
    h("h1", { tabindex: "-1", text: "Datasets" }),
    searchForm("dataset-filters", "/console/datasets", q, "name or description"),
    results,
  );
  let result;
  try {
    result = await api("/v1/datasets", { params: { q, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } });
  } catch (error) {
    if (isCurrent()) fail(results, error);
    return;
  }
  if (!isCurrent()) return;
  const more = pager(result, PAGE_SIZE, page, (n) => withQuery("/console/datasets", { q, page: n > 1 ? n : null }));
  if (!result.items.length) {
    const why = result.total ? "No datasets on this page." : q ? "No datasets match this search." : "No datasets yet: push one with `promptlane datasets push`.";
    results.replaceChildren(...(result.total ? [note(why), more] : [note(why)]));
    return;
  }
  const headers = ["Name", "Description", "Current version", "Items", "Updated"];
  results.replaceChildren(table("Datasets", headers, result.items.map(datasetRow), { id: "dataset-table" }), more);
}
