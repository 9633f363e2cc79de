// A run's page: summary, gate conditions, per-metric statistics, items; live while it runs.

import { api, duration, fail, h, link, money, note, promptApi, session, table, when } from "./core.js";
import { compareWithForm } from "./compare.js";
import { itemDetail, itemsSection } from "./runitems.js";
import { badge, versionLink } from "./runs.js";

const LIVE = new Set(["queued", "running"]);
const POLL_MS = 2000; // the fallback when the event stream cannot be read

function number(value) {
  return value == null ? "–" : String(Number(value.toFixed(4)));
}

function summaryView(run, model) {
  const s = run.summary;
  const facts = [
    ["Status", badge("status", run.status)],
    ["Verdict", badge("verdict", run.verdict)],
    ["Prompt", h("span", {}, versionLink(run.prompt, run.version), run.label ? ` (label ${run.label})` : "")],
    ["Suite", `${run.suite}@v${run.suite_version}`],
    ["Dataset", `${run.dataset}@v${run.dataset_version}`],
    ["Baseline", run.baseline_version ? versionLink(run.prompt, run.baseline_version) : "–"],
    ["Model", h("span", { id: "run-model", text: model ?? "–" })],
    ["Cost", money(s?.cost_usd)],
    ["Scoring cost", money(s?.scoring_cost_usd)],
    ["Tokens", s ? `${s.input_tokens} in · ${s.output_tokens} out · ${s.cached} cached` : "–"],
    ["Started by", run.created_by],
    ["Created", when(run.created_at)],
    ["Started", when(run.started_at)],
    ["Finished", when(run.finished_at)],
    ["Took", duration(run.started_at, run.finished_at)],
  ];
  return h(
    "dl",
    { class: "facts", id: "run-summary" },
    ...facts.flatMap(([k, v]) => [h("dt", { text: k }), typeof v === "string" ? h("dd", { text: v }) : h("dd", {}, v)]),
  );
}

function progressView(run) {
  const bar = h("progress", { id: "run-progress-bar", max: Math.max(run.total, 1), value: run.completed, "aria-label": "Items done" });
  const text = h("span", { id: "run-progress", text: `${run.completed} of ${run.total} items · ${run.errors} errors` });
  return h("p", { class: "progress", role: "status", "aria-live": "polite" }, bar, " ", text);
}

function showProgress(main, progress) {
  const bar = main.querySelector("#run-progress-bar");
  const text = main.querySelector("#run-progress");
  if (!bar || !text) return;
  bar.max = Math.max(progress.total, 1);
  bar.value = progress.completed;
  text.textContent = `${progress.completed} of ${progress.total} items · ${progress.errors} errors`;
  main.querySelector("#run-summary .badge.status")?.replaceWith(badge("status", progress.status));
}

function gateView(gate) {
  if (!gate) return note("No gate report until the run completes.");
  const rows = gate.conditions.map((c) =>
    h(
      "tr",
      { "data-metric": c.metric, class: c.passed ? null : "failing" },
      h("th", { scope: "row", text: c.metric }),
      h("td", { text: c.aggregate }),
      h("td", { class: "num", text: number(c.value) }),
      h("td", { class: "num", text: `${c.op} ${c.threshold}` }),
      h("td", {}, h("span", { class: `badge ${c.passed ? "good" : "bad"}`, text: c.passed ? "pass" : "fail" })),
      h("td", { text: c.detail || "" }),
    ),
  );
  const b = gate.baseline;
  const baseline = b
    ? h("p", { id: "gate-baseline" }, h("strong", { text: `Against the baseline (${b.metric}): ${b.outcome}. ` }), b.detail)
    : null;
  return h("div", {}, table("Gate conditions", ["Metric", "Aggregate", "Value", "Threshold", "Result", "Detail"], rows, { id: "gate-table" }), baseline);
}

