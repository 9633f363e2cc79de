// Two runs compared: metric by metric (with each run's gate), then item by item, paginated,
// with the items whose pass/fail changed marked and a filter to the changed items.

import { api, comparePath, fail, go, h, link, money, note, pageNumber, pager, runPath, table, when } from "./core.js";
import { ITEM_PAGE_SIZE, clipped, scoreText } from "./runitems.js";
import { badge, versionLink } from "./runs.js";

function runId(value) {
  const id = Number.parseInt(value ?? "", 10);
  return Number.isInteger(id) && id > 0 && String(id) === String(value).trim() ? id : null;
}

function num(value) {
  if (value == null) return "–";
  // Costs per item are millionths of a dollar: keep two significant digits of what is small.
  return value === 0 || Math.abs(value) >= 0.001 ? String(Number(value.toFixed(4))) : value.toPrecision(2);
}

function signed(value) {
  if (value == null) return "–";
  return value > 0 ? `+${num(value)}` : num(value);
}

function pickForm(base, head) {
  const field = (id, label, value) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: id, text: label }),
      h("input", { id, name: id, type: "number", min: 1, step: 1, required: true, value: value ?? "", class: "run-id" }),
    );
  const form = h(
    "form",
    { id: "compare-runs", class: "filters" },
    field("compare-base", "Base run", base),
    field("compare-head", "Head run", head),
    h("button", { type: "submit", text: "Compare" }),
    base && head ? link(comparePath(head, base), "Swap base and head", { id: "compare-swap" }) : null,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(comparePath(form.elements["compare-base"].value.trim(), form.elements["compare-head"].value.trim()));
  });
  return form;
}

function runsView(a, b) {
  const facts = [
    ["Run", (r) => link(runPath(r.id), `#${r.id}`)],
    ["Status", (r) => badge("status", r.status)],
    ["Verdict", (r) => badge("verdict", r.verdict)],
    ["Prompt", (r) => versionLink(r.prompt, r.version)],
    ["Suite", (r) => `${r.suite}@v${r.suite_version}`],
    ["Dataset", (r) => `${r.dataset}@v${r.dataset_version}`],
    ["Items", (r) => `${r.completed}/${r.total} · ${r.errors} errors`],
    ["Cost", (r) => money(r.summary?.cost_usd)],
    ["Finished", (r) => when(r.finished_at)],
  ];
  const cell = (value) => (typeof value === "string" ? h("td", { text: value }) : h("td", {}, value));
  const rows = facts.map(([name, of]) => h("tr", { "data-fact": name }, h("th", { scope: "row", text: name }), cell(of(a)), cell(of(b))));
  return table("The two runs", ["", "Base", "Head"], rows, { id: "compare-runs-table" });
}

function gateText(run, metric) {
  if (!run.gate) return "–";
  const conditions = run.gate.conditions.filter((c) => c.metric === metric);
  if (!conditions.length) return "no condition";
  return conditions.map((c) => `${c.aggregate} ${c.op} ${c.threshold}: ${c.passed ? "pass" : "fail"}`).join("; ");
}

function gateCell(run, metric) {
  const text = gateText(run, metric);
  const failed = run.gate?.conditions.some((c) => c.metric === metric && !c.passed);
  return h("td", { class: failed ? "gate bad" : "gate", text });
}

function metricsView(comparison) {
  const { a, b } = comparison;
  const gated = [a, b].flatMap((r) => (r.gate ? r.gate.conditions.map((c) => c.metric) : []));
  const names = [...new Set([...Object.keys(comparison.metrics), ...gated])].sort();
  if (!names.length) return note("Neither run has metrics yet.");
  const rows = names.map((name) => {
    const m = comparison.metrics[name] ?? { a: null, b: null, delta: null };
    const sign = m.delta == null || m.delta === 0 ? "none" : m.delta > 0 ? "up" : "down";
    return h(
      "tr",
      { "data-metric": name },
      h("th", { scope: "row", text: name }),
      h("td", { class: "num", text: num(m.a) }),
      h("td", { class: "num", text: num(m.b) }),
      h("td", { class: "num delta", "data-sign": sign, text: signed(m.delta) }),
      gateCell(a, name),
      gateCell(b, name),
    );
  });
  return table("Metrics", ["Metric", "Base mean", "Head mean", "Delta", "Base gate", "Head gate"], rows, { id: "compare-metrics" });
}

function changeOf(item) {
  if (item.pass_changed) return item.a.passed ? "pass → fail" : "fail → pass";
  if (!item.a || !item.b) return item.a ? "head has no result" : "base has no result";
  const moved = Object.values(item.metrics).some((m) => (m.a == null) !== (m.b == null) || (m.delta != null && m.delta !== 0));
  return moved ? "scores changed" : "";
}

function sideCells(side, names) {
  if (!side) return [h("td", { class: "state", text: "no result" }), h("td", {})];
  const output = side.error
    ? h("td", { class: "clip error-text", text: clipped(side.error) })
    : h("td", { class: "clip", text: clipped(side.output) }, side.repeats > 1 ? h("span", { class: "hint", text: ` (first of ${side.repeats} repeats)` }) : null);
  const scores = names.map((name) => {
    const score = side.scores[name];
    const bad = score && ("error" in score || score.passed === false);
    return h(
      "span",
      { class: bad ? "score bad" : "score", "data-metric": name },
      h("span", { class: "score-value", text: `${name}: ${scoreText(score)}` }),
      score?.reason ? h("span", { class: "score-reason", text: clipped(score.reason) }) : null,
    );
  });
  return [output, h("td", { class: side.passed ? "scores" : "scores failing-side" }, ...scores)];
}

