// The suites list: search by name, page through, open a suite.

import { api, fail, h, link, note, pageNumber, pager, table, when } from "./core.js";
import { searchForm, suitePath } from "./datasets.js";

export const PAGE_SIZE = 25;

function listHref(q, page) {
  const query = new URLSearchParams();
  if (q) query.set("q", q);
  if (page > 1) query.set("page", String(page));
  return `/console/suites${query.size ? `?${query}` : ""}`;
}

function suiteRow(suite) {
  const newer = suite.latest_version !== suite.current_version;
  return h(
    "tr",
    { "data-suite": suite.name },
    h("td", {}, link(suitePath(suite.name), suite.name)),
    h("td", { text: suite.description || "–" }),
    h("td", { class: "num" }, `v${suite.current_version}`, newer ? h("span", { class: "hint", text: ` (latest v${suite.latest_version})` }) : null),
    h("td", {}, link(`/console/runs?${new URLSearchParams({ suite: suite.name })}`, "Runs")),
    h("td", { text: when(suite.created_at) }),
  );
}

/** Render /console/suites: one request for the page of suites. */
export async function suitesPage(main, { query, isCurrent }) {
  const q = query.get("q") || "";
  const page = pageNumber(query);
  const results = h("div", { id: "suite-results" }, note("Loading…", "loading"));
  main.replaceChildren(h("h1", { tabindex: "-1", text: "Suites" }), searchForm("suite-filters", "/console/suites", q, "name"), results);
  let result;
  try {
    result = await api("/v1/suites", { params: { q, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } });
  } catch (error) {
    if (isCurrent()) fail(results, error);
    return;
  }
  if (!isCurrent()) return;
  const more = pager(result, PAGE_SIZE, page, (n) => listHref(q, n));
  if (!result.items.length) {
    const why = result.total ? "No suites on this page." : q ? "No suites match this search." : "No suites yet: push one with `promptlane suites push`.";
    results.replaceChildren(...(result.total ? [note(why), more] : [note(why)]));
    return;
  }
  const headers = ["Name", "Description", "Current version", "Runs", "Created"];
  results.replaceChildren(table("Suites", headers, result.items.map(suiteRow), { id: "suite-table" }), more);
}