function metricsView(summary) {
  const entries = Object.entries(summary?.metrics ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return note("No metrics until the run completes.");
  const rows = entries.map(([name, m]) =>
    h(
      "tr",
      { "data-metric": name },
      h("th", { scope: "row", text: name }),
      ...[m.mean, m.p50, m.p95, m.pass_rate, m.error_rate].map((v) => h("td", { class: "num", text: number(v) })),
    ),
  );
  return table("Metrics", ["Metric", "Mean", "p50", "p95", "Pass rate", "Error rate"], rows, { id: "metric-table" });
}

/** Parse a server-sent event stream's blocks; yield `{ event, data }` with decoded JSON data. */
export async function* readEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = { event: "message", data: "" };
      for (const line of block.split("\n")) {
        const colon = line.indexOf(":");
        if (colon <= 0) continue; // a comment or a malformed line
        const name = line.slice(0, colon);
        const text = line.slice(colon + 1).replace(/^ /, "");
        fields[name] = name === "data" && fields.data ? `${fields.data}\n${text}` : text;
      }
      if (fields.data) yield { event: fields.event, data: JSON.parse(fields.data) }; // not a keep-alive comment
    }
  }
}

// EventSource cannot send the Authorization header, so the stream is read with fetch.
async function follow(run, main, isCurrent, redraw) {
  const controller = new AbortController();
  try {
    const response = await fetch(`/v1/runs/${run.id}/events`, {
      headers: { Authorization: `Bearer ${session.key}`, Accept: "text/event-stream" },
      cache: "no-store",
      credentials: "omit",
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(`events: ${response.status}`);
    for await (const { event, data } of readEvents(response)) {
      if (!isCurrent()) return controller.abort();
      if (event === "progress") showProgress(main, data);
      if (event === "done") return redraw();
    }
  } catch {
    if (!isCurrent()) return;
  }
  // The stream broke (a proxy that buffers, say): poll the run instead.
  while (isCurrent()) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (!isCurrent()) return;
    let fresh;
    try {
      fresh = await api(`/v1/runs/${run.id}`);
    } catch (error) {
      if (isCurrent()) fail(main.querySelector("#run-live") ?? main, error);
      return;
    }
    if (!isCurrent()) return;
    if (!LIVE.has(fresh.status)) return redraw();
    showProgress(main, fresh);
  }
}

async function modelOf(run) {
  try {
    const version = await api(promptApi(run.prompt, `/versions/${run.version}`));
    return version.config?.model ?? null;
  } catch {
    return null; // the summary says "–"; the run itself still shows
  }
}

/** Render /console/runs/<id>: the run (one request), its items (one), its model (one). */
export async function runPage(main, context) {
  const { params, query, isCurrent } = context;
  const id = params[0];
  const title = h("h1", { tabindex: "-1", text: `Run #${id}` });
  main.replaceChildren(h("p", { class: "crumbs" }, link("/console/runs", "Runs"), " / "), title, note("Loading…", "loading"));
  let run;
  try {
    run = await api(`/v1/runs/${encodeURIComponent(id)}`);
  } catch (error) {
    if (isCurrent()) fail(main.lastChild, error);
    return;
  }
  if (!isCurrent()) return;
  const live = LIVE.has(run.status);
  const position = Number.parseInt(query.get("item") ?? "", 10);
  const detail = Number.isInteger(position) && position >= 0 ? itemDetail(run, position, query, isCurrent) : null;
  main.lastChild.replaceWith(
    h(
      "div",
      { class: "run-page", "data-status": run.status },
      live ? h("div", { id: "run-live" }, progressView(run)) : null,
      run.error ? h("div", { class: "problem", role: "alert" }, h("p", { class: "problem-title", text: "The run failed" }), h("p", { class: "problem-detail", text: run.error })) : null,
      h("section", { "aria-labelledby": "summary-title" }, h("h2", { id: "summary-title", text: "Summary" }), summaryView(run, null), compareWithForm(run, isCurrent)),
      detail,
      h("section", { "aria-labelledby": "gate-title" }, h("h2", { id: "gate-title", text: "Gate" }), gateView(run.gate)),
      h("section", { "aria-labelledby": "metrics-title" }, h("h2", { id: "metrics-title", text: "Metrics" }), metricsView(run.summary)),
      itemsSection(run, query, isCurrent),
    ),
  );
  if (detail) detail.querySelector("h2").focus();
  modelOf(run).then((model) => {
    // A run that ended meanwhile has redrawn the page: the cell may be gone or not drawn yet.
    const cell = isCurrent() && model ? main.querySelector("#run-model") : null;
    if (cell) cell.textContent = model;
  });
  if (live) follow(run, main, isCurrent, () => isCurrent() && runPage(main, context));
}
