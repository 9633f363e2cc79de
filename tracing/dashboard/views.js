// DOM builders for the dashboard's sections. Text goes in through textContent only.

import { chart, hasData, swatch, versionColor } from "./charts.js";
import * as fmt from "./format.js";

/** Create an HTML element: attributes (`text` sets textContent) and children. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

/** Return a paragraph for an empty or error state. */
export function note(text, kind = "empty") {
  return h("p", { class: `state ${kind}`, role: kind === "error" ? "alert" : null, text });
}

function table(caption, headers, rows, attrs = {}) {
  const head = h("tr", {}, ...headers.map((t) => h("th", { scope: "col", text: t })));
  return h(
    "div",
    { class: "table-wrap" },
    h("table", attrs, h("caption", { class: "visually-hidden", text: caption }), h("thead", {}, head), h("tbody", {}, ...rows)),
  );
}

function labelChips(labels) {
  return h("span", { class: "chips" }, ...labels.map(([name, version]) => h("span", { class: "chip", text: `${name} → v${version}` })));
}

/** Render the prompt list; `onSelect(name)` is called when one is picked. */
export function promptList(page, selected, onSelect) {
  if (!page.items.length) return [note("No prompts yet: publish one with `promptlane prompts push`.")];
  const items = page.items.map((prompt) => {
    const labels = Object.entries(prompt.labels).sort(([a], [b]) => a.localeCompare(b));
    const button = h(
      "button",
      { type: "button", class: "prompt", "data-prompt": prompt.name, "aria-current": prompt.name === selected ? "true" : null },
      h("span", { class: "prompt-name", text: prompt.name }),
      h("span", { class: "prompt-meta", text: prompt.latest_version ? `latest v${prompt.latest_version}` : "no versions" }),
      labelChips(labels),
    );
    button.addEventListener("click", () => onSelect(prompt.name));
    return h("li", {}, button);
  });
  const out = [h("ul", { class: "prompt-list" }, ...items)];
  if (page.total > page.items.length) out.push(note(`Showing ${page.items.length} of ${page.total} prompts.`));
  return out;
}

function versionCell(version) {
  return h("td", { class: "version" }, swatch(versionColor(version)), h("span", { text: `v${version}` }));
}

function scoresText(scores) {
  const entries = Object.entries(scores);
  return entries.length ? entries.map(([name, s]) => `${name} ${fmt.score(s.mean)}`).join(", ") : "–";
}

function flagsText(flags) {
  const entries = Object.entries(flags);
  return entries.length ? entries.map(([name, n]) => `${name} ${fmt.count(n)}`).join(", ") : "none";
}

/** Render the per-version totals over the range; drift cells are filled in later. */
export function versionTable(rows, labelsByVersion) {
  if (!rows.length) return note("No calls in range for this prompt.");
  const body = rows.map((row) =>
    h(
      "tr",
      { "data-version": row.version },
      versionCell(row.version),
      h("td", {}, labelChips((labelsByVersion.get(row.version) || []).map((l) => [l, row.version]))),
      h("td", { class: "num", text: fmt.count(row.calls) }),
      h("td", { class: "num", text: `${fmt.count(row.errors)} (${fmt.percent(row.error_rate)})` }),
      h("td", { class: "num", text: `${fmt.count(row.input_tokens)} / ${fmt.count(row.output_tokens)}` }),
      h("td", { class: "num", text: fmt.usd(row.cost_usd) }),
      h("td", { class: "num", text: fmt.ms(row.latency_p50_ms) }),
      h("td", { class: "num", text: fmt.ms(row.latency_p95_ms) }),
      h("td", { text: scoresText(row.scores) }),
      h("td", { text: flagsText(row.safety_flags) }),
      h("td", { class: "drift-cell" }, h("span", { class: "badge muted", text: "…" })),
    ),
  );
  const headers = ["Version", "Labels", "Calls", "Errors", "Tokens (in / out)", "Cost", "p50", "p95", "Mean scores", "Safety flags", "Drift"];
  return table("Totals per version over the selected range", headers, body, { class: "versions" });
}

/** Render the legend shared by every chart. */
export function legend(versions) {
  const items = versions.map((v) => h("li", {}, swatch(versionColor(v)), h("span", { text: `v${v}` })));
  items.push(h("li", { class: "legend-note" }, swatch("currentColor", true), h("span", { text: "p95 (latency)" })));
  return h("ul", { class: "legend", "aria-label": "Versions" }, ...items);
}

/** Render one chart in a figure, or an empty state when it has nothing to draw. */
export function chartFigure(spec, emptyText) {
  const body = hasData(spec) ? chart(spec) : note(emptyText);
  return h("figure", { class: "chart-card", "data-figure": spec.id }, h("figcaption", { text: spec.title }), body);
}

