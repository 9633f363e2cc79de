// The prompts list: search by name or description, filter by tag and label, page through.

import { api, chips, fail, go, h, link, note, pageNumber, pager, promptPath, table, when } from "./core.js";

export const PAGE_SIZE = 25;

function filterForm(filters) {
  const field = (name, label, attrs = {}) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: `filter-${name}`, text: label }),
      h("input", { id: `filter-${name}`, name, type: "search", value: filters[name] || "", maxlength: 64, spellcheck: "false", ...attrs }),
    );
  const form = h(
    "form",
    { id: "prompt-filters", class: "filters", role: "search" },
    field("q", "Search", { maxlength: 200, placeholder: "name or description" }),
    field("tag", "Tag"),
    field("label", "Label", { placeholder: "e.g. production" }),
    h("button", { type: "submit", text: "Apply" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const name of ["q", "tag", "label"]) {
      const value = form.elements[name].value.trim();
      if (value) query.set(name, value);
    }
    go(`/console/prompts${query.size ? `?${query}` : ""}`);
  });
  return form;
}

function pageHref(filters, page) {
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  if (page > 1) query.set("page", String(page));
  return `/console/prompts${query.size ? `?${query}` : ""}`;
}

function promptRow(prompt) {
  const labels = Object.entries(prompt.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, version]) => `${label} → v${version}`);
  return h(
    "tr",
    { "data-prompt": prompt.name },
    h("td", {}, link(promptPath(prompt.name), prompt.name)),
    h("td", { text: prompt.description || "–" }),
    h("td", {}, chips(prompt.tags)),
    h("td", {}, chips(labels)),
    h("td", { class: "num", text: prompt.latest_version ? `v${prompt.latest_version}` : "–" }),
    h("td", { text: when(prompt.updated_at) }),
  );
}

/** Render /console/prompts: one request for the page of prompts. */
export async function promptsPage(main, { query, isCurrent }) {
  const filters = { q: query.get("q") || "", tag: query.get("tag") || "", label: query.get("label") || "" };
  const page = pageNumber(query);
  const results = h("div", { id: "prompt-results" }, note("Loading…", "loading"));
  main.replaceChildren(h("h1", { tabindex: "-1", text: "Prompts" }), filterForm(filters), results);
  let result;
  try {
    result = await api("/v1/prompts", { params: { ...filters, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } });
  } catch (error) {
    if (isCurrent()) fail(results, error);
    return;
  }
  if (!isCurrent()) return;
  if (!result.items.length) {
    const filtered = Object.values(filters).some(Boolean);
    const why = result.total
      ? "No prompts on this page."
      : filtered
        ? "No prompts match these filters."
        : "No prompts yet: publish one with `promptlane prompts push`.";
    const empty = note(why);
    // Past the last page of a non-empty list: keep the pager to get back.
    results.replaceChildren(...(result.total ? [empty, pager(result, PAGE_SIZE, page, (n) => pageHref(filters, n))] : [empty]));
    return;
  }
  const headers = ["Name", "Description", "Tags", "Labels", "Latest", "Updated"];
  results.replaceChildren(table("Prompts", headers, result.items.map(promptRow), { id: "prompt-table" }), pager(result, PAGE_SIZE, page, (n) => pageHref(filters, n)));
}