function itemRow(head, item, names) {
  const change = changeOf(item);
  const flip = item.pass_changed ? (item.a.passed ? "regressed" : "fixed") : null;
  return h(
    "tr",
    { "data-position": item.position, "data-change": flip ?? (change ? "changed" : "same"), class: flip ? `flipped ${flip}` : null },
    h("td", {}, link(runPath(head, { item: item.position }), item.item_id || `#${item.position}`)),
    h("td", {}, change ? h("span", { class: `badge change${flip ? " bad" : ""}`, "data-value": flip ?? "changed", text: change }) : "–"),
    h("td", { class: "clip", text: clipped(item.input) }),
    h("td", { class: "clip", text: clipped(item.expected) }),
    ...sideCells(item.a, names),
    ...sideCells(item.b, names),
  );
}

function itemsView(comparison, base, head, changed, page) {
  const items = comparison.items;
  const result = { total: comparison.item_total, offset: comparison.offset, items };
  const more = pager(result, ITEM_PAGE_SIZE, page, (n) => comparePath(base, head, { changed, page: n }), { "aria-label": "Item pages" });
  if (!items.length) {
    const why = comparison.item_total ? "No items on this page." : changed ? "No item changed between these runs." : "These runs have no item results yet.";
    return [note(why), comparison.item_total ? more : null];
  }
  const names = [...new Set(items.flatMap((i) => [...Object.keys(i.metrics), ...Object.keys(i.a?.scores ?? {}), ...Object.keys(i.b?.scores ?? {})]))].sort();
  const headers = ["Item", "Change", "Input", "Expected", "Base output", "Base scores", "Head output", "Head scores"];
  return [table("Items", headers, items.map((i) => itemRow(head, i, names)), { id: "compare-items" }), more];
}

function caveats(comparison) {
  const { a, b } = comparison;
  if (a.suite !== b.suite) {
    return note(`These runs are of different suites (${a.suite} and ${b.suite}): items are matched by their position in each dataset.`, "warning");
  }
  if (!comparison.same_dataset) {
    return note(`These runs used different dataset versions (${a.dataset}@v${a.dataset_version} and ${b.dataset}@v${b.dataset_version}): items are matched by position and named as the head run's dataset names them.`, "warning");
  }
  return null;
}

/** Render /console/runs/compare?base=&head=&changed=&page=: one request for the comparison. */
export async function comparePage(main, { query, isCurrent }) {
  const base = runId(query.get("base"));
  const head = runId(query.get("head"));
  const changed = query.get("changed") === "1";
  const page = pageNumber(query);
  const title = h("h1", { tabindex: "-1", text: base && head ? `Compare run #${base} with run #${head}` : "Compare two runs" });
  const body = h("div", { id: "compare-body" });
  main.replaceChildren(h("p", { class: "crumbs" }, link("/console/runs", "Runs"), " / "), title, pickForm(query.get("base"), query.get("head")), body);
  if (!base || !head) {
    body.replaceChildren(note("Pick two runs by id (the base, then the head: deltas are head minus base), or tick two runs on the runs page."));
    return;
  }
  body.replaceChildren(note("Loading…", "loading"));
  let comparison;
  try {
    const params = { a: base, b: head, changed, limit: ITEM_PAGE_SIZE, offset: (page - 1) * ITEM_PAGE_SIZE };
    comparison = await api("/v1/runs/compare", { params });
  } catch (error) {
    if (isCurrent()) fail(body, error);
    return;
  }
  if (!isCurrent()) return;
  const flips = comparison.items.filter((i) => i.pass_changed).length;
  const counts = `${comparison.changed_items} of ${comparison.compared_items} items changed`;
  const toggle = changed
    ? link(comparePath(base, head), "Show all items", { id: "compare-filter" })
    : link(comparePath(base, head, { changed: true }), "Show changed items only", { id: "compare-filter" });
  body.replaceChildren(
    caveats(comparison) ?? "",
    h("section", { "aria-labelledby": "compare-runs-title" }, h("h2", { id: "compare-runs-title", text: "Runs" }), runsView(comparison.a, comparison.b)),
    h("section", { "aria-labelledby": "compare-metrics-title" }, h("h2", { id: "compare-metrics-title", text: "Metrics" }), metricsView(comparison)),
    h(
      "section",
      { "aria-labelledby": "compare-items-title" },
      h("h2", { id: "compare-items-title", text: changed ? "Changed items" : "Items" }),
      h("p", { id: "compare-counts" }, `${counts}; ${flips} on this page passed in one run and failed in the other. `, toggle),
      ...itemsView(comparison, base, head, changed, page),
    ),
  );
}

/** Return the run page's "Compare with…" form: another run's id (the previous run's by default). */
export function compareWithForm(run, isCurrent) {
  const input = h("input", { id: "compare-with-id", name: "base", type: "number", min: 1, step: 1, required: true, class: "run-id" });
  const previous = h("span", { id: "compare-previous" });
  const form = h(
    "form",
    { id: "compare-with", class: "filters" },
    h("div", { class: "field" }, h("label", { for: "compare-with-id", text: "Compare with run" }), input),
    h("button", { type: "submit", text: "Compare" }),
    previous,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(comparePath(input.value.trim(), run.id));
  });
  // The run before this one of the same prompt and suite: the usual thing to compare with.
  api("/v1/runs", { params: { prompt: run.prompt, suite: run.suite, before: run.id, limit: 1 } })
    .then((page) => {
      const found = page.items[0];
      if (!isCurrent() || !found) return;
      if (!input.value) input.value = String(found.id);
      previous.replaceChildren(link(comparePath(found.id, run.id), `Compare with the previous run (#${found.id}, ${found.prompt}@v${found.version})`));
    })
    .catch(() => {}); // the form still takes any run id
  return form;
}