function driftBadge(report) {
  if (report.flagged) {
    const names = report.signals.filter((s) => s.flag).map((s) => s.metric);
    return h("span", { class: "badge bad", text: `drift: ${names.join(", ")}` });
  }
  if (report.signals.some((s) => s.status === "ok")) return h("span", { class: "badge good", text: "stable" });
  return h("span", { class: "badge muted", text: "not enough data" });
}

/** Put a version's drift badge in the totals table. */
export function markDrift(container, version, report, error) {
  const cell = container.querySelector(`tr[data-version="${version}"] .drift-cell`);
  if (!cell) return;
  cell.replaceChildren(error ? h("span", { class: "badge muted", text: "error" }) : driftBadge(report));
}

function signalRow(signal) {
  // Input length is a count of characters; every other signal is a score.
  const mean = signal.metric === "input_chars" ? fmt.count : fmt.score;
  return h(
    "tr",
    { "data-metric": signal.metric, class: signal.flag ? "flagged" : null },
    h("th", { scope: "row", text: signal.metric }),
    h("td", { class: "num", text: fmt.psi(signal.psi) }),
    h("td", { text: signal.status.replace("_", " ") }),
    h("td", { class: "num", text: `${fmt.count(signal.baseline_count)} / ${fmt.count(signal.recent_count)}` }),
    h("td", { class: "num", text: `${mean(signal.baseline_mean)} → ${mean(signal.recent_mean)}` }),
  );
}

/** Render one version's drift report (or its error). */
export function driftCard(version, report, error) {
  const head = h("h4", {}, swatch(versionColor(version)), h("span", { text: `v${version} ` }), report ? driftBadge(report) : null);
  const card = h("article", { class: "drift-card", "data-version": version }, head);
  if (error) {
    card.append(note(error, "error"));
    return card;
  }
  const windows =
    `Recent ${fmt.when(report.recent_start)} – ${fmt.when(report.recent_end)} against the baseline ` +
    `${fmt.when(report.baseline_start)} – ${fmt.when(report.baseline_end)}. ` +
    `Flagged above PSI ${report.threshold}; needs ${report.min_samples} calls in each window.`;
  card.append(h("p", { class: "hint", text: windows }));
  if (!report.signals.length) {
    card.append(note("No scores or input lengths recorded in these windows."));
    return card;
  }
  const headers = ["Signal", "PSI", "Status", "Calls (baseline / recent)", "Mean (baseline → recent)"];
  card.append(table(`Drift of v${version}`, headers, report.signals.map(signalRow), { class: "drift" }));
  return card;
}

function gateText(run) {
  const conditions = (run.gate && run.gate.conditions) || [];
  return conditions
    .map((c) => `${c.passed ? "✓" : "✗"} ${c.metric} ${c.aggregate} ${c.value == null ? "–" : fmt.score(c.value)} ${c.op} ${c.threshold}`)
    .join("; ");
}

function verdictBadge(run) {
  if (!run.verdict) return h("span", { class: "badge muted", text: run.status });
  const kind = run.verdict === "passed" ? "good" : run.verdict === "failed" ? "bad" : "warn";
  return h("span", { class: `badge ${kind}`, text: run.verdict });
}

/** Render recent eval runs with their gate verdicts. */
export function runTable(page) {
  if (!page.items.length) return note("No eval runs for this prompt yet.");
  const rows = page.items.map((run) =>
    h(
      "tr",
      { "data-run": run.id },
      h("td", { class: "num", text: `#${run.id}` }),
      versionCell(run.version),
      h("td", { text: run.suite }),
      h("td", { text: run.status }),
      h("td", {}, verdictBadge(run)),
      h("td", { class: "num", text: `${fmt.count(run.completed)} / ${fmt.count(run.total)}` }),
      h("td", { class: "gate", text: gateText(run) || run.error || "–" }),
      h("td", { text: fmt.when(run.created_at) }),
    ),
  );
  const headers = ["Run", "Version", "Suite", "Status", "Verdict", "Items", "Gate", "Started"];
  return table("Recent eval runs", headers, rows, { class: "runs" });
}

/** Render every call in range and the share not linked to a prompt (rows grouped by prompt). */
export function overview(rows, rangeText) {
  const sum = (list, key) => list.reduce((total, row) => total + row[key], 0);
  const callCount = (n) => `${fmt.count(n)} ${n === 1 ? "call" : "calls"}`;
  const unlinked = rows.filter((row) => row.prompt == null);
  const calls = sum(rows, "calls");
  const lost = sum(unlinked, "calls");
  const all = h(
    "p",
    { "data-overview": "all" },
    h("strong", { text: `${rangeText}: ` }),
    h("span", { text: `${callCount(calls)}, ${fmt.usd(sum(rows, "cost_usd"))}, ` }),
    h("span", { text: `${fmt.count(sum(rows, "input_tokens"))} / ${fmt.count(sum(rows, "output_tokens"))} tokens (in / out)` }),
  );
  const share = calls ? lost / calls : 0;
  const text = lost
    ? `Not linked to a prompt: ${callCount(lost)} (${fmt.percent(share)}), ${fmt.usd(sum(unlinked, "cost_usd"))}. ` +
      "Link them with the client's prompt.link() or your instrumentation's recipe (docs/tracing.md)."
    : "Every call in range is linked to a prompt version.";
  const linked = h("p", { class: lost ? "unlinked warn" : "unlinked", "data-overview": "unlinked", text });
  return [all, linked];
}

