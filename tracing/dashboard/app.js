// The dashboard: reads the JSON API with the key the user pastes (kept in sessionStorage).

import { versionColor } from "./charts.js";
import * as fmt from "./format.js";
import * as views from "./views.js";

const { h } = views;

// Shared with the console (api/server/console/core.js), same origin and tab: signed in to one
// is signed in to both, and forgetting the key in one signs both out.
const KEY_STORAGE = "promptlane.console.key";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RANGES = {
  "24h": { span: DAY, bucket: "hour" },
  "7d": { span: 7 * DAY, bucket: "hour" },
  "30d": { span: 30 * DAY, bucket: "day" },
};
const MAX_SCORE_CHARTS = 6;
const RECENT_CALLS = 20;
const RANGE_TEXT = { "24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days" };

const state = { key: null, role: null, prompts: null, prompt: null, range: "7d", generation: 0 };
const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, params = {}) {
  const url = new URL(path, document.baseURI);
  for (const [name, value] of Object.entries(params)) {
    if (value != null) url.searchParams.append(name, String(value));
  }
  let response;
  try {
    response = await fetch(url, {
      headers: { Authorization: `Bearer ${state.key}`, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "the server could not be reached");
  }
  if (response.ok) return response.json();
  let detail = "";
  try {
    const problem = await response.json();
    detail = problem.detail || problem.title || "";
  } catch {
    // not problem JSON (a proxy's error page): the status line says enough
  }
  throw new ApiError(response.status, detail || response.statusText || "request failed");
}

function explain(error) {
  if (error.status === 401) return "The API key was not accepted (401). Check it, or create one with `promptlane keys create`.";
  if (error.status === 403) return "This API key may not read this data (403). Use a key with the reader role or higher.";
  if (error.status === 0) return `Request failed: ${error.message}.`;
  return `Request failed (${error.status}): ${error.message}`;
}

function setStatus(text, kind = "info") {
  const status = $("key-status");
  status.textContent = text;
  status.className = `notice ${kind}`;
  status.hidden = !text;
}

function disconnect(message) {
  state.key = null;
  state.generation += 1;
  sessionStorage.removeItem(KEY_STORAGE);
  $("main").hidden = true;
  $("forget-key").hidden = true;
  setStatus(message, message ? "error" : "info");
}

/** Show an error inline in `container`; a refused key signs out instead. */
function fail(container, error) {
  if (error instanceof ApiError && error.status === 401) {
    disconnect(explain(error));
    return;
  }
  container.replaceChildren(views.note(error instanceof ApiError ? explain(error) : String(error), "error"));
}

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const range = params.get("range");
  if (range in RANGES) state.range = range;
  return params.get("prompt");
}

function writeHash() {
  const params = new URLSearchParams();
  if (state.prompt) params.set("prompt", state.prompt);
  params.set("range", state.range);
  history.replaceState(null, "", `#${params}`);
}

async function connect(key) {
  state.key = key;
  setStatus("Connecting…");
  try {
    [state.prompts, { role: state.role }] = await Promise.all([api("v1/prompts", { limit: 200 }), api("v1/keys/me")]);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) disconnect(explain(error));
    else setStatus(explain(error), "error");
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  $("api-key").value = "";
  $("forget-key").hidden = false;
  $("main").hidden = false;
  setStatus("Connected. Times are UTC.", "ok");
  const wanted = readHash();
  const names = state.prompts.items.map((p) => p.name);
  select(names.includes(wanted) ? wanted : names[0] || null);
}

function renderPrompts() {
  $("prompt-list").replaceChildren(...views.promptList(state.prompts, state.prompt, select));
}

function select(name) {
  state.prompt = name;
  writeHash();
  renderPrompts();
  for (const input of document.querySelectorAll('input[name="range"]')) input.checked = input.value === state.range;
  $("detail").hidden = name === null;
  if (name !== null) loadDetail();
}

function bucketsOf(range) {
  const { span, bucket } = RANGES[range];
  const step = bucket === "day" ? DAY : HOUR;
  const end = Date.now();
  const start = Math.floor((end - span) / step) * step;
  const buckets = [];
  for (let t = start; t < end; t += step) buckets.push(new Date(t));
  return { start: new Date(start), end: new Date(end), bucket, buckets };
}

function labelsByVersion(prompt) {
  const out = new Map();
  for (const [label, version] of Object.entries(prompt.labels)) out.set(version, [...(out.get(version) || []), label]);
  return out;
}

async function loadDetail() {
  const generation = ++state.generation;
  const prompt = state.prompts.items.find((p) => p.name === state.prompt);
  const frame = bucketsOf(state.range);
  const query = { prompt: prompt.name, group_by: "version", start: frame.start.toISOString(), end: frame.end.toISOString() };
  $("prompt-title").textContent = prompt.name;
  const labels = Object.entries(prompt.labels).map(([l, v]) => `${l} → v${v}`);
  $("prompt-labels").textContent = labels.length ? `Labels: ${labels.join(", ")}` : "No labels yet.";
  for (const id of ["versions", "charts", "drift", "calls", "runs"]) $(id).replaceChildren(views.note("Loading…", "loading"));
  $("call-detail").hidden = true;
  const range = { start: query.start, end: query.end };
  const [totals, series, runs, everything, calls] = await Promise.allSettled([
    api("v1/analytics/usage", query),
    api("v1/analytics/usage", { ...query, bucket: frame.bucket }),
    api("v1/runs", { prompt: prompt.name, limit: 10 }),
    api("v1/analytics/usage", { ...range, group_by: "prompt" }),
    // Calls may hold recorded content: listing them takes a writer key (docs/tracing.md).
    state.role === "reader" ? Promise.resolve(null) : api("v1/generations", { ...range, prompt: prompt.name, limit: RECENT_CALLS }),
  ]);
  if (generation !== state.generation) return;
  showOverview(everything);
  showCalls(calls);
  showRuns(runs);
  const versions = showTotals(totals, labelsByVersion(prompt));
  showCharts(series, versions, frame);
  await showDrift(prompt.name, versions, generation);
}

function showOverview(result) {
  if (result.status === "rejected") fail($("overview"), result.reason);
  else $("overview").replaceChildren(...views.overview(result.value.rows, RANGE_TEXT[state.range]));
}

function showCalls(result) {
  if (result.status === "rejected") fail($("calls"), result.reason);
  else if (result.value === null) $("calls").replaceChildren(views.note("Individual calls need a writer key (they may hold recorded message content)."));
  else $("calls").replaceChildren(views.callTable(result.value, openCall));
}

async function openCall(call) {
  const generation = state.generation;
  const panel = $("call-detail");
  panel.hidden = false;
  panel.replaceChildren(views.note("Loading…", "loading"));
  const [detail, trace] = await Promise.allSettled([api(`v1/generations/${call.id}`), api(`v1/traces/${call.trace_id}`)]);
  if (generation !== state.generation) return;
  if (detail.status === "rejected") {
    fail(panel, detail.reason);
    return;
  }
  const traceError = trace.status === "rejected" ? explain(trace.reason) : null;
  panel.replaceChildren(...views.callDetail(detail.value, trace.value, traceError));
  panel.scrollIntoView({ block: "nearest" });
}

function showRuns(result) {
  if (result.status === "rejected") fail($("runs"), result.reason);
  else $("runs").replaceChildren(views.runTable(result.value));
}

function showTotals(result, labels) {
  if (result.status === "rejected") {
    fail($("versions"), result.reason);
    return [];
  }
  const rows = result.value.rows.filter((r) => r.version != null).sort((a, b) => b.version - a.version);
  $("versions").replaceChildren(views.versionTable(rows, labels));
  return rows.map((r) => r.version);
}

function seriesOf(rows, frame, versions, pick, name = (v) => `v${v}`) {
  const index = new Map(frame.buckets.map((d, i) => [d.getTime(), i]));
  return versions.map((version) => {
    const values = frame.buckets.map(() => null);
    for (const row of rows) {
      if (row.version !== version) continue;
      const i = index.get(new Date(row.bucket_start).getTime());
      if (i !== undefined) values[i] = pick(row);
    }
    return { version, name: name(version), color: versionColor(version), values };
  });
}

function chartSpecs(rows, frame, versions) {
  const per = frame.bucket === "day" ? "per day" : "per hour";
  const spansDays = frame.buckets.length > 26;
  const base = { bucket: frame.bucket, buckets: frame.buckets, label: (d) => fmt.bucketLabel(d, frame.bucket, spansDays) };
  const line = (id, title, format, pick) => ({ ...base, id, kind: "line", title, format, series: seriesOf(rows, frame, versions, pick) });
  const bar = (id, title, format, pick) => ({ ...base, id, kind: "bar", integer: true, title, format, series: seriesOf(rows, frame, versions, pick) });
  const latency = { ...base, id: "latency", kind: "line", title: "Latency p50 and p95 (dashed)", format: fmt.ms, series: [] };
  for (const [q, dashed] of [["p50", false], ["p95", true]]) {
    const pick = (r) => r[`latency_${q}_ms`];
    for (const s of seriesOf(rows, frame, versions, pick, (v) => `v${v} ${q}`)) latency.series.push({ ...s, dashed });
  }
  const metrics = [...new Set(rows.flatMap((r) => Object.keys(r.scores)))].sort().slice(0, MAX_SCORE_CHARTS);
  const scores = metrics.length
    ? metrics.map((m) => [{ ...line(`score-${m}`, `Mean score: ${m}`, fmt.score, (r) => r.scores[m]?.mean ?? null), max: 1 }, "No scores in range."])
    : [[line("scores", "Mean scores", fmt.score, () => null), "No scores in range."]];
  const flagged = (r) => Object.values(r.safety_flags).reduce((a, b) => a + b, 0);
  return [
    [bar("calls", `Calls ${per}`, fmt.count, (r) => r.calls), "No calls in range."],
    [line("cost", `Cost (USD) ${per}`, fmt.usd, (r) => r.cost_usd), "No calls in range."],
    [latency, "No latency recorded in range."],
    ...scores,
    [bar("safety", `Safety flags ${per}`, fmt.count, flagged), "No safety flags raised in range."],
  ];
}

function showCharts(result, versions, frame) {
  const container = $("charts");
  if (result.status === "rejected") {
    fail(container, result.reason);
    return;
  }
  if (!versions.length) {
    container.replaceChildren(views.note("No calls in range: nothing to chart."));
    return;
  }
  const figures = chartSpecs(result.value.rows, frame, versions).map(([spec, empty]) => views.chartFigure(spec, empty));
  container.replaceChildren(views.legend(versions), h("div", { class: "chart-grid" }, ...figures));
}

async function showDrift(prompt, versions, generation) {
  const container = $("drift");
  if (!versions.length) {
    container.replaceChildren(views.note("No calls in range: no drift to measure."));
    return;
  }
  const results = await Promise.allSettled(versions.map((version) => api("v1/analytics/drift", { prompt, version })));
  if (generation !== state.generation) return;
  const cards = results.map((result, i) => {
    const error = result.status === "rejected" ? result.reason : null;
    if (error instanceof ApiError && error.status === 401) disconnect(explain(error));
    const message = error ? (error instanceof ApiError ? explain(error) : String(error)) : null;
    views.markDrift($("versions"), versions[i], result.value, message);
    return views.driftCard(versions[i], result.value, message);
  });
  container.replaceChildren(h("div", { class: "drift-grid" }, ...cards));
}

function start() {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (key) connect(key);
  });
  $("forget-key").addEventListener("click", () => {
    disconnect("");
    setStatus("Key forgotten. Paste an API key to load data.");
  });
  $("refresh").addEventListener("click", () => state.prompt && loadDetail());
  for (const input of document.querySelectorAll('input[name="range"]')) {
    input.addEventListener("change", () => {
      state.range = input.value;
      writeHash();
      loadDetail();
    });
  }
  addEventListener("hashchange", () => {
    const wanted = readHash();
    if (state.key && state.prompts?.items.some((p) => p.name === wanted)) select(wanted);
  });
  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) connect(saved);
  else setStatus("Paste an API key (the reader role is enough) to load data. It stays in this browser tab only.");
}

start();
