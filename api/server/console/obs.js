// What the observability pages (calls, a call, traces, a trace) share: URLs, the time-range
// filter, and how durations, tokens, scores, flags and outcomes are shown.

import { can, h, link, promptPath } from "./core.js";

// The period a list covers when the URL gives no explicit start/end (the API's default is 7d).
export const PERIODS = [
  ["1h", "Last hour", 3_600_000],
  ["24h", "Last 24 hours", 86_400_000],
  ["7d", "Last 7 days", 7 * 86_400_000],
  ["30d", "Last 30 days", 30 * 86_400_000],
  ["90d", "Last 90 days", 90 * 86_400_000], // the API's longest range
];
export const DEFAULT_PERIOD = "7d";
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/; // what a datetime-local input holds

/** Return the console URL of a call. */
export function callPath(id) {
  return `/console/calls/${id}`;
}

/** Return the console URL of a trace, optionally with a span selected. */
export function tracePath(traceId, spanId = null) {
  return `/console/traces/${traceId}${spanId ? `?span=${spanId}` : ""}`;
}

/** Return the dashboard's URL showing one prompt's charts per version (same key, same tab). */
export function dashboardHref(prompt) {
  return `/dashboard#${new URLSearchParams({ prompt })}`;
}

/** Return `path` with the non-empty `params` (and the page past 1) as its query. */
export function withQuery(path, params, page = 1) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== ""));
  if (page > 1) query.set("page", String(page));
  return `${path}${query.size ? `?${query}` : ""}`;
}

/** Read the time filter of a list's URL: `range` (a period) or explicit `start`/`end` (UTC). */
export function timeFilter(query) {
  const range = query.get("range") || "";
  return {
    range: PERIODS.some(([id]) => id === range) ? range : "",
    start: query.get("start") || "",
    end: query.get("end") || "",
  };
}

/** Return the API's `start`/`end` for a time filter (explicit times win over a period). */
export function timeParams(filter, now = Date.now()) {
  if (filter.start || filter.end) return { start: filter.start, end: filter.end };
  const period = PERIODS.find(([id]) => id === (filter.range || DEFAULT_PERIOD));
  return { start: new Date(now - period[2]).toISOString(), end: new Date(now).toISOString() };
}

/** Describe a time filter in words ("the last 7 days"). */
export function timeText(filter) {
  if (filter.start || filter.end) return `the range ${filter.start || "…"} – ${filter.end || "now"} (UTC)`;
  return `the ${PERIODS.find(([id]) => id === (filter.range || DEFAULT_PERIOD))[1].toLowerCase()}`;
}

/** Return the period select and From/To fields of a list's filter form. */
export function timeFields(filter) {
  const period = h(
    "select",
    { id: "filter-range", name: "range" },
    ...PERIODS.map(([id, text]) => h("option", { value: id === DEFAULT_PERIOD ? "" : id, selected: id === (filter.range || DEFAULT_PERIOD), text })),
  );
  const moment = (name, label) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: `filter-${name}`, text: label }),
      // A value the input cannot hold (an ISO time with a zone) stays in the URL's filter.
      h("input", { id: `filter-${name}`, name, type: "datetime-local", step: 1, value: LOCAL_TIME.test(filter[name]) ? filter[name] : null }),
    );
  return [
    h("div", { class: "field" }, h("label", { for: "filter-range", text: "Period" }), period),
    moment("start", "From (UTC)"),
    moment("end", "To (UTC)"),
  ];
}

/** Read a filter form's fields `names` into URL parameters (trimmed, empty ones dropped). */
export function formParams(form, names) {
  const params = {};
  for (const name of names) {
    const value = form.elements[name].value.trim();
    if (value) params[name] = value;
  }
  if (params.start || params.end) delete params.range;
  return params;
}

