// A run's item results: the table (filterable to failures, paginated) and one item's detail.

import { api, fail, h, link, money, note, pageNumber, pager, runPath, table } from "./core.js";

export const ITEM_PAGE_SIZE = 50;
const CLIP = 160; // characters of a cell before it is cut (the item's own page shows all)

/** Return a value as text: strings as they are, anything else as indented JSON. */
export function textOf(value) {
  if (value == null) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

/** Return a value as text cut to a table cell's length. */
export function clipped(value) {
  const text = textOf(value);
  return text.length > CLIP ? `${text.slice(0, CLIP)}…` : text;
}

/** Return a score as text: its value, unit and pass or fail, or its error. */
export function scoreText(score) {
  if (!score) return "–";
  if ("error" in score) return `error: ${score.error}`;
  const mark = score.passed === true ? "pass" : score.passed === false ? "fail" : "";
  return [String(Number(score.value.toFixed(4))), score.unit, mark].filter(Boolean).join(" ");
}

function isFailing(item) {
  return item.status !== "ok" || Object.values(item.scores).some((s) => "error" in s || s.passed === false);
}

function scoreCell(score) {
  const bad = score && ("error" in score || score.passed === false);
  return h(
    "td",
    { class: bad ? "score bad" : "score" },
    h("span", { class: "score-value", text: scoreText(score) }),
    score?.reason ? h("span", { class: "score-reason", text: clipped(score.reason) }) : null,
  );
}

function itemRow(runId, item, metrics, keep) {
  return h(
    "tr",
    { "data-position": item.position, "data-repeat": item.repeat, class: isFailing(item) ? "failing" : null },
    h("td", {}, link(runPath(runId, { ...keep, item: item.position }), item.item_id || `#${item.position}`), item.repeat ? h("span", { class: "hint", text: ` r${item.repeat}` }) : null),
    h("td", { class: "clip", text: clipped(item.input) }),
    h("td", { class: "clip", text: clipped(item.expected) }),
    h("td", { class: "clip", text: clipped(item.output) }),
    ...metrics.map((m) => scoreCell(item.scores[m])),
    h("td", { class: "clip error-text", text: item.error ? clipped(item.error) : "" }),
  );
}

function listState(failed, page) {
  return { failed: failed ? "1" : null, page: page > 1 ? page : null };
}

function itemsHref(runId, failed, page) {
  return runPath(runId, listState(failed, page));
}

/** Return the items section of /console/runs/<id>, filled by one request. */
export function itemsSection(run, query, isCurrent) {
  const failed = query.get("failed") === "1";
  const page = pageNumber(query);
  const body = h("div", { id: "run-items" }, note("Loading…", "loading"));
  const toggle = failed
    ? link(itemsHref(run.id, false, 1), "Show all items", { id: "items-filter" })
    : link(itemsHref(run.id, true, 1), "Show failures only", { id: "items-filter" });
  const section = h(
    "section",
    { "aria-labelledby": "items-title" },
    h("h2", { id: "items-title", text: failed ? "Failing items" : "Items" }),
    h("p", {}, toggle),
    body,
  );
  const metrics = Object.keys(run.summary?.metrics ?? {}).sort();
  (async () => {
    let result;
    try {
      result = await api(`/v1/runs/${run.id}/items`, { params: { failed, limit: ITEM_PAGE_SIZE, offset: (page - 1) * ITEM_PAGE_SIZE } });
    } catch (error) {
      if (isCurrent()) fail(body, error);
      return;
    }
    if (!isCurrent()) return;
    const names = metrics.length ? metrics : [...new Set(result.items.flatMap((i) => Object.keys(i.scores)))].sort();
    const more = pager(result, ITEM_PAGE_SIZE, page, (n) => itemsHref(run.id, failed, n), { "aria-label": "Item pages" });
    if (!result.items.length) {
      const why = result.total ? "No items on this page." : failed ? "No failing items." : "No item results yet.";
      body.replaceChildren(...(result.total ? [note(why), more] : [note(why)]));
      return;
    }
    const headers = ["Item", "Input", "Expected", "Output", ...names, "Error"];
    body.replaceChildren(table("Items", headers, result.items.map((i) => itemRow(run.id, i, names, listState(failed, page))), { id: "item-table" }), more);
  })();
  return section;
}

function detailOf(item) {
  const scores = Object.entries(item.scores).map(([name, s]) =>
    h(
      "tr",
      { "data-metric": name, class: "error" in s || s.passed === false ? "failing" : null },
      h("th", { scope: "row", text: name }),
      h("td", { text: scoreText(s) }),
      h("td", { text: s.reason || s.error || "–" }),
      h("td", { class: "num", text: money(s.cost_usd) }),
    ),
  );
  const facts = [
    ["Status", item.status],
    ["Repeat", String(item.repeat)],
    ["Latency", item.latency_ms == null ? "–" : `${Math.round(item.latency_ms)} ms`],
    ["Tokens", item.input_tokens == null ? "–" : `${item.input_tokens} in · ${item.output_tokens ?? 0} out`],
    ["Cost", money(item.cost_usd)],
    ["Cached", item.is_cached ? "yes" : "no"],
  ];
  return h(
    "div",
    { class: "item-detail", "data-repeat": item.repeat },
    h("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
    h(
      "div",
      { class: "side-by-side" },
      h("div", {}, h("h3", { text: "Input" }), h("pre", { class: "item-input", text: textOf(item.input) })),
      h("div", {}, h("h3", { text: "Expected" }), h("pre", { class: "item-expected", text: textOf(item.expected) || "–" })),
      h("div", {}, h("h3", { text: "Output" }), h("pre", { class: "item-output", text: item.output ?? "–" })),
    ),
    item.error ? h("div", {}, h("h3", { text: "Error" }), h("pre", { class: "item-error", text: item.error })) : null,
    scores.length ? table("Scores", ["Metric", "Score", "Reason", "Cost"], scores, { class: "item-scores" }) : note("No scores."),
  );
}

/** Return the section showing one item (all its repeats) of a run, filled by one request. */
export function itemDetail(run, position, query, isCurrent) {
  const body = h("div", {}, note("Loading…", "loading"));
  const section = h(
    "section",
    { id: "item-detail", "aria-labelledby": "item-title" },
    h("h2", { id: "item-title", tabindex: "-1", text: `Item ${position}` }),
    h("p", {}, link(itemsHref(run.id, query.get("failed") === "1", pageNumber(query)), "Close")),
    body,
  );
  (async () => {
    let result;
    try {
      result = await api(`/v1/runs/${run.id}/items`, { params: { position, limit: 100 } });
    } catch (error) {
      if (isCurrent()) fail(body, error);
      return;
    }
    if (!isCurrent()) return;
    if (!result.items.length) {
      body.replaceChildren(note(`This run has no result for item ${position}.`));
      return;
    }
    const id = result.items[0].item_id;
    if (id) section.querySelector("h2").textContent = `Item ${position}: ${id}`;
    body.replaceChildren(...result.items.map(detailOf));
  })();
  return section;
}