function outcome(call) {
  if (call.is_error) return h("span", { class: "badge bad", text: call.error_type || "error" });
  return h("span", { class: "badge good", text: (call.finish_reasons || []).join(", ") || "ok" });
}

/** Render recent calls; `onOpen(call)` shows one call's detail and trace. */
export function callTable(page, onOpen) {
  if (!page.items.length) return note("No calls in range for this prompt.");
  const rows = page.items.map((call) => {
    const open = h("button", { type: "button", class: "link", "data-call": call.id, text: fmt.when(call.started_at) });
    open.addEventListener("click", () => onOpen(call));
    return h(
      "tr",
      { "data-call": call.id, "data-trace": call.trace_id },
      h("td", {}, open),
      call.version == null ? h("td", { text: "–" }) : versionCell(call.version),
      h("td", { text: call.response_model || call.request_model || "–" }),
      h("td", { text: call.source }),
      h("td", { class: "num", text: fmt.ms(call.duration_ms) }),
      h("td", { class: "num", text: `${fmt.count(call.input_tokens)} / ${fmt.count(call.output_tokens)}` }),
      h("td", { class: "num", text: fmt.usd(call.cost_usd) }),
      h("td", {}, outcome(call)),
    );
  });
  const headers = ["Started", "Version", "Model", "Source", "Duration", "Tokens (in / out)", "Cost", "Outcome"];
  const out = table("Recent calls of this prompt", headers, rows, { class: "calls" });
  return page.total > page.items.length ? h("div", {}, out, note(`Showing the latest ${page.items.length} of ${fmt.count(page.total)} calls.`)) : out;
}

function field(name, value) {
  return [h("dt", { text: name }), h("dd", { text: value == null || value === "" ? "–" : String(value) })];
}

function spanLine(node) {
  const call = node.generation;
  const name = node.name || (call ? `${call.source} call` : "span");
  const parts = [fmt.ms(node.duration_ms)];
  if (call) parts.push(`${call.response_model || call.request_model || "model"}`, `${fmt.count(call.input_tokens)} / ${fmt.count(call.output_tokens)} tokens`, fmt.usd(call.cost_usd));
  if (node.prompt) parts.push(`${node.prompt}${node.version ? ` v${node.version}` : ""}`);
  const item = h(
    "li",
    { "data-span": node.span_id, class: [call ? "generation" : null, node.is_error ? "error" : null].filter(Boolean).join(" ") || null },
    h("span", { class: "span-name", text: name }),
    h("span", { class: "span-meta", text: parts.join(" · ") }),
  );
  if (node.children.length) item.append(h("ul", {}, ...node.children.map(spanLine)));
  return item;
}

/** Render one call's stored fields and its trace as a tree of spans. */
export function callDetail(call, trace, traceError) {
  const fields = h(
    "dl",
    { class: "fields" },
    ...field("Trace id", call.trace_id),
    ...field("Span id", call.span_id),
    ...field("Prompt", call.prompt ? `${call.prompt} v${call.version ?? "?"}${call.label ? ` (${call.label})` : ""}` : "not linked"),
    ...field("Service", call.service_name),
    ...field("Model (requested → answered)", `${call.request_model || "–"} → ${call.response_model || "–"}`),
    ...field("Tokens (in / out)", `${fmt.count(call.input_tokens)} / ${fmt.count(call.output_tokens)}`),
    ...field("Cost", fmt.usd(call.cost_usd)),
    ...field("Duration", fmt.ms(call.duration_ms)),
    ...field("Outcome", call.is_error ? call.error_type || "error" : (call.finish_reasons || []).join(", ") || "ok"),
    ...field("Online evaluation", call.online_eval),
    ...field("Scores", Object.entries(call.scores || {}).map(([k, v]) => `${k} ${typeof v === "number" ? fmt.score(v) : JSON.stringify(v)}`).join(", ")),
    ...field("Safety flags", (call.safety_flags || []).join(", ") || "none"),
  );
  const head = h("h4", { text: `Call #${call.id}` });
  const body = [head, fields];
  if (traceError) body.push(note(traceError, "error"));
  else if (trace) {
    const summary = `Trace: ${fmt.count(trace.spans)} spans, ${fmt.count(trace.generations)} calls, ${fmt.ms(trace.duration_ms)}, ${fmt.usd(trace.cost_usd)}`;
    body.push(h("p", { class: "hint", text: summary + (trace.truncated ? " (truncated)" : "") }));
    body.push(h("ul", { class: "trace-tree", "aria-label": "Trace" }, ...trace.roots.map(spanLine)));
  }
  return body;
}