/** Format a timestamp to the second, in UTC ("2025-03-04 10:15:02 UTC"). */
export function exactTime(value) {
  if (!value) return "–";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Format milliseconds ("850 ms", "1.25 s"). */
export function ms(value) {
  if (value == null) return "–";
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return `${value < 10 ? Number(value.toFixed(1)) : Math.round(value)} ms`;
}

/** Format a cost in US dollars, two significant digits below a cent ("$0.0000025"). */
export function cost(value) {
  if (value == null) return "–";
  if (value <= 0 || value >= 0.01) return `$${value.toFixed(value < 10 ? 4 : 2)}`;
  return `$${value.toFixed(Math.min(12, 1 - Math.floor(Math.log10(value))))}`;
}

/** Format input and output tokens ("120 in · 30 out"). */
export function tokens(input, output) {
  if (input == null && output == null) return "–";
  return `${input ?? 0} in · ${output ?? 0} out`;
}

/** Return the model that answered a call, else the one asked for. */
export function modelOf(call) {
  return call.response_model || call.request_model || "–";
}

/** Return a link to a call's prompt version (`name@vN`), or "not linked". */
export function promptCell(call) {
  if (!call.prompt) return h("span", { class: "hint", text: "not linked" });
  const version = call.version == null ? null : link(promptPath(call.prompt, `?version=${call.version}`), `${call.prompt}@v${call.version}`);
  return h("span", {}, version ?? call.prompt, call.label ? h("span", { class: "hint", text: ` (${call.label})` }) : null);
}

/** Return a call's outcome: "ok" (its finish reasons) or its error type, marked bad. */
export function outcome(call) {
  if (call.is_error) return h("span", { class: "badge bad", "data-value": "error", text: call.error_type || "error" });
  return h("span", { class: "badge good", "data-value": "ok", text: (call.finish_reasons || []).join(", ") || "ok" });
}

/** Format one stored score: a number, or `{value, unit, passed}`, or `{error}`. */
export function scoreText(raw) {
  if (raw == null) return "–";
  if (typeof raw === "number") return String(Number(raw.toFixed(4)));
  if (typeof raw === "boolean") return raw ? "1" : "0";
  if (typeof raw !== "object") return String(raw);
  if ("error" in raw) return `error: ${raw.error}`;
  const mark = raw.passed === true ? "pass" : raw.passed === false ? "fail" : "";
  const value = typeof raw.value === "number" ? String(Number(raw.value.toFixed(4))) : JSON.stringify(raw.value ?? null);
  return [value, raw.unit, mark].filter(Boolean).join(" ");
}

/** Return whether a stored score failed (an error or `passed: false`). */
export function scoreFailed(raw) {
  return raw != null && typeof raw === "object" && ("error" in raw || raw.passed === false);
}

/** Return the scores as one line ("helpfulness 0.6 · pii 1 pass"), or "–". */
export function scoresLine(scores) {
  const entries = Object.entries(scores || {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? entries.map(([name, raw]) => `${name} ${scoreText(raw)}`).join(" · ") : "–";
}

/** Return safety flags as chips, or "none". */
export function flagChips(flags) {
  if (!flags?.length) return h("span", { class: "hint", text: "none" });
  return h("span", { class: "chips" }, ...flags.map((flag) => h("span", { class: "chip flag", text: flag })));
}

/** Return a link to a call's page for keys that may read calls, else its number as text. */
export function callLink(id, text = `#${id}`) {
  return can("calls.read") ? link(callPath(id), text) : h("span", { text });
}

/** Return a definition list of `[term, text or node]` pairs. */
export function facts(pairs, attrs = {}) {
  return h(
    "dl",
    { class: "facts", ...attrs },
    ...pairs.flatMap(([k, v]) => [h("dt", { text: k }), v instanceof Node ? h("dd", {}, v) : h("dd", { text: v ?? "–" })]),
  );
}

/** Return a prompt version's links to its calls (keys that may read them) and its charts. */
export function versionObsLinks(prompt, version) {
  const calls = can("calls.read") ? [link(withQuery("/console/calls", { prompt, version }), `Calls of v${version}`, { id: "version-calls" }), " · "] : [];
  return h("p", { class: "related" }, ...calls, h("a", { href: dashboardHref(prompt), id: "version-charts", text: "Charts per version (dashboard)" }));
}
